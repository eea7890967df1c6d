/* What every snapshot job needs (snapjob_util.h). */
#include "snapjob_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentcall.h"
#include "jobs.h"
#include "log.h"
#include "sdjobs.h"
#include "store_snapshots.h"
#include "store_storage.h"

const char *vr_sj_str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}
#define str vr_sj_str /* short: every line reads rows */

json_t *vr_sj_vm_row(vr_engine *e, const char *vm_id, vr_error *err)
{
    return vr_db_query_one(e->db, "SELECT id, name, status, host_id, cluster_id, memory_mib, vcpus, spec_json, stateless,"
                           " devices_json FROM vms WHERE id = ?",
                           DB_ARGS(DB_TEXT(vm_id)), err);
}

/* Engine disk ids of a VM's definition, in order (a new array). */
json_t *vr_sj_vm_disk_ids(json_t *spec)
{
    json_t *out = json_array(), *d;
    size_t i;
    json_array_foreach(json_object_get(spec, "disks"), i, d) if (json_object_get(d, "disk"))
        json_array_append(out, json_object_get(d, "disk"));
    return out;
}

bool vr_sj_running(json_t *vm)
{
    const char *st = str(vm, "status");
    return *str(vm, "host_id") && (!strcmp(st, "up") || !strcmp(st, "paused"));
}

void vr_sj_save_params(snap_job *j)
{
    vr_job_params_store(j->e, j->job_id, j->params);
}

json_t *vr_sj_vol(json_t *disk, const char *volume)
{
    return json_pack("{s:s, s:s, s:s}", "domain", str(disk, "storage_domain"), "image", str(disk, "id"), "volume",
                     volume);
}

/* The SPM of the data center of the VM's first engine disk. */
int vr_sj_need_spm(snap_job *j, json_t *disk)
{
    if (j->spm)
        return 0;
    vr_job_update(j->e, j->job_id, "running", "finding the SPM");
    j->spm = vr_storage_wait_spm(j->e, j->job_id, str(disk, "datacenter_id"), 60, &j->err);
    return j->spm ? 0 : -1;
}

int vr_sj_need_host(snap_job *j)
{
    if (j->host)
        return 0;
    j->host = vr_db_query_one(j->e->db, "SELECT id, name, address, port, status FROM hosts WHERE id = ?",
                              DB_ARGS(DB_TEXT(str(j->vm, "host_id"))), &j->err);
    if (!j->host && !j->err.code)
        vr_error_set(&j->err, VR_ERR_BAD_STATE, "the host of VM '%s' is gone", str(j->vm, "name"));
    return j->host ? 0 : -1;
}

json_t *vr_sj_live_devices(snap_job *j)
{
    json_t *res = NULL;
    if (j->devices)
        return j->devices;
    if (vr_sj_need_host(j) < 0 ||
        vr_agent_call_host(j->e, j->host, "VM.get", json_pack("{s:s}", "uuid", j->vm_id), &res, &j->err) < 0)
        return NULL;
    j->devices = json_incref(json_object_get(res, "devices"));
    json_decref(res);
    if (!j->devices)
        j->devices = json_array();
    return j->devices;
}

/* The target of disk_id among devices: a disk device whose path is in the
 * disk's image directory and that has an address (the one a start applies,
 * jobs/vmstart.c apply_addresses); "" when none. */
static void target_in(json_t *devs, const char *disk_id, bool need_address, char target[8])
{
    json_t *dev;
    size_t i;
    char img[64];
    snprintf(img, sizeof(img), "/images/%s/", disk_id);
    *target = 0;
    json_array_foreach(devs, i, dev) {
        if (!strcmp(str(dev, "kind"), "disk") && strstr(str(dev, "path"), img) &&
            (!need_address || json_object_get(dev, "address")))
            snprintf(target, 8, "%s", str(dev, "target"));
    }
}

/* Targets name an image's disk for the VM's life; the volume behind one
 * changes with each snapshot and merge, which is why only the target is
 * taken from the devices. Every start gives a disk the target stored with
 * its device (first start, hot plug), so that one is the running VM's and
 * costs no round trip to its host (docs/performance.md "Live snapshot");
 * a disk the stored devices do not name is looked up live (VM.get). The
 * host checks the disk behind the target anyway: VM.snapshot and VM.merge
 * refuse a volume that is not over what the target runs on. */
int vr_sj_disk_target(snap_job *j, const char *disk_id, char target[8])
{
    if (vr_sj_need_host(j) < 0)
        return -1;
    target_in(json_object_get(j->vm, "devices"), disk_id, true, target);
    if (*target)
        return 0;
    json_t *devs = vr_sj_live_devices(j);
    if (!devs)
        return -1;
    target_in(devs, disk_id, false, target);
    return *target ? 0 : vr_error_set(&j->err, VR_ERR_BAD_STATE, "disk %s is not plugged into VM '%s' on its host",
                                      disk_id, str(j->vm, "name"));
}

/* The disk's leaf is now `volume`, in format fmt ("raw"/"qcow2"). */
int vr_sj_set_leaf(snap_job *j, const char *disk_id, const char *volume, const char *fmt)
{
    return vr_db_exec(j->e->db, "UPDATE disks SET volume_id = ?, format = ? WHERE id = ?",
                      DB_ARGS(DB_TEXT(volume), DB_TEXT(!strcmp(fmt, "qcow2") ? "cow" : "raw"), DB_TEXT(disk_id)),
                      &j->err) < 0 ? -1 : 0;
}

