/* Snapshot jobs (snapjobs.h): each does its storage work first (SPM
 * volumes, the running VM's host) and then records the result in one
 * transaction, so an interruption leaves the old state plus layers that
 * the restart rule removes, or the new state. */
#include "snapjobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentcall.h"
#include "i18n.h"
#include "jobs.h"
#include "log.h"
#include "memvol.h"
#include "sdjobs.h"
#include "snapjob_util.h"
#include "store_snapshots.h"
#include "store_storage.h"

#define str vr_sj_str

typedef struct action_rule {
    const char *action, *title; /* title: the job's description, of the snapshot's and the VM's names */
    bool live; /* may run while the VM runs */
} action_rule;

static const action_rule rules[] = {
    {"snapshot_create", N_("Snapshot '%s' of VM '%s'"), true},
    {"snapshot_delete", N_("Delete snapshot '%s' of VM '%s'"), true},
    {"snapshot_preview", N_("Preview snapshot '%s' of VM '%s'"), false},
    {"snapshot_commit", N_("Commit snapshot '%s' of VM '%s'"), false},
    {"snapshot_undo", N_("Undo preview of snapshot '%s' of VM '%s'"), false},
    {"snapshot_restore", N_("Restore snapshot '%s' of VM '%s'"), false},
};

static const action_rule *rule_of(const char *action)
{
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
        if (!strcmp(rules[i].action, action))
            return &rules[i];
    return NULL;
}

/* ---- the runs ---- */

static json_t *disk_get(snap_job *j, const char *id)
{
    json_t *d = vr_storage_disk_get(j->e, id, &j->err);
    if (!d && !j->err.code)
        vr_error_set(&j->err, VR_ERR_NOT_FOUND, "disk %s is gone", id);
    return d;
}

/* ---- memory (docs/storage.md "Memory volumes", jobs/memvol.h) ---- */

static void drop_memory(snap_job *j, json_t *m)
{
    vr_memvol_drop(j->e, j->spm, m, j->job_id);
}

/* The snapshot holds m once the SPM sealed it (a complete image). */
static int seal_memory(snap_job *j, const char *snap_id, json_t *m)
{
    vr_job_update(j->e, j->job_id, "running", "sealing the memory volume on the SPM");
    char *t = vr_memvol_seal(j->e, j->spm, m, &j->err) == 0 ? json_dumps(m, JSON_COMPACT) : NULL;
    int rc = t && vr_db_exec(j->e->db, "UPDATE snapshots SET memory_json = ? WHERE id = ?",
                             DB_ARGS(DB_TEXT(t), DB_TEXT(snap_id)), &j->err) == 1 ? 0 : -1;
    free(t);
    return rc;
}

