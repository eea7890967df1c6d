/* Snapshot previews (docs/storage.md "Snapshots"): preview, commit, undo
 * and restore of a stopped VM, run by the snapshot jobs (snapjobs.c). A
 * snapshot's memory goes with its preview (vms.memory_json), so the next
 * start resumes the guest from it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentcall.h"
#include "jobs.h"
#include "memvol.h"
#include "snapjob_util.h"
#include "store_snapshots.h"
#include "store_storage.h"

#define str vr_sj_str

/* Preview: a new layer over the snapshot's volume of each of its disks
 * becomes the leaf; the former leaves and definition are kept in a
 * preview_backup snapshot for undo. */
int vr_sj_run_preview(snap_job *j, const char *snap_id)
{
    json_t *s = vr_db_query_one(j->e->db, "SELECT volumes_json, config_json, memory_json FROM snapshots WHERE id = ?",
                                DB_ARGS(DB_TEXT(snap_id)), &j->err);
    if (!s)
        return j->err.code ? -1 : vr_error_set(&j->err, VR_ERR_NOT_FOUND, "the snapshot is gone");
    json_t *backup = json_object(), *neu = json_object(), *v;
    const char *disk_id;
    int rc = 0;
    json_object_foreach(json_object_get(s, "volumes"), disk_id, v) {
        json_t *d = vr_storage_disk_get(j->e, disk_id, &j->err);
        char layer[37];
        if (!d) {
            if (j->err.code) {
                rc = -1;
                break;
            }
            continue; /* removed since: the preview runs without it */
        }
        vr_job_update(j->e, j->job_id, "running", "creating preview layers on the SPM");
        rc = vr_sj_need_spm(j, d) < 0 ? -1 : vr_sj_make_layer(j, d, json_string_value(v), layer);
        if (rc == 0) {
            json_object_set(backup, disk_id, json_object_get(d, "volume_id"));
            json_object_set_new(neu, disk_id, json_string(layer));
        }
        json_decref(d);
        if (rc < 0)
            break;
    }
    if (rc == 0 && vr_db_begin(j->e->db, &j->err) == 0) {
        char bid[37];
        const char *k;
        vr_uuid_new(bid);
        rc = vr_sj_insert_snapshot(j, bid, "preview_backup", "ok", "the VM before the preview", false, backup);
        json_object_foreach(neu, k, v) if (rc == 0) rc = vr_sj_set_leaf(j, k, json_string_value(v), "qcow2");
        if (rc == 0)
            rc = vr_sj_set_config(j, json_object_get(s, "config"));
        /* With memory: the next start resumes the guest as it was then
         * (the volume stays the snapshot's). */
        json_t *m = json_is_object(json_object_get(s, "memory")) ? json_deep_copy(json_object_get(s, "memory")) : NULL;
        if (m)
            json_object_set_new(m, "snapshot", json_string(snap_id));
        char *mt = m ? json_dumps(m, JSON_COMPACT) : NULL;
        json_decref(m);
        if (rc == 0 && vr_db_exec(j->e->db, "UPDATE vms SET memory_json = ? WHERE id = ?",
                                  DB_ARGS(mt ? DB_TEXT(mt) : DB_NULL, DB_TEXT(j->vm_id)), &j->err) < 0)
            rc = -1;
        free(mt);
        if (rc == 0 && vr_db_exec(j->e->db, "UPDATE snapshots SET status = 'in_preview' WHERE id = ?",
                                  DB_ARGS(DB_TEXT(snap_id)), &j->err) < 0)
            rc = -1;
        if (rc < 0 || vr_db_commit(j->e->db, &j->err) < 0) {
            vr_db_rollback(j->e->db);
            rc = -1;
        }
    } else if (rc == 0) {
        rc = -1;
    }
    if (rc < 0)
        vr_sj_drop_created(j);
    json_decref(backup);
    json_decref(neu);
    json_decref(s);
    return rc;
}

static int delete_volume(snap_job *j, json_t *d, const char *volume)
{
    json_t *res = NULL;
    vr_error e = {0};
    int rc = vr_agent_call_host(j->e, j->spm, "Volume.delete", vr_sj_vol(d, volume), &res, &e);
    json_decref(res);
    if (rc < 0 && e.code != VR_ERR_NOT_FOUND) {
        j->err = e;
        return -1;
    }
    return 0;
}

/* Undo (keep=false): drop the preview layers, back to the backup's
 * leaves and definition. Commit (keep=true): keep the preview layers and
 * drop the old branch: the backup's leaves and the volumes of snapshots
 * newer than the previewed one, newest first. */
