/* Disk jobs: the disk row is locked when the request is accepted (in the
 * transaction that records the job), so a second change of the same disk
 * (a delete during a copy) is refused with 409; the job thread then asks
 * the SPM of the domain's data center (Volume.*), following the agent's
 * own job for long work (a preallocated create, a copy) with its progress
 * and cancel, and puts the disk back as it was when it fails. */
#include "diskjobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentcall.h"
#include "agentjob.h"
#include "diskjob_util.h"
#include "i18n.h"
#include "jobs.h"
#include "log.h"
#include "sdjobs.h"
#include "store_spm.h"
#include "store_storage.h"
#include "vm_spec.h"

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

static long long num(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_boolean(v) ? json_is_true(v) : json_integer_value(v);
}

json_t *vr_dj_params(vr_engine *e, const char *job_id)
{
    json_t *row = vr_db_query_one(e->db, "SELECT params_json FROM jobs WHERE id = ?", DB_ARGS(DB_TEXT(job_id)), NULL);
    json_t *p = json_incref(json_object_get(row, "params"));
    json_decref(row);
    return p ? p : json_object();
}

/* {domain, image, volume} of a disk row. */
json_t *vr_dj_vol_ref(json_t *d)
{
    return json_pack("{s:s, s:s, s:s}", "domain", str(d, "storage_domain"), "image", str(d, "id"), "volume",
                     str(d, "volume_id"));
}

/* A domain that takes new volumes now: active, in a data center with an SPM. */
int vr_dj_domain_ready(vr_engine *e, json_t *sd, vr_error *err)
{
    const char *name = str(sd, "name");
    if (strcmp(str(sd, "status"), "active"))
        return vr_error_set(err, VR_ERR_BAD_STATE, "storage domain '%s' is %s; disks change on an active domain",
                            name, str(sd, "status"));
    json_t *spm = vr_storage_spm_host(e, str(sd, "datacenter_id"), err);
    if (!spm)
        return err->code ? -1 : vr_error_set(err, VR_ERR_BAD_STATE, "the data center of storage domain '%s' has no"
                                             " SPM yet", name);
    json_decref(spm);
    return 0;
}

/* Follow the agent's job: 0 when it succeeded, 1 cancelled, -1 failed
 * (err says why). Progress maps into lo..hi of the engine job. */
int vr_dj_follow(vr_engine *e, const char *job_id, json_t *host, const char *agent_job, int lo, int hi,
                  vr_error *err)
{
    char detail[512];
    int rc = vr_agent_job_wait(e, job_id, host, agent_job, lo, hi, 24 * 3600, detail, sizeof(detail), err);
    return rc == 2 ? vr_error_set(err, VR_ERR_UNAVAILABLE, "the engine is stopping") : rc;
}

/* The call's answer may be an agent job to follow (its id under "job"). */
int vr_dj_call_spm(vr_engine *e, const char *job_id, json_t *spm, const char *verb, json_t *params, int lo, int hi,
                    vr_error *err)
{
    json_t *res = NULL;
    int rc = vr_agent_call_host(e, spm, verb, params, &res, err);
    const char *agent_job = json_string_value(json_object_get(res, "job"));
    if (rc == 0 && agent_job) {
        json_t *p = vr_dj_params(e, job_id);
        json_object_set_new(p, "agent_job", json_string(agent_job));
        json_object_set_new(p, "agent_host", json_string(str(spm, "id")));
        vr_job_params_store(e, job_id, p);
        json_decref(p);
        rc = vr_dj_follow(e, job_id, spm, agent_job, lo, hi, err);
    }
    json_decref(res);
    return rc;
}

/* Read the volume's size on storage and legality into the disk row. */
void vr_dj_refresh(vr_engine *e, json_t *host, json_t *d, const char *status_if_legal)
{
    json_t *info = NULL;
    vr_error err = {0};
    if (vr_agent_call_host(e, host, "Volume.info", vr_dj_vol_ref(d), &info, &err) < 0) {
        vr_db_exec(e->db, "UPDATE disks SET status = ? WHERE id = ?", DB_ARGS(DB_TEXT(status_if_legal),
                                                                                DB_TEXT(str(d, "id"))), NULL);
        return;
    }
    bool legal = !strcmp(str(info, "legality"), "LEGAL");
    vr_db_exec(e->db, "UPDATE disks SET status = ?, actual_size = ? WHERE id = ?",
               DB_ARGS(DB_TEXT(legal ? status_if_legal : "illegal"),
                       DB_INT(json_integer_value(json_object_get(info, "actual_size"))), DB_TEXT(str(d, "id"))), NULL);
    json_decref(info);
}