static int run_create(snap_job *j, const char *snap_id)
{
    json_t *ids = vr_sj_vm_disk_ids(json_object_get(j->vm, "spec")), *id, *old = json_object(), *neu = json_object();
    json_t *live = json_array();
    size_t i;
    int rc = 0;
    bool quiesced = false;
    json_array_foreach(ids, i, id) {
        json_t *d = disk_get(j, json_string_value(id));
        char layer[37], target[8];
        rc = !d || vr_sj_need_spm(j, d) < 0 ? -1 : 0;
        if (rc == 0) {
            vr_job_update(j->e, j->job_id, "running", "creating a layer over each disk on the SPM");
            rc = vr_sj_make_layer(j, d, str(d, "volume_id"), layer);
        }
        if (rc == 0 && vr_sj_running(j->vm) && (rc = vr_sj_disk_target(j, str(d, "id"), target)) == 0)
            json_array_append_new(live, json_pack("{s:s, s:o}", "target", target, "volume", vr_sj_vol(d, layer)));
        if (rc == 0) {
            json_object_set(old, str(d, "id"), json_object_get(d, "volume_id"));
            json_object_set_new(neu, str(d, "id"), json_string(layer));
        }
        json_decref(d);
        if (rc < 0)
            break;
    }
    bool with_memory = json_is_true(json_object_get(j->params, "persist_memorystate")) && json_array_size(live);
    if (rc == 0 && with_memory) {
        /* on the first disk's domain, listed before the SPM is asked */
        json_t *d = disk_get(j, json_string_value(json_array_get(ids, 0)));
        if (d) {
            json_object_set_new(j->params, "memory", vr_memvol_plan(str(d, "storage_domain"), str(d, "datacenter_id")));
            vr_sj_save_params(j);
            vr_job_update(j->e, j->job_id, "running", "creating the memory volume on the SPM");
        }
        rc = d ? vr_memvol_create(j->e, j->spm, json_object_get(j->params, "memory"),
                                  json_integer_value(json_object_get(j->vm, "memory_mib")), "memory of a snapshot",
                                  &j->err) : -1;
        json_decref(d);
    }
    if (rc == 0 && json_array_size(live)) {
        json_t *res = NULL, *p = json_pack("{s:s, s:O, s:b}", "uuid", j->vm_id, "disks", live, "quiesce", 1);
        if (with_memory)
            json_object_set_new(p, "memory", vr_memvol_ref(json_object_get(j->params, "memory")));
        vr_job_update(j->e, j->job_id, "running", with_memory ? N_("saving the memory and switching the running VM"
                      " onto the new layers") : N_("switching the running VM onto the new layers"));
        json_object_set_new(j->params, "sent", json_true()); /* from here the VM may run on them */
        vr_sj_save_params(j);
        rc = vr_agent_call_host(j->e, j->host, "VM.snapshot", p, &res, &j->err);
        quiesced = json_is_true(json_object_get(res, "quiesced"));
        /* RHV warns too: the snapshot is only crash-consistent. */
        if (rc == 0 && !quiesced)
            vr_event(j->e, "warning", j->user, "vm", j->vm_id, "the snapshot '%s' of VM '%s' is not quiesced (its"
                     " file systems were not frozen, so it is only crash-consistent): %s",
                     str(j->params, "description"), str(j->vm, "name"),
                     json_string_value(json_object_get(res, "quiesce_error")) ?: "the guest agent did not answer");
        json_decref(res);
    }
    if (rc < 0) {
        vr_sj_drop_created(j);
        drop_memory(j, json_object_get(j->params, "memory"));
    } else if (vr_db_begin(j->e->db, &j->err) == 0) {
        const char *k;
        json_t *v;
        rc = vr_sj_insert_snapshot(j, snap_id, "regular", "ok", str(j->params, "description"), quiesced, old);
        json_object_foreach(neu, k, v) if (rc == 0) rc = vr_sj_set_leaf(j, k, json_string_value(v), "qcow2");
        if (rc < 0 || vr_db_commit(j->e->db, &j->err) < 0) {
            vr_db_rollback(j->e->db);
            rc = -1;
        }
    } else {
        rc = -1;
    }
    /* The disks are the snapshot's whatever becomes of the memory: a
     * memory volume that cannot be sealed goes, and the job says so. */
    if (rc == 0 && with_memory && seal_memory(j, snap_id, json_object_get(j->params, "memory")) < 0) {
        drop_memory(j, json_object_get(j->params, "memory"));
        rc = -1;
    }
    json_decref(ids);
    json_decref(old);
    json_decref(neu);
    json_decref(live);
    return rc;
}

/* The volume right above vs in disk's chain, and who owns it: the next
 * snapshot that has the disk, or the disk itself (its leaf). */
static const char *child_of(json_t *snaps, size_t after, json_t *disk, const char **owner)
{
    for (size_t k = after + 1; k < json_array_size(snaps); k++) {
        json_t *s = json_array_get(snaps, k);
        const char *v = str(json_object_get(s, "volumes"), str(disk, "id"));
        if (!strcmp(str(s, "type"), "regular") && *v) {
            *owner = str(s, "id");
            return v;
        }
    }
    *owner = NULL;
    return str(disk, "volume_id");
}

