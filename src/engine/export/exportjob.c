/* Export of a stopped VM or a template to an export domain (exportjob.h).
 * The job's params hold the whole plan (each disk's source volume) and
 * note each copy's progress (copies), so a run resumed after a restart
 * keeps what was copied and follows a copy under way: it removes the OVF
 * of an earlier export and the volumes of each image it has not begun
 * (an earlier export's), then copies (exportcopy.c), then writes the OVF
 * last - an OVF on the domain always describes complete volumes. A failed
 * copy leaves none of the images' volumes behind. */
#include "exportjob.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentcall.h"
#include "diskjobs.h"
#include "exportcopy.h"
#include "i18n.h"
#include "jobs.h"
#include "log.h"
#include "ovf.h"
#include "sdjobs.h"
#include "snapjob_util.h"
#include "store_templates.h"
#include "volplan.h"

#define str vr_sj_str

/* The NICs of spec for the OVF: MAC, model, profile and network by name. */
static json_t *ovf_nics(vr_engine *e, json_t *spec)
{
    json_t *out = json_array(), *nic;
    size_t i;
    json_array_foreach(json_object_get(spec, "nics"), i, nic) {
        json_t *row = *str(nic, "profile") ? vr_db_query_one(e->db, "SELECT p.name AS profile, n.name AS network FROM"
                                                             " vnic_profiles p JOIN networks n ON n.id = p.network_id"
                                                             " WHERE p.id = ?",
                                                             DB_ARGS(DB_TEXT(str(nic, "profile"))), NULL) : NULL;
        char name[32];
        snprintf(name, sizeof(name), "nic%zu", i + 1);
        json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", name, "mac", str(nic, "mac"),
                                             "model", *str(nic, "model") ? str(nic, "model") : "virtio", "profile",
                                             str(row, "profile"), "network", str(row, "network")));
        json_decref(row);
    }
    return out;
}

json_t *vr_export_ovf_model(vr_engine *e, json_t *p)
{
    json_t *vm = json_object_get(p, "vm_row"), *spec = json_object_get(vm, "spec"), *disks = json_array(), *d;
    size_t i;
    json_array_foreach(json_object_get(spec, "disks"), i, d) {
        const char *id = str(d, "disk");
        json_t *pd = NULL, *x;
        size_t k;
        json_array_foreach(json_object_get(p, "disks"), k, x) if (*id && !strcmp(str(x, "disk"), id))
            pd = x;
        const char *bus = *str(d, "bus") ? str(d, "bus") : "virtio";
        if (pd)
            json_array_append_new(disks, json_pack("{s:s, s:s, s:s, s:s, s:O, s:s, s:s, s:O, s:b, s:s}", "disk", id,
                                                   "volume", str(pd, "volume"), "alias", str(pd, "alias"),
                                                   "description", str(pd, "description"), "size",
                                                   json_object_get(pd, "size"), "format", str(pd, "format"), "bus",
                                                   bus, "bootable", json_object_get(pd, "bootable"), "readonly",
                                                   json_is_true(json_object_get(d, "readonly")), "storage_domain",
                                                   *str(p, "domain") ? str(p, "domain") : str(pd, "storage_domain")));
        else if (*str(d, "path"))
            json_array_append_new(disks, json_pack("{s:s, s:s, s:b, s:s, s:s}", "path", str(d, "path"), "bus", bus,
                                                   "readonly", json_is_true(json_object_get(d, "readonly")), "format",
                                                   str(d, "format"), "device", str(d, "device")));
    }
    json_t *m = json_pack("{s:s, s:s, s:s, s:O, s:O, s:O, s:b, s:o, s:o}", "id", str(vm, "id"), "name",
                          str(vm, "name"), "description", str(vm, "description"), "memory_mib",
                          json_object_get(vm, "memory_mib"), "vcpus", json_object_get(vm, "vcpus"), "created_at",
                          json_object_get(vm, "created_at"), "template", json_is_true(json_object_get(p, "template")),
                          "disks", disks, "nics",
                          ovf_nics(e, spec));
    if (json_is_object(json_object_get(spec, "boot")))
        json_object_set(m, "boot", json_object_get(spec, "boot"));
    json_array_foreach(disks, i, d) { /* a chain kept (collapse_snapshots false) */
        json_t *x;
        size_t k;
        json_array_foreach(json_object_get(p, "disks"), k, x)
            if (json_object_get(x, "chain") && !strcmp(str(x, "disk"), str(d, "disk")))
                json_object_set(d, "chain", json_object_get(x, "chain"));
    }
    if (json_array_size(json_object_get(p, "snapshots")))
        json_object_set_new(m, "snapshots", vr_export_ovf_snapshots(e, p));
    return m;
}

