/* The maintenance job (see maintenance.h; docs/availability.md). It is
 * driven by the database, not by memory: each round reads the host and
 * the VMs on it and does what is missing, so an engine restart simply
 * runs it again. Its parameters keep what rounds cannot see: the migrate
 * job of each VM it sent away, and the VMs whose migration failed. */
#include "maintenance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentcall.h"
#include "hoststatus.h"
#include "hoststorage.h"
#include "hostview.h"
#include "jobs.h"
#include "log.h"
#include "placement.h"
#include "vmmigrate.h"
#include "i18n.h"

/* A round this often: a migration takes seconds. */
#define ROUND_MS 500

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

int vr_maint_evacuation_cmp(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    /* highly available VMs first, the higher priority first (ch. 5.10) */
    long long hx = json_integer_value(json_object_get(x, "ha_enabled"));
    long long hy = json_integer_value(json_object_get(y, "ha_enabled"));
    if (hx != hy)
        return hx ? -1 : 1;
    long long px = json_integer_value(json_object_get(x, "ha_priority"));
    long long py = json_integer_value(json_object_get(y, "ha_priority"));
    if (hx && px != py)
        return px > py ? -1 : 1;
    long long mx = json_integer_value(json_object_get(x, "memory_mib"));
    long long my = json_integer_value(json_object_get(y, "memory_mib"));
    if (mx != my)
        return mx < my ? -1 : 1;
    int c = strcmp(str(x, "name"), str(y, "name"));
    return c ? c : strcmp(str(x, "id"), str(y, "id"));
}

#define HOST_SELECT "SELECT id, name, address, port, status, cluster_id, cpus FROM hosts WHERE id = ?"
#define VMS_ON_HOST "SELECT id, name, status, host_id, cluster_id, memory_mib, ha_enabled, ha_priority FROM vms" \
                    " WHERE host_id = ? AND status != 'down' ORDER BY name, id"

static void run_maint(vr_engine *e, const char *job_id, const char *host_id, const char *user);

/* The unfinished maintenance job of host_id, if any (a new reference). */
static json_t *running_job(vr_engine *e, const char *host_id)
{
    return vr_db_query_one(e->db, "SELECT id FROM jobs WHERE action = 'maintenance' AND object_type = 'host'"
                           " AND object_id = ? AND status IN ('pending', 'running')", DB_ARGS(DB_TEXT(host_id)), NULL);
}

/* "VM(s) 'a' (pinned), 'b' (user_migratable)": the VMs on the host the
 * engine may not migrate; 0 when there are none. */
static int blockers(vr_engine *e, const char *host_id, char *out, size_t len)
{
    json_t *vms = NULL;
    if (vr_db_query(e->db, VMS_ON_HOST, DB_ARGS(DB_TEXT(host_id)), &vms, NULL) < 0)
        return 0;
    size_t i, o = 0;
    json_t *vm;
    int n = 0;
    json_array_foreach(vms, i, vm) {
        json_t *policy = vr_placement_of(e, str(vm, "id"));
        vr_place_affinity a = vr_placement_affinity(policy);
        json_decref(policy);
        if (a == VR_PLACE_MIGRATABLE)
            continue;
        if (o < len)
            o += (size_t)snprintf(out + o, len - o, "%s'%s' (%s)", n ? ", " : "", str(vm, "name"),
                                  vr_place_affinity_names[a]);
        n++;
    }
    json_decref(vms);
    return n;
}

