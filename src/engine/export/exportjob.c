/* Export of a stopped VM or a template to an export domain (exportjob.h).
 * The job's params hold the whole plan (each disk's source volume) and
 * note each copy's progress (copies), so a run resumed after a restart
 * keeps what was copied and follows a copy under way: it removes the OVF
 * of an earlier export and the volumes of each image it has not begun
 * (an earlier export's), then copies, then writes the OVF last - an OVF
 * on the domain always describes complete volumes. A failed copy leaves
 * none of the images' volumes behind. */
#include "exportjob.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentcall.h"
#include "agentjob.h"
#include "diskjobs.h"
#include "i18n.h"
#include "jobs.h"
#include "log.h"
#include "ovf.h"
#include "sdjobs.h"
#include "store_spm.h"
#include "snapjob_util.h"
#include "store_templates.h"
#include "volplan.h"

#define str vr_sj_str

/* Remove every volume of image on domain (the SPM's Volume.list), layers
 * before the volumes under them (a volume with a child is not deleted):
 * an earlier export's chain goes top down, a round per level. */
static int clear_image(vr_engine *e, json_t *spm, const char *domain, const char *image, vr_error *err)
{
    json_t *res = NULL, *v, *w;
    size_t i, k;
    if (vr_agent_call_host(e, spm, "Volume.list", json_pack("{s:s}", "domain", domain), &res, err) < 0)
        return -1;
    json_t *left = json_array();
    json_array_foreach(json_object_get(res, "volumes"), i, v) if (!strcmp(str(v, "image"), image))
        json_array_append(left, v);
    int rc = 0;
    for (size_t round = 0; rc == 0 && json_array_size(left) && round <= 64; round++) {
        for (i = json_array_size(left); rc == 0 && i-- > 0;) {
            v = json_array_get(left, i);
            bool parent = false;
            json_array_foreach(left, k, w) parent |= !strcmp(str(w, "parent"), str(v, "volume"));
            if (parent)
                continue; /* its layers first */
            json_t *out = NULL;
            if (vr_agent_call_host(e, spm, "Volume.delete", vr_volplan_ref(domain, image, str(v, "volume")), &out,
                                   err) < 0 && err->code != VR_ERR_NOT_FOUND)
                rc = -1;
            json_decref(out);
            if (rc == 0) {
                memset(err, 0, sizeof(*err));
                json_array_remove(left, i);
            }
        }
    }
    if (rc == 0 && json_array_size(left))
        rc = vr_error_set(err, VR_ERR_CONFLICT, "the volumes of image %s on storage domain %s do not form chains"
                          " that can be removed", image, domain);
    json_decref(left);
    json_decref(res);
    return rc;
}

/* The copies a run asked for, noted in the job's params.copies under
 * "image/volume" ({asked, agent_job, agent_host, made}) before and after
 * each step, so a run resumed after an engine restart follows a copy under
 * way on the host that runs it instead of starting it a second time. */
static json_t *copy_note_of(json_t *p, const char *image, const char *volume)
{
    char key[80];
    snprintf(key, sizeof(key), "%s/%s", image, volume);
    return json_object_get(json_object_get(p, "copies"), key);
}

/* Note the members of note (stolen) on the copy of image/volume, in p and
 * in the job's stored params (one write). */
static void copy_note(vr_engine *e, const char *job_id, json_t *p, const char *image, const char *volume,
                      json_t *note)
{
    char key[80];
    snprintf(key, sizeof(key), "%s/%s", image, volume);
    json_t *stored = vr_volplan_job_params(e, job_id);
    json_t *targets[2] = {p, stored};
    for (int k = 0; k < 2; k++) {
        if (!json_is_object(json_object_get(targets[k], "copies")))
            json_object_set_new(targets[k], "copies", json_object());
        json_t *c = json_object_get(json_object_get(targets[k], "copies"), key);
        if (!c)
            json_object_set_new(json_object_get(targets[k], "copies"), key, c = json_object());
        json_object_update(c, note);
    }
    vr_job_params_store(e, job_id, stored);
    json_decref(stored);
    json_decref(note);
}

