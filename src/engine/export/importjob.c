/* Import of a VM from an export domain, and the domain's VM listing
 * (exportjob.h). The OVF is read from storage at the request; the new VM
 * and its disks are recorded locked with the job, whose params hold the
 * plan (a volplan: each disk copied by the SPM from the export domain into
 * the data domain), so a failure or a restart removes what was made. */
#include "exportjob.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentcall.h"
#include "devspec.h"
#include "i18n.h"
#include "jobs.h"
#include "log.h"
#include "ovf.h"
#include "sdjobs.h"
#include "snapjob_util.h"
#include "store.h"
#include "vm_spec.h"
#include "volplan.h"

#define str vr_sj_str

json_t *vr_export_host(vr_engine *e, const char *sd_id, vr_error *err)
{
    json_t *host = vr_db_query_one(e->db, "SELECT h.name AS name, h.address AS address, h.port AS port FROM"
                                   " host_domain_status s JOIN hosts h ON h.id = s.host_id WHERE s.domain_id = ?"
                                   " AND s.valid = 1 AND h.status = 'up' ORDER BY s.delay_ms LIMIT 1",
                                   DB_ARGS(DB_TEXT(sd_id)), err);
    if (!host && !err->code)
        vr_error_set(err, VR_ERR_BAD_STATE, "no up host sees storage domain %s now", sd_id);
    return host;
}

json_t *vr_export_read_ovf(vr_engine *e, const char *sd_id, const char *vm_id, bool template, json_t *host,
                           vr_error *err)
{
    json_t *res = NULL;
    if (vr_agent_call_host(e, host, "Ovf.get", json_pack("{s:s, s:s, s:b}", "domain", sd_id, "vm", vm_id, "template",
                                                         template), &res, err) < 0)
        return NULL;
    const char *text = str(res, "ovf");
    json_t *m = vr_ovf_read(text, strlen(text), err);
    json_decref(res);
    if (m && strcmp(str(m, "id"), vm_id)) {
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "the OVF of VM %s names another VM (%s)", vm_id, str(m, "id"));
        json_decref(m);
        return NULL;
    }
    return m;
}

json_t *vr_export_domain_vms(vr_engine *e, json_t *sd, bool template, vr_error *err)
{
    json_t *host = vr_export_host(e, str(sd, "id"), err), *res = NULL, *id;
    size_t i;
    if (!host || vr_agent_call_host(e, host, "Ovf.list", json_pack("{s:s, s:b}", "domain", str(sd, "id"), "template",
                                                                   template), &res, err) < 0) {
        json_decref(host);
        return NULL;
    }
    json_t *out = json_array();
    json_array_foreach(json_object_get(res, "vms"), i, id) {
        vr_error one = {0};
        json_t *m = vr_export_read_ovf(e, str(sd, "id"), json_string_value(id), template, host, &one);
        if (m)
            json_array_append_new(out, m);
        else /* listed with why it cannot be imported; the others still are */
            json_array_append_new(out, json_pack("{s:O, s:s}", "id", id, "error", one.message));
    }
    json_decref(res);
    json_decref(host);
    return json_pack("{s:o}", template ? "templates" : "vms", out);
}

static void run_import(vr_engine *e, const char *job_id, const char *new_id, const char *user)
{
    json_t *p = vr_volplan_job_params(e, job_id);
    vr_error err = {0};
    int rc = vr_volplan_run_vm(e, job_id, p, new_id, N_("copying the disks from the export domain"), &err);
    if (rc == VR_VOLPLAN_STOPPED) {
        json_decref(p);
        return;
    }
    vr_db_commit(e->db, NULL);
    char what[300];
    vr_i18n_format(what, sizeof(what), "import of VM '%s' from storage domain '%s'", str(p, "name"),
                   str(p, "domain_name"));
    vr_volplan_ended(e, job_id, user, "vm", new_id, what, rc, &err);
    json_decref(p);
}

