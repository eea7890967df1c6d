/* The live move of a running VM's disk (POST /api/disks/ID/move while its
 * VM is up; docs/storage.md "Moving the disk of a running VM"):
 *  1. the SPM makes the target volume: the disk's image and volume ids on
 *     the target domain, its format and size, empty;
 *  2. the VM's host mirrors the disk into it and pivots the VM onto it
 *     (VM.blockCopy, an agent job followed with progress, cancelable);
 *  3. one UPDATE names the target domain, then the SPM removes the
 *     source chain (diskmove.c, as the offline move).
 * Until the pivot the VM runs on the source: a failure or cancel there
 * stops the mirror and has the SPM remove the target. Whenever the answer
 * of step 2 is lost (engine or agent restart, host unreachable), the
 * host's record of its job (kept across agent restarts: "pivoted" is
 * written the moment libvirt confirms the pivot) and, while the VM runs,
 * the host itself say where the disk runs before anything is removed: a
 * VM already on the target goes on with step 3, never back. Only a
 * definite "not pivoted" removes the target, only a definite "pivoted"
 * the source; in doubt both stay, the disk is indoubt until a person
 * resolves it (diskresolve.c) and the job fails naming them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentcall.h"
#include "diskjob_util.h"
#include "diskjobs.h"
#include "diskmove.h"
#include "i18n.h"
#include "jobs.h"
#include "log.h"
#include "sdjobs.h"
#include "store_spm.h"
#include "store_storage.h"

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

/* The disk's volume on the target domain (a new reference). */
static json_t *target_ref(json_t *d, json_t *p)
{
    json_t *row = vr_disk_move_row_on(d, str(p, "to")), *r = vr_dj_vol_ref(row);
    json_decref(row);
    return r;
}

/* The VM's host, as the agent calls want it (a new reference). */
static json_t *vm_host(json_t *vm)
{
    return json_pack("{s:s, s:s, s:O, s:O}", "id", str(vm, "host_id"), "name", str(vm, "host"), "address",
                     json_object_get(vm, "address"), "port", json_object_get(vm, "port"));
}

/* Step 1: the target volume, made by the SPM like the source (its format,
 * size, allocation and description). Made already (a job run again): kept. */
static int make_target(vr_engine *e, const char *job_id, json_t *d, json_t *p, json_t *spm, vr_error *err)
{
    json_t *info = NULL, *res = NULL;
    if (vr_agent_call_host(e, spm, "Volume.info", vr_dj_vol_ref(d), &info, err) < 0)
        return -1;
    json_t *params = target_ref(d, p);
    json_object_set_new(params, "format", json_string(!strcmp(str(d, "format"), "cow") ? "qcow2" : "raw"));
    json_object_set_new(params, "preallocation",
                        json_string(json_is_true(json_object_get(d, "sparse")) ||
                                    json_integer_value(json_object_get(d, "sparse")) ? "sparse" : "preallocated"));
    json_object_set_new(params, "size", json_integer(json_integer_value(json_object_get(d, "provisioned_size"))));
    json_object_set_new(params, "description", json_string(str(info, "description")));
    json_decref(info);
    vr_job_update(e, job_id, "running", "making the disk's volume on the target domain on the SPM");
    vr_job_progress(e, job_id, 10);
    int rc = vr_agent_call_host(e, spm, "Volume.create", params, &res, err);
    json_decref(res);
    if (rc < 0 && err->code == VR_ERR_CONFLICT) { /* made by this job before a restart */
        vr_error_clear(err);
        rc = 0;
    }
    return rc;
}

/* Where the VM's disk runs after its mirror was stopped: "target",
 * "source", "gone" (the VM no longer runs there), or "" when the host
 * cannot tell (unreachable). */
static const char *where_now(vr_engine *e, json_t *host, json_t *vm, json_t *dst, char out[8])
{
    json_t *res = NULL;
    vr_error err = {0};
    *out = '\0';
    if (vr_agent_call_host(e, host, "VM.blockCopy",
                           json_pack("{s:s, s:s, s:O, s:b}", "uuid", str(vm, "id"), "target", str(vm, "target"),
                                     "dst", dst, "abort", 1), &res, &err) == 0)
        snprintf(out, 8, "%s", str(res, "on"));
    else if (err.code == VR_ERR_NO_VM)
        snprintf(out, 8, "gone");
    else
        VR_WARN("cannot learn where disk %s of VM %s runs: %s", str(vm, "target"), str(vm, "name"), err.message);
    json_decref(res);
    return out;
}

/* Record key=value in the job's params (read back by a run after an
 * engine restart). */
