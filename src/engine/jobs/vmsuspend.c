/* Suspend to disk (docs/storage.md "Memory volumes"): the running VM's
 * memory goes to a memory volume on a storage domain of its data center,
 * the VM is `suspended` (on no host) and its next start restores it on
 * whichever host the scheduler picks (vmstart.c).
 *
 * Order, and what a cut-off leaves:
 *   1. params.made, then the SPM makes an ILLEGAL memory volume;
 *   2. params.sent, then the VM's host saves into it (VM.save);
 *   3. the SPM seals it (LEGAL only over a complete libvirt save image);
 *   4. one UPDATE: suspended, no host, memory_json names the volume.
 * An engine restart before 2 removes the volume and the VM runs on; after
 * 2 the job asks the host until the save has settled: the VM gone means
 * step 3 (a complete image is sealed, an incomplete one removed and the VM
 * is down), the VM running with no libvirt job means the save did not
 * happen (the volume goes, the VM runs on). A half-written volume is never
 * believed. */
#include "vmsuspend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentcall.h"
#include "i18n.h"
#include "jobs.h"
#include "log.h"
#include "memvol.h"
#include "sdjobs.h"
#include "store_storage.h"

#define SETTLE_S 300 /* how long a cut-off save is waited for */

typedef struct susp {
    vr_engine *e;
    const char *job_id, *vm_id, *user;
    json_t *params; /* memory {domain, image, volume, datacenter}, memory_mib, prev, made, sent */
    json_t *vm;     /* name, host_id */
    json_t *host, *spm;
    vr_error err;
} susp;

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

static void save_params(susp *s)
{
    vr_job_params_store(s->e, s->job_id, s->params);
}

static json_t *mem_ref(susp *s)
{
    return vr_memvol_ref(json_object_get(s->params, "memory"));
}

static int need_spm(susp *s)
{
    if (!s->spm)
        s->spm = vr_storage_wait_spm(s->e, s->job_id, str(json_object_get(s->params, "memory"), "datacenter"), 60,
                                     &s->err);
    return s->spm ? 0 : -1;
}

/* Remove the memory volume (best effort: an ILLEGAL leftover is swept by
 * the SPM's leftover sweep, docs/storage.md "Leftovers"). */
static void drop_volume(susp *s)
{
    if (json_is_true(json_object_get(s->params, "made")) && need_spm(s) == 0)
        vr_memvol_drop(s->e, s->spm, json_object_get(s->params, "memory"), s->job_id);
}

/* The save did not happen: the VM runs on as it was. */
static void fail_back(susp *s, const char *why)
{
    drop_volume(s);
    vr_db_exec(s->e->db, "UPDATE vms SET status = ? WHERE id = ? AND status = 'savingstate'",
               DB_ARGS(DB_TEXT(*str(s->params, "prev") ? str(s->params, "prev") : "up"), DB_TEXT(s->vm_id)), NULL);
    vr_event(s->e, "error", s->user, "vm", s->vm_id, "suspend of VM '%s' failed: %s; it runs on", str(s->vm, "name"),
             why);
    vr_job_update(s->e, s->job_id, "failed", why);
}

/* The VM left its host: sealed, it is suspended; an incomplete image
 * means its memory is lost (the disks keep what the guest wrote). */
static void seal(susp *s)
{
    vr_job_update(s->e, s->job_id, "running", "sealing the memory volume on the SPM");
    int rc = -1;
    for (int tries = 0; tries < 10 && rc < 0; tries++) {
        vr_error_clear(&s->err);
        rc = need_spm(s) < 0 ? -1 : vr_memvol_seal(s->e, s->spm, json_object_get(s->params, "memory"), &s->err);
        if (rc < 0 && (s->err.code == VR_ERR_BAD_STATE || s->err.code == VR_ERR_NOT_FOUND))
            break; /* incomplete or gone: asking again will not help */
        if (rc < 0) {
            json_decref(s->spm);
            s->spm = NULL;
            sleep(2);
        }
    }
    char *mem = json_dumps(json_object_get(s->params, "memory"), JSON_COMPACT);
    if (rc == 0 && vr_db_exec(s->e->db, "UPDATE vms SET status = 'suspended', host_id = NULL, memory_json = ?"
                              " WHERE id = ? AND status = 'savingstate'", DB_ARGS(DB_TEXT(mem), DB_TEXT(s->vm_id)),
                              &s->err) == 1) {
        vr_event(s->e, "normal", s->user, "vm", s->vm_id, "VM '%s' suspended: its memory is saved in volume %s",
                 str(s->vm, "name"), str(json_object_get(s->params, "memory"), "volume"));
        vr_job_update(s->e, s->job_id, "finished", "");
    } else {
        char why[700];
        snprintf(why, sizeof(why), "the VM left its host but its memory could not be kept (%s); it is down",
                 s->err.code ? s->err.message : "the VM changed meanwhile");
        if (rc < 0 || !s->err.code) /* incomplete, or sealed for a VM that changed: nothing names it */
            drop_volume(s);
        vr_db_exec(s->e->db, "UPDATE vms SET status = 'down', host_id = NULL, stop_reason = 'unknown' WHERE id = ?"
                   " AND status = 'savingstate'", DB_ARGS(DB_TEXT(s->vm_id)), NULL);
        vr_event(s->e, "error", s->user, "vm", s->vm_id, "suspend of VM '%s': %s", str(s->vm, "name"), why);
        vr_job_update(s->e, s->job_id, "failed", why);
    }
    free(mem);
}