/* Wait for agent job agent_job on host: 0 done, -1 failed (err), 2 the
 * engine stops meanwhile (the job stays for the next start). */
static int copy_wait(vr_engine *e, const char *job_id, json_t *host, const char *agent_job, int lo, int hi,
                     vr_error *err)
{
    char detail[256];
    int rc = vr_agent_job_wait(e, job_id, host, agent_job, lo, hi, 24 * 3600, detail, sizeof(detail), err);
    if (rc == 1)
        return vr_error_set(err, VR_ERR_BAD_STATE, "cancelled");
    if (rc == 2) {
        vr_error_set(err, VR_ERR_UNAVAILABLE, "the engine is stopping");
        return VR_VOLPLAN_STOPPED;
    }
    return rc == 0 ? 0 : -1;
}

/* A copy an earlier run asked for without noting the agent's answer (the
 * engine stopped in between): 1 whole (LEGAL) on dst_sd, 0 to copy (not
 * there, or a cut copy's ILLEGAL leftover, removed here: an export's
 * volume is nobody else's), -1 (err); agent_job gets the SPM's copy into
 * it still running, to follow. */
static int copied_before(vr_engine *e, json_t *spm, const char *dst_sd, const char *image, const char *volume,
                         char agent_job[64], vr_error *err)
{
    json_t *info = NULL, *jobs = NULL, *j;
    size_t i;
    int rc = vr_agent_call_host(e, spm, "Volume.info", vr_volplan_ref(dst_sd, image, volume), &info, err);
    bool legal = rc == 0 && !strcmp(str(info, "legality"), "LEGAL");
    json_decref(info);
    if (rc < 0 && err->code == VR_ERR_NOT_FOUND) {
        vr_error_clear(err);
        return 0;
    }
    if (rc < 0 || legal)
        return legal ? 1 : -1;
    char name[64];
    snprintf(name, sizeof(name), "volume %s", volume); /* how the agent names a copy's job */
    if (vr_agent_call_host(e, spm, "Job.list", json_object(), &jobs, err) < 0)
        return -1;
    json_array_foreach(json_object_get(jobs, "jobs"), i, j)
        if (!strcmp(str(j, "kind"), "Volume.copy") && !strcmp(str(j, "vm_name"), name) &&
            !strcmp(str(j, "state"), "running"))
            snprintf(agent_job, 64, "%s", str(j, "id"));
    json_decref(jobs);
    if (*agent_job)
        return 0;
    info = NULL;
    rc = vr_agent_call_host(e, spm, "Volume.delete", vr_volplan_ref(dst_sd, image, volume), &info, err);
    json_decref(info);
    return rc < 0 ? -1 : 0;
}

/* Volume src_volume of disk d copied to dst_sd as volume (with a parent:
 * a layer over that volume, holding src's own layer); a copy an earlier
 * run made is kept, one it started is followed. 0, -1 (err) or
 * VR_VOLPLAN_STOPPED. */
static int copy_volume(vr_engine *e, const char *job_id, json_t *p, json_t *spm, const char *dst_sd, json_t *d,
                       const char *src_volume, const char *volume, const char *parent, int lo, int hi, vr_error *err)
{
    const char *image = str(d, "disk");
    json_t *n = copy_note_of(p, image, volume), *res = NULL;
    int rc;
    if (json_is_true(json_object_get(n, "made")))
        return 0;
    if (*str(n, "agent_job")) { /* under way when the engine stopped: followed where it runs */
        json_t *host = vr_store_host_brief(e->db, str(n, "agent_host"));
        rc = host ? copy_wait(e, job_id, host, str(n, "agent_job"), lo, hi, err)
                  : vr_error_set(err, VR_ERR_NOT_FOUND, "the host that made volume %s is gone", volume);
        json_decref(host);
    } else {
        char agent_job[64] = "";
        rc = json_is_true(json_object_get(n, "asked")) ?
            copied_before(e, spm, dst_sd, image, volume, agent_job, err) : 0;
        if (rc == 0 && !*agent_job) {
            copy_note(e, job_id, p, image, volume, json_pack("{s:b}", "asked", 1));
            json_t *a = json_pack("{s:o, s:o, s:s}", "src", vr_volplan_ref(str(d, "storage_domain"), image,
                                                                            src_volume),
                                  "dst", vr_volplan_ref(dst_sd, image, volume), "format",
                                  !strcmp(str(d, "format"), "raw") ? "raw" : "qcow2");
            if (*parent)
                json_object_set_new(a, "parent", json_string(parent));
            rc = vr_agent_call_host(e, spm, "Volume.copy", a, &res, err);
            snprintf(agent_job, sizeof(agent_job), "%s", str(res, "job"));
            json_decref(res);
        }
        if (rc == 0) {
            copy_note(e, job_id, p, image, volume, json_pack("{s:s, s:s}", "agent_job", agent_job, "agent_host",
                                                             str(spm, "id")));
            rc = copy_wait(e, job_id, spm, agent_job, lo, hi, err);
        } else if (rc == 1) {
            rc = 0;
        }
    }
    if (rc == 0)
        copy_note(e, job_id, p, image, volume, json_pack("{s:b}", "made", 1));
    return rc;
}

