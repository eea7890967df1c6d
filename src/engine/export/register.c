/* Registration of a VM or template from the OVF store of a data domain
 * (register.h):
 * the disks are on the domain already (its import made their rows from
 * the volumes' metadata), so nothing is copied: the VM row is made from
 * the OVF with the same id, its disks and its MACs, in two transactions
 * (the VM with its disks claimed, then its MACs and snapshots); a refusal
 * of the second removes the row the first made. The snapshots are
 * recorded with the OVF's ids: their volumes are on the domain, each
 * disk's chain the one the volumes there form (regchain.c: layers the
 * OVF does not know get recovered snapshots). */
#include "register.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exportjob.h"
#include "ovf.h"
#include "snapjob_util.h"
#include "store.h"
#include "store_storage.h"
#include "vm_spec.h"

#define str vr_sj_str

/* Every engine disk of model m recorded here (as the domain's import
 * found it), ok: the plan naming them (a new reference), or NULL. */
static json_t *present_disks(vr_engine *e, json_t *m, vr_error *err)
{
    json_t *plan = json_array(), *d;
    size_t i;
    json_array_foreach(json_object_get(m, "disks"), i, d) if (*str(d, "disk") && !err->code) {
        json_t *row = vr_db_query_one(e->db, "SELECT status FROM disks WHERE id = ?", DB_ARGS(DB_TEXT(str(d, "disk"))),
                                      err);
        if (!row && !err->code)
            vr_error_set(err, VR_ERR_CONFLICT, "disk %s ('%s') of VM '%s' is not known here: import the storage domain"
                         " that holds it first", str(d, "disk"), str(d, "alias"), str(m, "name"));
        else if (row && strcmp(str(row, "status"), "ok"))
            vr_error_set(err, VR_ERR_CONFLICT, "disk %s ('%s') of VM '%s' is %s", str(d, "disk"), str(d, "alias"),
                         str(m, "name"), str(row, "status"));
        json_array_append_new(plan, json_pack("{s:s}", "disk", str(d, "disk")));
        json_decref(row);
    }
    if (err->code) {
        json_decref(plan);
        return NULL;
    }
    return plan;
}

/* The new VM's row members from model m, checked; NULL with err. */
static json_t *vm_members(vr_engine *e, json_t *sd, json_t *m, json_t *cl, const char *name, vr_error *err)
{
    json_t *had = vr_db_query_one(e->db, "SELECT name FROM vms WHERE id = ?", DB_ARGS(DB_TEXT(str(m, "id"))), err);
    if (had)
        vr_error_set(err, VR_ERR_CONFLICT, "VM %s is registered already (as '%s')", str(m, "id"), str(had, "name"));
    json_decref(had);
    if (!err->code && json_is_true(json_object_get(m, "template")))
        vr_error_set(err, VR_ERR_CONFLICT, "'%s' in the OVF store of storage domain '%s' is a template",
                     str(m, "name"), str(sd, "name"));
    if (!err->code && !vr_valid_name(name))
        vr_error_set(err, VR_ERR_CONFLICT, "the VM's name in the OVF is not a valid VM name (1-64 of A-Z a-z 0-9 . _"
                     " -): give name");
    had = err->code ? NULL : vr_db_query_one(e->db, "SELECT id FROM vms WHERE name = ?", DB_ARGS(DB_TEXT(name)), err);
    if (had)
        vr_error_set(err, VR_ERR_CONFLICT, "a VM named '%s' exists already: give another name", name);
    json_decref(had);
    json_t *plan = err->code ? NULL : present_disks(e, m, err);
    if (plan && vr_register_chains(e, sd, m, err) < 0) {
        json_decref(plan);
        plan = NULL;
    }
    json_t *mem = plan ? vr_import_members(e, m, plan, str(cl, "datacenter_id")) : NULL;
    json_t *spec = mem ? vr_vm_spec_build(mem, json_integer_value(json_object_get(m, "vcpus")),
                                          json_integer_value(json_object_get(m, "memory_mib")), err) : NULL;
    json_t *nvm = spec ? json_pack("{s:s, s:s, s:s, s:O, s:O, s:O, s:s}", "name", name, "description",
                                   str(m, "description"), "cluster_id", str(cl, "id"), "memory_mib",
                                   json_object_get(m, "memory_mib"), "vcpus", json_object_get(m, "vcpus"), "spec",
                                   spec, "quota", "") : NULL;
    json_decref(spec);
    json_decref(mem);
    json_decref(plan);
    return nvm;
}