static int merge_disk(snap_job *j, json_t *d, const char *base, const char *top, json_t **info)
{
    json_t *res = NULL, *p;
    char target[8];
    if (vr_sj_need_spm(j, d) < 0)
        return -1;
    /* Interrupted before? A top already gone, or spent (ILLEGAL), needs
     * only the SPM's part. */
    bool live = vr_sj_running(j->vm);
    if (live) {
        vr_error e = {0};
        if (vr_agent_call_host(j->e, j->spm, "Volume.info", vr_sj_vol(d, top), &res, &e) < 0)
            live = false;
        else
            live = !strcmp(str(res, "legality"), "LEGAL");
        json_decref(res);
        res = NULL;
    }
    if (live) {
        vr_job_update(j->e, j->job_id, "running", "merging live on the VM's host");
        if (vr_sj_disk_target(j, str(d, "id"), target) < 0 ||
            vr_agent_call_host(j->e, j->host, "VM.merge",
                               json_pack("{s:s, s:s, s:o, s:o}", "uuid", j->vm_id, "target", target, "base",
                                         vr_sj_vol(d, base), "top", vr_sj_vol(d, top)), &res, &j->err) < 0)
            return -1;
        json_decref(res);
    }
    vr_job_update(j->e, j->job_id, "running", "merging volumes on the SPM");
    p = json_pack("{s:s, s:s, s:s, s:s, s:b}", "domain", str(d, "storage_domain"), "image", str(d, "id"), "base",
                  base, "top", top, "committed", vr_sj_running(j->vm));
    return vr_agent_call_host(j->e, j->spm, "Volume.merge", p, info, &j->err);
}

static int run_delete(snap_job *j, const char *snap_id)
{
    vr_error *err = &j->err;
    json_t *snaps = vr_snapshots_of_vm(j->e, j->vm_id, err);
    size_t at = snaps ? vr_sj_index_of(snaps, snap_id) : (size_t)-1;
    if (at == (size_t)-1) {
        json_decref(snaps);
        return snaps ? vr_error_set(err, VR_ERR_NOT_FOUND, "the snapshot is gone") : -1;
    }
    json_t *s = json_array_get(snaps, at), *vols = json_deep_copy(json_object_get(s, "volumes"));
    const char *disk_id;
    json_t *v, *tmp;
    int rc = 0;
    json_object_foreach_safe(json_object_get(s, "volumes"), tmp, disk_id, v) {
        json_t *d = vr_storage_disk_get(j->e, disk_id, err), *info = NULL;
        if (!d) { /* the disk was removed with its whole chain */
            if (err->code) {
                rc = -1;
                break;
            }
            json_object_del(vols, disk_id);
            continue;
        }
        const char *owner, *base = json_string_value(v), *top = child_of(snaps, at, d, &owner);
        rc = merge_disk(j, d, base, top, &info);
        if (rc == 0 && vr_db_begin(j->e->db, err) == 0) {
            json_object_del(vols, disk_id);
            if (owner) {
                json_t *o = json_array_get(snaps, vr_sj_index_of(snaps, owner));
                json_object_set_new(json_object_get(o, "volumes"), disk_id, json_string(base));
                rc = vr_sj_set_volumes(j, owner, json_object_get(o, "volumes"));
            } else {
                rc = vr_sj_set_leaf(j, disk_id, base, str(info, "format"));
            }
            if (rc == 0)
                rc = vr_sj_set_volumes(j, snap_id, vols);
            if (rc < 0 || vr_db_commit(j->e->db, err) < 0) {
                vr_db_rollback(j->e->db);
                rc = -1;
            }
        } else if (rc == 0) {
            rc = -1;
        }
        json_decref(info);
        json_decref(d);
        if (rc < 0)
            break;
    }
    json_t *mem = json_object_get(s, "memory");
    if (rc == 0 && json_is_object(mem)) {
        char like[64];
        snprintf(like, sizeof(like), "%%%s%%", str(mem, "volume"));
        vr_db_exec(j->e->db, "UPDATE vms SET memory_json = NULL WHERE id = ? AND memory_json LIKE ?",
                   DB_ARGS(DB_TEXT(j->vm_id), DB_TEXT(like)), NULL);
        json_t *dc = json_pack("{s:s}", "datacenter_id", str(mem, "datacenter"));
        if (vr_sj_need_spm(j, dc) < 0)
            rc = -1;
        json_decref(dc);
        drop_memory(j, mem);
    }
    if (rc == 0 && vr_db_exec(j->e->db, "DELETE FROM snapshots WHERE id = ?", DB_ARGS(DB_TEXT(snap_id)), err) < 0)
        rc = -1;
    json_decref(vols);
    json_decref(snaps);
    return rc;
}

