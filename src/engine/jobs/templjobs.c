/* Template jobs (templjobs.h). Each job's params list every volume it is
 * to make ({disk, volume, domain, src...}), recorded before it asks the
 * SPM, so a failure (or a restart) knows what to remove. */
#include "templjobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentcall.h"
#include "agentjob.h"
#include "diskjob_util.h"
#include "diskjobs.h"
#include "i18n.h"
#include "jobs.h"
#include "log.h"
#include "sdjobs.h"
#include "snapjob_util.h"
#include "store_storage.h"
#include "store_templates.h"
#include "volplan.h"

#define str vr_sj_str

static long long num(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_boolean(v) ? json_is_true(v) : json_integer_value(v);
}

static json_t *job_row(vr_engine *e, const char *job_id)
{
    json_t *r = vr_db_query_one(e->db, "SELECT action, params_json FROM jobs WHERE id = ?", DB_ARGS(DB_TEXT(job_id)),
                                NULL);
    return r ? r : json_object();
}

/* ---- template from a VM ---- */

static void run_create(vr_engine *e, const char *job_id, const char *tmpl_id, const char *user)
{
    json_t *row = job_row(e, job_id), *p = json_object_get(row, "params"), *plan = json_object_get(p, "plan"), *v;
    vr_error err = {0};
    size_t i;
    vr_job_update(e, job_id, "running", "copying the VM's disks into template volumes");
    int rc = vr_volplan_run(e, job_id, plan, false, &err);
    if (rc == VR_VOLPLAN_STOPPED) {
        json_decref(row);
        return;
    }
    json_array_foreach(plan, i, v)
        vr_db_exec(e->db, "UPDATE disks SET status = 'ok' WHERE id = ? AND status = 'locked'",
                   DB_ARGS(DB_TEXT(str(v, "src_disk"))), NULL);
    if (rc == 0)
        vr_db_exec(e->db, "UPDATE templates SET status = 'ok' WHERE id = ?", DB_ARGS(DB_TEXT(tmpl_id)), NULL);
    else
        vr_db_exec(e->db, "DELETE FROM templates WHERE id = ?", DB_ARGS(DB_TEXT(tmpl_id)), NULL);
    vr_db_exec(e->db, "UPDATE vms SET status = 'down' WHERE id = ? AND status = 'imagelocked'",
               DB_ARGS(DB_TEXT(str(p, "vm"))), NULL);
    vr_db_commit(e->db, NULL);
    char what[160];
    vr_i18n_format(what, sizeof(what), "creation of template '%s'", str(p, "name"));
    vr_volplan_ended(e, job_id, user, "template", tmpl_id, what, rc, &err);
    json_decref(row);
}

static int plan_disks(vr_engine *e, json_t *vm, json_t *plan, vr_error *err)
{
    json_t *ids = vr_sj_vm_disk_ids(json_object_get(vm, "spec")), *id;
    size_t i;
    int rc = 0;
    json_t *d;
    json_array_foreach(json_object_get(json_object_get(vm, "spec"), "disks"), i, d)
        if (rc == 0 && !json_object_get(d, "disk") && !json_is_true(json_object_get(d, "readonly")))
            rc = vr_error_set(err, VR_ERR_CONFLICT, "VM '%s' has a writable disk given by path (%s): only disks on"
                              " storage domains go into a template", str(vm, "name"), str(d, "path"));
    json_array_foreach(ids, i, id) {
        json_t *row = rc == 0 ? vr_volplan_disk_row(e, json_string_value(id), err) : NULL;
        if (rc == 0 && !row)
            rc = err->code ? -1 : vr_error_set(err, VR_ERR_CONFLICT, "disk %s of VM '%s' is gone",
                                               json_string_value(id), str(vm, "name"));
        else if (row && vr_disk_doubt_refuse(row, err) < 0)
            rc = -1;
        else if (row && strcmp(str(row, "status"), "ok"))
            rc = vr_error_set(err, VR_ERR_CONFLICT, "disk '%s' of VM '%s' is %s", str(row, "alias"),
                              str(vm, "name"), str(row, "status"));
        if (row && rc == 0)
            vr_volplan_append(plan, row, str(row, "volume_id"));
        json_decref(row);
    }
    json_decref(ids);
    return rc;
}