int vr_maint_submit(vr_engine *e, json_t *host, const char *user, char job_id[37], vr_error *err)
{
    const char *id = str(host, "id"), *name = str(host, "name"), *st = str(host, "status");
    bool retry = !strcmp(st, "preparingformaintenance");
    if (!strcmp(st, "maintenance"))
        return vr_error_set(err, VR_ERR_BAD_STATE, "host '%s' is already in maintenance", name);
    json_t *other = running_job(e, id);
    if (other) {
        vr_error_set(err, VR_ERR_BAD_STATE, "host '%s' is already preparing for maintenance (job %s)", name,
                     str(other, "id"));
        json_decref(other);
        return -1;
    }
    char vms[1024] = "";
    int n = blockers(e, id, vms, sizeof(vms));
    if (n)
        return vr_error_set(err, VR_ERR_BAD_STATE, "host '%s' cannot go to maintenance: %s %s cannot migrate"
                            " (placement policy); stop %s or change %s placement policy first", name,
                            n > 1 ? "VMs" : "VM", vms, n > 1 ? "them" : "it", n > 1 ? "their" : "its");
    char desc[160];
    vr_i18n_format(desc, sizeof(desc), "Move host '%s' to maintenance", name);
    vr_uuid_new(job_id);
    if (vr_db_begin(e->db, err) < 0)
        return -1;
    /* The status and the job together: a host preparing for maintenance
     * always has the job that gets it there (or its failed one). */
    if ((!retry && vr_host_set_status(e, id, VR_HOST_PREPARING, "its VMs migrate away", user, err) < 0) ||
        vr_db_exec(e->db, "INSERT INTO jobs (id, action, object_type, object_id, status, user_name, description,"
                   " params_json, created_at, updated_at) VALUES (?, 'maintenance', 'host', ?, 'pending', ?, ?,"
                   " '{}', ?, ?)",
                   DB_ARGS(DB_TEXT(job_id), DB_TEXT(id), DB_TEXT(user), DB_TEXT(desc), DB_INT(vr_now()),
                           DB_INT(vr_now())), err) < 0 ||
        vr_job_describe(e, job_id, desc, err) < 0) {
        vr_db_rollback(e->db);
        return -1;
    }
    if (vr_db_commit(e->db, err) < 0)
        return -1;
    /* Placements see it at once: no start or migration comes to it. */
    vr_hostview_refresh(e->view, e->db, id);
    vr_job_spawn(e, job_id, id, user, run_maint);
    return 0;
}

/* Give up the SPM role of host's data center, if it holds it: 0 when it
 * does not (any more), -1 with why when its agent refused (tasks still
 * run there: tried again next round). */
static int release_spm(vr_engine *e, json_t *host, const char *user, char *why, size_t len)
{
    json_t *dc = vr_db_query_one(e->db, "SELECT id, name FROM datacenters WHERE spm_host_id = ?",
                                 DB_ARGS(DB_TEXT(str(host, "id"))), NULL);
    if (!dc)
        return 0;
    json_t *r = NULL;
    vr_error err = {0};
    int rc = vr_agent_call_host(e, host, "SPM.stop", json_pack("{s:s}", "pool", str(dc, "id")), &r, &err);
    json_decref(r);
    if (rc < 0) {
        snprintf(why, len, "host '%s' cannot give up the SPM role of data center '%s' yet: %s", str(host, "name"),
                 str(dc, "name"), err.message);
        json_decref(dc);
        return -1;
    }
    /* Compare-and-set: the storage thread may have seen the role go and
     * elected another host meanwhile. spm_id and lver stay: they tell the
     * next election who held it last. */
    if (vr_db_exec(e->db, "UPDATE datacenters SET spm_host_id = NULL, storage_status = 'contend' WHERE id = ?"
                   " AND spm_host_id = ?", DB_ARGS(DB_TEXT(str(dc, "id")), DB_TEXT(str(host, "id"))), NULL) > 0)
        vr_event(e, "normal", user, "datacenter", str(dc, "id"), "host '%s' gave up the SPM role of data center"
                 " '%s' for maintenance; another host is elected", str(host, "name"), str(dc, "name"));
    json_decref(dc);
    return 0;
}

/* Progress and a detail that does not start a new step; written only
 * when it changed (last: the previous one, kept by the caller). */
