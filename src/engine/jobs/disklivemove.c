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
 * of step 2 is lost (engine or agent restart, host unreachable), the host
 * is asked where the disk runs before anything is removed: a VM already on
 * the target goes on with step 3, never back. */
#include <stdio.h>
#include <string.h>

#include "agentcall.h"
#include "diskjob_util.h"
#include "diskjobs.h"
#include "diskmove.h"
#include "i18n.h"
#include "log.h"
#include "sdjobs.h"
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
 * "source", or "" when the host cannot tell (unreachable). */
static const char *where_now(vr_engine *e, json_t *host, json_t *vm, json_t *dst, char out[8])
{
    json_t *res = NULL;
    vr_error err = {0};
    *out = '\0';
    if (vr_agent_call_host(e, host, "VM.blockCopy",
                           json_pack("{s:s, s:s, s:O, s:b}", "uuid", str(vm, "id"), "target", str(vm, "target"),
                                     "dst", dst, "abort", 1), &res, &err) == 0)
        snprintf(out, 8, "%s", str(res, "on"));
    else
        VR_WARN("cannot learn where disk %s of VM %s runs: %s", str(vm, "target"), str(vm, "name"), err.message);
    json_decref(res);
    return out;
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
    if (!vm) {
        vr_error_set(err, VR_ERR_BAD_STATE, "VM of disk '%s' is not running any more: the live move stopped; move"
                     " the disk again", str(p, "alias"));
        remove_target(e, job_id, d, dst, spm);
        json_decref(dst);
        return -1;
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
        rc = vr_dj_call_spm(e, job_id, host, "VM.blockCopy",
                            json_pack("{s:s, s:s, s:O}", "uuid", str(vm, "id"), "target", str(vm, "target"), "dst",
                                      dst), 20, 90, err);
    }
    if (rc != 0 && !(err->code == VR_ERR_UNAVAILABLE && e->stopping)) {
        char on[8];
        if (!strcmp(where_now(e, host, vm, dst, on), "target")) { /* pivoted; only its end was lost */
            VR_INFO("job %s: disk '%s' runs on the target domain (the copy's end was lost)", job_id, str(p, "alias"));
            vr_error_clear(err);
            rc = 0;
        } else if (*on || !(still = vr_dj_running_user(e, str(d, "id")))) {
            remove_target(e, job_id, d, dst, spm); /* on the source, or stopped: the target is no one's */
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