static void set_param(vr_engine *e, const char *job_id, const char *key, const char *value)
{
    json_t *p = vr_dj_params(e, job_id);
    json_object_set_new(p, key, json_string(value));
    vr_job_params_store(e, job_id, p);
    json_decref(p);
}

/* What the host's record of this move's VM.blockCopy job says: "target"
 * (pivoted, or the job succeeded), "source" (no copy asked, or refused;
 * or it ended, or stopped with its agent, without asking libvirt to
 * pivot), or "" in doubt (a pivot asked when the agent stopped; the
 * record or its host unknown; a copy asked whose answer naming its job
 * was lost: "copy_pending"). Works with the VM down: the agent keeps its
 * job records. */
static const char *job_says(vr_engine *e, const char *job_id, char out[8])
{
    json_t *p = vr_dj_params(e, job_id), *host = NULL, *j = NULL;
    vr_error err = {0};
    snprintf(out, 8, "%s", *str(p, "copy_pending") ? "" : "source");
    if (*str(p, "agent_job") && (host = vr_store_host_brief(e->db, str(p, "agent_host")))) {
        if (vr_agent_call_host(e, host, "Job.get", json_pack("{s:s}", "id", str(p, "agent_job")), &j, &err) < 0)
            *out = '\0';
        const char *o = str(j, "outcome"), *st = str(j, "state");
        if (!strcmp(o, "pivoted") || !strcmp(st, "succeeded"))
            snprintf(out, 8, "target");
        else if (*o || !strcmp(st, "running"))
            *out = '\0';
        VR_INFO("job %s: the host's copy job %s says: %s%s%s", job_id, str(p, "agent_job"), j ? st : err.message,
                *o ? ", " : "", o);
    } else if (*str(p, "agent_job")) {
        *out = '\0'; /* its host is gone */
    }
    json_decref(j);
    json_decref(host);
    json_decref(p);
    return out;
}

/* Neither side of the move can be known: both volumes stay, the disk row
 * names its source as the VM's stored definition does, and the disk is
 * indoubt with the target recorded: nothing starts from either copy until
 * a person resolves it (diskresolve.c; docs/storage.md "A live move in
 * doubt"). */
static int in_doubt(vr_engine *e, const char *job_id, json_t *d, json_t *p, vr_error *err)
{
    json_t *q = vr_dj_params(e, job_id);
    json_t *h = vr_store_host_brief(e->db, *str(q, "copy_pending") ? str(q, "copy_pending") : str(q, "agent_host"));
    vr_db_exec(e->db, "UPDATE disks SET status = 'indoubt', doubt_domain_id = ? WHERE id = ? AND status = 'locked'",
               DB_ARGS(DB_TEXT(str(p, "to")), DB_TEXT(str(d, "id"))), NULL);
    int rc = vr_error_set(err, VR_ERR_STORAGE, "the live move of disk '%s' is in doubt: host '%s' cannot say (its"
                          " record of the copy is gone, or it does not answer) whether the VM was pivoted onto the"
                          " target before it stopped; both copies stay, volume"
                          " %s of image %s on storage domain '%s' (the source, which the disk names) and on storage"
                          " domain '%s' (the target), and the disk is indoubt until resolved: POST"
                          " /api/disks/%s/resolve with the storage domain of the copy to keep (docs/storage.md, \"A"
                          " live move in doubt\")", str(p, "alias"), h ? str(h, "name") : "?", str(d, "volume_id"),
                          str(d, "id"), str(d, "sd_name"), str(p, "to_name"), str(d, "id"));
    json_decref(h);
    json_decref(q);
    VR_WARN("job %s: %s", job_id, err->message);
    return rc;
}

/* The move ended before the pivot: the SPM removes the target volume. */
static void remove_target(vr_engine *e, const char *job_id, json_t *d, json_t *dst, json_t **spm)
{
    vr_error err = {0};
    json_t *res = NULL;
    if (!*spm && !(*spm = vr_storage_wait_spm(e, job_id, str(d, "datacenter_id"), 60, &err))) {
        VR_WARN("job %s: the move's target volume stays on storage: %s", job_id, err.message);
        return;
    }
    vr_job_update(e, job_id, "running", "removing the disk's volume from the target domain on the SPM");
    if (vr_agent_call_host(e, *spm, "Volume.delete", json_incref(dst), &res, &err) < 0 && err.code != VR_ERR_NOT_FOUND)
        VR_WARN("job %s: the move's target volume stays on storage: %s", job_id, err.message);
    json_decref(res);
}

/* Steps 1 and 2: 0 once the VM runs on the target; else the VM is on the
 * source and the target is gone (1 cancelled, -1 failed). */