json_t *vr_import_by_ref(vr_engine *e, const char *sql, const char *ref, const char *what, vr_error *err)
{
    json_t *r = vr_db_query_one(e->db, sql, DB_ARGS(DB_TEXT(ref), DB_TEXT(ref)), err);
    if (!r && !err->code)
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "no %s with id or name '%.64s'", what, ref);
    return r;
}

/* The new VM's spec members from the model: its disks renamed by plan,
 * NICs on the data center's profile of the same name and network (or on
 * none when it has no such profile). */
json_t *vr_import_members(vr_engine *e, json_t *m, json_t *plan, const char *dc)
{
    json_t *out = json_object(), *disks = json_array(), *nics = json_array(), *d;
    size_t i, k = 0;
    json_array_foreach(json_object_get(m, "disks"), i, d) {
        json_t *nd = json_pack("{s:s}", "bus", str(d, "bus"));
        if (json_is_true(json_object_get(d, "readonly")))
            json_object_set_new(nd, "readonly", json_true());
        if (*str(d, "disk")) {
            while (json_is_false(json_object_get(json_array_get(plan, k), "leaf")))
                k++; /* a volume under a chain's leaf */
            json_object_set(nd, "disk", json_object_get(json_array_get(plan, k++), "disk"));
        } else {
            json_object_set(nd, "path", json_object_get(d, "path"));
            if (*str(d, "format"))
                json_object_set(nd, "format", json_object_get(d, "format"));
            if (*str(d, "device"))
                json_object_set(nd, "device", json_object_get(d, "device"));
        }
        json_array_append_new(disks, nd);
    }
    json_array_foreach(json_object_get(m, "nics"), i, d) {
        json_t *prof = vr_db_query_one(e->db, "SELECT p.id AS id FROM vnic_profiles p JOIN networks n ON"
                                       " n.id = p.network_id WHERE p.name = ? AND n.name = ? AND n.datacenter_id = ?",
                                       DB_ARGS(DB_TEXT(str(d, "profile")), DB_TEXT(str(d, "network")), DB_TEXT(dc)),
                                       NULL);
        json_t *nic = json_pack("{s:s}", "model", str(d, "model"));
        if (prof)
            json_object_set(nic, "profile", json_object_get(prof, "id"));
        json_decref(prof);
        json_array_append_new(nics, nic);
    }
    json_object_set_new(out, "disks", disks);
    json_object_set_new(out, "nics", nics);
    if (json_object_get(m, "boot"))
        json_object_set(out, "boot", json_object_get(m, "boot"));
    return out;
}

json_t *vr_import_plan(json_t *m, const char *export_sd, const char *sd, bool clone)
{
    json_t *plan = json_array(), *d;
    size_t i;
    json_array_foreach(json_object_get(m, "disks"), i, d) if (*str(d, "disk")) {
        char id[37], vol[37];
        snprintf(id, sizeof(id), "%s", str(d, "disk"));
        snprintf(vol, sizeof(vol), "%s", str(d, "volume"));
        if (clone)
            vr_uuid_new(id);
        /* a chain kept: its volumes base first, each a layer over the one
         * before (new volume ids with clone); else the one volume */
        json_t *chain = json_array_size(json_object_get(d, "chain")) ? json_incref(json_object_get(d, "chain"))
                                                                      : json_pack("[{s:s}]", "volume", vol);
        json_t *c;
        size_t k, n = json_array_size(chain);
        char parent[37] = "";
        json_array_foreach(chain, k, c) {
            snprintf(vol, sizeof(vol), "%s", str(c, "volume"));
            if (clone)
                vr_uuid_new(vol);
            json_t *v = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:O, s:s, s:s, s:b, s:b}", "disk", id, "volume",
                                  vol, "domain", sd, "src_domain", export_sd, "src_disk", str(d, "disk"),
                                  "src_volume", str(c, "volume"), "size", json_object_get(d, "size"), "alias",
                                  str(d, "alias"), "description", str(d, "description"), "bootable",
                                  json_is_true(json_object_get(d, "bootable")), "leaf", k + 1 == n);
            if (*parent)
                json_object_set_new(v, "parent", json_string(parent));
            json_array_append_new(plan, v);
            snprintf(parent, sizeof(parent), "%s", vol);
        }
        json_decref(chain);
    }
    return plan;
}