static void run_export(vr_engine *e, const char *job_id, const char *vm_id, const char *user)
{
    json_t *row = vr_db_query_one(e->db, "SELECT params_json FROM jobs WHERE id = ?", DB_ARGS(DB_TEXT(job_id)), NULL);
    json_t *p = json_object_get(row, "params"), *disks = json_object_get(p, "disks"), *d, *res = NULL;
    const char *sd = str(p, "domain");
    bool tmpl = json_is_true(json_object_get(p, "template"));
    vr_error err = {0};
    size_t i, n = json_array_size(disks);
    vr_job_update(e, job_id, "running", tmpl ? N_("copying the template's disks to the export domain")
                                             : N_("copying the VM's disks to the export domain"));
    json_t *spm = vr_volplan_spm(e, job_id, sd, &err);
    int rc = spm ? 0 : -1;
    /* An earlier export's OVF goes first (exclusive, or a rerun after a
     * restart): while volumes are replaced none names them. */
    if (rc == 0)
        rc = vr_agent_call_host(e, spm, "Ovf.remove", json_pack("{s:s, s:s, s:b}", "domain", sd, "vm", vm_id,
                                                                "template", tmpl), &res, &err);
    json_decref(res);
    res = NULL;
    json_array_foreach(rc == 0 ? disks : NULL, i, d)
        if (rc == 0)
            rc = vr_export_copy_disk(e, job_id, p, spm, sd, d, (int)(5 + 85 * i / n), (int)(5 + 85 * (i + 1) / n), &err);
    if (rc == VR_VOLPLAN_STOPPED || (rc < 0 && e->stopping && err.code == VR_ERR_UNAVAILABLE)) {
        json_decref(spm); /* the job stays running, the VM locked: the next start resumes it where it is */
        json_decref(row);
        return;
    }
    json_t *model = rc == 0 ? vr_export_ovf_model(e, p) : NULL;
    char *ovf = model ? vr_ovf_write(model, &err) : NULL;
    if (rc == 0 && !ovf)
        rc = -1;
    if (rc == 0) { /* last, atomically: an OVF on the domain names complete volumes */
        vr_job_update(e, job_id, "running", tmpl ? N_("writing the template's OVF on the export domain")
                                                 : N_("writing the VM's OVF on the export domain"));
        rc = vr_agent_call_host(e, spm, "Ovf.put", json_pack("{s:s, s:s, s:s, s:b}", "domain", sd, "vm", vm_id, "ovf",
                                                             ovf, "template", tmpl), &res, &err);
    }
    if (rc < 0 && json_object_size(json_object_get(p, "copies"))) /* a copy was asked: it may have left some */
        vr_export_clear_after_failure(e, job_id, sd, disks);
    vr_db_exec(e->db, tmpl ? "UPDATE templates SET status = 'ok' WHERE id = ? AND status = 'locked'"
                           : "UPDATE vms SET status = 'down' WHERE id = ? AND status = 'imagelocked'",
               DB_ARGS(DB_TEXT(vm_id)), NULL);
    char what[300];
    if (tmpl)
        vr_i18n_format(what, sizeof(what), "export of template '%s' to storage domain '%s'", str(p, "vm_name"),
                       str(p, "domain_name"));
    else
        vr_i18n_format(what, sizeof(what), "export of VM '%s' to storage domain '%s'", str(p, "vm_name"),
                       str(p, "domain_name"));
    vr_volplan_ended(e, job_id, user, tmpl ? "template" : "vm", vm_id, what, rc, &err);
    free(ovf);
    json_decref(model);
    json_decref(res);
    json_decref(spm);
    json_decref(row);
}

