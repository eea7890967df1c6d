/* VM pools at work (poolmon.h). The thread only submits jobs (create from
 * the template, start, stop, disk delete) and flips rows; it never waits
 * on an agent except to throw a stopped stateless VM's layers away. */
#include "poolmon.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diskjobs.h"
#include "jobs.h"
#include "log.h"
#include "snapjob_util.h"
#include "stateless.h"
#include "store_pools.h"
#include "store_storage.h"
#include "templjobs.h"
#include "vmaction.h"
#include "vmstart.h"

#define str vr_sj_str

static long long num(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_boolean(v) ? json_is_true(v) : json_integer_value(v);
}

static const char *const RUNNING[] = {"waitforlaunch", "poweringup", "up", "paused"};

static bool running(json_t *vm)
{
    for (size_t i = 0; i < sizeof(RUNNING) / sizeof(RUNNING[0]); i++)
        if (!strcmp(str(vm, "status"), RUNNING[i]))
            return true;
    return false;
}

/* A stateless run's layers still on the VM's disks. */
static bool has_layers(json_t *vm)
{
    json_t *s = json_object_get(vm, "stateless");
    return json_is_object(s) && json_object_size(s) > 0;
}

static json_t *pool_vms(vr_engine *e, const char *pool_id)
{
    json_t *rows = NULL;
    vr_db_query(e->db, "SELECT id, name, status, host_id, pool_user, pool_seen_up, stateless_json, spec_json FROM vms"
                " WHERE pool_id = ? ORDER BY name", DB_ARGS(DB_TEXT(pool_id)), &rows, NULL);
    return rows ? rows : json_array();
}

static bool busy(vr_engine *e, const char *vm_id)
{
    json_t *j = vr_db_query_one(e->db, "SELECT id FROM jobs WHERE object_id = ? AND status IN ('pending', 'running')",
                                DB_ARGS(DB_TEXT(vm_id)), NULL);
    json_decref(j);
    return j != NULL;
}

/* A new pool VM POOL-N (the lowest free N) from the pool's template. */
static void grow(vr_engine *e, json_t *p)
{
    char name[80], job[37], vm[37];
    for (int n = 1; n < 100000; n++) {
        snprintf(name, sizeof(name), "%s-%d", str(p, "name"), n);
        json_t *taken = vr_db_query_one(e->db, "SELECT id FROM vms WHERE name = ?", DB_ARGS(DB_TEXT(name)), NULL);
        json_decref(taken);
        if (!taken)
            break;
    }
    vr_error err = {0};
    json_t *t = vr_db_query_one(e->db, "SELECT id, name, base_template_id, cluster_id, memory_mib, vcpus, spec_json,"
                                " status FROM templates WHERE id = ?", DB_ARGS(DB_TEXT(str(p, "template_id"))), &err);
    json_t *body = json_pack("{s:s, s:s, s:s}", "name", name, "cluster_id", str(p, "cluster_id"), "description",
                             "VM of a pool");
    if (t && vr_template_newvm_submit(e, t, body, "pool", job, vm, &err) == 0)
        vr_db_exec(e->db, "UPDATE vms SET pool_id = ?, stateless = ? WHERE id = ?",
                   DB_ARGS(DB_TEXT(str(p, "id")), DB_INT(num(p, "stateless")), DB_TEXT(vm)), NULL);
    else
        VR_WARN("pool %s cannot grow: %s", str(p, "name"), err.message);
    json_decref(t);
    json_decref(body);
}

/* A free pool VM goes: stopped first if it runs, then the row and (a job)
 * its disks. */
