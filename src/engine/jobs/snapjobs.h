/* Snapshot jobs (docs/storage.md "Snapshots"): create (a qcow2 layer over
 * every engine disk of a VM, made by the SPM; a running VM is switched onto
 * them by its host in one atomic libvirt snapshot), delete (merge the
 * snapshot's volume with its child: qemu-img commit for a stopped VM, a
 * live block commit for a running one), preview / undo / commit, restore.
 * A job locks its VM (a stopped VM is imagelocked) and its disks; one
 * snapshot job per VM at a time. */
#pragma once

#include <stdbool.h>

#include "engine.h"

/* Snapshot snap_id of VM body.vm_id (body.description): checked, recorded
 * as a job, started. */
int vr_snapshot_create_submit(vr_engine *e, const char *snap_id, json_t *body, const char *user, char job_id[37],
                              vr_error *err);

/* Delete the snapshot row snap, merging its volumes into their children. */
int vr_snapshot_remove_submit(vr_engine *e, json_t *snap, const char *user, char job_id[37], vr_error *err);

/* preview | commit | undo | restore of the snapshot row snap (stopped VM). */
int vr_snapshot_action_submit(vr_engine *e, json_t *snap, const char *action, const char *user, char job_id[37],
                              vr_error *err);

/* After an engine restart: finish or roll back an unfinished snapshot
 * job; false when job is not one. */
bool vr_snapshot_job_resume(vr_engine *e, json_t *job);