int vr_template_create_submit(vr_engine *e, const char *id, json_t *body, const char *user, char job_id[37],
                              vr_error *err)
{
    const char *base = json_string_value(json_object_get(body, "base_template"));
    json_t *vm = vr_sj_vm_row(e, str(body, "vm"), err), *plan = json_array(), *b = NULL;
    int rc = vm ? 0 : err->code ? -1 : vr_error_set(err, VR_ERR_INVALID_PARAMS, "no VM with id '%.64s'",
                                                     str(body, "vm"));
    if (rc == 0 && strcmp(str(vm, "status"), "down"))
        rc = vr_error_set(err, VR_ERR_CONFLICT, "VM '%s' is %s; a template is made from a VM that is down",
                          str(vm, "name"), str(vm, "status"));
    if (rc == 0 && base) {
        b = vr_db_query_one(e->db, "SELECT t.name AS name, t.base_template_id AS base, (SELECT max(version_number)"
                            " FROM templates WHERE id = t.id OR base_template_id = t.id) AS top FROM templates t"
                            " WHERE t.id = ?", DB_ARGS(DB_TEXT(base)), err);
        if (!b)
            rc = err->code ? -1 : vr_error_set(err, VR_ERR_INVALID_PARAMS, "no template with id '%.64s'", base);
        else if (*str(b, "base") || !strcmp(base, VR_BLANK_TEMPLATE))
            rc = vr_error_set(err, VR_ERR_INVALID_PARAMS, "template '%s' is a sub-version or Blank: give its base"
                              " template", str(b, "name"));
    }
    if (rc == 0)
        rc = plan_disks(e, vm, plan, err);
    const char *name = b ? str(b, "name") : str(body, "name");
    long long version = b ? num(b, "top") + 1 : 1;
    vr_uuid_new(job_id);
    if (rc == 0 && vr_db_begin(e->db, err) == 0) {
        json_t *spec = vr_volplan_spec(json_object_get(vm, "spec"), plan), *v;
        char *text = json_dumps(spec, JSON_COMPACT);
        size_t i;
        json_t *dup = vr_db_query_one(e->db, "SELECT id FROM templates WHERE name = ? AND version_number = ?",
                                      DB_ARGS(DB_TEXT(name), DB_INT(version)), err);
        if (dup)
            rc = vr_error_set(err, VR_ERR_CONFLICT, "a template named '%s' exists already", name);
        json_decref(dup);
        if (rc == 0 && vr_db_exec(e->db, "UPDATE vms SET status = 'imagelocked' WHERE id = ? AND status = 'down'",
                                  DB_ARGS(DB_TEXT(str(vm, "id"))), err) != 1)
            rc = err->code ? -1 : vr_error_set(err, VR_ERR_CONFLICT, "VM '%s' changed meanwhile", str(vm, "name"));
        if (rc == 0 &&
            vr_db_exec(e->db, "INSERT INTO templates (id, name, description, cluster_id, memory_mib, vcpus, spec_json,"
                       " base_template_id, version_number, version_name, status, created_at)"
                       " VALUES (?,?,?,?,?,?,?,?,?,?, 'locked', ?)",
                       DB_ARGS(DB_TEXT(id), DB_TEXT(name), DB_TEXT(str(body, "description")),
                               DB_TEXT(str(vm, "cluster_id")), DB_INT(num(vm, "memory_mib")),
                               DB_INT(num(vm, "vcpus")), DB_TEXT(text ?: "{}"), base ? DB_TEXT(base) : DB_NULL,
                               DB_INT(version), DB_TEXT(str(body, "version_name")), DB_INT(vr_now())), err) < 0)
            rc = -1;
        json_array_foreach(plan, i, v) {
            json_t *src = rc == 0 ? vr_volplan_disk_row(e, str(v, "src_disk"), err) : NULL;
            if (rc == 0 && (!src || vr_volplan_insert_disk(e, src, str(v, "disk"), str(v, "volume"), id, NULL, err) < 0 ||
                            vr_db_exec(e->db, "UPDATE disks SET status = 'locked' WHERE id = ? AND status = 'ok'",
                                       DB_ARGS(DB_TEXT(str(v, "src_disk"))), err) != 1))
                rc = err->code ? -1 : vr_error_set(err, VR_ERR_CONFLICT, "a disk of the VM changed meanwhile");
            json_decref(src);
        }
        char desc[200];
        vr_i18n_format(desc, sizeof(desc), "Create template '%s' from VM '%s'", name, str(vm, "name"));
        json_t *params = json_pack("{s:s, s:s, s:O}", "vm", str(vm, "id"), "name", name, "plan", plan);
        if (rc == 0 && vr_storage_job_insert(e, job_id, "create", "template", id, desc, params, user, err) < 0)
            rc = -1;
        json_decref(params);
        free(text);
        json_decref(spec);
        if (rc < 0 || vr_db_commit(e->db, err) < 0) {
            vr_db_rollback(e->db);
            rc = -1;
        }
    } else if (rc == 0) {
        rc = -1;
    }
    json_decref(vm);
    json_decref(b);
    json_decref(plan);
    if (rc == 0)
        vr_job_spawn(e, job_id, id, user, run_create);
    return rc;
}