char *vr_sj_config_text(json_t *vm)
{
    json_t *c = json_pack("{s:O, s:O, s:O}", "memory_mib", json_object_get(vm, "memory_mib"), "vcpus",
                          json_object_get(vm, "vcpus"), "spec", json_object_get(vm, "spec"));
    char *t = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(c);
    return t;
}

/* The VM's definition becomes config (a snapshot's). */
int vr_sj_set_config(snap_job *j, json_t *config)
{
    char *spec = json_dumps(json_object_get(config, "spec"), JSON_COMPACT);
    int rc = vr_db_exec(j->e->db, "UPDATE vms SET memory_mib = ?, vcpus = ?, spec_json = ? WHERE id = ?",
                        DB_ARGS(DB_INT(json_integer_value(json_object_get(config, "memory_mib"))),
                                DB_INT(json_integer_value(json_object_get(config, "vcpus"))), DB_TEXT(spec ?: "{}"),
                                DB_TEXT(j->vm_id)), &j->err);
    free(spec);
    return rc < 0 ? -1 : 0;
}

int vr_sj_insert_snapshot(snap_job *j, const char *id, const char *type, const char *status, const char *desc,
                           bool quiesced, json_t *volumes)
{
    char *cfg = vr_sj_config_text(j->vm), *vols = json_dumps(volumes, JSON_COMPACT | JSON_SORT_KEYS);
    /* seq orders the VM's snapshots taken within one second (one snapshot
     * job per VM at a time, so the VM's next number is free) */
    int rc = vr_db_exec(j->e->db, "INSERT INTO snapshots (id, vm_id, description, type, status, quiesced, created_at,"
                        " config_json, volumes_json, seq) VALUES (?,?,?,?,?,?,?,?,?,"
                        " (SELECT COALESCE(MAX(seq), 0) + 1 FROM snapshots WHERE vm_id = ?))",
                        DB_ARGS(DB_TEXT(id), DB_TEXT(j->vm_id), DB_TEXT(desc), DB_TEXT(type), DB_TEXT(status),
                                DB_INT(quiesced), DB_INT(vr_now()), DB_TEXT(cfg ?: "{}"), DB_TEXT(vols ?: "{}"),
                                DB_TEXT(j->vm_id)),
                        &j->err);
    free(cfg);
    free(vols);
    return rc < 0 ? -1 : 0;
}

int vr_sj_set_volumes(snap_job *j, const char *snap_id, json_t *volumes)
{
    char *vols = json_dumps(volumes, JSON_COMPACT | JSON_SORT_KEYS);
    int rc = vr_db_exec(j->e->db, "UPDATE snapshots SET volumes_json = ? WHERE id = ?",
                        DB_ARGS(DB_TEXT(vols ?: "{}"), DB_TEXT(snap_id)), &j->err);
    free(vols);
    return rc < 0 ? -1 : 0;
}

/* A qcow2 layer `id` over `parent` of disk d, made by the SPM; recorded in
 * params.created first, so a restart can remove it. */
int vr_sj_make_layer(snap_job *j, json_t *d, const char *parent, char id[37])
{
    vr_uuid_new(id);
    json_array_append_new(json_object_get(j->params, "created"),
                          json_pack("{s:s, s:s, s:s}", "disk", str(d, "id"), "volume", id, "domain",
                                    str(d, "storage_domain")));
    vr_sj_save_params(j);
    json_t *p = vr_sj_vol(d, id), *res = NULL;
    json_object_set_new(p, "format", json_string("qcow2"));
    json_object_set_new(p, "preallocation", json_string("sparse"));
    json_object_set(p, "size", json_object_get(d, "provisioned_size"));
    json_object_set_new(p, "parent", json_string(parent));
    int rc = vr_agent_call_host(j->e, j->spm, "Volume.create", p, &res, &j->err);
    json_decref(res);
    return rc;
}

/* Remove the layers this job made (after a failure); best effort. */
void vr_sj_drop_created(snap_job *j)
{
    json_t *c;
    size_t i;
    json_array_foreach(json_object_get(j->params, "created"), i, c) {
        vr_error e = {0};
        json_t *res = NULL;
        if (!j->spm)
            break;
        /* Never a disk's leaf: a job that recorded its result and was cut
         * off before it said so must not lose the data written since. */
        json_t *leaf = vr_db_query_one(j->e->db, "SELECT id FROM disks WHERE id = ? AND volume_id = ?",
                                       DB_ARGS(DB_TEXT(str(c, "disk")), DB_TEXT(str(c, "volume"))), NULL);
        json_decref(leaf);
        if (leaf)
            continue;
        json_t *p = json_pack("{s:s, s:s, s:s}", "domain", str(c, "domain"), "image", str(c, "disk"), "volume",
                              str(c, "volume"));
        if (vr_agent_call_host(j->e, j->spm, "Volume.delete", p, &res, &e) < 0 && e.code != VR_ERR_NOT_FOUND)
            VR_WARN("job %s: cannot remove volume %s: %s", j->job_id, str(c, "volume"), e.message);
        json_decref(res);
    }
}


size_t vr_sj_index_of(json_t *snaps, const char *id)
{
    for (size_t k = 0; k < json_array_size(snaps); k++)
        if (!strcmp(str(json_array_get(snaps, k), "id"), id))
            return k;
    return (size_t)-1;
}