static void shrink(vr_engine *e, json_t *p, json_t *vm)
{
    char job[37];
    vr_error err = {0};
    if (running(vm)) {
        if (!busy(e, str(vm, "id")))
            vr_vm_action_submit(e, vm, "stop", "pool", job, &err);
        return;
    }
    if (strcmp(str(vm, "status"), "down") || busy(e, str(vm, "id")) || has_layers(vm))
        return; /* not yet: a stateless VM first gets its base disks back */
    json_t *ids = vr_sj_vm_disk_ids(json_object_get(vm, "spec")), *id;
    size_t i;
    if (vr_db_exec(e->db, "DELETE FROM vms WHERE id = ? AND status = 'down' AND pool_user IS NULL",
                   DB_ARGS(DB_TEXT(str(vm, "id"))), &err) == 1) {
        vr_event(e, "normal", "pool", "vm", str(vm, "id"), "VM '%s' removed from pool '%s' (it shrank)",
                 str(vm, "name"), str(p, "name"));
        json_array_foreach(ids, i, id) {
            json_t *d = vr_storage_disk_get(e, json_string_value(id), NULL);
            if (d && vr_disk_delete_submit(e, d, "pool", job, &err) < 0)
                VR_WARN("pool %s: disk %s of a removed VM stays: %s", str(p, "name"), json_string_value(id),
                        err.message);
            json_decref(d);
        }
    }
    json_decref(ids);
}

static void pool_round(vr_engine *e, json_t *p)
{
    json_t *vms = pool_vms(e, str(p, "id")), *vm;
    size_t i, n = json_array_size(vms);
    long long size = num(p, "size"), want_up = num(p, "prestarted"), free_up = 0;
    bool automatic = !strcmp(str(p, "type"), "automatic");
    char job[37];
    json_array_foreach(vms, i, vm) {
        const char *id = str(vm, "id");
        bool taken = *str(vm, "pool_user");
        if (taken && !strcmp(str(vm, "status"), "up") && !num(vm, "pool_seen_up"))
            vr_db_exec(e->db, "UPDATE vms SET pool_seen_up = 1 WHERE id = ?", DB_ARGS(DB_TEXT(id)), NULL);
        /* An automatic pool's VM whose session ended comes back. */
        if (taken && automatic && num(vm, "pool_seen_up") && !strcmp(str(vm, "status"), "down") && !busy(e, id)) {
            vr_db_exec(e->db, "UPDATE vms SET pool_user = NULL, pool_seen_up = 0 WHERE id = ?", DB_ARGS(DB_TEXT(id)),
                       NULL);
            vr_event(e, "normal", "pool", "vm", id, "VM '%s' is back in pool '%s'", str(vm, "name"), str(p, "name"));
            taken = false;
        }
        /* Stopped: the stateless run's writes go now. */
        if (!strcmp(str(vm, "status"), "down") && has_layers(vm) && !busy(e, id)) {
            vr_error err = {0};
            if (vr_stateless_discard(e, "", id, &err) < 0)
                VR_WARN("pool %s: VM %s keeps its stateless layer for now: %s", str(p, "name"), str(vm, "name"),
                        err.message);
        }
        if (!taken && running(vm))
            free_up++;
    }
    if ((long long)n < size) {
        grow(e, p);
    } else if ((long long)n > size) {
        for (size_t k = json_array_size(vms); k-- > 0;) /* the highest numbers go first */
            if (!*str(json_array_get(vms, k), "pool_user")) {
                shrink(e, p, json_array_get(vms, k));
                break;
            }
    } else if (free_up < want_up) {
        json_array_foreach(vms, i, vm) {
            vr_error err = {0};
            if (!*str(vm, "pool_user") && !strcmp(str(vm, "status"), "down") && !busy(e, str(vm, "id"))) {
                vr_vm_start_submit(e, str(vm, "id"), "pool", job, &err);
                break;
            }
        }
    }
    json_decref(vms);
}

static void *pool_thread(void *arg)
{
    vr_engine *e = arg;
    while (!e->stopping) {
        long long next = vr_now_ms() + e->poll_ms;
        json_t *pools = NULL;
        vr_db_query(e->db, "SELECT id, name, cluster_id, template_id, type, size, prestarted, stateless FROM vm_pools",
                    NULL, 0, &pools, NULL);
        size_t i;
        json_t *p;
        json_array_foreach(pools, i, p) if (!e->stopping) pool_round(e, p);
        json_decref(pools);
        while (!e->stopping && vr_now_ms() < next)
            usleep(100 * 1000);
    }
    vr_engine_thread_leave(e);
    return NULL;
}

int vr_poolmon_start(vr_engine *e, vr_error *err)
{
    return vr_engine_thread_start(e, pool_thread, "pool", err);
}