/* True when an earlier run of the job asked for a copy into image: its
 * volumes there are this export's, not an earlier one's to clear. */
static bool image_begun(json_t *p, const char *image)
{
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "%s/", image);
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(p, "copies"), key, v)
        if (!strncmp(key, prefix, strlen(prefix)) && json_is_true(json_object_get(v, "asked")))
            return true;
    return false;
}

/* Disk d's volumes on dst_sd: its chain volume by volume, base first
 * (the same ids and parents; the base collapsed, so a thin disk's
 * template stays behind), or the whole chain collapsed into one. */
static int copy_disk(vr_engine *e, const char *job_id, json_t *p, json_t *spm, const char *dst_sd, json_t *d, int lo,
                     int hi, vr_error *err)
{
    if (!image_begun(p, str(d, "disk")) && clear_image(e, spm, dst_sd, str(d, "disk"), err) < 0)
        return -1;
    json_t *chain = json_object_get(d, "chain"), *v;
    size_t i, n = json_array_size(chain);
    if (!n)
        return copy_volume(e, job_id, p, spm, dst_sd, d, str(d, "src_volume"), str(d, "volume"), "", lo, hi, err);
    json_array_foreach(chain, i, v) {
        int rc = copy_volume(e, job_id, p, spm, dst_sd, d, str(v, "volume"), str(v, "volume"), str(v, "parent"),
                             lo + (int)((size_t)(hi - lo) * i / n), lo + (int)((size_t)(hi - lo) * (i + 1) / n), err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* After a failed copy the images' volumes go from dst_sd: nothing half
 * made stays (the earlier export's OVF went first, so none is left naming
 * them). The SPM may be the host whose agent just restarted under the
 * copy (that is how it got cut): it is asked again for up to a minute
 * while it refuses (not SPM) or cannot be reached; what still fails stays
 * ILLEGAL for the leftover sweep. */
static void clear_after_failure(vr_engine *e, const char *job_id, const char *dst_sd, json_t *disks)
{
    json_t *d;
    size_t i;
    json_array_foreach(disks, i, d) {
        for (int tries = 0;; tries++) {
            vr_error err = {0};
            json_t *spm = vr_volplan_spm(e, job_id, dst_sd, &err);
            int rc = spm ? clear_image(e, spm, dst_sd, str(d, "disk"), &err) : -1;
            json_decref(spm);
            if (rc == 0)
                break;
            if ((err.code != VR_ERR_NOT_SPM && err.code != VR_ERR_IO) || tries >= 30 || e->stopping) {
                VR_WARN("job %s: the volumes of image %s on storage domain %s stay for the leftover sweep: %s",
                        job_id, str(d, "disk"), dst_sd, err.message);
                break;
            }
            sleep(2);
        }
    }
}

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
            rc = copy_disk(e, job_id, p, spm, sd, d, (int)(5 + 85 * i / n), (int)(5 + 85 * (i + 1) / n), &err);
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
        clear_after_failure(e, job_id, sd, disks);
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
