/* The disk copy job (POST /api/disks/ID/copy; docs/storage.md "Copies cut
 * off, cancelled or lost"): the SPM's Volume.copy agent job, followed to
 * its end; a copy whose end was lost is settled from what is on storage,
 * and an engine restart follows the agent's job again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentcall.h"
#include "diskjob_util.h"
#include "diskjobs.h"
#include "i18n.h"
#include "log.h"
#include "sdjobs.h"
#include "store_spm.h"
#include "store_storage.h"

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}


/* A copy whose agent job did not succeed: the agent removes its partial
 * volume itself when the copy fails or is cancelled, but not when the
 * agent stopped under it (the job is then `interrupted`) or the engine
 * lost the job. Ask the data center's SPM (a new one, if the role moved
 * meanwhile; *spm is replaced) what is on storage: a LEGAL volume is a
 * whole copy whose end was lost (0: done); an ILLEGAL one is removed
 * through the SPM now, or left for the leftover sweep when that fails
 * (-1). */
static int settle_copy(vr_engine *e, const char *job_id, json_t *d, json_t *dst, json_t **spm)
{
    vr_job_update(e, job_id, "running", "checking the copy's volume on storage");
    const char *vol = str(dst, "volume_id");
    for (int tries = 0;; tries++) {
        vr_error err = {0};
        json_t *now = vr_storage_wait_spm(e, job_id, str(d, "datacenter_id"), 60, &err);
        if (!now) {
            VR_WARN("job %s: the copy's volume %s stays for the leftover sweep: %s", job_id, vol, err.message);
            return -1;
        }
        json_decref(*spm);
        *spm = now;
        json_t *info = NULL, *res = NULL;
        int rc = vr_agent_call_host(e, now, "Volume.info", vr_dj_vol_ref(dst), &info, &err);
        if (rc == 0) {
            bool legal = !strcmp(str(info, "legality"), "LEGAL");
            json_decref(info);
            if (legal)
                return 0;
            rc = vr_agent_call_host(e, now, "Volume.delete", vr_dj_vol_ref(dst), &res, &err);
            json_decref(res);
        }
        if (rc == 0 || err.code == VR_ERR_NOT_FOUND) {
            VR_INFO("job %s: the copy's ILLEGAL volume %s is gone", job_id, vol);
            return -1;
        }
        /* The role may be moving (the agent that ran the copy restarted and
         * the storage thread has not seen it yet): ask the SPM again. */
        if ((err.code != VR_ERR_NOT_SPM && err.code != VR_ERR_IO) || tries >= 30 || e->stopping) {
            VR_WARN("job %s: the copy's ILLEGAL volume %s stays for the leftover sweep: %s", job_id, vol,
                    err.message);
            return -1;
        }
        sleep(2);
    }
}

/* The end of a copy job, once its agent job ended (rc: 0, 1 cancelled,
 * -1 failed with err) or could not start. Takes d, dst (NULL when the
 * copy's row is gone) and spm (may be NULL). */
static void copy_end(vr_engine *e, const char *job_id, const char *disk_id, const char *user, json_t *p, json_t *d,
                     json_t *dst, json_t *spm, int rc, vr_error *err)
{
    char what[200];
    vr_i18n_format(what, sizeof(what), "copy of disk '%s' to storage domain '%s'", str(d, "alias"), str(dst, "sd_name"));
    if (rc < 0 && err->code == VR_ERR_UNAVAILABLE && e->stopping) {
        /* the engine stops: the job stays running, and the next start
         * follows the agent's copy again (vr_disk_job_resume) */
        json_decref(dst);
        json_decref(spm);
        json_decref(d);
        return;
    }
    if (rc == 0 && !dst)
        rc = vr_error_set(err, VR_ERR_NOT_FOUND, "the copy's disk row is gone");
    json_t *p2 = vr_dj_params(e, job_id);
    bool started = *str(p2, "agent_job") != '\0';
    json_decref(p2);
    if (rc < 0 && dst && started && settle_copy(e, job_id, d, dst, &spm) == 0) {
        rc = 0; /* its end was lost, but the copy is whole on storage */
        vr_error_clear(err);
    }
    const char *copy_id = str(p, "copy");
    if (rc == 0) {
        vr_dj_refresh(e, spm, dst, "ok");
    } else { /* the partial copy is gone (or left for the sweep); the engine forgets it */
        vr_db_exec(e->db, "DELETE FROM disks WHERE id = ? AND status = 'locked'", DB_ARGS(DB_TEXT(copy_id)), NULL);
    }
    vr_db_exec(e->db, "UPDATE disks SET status = ? WHERE id = ? AND status = 'locked'",
               DB_ARGS(DB_TEXT(*str(p, "was") ? str(p, "was") : "ok"), DB_TEXT(disk_id)), NULL);
    vr_dj_ended(e, job_id, user, disk_id, what, rc, err);
    json_decref(dst);
    json_decref(spm);
    json_decref(d);
}

