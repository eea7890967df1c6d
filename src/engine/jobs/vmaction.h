/* VM power actions as jobs (stop, shutdown, reboot, pause, resume). */
#pragma once

#include <stdbool.h>

#include "engine.h"

/* Accept `action` on the VM row vm by user: checks the VM's state, records
 * a pending job (one power action per VM at a time) and starts it.
 * VR_ERR_BAD_STATE when the VM cannot take it now. */
int vr_vm_action_submit(vr_engine *e, json_t *vm, const char *action, const char *user, char job_id[37],
                        vr_error *err);

/* After an engine restart: an unfinished job (a vr_jobs_each_unfinished
 * row) by its action's rule. False when the action is not a power one. */
bool vr_vm_action_resume(vr_engine *e, json_t *job);
