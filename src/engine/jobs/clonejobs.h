/* Clone jobs (docs/storage.md "Clones", RHV TR ch. 7-8): a new,
 * independent VM from a stopped VM as it is now, or as it was in one of
 * its snapshots. Each engine disk's chain, followed from the volume that
 * holds that state, is copied flat by the SPM into a new disk; the new VM
 * has the source's hardware (the snapshot's, for a snapshot) with new MACs.
 * Source VM and new VM are image-locked while the copies run; a failure
 * removes the new VM and its volumes and unlocks the source. */
#pragma once

#include <stdbool.h>

#include "engine.h"

/* Clone VM row vm (its id) as body {name, description?, snapshot?}: the VM
 * must be down, its engine disks ok and not shareable, no writable disk by
 * host path. The new VM's id goes to new_id; its job to job_id. */
int vr_vm_clone_submit(vr_engine *e, json_t *vm, json_t *body, const char *user, char job_id[37], char new_id[37],
                       vr_error *err);

/* After an engine restart: the clone job runs again (a volume already made
 * is refused, so it fails and removes what it made); false when job is
 * not a clone job. */
bool vr_vm_clone_resume(vr_engine *e, json_t *job);
