/* The disk move job (POST /api/disks/ID/move; docs/storage.md "Moving a
 * disk"): the SPM copies the disk's chain, collapsed into one volume with
 * the same image and volume ids, to the target domain (Volume.copy, an
 * agent job with progress, cancelable); one UPDATE then points the disk at
 * the target; last the source chain is removed through the SPM (wiped
 * first when the disk has wipe_after_delete). Until the UPDATE the source
 * is the disk and a failure or cancel removes only the partial target;
 * after it, a failure leaves only source volumes no disk names, which the
 * job (run again after an engine restart) or the leftover sweep removes. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agentcall.h"
#include "diskjob_util.h"
#include "diskjobs.h"
#include "diskmove.h"
#include "i18n.h"
#include "log.h"
#include "sdjobs.h"
#include "store_spm.h"
#include "store_storage.h"

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

json_t *vr_disk_move_row_on(json_t *d, const char *domain)
{
    json_t *row = json_deep_copy(d);
    json_object_set_new(row, "storage_domain", json_string(domain));
    return row;
}

/* After the switch: the source chain goes; then the disk is ok. */
static int remove_source(vr_engine *e, const char *job_id, json_t *d, json_t *p, json_t **spm, vr_error *err)
{
    json_t *src = vr_disk_move_row_on(d, str(p, "from"));
    int rc = -1;
    for (int tries = 0;; tries++) {
        if (!*spm && !(*spm = vr_storage_wait_spm(e, job_id, str(d, "datacenter_id"), 120, err)))
            break;
        if (tries == 0) {
            vr_job_update(e, job_id, "running", "removing the disk's volumes from the source domain on the SPM");
            vr_job_progress(e, job_id, 95);
        }
        rc = vr_dj_delete_chain(e, job_id, *spm, src, err);
        /* The role may have moved since the move began (the SPM's agent
         * restarted, and the storage thread elected another): ask the SPM
         * of now, as the copy jobs do. */
        if (rc == 0 || (err->code != VR_ERR_NOT_SPM && err->code != VR_ERR_IO) || tries >= 30 || e->stopping)
            break;
        json_decref(*spm);
        *spm = NULL;
        vr_error_clear(err);
        sleep(2);
    }
    json_decref(src);
    if (rc < 0) {
        char why[sizeof(err->message)];
        snprintf(why, sizeof(why), "%s", err->message);
        vr_error_set(err, err->code, "the disk is on storage domain '%s' now, but its volumes on the source domain"
                     " could not be removed (move it again, or remove them there): %s", str(p, "to_name"), why);
    }
    if (rc == 0)
        vr_dj_refresh(e, *spm, d, "ok");
    return rc;
}

/* The copy is whole on the target: the disk is there now (one UPDATE, the
 * step a restarted job goes on from), then the source goes. */
int vr_disk_move_switch(vr_engine *e, const char *job_id, const char *disk_id, json_t *p, json_t **spm,
                             vr_error *err)
{
    if (vr_db_exec(e->db, "UPDATE disks SET storage_domain_id = ? WHERE id = ?",
                   DB_ARGS(DB_TEXT(str(p, "to")), DB_TEXT(disk_id)), err) < 0)
        return -1;
    json_t *d = vr_storage_disk_get(e, disk_id, err);
    int rc = d ? remove_source(e, job_id, d, p, spm, err) : -1;
    json_decref(d);
    return rc;
}

/* Whether the copy on the target is LEGAL (its end was lost); an ILLEGAL
 * one is removed through the SPM. */
static bool copy_whole(vr_engine *e, const char *job_id, json_t *d, json_t *p, json_t **spm)
{
    vr_error err = {0};
    json_t *now = vr_storage_wait_spm(e, job_id, str(d, "datacenter_id"), 60, &err), *info = NULL, *res = NULL;
    if (!now)
        return false;
    json_decref(*spm);
    *spm = now;
    json_t *dst = vr_disk_move_row_on(d, str(p, "to"));
    bool legal = false;
    if (vr_agent_call_host(e, now, "Volume.info", vr_dj_vol_ref(dst), &info, &err) == 0) {
        legal = !strcmp(str(info, "legality"), "LEGAL");
        if (!legal && vr_agent_call_host(e, now, "Volume.delete", vr_dj_vol_ref(dst), &res, &err) < 0)
            VR_WARN("job %s: the move's ILLEGAL volume stays for the leftover sweep: %s", job_id, err.message);
    }
    json_decref(info);
    json_decref(res);
    json_decref(dst);
    return legal;
}