int vr_import_keep_macs(vr_engine *e, json_t *m, const char *new_id, bool reassign, vr_error *err)
{
    json_t *vm = vr_sj_vm_row(e, new_id, err), *spec = json_object_get(vm, "spec"), *nic;
    size_t i;
    int rc = vm ? 0 : -1;
    json_array_foreach(rc == 0 ? json_object_get(spec, "nics") : NULL, i, nic) {
        const char *mac = str(json_array_get(json_object_get(m, "nics"), i), "mac");
        if (rc < 0 || !*mac)
            continue;
        /* Asked first: a failed INSERT would end a PostgreSQL transaction. */
        json_t *user = vr_db_query_one(e->db, "SELECT vm_id FROM macs WHERE mac = ?", DB_ARGS(DB_TEXT(mac)), err);
        bool taken = user && strcmp(str(user, "vm_id"), new_id), held = user != NULL;
        json_decref(user);
        if (err->code)
            rc = -1;
        else if (taken && !reassign)
            rc = vr_error_set(err, VR_ERR_CONFLICT, "MAC address %s of the VM is in use", mac);
        else if (!taken) { /* the pool's MAC given back, the VM's own taken */
            vr_db_exec(e->db, "DELETE FROM macs WHERE mac = ? AND vm_id = ?", DB_ARGS(DB_TEXT(str(nic, "mac")),
                                                                                    DB_TEXT(new_id)), NULL);
            if (!held && vr_db_exec(e->db, "INSERT INTO macs (mac, vm_id) VALUES (?, ?)",
                                    DB_ARGS(DB_TEXT(mac), DB_TEXT(new_id)), err) < 0)
                rc = -1;
            json_object_set_new(nic, "mac", json_string(mac));
        }
    }
    char *text = rc == 0 ? json_dumps(spec, JSON_COMPACT) : NULL;
    if (rc == 0 && vr_db_exec(e->db, "UPDATE vms SET spec_json = ? WHERE id = ?", DB_ARGS(DB_TEXT(text), DB_TEXT(new_id)),
                              err) < 0)
        rc = -1;
    free(text);
    json_decref(vm);
    return rc;
}

int vr_import_insert_disks(vr_engine *e, json_t *plan, const char *tmpl_id, vr_error *err)
{
    json_t *d;
    size_t i;
    int rc = 0;
    json_array_foreach(plan, i, d) {
        if (json_is_false(json_object_get(d, "leaf")))
            continue; /* a volume under a chain's leaf: the disk is recorded with its leaf */
        json_t *src = json_pack("{s:s, s:s, s:s, s:O, s:s, s:b}", "alias", str(d, "alias"), "description",
                                str(d, "description"), "storage_domain", str(d, "domain"), "provisioned_size",
                                json_object_get(d, "size"), "interface", "virtio", "bootable",
                                json_is_true(json_object_get(d, "bootable")));
        if (rc == 0 && vr_volplan_insert_disk(e, src, str(d, "disk"), str(d, "volume"), tmpl_id, NULL, err) < 0)
            rc = vr_error_set(err, VR_ERR_CONFLICT, "disk %s of the export exists already; import it with clone:"
                              " true", str(d, "disk"));
        json_decref(src);
    }
    return rc;
}