json_t *vr_dj_start(vr_engine *e, const char *job_id, const char *disk_id, json_t **spm, vr_error *err)
{
    json_t *d = vr_storage_disk_get(e, disk_id, err);
    if (!d) {
        if (!err->code)
            vr_error_set(err, VR_ERR_NOT_FOUND, "the disk is gone");
        return NULL;
    }
    vr_job_update(e, job_id, "running", "finding the SPM");
    vr_job_progress(e, job_id, 5);
    *spm = vr_storage_wait_spm(e, job_id, str(d, "datacenter_id"), 60, err);
    return d;
}

void vr_dj_ended(vr_engine *e, const char *job_id, const char *user, const char *disk_id, const char *what,
                  int rc, vr_error *err)
{
    if (rc == 0) {
        vr_event(e, "normal", user, "disk", disk_id, "%s done", what);
        vr_job_update(e, job_id, "finished", "");
    } else if (rc == 1) {
        vr_event(e, "normal", user, "disk", disk_id, "%s cancelled", what);
        vr_job_update(e, job_id, "cancelled", "cancelled on the host");
    } else {
        vr_event(e, "error", user, "disk", disk_id, "%s failed: %s", what, err->message);
        vr_job_update(e, job_id, "failed", err->message);
    }
}

/* ---- create ---- */

static void run_create(vr_engine *e, const char *job_id, const char *disk_id, const char *user)
{
    vr_error err = {0};
    json_t *spm = NULL, *d = vr_dj_start(e, job_id, disk_id, &spm, &err);
    char what[200];
    vr_i18n_format(what, sizeof(what), "creation of disk '%s'", str(d, "alias"));
    int rc = -1;
    if (spm) {
        json_t *desc = json_pack("{s:s, s:s}", "alias", str(d, "alias"), "description", str(d, "description"));
        char *text = json_dumps(desc, JSON_COMPACT);
        if (text && strlen(text) > 200) { /* the volume metadata keeps 210 bytes of it */
            free(text);
            json_object_del(desc, "description");
            text = json_dumps(desc, JSON_COMPACT);
        }
        json_t *params = vr_dj_vol_ref(d);
        json_object_set_new(params, "format", json_string(!strcmp(str(d, "format"), "cow") ? "qcow2" : "raw"));
        json_object_set_new(params, "preallocation", json_string(num(d, "sparse") ? "sparse" : "preallocated"));
        json_object_set_new(params, "size", json_integer(num(d, "provisioned_size")));
        json_object_set_new(params, "description", json_string(text ? text : ""));
        free(text);
        json_decref(desc);
        vr_job_update(e, job_id, "running", "creating the volume on the SPM");
        vr_job_progress(e, job_id, 10);
        rc = vr_dj_call_spm(e, job_id, spm, "Volume.create", params, 10, 95, &err);
        json_t *info = NULL;
        vr_error ierr = {0};
        /* Made meanwhile by the same request cut off by an engine restart
         * (resume_create): whole if LEGAL. */
        if (rc < 0 && err.code == VR_ERR_CONFLICT &&
            vr_agent_call_host(e, spm, "Volume.info", vr_dj_vol_ref(d), &info, &ierr) == 0 &&
            !strcmp(str(info, "legality"), "LEGAL"))
            rc = 0;
        json_decref(info);
    }
    if (rc == 0)
        vr_dj_refresh(e, spm, d, "ok");
    else if (d) /* a volume may be half made: illegal, deletable */
        vr_db_exec(e->db, "UPDATE disks SET status = 'illegal' WHERE id = ?", DB_ARGS(DB_TEXT(disk_id)), NULL);
    vr_dj_ended(e, job_id, user, disk_id, what, rc, &err);
    json_decref(spm);
    json_decref(d);
}

/* A create cut off by an engine restart: the SPM may have made the volume
 * (LEGAL: done), be making it (ILLEGAL for a moment: waited for), or not
 * have started (made now). An ILLEGAL volume that stays so is a half-made
 * one: removed and made again. */