static void move_end(vr_engine *e, const char *job_id, const char *disk_id, const char *user, json_t *p, json_t *spm,
                     int rc, vr_error *err)
{
    char what[200];
    vr_i18n_format(what, sizeof(what), "move of disk '%s' to storage domain '%s'", str(p, "alias"), str(p, "to_name"));
    if (rc < 0 && err->code == VR_ERR_UNAVAILABLE && e->stopping) {
        json_decref(spm); /* the next start runs the job again */
        return;
    }
    vr_db_exec(e->db, "UPDATE disks SET status = ? WHERE id = ? AND status = 'locked'",
               DB_ARGS(DB_TEXT(rc == 0 ? "ok" : *str(p, "was") ? str(p, "was") : "ok"), DB_TEXT(disk_id)), NULL);
    vr_dj_ended(e, job_id, user, disk_id, what, rc, err);
    json_decref(spm);
}

/* Copy (or follow the copy already started), then switch and remove. */
static int copy_and_switch(vr_engine *e, const char *job_id, json_t *d, json_t *p, json_t **spm, vr_error *err)
{
    int rc = -1;
    json_t *host = *str(p, "agent_job") ? vr_store_host_brief(e->db, str(p, "agent_host")) : NULL;
    if (host) { /* an engine restart: the SPM's copy went on */
        vr_job_update(e, job_id, "running", "following the disk's copy again (engine restart)");
        rc = vr_dj_follow(e, job_id, host, str(p, "agent_job"), 10, 90, err);
        *spm = host;
    } else if ((*spm = vr_storage_wait_spm(e, job_id, str(d, "datacenter_id"), 60, err))) {
        vr_job_update(e, job_id, "running", "copying the disk to the target domain on the SPM");
        vr_job_progress(e, job_id, 10);
        json_t *dst = vr_disk_move_row_on(d, str(p, "to"));
        rc = vr_dj_call_spm(e, job_id, *spm, "Volume.copy",
                            json_pack("{s:o, s:o, s:s}", "src", vr_dj_vol_ref(d), "dst", vr_dj_vol_ref(dst),
                                      "format", !strcmp(str(d, "format"), "cow") ? "qcow2" : "raw"),
                            10, 90, err);
        json_decref(dst);
    }
    /* an end lost (agent restarted, host unreachable): storage tells */
    json_t *p2 = vr_dj_params(e, job_id);
    bool started = *str(p2, "agent_job") != '\0';
    json_decref(p2);
    if (rc < 0 && started && !(err->code == VR_ERR_UNAVAILABLE && e->stopping) && copy_whole(e, job_id, d, p, spm)) {
        rc = 0;
        vr_error_clear(err);
    }
    return rc == 0 ? vr_disk_move_switch(e, job_id, str(d, "id"), p, spm, err) : rc;
}

void vr_disk_move_job(vr_engine *e, const char *job_id, const char *disk_id, const char *user, vr_disk_move_step step)
{
    vr_error err = {0};
    json_t *p = vr_dj_params(e, job_id), *spm = NULL, *d = vr_storage_disk_get(e, disk_id, &err);
    int rc = -1;
    if (!d) {
        if (!err.code)
            vr_error_set(&err, VR_ERR_NOT_FOUND, "the disk is gone");
    } else if (!strcmp(str(d, "storage_domain"), str(p, "to"))) {
        rc = remove_source(e, job_id, d, p, &spm, &err); /* switched before a restart */
    } else {
        rc = step(e, job_id, d, p, &spm, &err);
    }
    move_end(e, job_id, disk_id, user, p, spm, rc, &err);
    json_decref(d);
    json_decref(p);
}

static void run_move(vr_engine *e, const char *job_id, const char *disk_id, const char *user)
{
    vr_disk_move_job(e, job_id, disk_id, user, copy_and_switch);
}