static void note(vr_engine *e, const char *job_id, int progress, const char *detail, char *last, size_t len)
{
    char now[1600];
    snprintf(now, sizeof(now), "%d %s", progress, detail);
    if (!strncmp(now, last, len))
        return;
    snprintf(last, len, "%s", now);
    vr_db_exec(e->db, "UPDATE jobs SET progress = ?, detail = ?, updated_at = ? WHERE id = ?",
               DB_ARGS(DB_INT(progress), DB_TEXT(detail), DB_INT(vr_now()), DB_TEXT(job_id)), NULL);
}

/* The maintenance ends early (activated, cancelled, the host lost): its
 * migrations still waiting in the queue (not sent to the source agent)
 * are cancelled, those under way finish. */
static void drop_queued(vr_engine *e, json_t *p, const char *user)
{
    const char *vm;
    json_t *jid;
    json_object_foreach(json_object_get(p, "migrations"), vm, jid) {
        json_t *j = vr_db_query_one(e->db, "SELECT params_json FROM jobs WHERE id = ? AND status IN ('pending',"
                                    " 'running')", DB_ARGS(DB_TEXT(json_string_value(jid) ?: "")), NULL);
        if (j && !*str(json_object_get(j, "params"), "agent_job"))
            vr_job_cancel(e, json_string_value(jid), user, NULL);
        json_decref(j);
    }
}

/* The state of job id ("" when gone) and its detail into why. */
static const char *job_state(vr_engine *e, const char *id, char *why, size_t len, json_t **keep)
{
    *keep = vr_db_query_one(e->db, "SELECT status, detail FROM jobs WHERE id = ?", DB_ARGS(DB_TEXT(id)), NULL);
    snprintf(why, len, "%s", str(*keep, "detail"));
    return str(*keep, "status");
}

/* One round over the VMs still on the host: start the migrations that are
 * due, note the ones that failed. Returns how many VMs are on the host;
 * *stuck counts those whose migration failed (nothing more to do for
 * them), *failed_list names them with the reasons. */
static size_t evacuate(vr_engine *e, const char *job_id, json_t *host, json_t *p, const char *user, size_t *stuck,
                       char *failed_list, size_t len)
{
    json_t *rows = NULL;
    *stuck = 0;
    if (vr_db_query(e->db, VMS_ON_HOST, DB_ARGS(DB_TEXT(str(host, "id"))), &rows, NULL) < 0)
        return 1; /* the database is away: not empty, try again */
    size_t n = json_array_size(rows);
    json_t **vms = calloc(n ? n : 1, sizeof(*vms));
    for (size_t i = 0; vms && i < n; i++)
        vms[i] = json_array_get(rows, i);
    if (vms)
        qsort(vms, n, sizeof(*vms), vr_maint_evacuation_cmp);
    json_t *sent = json_object_get(p, "migrations"), *failed = json_object_get(p, "failed");
    bool changed = false;
    size_t o = strlen(failed_list);
    for (size_t i = 0; vms && i < n; i++) {
        json_t *vm = vms[i];
        const char *id = str(vm, "id"), *name = str(vm, "name"), *mj = str(sent, id);
        char why[512] = "";
        if (*mj) { /* sent before: how did it go? */
            json_t *keep = NULL;
            const char *st = job_state(e, mj, why, sizeof(why), &keep);
            bool over = !strcmp(st, "failed") || !strcmp(st, "cancelled") || !strcmp(st, "finished") || !*st;
            if (over && strcmp(st, "finished")) {
                json_object_set_new(failed, id, json_string(*why ? why : st));
                vr_event(e, "error", user, "host", str(host, "id"), "migration of VM '%s' off host '%s' for"
                         " maintenance %s: %s; the host stays preparing for maintenance", name, str(host, "name"),
                         *st ? st : "was lost", *why ? why : "no reason given");
            }
            json_decref(keep);
            if (!over)
                continue;
            json_object_del(sent, id); /* ended: back on the host (or failed) */
            changed = true;
        }
        const char *reason = str(failed, id);
        if (*reason) {
            (*stuck)++;
            if (o < len)
                o += (size_t)snprintf(failed_list + o, len - o, "%sVM '%s': %s", o ? "; " : "", name, reason);
            continue;
        }
        const char *vst = str(vm, "status");
        if (strcmp(vst, "up") && strcmp(vst, "paused"))
            continue; /* starting, migrating or unknown: wait for it */
        /* Every VM's job at once: beyond the host's outgoing limit they
         * wait in the engine's queue (migqueue.h), HA VMs first (higher
         * priority first), then in this evacuation order. */
        char job[37];
        vr_error err = {0};
        int rank = json_integer_value(json_object_get(vm, "ha_enabled"))
                       ? 1 + (int)json_integer_value(json_object_get(vm, "ha_priority")) : 0;
        if (vr_vm_migrate_submit(e, vm, NULL, 0, true, rank, user, job, &err) < 0) {
            if (err.code == VR_ERR_BAD_STATE && strstr(err.message, "changed meanwhile"))
                continue; /* it moved on between the read and the submit: next round */
            json_object_set_new(failed, id, json_string(err.message));
            vr_event(e, "error", user, "host", str(host, "id"), "VM '%s' cannot migrate off host '%s' for"
                     " maintenance: %s; the host stays preparing for maintenance", name, str(host, "name"),
                     err.message);
            (*stuck)++;
            if (o < len)
                o += (size_t)snprintf(failed_list + o, len - o, "%sVM '%s': %s", o ? "; " : "", name, err.message);
        } else {
            json_object_set_new(sent, id, json_string(job));
        }
        changed = true;
    }
    if (changed)
        vr_job_params_store(e, job_id, p);
    free(vms);
    json_decref(rows);
    return n;
}

