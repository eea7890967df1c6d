/* Job.list, Job.get, Job.cancel and Job.progress notifications. */
#include "long_jobs.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <uuid/uuid.h>

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
    int progress;             /* 0-100 */
    bool cancel_requested;
    char started_at[32], ended_at[32];
};

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
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:b, s:s, s:s?}", "id", j->id, "kind",
                     j->kind, "vm_uuid", j->vm_uuid, "vm_name", j->vm_name, "state", j->state,
                     "progress", j->progress, "detail", j->detail, "cancel_requested",
                     j->cancel_requested, "started_at", j->started_at, "ended_at",
                     j->ended_at[0] ? j->ended_at : NULL);
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
    json_t *note = job_json(j);
    pthread_mutex_unlock(&lock);
    VR_INFO("job %s: %s of VM %s started", j->id, kind, vm_name);
    announce(note);
    return j;
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
    snprintf(j->detail, sizeof(j->detail), "%s", detail);
    json_t *note = step ? job_json(j) : NULL;
    pthread_mutex_unlock(&lock);
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
    snprintf(j->detail, sizeof(j->detail), "%s", detail);
    if (end == VR_JOB_SUCCEEDED)
        j->progress = 100;
    utc_now(j->ended_at, sizeof(j->ended_at));
    VR_INFO("job %s: %s of VM %s %s: %s", j->id, j->kind, j->vm_name, j->state, j->detail);
    json_t *note = job_json(j);
    prune_locked();
    pthread_mutex_unlock(&lock);
    announce(note);
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