/* The save was asked and its answer lost (engine restart, agent gone):
 * ask the host until it settles. */
static void settle(susp *s)
{
    vr_job_update(s->e, s->job_id, "running", "waiting for the host's save to settle");
    for (int waited = 0; waited < SETTLE_S; waited += 2) {
        json_t *res = NULL;
        vr_error e = {0};
        int rc = s->host ? vr_agent_call_host(s->e, s->host, "VM.get", json_pack("{s:s}", "uuid", s->vm_id), &res, &e)
                         : -1;
        bool busy = json_is_true(json_object_get(res, "job_active"));
        /* shut off: libvirt ended the save's job and has not yet dropped
         * the transient domain; the memory is on the volume (seal checks) */
        bool off = rc == 0 && !strcmp(str(res, "state"), "shutoff");
        json_decref(res);
        if ((rc < 0 && e.code == VR_ERR_NO_VM) || off) {
            seal(s);
            return;
        }
        if (rc == 0 && !busy) {
            fail_back(s, "the host did not save the VM (interrupted)");
            return;
        }
        sleep(2);
    }
    vr_db_exec(s->e->db, "UPDATE vms SET status = 'unknown' WHERE id = ? AND status = 'savingstate'",
               DB_ARGS(DB_TEXT(s->vm_id)), NULL);
    vr_job_update(s->e, s->job_id, "failed", "the VM's host did not say how its save ended; the VM is unknown until"
                  " its host answers");
}

static void run_save(susp *s)
{
    json_t *res = NULL;
    if (!json_is_true(json_object_get(s->params, "made"))) {
        vr_job_update(s->e, s->job_id, "running", "creating the memory volume on the SPM");
        if (need_spm(s) < 0) {
            fail_back(s, s->err.message);
            return;
        }
        json_object_set_new(s->params, "made", json_true());
        save_params(s);
        if (vr_memvol_create(s->e, s->spm, json_object_get(s->params, "memory"),
                             json_integer_value(json_object_get(s->params, "memory_mib")), "memory of a suspended VM",
                             &s->err) < 0) {
            fail_back(s, s->err.message);
            return;
        }
    }
    vr_job_progress(s->e, s->job_id, 30);
    vr_job_update(s->e, s->job_id, "running", "saving the memory on the VM's host");
    json_object_set_new(s->params, "sent", json_true());
    save_params(s);
    int rc = vr_agent_call_host(s->e, s->host, "VM.save", json_pack("{s:s, s:o}", "uuid", s->vm_id, "memory",
                                                                      mem_ref(s)), &res, &s->err);
    json_decref(res);
    vr_job_progress(s->e, s->job_id, 80);
    if (rc == 0)
        seal(s);
    else if (s->err.code == VR_ERR_IO)
        settle(s);
    else
        fail_back(s, s->err.message);
}

static int load(susp *s, vr_engine *e, const char *job_id, const char *vm_id, const char *user)
{
    memset(s, 0, sizeof(*s));
    s->e = e, s->job_id = job_id, s->vm_id = vm_id, s->user = user;
    json_t *row = vr_db_query_one(e->db, "SELECT params_json FROM jobs WHERE id = ?", DB_ARGS(DB_TEXT(job_id)), NULL);
    s->params = json_incref(json_object_get(row, "params"));
    json_decref(row);
    s->vm = vr_db_query_one(e->db, "SELECT name, host_id FROM vms WHERE id = ?", DB_ARGS(DB_TEXT(vm_id)), NULL);
    if (s->vm && *str(s->vm, "host_id"))
        s->host = vr_db_query_one(e->db, "SELECT id, name, address, port FROM hosts WHERE id = ?",
                                  DB_ARGS(DB_TEXT(str(s->vm, "host_id"))), NULL);
    if (!s->params || !s->vm) {
        vr_job_update(e, job_id, "failed", s->vm ? N_("the job lost its parameters (a defect)") : N_("the VM is gone"));
        return -1;
    }
    return 0;
}