/* VM row, MACs, disks (locked) and the job, after the checks. */
static int record(vr_engine *e, json_t *m, json_t *nvm, json_t *plan, json_t *params, const char *user, bool clone,
                  const char *job_id, const char *new_id, const char *dc, vr_error *err)
{
    if (vr_store_vms.insert(e, new_id, nvm, err) < 0)
        return -1;
    int rc = vr_db_begin(e->db, err);
    if (rc == 0 && !clone && vr_import_keep_macs(e, m, new_id, false, err) < 0) /* the exported MACs */
        rc = -1;
    if (rc == 0 && vr_import_insert_disks(e, plan, NULL, err) < 0)
        rc = -1;
    if (rc == 0 && vr_import_snapshots(e, m, plan, new_id, dc, clone, err) < 0)
        rc = -1;
    if (rc == 0 && vr_db_exec(e->db, "UPDATE vms SET status = 'imagelocked' WHERE id = ?", DB_ARGS(DB_TEXT(new_id)),
                              err) < 0)
        rc = -1;
    char desc[200];
    vr_i18n_format(desc, sizeof(desc), "Import VM '%s' from storage domain '%s'", str(params, "name"),
             str(params, "domain_name"));
    if (rc == 0 && vr_storage_job_insert(e, job_id, "import", "vm", new_id, desc, params, user, err) < 0)
        rc = -1;
    if (rc == 0 && vr_db_commit(e->db, err) < 0)
        rc = -1;
    if (rc < 0) {
        vr_db_rollback(e->db);
        vr_db_exec(e->db, "DELETE FROM vms WHERE id = ?", DB_ARGS(DB_TEXT(new_id)), NULL);
    }
    return rc;
}

json_t *vr_import_read(vr_engine *e, json_t *sd, const char *id, bool template, json_t *body, json_t **cl,
                       json_t **dsd, vr_error *err)
{
    json_t *m = NULL, *host = NULL;
    if (strcmp(str(sd, "type"), "export"))
        vr_error_set(err, VR_ERR_CONFLICT, "storage domain '%s' is a %s domain; VMs and templates are imported from an"
                     " export domain", str(sd, "name"), str(sd, "type"));
    else if (strcmp(str(sd, "status"), "active"))
        vr_error_set(err, VR_ERR_CONFLICT, "export domain '%s' is %s; it must be active", str(sd, "name"),
                     str(sd, "status"));
    if (!err->code)
        *cl = vr_import_by_ref(e, "SELECT id, name, datacenter_id FROM clusters WHERE id = ? OR name = ?",
                               str(body, "cluster"), "cluster", err);
    if (*cl)
        *dsd = vr_import_by_ref(e, "SELECT id, name, sd_type, status, coalesce(datacenter_id, '') AS datacenter_id"
                                " FROM storage_domains WHERE id = ? OR name = ?", str(body, "storage_domain"),
                                "storage domain", err);
    if (*dsd && (strcmp(str(*dsd, "sd_type"), "data") || strcmp(str(*dsd, "status"), "active") ||
                 strcmp(str(*dsd, "datacenter_id"), str(*cl, "datacenter_id"))))
        vr_error_set(err, VR_ERR_CONFLICT, "storage domain '%s' must be an active data domain of the data center of"
                     " cluster '%s'", str(*dsd, "name"), str(*cl, "name"));
    if (*dsd && !err->code && (host = vr_export_host(e, str(sd, "id"), err)))
        m = vr_export_read_ovf(e, str(sd, "id"), id, template, host, err);
    if (err->code == VR_ERR_INVALID_PARAMS && !m && host) /* the OVF on storage: not the request's fault */
        err->code = VR_ERR_CONFLICT;
    json_decref(host);
    return m;
}