static void run_maint(vr_engine *e, const char *job_id, const char *host_id, const char *user)
{
    json_t *row = vr_db_query_one(e->db, "SELECT params_json FROM jobs WHERE id = ?", DB_ARGS(DB_TEXT(job_id)), NULL);
    json_t *p = json_is_object(json_object_get(row, "params")) ? json_deep_copy(json_object_get(row, "params"))
                                                                : json_object();
    json_decref(row);
    if (!json_is_object(json_object_get(p, "migrations")))
        json_object_set_new(p, "migrations", json_object());
    if (!json_is_object(json_object_get(p, "failed")))
        json_object_set_new(p, "failed", json_object());
    vr_job_update(e, job_id, "running", "migrating the VMs away");
    bool spm_step = false;
    char last[1600] = "";
    for (;;) {
        if (e->stopping)
            break; /* resumed at the next start */
        json_t *host = vr_db_query_one(e->db, HOST_SELECT, DB_ARGS(DB_TEXT(host_id)), NULL);
        const char *st = str(host, "status"), *hname = host ? str(host, "name") : host_id;
        char msg[1536];
        if (host && !strcmp(st, "maintenance")) {
            /* resumed after the host got there: its monitor lets go of
             * the storage this job may not have */
            vr_i18n_format(msg, sizeof(msg), "host '%s' is in maintenance", hname);
            vr_job_update(e, job_id, "finished", msg);
            json_decref(host);
            break;
        }
        if (!host || strcmp(st, "preparingformaintenance")) {
            bool activated = !strcmp(st, "installing") || !strcmp(st, "up");
            vr_i18n_format(msg, sizeof(msg), !host ? N_("host %s was removed")
                     : activated ? N_("maintenance of host '%s' cancelled: the host was activated")
                                 : N_("maintenance of host '%s' stopped: the host is %s"), hname, st);
            drop_queued(e, p, user);
            vr_job_update(e, job_id, activated ? "cancelled" : "failed", msg);
            json_decref(host);
            break;
        }
        if (vr_job_cancel_requested(e, job_id)) {
            /* Cancelling the maintenance brings the host back: as activate. */
            vr_host_set_status(e, host_id, VR_HOST_INSTALLING, "activating", user, NULL);
            vr_hostview_refresh(e->view, e->db, host_id);
            vr_i18n_format(msg, sizeof(msg), "cancelled; host '%s' is activated again (migrations under way finish)",
                     hname);
            drop_queued(e, p, user);
            vr_job_update(e, job_id, "cancelled", msg);
            json_decref(host);
            break;
        }
        if (!json_is_integer(json_object_get(p, "total"))) {
            json_t *cnt = vr_db_query_one(e->db, "SELECT count(*) AS n FROM vms WHERE host_id = ? AND status != 'down'",
                                          DB_ARGS(DB_TEXT(host_id)), NULL);
            json_object_set_new(p, "total", json_integer(json_integer_value(json_object_get(cnt, "n"))));
            json_decref(cnt);
            vr_job_params_store(e, job_id, p);
        }
        size_t stuck = 0;
        char failed[1024] = "";
        size_t left = evacuate(e, job_id, host, p, user, &stuck, failed, sizeof(failed));
        long long total = json_integer_value(json_object_get(p, "total"));
        if (left && stuck == left) {
            /* Nothing more will move: every VM still here failed. */
            vr_i18n_format(msg, sizeof(msg), "%s; host '%s' stays preparing for maintenance (activate it, or deactivate it"
                     " again to retry)", failed, hname);
            vr_job_update(e, job_id, "failed", msg);
            json_decref(host);
            break;
        }
        if (left) {
            snprintf(msg, sizeof(msg), "%zu of %lld VM(s) still on host '%s'%s%s", left, total, hname,
                     *failed ? "; failed: " : "", failed);
            note(e, job_id, total > (long long)left ? (int)(5 + 85 * (total - (long long)left) / total) : 5, msg, last,
                 sizeof(last));
        } else {
            if (!spm_step) {
                vr_job_update(e, job_id, "running", "releasing the SPM role if the host holds it");
                vr_job_progress(e, job_id, 90);
                spm_step = true;
            }
            if (release_spm(e, host, user, msg, sizeof(msg)) < 0) {
                note(e, job_id, 90, msg, last, sizeof(last));
            } else {
                vr_error err = {0};
                if (vr_host_set_status(e, host_id, VR_HOST_MAINTENANCE, "", user, &err) == 0) {
                    vr_hostview_refresh(e->view, e->db, host_id);
                    /* In maintenance first, so the host monitor no longer
                     * connects or joins; then its storage is let go of. */
                    vr_job_update(e, job_id, "running", "leaving the storage domains' lockspaces and "
                                  "disconnecting storage");
                    vr_job_progress(e, job_id, 95);
                    char why[600];
                    if (vr_host_storage_leave(e, NULL, host, NULL, why, sizeof(why)) < 0)
                        vr_i18n_format(msg, sizeof(msg), "host '%s' is in maintenance; its storage is not let go of yet"
                                 " (the host monitor retries): %s", hname, why);
                    else
                        vr_i18n_format(msg, sizeof(msg), "host '%s' is in maintenance", hname);
                    vr_job_update(e, job_id, "finished", msg);
                    json_decref(host);
                    break;
                }
                VR_DEBUG("maintenance of host %s: %s", hname, err.message); /* a VM came: next round */
            }
        }
        json_decref(host);
        usleep(ROUND_MS * 1000);
    }
    json_decref(p);
}

bool vr_maint_running(vr_engine *e, const char *host_id)
{
    json_t *j = running_job(e, host_id);
    json_decref(j);
    return j != NULL;
}

bool vr_maint_resume(vr_engine *e, json_t *r)
{
    if (strcmp(str(r, "action"), "maintenance") || strcmp(str(r, "object_type"), "host"))
        return false;
    VR_INFO("resuming job %s (maintenance of host %s)", str(r, "id"), str(r, "object_id"));
    vr_job_spawn(e, str(r, "id"), str(r, "object_id"), str(r, "user_name"), run_maint);
    return true;
}