/* The checks both registrations share: the domain, the cluster (*cl) and
 * the OVF's model (returned); NULL with err. */
static json_t *read_model(vr_engine *e, json_t *sd, const char *id, json_t *body, json_t **cl, vr_error *err)
{
    json_t *m = NULL, *host = NULL;
    if (strcmp(str(sd, "type"), "data"))
        vr_error_set(err, VR_ERR_CONFLICT, "storage domain '%s' is a %s domain; VMs are registered from the OVF store"
                     " of a data domain", str(sd, "name"), str(sd, "type"));
    else if (strcmp(str(sd, "status"), "active"))
        vr_error_set(err, VR_ERR_CONFLICT, "storage domain '%s' is %s; it must be active", str(sd, "name"),
                     str(sd, "status"));
    if (!err->code) {
        *cl = vr_db_query_one(e->db, "SELECT id, name, datacenter_id FROM clusters WHERE id = ? OR name = ?",
                              DB_ARGS(DB_TEXT(str(body, "cluster")), DB_TEXT(str(body, "cluster"))), err);
        if (!*cl && !err->code)
            vr_error_set(err, VR_ERR_INVALID_PARAMS, "no cluster with id or name '%.64s'", str(body, "cluster"));
    }
    if (*cl && strcmp(str(*cl, "datacenter_id"), str(sd, "datacenter_id")))
        vr_error_set(err, VR_ERR_CONFLICT, "cluster '%s' is not in the data center of storage domain '%s'",
                     str(*cl, "name"), str(sd, "name"));
    if (!err->code && (host = vr_export_host(e, str(sd, "id"), err)))
        m = vr_export_read_ovf(e, str(sd, "id"), id, false, host, err);
    if (err->code == VR_ERR_INVALID_PARAMS && !m && host) /* the OVF on storage: not the request's fault */
        err->code = VR_ERR_CONFLICT;
    json_decref(host);
    if (m && err->code) {
        json_decref(m);
        m = NULL;
    }
    return m;
}

int vr_vm_register(vr_engine *e, json_t *sd, const char *vm_id, json_t *body, vr_error *err)
{
    json_t *cl = NULL, *nvm = NULL, *m = read_model(e, sd, vm_id, body, &cl, err);
    if (m)
        nvm = vm_members(e, sd, m, cl, *str(body, "name") ? str(body, "name") : str(m, "name"), err);
    int rc = nvm ? vr_store_vms.insert(e, vm_id, nvm, err) : -1;
    if (rc == 0) {
        rc = vr_db_begin(e->db, err);
        /* the snapshots: the chains' volumes are the disks' own, same ids */
        json_t *splan = rc == 0 ? vr_import_plan(m, str(sd, "id"), str(sd, "id"), false) : NULL;
        if (rc == 0 && (vr_import_keep_macs(e, m, vm_id, json_is_true(json_object_get(body, "reassign_bad_macs")),
                                            err) < 0 ||
                        vr_import_snapshots(e, m, splan, vm_id, str(cl, "datacenter_id"), false, err) < 0)) {
            vr_db_rollback(e->db);
            rc = -1;
        } else if (rc == 0)
            rc = vr_db_commit(e->db, err);
        if (rc < 0)
            vr_db_exec(e->db, "DELETE FROM vms WHERE id = ?", DB_ARGS(DB_TEXT(vm_id)), NULL);
        json_decref(splan);
    }
    json_decref(nvm);
    json_decref(m);
    json_decref(cl);
    return rc;
}