static int mirror_and_pivot(vr_engine *e, const char *job_id, json_t *d, json_t *p, json_t **spm, vr_error *err)
{
    json_t *vm = vr_dj_running_user(e, str(d, "id")), *dst = target_ref(d, p), *host = NULL, *still = NULL;
    int rc = -1;
    if (!vm) { /* stopped: pivoted before, or not */
        char said[8];
        if (!strcmp(job_says(e, job_id, said), "target")) {
            VR_INFO("job %s: disk '%s' was pivoted onto the target before its VM stopped", job_id, str(p, "alias"));
            rc = 0;
        } else if (*said) {
            vr_error_set(err, VR_ERR_BAD_STATE, "VM of disk '%s' is not running any more: the live move stopped;"
                         " move the disk again", str(p, "alias"));
            remove_target(e, job_id, d, dst, spm);
        } else {
            in_doubt(e, job_id, d, p, err);
        }
        json_decref(dst);
        return rc;
    }
    host = vm_host(vm);
    if (*str(p, "agent_job") && !strcmp(str(p, "agent_host"), str(vm, "host_id"))) {
        vr_job_update(e, job_id, "running", "following the disk's mirror again (engine restart)");
        rc = vr_dj_follow(e, job_id, host, str(p, "agent_job"), 20, 90, err);
    } else if ((*spm || (*spm = vr_storage_wait_spm(e, job_id, str(d, "datacenter_id"), 60, err))) &&
               make_target(e, job_id, d, p, *spm, err) == 0) {
        char step[300];
        vr_i18n_format(step, sizeof(step), "mirroring the disk to the target domain on host '%s' (VM '%s')",
                       str(vm, "host"), str(vm, "name"));
        vr_job_update(e, job_id, "running", step);
        vr_job_progress(e, job_id, 20);
        set_param(e, job_id, "copy_pending", str(vm, "host_id")); /* until its answer is known: job_says() */
        json_t *was = vr_dj_params(e, job_id);
        rc = vr_dj_call_spm(e, job_id, host, "VM.blockCopy",
                            json_pack("{s:s, s:s, s:O}", "uuid", str(vm, "id"), "target", str(vm, "target"), "dst",
                                      dst), 20, 90, err);
        json_t *now = vr_dj_params(e, job_id);
        if (rc == 0 || strcmp(str(now, "agent_job"), str(was, "agent_job")) ||
            (err->code != VR_ERR_IO && err->code != VR_ERR_UNAVAILABLE))
            set_param(e, job_id, "copy_pending", ""); /* its job recorded, or refused: known */
        json_decref(now);
        json_decref(was);
    }
    if (rc != 0 && !(err->code == VR_ERR_UNAVAILABLE && e->stopping)) {
        char on[8] = "", said[8];
        job_says(e, job_id, said);
        if ((still = vr_dj_running_user(e, str(d, "id"))) && !strcmp(where_now(e, host, vm, dst, on), "gone")) {
            json_decref(still); /* stopped since, the engine not told yet */
            still = NULL;
        }
        if (!strcmp(said, "target") || !strcmp(on, "target")) {
            VR_INFO("job %s: disk '%s' runs on the target domain (the copy's end was lost)", job_id, str(p, "alias"));
            vr_error_clear(err); /* pivoted; only its end was lost */
            rc = 0;
        } else if (still ? *on != '\0' : !strcmp(said, "source")) {
            remove_target(e, job_id, d, dst, spm); /* on the source: the target is no one's */
        } else if (!still) {
            in_doubt(e, job_id, d, p, err);
        } else {
            char why[sizeof(err->message)];
            snprintf(why, sizeof(why), "%s", err->message);
            vr_error_set(err, err->code ? err->code : VR_ERR_STORAGE, "host '%s' cannot say whether disk '%s' of VM"
                         " '%s' runs on the target domain; its volume there stays until it can: %s", str(vm, "host"),
                         str(p, "alias"), str(vm, "name"), why);
        }
    }
    json_decref(still);
    json_decref(host);
    json_decref(vm);
    json_decref(dst);
    return rc;
}

static int mirror_and_switch(vr_engine *e, const char *job_id, json_t *d, json_t *p, json_t **spm, vr_error *err)
{
    int rc = mirror_and_pivot(e, job_id, d, p, spm, err);
    return rc == 0 ? vr_disk_move_switch(e, job_id, str(d, "id"), p, spm, err) : rc;
}

void vr_disk_live_move_run(vr_engine *e, const char *job_id, const char *disk_id, const char *user)
{
    vr_disk_move_job(e, job_id, disk_id, user, mirror_and_switch);
}