int vr_disk_move_submit(vr_engine *e, json_t *disk, const char *dst_sd, const char *user, char job_id[37],
                        vr_error *err)
{
    if (vr_dj_not_locked(disk, err) < 0)
        return -1;
    const char *alias = str(disk, "alias"), *id = str(disk, "id");
    json_t *src = vr_storage_disk_get(e, id, err), *users = NULL;
    json_t *sd = vr_db_query_one(e->db, "SELECT id, name, status, datacenter_id, sd_type FROM storage_domains"
                                 " WHERE id = ?", DB_ARGS(DB_TEXT(dst_sd)), err);
    json_t *held = vr_db_query_one(e->db, "SELECT (SELECT count(*) FROM snapshots WHERE volumes_json LIKE ?) AS snaps,"
                                   " (SELECT template_id FROM disks WHERE id = ?) AS template",
                                   DB_ARGS(DB_TEXT(id), DB_TEXT(id)), err);
    int rc = 0;
    if (!src || !sd || !held)
        rc = err->code ? -1 : vr_error_set(err, VR_ERR_INVALID_PARAMS, "no storage domain with id '%.64s'", dst_sd);
    else if (!strcmp(str(src, "storage_domain"), dst_sd))
        rc = vr_error_set(err, VR_ERR_INVALID_PARAMS, "disk '%s' is already on storage domain '%s'", alias,
                          str(sd, "name"));
    else if (strcmp(str(sd, "sd_type"), "data"))
        rc = vr_error_set(err, VR_ERR_INVALID_PARAMS, "storage domain '%s' is not a data domain", str(sd, "name"));
    else if (!json_is_null(json_object_get(held, "template")) && json_object_get(held, "template"))
        rc = vr_error_set(err, VR_ERR_CONFLICT, "disk '%s' belongs to a template; template disks do not move", alias);
    else if (json_integer_value(json_object_get(held, "snaps")))
        rc = vr_error_set(err, VR_ERR_CONFLICT, "disk '%s' is in %lld snapshot(s): the move collapses its chain,"
                          " which would lose them; remove the snapshots first", alias,
                          json_integer_value(json_object_get(held, "snaps")));
    else if (!(users = vr_storage_disk_users(e, id, err)))
        rc = -1;
    size_t i;
    json_t *u;
    const char *live = NULL; /* the running VM whose disk moves live (disklivemove.c) */
    json_array_foreach(users, i, u) if (rc == 0 && strcmp(str(u, "status"), "down")) {
        if (strcmp(str(u, "status"), "up"))
            rc = vr_error_set(err, VR_ERR_CONFLICT, "disk '%s' is used by VM '%s', which is %s: a disk moves while"
                              " its VM is down or up", alias, str(u, "name"), str(u, "status"));
        else if (live)
            rc = vr_error_set(err, VR_ERR_CONFLICT, "disk '%s' is used by running VMs '%s' and '%s': a shared disk"
                              " moves live only with one VM running", alias, live, str(u, "name"));
        else
            live = str(u, "name");
    }
    if (rc == 0 && vr_dj_domain_ready(e, sd, err) < 0)
        rc = -1;
    else if (rc == 0 && (strcmp(str(src, "datacenter_id"), str(sd, "datacenter_id")) ||
                         strcmp(str(src, "sd_status"), "active")))
        rc = vr_error_set(err, VR_ERR_BAD_STATE, "disk '%s' moves between active domains of one data center (its SPM"
                          " does the copy)", alias);
    char desc[300];
    vr_i18n_format(desc, sizeof(desc), "Move disk '%s' to storage domain '%s'", alias, str(sd, "name"));
    json_t *params = json_pack("{s:s, s:s, s:s, s:s}", "from", str(src, "storage_domain"), "to", dst_sd, "to_name",
                               str(sd, "name"), "alias", alias);
    if (live)
        json_object_set_new(params, "live", json_true());
    json_decref(users);
    json_decref(held);
    json_decref(sd);
    json_decref(src);
    if (rc < 0) {
        json_decref(params);
        return -1;
    }
    bool is_live = json_is_true(json_object_get(params, "live"));
    return vr_dj_submit(e, disk, "move", desc, params, user, job_id, is_live ? vr_disk_live_move_run : run_move, err);
}

void vr_disk_move_resume(vr_engine *e, json_t *job)
{
    VR_INFO("resuming job %s (move of disk %s)", str(job, "id"), str(job, "object_id"));
    vr_job_update(e, str(job, "id"), "running", "resumed after an engine restart");
    bool live = json_is_true(json_object_get(json_object_get(job, "params"), "live"));
    vr_job_spawn(e, str(job, "id"), str(job, "object_id"), str(job, "user_name"), live ? vr_disk_live_move_run : run_move);
}