/* The domain named by id or name in body.storage_domain (a new reference). */
static json_t *domain_row(vr_engine *e, const char *ref, vr_error *err)
{
    json_t *sd = vr_db_query_one(e->db, "SELECT id, name, sd_type, status, coalesce(datacenter_id, '') AS datacenter_id"
                                 " FROM storage_domains WHERE id = ? OR name = ?",
                                 DB_ARGS(DB_TEXT(ref), DB_TEXT(ref)), err);
    if (!sd && !err->code)
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "no storage domain with id or name '%.64s'", ref);
    return sd;
}

json_t *vr_export_plan_disks(vr_engine *e, json_t *vm, bool store, vr_error *err)
{
    json_t *spec = json_object_get(vm, "spec"), *plan = json_array(), *d;
    size_t i;
    json_array_foreach(json_object_get(spec, "disks"), i, d) {
        if (!store && !err->code && !*str(d, "disk") && !json_is_true(json_object_get(d, "readonly")))
            vr_error_set(err, VR_ERR_CONFLICT, "VM '%s' has a writable disk given by path (%s): only disks on storage"
                         " domains are exported", str(vm, "name"), str(d, "path"));
        json_t *row = !err->code && *str(d, "disk") ?
            vr_db_query_one(e->db, "SELECT id, volume_id, alias, description, storage_domain_id AS storage_domain,"
                            " format, provisioned_size, bootable, shareable, status FROM disks WHERE id = ?",
                            DB_ARGS(DB_TEXT(str(d, "disk"))), err) : NULL;
        if (!row && *str(d, "disk") && !err->code)
            vr_error_set(err, VR_ERR_CONFLICT, "disk %s of VM '%s' is gone", str(d, "disk"), str(vm, "name"));
        else if (row && vr_disk_doubt_refuse(row, err) < 0)
            ; /* err says how to resolve it */
        else if (row && strcmp(str(row, "status"), "ok"))
            vr_error_set(err, VR_ERR_CONFLICT, "disk '%s' of VM '%s' is %s", str(row, "alias"), str(vm, "name"),
                         str(row, "status"));
        else if (row && !store && json_integer_value(json_object_get(row, "shareable")))
            vr_error_set(err, VR_ERR_CONFLICT, "disk '%s' of VM '%s' is shareable: shareable disks are not exported",
                         str(row, "alias"), str(vm, "name"));
        else if (row) /* the collapsed copy keeps the leaf's volume id: the OVF names image/volume */
            json_array_append_new(plan, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:O, s:b}", "disk",
                                                  str(row, "id"), "volume", str(row, "volume_id"), "src_volume",
                                                  str(row, "volume_id"), "storage_domain", str(row, "storage_domain"),
                                                  "alias", str(row, "alias"), "description", str(row, "description"),
                                                  "format", str(row, "format"), "size",
                                                  json_object_get(row, "provisioned_size"), "bootable",
                                                  json_integer_value(json_object_get(row, "bootable")) != 0));
        json_decref(row);
    }
    if (err->code) {
        json_decref(plan);
        return NULL;
    }
    return plan;
}

int vr_export_has_ovf(vr_engine *e, json_t *host, const char *sd, const char *id, bool template, vr_error *err)
{
    json_t *res = NULL;
    int rc = vr_agent_call_host(e, host, "Ovf.list", json_pack("{s:s, s:b}", "domain", sd, "template", template),
                                &res, err);
    json_t *v;
    size_t i;
    int found = 0;
    json_array_foreach(rc == 0 ? json_object_get(res, "vms") : NULL, i, v) found |= !strcmp(json_string_value(v), id);
    json_decref(res);
    return rc < 0 ? -1 : found;
}

/* The VM or template (tmpl) row to export: its data center, status and
 * definition (a new reference), or NULL with err. */