/* ---- removal ---- */

static void run_remove(vr_engine *e, const char *job_id, const char *tmpl_id, const char *user)
{
    vr_error err = {0};
    json_t *disks = NULL, *d, *spm = NULL;
    size_t i;
    int rc = vr_db_query(e->db, "SELECT id, volume_id, storage_domain_id AS domain, wipe_after_delete FROM disks"
                         " WHERE template_id = ?", DB_ARGS(DB_TEXT(tmpl_id)), &disks, &err);
    vr_job_update(e, job_id, "running", "removing the template's volumes");
    json_array_foreach(rc == 0 ? disks : NULL, i, d) {
        json_t *res = NULL;
        if (!spm && !(spm = vr_volplan_spm(e, job_id, str(d, "domain"), &err))) {
            rc = -1;
            break;
        }
        json_t *ref = vr_volplan_ref(str(d, "domain"), str(d, "id"), str(d, "volume_id"));
        bool wipe = json_integer_value(json_object_get(d, "wipe_after_delete")) != 0;
        if (wipe) /* zeroed on the SPM first, by a job of its own followed here */
            json_object_set_new(ref, "wipe", json_true());
        if ((wipe ? vr_dj_call_spm(e, job_id, spm, "Volume.delete", ref, 10, 95, &err)
                  : vr_agent_call_host(e, spm, "Volume.delete", ref, &res, &err)) < 0 && err.code != VR_ERR_NOT_FOUND) {
            rc = -1;
            break;
        }
        vr_error_clear(&err);
        json_decref(res);
        vr_db_exec(e->db, "DELETE FROM disks WHERE id = ?", DB_ARGS(DB_TEXT(str(d, "id"))), NULL);
    }
    if (rc == 0)
        vr_db_exec(e->db, "DELETE FROM templates WHERE id = ?", DB_ARGS(DB_TEXT(tmpl_id)), NULL);
    else
        vr_db_exec(e->db, "UPDATE templates SET status = 'ok' WHERE id = ?", DB_ARGS(DB_TEXT(tmpl_id)), NULL);
    vr_volplan_ended(e, job_id, user, "template", tmpl_id, "removal of the template", rc, &err);
    json_decref(disks);
    json_decref(spm);
}

int vr_template_remove_submit(vr_engine *e, json_t *t, const char *user, char job_id[37], vr_error *err)
{
    const char *id = str(t, "id");
    if (!strcmp(id, VR_BLANK_TEMPLATE))
        return vr_error_set(err, VR_ERR_CONFLICT, "the Blank template cannot be removed");
    json_t *user_vm = vr_db_query_one(e->db, "SELECT v.name AS name FROM disks d JOIN disks t ON t.id ="
                                      " d.parent_disk_id JOIN vms v ON v.spec_json LIKE '%' || d.id || '%'"
                                      " WHERE t.template_id = ?", DB_ARGS(DB_TEXT(id)), err);
    json_t *thin = user_vm || err->code ? NULL :
        vr_db_query_one(e->db, "SELECT d.alias AS alias FROM disks d JOIN disks t ON t.id = d.parent_disk_id"
                        " WHERE t.template_id = ?", DB_ARGS(DB_TEXT(id)), err);
    json_t *sub = user_vm || thin || err->code ? NULL :
        vr_db_query_one(e->db, "SELECT version_number FROM templates WHERE base_template_id = ?", DB_ARGS(DB_TEXT(id)),
                        err);
    int rc = err->code ? -1 : 0;
    if (user_vm)
        rc = vr_error_set(err, VR_ERR_CONFLICT, "template '%s' is used by VM '%s' (a thin VM's disks are layers over"
                          " it); remove the VM or clone it first", str(t, "name"), str(user_vm, "name"));
    else if (thin)
        rc = vr_error_set(err, VR_ERR_CONFLICT, "disk '%s' is a layer over template '%s'; remove it first",
                          str(thin, "alias"), str(t, "name"));
    else if (sub)
        rc = vr_error_set(err, VR_ERR_CONFLICT, "template '%s' has sub-versions; remove them first", str(t, "name"));
    json_decref(user_vm);
    json_decref(thin);
    json_decref(sub);
    if (rc < 0)
        return -1;
    vr_uuid_new(job_id);
    char desc[160];
    vr_i18n_format(desc, sizeof(desc), "Remove template '%s'", str(t, "name"));
    if (vr_db_begin(e->db, err) < 0)
        return -1;
    if (vr_db_exec(e->db, "UPDATE templates SET status = 'locked' WHERE id = ? AND status = 'ok'", DB_ARGS(DB_TEXT(id)),
                   err) != 1) {
        vr_db_rollback(e->db);
        return err->code ? -1 : vr_error_set(err, VR_ERR_CONFLICT, "template '%s' is busy", str(t, "name"));
    }
    if (vr_storage_job_insert(e, job_id, "delete", "template", id, desc, NULL, user, err) < 0 ||
        vr_db_commit(e->db, err) < 0) {
        vr_db_rollback(e->db);
        return -1;
    }
    vr_job_spawn(e, job_id, id, user, run_remove);
    return 0;
}

