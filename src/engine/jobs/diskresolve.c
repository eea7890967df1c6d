/* A disk in doubt after a live move (status indoubt; docs/storage.md "A
 * live move in doubt"): two copies, one on the domain its row names, one
 * on doubt_domain_id, and nobody knows which the guest wrote last. Until a
 * person chooses, nothing may start from either or change them: every
 * start, hot plug, snapshot and disk job is refused here with the way out.
 * POST /api/disks/ID/resolve {storage_domain} is that choice, a job
 * through the SPM:
 *  1. the chosen copy is checked to be on storage (else nothing changes);
 *  2. one UPDATE names it (row and doubt domains swapped when it is the
 *     other one), the step a restarted job goes on from;
 *  3. the SPM removes the other copy's volume (wiped first with
 *     wipe_after_delete); then the disk is ok.
 * Every step may run twice, so an engine restart simply runs it again. A
 * failure leaves the disk indoubt with the pair recorded: resolving again
 * with the same domain finishes it. */
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

int vr_disk_doubt_refuse(json_t *disk, vr_error *err)
{
    if (strcmp(str(disk, "status"), "indoubt"))
        return 0;
    return vr_error_set(err, VR_ERR_CONFLICT, "disk '%s' is in doubt after a live move: which of its two copies the"
                        " guest wrote last is not known; resolve it first (POST /api/disks/%s/resolve with the storage"
                        " domain of the copy to keep; docs/storage.md, \"A live move in doubt\")", str(disk, "alias"),
                        str(disk, "id"));
}

