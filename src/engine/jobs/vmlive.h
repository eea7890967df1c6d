/* Live changes of a running VM (device hotplug, I/O limits, vCPUs,
 * balloon) as jobs; see vmlive.c for the table of them. */
#pragma once

#include <stdbool.h>

#include "engine.h"

/* Record and start the live change `action` (hotplug_nic, hotunplug_nic,
 * hotplug_disk, hotunplug_disk, set_iotune, set_vcpus, set_balloon,
 * update_nic) of the
 * VM row vm with the agent verb's params (stolen, without uuid). */
int vr_vm_live_submit(vr_engine *e, json_t *vm, const char *action, json_t *params, const char *user,
                      char job_id[37], vr_error *err);

bool vr_vm_is_live_action(const char *action);

/* After an engine restart: an unsent change runs, a sent one is failed.
 * False when the job is not a live change. */
bool vr_vm_live_resume(vr_engine *e, json_t *job);

/* Add member to a VM's pending_changes (its next-run configuration),
 * keeping the others. */
void vr_vm_note_pending(vr_engine *e, const char *vm_id, const char *member);
