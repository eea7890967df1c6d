/* Clone jobs (clonejobs.h). */
#include "clonejobs.h"

#include <stdio.h>
#include <string.h>

#include "jobs.h"
#include "diskjobs.h"
#include "i18n.h"
#include "log.h"
#include "sdjobs.h"
#include "snapjob_util.h"
#include "store.h"
#include "volplan.h"

#define str vr_sj_str

static void run_clone(vr_engine *e, const char *job_id, const char *new_id, const char *user)
{
    json_t *p = vr_volplan_job_params(e, job_id);
    vr_error err = {0};
    int rc = vr_volplan_run_vm(e, job_id, p, new_id, N_("copying the disks for the new VM"), &err);
    if (rc == VR_VOLPLAN_STOPPED) {
        json_decref(p);
        return;
    }
    vr_db_exec(e->db, "UPDATE vms SET status = 'down' WHERE id = ? AND status = 'imagelocked'",
               DB_ARGS(DB_TEXT(str(p, "vm"))), NULL);
    vr_db_commit(e->db, NULL);
    char what[300];
    if (*str(p, "snapshot"))
        vr_i18n_format(what, sizeof(what), "clone of VM '%s' (snapshot '%s') as '%s'", str(p, "vm_name"),
                       str(p, "snapshot_description"), str(p, "name"));
    else
        vr_i18n_format(what, sizeof(what), "clone of VM '%s' as '%s'", str(p, "vm_name"), str(p, "name"));
    vr_volplan_ended(e, job_id, user, "vm", new_id, what, rc, &err);
    json_decref(p);
}

/* The state to copy: the VM's now, or its snapshot's. Fills *spec (a new
 * reference), memory and vCPUs, and *volumes (disk id -> volume id, NULL:
 * each disk's current leaf). */
static int source_state(vr_engine *e, json_t *vm, const char *snap_id, json_t **spec, json_t **sizes,
                        json_t **volumes, json_t **snap, vr_error *err)
{
    if (!snap_id) {
        *spec = json_incref(json_object_get(vm, "spec"));
        *sizes = json_pack("{s:O, s:O}", "memory_mib", json_object_get(vm, "memory_mib"), "vcpus",
                           json_object_get(vm, "vcpus"));
        return 0;
    }
    *snap = vr_db_query_one(e->db, "SELECT id, description, status, type, config_json, volumes_json FROM snapshots"
                            " WHERE id = ? AND vm_id = ?", DB_ARGS(DB_TEXT(snap_id), DB_TEXT(str(vm, "id"))), err);
    if (!*snap)
        return err->code ? -1 : vr_error_set(err, VR_ERR_INVALID_PARAMS, "VM '%s' has no snapshot with id '%.64s'",
                                             str(vm, "name"), snap_id);
    if (strcmp(str(*snap, "status"), "ok") || strcmp(str(*snap, "type"), "regular"))
        return vr_error_set(err, VR_ERR_CONFLICT, "snapshot '%s' of VM '%s' is %s %s; clone an ok regular snapshot",
                            str(*snap, "description"), str(vm, "name"), str(*snap, "status"), str(*snap, "type"));
    json_t *config = json_object_get(*snap, "config");
    *spec = json_incref(json_object_get(config, "spec"));
    *sizes = json_pack("{s:O, s:O}", "memory_mib", json_object_get(config, "memory_mib"), "vcpus",
                       json_object_get(config, "vcpus"));
    *volumes = json_object_get(*snap, "volumes");
    return json_is_object(*spec) && json_is_object(*volumes) ? 0 :
        vr_error_set(err, VR_ERR_INTERNAL, "snapshot '%s' cannot be read", str(*snap, "description"));
}

/* One plan entry per engine disk of spec, from the volume that holds the
 * state (volumes[disk], or the disk's leaf). */
static int plan_disks(vr_engine *e, json_t *vm, json_t *spec, json_t *volumes, json_t *plan, vr_error *err)
{
    json_t *d, *ids = vr_sj_vm_disk_ids(spec), *id;
    size_t i;
    int rc = 0;
    json_array_foreach(json_object_get(spec, "disks"), i, d)
        if (rc == 0 && !json_object_get(d, "disk") && !json_is_true(json_object_get(d, "readonly")))
            rc = vr_error_set(err, VR_ERR_CONFLICT, "VM '%s' has a writable disk given by path (%s): only disks on"
                              " storage domains are cloned", str(vm, "name"), str(d, "path"));
    json_array_foreach(rc == 0 ? ids : NULL, i, id) {
        const char *disk = json_string_value(id);
        json_t *row = vr_volplan_disk_row(e, disk, err);
        const char *src = volumes ? json_string_value(json_object_get(volumes, disk)) : str(row, "volume_id");
        if (!row)
            rc = err->code ? -1 : vr_error_set(err, VR_ERR_CONFLICT, "disk %s of VM '%s' is gone", disk,
                                               str(vm, "name"));
        else if (vr_disk_doubt_refuse(row, err) < 0)
            rc = -1;
        else if (strcmp(str(row, "status"), "ok"))
            rc = vr_error_set(err, VR_ERR_CONFLICT, "disk '%s' of VM '%s' is %s", str(row, "alias"), str(vm, "name"),
                              str(row, "status"));
        else if (json_integer_value(json_object_get(row, "shareable")))
            rc = vr_error_set(err, VR_ERR_CONFLICT, "disk '%s' of VM '%s' is shareable: shareable disks are not"
                              " cloned (detach it first)", str(row, "alias"), str(vm, "name"));
        else if (!src)
            rc = vr_error_set(err, VR_ERR_CONFLICT, "the snapshot has no volume of disk '%s'", str(row, "alias"));
        else
            vr_volplan_append(plan, row, src);
        json_decref(row);
        if (rc < 0)
            break;
    }
    json_decref(ids);
    return rc;
}