int vr_sj_run_end_preview(snap_job *j, const char *snap_id, bool keep)
{
    vr_error *err = &j->err;
    json_t *snaps = vr_snapshots_of_vm(j->e, j->vm_id, err);
    size_t at = snaps ? vr_sj_index_of(snaps, snap_id) : (size_t)-1, nb = (size_t)-1;
    for (size_t k = 0; snaps && k < json_array_size(snaps); k++)
        if (!strcmp(str(json_array_get(snaps, k), "type"), "preview_backup"))
            nb = k;
    if (at == (size_t)-1 || nb == (size_t)-1) {
        json_decref(snaps);
        return snaps ? vr_error_set(err, VR_ERR_BAD_STATE, "no preview of this snapshot is active") : -1;
    }
    json_t *s = json_array_get(snaps, at), *b = json_array_get(snaps, nb), *v;
    const char *disk_id;
    int rc = 0;
    json_object_foreach(json_object_get(b, "volumes"), disk_id, v) {
        json_t *d = vr_storage_disk_get(j->e, disk_id, err);
        if (!d) {
            if (err->code) {
                rc = -1;
                break;
            }
            continue;
        }
        bool previewed = *str(json_object_get(s, "volumes"), disk_id);
        rc = vr_sj_need_spm(j, d);
        if (rc == 0 && !keep && previewed && strcmp(str(d, "volume_id"), json_string_value(v))) {
            vr_job_update(j->e, j->job_id, "running", "removing the preview layers");
            rc = delete_volume(j, d, str(d, "volume_id"));
        }
        if (rc == 0 && keep && previewed) {
            vr_job_update(j->e, j->job_id, "running", "removing the volumes after the snapshot");
            rc = delete_volume(j, d, json_string_value(v));
            for (size_t k = json_array_size(snaps); rc == 0 && k-- > at + 1;) {
                json_t *n = json_array_get(snaps, k);
                const char *nv = str(json_object_get(n, "volumes"), disk_id);
                if (!strcmp(str(n, "type"), "regular") && *nv)
                    rc = delete_volume(j, d, nv);
                if (rc == 0 && !strcmp(str(n, "type"), "regular"))
                    vr_memvol_drop(j->e, j->spm, json_object_get(n, "memory"), j->job_id); /* its snapshot goes below */
            }
        }
        if (rc == 0 && !keep && previewed) {
            json_t *info = NULL;
            rc = vr_agent_call_host(j->e, j->spm, "Volume.info", vr_sj_vol(d, json_string_value(v)), &info, err);
            if (rc == 0)
                rc = vr_sj_set_leaf(j, disk_id, json_string_value(v), str(info, "format"));
            json_decref(info);
        }
        json_decref(d);
        if (rc < 0)
            break;
    }
    if (rc == 0 && vr_db_begin(j->e->db, err) == 0) {
        if (!keep)
            rc = vr_sj_set_config(j, json_object_get(b, "config"));
        if (rc == 0 && !keep && vr_db_exec(j->e->db, "UPDATE vms SET memory_json = NULL WHERE id = ?",
                                           DB_ARGS(DB_TEXT(j->vm_id)), err) < 0)
            rc = -1;
        if (rc == 0 && keep)
            rc = vr_db_exec(j->e->db, "DELETE FROM snapshots WHERE vm_id = ? AND type = 'regular' AND"
                            " (created_at > ? OR (created_at = ? AND id > ?))",
                            DB_ARGS(DB_TEXT(j->vm_id), DB_INT(json_integer_value(json_object_get(s, "created_at"))),
                                    DB_INT(json_integer_value(json_object_get(s, "created_at"))), DB_TEXT(snap_id)),
                            err) < 0 ? -1 : 0;
        if (rc == 0 &&
            (vr_db_exec(j->e->db, "DELETE FROM snapshots WHERE id = ?", DB_ARGS(DB_TEXT(str(b, "id"))), err) < 0 ||
             vr_db_exec(j->e->db, "UPDATE snapshots SET status = 'ok' WHERE id = ?", DB_ARGS(DB_TEXT(snap_id)),
                        err) < 0))
            rc = -1;
        if (rc < 0 || vr_db_commit(j->e->db, err) < 0) {
            vr_db_rollback(j->e->db);
            rc = -1;
        }
    } else if (rc == 0) {
        rc = -1;
    }
    json_decref(snaps);
    return rc;
}

/* Restore = preview + commit; a restore interrupted after its preview
 * went through goes straight to the commit. */
int vr_sj_run_restore(snap_job *j, const char *snap_id)
{
    json_t *s = vr_db_query_one(j->e->db, "SELECT status FROM snapshots WHERE id = ?", DB_ARGS(DB_TEXT(snap_id)),
                                &j->err);
    bool previewing = s && !strcmp(str(s, "status"), "in_preview");
    json_decref(s);
    if (!previewing && vr_sj_run_preview(j, snap_id) < 0)
        return -1;
    return vr_sj_run_end_preview(j, snap_id, true);
}