/* ---- job thread, end, restart ---- */

static void end_job(snap_job *j, const char *action, int rc)
{
    vr_engine *e = j->e;
    const char *sid = str(j->params, "snapshot");
    json_t *id;
    size_t i;
    json_array_foreach(json_object_get(j->params, "disks"), i, id)
        vr_db_exec(e->db, "UPDATE disks SET status = 'ok' WHERE id = ? AND status = 'locked'",
                   DB_ARGS(DB_TEXT(json_string_value(id))), NULL);
    vr_db_exec(e->db, "UPDATE vms SET status = 'down' WHERE id = ? AND status = 'imagelocked'",
               DB_ARGS(DB_TEXT(j->vm_id)), NULL);
    vr_db_exec(e->db, "UPDATE snapshots SET status = 'ok' WHERE id = ? AND status = 'locked'", DB_ARGS(DB_TEXT(sid)),
               NULL);
    const action_rule *r = rule_of(action);
    char what[300];
    vr_i18n_format(what, sizeof(what), r ? r->title : rules[0].title, str(j->params, "description"),
                   str(j->vm, "name"));
    if (rc == 0) {
        vr_event(e, "normal", j->user, "vm", j->vm_id, "%s done", what);
        vr_job_update(e, j->job_id, "finished", "");
    } else {
        if (!j->err.code)
            vr_error_set(&j->err, VR_ERR_INTERNAL, "failed without a reason (a defect)");
        vr_event(e, "error", j->user, "vm", j->vm_id, "%s failed: %s", what, j->err.message);
        vr_job_update(e, j->job_id, "failed", j->err.message);
    }
}

static int job_load(snap_job *j, vr_engine *e, const char *job_id, const char *vm_id, const char *user,
                    char action[40])
{
    memset(j, 0, sizeof(*j));
    j->e = e, j->job_id = job_id, j->vm_id = vm_id, j->user = user;
    json_t *row = vr_db_query_one(e->db, "SELECT action, params_json FROM jobs WHERE id = ?",
                                  DB_ARGS(DB_TEXT(job_id)), &j->err);
    snprintf(action, 40, "%s", str(row, "action"));
    j->params = json_incref(json_object_get(row, "params"));
    json_decref(row);
    if (!j->params)
        j->params = json_object();
    if (!json_is_array(json_object_get(j->params, "created")))
        json_object_set_new(j->params, "created", json_array());
    j->vm = vr_sj_vm_row(e, vm_id, &j->err);
    if (!j->vm && !j->err.code)
        vr_error_set(&j->err, VR_ERR_NOT_FOUND, "the VM is gone");
    return j->vm ? 0 : -1;
}

static void job_free(snap_job *j)
{
    json_decref(j->params);
    json_decref(j->vm);
    json_decref(j->spm);
    json_decref(j->host);
    json_decref(j->devices);
}

