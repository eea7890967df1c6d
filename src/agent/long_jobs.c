/* Job.list, Job.get, Job.cancel and Job.progress notifications. */
#include "long_jobs.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <uuid/uuid.h>

#include "i18n.h"
#include "job_store.h"
#include "jsonx.h"
#include "log.h"
#include "verbs.h"

/* Finished jobs kept for Job.get/Job.list; older ones are dropped. */
#define KEEP_FINISHED 32

struct vr_long_job {
    struct vr_long_job *next; /* newest first */
    char id[37];
    char kind[32];
    char vm_uuid[37];
    char vm_name[65];
    char state[12];           /* running, succeeded, failed, cancelled */
    char detail[sizeof(((vr_error *)0)->message)]; /* holds a whole error message */
    char detail_i18n[sizeof(((vr_error *)0)->i18n)]; /* detail's id and arguments, or "" */
    int progress;             /* 0-100 */
    bool cancel_requested;
    bool interrupted;         /* running when the agent stopped (restored) */
    char on_interrupt[256];   /* what an interruption leaves behind */
    char outcome[32];         /* what the work did, recorded at once (vr_long_job_set_outcome) */
    char started_at[32], ended_at[32];
};

/* Written to the job store (job_store.h) at start, every tenth of
 * progress and at the end, always from the job's own worker, so one job's
 * records never overtake each other. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* the list and every job's fields */
static vr_long_job *jobs;
static vr_agent *agent;

/* Held around each notification, so that vr_long_jobs_stop() returns only
 * when none is being sent and none will be: the server may then go. */
static pthread_mutex_t notify_lock = PTHREAD_MUTEX_INITIALIZER;
static bool stopped;

static void utc_now(char *buf, size_t len)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Called with lock held. */
static json_t *job_json(const vr_long_job *j)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:b, s:s, s:s?}", "id", j->id, "kind",
                          j->kind, "vm_uuid", j->vm_uuid, "vm_name", j->vm_name, "state", j->state,
                          "progress", j->progress, "detail", j->detail, "cancel_requested",
                          j->cancel_requested, "started_at", j->started_at, "ended_at",
                          j->ended_at[0] ? j->ended_at : NULL);
    if (j->interrupted)
        json_object_set_new(o, "interrupted", json_true());
    if (j->outcome[0])
        json_object_set_new(o, "outcome", json_string(j->outcome));
    json_t *m = j->detail_i18n[0] ? json_loads(j->detail_i18n, 0, NULL) : NULL;
    if (o && m)
        json_object_set_new(o, "detail_i18n", m); /* for the engine's vr_error_relay */
    else
        json_decref(m);
    return o;
}

/* A new detail, with the id and arguments of the message that wrote it in
 * this thread when there is one (an error's, i18n.h). Called with lock. */
static void set_detail(vr_long_job *j, const char *detail)
{
    snprintf(j->detail, sizeof(j->detail), "%s", detail);
    json_t *m = vr_i18n_recall(detail);
    size_t n = m ? json_dumpb(m, j->detail_i18n, sizeof(j->detail_i18n) - 1, JSON_COMPACT) : 0;
    j->detail_i18n[n < sizeof(j->detail_i18n) ? n : 0] = '\0';
    json_decref(m);
}

/* The stored record: the job object and what an interruption leaves.
 * Called with lock held. */
static json_t *record_json(const vr_long_job *j)
{
    json_t *o = job_json(j);
    if (j->on_interrupt[0])
        json_object_set_new(o, "on_interrupt", json_string(j->on_interrupt));
    return o;
}

static void save(json_t *rec /* stolen */)
{
    vr_job_store_save(rec);
    json_decref(rec);
}

void vr_long_jobs_notify(const char *method, json_t *params /* stolen */)
{
    pthread_mutex_lock(&notify_lock);
    if (!stopped && agent && params)
        vr_server_notify(agent->server, method, params);
    else
        json_decref(params);
    pthread_mutex_unlock(&notify_lock);
}

static void announce(json_t *params /* stolen */)
{
    vr_long_jobs_notify("Job.progress", params);
}

vr_long_job *vr_long_job_new(vr_agent *a, const char *kind, const char *vm_uuid,
                             const char *vm_name, const char *detail)
{
    vr_long_job *j = calloc(1, sizeof(*j));
    if (!j)
        return NULL;
    uuid_t u;
    uuid_generate_random(u);
    uuid_unparse_lower(u, j->id);
    snprintf(j->kind, sizeof(j->kind), "%s", kind);
    snprintf(j->vm_uuid, sizeof(j->vm_uuid), "%s", vm_uuid);
    snprintf(j->vm_name, sizeof(j->vm_name), "%s", vm_name);
    snprintf(j->state, sizeof(j->state), "running");
    snprintf(j->detail, sizeof(j->detail), "%s", detail);
    utc_now(j->started_at, sizeof(j->started_at));
    pthread_mutex_lock(&lock);
    agent = a;
    j->next = jobs;
    jobs = j;
    json_t *note = job_json(j), *rec = record_json(j);
    pthread_mutex_unlock(&lock);
    VR_INFO("job %s: %s of VM %s started", j->id, kind, vm_name);
    save(rec);
    announce(note);
    return j;
}

