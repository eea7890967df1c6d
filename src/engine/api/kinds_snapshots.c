/* Snapshots of a VM (/api/vms/ID/snapshots, each at /api/snapshots/ID):
 * create and delete are jobs (202), and so are the actions preview, commit,
 * undo and restore (docs/storage.md "Snapshots", RHV TR ch. 8). */
#include <string.h>

#include "dispatch.h"
#include "kind.h"
#include "snapjobs.h"
#include "store_snapshots.h"
#include "devspec.h"

static int snap_create_job(vr_call *c, const char *id, json_t *body, char job[37], vr_error *err)
{
    const char *desc = json_string_value(json_object_get(body, "description")) ?: "";
    if (!vr_valid_text(desc))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "description must be text without control characters");
    return vr_snapshot_create_submit(c->e, id, body, c->user, job, err);
}

static int snap_remove_job(vr_call *c, json_t *row, char job[37], vr_error *err)
{
    return vr_snapshot_remove_submit(c->e, row, c->user, job, err);
}

static void snap_present(vr_engine *e, json_t *row)
{
    json_t *q = json_object_get(row, "quiesced");
    json_object_set_new(row, "quiesced", json_boolean(json_integer_value(q)));
    q = json_object_get(row, "persist_memorystate");
    json_object_set_new(row, "persist_memorystate", json_boolean(json_integer_value(q)));
    json_object_del(row, "seq"); /* the listing's order only (store_snapshots.c) */
    (void)e;
}

static int snap_act(vr_call *c, json_t *row, const char *action, json_t **reply, vr_error *err)
{
    char job[37];
    if (vr_snapshot_action_submit(c->e, row, action, c->user, job, err) < 0)
        return -1;
    *reply = json_pack("{s:s}", "job_id", job);
    return 0;
}

#define ACT(fn, name) \
    static int fn(vr_call *c, json_t *row, json_t *body, json_t **reply, vr_error *err) \
    { (void)body; return snap_act(c, row, name, reply, err); }
ACT(snap_preview, "preview")
ACT(snap_commit, "commit")
ACT(snap_undo, "undo")
ACT(snap_restore, "restore")

static const vr_action snap_actions[] = {
    {"preview", "Run the stopped VM from this snapshot in a temporary layer (a job); then commit or undo", true,
     snap_preview, NULL, 0},
    {"commit", "Keep the previewed snapshot's state: later snapshots and the former state are removed (a job)", true,
     snap_commit, NULL, 0},
    {"undo", "End the preview: back to the state before it, preview writes dropped (a job)", true, snap_undo, NULL,
     0},
    {"restore", "Bring the stopped VM back to this snapshot (preview and commit in one job)", true, snap_restore,
     NULL, 0},
};

static const vr_field snap_fields[] = {
    {"id", VR_FT_ID, 0, .doc = NULL},
    {"vm_id", VR_FT_REF, VR_F_REQ | VR_F_CREATE | VR_F_FIXED, .ref = "vms",
     .doc = "Its VM (given by the path when created under /api/vms/ID/snapshots)."},
    {"description", VR_FT_STR, VR_F_CREATE | VR_F_UPDATE, 0, 1024, .dflt = "\"\""},
    {"type", VR_FT_ENUM, VR_F_SORT, .values = VR_STRS("regular", "preview_backup"),
     .doc = "preview_backup: the VM's state before an active preview, kept for undo."},
    {"status", VR_FT_ENUM, VR_F_SORT, .values = VR_STRS("ok", "locked", "in_preview"),
     .doc = "locked while a job works on it; in_preview while the VM runs from it."},
    {"quiesced", VR_FT_BOOL, 0,
     .doc = "Taken with the guest's file systems frozen by its guest agent (false: crash-consistent)."},
    {"persist_memorystate", VR_FT_BOOL, VR_F_CREATE, .dflt = "false",
     .doc = "Whether it holds the running VM's memory (saved to a memory volume when it was taken): previewing or"
            " restoring it resumes the guest where it was (docs/storage.md \"Memory volumes\")."},
    {"created_at", VR_FT_TIME, VR_F_SORT, .doc = NULL},
    {"config", VR_FT_JSON, 0, .schema = "SnapshotConfig",
     .doc = "The VM's definition when it was taken: memory_mib, vcpus and its spec (disks, NICs, boot)."},
    {"volumes", VR_FT_JSON, 0, .schema = "SnapshotVolumes",
     .doc = "For each disk id, the volume on storage that holds the disk as it was."},
};

const vr_kind vr_kind_snapshots = {
    .collection = "snapshots", .type = "snapshot", .title = "snapshot", .schema = "Snapshot", .tag = "VMs",
    .store = &vr_store_snapshots, .fields = snap_fields, .nfields = VR_ARRAY_SIZE(snap_fields),
    .actions = snap_actions, .nactions = VR_ARRAY_SIZE(snap_actions), .parent = "vms", .parent_field = "vm_id",
    .present = snap_present, .create_job = snap_create_job, .remove_job = snap_remove_job,
};
