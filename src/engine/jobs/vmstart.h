/* Starting a VM: a persisted job (so an engine restart loses no accepted
 * start) run on its own thread: schedule, send the spec with its stable
 * device addresses to the chosen host's agent, record the result. */
#pragma once

#include "engine.h"

/* Accept a start of vm_id by user: Down -> WaitForLaunch and a pending job.
 * Returns 0 with the job id, or -1 (VR_ERR_BAD_STATE when not Down). */
int vr_vm_start_submit(vr_engine *e, const char *vm_id, const char *user, char job_id[37],
                       vr_error *err);

/* Restart a highly available VM that ended unasked (reason: crashed,
 * host_fenced): from `from` on host_id straight to WaitForLaunch with a
 * start job, in one transaction, so an engine restart loses no restart and
 * a second report of the same end starts nothing. Returns 1 with the job
 * id, 0 when the VM is no longer so (or not HA, or a stop was asked for),
 * -1 on a database error. */
int vr_vm_ha_restart_submit(vr_engine *e, const char *vm_id, const char *name, const char *host_id,
                            const char *from, const char *reason, char job_id[37], vr_error *err);

/* Re-run jobs left pending or running by a previous engine process. */
void vr_jobs_resume(vr_engine *e);

/* The agent's VM spec for a vms row (new reference), or NULL with err
 * when a disk it names by id cannot be used now. */
json_t *vr_vm_agent_spec(vr_engine *e, json_t *vm, vr_error *err);

/* The agent's form of one VM disk (new reference): a disk named by id
 * becomes {"volume": {domain, image, volume}, "format", "bus"...}; a path
 * disk is copied. NULL with err when the disk is not ok or its domain not
 * active. */
json_t *vr_vm_agent_disk(vr_engine *e, json_t *disk, vr_error *err);