int vr_vm_disks_doubt_refuse(vr_engine *e, json_t *spec, vr_error *err)
{
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(spec, "disks"), i, d) {
        const char *id = json_string_value(json_object_get(d, "disk"));
        json_t *row = id ? vr_db_query_one(e->db, "SELECT id, alias, status FROM disks WHERE id = ?",
                                           DB_ARGS(DB_TEXT(id)), err) : NULL;
        int rc = err->code ? -1 : vr_disk_doubt_refuse(row, err);
        json_decref(row);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* The end: ok (its size read again) or back in doubt; an engine stopping
 * leaves the job to run again at the next start. */
static void resolve_end(vr_engine *e, const char *job_id, const char *disk_id, const char *user, json_t *p,
                        json_t *spm, int rc, vr_error *err)
{
    if (rc < 0 && err->code == VR_ERR_UNAVAILABLE && e->stopping)
        return;
    if (rc == 0) {
        vr_db_exec(e->db, "UPDATE disks SET status = 'ok', doubt_domain_id = NULL WHERE id = ?",
                   DB_ARGS(DB_TEXT(disk_id)), NULL);
        json_t *d = vr_storage_disk_get(e, disk_id, NULL);
        if (d && spm)
            vr_dj_refresh(e, spm, d, "ok");
        json_decref(d);
    } else {
        vr_db_exec(e->db, "UPDATE disks SET status = 'indoubt' WHERE id = ? AND status = 'locked'",
                   DB_ARGS(DB_TEXT(disk_id)), NULL);
    }
    char what[200];
    vr_i18n_format(what, sizeof(what), "resolution of disk '%s' in doubt, keeping its copy on storage domain '%s'",
                   str(p, "alias"), str(p, "keep_name"));
    vr_dj_ended(e, job_id, user, disk_id, what, rc, err);
}

/* Steps 1-3 on the disk row d (locked), the SPM known. */
static int keep_one(vr_engine *e, const char *job_id, json_t *d, json_t *p, json_t *spm, vr_error *err)
{
    const char *keep = str(p, "keep"), *drop = str(p, "drop");
    json_t *kept = vr_disk_move_row_on(d, keep), *info = NULL;
    vr_job_update(e, job_id, "running", "checking the copy to keep on the SPM");
    vr_job_progress(e, job_id, 10);
    int rc = vr_agent_call_host(e, spm, "Volume.info", vr_dj_vol_ref(kept), &info, err);
    json_decref(info);
    json_decref(kept);
    if (rc < 0) {
        char why[sizeof(err->message)];
        snprintf(why, sizeof(why), "%s", err->message);
        return vr_error_set(err, err->code == VR_ERR_NOT_FOUND ? VR_ERR_STORAGE : err->code, "the copy of disk '%s'"
                            " on storage domain '%s' cannot be read, so the other one stays; nothing changed: %s",
                            str(p, "alias"), str(p, "keep_name"), why);
    }
    if (vr_db_exec(e->db, "UPDATE disks SET storage_domain_id = ?, doubt_domain_id = ? WHERE id = ?",
                   DB_ARGS(DB_TEXT(keep), DB_TEXT(drop), DB_TEXT(str(d, "id"))), err) < 0)
        return -1;
    vr_job_update(e, job_id, "running", "removing the other copy of the disk on the SPM");
    vr_job_progress(e, job_id, 30);
    json_t *other = vr_disk_move_row_on(d, drop);
    rc = vr_dj_delete_chain(e, job_id, spm, other, err);
    json_decref(other);
    if (rc < 0) {
        char why[sizeof(err->message)];
        snprintf(why, sizeof(why), "%s", err->message);
        vr_error_set(err, err->code, "disk '%s' keeps its copy on storage domain '%s', but the other one on '%s'"
                     " could not be removed (resolve again with the same domain): %s", str(p, "alias"),
                     str(p, "keep_name"), str(p, "drop_name"), why);
    }
    return rc;
}

static void run_resolve(vr_engine *e, const char *job_id, const char *disk_id, const char *user)
{
    vr_error err = {0};
    json_t *p = vr_dj_params(e, job_id), *spm = NULL, *d = vr_dj_start(e, job_id, disk_id, &spm, &err);
    int rc = spm ? keep_one(e, job_id, d, p, spm, &err) : -1;
    resolve_end(e, job_id, disk_id, user, p, spm, rc, &err);
    json_decref(spm);
    json_decref(d);
    json_decref(p);
}

int vr_disk_resolve_submit(vr_engine *e, json_t *disk, const char *keep, const char *user, char job_id[37],
                           vr_error *err)
{
    const char *alias = str(disk, "alias"), *id = str(disk, "id");
    if (strcmp(str(disk, "status"), "indoubt"))
        return vr_error_set(err, VR_ERR_CONFLICT, "disk '%s' is not in doubt (it is %s): there is nothing to resolve",
                            alias, str(disk, "status"));
    const char *row_sd = str(disk, "storage_domain"), *other = str(disk, "doubt_storage_domain");
    if (strcmp(keep, row_sd) && strcmp(keep, other))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "disk '%s' has no copy on storage domain '%.64s': keep the"
                            " one on its storage_domain (%s) or on its doubt_storage_domain (%s)", alias, keep, row_sd,
                            other);
    const char *drop = strcmp(keep, row_sd) ? row_sd : other;
    json_t *users = vr_storage_disk_users(e, id, err), *u;
    size_t i;
    int rc = users ? 0 : -1;
    json_array_foreach(users, i, u) if (rc == 0 && strcmp(str(u, "status"), "down"))
        rc = vr_error_set(err, VR_ERR_CONFLICT, "disk '%s' is used by VM '%s', which is %s: a disk in doubt is"
                          " resolved with its VMs down", alias, str(u, "name"), str(u, "status"));
    json_decref(users);
    json_t *sds[2] = {NULL, NULL};
    const char *ids[2] = {keep, drop};
    for (int k = 0; k < 2 && rc == 0; k++) {
        sds[k] = vr_db_query_one(e->db, "SELECT id, name, status, datacenter_id FROM storage_domains WHERE id = ?",
                                 DB_ARGS(DB_TEXT(ids[k])), err);
        if (!sds[k])
            rc = err->code ? -1 : vr_error_set(err, VR_ERR_BAD_STATE, "the storage domain %s of a copy of disk '%s'"
                                               " is gone", ids[k], alias);
        else
            rc = vr_dj_domain_ready(e, sds[k], err);
    }
    char desc[300];
    vr_i18n_format(desc, sizeof(desc), "Resolve disk '%s' in doubt, keeping its copy on storage domain '%s'", alias,
                   str(sds[0], "name"));
    json_t *params = json_pack("{s:s, s:s, s:s, s:s, s:s}", "keep", keep, "drop", drop, "keep_name",
                               str(sds[0], "name"), "drop_name", str(sds[1], "name"), "alias", alias);
    json_decref(sds[0]);
    json_decref(sds[1]);
    if (rc < 0) {
        json_decref(params);
        return -1;
    }
    return vr_dj_submit(e, disk, "resolve", desc, params, user, job_id, run_resolve, err);
}

void vr_disk_resolve_resume(vr_engine *e, json_t *job)
{
    VR_INFO("resuming job %s (resolution of disk %s)", str(job, "id"), str(job, "object_id"));
    vr_job_update(e, str(job, "id"), "running", "resumed after an engine restart");
    vr_job_spawn(e, str(job, "id"), str(job, "object_id"), str(job, "user_name"), run_resolve);
}