static json_t *object_row(vr_engine *e, bool tmpl, const char *id, vr_error *err)
{
    json_t *o = vr_db_query_one(e->db, tmpl ? "SELECT t.id AS id, t.name AS name, t.description AS description,"
                                " t.status AS status, t.memory_mib AS memory_mib, t.vcpus AS vcpus, t.spec_json,"
                                " t.created_at AS created_at, c.datacenter_id AS datacenter_id FROM templates t JOIN"
                                " clusters c ON c.id = t.cluster_id WHERE t.id = ?"
                                : "SELECT v.id AS id, v.name AS name, v.description AS description, v.status AS"
                                " status, v.memory_mib AS memory_mib, v.vcpus AS vcpus, v.spec_json, v.created_at AS"
                                " created_at, c.datacenter_id AS datacenter_id FROM vms v JOIN clusters c ON"
                                " c.id = v.cluster_id WHERE v.id = ?", DB_ARGS(DB_TEXT(id)), err);
    if (!o && !err->code && tmpl)
        vr_error_set(err, VR_ERR_CONFLICT, "the template belongs to no cluster (Blank): it is not exported");
    else if (!o && !err->code)
        vr_error_set(err, VR_ERR_NOT_FOUND, "the VM is gone");
    return o;
}

/* The export domain (by id or name) checked for object o, or NULL. */
static json_t *target_domain(vr_engine *e, bool tmpl, json_t *o, const char *ref, vr_error *err)
{
    json_t *sd = domain_row(e, ref, err);
    if (sd && strcmp(str(sd, "sd_type"), "export"))
        vr_error_set(err, VR_ERR_CONFLICT, "storage domain '%s' is a %s domain; VMs and templates are exported to an"
                     " export domain", str(sd, "name"), str(sd, "sd_type"));
    else if (sd && strcmp(str(sd, "datacenter_id"), str(o, "datacenter_id")))
        vr_error_set(err, VR_ERR_CONFLICT, "export domain '%s' is not attached to the data center of '%s'",
                     str(sd, "name"), str(o, "name"));
    else if (sd && strcmp(str(sd, "status"), "active"))
        vr_error_set(err, VR_ERR_CONFLICT, "export domain '%s' is %s; it must be active", str(sd, "name"),
                     str(sd, "status"));
    else if (sd && tmpl && strcmp(str(o, "status"), "ok"))
        vr_error_set(err, VR_ERR_CONFLICT, "template '%s' is %s; a template is exported while it is ok",
                     str(o, "name"), str(o, "status"));
    else if (sd && !tmpl && strcmp(str(o, "status"), "down"))
        vr_error_set(err, VR_ERR_CONFLICT, "VM '%s' is %s; a VM is exported while it is down", str(o, "name"),
                     str(o, "status"));
    if (err->code) {
        json_decref(sd);
        return NULL;
    }
    return sd;
}

/* The export job of a VM or (tmpl) a template: checked, the object locked
 * (imagelocked, locked) with the job in one transaction. */