static void resume_create(vr_engine *e, const char *job_id, const char *disk_id, const char *user)
{
    vr_error err = {0};
    json_t *spm = NULL, *d = vr_dj_start(e, job_id, disk_id, &spm, &err), *info = NULL;
    const char *legality = "";
    for (int tries = 0; spm && tries < 10; tries++) {
        vr_error_clear(&err);
        json_decref(info);
        info = NULL;
        int rc = vr_agent_call_host(e, spm, "Volume.info", vr_dj_vol_ref(d), &info, &err);
        legality = rc == 0 ? str(info, "legality") : err.code == VR_ERR_NOT_FOUND ? "none" : "";
        if (!strcmp(legality, "LEGAL") || !strcmp(legality, "none") || !*legality)
            break;
        sleep(1);
    }
    if (spm && !strcmp(legality, "ILLEGAL")) {
        json_t *res = NULL;
        vr_error_clear(&err);
        vr_agent_call_host(e, spm, "Volume.delete", vr_dj_vol_ref(d), &res, &err);
        json_decref(res);
        legality = "none";
    }
    json_decref(info);
    char what[200];
    snprintf(what, sizeof(what), "creation of disk '%s'", str(d, "alias"));
    if (spm && !strcmp(legality, "LEGAL")) {
        vr_dj_refresh(e, spm, d, "ok");
        vr_dj_ended(e, job_id, user, disk_id, what, 0, &err);
    } else if (spm && !strcmp(legality, "none")) {
        run_create(e, job_id, disk_id, user);
    } else {
        if (d) /* its volume unknown: illegal, deletable */
            vr_db_exec(e->db, "UPDATE disks SET status = 'illegal' WHERE id = ?", DB_ARGS(DB_TEXT(disk_id)), NULL);
        if (!err.code)
            vr_error_set(&err, VR_ERR_UNAVAILABLE, "interrupted by an engine restart and the SPM cannot say");
        vr_dj_ended(e, job_id, user, disk_id, what, -1, &err);
    }
    json_decref(spm);
    json_decref(d);
}

int vr_disk_create_submit(vr_engine *e, const char *id, json_t *body, const char *user, char job_id[37],
                          vr_error *err)
{
    json_t *sd = vr_db_query_one(e->db, "SELECT id, name, status, datacenter_id, free_bytes, critical_space_gib"
                                 " FROM storage_domains WHERE id = ?", DB_ARGS(DB_TEXT(str(body, "storage_domain"))),
                                 err);
    if (!sd)
        return err->code ? -1 : vr_error_set(err, VR_ERR_INVALID_PARAMS, "no storage domain with id '%.64s'",
                                             str(body, "storage_domain"));
    int rc = vr_dj_domain_ready(e, sd, err);
    long long size = num(body, "provisioned_size"), free_b = num(sd, "free_bytes");
    long long crit = num(sd, "critical_space_gib") << 30;
    /* Preallocated disks take their space now; sparse ones grow later, so
     * they are refused only once the domain is already under its
     * critical free space. */
    bool prealloc = !json_is_true(json_object_get(body, "sparse"));
    if (rc == 0 && (prealloc ? free_b - size < crit : free_b < crit))
        rc = vr_error_set(err, VR_ERR_LIMIT, "storage domain '%s' has %lld bytes free; %s would leave it under its"
                          " critical space (%lld GiB)", str(sd, "name"), free_b,
                          prealloc ? "this preallocated disk" : "a new disk", num(sd, "critical_space_gib"));
    char desc[200];
    vr_i18n_format(desc, sizeof(desc), "Create disk '%s' on storage domain '%s'", str(body, "alias"), str(sd, "name"));
    json_decref(sd);
    if (rc < 0)
        return -1;
    vr_uuid_new(job_id);
    if (vr_db_begin(e->db, err) < 0)
        return -1;
    if (vr_store_disks.insert(e, id, body, err) < 0 ||
        vr_storage_job_insert(e, job_id, "create", "disk", id, desc, NULL, user, err) < 0) {
        vr_db_rollback(e->db);
        return -1;
    }
    if (vr_db_commit(e->db, err) < 0)
        return -1;
    vr_job_spawn(e, job_id, id, user, run_create);
    return 0;
}