int vr_template_row_insert(vr_engine *e, const char *id, json_t *m, json_t *cl, const char *name, json_t *spec,
                           const char *status, vr_error *err)
{
    char *text = json_dumps(spec, JSON_COMPACT);
    int rc = vr_db_exec(e->db, "INSERT INTO templates (id, name, description, cluster_id, memory_mib, vcpus,"
                        " spec_json, status, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
                        DB_ARGS(DB_TEXT(id), DB_TEXT(name), DB_TEXT(str(m, "description")), DB_TEXT(str(cl, "id")),
                                DB_INT(json_integer_value(json_object_get(m, "memory_mib"))),
                                DB_INT(json_integer_value(json_object_get(m, "vcpus"))), DB_TEXT(text ?: "{}"),
                                DB_TEXT(status), DB_INT(vr_now())), err) < 0 ? -1 : 0;
    free(text);
    return rc;
}

/* The template row and its disks marked as its own, in one transaction. */
static int insert_template(vr_engine *e, const char *id, json_t *m, json_t *cl, const char *name, json_t *spec,
                           json_t *plan, vr_error *err)
{
    json_t *d;
    size_t i;
    int rc = vr_db_begin(e->db, err);
    if (rc == 0 && vr_template_row_insert(e, id, m, cl, name, spec, "ok", err) < 0)
        rc = -1;
    json_array_foreach(rc == 0 ? plan : NULL, i, d) {
        json_t *users = rc == 0 ? vr_storage_disk_users(e, str(d, "disk"), err) : NULL;
        if (rc == 0 && !users)
            rc = -1;
        else if (json_array_size(users))
            rc = vr_error_set(err, VR_ERR_CONFLICT, "disk %s of template '%s' is used by VM '%s'", str(d, "disk"),
                              name, str(json_array_get(users, 0), "name"));
        else if (rc == 0 && vr_db_exec(e->db, "UPDATE disks SET template_id = ? WHERE id = ? AND template_id IS NULL",
                                       DB_ARGS(DB_TEXT(id), DB_TEXT(str(d, "disk"))), err) != 1)
            rc = err->code ? -1 : vr_error_set(err, VR_ERR_CONFLICT, "disk %s belongs to another template",
                                               str(d, "disk"));
        json_decref(users);
    }
    if (rc == 0)
        rc = vr_db_commit(e->db, err);
    else
        vr_db_rollback(e->db);
    return rc;
}

int vr_template_register(vr_engine *e, json_t *sd, const char *id, json_t *body, vr_error *err)
{
    json_t *cl = NULL, *plan = NULL, *mem = NULL, *spec = NULL, *m = read_model(e, sd, id, body, &cl, err);
    const char *name = m && *str(body, "name") ? str(body, "name") : str(m, "name");
    json_t *had = m ? vr_db_query_one(e->db, "SELECT name FROM templates WHERE id = ? OR (name = ? AND"
                                      " version_number = 1)", DB_ARGS(DB_TEXT(id), DB_TEXT(name)), err) : NULL;
    if (had)
        vr_error_set(err, VR_ERR_CONFLICT, "template %s is registered already, or a template is named '%s': give"
                     " another name", id, name);
    json_decref(had);
    if (m && !err->code && !json_is_true(json_object_get(m, "template")))
        vr_error_set(err, VR_ERR_CONFLICT, "'%s' in the OVF store of storage domain '%s' is a VM", str(m, "name"),
                     str(sd, "name"));
    if (m && !err->code && !vr_valid_name(name))
        vr_error_set(err, VR_ERR_CONFLICT, "the VM's name in the OVF is not a valid VM name (1-64 of A-Z a-z 0-9 . _"
                     " -): give name");
    if (m && !err->code)
        plan = present_disks(e, m, err);
    if (plan)
        mem = vr_import_members(e, m, plan, str(cl, "datacenter_id"));
    if (mem)
        spec = vr_vm_spec_build(mem, json_integer_value(json_object_get(m, "vcpus")),
                                json_integer_value(json_object_get(m, "memory_mib")), err);
    int rc = spec ? insert_template(e, id, m, cl, name, spec, plan, err) : -1;
    json_decref(spec);
    json_decref(mem);
    json_decref(plan);
    json_decref(m);
    json_decref(cl);
    return rc;
}
