/* Stateless VMs (stateless.h). vms.stateless_json keeps, per engine disk,
 * {base, layer}: the volume the disk really is, and the throw-away layer
 * it runs on. The intent is written before the layer is made, so a crash
 * at any point leaves a state discard() cleans up: it removes the layer
 * (if it exists) and gives the disk its base back. */
#include "stateless.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentcall.h"
#include "log.h"
#include "sdjobs.h"
#include "snapjob_util.h"
#include "store_storage.h"

#define str vr_sj_str

static json_t *vol(const char *domain, const char *image, const char *volume)
{
    return json_pack("{s:s, s:s, s:s}", "domain", domain, "image", image, "volume", volume);
}

static json_t *spm_for(vr_engine *e, const char *job_id, json_t *disk, json_t **spm, vr_error *err)
{
    if (!*spm)
        *spm = vr_storage_wait_spm(e, job_id, str(disk, "datacenter_id"), 60, err);
    return *spm;
}

static int save(vr_engine *e, const char *vm_id, json_t *state, vr_error *err)
{
    char *text = json_object_size(state) ? json_dumps(state, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    int rc = vr_db_exec(e->db, "UPDATE vms SET stateless_json = ? WHERE id = ?",
                        DB_ARGS(text ? DB_TEXT(text) : DB_NULL, DB_TEXT(vm_id)), err);
    free(text);
    return rc < 0 ? -1 : 0;
}

/* One stateless change at a time: a start's prepare and the pool
 * monitor's discard of the same VM must not interleave. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static int discard(vr_engine *e, const char *job_id, const char *vm_id, vr_error *err)
{
    json_t *row = vr_db_query_one(e->db, "SELECT stateless_json FROM vms WHERE id = ?", DB_ARGS(DB_TEXT(vm_id)), err);
    json_t *state = json_deep_copy(json_object_get(row, "stateless")), *spm = NULL, *s, *tmp;
    json_decref(row);
    const char *disk_id;
    int rc = err->code ? -1 : 0;
    json_object_foreach_safe(json_is_object(state) ? state : NULL, tmp, disk_id, s) {
        json_t *d = vr_storage_disk_get(e, disk_id, err), *res = NULL;
        if (!d) { /* the disk went with its whole chain */
            if (err->code) {
                rc = -1;
                break;
            }
            json_object_del(state, disk_id);
            continue;
        }
        if (!spm_for(e, job_id, d, &spm, err) ||
            (vr_agent_call_host(e, spm, "Volume.delete", vol(str(d, "storage_domain"), disk_id, str(s, "layer")),
                                &res, err) < 0 && err->code != VR_ERR_NOT_FOUND)) {
            json_decref(d);
            rc = -1;
            break;
        }
        vr_error_clear(err);
        json_decref(res);
        res = NULL;
        rc = vr_agent_call_host(e, spm, "Volume.info", vol(str(d, "storage_domain"), disk_id, str(s, "base")), &res,
                                err);
        if (rc == 0)
            rc = vr_db_exec(e->db, "UPDATE disks SET volume_id = ?, format = ? WHERE id = ?",
                            DB_ARGS(DB_TEXT(str(s, "base")),
                                    DB_TEXT(!strcmp(str(res, "format"), "qcow2") ? "cow" : "raw"), DB_TEXT(disk_id)),
                            err) < 0 ? -1 : 0;
        json_decref(res);
        json_decref(d);
        if (rc < 0)
            break;
        json_object_del(state, disk_id);
        save(e, vm_id, state, NULL);
    }
    if (rc == 0)
        rc = save(e, vm_id, state, err);
    json_decref(state);
    json_decref(spm);
    return rc;
}

int vr_stateless_discard(vr_engine *e, const char *job_id, const char *vm_id, vr_error *err)
{
    pthread_mutex_lock(&lock);
    int rc = discard(e, job_id, vm_id, err);
    pthread_mutex_unlock(&lock);
    return rc;
}

static int prepare(vr_engine *e, const char *job_id, const char *vm_id, vr_error *err);

int vr_stateless_prepare(vr_engine *e, const char *job_id, const char *vm_id, vr_error *err)
{
    pthread_mutex_lock(&lock);
    int rc = prepare(e, job_id, vm_id, err);
    pthread_mutex_unlock(&lock);
    return rc;
}

static int prepare(vr_engine *e, const char *job_id, const char *vm_id, vr_error *err)
{
    json_t *row = vr_db_query_one(e->db, "SELECT stateless, spec_json FROM vms WHERE id = ?", DB_ARGS(DB_TEXT(vm_id)),
                                  err);
    bool stateless = row && json_integer_value(json_object_get(row, "stateless"));
    /* The last session's writes go first (also after a crash). */
    if (!row || discard(e, job_id, vm_id, err) < 0 || !stateless) {
        json_decref(row);
        return err->code ? -1 : 0;
    }
    json_t *ids = vr_sj_vm_disk_ids(json_object_get(row, "spec")), *id, *state = json_object(), *spm = NULL;
    size_t i;
    int rc = 0;
    json_array_foreach(ids, i, id) {
        const char *disk_id = json_string_value(id);
        json_t *d = vr_storage_disk_get(e, disk_id, err), *res = NULL;
        char layer[37];
        vr_uuid_new(layer);
        if (!d || !spm_for(e, job_id, d, &spm, err)) {
            rc = err->code ? -1 : vr_error_set(err, VR_ERR_NOT_FOUND, "disk %s is gone", disk_id);
            json_decref(d);
            break;
        }
        json_object_set_new(state, disk_id, json_pack("{s:s, s:s}", "base", str(d, "volume_id"), "layer", layer));
        json_t *p = vol(str(d, "storage_domain"), disk_id, layer);
        json_object_set_new(p, "format", json_string("qcow2"));
        json_object_set_new(p, "preallocation", json_string("sparse"));
        json_object_set(p, "size", json_object_get(d, "provisioned_size"));
        json_object_set_new(p, "parent", json_string(str(d, "volume_id")));
        rc = save(e, vm_id, state, err) < 0 ? -1 : vr_agent_call_host(e, spm, "Volume.create", p, &res, err);
        if (rc == 0 && vr_db_exec(e->db, "UPDATE disks SET volume_id = ?, format = 'cow' WHERE id = ?",
                                  DB_ARGS(DB_TEXT(layer), DB_TEXT(disk_id)), err) < 0)
            rc = -1;
        json_decref(res);
        json_decref(d);
        if (rc < 0)
            break;
    }
    if (rc < 0) {
        vr_error keep = *err;
        vr_error_clear(err);
        discard(e, job_id, vm_id, err);
        *err = keep;
    } else {
        VR_INFO("VM %s runs stateless on %zu new layer(s)", vm_id, json_object_size(state));
    }
    json_decref(state);
    json_decref(ids);
    json_decref(spm);
    json_decref(row);
    return rc;
}