static void job_thread(vr_engine *e, const char *job_id, const char *vm_id, const char *user)
{
    snap_job j;
    char action[40];
    int rc = job_load(&j, e, job_id, vm_id, user, action);
    const char *sid = str(j.params, "snapshot");
    if (rc == 0) {
        vr_job_update(e, job_id, "running", "starting");
        vr_job_progress(e, job_id, 10);
        if (!strcmp(action, "snapshot_create"))
            rc = run_create(&j, sid);
        else if (!strcmp(action, "snapshot_delete"))
            rc = run_delete(&j, sid);
        else if (!strcmp(action, "snapshot_preview"))
            rc = vr_sj_run_preview(&j, sid);
        else if (!strcmp(action, "snapshot_commit"))
            rc = vr_sj_run_end_preview(&j, sid, true);
        else if (!strcmp(action, "snapshot_undo"))
            rc = vr_sj_run_end_preview(&j, sid, false);
        else if (!strcmp(action, "snapshot_restore"))
            rc = vr_sj_run_restore(&j, sid);
        else
            rc = vr_error_set(&j.err, VR_ERR_INTERNAL, "unknown snapshot job '%s'", action);
    }
    end_job(&j, action, rc);
    job_free(&j);
}

/* A created snapshot whose running VM may already write into its layers:
 * its host says. All of them (libvirt's snapshot is atomic): record it;
 * none: remove them. */
static int finish_create(snap_job *j, const char *snap_id)
{
    json_t *c, *dev, *devs = vr_sj_live_devices(j);
    size_t i, k, on = 0, n = json_array_size(json_object_get(j->params, "created"));
    /* A host that cannot say keeps the layers: the VM may be writing them. */
    if (!devs)
        return -1;
    json_array_foreach(json_object_get(j->params, "created"), i, c) {
        json_array_foreach(devs, k, dev) if (strstr(str(dev, "path"), str(c, "volume"))) on++;
    }
    json_t *mem = json_object_get(j->params, "memory");
    if (!n || on != n) {
        vr_sj_drop_created(j);
        drop_memory(j, mem);
        return vr_error_set(&j->err, VR_ERR_UNAVAILABLE, "interrupted by an engine restart; the VM runs on its"
                            " disks as before and the layers made for the snapshot were removed");
    }
    json_t *old = json_object(), *d;
    int rc = vr_db_begin(j->e->db, &j->err);
    json_array_foreach(json_object_get(j->params, "created"), i, c) {
        d = vr_storage_disk_get(j->e, str(c, "disk"), &j->err);
        if (d)
            json_object_set(old, str(c, "disk"), json_object_get(d, "volume_id"));
        if (rc == 0)
            rc = d ? vr_sj_set_leaf(j, str(c, "disk"), str(c, "volume"), "qcow2") : -1;
        json_decref(d);
    }
    if (rc == 0)
        rc = vr_sj_insert_snapshot(j, snap_id, "regular", "ok", str(j->params, "description"), false, old);
    if (rc < 0 || vr_db_commit(j->e->db, &j->err) < 0) {
        vr_db_rollback(j->e->db);
        rc = -1;
    }
    json_decref(old);
    /* Its memory only when libvirt finished writing it. */
    if (rc == 0 && json_is_object(mem) && seal_memory(j, snap_id, mem) < 0) {
        drop_memory(j, mem);
        rc = -1;
    }
    return rc;
}

/* Create or preview interrupted by a restart: finish what the running VM
 * already uses, remove what nothing uses. */