/* ---- a VM from a template ---- */

static void run_newvm(vr_engine *e, const char *job_id, const char *vm_id, const char *user)
{
    json_t *row = job_row(e, job_id), *p = json_object_get(row, "params"), *plan = json_object_get(p, "plan");
    vr_error err = {0};
    bool thin = !json_is_true(json_object_get(p, "clone"));
    vr_job_update(e, job_id, "running", thin ? N_("layering the VM's disks over the template") :
                  N_("copying the template's disks for the VM"));
    int rc = vr_volplan_run(e, job_id, plan, thin, &err);
    if (rc == VR_VOLPLAN_STOPPED) {
        json_decref(row);
        return;
    }
    if (rc == 0)
        vr_db_exec(e->db, "UPDATE vms SET status = 'down' WHERE id = ? AND status = 'imagelocked'",
                   DB_ARGS(DB_TEXT(vm_id)), NULL);
    else /* nothing half made: the VM goes with its disks (its MACs with it) */
        vr_db_exec(e->db, "DELETE FROM vms WHERE id = ?", DB_ARGS(DB_TEXT(vm_id)), NULL);
    vr_db_commit(e->db, NULL);
    char what[200];
    vr_i18n_format(what, sizeof(what), "creation of VM '%s' from template '%s' (%s)", str(p, "name"), str(p, "template_name"),
             thin ? "thin" : "clone");
    vr_volplan_ended(e, job_id, user, "vm", vm_id, what, rc, &err);
    json_decref(row);
}

/* The newest ok version of t's family when asked for "latest". */
static json_t *pick_version(vr_engine *e, json_t *t, json_t *body, vr_error *err)
{
    const char *want = json_string_value(json_object_get(body, "version"));
    if (!want)
        return json_incref(t);
    if (strcmp(want, "latest"))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "version must be \"latest\" (or absent: this template)"),
               NULL;
    const char *base = *str(t, "base_template_id") ? str(t, "base_template_id") : str(t, "id");
    json_t *r = vr_db_query_one(e->db, "SELECT id, name, cluster_id, memory_mib, vcpus, spec_json, status FROM"
                                " templates WHERE (id = ? OR base_template_id = ?) AND status = 'ok'"
                                " ORDER BY version_number DESC LIMIT 1", DB_ARGS(DB_TEXT(base), DB_TEXT(base)), err);
    if (!r && !err->code)
        vr_error_set(err, VR_ERR_CONFLICT, "template '%s' has no version ready", str(t, "name"));
    return r;
}