/* ---- delete ---- */

/* The disk's whole chain (snapshots made layers under its leaf), leaf
 * first: each volume is removed only once nothing is built on it. A
 * volume already gone from storage ends the walk. With the disk's
 * wipe_after_delete each volume's data is zeroed on the SPM first (a
 * template's volume the chain is built on is only unlinked there). */
int vr_dj_delete_chain(vr_engine *e, const char *job_id, json_t *spm, json_t *d, vr_error *err)
{
    char vol[37];
    bool wipe = num(d, "wipe_after_delete") != 0;
    snprintf(vol, sizeof(vol), "%s", str(d, "volume_id"));
    for (int n = 0; n < 1000 && *vol && strcmp(vol, "00000000-0000-0000-0000-000000000000"); n++) {
        json_t *ref = vr_dj_vol_ref(d), *info = NULL, *res = NULL;
        json_object_set_new(ref, "volume", json_string(vol));
        if (wipe) {
            json_object_set_new(ref, "wipe", json_true());
            vr_job_update(e, job_id, "running", "wiping a volume of the disk with zeros on the SPM, then deleting it");
        }
        json_t *iref = json_deep_copy(ref);
        json_object_del(iref, "wipe");
        if (vr_agent_call_host(e, spm, "Volume.info", iref, &info, err) < 0) {
            json_decref(ref);
            if (err->code != VR_ERR_NOT_FOUND)
                return -1;
            vr_error_clear(err);
            return 0;
        }
        char parent[37];
        snprintf(parent, sizeof(parent), "%s", str(info, "parent"));
        json_decref(info);
        /* with wipe the SPM answers with its wipe job, followed here */
        int rc = wipe ? vr_dj_call_spm(e, job_id, spm, "Volume.delete", ref, 30, 95, err)
                      : vr_agent_call_host(e, spm, "Volume.delete", ref, &res, err);
        json_decref(res);
        if (rc < 0 && err->code != VR_ERR_NOT_FOUND)
            return -1;
        vr_error_clear(err);
        memcpy(vol, parent, sizeof(vol));
    }
    return 0;
}

static void run_delete(vr_engine *e, const char *job_id, const char *disk_id, const char *user)
{
    vr_error err = {0};
    json_t *p = vr_dj_params(e, job_id), *spm = NULL, *d = vr_dj_start(e, job_id, disk_id, &spm, &err), *res = NULL;
    char what[200];
    vr_i18n_format(what, sizeof(what), "deletion of disk '%s'", str(d, "alias"));
    int rc = -1;
    if (spm) {
        vr_job_update(e, job_id, "running", "deleting the volume on the SPM");
        vr_job_progress(e, job_id, 30);
        rc = vr_dj_delete_chain(e, job_id, spm, d, &err);
    }
    if (rc == 0)
        vr_db_exec(e->db, "DELETE FROM disks WHERE id = ?", DB_ARGS(DB_TEXT(disk_id)), NULL);
    else if (d)
        vr_db_exec(e->db, "UPDATE disks SET status = ? WHERE id = ? AND status = 'locked'",
                   DB_ARGS(DB_TEXT(*str(p, "was") ? str(p, "was") : "ok"), DB_TEXT(disk_id)), NULL);
    vr_dj_ended(e, job_id, user, disk_id, what, rc, &err);
    json_decref(res);
    json_decref(spm);
    json_decref(d);
    json_decref(p);
}

/* 409 while a job holds the disk (a delete during its copy). */
int vr_dj_not_locked(json_t *disk, vr_error *err)
{
    if (vr_disk_doubt_refuse(disk, err) < 0) /* no job but its resolution takes it */
        return -1;
    if (strcmp(str(disk, "status"), "locked"))
        return 0;
    return vr_error_set(err, VR_ERR_CONFLICT, "disk '%s' is locked by a job (see /api/jobs)", str(disk, "alias"));
}

/* The disk's domain takes changes now (active, with an SPM). */
static int domain_of(vr_engine *e, json_t *disk, vr_error *err)
{
    json_t *sd = vr_db_query_one(e->db, "SELECT id, name, status, datacenter_id FROM storage_domains WHERE id = ?",
                                 DB_ARGS(DB_TEXT(str(disk, "storage_domain"))), err);
    int rc = sd ? vr_dj_domain_ready(e, sd, err) : err->code ? -1 : vr_error_set(err, VR_ERR_NOT_FOUND, "its domain is gone");
    json_decref(sd);
    return rc;
}

