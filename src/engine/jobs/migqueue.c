/* The queue of outgoing migrations (migqueue.h). Each waiting job polls
 * the database every half second; a grant is decided and written under
 * one lock, so two waiting jobs never take the same last slot. */
#include "migqueue.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "i18n.h"
#include "jobs.h"
#include "migpolicy.h"

#define WAIT_MS 500

static pthread_mutex_t grant_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

void vr_migq_stamp(json_t *params, int rank)
{
    static pthread_mutex_t seq_lock = PTHREAD_MUTEX_INITIALIZER;
    static long long last;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long us = (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    /* strictly increasing: two requests in the same microsecond keep
     * their order (an evacuation submits its VMs in a row) */
    pthread_mutex_lock(&seq_lock);
    if (us <= last)
        us = last + 1;
    last = us;
    pthread_mutex_unlock(&seq_lock);
    json_object_set_new(params, "queue_seq", json_integer(us));
    if (rank > 0)
        json_object_set_new(params, "queue_rank", json_integer(rank));
}

int vr_migq_limit(vr_engine *e, const char *host_id)
{
    json_t *r = vr_db_query_one(e->db, "SELECT h.cpus AS cpus, c.migration_json AS migration_json FROM hosts h"
                                " JOIN clusters c ON c.id = h.cluster_id WHERE h.id = ?",
                                DB_ARGS(DB_TEXT(host_id)), NULL);
    long long limit = vr_migpolicy_max_outgoing(json_object_get(r, "migration"));
    long long cpus = json_integer_value(json_object_get(r, "cpus"));
    json_decref(r);
    return (int)(cpus > 0 && cpus < limit ? cpus : limit);
}

static bool holds_slot(json_t *p)
{
    return json_is_true(json_object_get(p, "slot")) || *str(p, "agent_job");
}

/* Whether waiting job x goes before waiting job y. */
static bool before(json_t *x, const char *xid, json_t *y, const char *yid)
{
    long long rx = json_integer_value(json_object_get(x, "queue_rank"));
    long long ry = json_integer_value(json_object_get(y, "queue_rank"));
    if (rx != ry)
        return rx > ry;
    long long sx = json_integer_value(json_object_get(x, "queue_seq"));
    long long sy = json_integer_value(json_object_get(y, "queue_seq"));
    if (sx != sy)
        return sx < sy;
    return strcmp(xid, yid) < 0;
}

int vr_migq_ahead(json_t *jobs, const char *job_id, const char *host_id, int limit)
{
    json_t *mine = NULL, *j;
    size_t i;
    json_array_foreach(jobs, i, j) if (!strcmp(str(j, "id"), job_id)) mine = json_object_get(j, "params");
    if (!mine || holds_slot(mine))
        return 0;
    int holders = 0, waiting_before = 0;
    json_array_foreach(jobs, i, j) {
        json_t *p = json_object_get(j, "params");
        if (strcmp(str(p, "source_host_id"), host_id) || !strcmp(str(j, "id"), job_id))
            continue;
        if (holds_slot(p))
            holders++;
        else if (before(p, str(j, "id"), mine, job_id))
            waiting_before++;
    }
    int ahead = holders + waiting_before - limit + 1;
    return ahead > 0 ? ahead : 0;
}

/* 0 when still waiting is right; else why not (into why). */
static vr_migq_result still_wanted(vr_engine *e, const char *job_id, const char *vm_id, const char *name,
                                   const char *src, char *why, size_t len)
{
    if (e->stopping)
        return VR_MIGQ_STOPPING;
    if (vr_job_cancel_requested(e, job_id)) {
        vr_i18n_format(why, len, "cancelled while waiting for a migration slot; nothing was done on the hosts");
        return VR_MIGQ_CANCELLED;
    }
    json_t *vm = vr_db_query_one(e->db, "SELECT status, host_id FROM vms WHERE id = ?", DB_ARGS(DB_TEXT(vm_id)),
                                 NULL);
    json_t *h = vr_db_query_one(e->db, "SELECT name, status FROM hosts WHERE id = ?", DB_ARGS(DB_TEXT(src)), NULL);
    const char *hst = str(h, "status");
    vr_migq_result r = VR_MIGQ_GRANTED;
    if (!vm || strcmp(str(vm, "status"), "migratingfrom") || strcmp(str(vm, "host_id"), src)) {
        vr_i18n_format(why, len, "VM '%s' stopped while its migration waited for a slot (it is %s now); nothing was"
                       " done on the hosts", name, vm ? str(vm, "status") : "removed");
        r = VR_MIGQ_FAILED;
    } else if (!h) {
        vr_i18n_format(why, len, "the source host of VM '%s' was removed while its migration waited for a slot", name);
        r = VR_MIGQ_FAILED;
    } else if (strcmp(hst, "up") && strcmp(hst, "preparingformaintenance") && strcmp(hst, "nonoperational") &&
               strcmp(hst, "connecting") && strcmp(hst, "initializing")) {
        vr_i18n_format(why, len, "host '%s' is %s; the migration of VM '%s' that waited for a slot there is dropped",
                       str(h, "name"), hst, name);
        r = VR_MIGQ_FAILED;
    }
    json_decref(vm);
    json_decref(h);
    return r;
}

vr_migq_result vr_migq_wait(vr_engine *e, const char *job_id, const char *vm_id, const char *name, json_t *p,
                            char *why, size_t len)
{
    const char *src = str(p, "source_host_id");
    int last = -1;
    for (;;) {
        vr_migq_result r = still_wanted(e, job_id, vm_id, name, src, why, len);
        if (r != VR_MIGQ_GRANTED)
            return r;
        int limit = vr_migq_limit(e, src), ahead = -1;
        json_t *jobs = NULL;
        pthread_mutex_lock(&grant_lock);
        if (vr_db_query(e->db, "SELECT id, params_json FROM jobs WHERE action = 'migrate' AND object_type = 'vm'"
                        " AND status IN ('pending', 'running')", DB_NOARGS, &jobs, NULL) == 0) {
            ahead = vr_migq_ahead(jobs, job_id, src, limit);
            if (ahead == 0) { /* granted: written before the lock goes, so the next reader counts it */
                json_object_set_new(p, "slot", json_true());
                vr_job_params_store(e, job_id, p);
            }
        }
        pthread_mutex_unlock(&grant_lock);
        json_decref(jobs);
        if (ahead == 0)
            return VR_MIGQ_GRANTED;
        if (ahead > 0 && ahead != last) {
            char msg[300], hname[256] = "";
            json_t *h = vr_db_query_one(e->db, "SELECT name FROM hosts WHERE id = ?", DB_ARGS(DB_TEXT(src)), NULL);
            snprintf(hname, sizeof(hname), "%s", str(h, "name"));
            json_decref(h);
            vr_i18n_format(msg, sizeof(msg), "waiting for a migration slot on host '%s': %d ahead", hname, ahead);
            vr_job_update(e, job_id, "running", msg);
            last = ahead;
        }
        usleep(WAIT_MS * 1000);
    }
}