static void unload(susp *s)
{
    json_decref(s->params);
    json_decref(s->vm);
    json_decref(s->host);
    json_decref(s->spm);
}

static void job_thread(vr_engine *e, const char *job_id, const char *vm_id, const char *user)
{
    susp s;
    if (load(&s, e, job_id, vm_id, user) == 0) {
        if (!s.host)
            fail_back(&s, "the VM's host is gone");
        else
            run_save(&s);
    }
    unload(&s);
}

static void resume_thread(vr_engine *e, const char *job_id, const char *vm_id, const char *user)
{
    susp s;
    if (load(&s, e, job_id, vm_id, user) == 0) {
        if (json_is_true(json_object_get(s.params, "sent")))
            settle(&s);
        else
            fail_back(&s, "interrupted by an engine restart before the host was asked to save");
    }
    unload(&s);
}

/* A stopped suspended VM: its memory volume goes (asking twice is fine). */
static void discard_thread(vr_engine *e, const char *job_id, const char *vm_id, const char *user)
{
    susp s;
    if (load(&s, e, job_id, vm_id, user) == 0) {
        vr_job_update(e, job_id, "running", "removing the saved memory on the SPM");
        json_t *res = NULL;
        int rc = need_spm(&s);
        if (rc == 0 && vr_agent_call_host(e, s.spm, "Volume.delete", mem_ref(&s), &res, &s.err) < 0 &&
            s.err.code != VR_ERR_NOT_FOUND) /* (not vr_memvol_drop: the job says how it went) */
            rc = -1;
        json_decref(res);
        if (rc < 0)
            vr_event(e, "warning", user, "vm", vm_id, "the saved memory of VM '%s' (volume %s) is left on storage: %s",
                     str(s.vm, "name"), str(json_object_get(s.params, "memory"), "volume"), s.err.message);
        vr_job_update(e, job_id, rc < 0 ? "failed" : "finished", rc < 0 ? s.err.message : N_(""));
    }
    unload(&s);
}

bool vr_vm_suspend_resume(vr_engine *e, json_t *job)
{
    bool discard = !strcmp(str(job, "action"), "discard_memory");
    if (strcmp(str(job, "action"), "suspend") && !discard)
        return false;
    VR_INFO("resuming job %s (%s of VM %s)", str(job, "id"), str(job, "action"), str(job, "object_id"));
    vr_job_update(e, str(job, "id"), "running", "resumed after an engine restart");
    vr_job_spawn(e, str(job, "id"), str(job, "object_id"), str(job, "user_name"),
                 discard ? discard_thread : resume_thread);
    return true;
}

int vr_vm_discard_memory_submit(vr_engine *e, json_t *vm, const char *user, char job_id[37], vr_error *err)
{
    const char *id = str(vm, "id"), *name = str(vm, "name");
    char desc[160];
    vr_i18n_format(desc, sizeof(desc), "Stop suspended VM '%s' (its saved memory is removed)", name);
    vr_uuid_new(job_id);
    if (vr_db_begin(e->db, err) < 0)
        return -1;
    json_t *row = vr_db_query_one(e->db, "SELECT memory_json FROM vms WHERE id = ? AND status = 'suspended'",
                                  DB_ARGS(DB_TEXT(id)), err);
    json_t *p = json_pack("{s:O}", "memory", json_object_get(row, "memory") ?: json_null());
    int rc = row ? 0 : err->code ? -1 : vr_error_set(err, VR_ERR_CONFLICT, "VM '%s' is no longer suspended", name);
    if (rc == 0 && vr_db_exec(e->db, "UPDATE vms SET status = 'down', memory_json = NULL, stop_reason = 'user'"
                              " WHERE id = ? AND status = 'suspended'", DB_ARGS(DB_TEXT(id)), err) != 1)
        rc = err->code ? -1 : vr_error_set(err, VR_ERR_CONFLICT, "VM '%s' changed meanwhile", name);
    if (rc == 0)
        rc = vr_storage_job_insert(e, job_id, "discard_memory", "vm", id, desc, p, user, err);
    json_decref(p);
    json_decref(row);
    if (rc < 0 || vr_db_commit(e->db, err) < 0) {
        vr_db_rollback(e->db);
        return -1;
    }
    vr_event(e, "normal", user, "vm", id, "suspended VM '%s' stopped; its saved memory is discarded", name);
    vr_job_spawn(e, job_id, id, user, discard_thread);
    return 0;
}