/* Lock the disk for a job (in the caller's transaction): 409 while
 * another job holds it. */
static int lock_disk(vr_engine *e, json_t *disk, vr_error *err)
{
    int n = vr_db_exec(e->db, "UPDATE disks SET status = 'locked' WHERE id = ? AND status = ?",
                       DB_ARGS(DB_TEXT(str(disk, "id")), DB_TEXT(str(disk, "status"))), err);
    if (n == 1)
        return 0;
    return err->code ? -1 : vr_error_set(err, VR_ERR_CONFLICT, "disk '%s' changed meanwhile (locked by another job)",
                                         str(disk, "alias"));
}

int vr_dj_submit(vr_engine *e, json_t *disk, const char *action, const char *desc, json_t *params,
                  const char *user, char job_id[37], vr_job_fn fn, vr_error *err)
{
    if (strcmp(action, "resolve") && vr_dj_not_locked(disk, err) < 0) {
        json_decref(params);
        return -1;
    }
    json_object_set_new(params, "was", json_string(str(disk, "status")));
    vr_uuid_new(job_id);
    int rc = vr_db_begin(e->db, err);
    if (rc == 0 && (lock_disk(e, disk, err) < 0 ||
                    (!strcmp(action, "copy") && vr_store_disks.insert(e, str(params, "copy"), json_object_get(params,
                                                                      "copy_body"), err) < 0) ||
                    vr_storage_job_insert(e, job_id, action, "disk", str(disk, "id"), desc, params, user, err) < 0)) {
        vr_db_rollback(e->db);
        rc = -1;
    }
    json_decref(params);
    if (rc < 0 || vr_db_commit(e->db, err) < 0)
        return -1;
    vr_job_spawn(e, job_id, str(disk, "id"), user, fn);
    return 0;
}

int vr_disk_delete_submit(vr_engine *e, json_t *disk, const char *user, char job_id[37], vr_error *err)
{
    if (vr_dj_not_locked(disk, err) < 0)
        return -1;
    json_t *owner = vr_db_query_one(e->db, "SELECT t.name AS name FROM disks d JOIN templates t ON"
                                    " t.id = d.template_id WHERE d.id = ?", DB_ARGS(DB_TEXT(str(disk, "id"))), err);
    if (owner || err->code) {
        if (owner)
            vr_error_set(err, VR_ERR_CONFLICT, "disk '%s' belongs to template '%s'; remove the template instead",
                         str(disk, "alias"), str(owner, "name"));
        json_decref(owner);
        return -1;
    }
    json_t *users = vr_storage_disk_users(e, str(disk, "id"), err);
    if (!users)
        return -1;
    if (json_array_size(users)) {
        vr_error_set(err, VR_ERR_CONFLICT, "disk '%s' is used by VM '%s'; remove it from the VM first",
                     str(disk, "alias"), str(json_array_get(users, 0), "name"));
        json_decref(users);
        return -1;
    }
    json_decref(users);
    if (domain_of(e, disk, err) < 0)
        return -1;
    char desc[160];
    vr_i18n_format(desc, sizeof(desc), "Delete disk '%s'", str(disk, "alias"));
    return vr_dj_submit(e, disk, "delete", desc, json_object(), user, job_id, run_delete, err);
}

/* ---- extend ---- */

/* The disk's target in a VM's spec (as the VM's disk list names it). */
static void disk_target(json_t *spec, const char *disk_id, char *out, size_t len)
{
    json_t *disks = json_object_get(spec, "disks"), *keep = json_array(), *k;
    size_t n = json_array_size(disks);
    vr_disk d[VR_MAX_STORAGE];
    int rc = n <= VR_MAX_STORAGE ? 0 : -1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = vr_vm_disk_parse(json_array_get(disks, i), "disk", &d[i], &k, NULL);
        if (k)
            json_array_append_new(keep, k);
    }
    if (rc == 0 && vr_disks_assign_targets(d, (int)n, NULL) == 0)
        for (size_t i = 0; i < n; i++)
            if (!strcmp(str(json_array_get(disks, i), "disk"), disk_id))
                snprintf(out, len, "%s", d[i].target);
    json_decref(keep);
}