void vr_long_job_on_interrupt(vr_long_job *j, const char *detail)
{
    pthread_mutex_lock(&lock);
    snprintf(j->on_interrupt, sizeof(j->on_interrupt), "%s", detail);
    json_t *rec = record_json(j);
    pthread_mutex_unlock(&lock);
    save(rec);
}

void vr_long_job_set_outcome(vr_long_job *j, const char *outcome)
{
    pthread_mutex_lock(&lock);
    snprintf(j->outcome, sizeof(j->outcome), "%s", outcome);
    json_t *rec = record_json(j);
    pthread_mutex_unlock(&lock);
    save(rec);
}

const char *vr_long_job_id(const vr_long_job *j) { return j->id; }

bool vr_long_job_cancel_requested(vr_long_job *j)
{
    pthread_mutex_lock(&lock);
    bool c = j->cancel_requested;
    pthread_mutex_unlock(&lock);
    return c;
}

void vr_long_job_progress(vr_long_job *j, int percent, const char *detail)
{
    percent = percent < 0 ? 0 : percent > 99 ? 99 : percent; /* 100 is for the end */
    pthread_mutex_lock(&lock);
    bool step = percent / 10 != j->progress / 10;
    j->progress = percent;
    set_detail(j, detail);
    json_t *note = step ? job_json(j) : NULL, *rec = step ? record_json(j) : NULL;
    pthread_mutex_unlock(&lock);
    if (rec)
        save(rec);
    if (note)
        announce(note);
}

/* Drop the oldest finished jobs beyond KEEP_FINISHED. Called with lock. */
static void prune_locked(void)
{
    int finished = 0;
    for (vr_long_job **pp = &jobs; *pp;) {
        vr_long_job *j = *pp;
        if (strcmp(j->state, "running") && ++finished > KEEP_FINISHED) {
            *pp = j->next;
            vr_job_store_remove(j->id);
            free(j);
        } else {
            pp = &j->next;
        }
    }
}

void vr_long_job_finish(vr_long_job *j, enum vr_job_end end, const char *detail)
{
    static const char *const names[] = {"succeeded", "failed", "cancelled"};
    pthread_mutex_lock(&lock);
    snprintf(j->state, sizeof(j->state), "%s", names[end]);
    set_detail(j, detail);
    if (end == VR_JOB_SUCCEEDED)
        j->progress = 100;
    utc_now(j->ended_at, sizeof(j->ended_at));
    VR_INFO("job %s: %s of VM %s %s: %s", j->id, j->kind, j->vm_name, j->state, j->detail);
    json_t *note = job_json(j), *rec = record_json(j);
    prune_locked();
    pthread_mutex_unlock(&lock);
    save(rec);
    announce(note);
}

static vr_long_job *find_locked(const char *id);

static void copy_str(char *dst, size_t len, json_t *rec, const char *key)
{
    snprintf(dst, len, "%s", json_string_value(json_object_get(rec, key)) ?: "");
}

/* A record read back at start as a finished job (newest first in the
 * list); one that was running is failed as interrupted. */
static void restore_one(json_t *rec, const char *now)
{
    vr_long_job *j = calloc(1, sizeof(*j));
    if (!j)
        return;
    copy_str(j->id, sizeof(j->id), rec, "id");
    copy_str(j->kind, sizeof(j->kind), rec, "kind");
    copy_str(j->vm_uuid, sizeof(j->vm_uuid), rec, "vm_uuid");
    copy_str(j->vm_name, sizeof(j->vm_name), rec, "vm_name");
    copy_str(j->state, sizeof(j->state), rec, "state");
    copy_str(j->detail, sizeof(j->detail), rec, "detail");
    json_t *di = json_object_get(rec, "detail_i18n");
    size_t dn = json_is_object(di) ? json_dumpb(di, j->detail_i18n, sizeof(j->detail_i18n) - 1, JSON_COMPACT) : 0;
    j->detail_i18n[dn < sizeof(j->detail_i18n) ? dn : 0] = '\0';
    copy_str(j->on_interrupt, sizeof(j->on_interrupt), rec, "on_interrupt");
    copy_str(j->outcome, sizeof(j->outcome), rec, "outcome");
    copy_str(j->started_at, sizeof(j->started_at), rec, "started_at");
    copy_str(j->ended_at, sizeof(j->ended_at), rec, "ended_at");
    long long pct = json_integer_value(json_object_get(rec, "progress"));
    j->progress = pct < 0 ? 0 : pct > 100 ? 100 : (int)pct;
    j->cancel_requested = json_is_true(json_object_get(rec, "cancel_requested"));
    j->interrupted = json_is_true(json_object_get(rec, "interrupted"));
    json_t *resave = NULL;
    if (!strcmp(j->state, "running") || (strcmp(j->state, "succeeded") && strcmp(j->state, "failed") &&
                                         strcmp(j->state, "cancelled"))) {
        char was[sizeof(j->detail)];
        snprintf(was, sizeof(was), "%s", j->detail);
        snprintf(j->state, sizeof(j->state), "failed");
        j->detail_i18n[0] = '\0';
        j->interrupted = true;
        snprintf(j->ended_at, sizeof(j->ended_at), "%s", now);
        int n = snprintf(j->detail, sizeof(j->detail), "interrupted: the agent stopped while the job ran (%.200s)",
                         was);
        if (j->on_interrupt[0] && n > 0 && (size_t)n < sizeof(j->detail))
            snprintf(j->detail + n, sizeof(j->detail) - (size_t)n, "; %s", j->on_interrupt);
        VR_WARN("job %s: %s of %s was interrupted by an agent stop: %s", j->id, j->kind, j->vm_name, j->detail);
        resave = record_json(j);
    }
    /* newest first, by start time */
    vr_long_job **pp = &jobs;
    while (*pp && strcmp((*pp)->started_at, j->started_at) > 0)
        pp = &(*pp)->next;
    j->next = *pp;
    *pp = j;
    if (resave)
        save(resave);
}