int vr_pool_allocate(vr_engine *e, json_t *p, const char *user, char vm_id[37], char job_id[37], vr_error *err)
{
    *job_id = 0;
    if (vr_db_begin(e->db, err) < 0)
        return -1;
    json_t *mine = vr_db_query_one(e->db, "SELECT count(*) AS n FROM vms WHERE pool_id = ? AND pool_user = ?",
                                   DB_ARGS(DB_TEXT(str(p, "id")), DB_TEXT(user)), err);
    long long have = num(mine, "n");
    json_decref(mine);
    json_t *vm = err->code || have >= num(p, "max_user_vms") ? NULL :
        vr_db_query_one(e->db, "SELECT id, name, status FROM vms WHERE pool_id = ? AND pool_user IS NULL AND status IN"
                        " ('up', 'poweringup', 'down') ORDER BY CASE status WHEN 'up' THEN 0 WHEN 'poweringup' THEN 1"
                        " ELSE 2 END, name LIMIT 1", DB_ARGS(DB_TEXT(str(p, "id"))), err);
    int rc = err->code ? -1 : 0;
    if (rc == 0 && have >= num(p, "max_user_vms"))
        rc = vr_error_set(err, VR_ERR_CONFLICT, "user '%s' already has %lld VM(s) of pool '%s' (its maximum)", user,
                          have, str(p, "name"));
    else if (rc == 0 && !vm)
        rc = vr_error_set(err, VR_ERR_CONFLICT, "pool '%s' has no free VM now (size %lld)", str(p, "name"),
                          num(p, "size"));
    if (rc == 0 && vr_db_exec(e->db, "UPDATE vms SET pool_user = ?, pool_seen_up = 0 WHERE id = ? AND pool_user IS"
                              " NULL", DB_ARGS(DB_TEXT(user), DB_TEXT(str(vm, "id"))), err) != 1)
        rc = err->code ? -1 : vr_error_set(err, VR_ERR_CONFLICT, "the VM was taken meanwhile; ask again");
    if (rc < 0 || vr_db_commit(e->db, err) < 0) {
        vr_db_rollback(e->db);
        json_decref(vm);
        return -1;
    }
    snprintf(vm_id, 37, "%s", str(vm, "id"));
    bool down = !strcmp(str(vm, "status"), "down");
    vr_event(e, "normal", user, "vm", vm_id, "VM '%s' of pool '%s' allocated to '%s'", str(vm, "name"),
             str(p, "name"), user);
    json_decref(vm);
    if (down && vr_vm_start_submit(e, vm_id, user, job_id, err) < 0) {
        *job_id = 0;
        VR_WARN("allocated VM %s does not start now: %s (the user may start it)", vm_id, err->message);
        vr_error_clear(err);
    }
    return 0;
}

int vr_pool_release(vr_engine *e, json_t *p, const char *vm_id, const char *user, vr_error *err)
{
    json_t *vm = vr_db_query_one(e->db, "SELECT id, name, status, host_id, pool_user FROM vms WHERE id = ? AND"
                                 " pool_id = ?", DB_ARGS(DB_TEXT(vm_id), DB_TEXT(str(p, "id"))), err);
    if (!vm)
        return err->code ? -1 : vr_error_set(err, VR_ERR_NOT_FOUND, "pool '%s' has no VM %s", str(p, "name"), vm_id);
    int rc = 0;
    if (!*str(vm, "pool_user"))
        rc = vr_error_set(err, VR_ERR_CONFLICT, "VM '%s' is not allocated", str(vm, "name"));
    else if (vr_db_exec(e->db, "UPDATE vms SET pool_user = NULL, pool_seen_up = 0 WHERE id = ?",
                        DB_ARGS(DB_TEXT(vm_id)), err) < 0)
        rc = -1;
    char job[37];
    if (rc == 0 && !strcmp(str(p, "type"), "automatic") && running(vm) &&
        vr_vm_action_submit(e, vm, "stop", user, job, err) < 0) {
        VR_WARN("released VM %s keeps running: %s", vm_id, err->message);
        vr_error_clear(err);
    }
    if (rc == 0)
        vr_event(e, "normal", user, "vm", vm_id, "VM '%s' released to pool '%s'", str(vm, "name"), str(p, "name"));
    json_decref(vm);
    return rc;
}
