/* Whether a snapshot job may start, and its locks (snapjob_util.h,
 * vr_sj_admit): the rules of docs/rest-api.md "Snapshots" in one place. */
#include <stdio.h>
#include <string.h>

#include "diskjobs.h"
#include "sdjobs.h"
#include "i18n.h"
#include "snapjob_util.h"
#include "store_storage.h"

#define str vr_sj_str

/* 409 naming a and b (which may live in row); row is then released. */
static int conflict(vr_error *err, json_t *row, const char *fmt, const char *a, const char *b)
{
    vr_error_set(err, VR_ERR_CONFLICT, fmt, a, b);
    json_decref(row);
    return -1;
}

/* What a VM must be for a snapshot of it: only engine disks that are ok
 * and not shareable; path disks only read-only (nothing to keep). */
static int check_disks(vr_engine *e, json_t *vm, vr_error *err)
{
    json_t *d, *ids = vr_sj_vm_disk_ids(json_object_get(vm, "spec"));
    size_t i;
    int rc = 0;
    json_array_foreach(json_object_get(json_object_get(vm, "spec"), "disks"), i, d) {
        if (!json_object_get(d, "disk") && !json_is_true(json_object_get(d, "readonly")))
            rc = vr_error_set(err, VR_ERR_CONFLICT, "VM '%s' has a writable disk given by path (%s): its data is"
                              " not on a storage domain and cannot be snapshotted", str(vm, "name"), str(d, "path"));
    }
    if (rc == 0 && !json_array_size(ids))
        rc = vr_error_set(err, VR_ERR_CONFLICT, "VM '%s' has no disk on a storage domain to snapshot", str(vm, "name"));
    json_array_foreach(ids, i, d) {
        json_t *row = rc == 0 ? vr_storage_disk_get(e, json_string_value(d), err) : NULL;
        if (rc == 0 && !row)
            rc = err->code ? -1 : vr_error_set(err, VR_ERR_CONFLICT, "disk %s of VM '%s' is gone",
                                               json_string_value(d), str(vm, "name"));
        else if (row && json_integer_value(json_object_get(row, "shareable")))
            rc = vr_error_set(err, VR_ERR_CONFLICT, "disk '%s' of VM '%s' is shareable; shareable disks have no"
                              " snapshots", str(row, "alias"), str(vm, "name"));
        else if (row && strcmp(str(row, "status"), "ok"))
            rc = vr_error_set(err, VR_ERR_CONFLICT, "disk '%s' of VM '%s' is %s", str(row, "alias"), str(vm, "name"),
                              str(row, "status"));
        json_decref(row);
    }
    json_decref(ids);
    return rc;
}

/* Checks, locks and the job row, in the caller's transaction. */
int vr_sj_admit(vr_engine *e, json_t *vm, const char *action, const char *title, bool live, json_t *snap,
                json_t *params, const char *user, const char *job_id, vr_error *err)
{
    const char *name = str(vm, "name"), *st = str(vm, "status"), *vm_id = str(vm, "id");
    bool down = !strcmp(st, "down");
    if (!down && (!live || !vr_sj_running(vm)))
        return vr_error_set(err, VR_ERR_CONFLICT, live ? N_("VM '%s' is %s; snapshots change a VM that is down, up"
                            " or paused") : N_("VM '%s' is %s; stop it first"), name, st);
    json_t *busy = vr_db_query_one(e->db, "SELECT id, action FROM jobs WHERE object_id = ? AND status IN ('pending',"
                                   " 'running') AND (action LIKE 'snapshot_%' OR action IN ('start', 'migrate'))",
                                   DB_ARGS(DB_TEXT(vm_id)), err);
    if (busy)
        return conflict(err, busy, N_("VM '%s' is busy with job %s; wait for it"), name, str(busy, "id"));
    json_t *prev = err->code ? NULL : vr_db_query_one(e->db, "SELECT id, description FROM snapshots WHERE vm_id = ?"
                                                      " AND status = 'in_preview'", DB_ARGS(DB_TEXT(vm_id)), err);
    bool ends = !strcmp(action, "snapshot_commit") || !strcmp(action, "snapshot_undo");
    if (err->code) {
        json_decref(prev);
        return -1;
    }
    if (prev && !ends)
        return conflict(err, prev, N_("VM '%s' is previewing snapshot %s; commit or undo the preview first"), name,
                        str(prev, "id"));
    if (ends && (!prev || strcmp(str(prev, "id"), str(snap, "id"))))
        return conflict(err, prev, N_("VM '%s' is not previewing snapshot %s"), name, str(snap, "id"));
    json_decref(prev);
    if (snap && !ends && (strcmp(str(snap, "status"), "ok") || strcmp(str(snap, "type"), "regular")))
        return vr_error_set(err, VR_ERR_CONFLICT, "snapshot %s is %s (%s); only an ok, regular snapshot can be used",
                            str(snap, "id"), str(snap, "status"), str(snap, "type"));
    if (json_integer_value(json_object_get(vm, "stateless")))
        return vr_error_set(err, VR_ERR_CONFLICT, "VM '%s' is stateless: what it runs is thrown away, so it has no"
                            " snapshots", name);
    if (vr_vm_disks_doubt_refuse(e, json_object_get(vm, "spec"), err) < 0)
        return -1;
    if (!strcmp(action, "snapshot_create") && check_disks(e, vm, err) < 0)
        return -1;
    if (down && vr_db_exec(e->db, "UPDATE vms SET status = 'imagelocked' WHERE id = ? AND status = 'down'",
                           DB_ARGS(DB_TEXT(vm_id)), err) != 1)
        return err->code ? -1 : vr_error_set(err, VR_ERR_CONFLICT, "VM '%s' changed meanwhile", name);
    json_t *ids = vr_sj_vm_disk_ids(json_object_get(vm, "spec")), *id;
    size_t i;
    json_array_foreach(ids, i, id) {
        if (vr_db_exec(e->db, "UPDATE disks SET status = 'locked' WHERE id = ? AND status = 'ok'",
                       DB_ARGS(DB_TEXT(json_string_value(id))), err) != 1) {
            json_decref(ids);
            return err->code ? -1 : vr_error_set(err, VR_ERR_CONFLICT, "disk %s of VM '%s' is busy",
                                                 json_string_value(id), name);
        }
    }
    json_object_set_new(params, "disks", ids);
    if (snap && !ends && vr_db_exec(e->db, "UPDATE snapshots SET status = 'locked' WHERE id = ? AND status = 'ok'",
                                    DB_ARGS(DB_TEXT(str(snap, "id"))), err) != 1)
        return err->code ? -1 : vr_error_set(err, VR_ERR_CONFLICT, "snapshot %s changed meanwhile", str(snap, "id"));
    char desc[200];
    vr_i18n_format(desc, sizeof(desc), title, str(params, "description"), name);
    return vr_storage_job_insert(e, job_id, action, "vm", vm_id, desc, params, user, err);
}

