/* Registration of a VM from the OVF store of a data domain (register.h):
 * the disks are on the domain already (its import made their rows from
 * the volumes' metadata), so nothing is copied: the VM row is made from
 * the OVF with the same id, its disks and its MACs, in two transactions
 * (the VM with its disks claimed, then its MACs); a refusal of the second
 * removes the row the first made. */
#include "register.h"

#include <stdio.h>
#include <string.h>

#include "exportjob.h"
#include "ovf.h"
#include "snapjob_util.h"
#include "store.h"
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

int vr_vm_register(vr_engine *e, json_t *sd, const char *vm_id, json_t *body, vr_error *err)
{
    json_t *m = NULL, *cl = NULL, *host = NULL, *nvm = NULL;
    if (strcmp(str(sd, "type"), "data"))
        vr_error_set(err, VR_ERR_CONFLICT, "storage domain '%s' is a %s domain; VMs are registered from the OVF store"
                     " of a data domain", str(sd, "name"), str(sd, "type"));
    else if (strcmp(str(sd, "status"), "active"))
        vr_error_set(err, VR_ERR_CONFLICT, "storage domain '%s' is %s; it must be active", str(sd, "name"),
                     str(sd, "status"));
    if (!err->code) {
        cl = vr_db_query_one(e->db, "SELECT id, name, datacenter_id FROM clusters WHERE id = ? OR name = ?",
                             DB_ARGS(DB_TEXT(str(body, "cluster")), DB_TEXT(str(body, "cluster"))), err);
        if (!cl && !err->code)
            vr_error_set(err, VR_ERR_INVALID_PARAMS, "no cluster with id or name '%.64s'", str(body, "cluster"));
    }
    if (cl && strcmp(str(cl, "datacenter_id"), str(sd, "datacenter_id")))
        vr_error_set(err, VR_ERR_CONFLICT, "cluster '%s' is not in the data center of storage domain '%s'",
                     str(cl, "name"), str(sd, "name"));
    if (!err->code && (host = vr_export_host(e, str(sd, "id"), err)))
        m = vr_export_read_ovf(e, str(sd, "id"), vm_id, host, err);
    if (err->code == VR_ERR_INVALID_PARAMS && !m && host) /* the OVF on storage: not the request's fault */
        err->code = VR_ERR_CONFLICT;
    if (m)
        nvm = vm_members(e, sd, m, cl, *str(body, "name") ? str(body, "name") : str(m, "name"), err);
    int rc = nvm ? vr_store_vms.insert(e, vm_id, nvm, err) : -1;
    if (rc == 0) {
        rc = vr_db_begin(e->db, err);
        if (rc == 0 && vr_import_keep_macs(e, m, vm_id, json_is_true(json_object_get(body, "reassign_bad_macs")),
                                           err) < 0) {
            vr_db_rollback(e->db);
            rc = -1;
        } else if (rc == 0)
            rc = vr_db_commit(e->db, err);
        if (rc < 0)
            vr_db_exec(e->db, "DELETE FROM vms WHERE id = ?", DB_ARGS(DB_TEXT(vm_id)), NULL);
    }
    json_decref(nvm);
    json_decref(m);
    json_decref(host);
    json_decref(cl);
    return rc;
}