static void run_copy(vr_engine *e, const char *job_id, const char *disk_id, const char *user)
{
    vr_error err = {0};
    json_t *p = vr_dj_params(e, job_id), *spm = NULL, *d = vr_dj_start(e, job_id, disk_id, &spm, &err);
    json_t *dst = vr_storage_disk_get(e, str(p, "copy"), NULL);
    int rc = -1;
    if (spm && !dst)
        vr_error_set(&err, VR_ERR_NOT_FOUND, "the copy's disk row is gone");
    else if (spm) {
        vr_job_update(e, job_id, "running", "copying on the SPM");
        vr_job_progress(e, job_id, 10);
        rc = vr_dj_call_spm(e, job_id, spm, "Volume.copy",
                      json_pack("{s:o, s:o, s:s}", "src", vr_dj_vol_ref(d), "dst", vr_dj_vol_ref(dst), "format",
                                !strcmp(str(d, "format"), "cow") ? "qcow2" : "raw"), 10, 95, &err);
    }
    copy_end(e, job_id, disk_id, user, p, d, dst, spm, rc, &err);
    json_decref(p);
}

/* After an engine restart: follow the SPM agent's copy again (its record
 * says how it ended even if that agent restarted too). */
void vr_disk_copy_resume(vr_engine *e, const char *job_id, const char *disk_id, const char *user)
{
    vr_error err = {0};
    json_t *p = vr_dj_params(e, job_id);
    json_t *d = vr_storage_disk_get(e, disk_id, NULL), *dst = vr_storage_disk_get(e, str(p, "copy"), NULL);
    json_t *host = vr_store_host_brief(e->db, str(p, "agent_host"));
    int rc = -1;
    if (!d || !dst || !host) {
        vr_error_set(&err, VR_ERR_NOT_FOUND, "%s", !host ? "the host that ran the copy is gone"
                                                          : "a disk of the copy is gone");
    } else {
        char step[200];
        vr_i18n_format(step, sizeof(step), "following the copy on host '%s' again (engine restart)", str(host, "name"));
        vr_job_update(e, job_id, "running", step);
        rc = vr_dj_follow(e, job_id, host, str(p, "agent_job"), 10, 95, &err);
    }
    if (d) { /* (a copy row gone is forgotten; the source is put back) */
        copy_end(e, job_id, disk_id, user, p, d, dst, host, rc, &err);
    } else {
        vr_dj_ended(e, job_id, user, disk_id, "copy", -1, &err);
        json_decref(dst);
        json_decref(host);
    }
    json_decref(p);
}

int vr_disk_copy_submit(vr_engine *e, json_t *disk, const char *dst_sd, const char *user, char job_id[37],
                        vr_error *err)
{
    if (vr_dj_not_locked(disk, err) < 0)
        return -1;
    json_t *src = vr_storage_disk_get(e, str(disk, "id"), err);
    json_t *sd = vr_db_query_one(e->db, "SELECT id, name, status, datacenter_id FROM storage_domains WHERE id = ?",
                                 DB_ARGS(DB_TEXT(dst_sd)), err);
    int rc = 0;
    if (!src || !sd)
        rc = err->code ? -1 : vr_error_set(err, VR_ERR_INVALID_PARAMS, "no storage domain with id '%.64s'", dst_sd);
    else if (!strcmp(str(src, "storage_domain"), dst_sd))
        rc = vr_error_set(err, VR_ERR_INVALID_PARAMS, "disk '%s' is already on storage domain '%s'", str(src, "alias"),
                          str(sd, "name"));
    else if (vr_dj_domain_ready(e, sd, err) < 0)
        rc = -1;
    else if (strcmp(str(src, "datacenter_id"), str(sd, "datacenter_id")) || strcmp(str(src, "sd_status"), "active"))
        rc = vr_error_set(err, VR_ERR_BAD_STATE, "disk '%s' copies between active domains of one data center"
                          " (its SPM does the copy)", str(src, "alias"));
    char desc[200];
    vr_i18n_format(desc, sizeof(desc), "Copy disk '%s' to storage domain '%s'", str(disk, "alias"), str(sd, "name"));
    json_decref(sd);
    if (rc < 0) {
        json_decref(src);
        return -1;
    }
    char copy_id[37];
    vr_uuid_new(copy_id);
    json_t *body = json_deep_copy(disk);
    json_object_set_new(body, "storage_domain", json_string(dst_sd));
    json_decref(src);
    return vr_dj_submit(e, disk, "copy", desc, json_pack("{s:s, s:o}", "copy", copy_id, "copy_body", body), user, job_id,
                  run_copy, err);
}