static int export_submit(vr_engine *e, bool tmpl, const char *id, json_t *body, const char *user, char job_id[37],
                         vr_error *err)
{
    json_t *running = vr_db_query_one(e->db, "SELECT id FROM jobs WHERE object_type = ? AND object_id = ? AND"
                                      " action = 'export' AND status IN ('pending', 'running')",
                                      DB_ARGS(DB_TEXT(tmpl ? "template" : "vm"), DB_TEXT(id)), err);
    if (running || err->code) { /* asked again: the export under way */
        snprintf(job_id, 37, "%s", str(running, "id"));
        json_decref(running);
        return err->code ? -1 : 0;
    }
    bool keep = json_is_false(json_object_get(body, "collapse_snapshots"));
    json_t *o = object_row(e, tmpl, id, err), *plan = NULL, *host = NULL, *snaps = NULL;
    json_t *sd = o ? target_domain(e, tmpl, o, str(body, "storage_domain"), err) : NULL;
    if (sd)
        plan = vr_export_plan_disks(e, o, false, err);
    if (plan && keep && !tmpl)
        snaps = vr_export_chain_plan(e, o, plan, err);
    if (plan && !err->code && (host = vr_export_host(e, str(sd, "id"), err))) { /* any host: no SPM wait here */
        int had = vr_export_has_ovf(e, host, str(sd, "id"), id, tmpl, err);
        if (had > 0 && !json_is_true(json_object_get(body, "exclusive")))
            vr_error_set(err, VR_ERR_CONFLICT, "'%s' is already exported to '%s'; exclusive: true replaces that"
                         " export", str(o, "name"), str(sd, "name"));
    }
    int rc = err->code ? -1 : 0;
    bool began = false;
    vr_uuid_new(job_id);
    if (rc == 0 && vr_db_begin(e->db, err) < 0)
        rc = -1;
    began = rc == 0;
    if (rc == 0 && vr_db_exec(e->db, tmpl ? "UPDATE templates SET status = 'locked' WHERE id = ? AND status = 'ok'"
                                          : "UPDATE vms SET status = 'imagelocked' WHERE id = ? AND status = 'down'",
                              DB_ARGS(DB_TEXT(id)), err) != 1)
        rc = err->code ? -1 : vr_error_set(err, VR_ERR_CONFLICT, "'%s' changed meanwhile (busy)", str(o, "name"));
    if (rc == 0) {
        json_t *vrow = json_pack("{s:s, s:s, s:s, s:O, s:O, s:O, s:O}", "id", id, "name", str(o, "name"),
                                 "description", str(o, "description"), "memory_mib", json_object_get(o, "memory_mib"),
                                 "vcpus", json_object_get(o, "vcpus"), "created_at", json_object_get(o, "created_at"),
                                 "spec", json_object_get(o, "spec"));
        json_t *params = json_pack("{s:s, s:s, s:s, s:o, s:O, s:b}", "domain", str(sd, "id"), "domain_name",
                                   str(sd, "name"), "vm_name", str(o, "name"), "vm_row", vrow, "disks", plan,
                                   "template", tmpl);
        if (snaps)
            json_object_set(params, "snapshots", snaps);
        char desc[200];
        if (tmpl)
            vr_i18n_format(desc, sizeof(desc), "Export template '%s' to storage domain '%s'", str(o, "name"),
                           str(sd, "name"));
        else
            vr_i18n_format(desc, sizeof(desc), "Export VM '%s' to storage domain '%s'", str(o, "name"),
                           str(sd, "name"));
        rc = vr_storage_job_insert(e, job_id, "export", tmpl ? "template" : "vm", id, desc, params, user, err);
        json_decref(params);
    }
    if (rc == 0 && vr_db_commit(e->db, err) < 0)
        rc = -1;
    if (rc < 0 && began)
        vr_db_rollback(e->db);
    json_decref(host);
    json_decref(snaps);
    json_decref(plan);
    json_decref(sd);
    json_decref(o);
    if (rc == 0)
        vr_job_spawn(e, job_id, id, user, run_export);
    return rc;
}

int vr_vm_export_submit(vr_engine *e, json_t *vm, json_t *body, const char *user, char job_id[37], vr_error *err)
{
    return export_submit(e, false, str(vm, "id"), body, user, job_id, err);
}

int vr_template_export_submit(vr_engine *e, json_t *t, json_t *body, const char *user, char job_id[37], vr_error *err)
{
    if (!strcmp(str(t, "id"), VR_BLANK_TEMPLATE))
        return vr_error_set(err, VR_ERR_CONFLICT, "the Blank template is not exported (every engine has it)");
    return export_submit(e, true, str(t, "id"), body, user, job_id, err);
}

bool vr_export_vm_resume(vr_engine *e, json_t *job)
{
    const char *type = str(job, "object_type");
    if (strcmp(str(job, "action"), "export") || (strcmp(type, "vm") && strcmp(type, "template")))
        return false;
    VR_INFO("resuming job %s (export of %s %s)", str(job, "id"), type, str(job, "object_id"));
    vr_job_update(e, str(job, "id"), "pending", "resumed after an engine restart");
    vr_job_spawn(e, str(job, "id"), str(job, "object_id"), str(job, "user_name"), run_export);
    return true;
}