json_t *vr_dj_running_user(vr_engine *e, const char *disk_id)
{
    json_t *users = vr_storage_disk_users(e, disk_id, NULL), *vm, *out = NULL;
    size_t i;
    json_array_foreach(users, i, vm) {
        const char *st = str(vm, "status");
        if (!out && strcmp(st, "down") && json_string_value(json_object_get(vm, "host_id")))
            out = vr_db_query_one(e->db, "SELECT v.id AS id, v.name AS name, v.spec_json AS spec_json, h.id AS host_id, h.name AS host,"
                                  " h.address AS address, h.port AS port FROM vms v JOIN hosts h ON h.id = v.host_id"
                                  " WHERE v.id = ?", DB_ARGS(DB_TEXT(str(vm, "id"))), NULL);
    }
    json_decref(users);
    if (out) {
        char target[16] = "";
        disk_target(json_object_get(out, "spec"), disk_id, target, sizeof(target));
        json_object_set_new(out, "target", json_string(target));
        json_object_del(out, "spec");
    }
    return out;
}

static void run_extend(vr_engine *e, const char *job_id, const char *disk_id, const char *user)
{
    vr_error err = {0};
    json_t *p = vr_dj_params(e, job_id), *spm = NULL, *d = vr_dj_start(e, job_id, disk_id, &spm, &err), *res = NULL;
    long long size = num(p, "size");
    char what[200];
    vr_i18n_format(what, sizeof(what), "extension of disk '%s' to %lld bytes", str(d, "alias"), size);
    json_t *vm = d ? vr_dj_running_user(e, disk_id) : NULL;
    int rc = -1;
    if (vm) { /* the guest sees it grow: its host does it through QEMU */
        char step[200];
        vr_i18n_format(step, sizeof(step), "resizing it live on host '%s' (VM '%s')", str(vm, "host"), str(vm, "name"));
        vr_job_update(e, job_id, "running", step);
        json_t *h = json_pack("{s:s, s:O, s:O}", "name", str(vm, "host"), "address", json_object_get(vm, "address"),
                              "port", json_object_get(vm, "port"));
        rc = vr_agent_call_host(e, h, "VM.resizeDisk", json_pack("{s:s, s:s, s:I}", "uuid", str(vm, "id"), "target",
                                                                 str(vm, "target"), "size", (json_int_t)size), &res,
                                &err);
        json_decref(h);
    } else if (spm) {
        vr_job_update(e, job_id, "running", "extending the volume on the SPM");
        json_t *params = vr_dj_vol_ref(d);
        json_object_set_new(params, "size", json_integer(size));
        rc = vr_dj_call_spm(e, job_id, spm, "Volume.extend", params, 10, 95, &err);
    }
    if (rc == 0)
        vr_db_exec(e->db, "UPDATE disks SET provisioned_size = ? WHERE id = ?", DB_ARGS(DB_INT(size), DB_TEXT(disk_id)),
                   NULL);
    vr_db_exec(e->db, "UPDATE disks SET status = ? WHERE id = ? AND status = 'locked'",
               DB_ARGS(DB_TEXT(*str(p, "was") ? str(p, "was") : "ok"), DB_TEXT(disk_id)), NULL);
    if (rc == 0 && spm)
        vr_dj_refresh(e, spm, d, *str(p, "was") ? str(p, "was") : "ok");
    vr_dj_ended(e, job_id, user, disk_id, what, rc, &err);
    json_decref(res);
    json_decref(vm);
    json_decref(spm);
    json_decref(d);
    json_decref(p);
}

int vr_disk_extend_submit(vr_engine *e, json_t *disk, long long size, const char *user, char job_id[37],
                          vr_error *err)
{
    long long now = num(disk, "provisioned_size");
    if (vr_dj_not_locked(disk, err) < 0)
        return -1;
    if (size <= now)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "disk '%s' is %lld bytes: a disk only grows (shrinking loses"
                            " data)", str(disk, "alias"), now);
    if (domain_of(e, disk, err) < 0)
        return -1;
    char desc[200];
    vr_i18n_format(desc, sizeof(desc), "Extend disk '%s' to %lld bytes", str(disk, "alias"), size);
    return vr_dj_submit(e, disk, "extend", desc, json_pack("{s:I}", "size", (json_int_t)size), user, job_id, run_extend, err);
}