static void resume_thread(vr_engine *e, const char *job_id, const char *vm_id, const char *user)
{
    snap_job j;
    char action[40];
    int rc = job_load(&j, e, job_id, vm_id, user, action);
    const char *sid = str(j.params, "snapshot");
    json_t *first = json_array_get(json_object_get(j.params, "created"), 0);
    if (rc == 0 && first) {
        json_t *d = vr_storage_disk_get(e, str(first, "disk"), &j.err);
        rc = d ? vr_sj_need_spm(&j, d) : -1;
        json_decref(d);
        if (rc == 0 && !strcmp(action, "snapshot_create") && json_is_true(json_object_get(j.params, "sent")))
            rc = finish_create(&j, sid);
        else if (rc == 0) {
            vr_sj_drop_created(&j);
            drop_memory(&j, json_object_get(j.params, "memory"));
            rc = vr_error_set(&j.err, VR_ERR_UNAVAILABLE, "interrupted by an engine restart; nothing was changed"
                              " (the volumes it had made were removed)");
        }
    } else if (rc == 0) {
        rc = vr_error_set(&j.err, VR_ERR_UNAVAILABLE, "interrupted by an engine restart before it changed anything");
    }
    end_job(&j, action, rc);
    job_free(&j);
}

bool vr_snapshot_job_resume(vr_engine *e, json_t *job)
{
    const char *action = str(job, "action"), *id = str(job, "id");
    if (!rule_of(action))
        return false;
    VR_INFO("resuming job %s (%s of VM %s)", id, action, str(job, "object_id"));
    vr_job_update(e, id, "pending", "resumed after an engine restart");
    bool redo = strcmp(action, "snapshot_create") && strcmp(action, "snapshot_preview");
    vr_job_spawn(e, id, str(job, "object_id"), str(job, "user_name"), redo ? job_thread : resume_thread);
    return true;
}

/* ---- submit ---- */

static int submit(vr_engine *e, const char *vm_id, const char *action, json_t *snap, json_t *params,
                  const char *user, char job_id[37], vr_error *err)
{
    const action_rule *r = rule_of(action);
    vr_uuid_new(job_id);
    if (vr_db_begin(e->db, err) < 0) {
        json_decref(params);
        return -1;
    }
    json_t *vm = vr_sj_vm_row(e, vm_id, err);
    int rc = vm ? vr_sj_admit(e, vm, r->action, r->title, r->live, snap, params, user, job_id, err)
                : err->code ? -1 : vr_error_set(err, VR_ERR_NOT_FOUND, "no VM with id '%s'", vm_id);
    json_decref(vm);
    json_decref(params);
    if (rc < 0) {
        vr_db_rollback(e->db);
        return -1;
    }
    if (vr_db_commit(e->db, err) < 0)
        return -1;
    vr_job_spawn(e, job_id, vm_id, user, job_thread);
    return 0;
}

int vr_snapshot_create_submit(vr_engine *e, const char *snap_id, json_t *body, const char *user, char job_id[37],
                              vr_error *err)
{
    json_t *p = json_pack("{s:s, s:s, s:b}", "snapshot", snap_id, "description", str(body, "description"),
                          "persist_memorystate", json_is_true(json_object_get(body, "persist_memorystate")));
    return submit(e, str(body, "vm_id"), "snapshot_create", NULL, p, user, job_id, err);
}

int vr_snapshot_remove_submit(vr_engine *e, json_t *snap, const char *user, char job_id[37], vr_error *err)
{
    json_t *p = json_pack("{s:s, s:s}", "snapshot", str(snap, "id"), "description", str(snap, "description"));
    return submit(e, str(snap, "vm_id"), "snapshot_delete", snap, p, user, job_id, err);
}

int vr_snapshot_action_submit(vr_engine *e, json_t *snap, const char *action, const char *user, char job_id[37],
                              vr_error *err)
{
    char name[40];
    snprintf(name, sizeof(name), "snapshot_%s", action);
    if (!rule_of(name) || !strcmp(action, "create") || !strcmp(action, "delete"))
        return vr_error_set(err, VR_ERR_NOT_FOUND, "no snapshot action '%s'", action);
    json_t *p = json_pack("{s:s, s:s}", "snapshot", str(snap, "id"), "description", str(snap, "description"));
    return submit(e, str(snap, "vm_id"), name, snap, p, user, job_id, err);
}