/* Rows, locks and the job in one transaction (the new VM row exists);
 * the new disks count against the new VM's quota. */
static int record(vr_engine *e, json_t *vm, const char *new_id, json_t *plan, json_t *params, const char *user,
                  const char *job_id, const char *quota, vr_error *err)
{
    if (vr_db_begin(e->db, err) < 0)
        return -1;
    int rc = 0;
    size_t i;
    json_t *v;
    json_array_foreach(plan, i, v) {
        json_t *src = rc == 0 ? vr_volplan_disk_row(e, str(v, "src_disk"), err) : NULL;
        if (rc == 0 && (!src || vr_volplan_insert_disk(e, src, str(v, "disk"), str(v, "volume"), NULL, NULL, err) < 0))
            rc = err->code ? -1 : vr_error_set(err, VR_ERR_CONFLICT, "a disk of the VM changed meanwhile");
        if (rc == 0 && vr_volplan_disk_quota(e, str(v, "disk"), quota, err) < 0)
            rc = -1;
        json_decref(src);
    }
    if (rc == 0 && vr_db_exec(e->db, "UPDATE vms SET status = 'imagelocked' WHERE id = ? AND status = 'down'",
                              DB_ARGS(DB_TEXT(str(vm, "id"))), err) != 1)
        rc = err->code ? -1 : vr_error_set(err, VR_ERR_CONFLICT, "VM '%s' changed meanwhile (no longer down)",
                                           str(vm, "name"));
    if (rc == 0 && vr_db_exec(e->db, "UPDATE vms SET status = 'imagelocked' WHERE id = ?", DB_ARGS(DB_TEXT(new_id)),
                              err) < 0)
        rc = -1;
    char desc[200];
    vr_i18n_format(desc, sizeof(desc), "Clone VM '%s' as '%s'", str(vm, "name"), str(params, "name"));
    if (rc == 0 && vr_storage_job_insert(e, job_id, "clone", "vm", new_id, desc, params, user, err) < 0)
        rc = -1;
    if (rc < 0 || vr_db_commit(e->db, err) < 0) {
        vr_db_rollback(e->db);
        return -1;
    }
    return 0;
}

int vr_vm_clone_submit(vr_engine *e, json_t *vm0, json_t *body, const char *user, char job_id[37], char new_id[37],
                       vr_error *err)
{
    json_t *vm = vr_sj_vm_row(e, str(vm0, "id"), err), *spec = NULL, *sizes = NULL, *volumes = NULL, *snap = NULL;
    json_t *plan = json_array();
    const char *snap_id = json_string_value(json_object_get(body, "snapshot"));
    int rc = vm ? 0 : err->code ? -1 : vr_error_set(err, VR_ERR_NOT_FOUND, "the VM is gone");
    if (rc == 0 && strcmp(str(vm, "status"), "down"))
        rc = vr_error_set(err, VR_ERR_CONFLICT, "VM '%s' is %s; a VM is cloned while it is down", str(vm, "name"),
                          str(vm, "status"));
    if (rc == 0)
        rc = source_state(e, vm, snap_id, &spec, &sizes, &volumes, &snap, err);
    if (rc == 0)
        rc = plan_disks(e, vm, spec, volumes, plan, err);
    char quota[37] = ""; /* the caller holds the quota lock until the rows are in */
    if (rc == 0)
        rc = vr_volplan_take_quota(e, user, body, sizes, str(vm, "cluster_id"), plan, quota, err);
    vr_uuid_new(new_id);
    vr_uuid_new(job_id);
    json_t *nspec = rc == 0 ? vr_volplan_spec(spec, plan) : NULL;
    json_t *nvm = rc == 0 ? json_pack("{s:O, s:s, s:s, s:O, s:O, s:o, s:s}", "name", json_object_get(body, "name"),
                                      "description", str(body, "description"), "cluster_id", str(vm, "cluster_id"),
                                      "memory_mib", json_object_get(sizes, "memory_mib"), "vcpus",
                                      json_object_get(sizes, "vcpus"), "spec", nspec, "quota", quota) : NULL;
    if (rc == 0 && vr_store_vms.insert(e, new_id, nvm, err) < 0)
        rc = -1;
    if (rc == 0) {
        json_t *params = json_pack("{s:s, s:s, s:O, s:s, s:s, s:O}", "vm", str(vm, "id"), "vm_name", str(vm, "name"),
                                   "name", json_object_get(body, "name"), "snapshot", snap_id ? snap_id : "",
                                   "snapshot_description", str(snap, "description"), "plan", plan);
        rc = record(e, vm, new_id, plan, params, user, job_id, quota, err);
        json_decref(params);
        if (rc < 0) /* the VM row (and its MACs) go; nothing else was made */
            vr_db_exec(e->db, "DELETE FROM vms WHERE id = ?", DB_ARGS(DB_TEXT(new_id)), NULL);
    }
    json_decref(nvm);
    json_decref(spec);
    json_decref(sizes);
    json_decref(snap);
    json_decref(plan);
    json_decref(vm);
    if (rc == 0)
        vr_job_spawn(e, job_id, new_id, user, run_clone);
    return rc;
}

bool vr_vm_clone_resume(vr_engine *e, json_t *job)
{
    if (strcmp(str(job, "action"), "clone") || strcmp(str(job, "object_type"), "vm"))
        return false;
    VR_INFO("resuming job %s (clone into VM %s)", str(job, "id"), str(job, "object_id"));
    vr_job_update(e, str(job, "id"), "pending", "resumed after an engine restart");
    vr_job_spawn(e, str(job, "id"), str(job, "object_id"), str(job, "user_name"), run_clone);
    return true;
}