/* ---- VMs ---- */

json_t *vr_disk_for_vm(vr_engine *e, const char *disk_id, const char *vm_id, vr_error *err)
{
    json_t *d = vr_storage_disk_get(e, disk_id, err);
    if (!d) {
        if (!err->code)
            vr_error_set(err, VR_ERR_INVALID_PARAMS, "no disk with id '%.64s'", disk_id);
        return NULL;
    }
    json_t *users = vr_storage_disk_users(e, disk_id, err), *u;
    size_t i;
    int rc = users ? 0 : -1;
    json_t *tmpl = rc == 0 ? vr_db_query_one(e->db, "SELECT t.name AS name FROM disks d JOIN templates t ON"
                                             " t.id = d.template_id WHERE d.id = ?", DB_ARGS(DB_TEXT(disk_id)), err)
                           : NULL;
    if (tmpl || err->code)
        rc = tmpl ? vr_error_set(err, VR_ERR_CONFLICT, "disk '%s' belongs to template '%s': make a VM from the "
                                 "template instead", str(d, "alias"), str(tmpl, "name")) : -1;
    json_decref(tmpl);
    if (rc == 0 && vr_disk_doubt_refuse(d, err) < 0)
        rc = -1;
    else if (rc == 0 && strcmp(str(d, "status"), "ok"))
        rc = vr_error_set(err, VR_ERR_BAD_STATE, "disk '%s' is %s", str(d, "alias"), str(d, "status"));
    json_array_foreach(rc == 0 && !num(d, "shareable") ? users : NULL, i, u)
        if (strcmp(str(u, "id"), vm_id ? vm_id : "") && rc == 0)
            rc = vr_error_set(err, VR_ERR_CONFLICT, "disk '%s' is used by VM '%s' and is not shareable",
                              str(d, "alias"), str(u, "name"));
    json_decref(users);
    if (rc < 0) {
        json_decref(d);
        return NULL;
    }
    return d;
}

/* ---- restart ---- */

bool vr_disk_job_resume(vr_engine *e, json_t *job)
{
    const char *action = str(job, "action"), *id = str(job, "object_id");
    json_t *p = json_object_get(job, "params");
    const char *was = *str(p, "was") ? str(p, "was") : "ok";
    const char *why = "interrupted by an engine restart; the disk is back as it was";
    if (!strcmp(action, "create") || !strcmp(action, "delete")) {
        /* Settled through the SPM: a create finds or makes its volume, a
         * delete (each step may be asked twice) runs again. */
        VR_INFO("resuming job %s (%s of disk %s)", str(job, "id"), action, id);
        vr_job_update(e, str(job, "id"), "running", "resumed after an engine restart");
        vr_job_spawn(e, str(job, "id"), id, str(job, "user_name"), !strcmp(action, "create") ? resume_create
                                                                                             : run_delete);
        return true;
    } else {
        if (!strcmp(action, "move") || !strcmp(action, "resolve")) { /* each step may be asked twice */
            (!strcmp(action, "move") ? vr_disk_move_resume : vr_disk_resolve_resume)(e, job);
            return true;
        }
        if (!strcmp(action, "copy") && *str(p, "agent_job") && *str(p, "agent_host")) {
            /* the SPM's copy went on without us: learn how it ends */
            VR_INFO("resuming job %s (copy of disk %s)", str(job, "id"), id);
            vr_job_spawn(e, str(job, "id"), id, str(job, "user_name"), vr_disk_copy_resume);
            return true;
        }
        if (!strcmp(action, "copy"))
            vr_db_exec(e->db, "DELETE FROM disks WHERE id = ? AND status = 'locked'", DB_ARGS(DB_TEXT(str(p, "copy"))),
                       NULL);
        vr_db_exec(e->db, "UPDATE disks SET status = ? WHERE id = ? AND status = 'locked'",
                   DB_ARGS(DB_TEXT(was), DB_TEXT(id)), NULL);
    }
    VR_INFO("job %s (%s of disk %s) failed: engine restart", str(job, "id"), action, id);
    vr_job_update(e, str(job, "id"), "failed", why);
    return true;
}
