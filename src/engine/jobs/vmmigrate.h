/* Live migration of a VM to another host of its cluster, as a job
 * (docs/migration.md "Engine"): the VM is `migratingfrom` while the job
 * runs, which alone then owns its row; the job asks the source agent's
 * VM.migrate, mirrors its progress, passes a cancel on, and records where
 * the VM runs in the end. */
#pragma once

#include <stdbool.h>

#include "engine.h"

/* Check and record a migration of vm (a vms row) to host_ref (a host id
 * or name; NULL: the scheduler picks) at bandwidth_mibps (0: the agent's
 * default) and start its job. by_engine: the engine moves it (maintenance),
 * not a user's request: a user_migratable VM then stays. The job waits for a slot on the source host beyond its outgoing
 * limit (migqueue.h): queue_rank > 0 goes first (an evacuated HA VM, 1 +
 * its priority), else the order of the requests. Refusals change
 * nothing: VR_ERR_BAD_STATE (VM not up/paused, pinned by its placement
 * policy, host is the VM's own, of another cluster, not up or not in the
 * policy's hosts), VR_ERR_NOT_FOUND (no such host). */
int vr_vm_migrate_submit(vr_engine *e, json_t *vm, const char *host_ref, long long bandwidth_mibps, bool by_engine,
                         int queue_rank, const char *user, char job_id[37], vr_error *err);

/* After an engine restart: resume r (a jobs row) if it is a migration.
 * True when it was one. */
bool vr_vm_migrate_resume(vr_engine *e, json_t *r);