int vr_vm_import_submit(vr_engine *e, json_t *sd, const char *vm_id, json_t *body, const char *user,
                        char job_id[37], char new_id[37], vr_error *err)
{
    bool clone = json_is_true(json_object_get(body, "clone"));
    json_t *cl = NULL, *dsd = NULL, *plan = NULL, *mem = NULL, *spec = NULL, *nvm = NULL;
    json_t *m = vr_import_read(e, sd, vm_id, false, body, &cl, &dsd, err);
    if (m && err->code == 0) {
        if (json_is_true(json_object_get(m, "template")))
            vr_error_set(err, VR_ERR_CONFLICT, "'%s' on export domain '%s' is a template; import a VM",
                         str(m, "name"), str(sd, "name"));
        json_t *base = *str(m, "template_id") ? vr_db_query_one(e->db, "SELECT id FROM templates WHERE id = ?",
                                                                DB_ARGS(DB_TEXT(str(m, "template_id"))), err) : NULL;
        if (!err->code && *str(m, "template_id") && !base) /* its disks are layers over that template's */
            vr_error_set(err, VR_ERR_CONFLICT, "VM '%s' was exported thin over template %s ('%s'), which this engine"
                         " does not have: import that template first", str(m, "name"), str(m, "template_id"),
                         str(m, "template_name"));
        json_decref(base);
        const char *name = *str(body, "name") ? str(body, "name") : str(m, "name");
        if (!err->code && !vr_valid_name(name))
            vr_error_set(err, VR_ERR_CONFLICT, "the exported VM's name is not a valid VM name (1-64 of"
                         " A-Z a-z 0-9 . _ -): give name");
        json_t *had = err->code || clone ? NULL : vr_db_query_one(e->db, "SELECT name FROM vms WHERE id = ?",
                                                                 DB_ARGS(DB_TEXT(vm_id)), err);
        if (had)
            vr_error_set(err, VR_ERR_CONFLICT, "VM %s exists already (as '%s'); import it with clone: true for a new"
                         " VM with new ids and MACs", vm_id, str(had, "name"));
        json_decref(had);
        had = err->code ? NULL : vr_db_query_one(e->db, "SELECT id FROM vms WHERE name = ?", DB_ARGS(DB_TEXT(name)),
                                                 err);
        if (had)
            vr_error_set(err, VR_ERR_CONFLICT, "a VM named '%s' exists already: give another name", name);
        json_decref(had);
        if (!err->code) {
            plan = vr_import_plan(m, str(sd, "id"), str(dsd, "id"), clone);
            mem = vr_import_members(e, m, plan, str(cl, "datacenter_id"));
            spec = vr_vm_spec_build(mem, json_integer_value(json_object_get(m, "vcpus")),
                                    json_integer_value(json_object_get(m, "memory_mib")), err);
        }
        if (spec)
            nvm = json_pack("{s:s, s:s, s:s, s:O, s:O, s:O, s:s}", "name", name, "description", str(m, "description"),
                            "cluster_id", str(cl, "id"), "memory_mib", json_object_get(m, "memory_mib"), "vcpus",
                            json_object_get(m, "vcpus"), "spec", spec, "quota", "");
    }
    int rc = err->code ? -1 : 0;
    vr_uuid_new(job_id);
    if (clone)
        vr_uuid_new(new_id);
    else
        snprintf(new_id, 37, "%s", vm_id);
    if (rc == 0) {
        json_t *params = json_pack("{s:s, s:s, s:s, s:s, s:b, s:O}", "domain", str(sd, "id"), "domain_name",
                                   str(sd, "name"), "name", str(nvm, "name"), "vm", vm_id, "clone", clone, "plan",
                                   plan);
        rc = record(e, m, nvm, plan, params, user, clone, job_id, new_id, str(cl, "datacenter_id"), err);
        json_decref(params);
    }
    json_decref(nvm);
    json_decref(spec);
    json_decref(mem);
    json_decref(plan);
    json_decref(m);
    json_decref(dsd);
    json_decref(cl);
    if (rc == 0)
        vr_job_spawn(e, job_id, new_id, user, run_import);
    return rc;
}

bool vr_export_job_resume(vr_engine *e, json_t *job)
{
    const char *type = str(job, "object_type");
    if (vr_export_vm_resume(e, job))
        return true;
    if (strcmp(str(job, "action"), "import") || (strcmp(type, "vm") && strcmp(type, "template")))
        return false;
    bool vm = !strcmp(type, "vm");
    VR_INFO("resuming job %s (import of %s %s)", str(job, "id"), vm ? "VM" : "template", str(job, "object_id"));
    vr_job_update(e, str(job, "id"), "pending", "resumed after an engine restart");
    vr_job_spawn(e, str(job, "id"), str(job, "object_id"), str(job, "user_name"),
                 vm ? run_import : vr_template_import_run);
    return true;
}