/* Where the memory goes: the domain of the VM's first engine disk when it
 * is active, else the active data domain of its data center with the most
 * free space. */
static json_t *memory_domain(vr_engine *e, json_t *vm, vr_error *err)
{
    json_t *d;
    size_t i;
    json_array_foreach(json_object_get(json_object_get(vm, "spec"), "disks"), i, d) {
        if (!json_is_string(json_object_get(d, "disk")))
            continue;
        json_t *row = vr_storage_disk_get(e, str(d, "disk"), err);
        if (row && !strcmp(str(row, "sd_status"), "active"))
            return row;
        json_decref(row);
        if (err->code)
            return NULL;
    }
    json_t *row = vr_db_query_one(e->db, "SELECT s.id AS storage_domain, s.datacenter_id AS datacenter_id"
                                  " FROM storage_domains s JOIN clusters c ON c.datacenter_id = s.datacenter_id"
                                  " WHERE c.id = ? AND s.status = 'active' AND s.sd_type = 'data'"
                                  " ORDER BY s.free_bytes DESC LIMIT 1", DB_ARGS(DB_TEXT(str(vm, "cluster_id"))), err);
    if (!row && !err->code)
        vr_error_set(err, VR_ERR_CONFLICT, "VM '%s' cannot be suspended: its data center has no active data domain"
                     " to keep its memory on", str(vm, "name"));
    return row;
}

int vr_vm_suspend_submit(vr_engine *e, json_t *vm, const char *user, char job_id[37], vr_error *err)
{
    const char *id = str(vm, "id"), *name = str(vm, "name"), *st = str(vm, "status");
    if ((strcmp(st, "up") && strcmp(st, "paused")) || !*str(vm, "host_id"))
        return vr_error_set(err, VR_ERR_CONFLICT, "VM '%s' is %s; only a running or paused VM can be suspended", name,
                            st);
    json_t *row = vr_db_query_one(e->db, "SELECT spec_json, cluster_id, memory_mib, stateless FROM vms WHERE id = ?",
                                  DB_ARGS(DB_TEXT(id)), err);
    if (!row)
        return err->code ? -1 : vr_error_set(err, VR_ERR_NOT_FOUND, "VM '%s' is gone", name);
    if (json_integer_value(json_object_get(row, "stateless"))) { /* its next start throws its layers away */
        json_decref(row);
        return vr_error_set(err, VR_ERR_CONFLICT, "VM '%s' is stateless: its next start begins afresh, so it cannot"
                            " be suspended", name);
    }
    json_object_set(row, "name", json_object_get(vm, "name"));
    json_t *sd = memory_domain(e, row, err);
    if (!sd) {
        json_decref(row);
        return -1;
    }
    json_t *params = json_pack("{s:o, s:O, s:s}", "memory", vr_memvol_plan(str(sd, "storage_domain"),
                               str(sd, "datacenter_id")), "memory_mib", json_object_get(row, "memory_mib"), "prev", st);
    json_decref(sd);
    json_decref(row);
    char desc[160];
    vr_i18n_format(desc, sizeof(desc), "Suspend VM '%s'", name);
    vr_uuid_new(job_id);
    int rc = vr_db_begin(e->db, err);
    json_t *busy = rc < 0 ? NULL : vr_db_query_one(e->db, "SELECT id, action FROM jobs WHERE object_id = ? AND status"
                                                   " IN ('pending', 'running')", DB_ARGS(DB_TEXT(id)), err);
    if (busy)
        rc = vr_error_set(err, VR_ERR_CONFLICT, "VM '%s' is busy with job %s (%s); wait for it", name, str(busy, "id"),
                          str(busy, "action"));
    json_decref(busy);
    if (rc == 0 && !err->code &&
        vr_db_exec(e->db, "UPDATE vms SET status = 'savingstate' WHERE id = ? AND status = ? AND host_id = ?",
                   DB_ARGS(DB_TEXT(id), DB_TEXT(st), DB_TEXT(str(vm, "host_id"))), err) != 1)
        rc = err->code ? -1 : vr_error_set(err, VR_ERR_CONFLICT, "VM '%s' changed meanwhile", name);
    if (rc == 0 && err->code)
        rc = -1;
    return vr_storage_job_submit(e, rc, job_id, "suspend", "vm", id, desc, params, user, job_thread, err);
}