int vr_template_newvm_submit(vr_engine *e, json_t *t0, json_t *body, const char *user, char job_id[37],
                             char vm_id[37], vr_error *err)
{
    json_t *t = pick_version(e, t0, body, err);
    if (!t)
        return -1;
    bool clone = json_is_true(json_object_get(body, "clone"));
    const char *cluster = json_string_value(json_object_get(body, "cluster_id")) ?: str(t, "cluster_id");
    json_t *plan = json_array(), *spec = json_deep_copy(json_object_get(t, "spec")), *d;
    int rc = 0;
    size_t i;
    if (strcmp(str(t, "status"), "ok"))
        rc = vr_error_set(err, VR_ERR_CONFLICT, "template '%s' is %s", str(t, "name"), str(t, "status"));
    else if (!*cluster)
        rc = vr_error_set(err, VR_ERR_INVALID_PARAMS, "cluster_id is needed (the template belongs to none)");
    if (!json_is_object(spec)) {
        json_decref(spec);
        spec = json_object();
    }
    json_array_foreach(rc == 0 ? json_object_get(spec, "disks") : NULL, i, d) {
        if (!json_object_get(d, "disk"))
            continue;
        json_t *td = vr_volplan_disk_row(e, str(d, "disk"), err);
        if (!td) {
            rc = err->code ? -1 : vr_error_set(err, VR_ERR_CONFLICT, "a disk of template '%s' is gone", str(t, "name"));
            break;
        }
        vr_volplan_append(plan, td, str(td, "volume_id"));
        json_object_set(d, "disk", json_object_get(json_array_get(plan, json_array_size(plan) - 1), "disk"));
        json_decref(td);
    }
    char quota[37] = "";
    if (rc == 0) /* the caller holds the quota lock until the rows are in */
        rc = vr_volplan_take_quota(e, user, body, t, cluster, plan, quota, err);
    vr_uuid_new(vm_id);
    json_t *vm = json_pack("{s:O, s:s, s:s, s:O, s:O, s:O, s:s}", "name", json_object_get(body, "name"), "description",
                           str(body, "description"), "cluster_id", cluster, "memory_mib",
                           json_object_get(t, "memory_mib"), "vcpus", json_object_get(t, "vcpus"), "spec", spec,
                           "quota", quota);
    if (rc == 0 && vr_store_vms.insert(e, vm_id, vm, err) < 0)
        rc = -1;
    vr_uuid_new(job_id);
    if (rc == 0 && vr_db_begin(e->db, err) == 0) {
        json_t *v;
        json_array_foreach(plan, i, v) {
            json_t *td = rc == 0 ? vr_volplan_disk_row(e, str(v, "src_disk"), err) : NULL;
            if (rc == 0 && (!td || vr_volplan_insert_disk(e, td, str(v, "disk"), str(v, "volume"), NULL,
                                               clone ? NULL : str(v, "src_disk"), err) < 0))
                rc = -1;
            if (rc == 0 && vr_volplan_disk_quota(e, str(v, "disk"), quota, err) < 0)
                rc = -1;
            json_decref(td);
        }
        if (rc == 0 && vr_db_exec(e->db, "UPDATE vms SET status = 'imagelocked' WHERE id = ?", DB_ARGS(DB_TEXT(vm_id)),
                                  err) < 0)
            rc = -1;
        char desc[200];
        vr_i18n_format(desc, sizeof(desc), "Create VM '%s' from template '%s'", str(body, "name"), str(t, "name"));
        json_t *params = json_pack("{s:s, s:s, s:s, s:b, s:O}", "template", str(t, "id"), "template_name",
                                   str(t, "name"), "name", str(body, "name"), "clone", clone, "plan", plan);
        if (rc == 0 && vr_storage_job_insert(e, job_id, "create_from_template", "vm", vm_id, desc, params, user,
                                             err) < 0)
            rc = -1;
        json_decref(params);
        if (rc < 0 || vr_db_commit(e->db, err) < 0) {
            vr_db_rollback(e->db);
            vr_db_exec(e->db, "DELETE FROM vms WHERE id = ?", DB_ARGS(DB_TEXT(vm_id)), NULL);
            rc = -1;
        }
    } else if (rc == 0) {
        vr_db_exec(e->db, "DELETE FROM vms WHERE id = ?", DB_ARGS(DB_TEXT(vm_id)), NULL);
        rc = -1;
    }
    json_decref(vm);
    json_decref(spec);
    json_decref(plan);
    json_decref(t);
    if (rc == 0)
        vr_job_spawn(e, job_id, vm_id, user, run_newvm);
    return rc;
}

/* ---- restart: each job runs again; a step already done makes it fail and
 * remove what it made (a volume that exists is refused), so the outcome is
 * finished or failed, never half done. ---- */

bool vr_template_job_resume(vr_engine *e, json_t *job)
{
    const char *action = str(job, "action"), *type = str(job, "object_type"), *id = str(job, "id");
    vr_job_fn fn = NULL;
    if (!strcmp(type, "template"))
        fn = !strcmp(action, "create") ? run_create : !strcmp(action, "delete") ? run_remove : NULL;
    else if (!strcmp(action, "create_from_template"))
        fn = run_newvm;
    if (!fn)
        return false;
    VR_INFO("resuming job %s (%s of %s %s)", id, action, type, str(job, "object_id"));
    vr_job_update(e, id, "pending", "resumed after an engine restart");
    vr_job_spawn(e, id, str(job, "object_id"), str(job, "user_name"), fn);
    return true;
}