int vr_long_jobs_restore(vr_agent *a, const char *dir, vr_error *err)
{
    if (vr_job_store_open(dir, err) < 0)
        return -1;
    json_t *recs = vr_job_store_load();
    char now[32];
    utc_now(now, sizeof(now));
    pthread_mutex_lock(&lock);
    agent = a;
    size_t i;
    json_t *rec;
    json_array_foreach(recs, i, rec) {
        if (!find_locked(json_string_value(json_object_get(rec, "id"))))
            restore_one(rec, now);
    }
    prune_locked();
    pthread_mutex_unlock(&lock);
    if (json_array_size(recs))
        VR_INFO("%zu job record(s) read back from %s", json_array_size(recs), dir);
    json_decref(recs);
    return 0;
}

void vr_long_jobs_stop(void)
{
    pthread_mutex_lock(&notify_lock);
    stopped = true;
    pthread_mutex_unlock(&notify_lock);
}

/* Called with lock held. */
static vr_long_job *find_locked(const char *id)
{
    for (vr_long_job *j = jobs; j; j = j->next)
        if (!strcasecmp(j->id, id))
            return j;
    return NULL;
}

static int job_param(json_t *params, const char **id, vr_error *err)
{
    static const char *const keys[] = {"id"};
    return vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0 ||
                   vr_json_str(params, "params", "id", true, id, err) < 0
               ? -1
               : 0;
}

static int job_list(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    if (vr_json_check_keys(params, "params", VR_NO_NAMES, err) < 0)
        return -1;
    json_t *list = json_array();
    pthread_mutex_lock(&lock);
    for (vr_long_job *j = jobs; j; j = j->next)
        json_array_append_new(list, job_json(j));
    pthread_mutex_unlock(&lock);
    *result = json_pack("{s:o}", "jobs", list);
    return 0;
}

static int job_get(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    const char *id;
    if (job_param(params, &id, err) < 0)
        return -1;
    pthread_mutex_lock(&lock);
    vr_long_job *j = find_locked(id);
    if (j)
        *result = job_json(j);
    pthread_mutex_unlock(&lock);
    return j ? 0 : vr_error_set(err, VR_ERR_INVALID_PARAMS, "no job '%s' on this host", id);
}

/* Only asks: the worker notices within a fraction of a second and ends
 * the job as cancelled (a Job.progress notification says so). */
static int job_cancel(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    const char *id;
    if (job_param(params, &id, err) < 0)
        return -1;
    int rc = -1;
    pthread_mutex_lock(&lock);
    vr_long_job *j = find_locked(id);
    if (!j)
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "no job '%s' on this host", id);
    else if (strcmp(j->state, "running"))
        vr_error_set(err, VR_ERR_BAD_STATE, "job %s (%s of VM %s) already %s", id, j->kind,
                     j->vm_name, j->state);
    else if (j->cancel_requested)
        vr_error_set(err, VR_ERR_BAD_STATE, "job %s (%s of VM %s) is already being cancelled",
                     id, j->kind, j->vm_name);
    else {
        j->cancel_requested = true;
        *result = job_json(j);
        rc = 0;
    }
    pthread_mutex_unlock(&lock);
    if (rc == 0)
        VR_INFO("job %s: cancel requested", id);
    return rc;
}

const vr_verb vr_job_verbs[] = {
    {"Job.list", job_list},
    {"Job.get", job_get},
    {"Job.cancel", job_cancel},
    {NULL, NULL},
};
