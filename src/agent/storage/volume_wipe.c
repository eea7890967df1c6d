/* Volume.delete with wipe: zeros over the data as a long job (the SPM's
 * Volume.delete answers at once with the job, which a big disk needs: its
 * wipe outlasts any call timeout), then the files go. */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "long_jobs.h"
#include "spm_state.h"
#include "volume.h"
#include "wipe.h"

#define MAX_WIPES 64

typedef struct wipe_job {
    vr_agent *a;
    vr_volume_ref r;
    char parent[37], pool[37], job_id[37], path[PATH_MAX];
    vr_long_job *job;
} wipe_job;

/* Wipes running (by volume), so a repeated Volume.delete joins its wipe
 * and a stopping agent can end them. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t none_running = PTHREAD_COND_INITIALIZER;
static wipe_job *running[MAX_WIPES];
static bool stopping;

static bool on_progress(void *opaque, long long done, long long total)
{
    wipe_job *w = opaque;
    int pct = total > 0 ? (int)(done * 100 / total) : 0;
    char detail[96];
    snprintf(detail, sizeof(detail), "wiping: %lld of %lld MiB", done >> 20, total >> 20);
    vr_long_job_progress(w->job, pct > 99 ? 99 : pct, detail);
    pthread_mutex_lock(&lock);
    bool stop = stopping;
    pthread_mutex_unlock(&lock);
    return stop; /* not cancellable: a half-wiped volume is wiped whole next time anyway */
}

static void forget(wipe_job *w)
{
    pthread_mutex_lock(&lock);
    int n = 0;
    for (int i = 0; i < MAX_WIPES; i++) {
        if (running[i] == w)
            running[i] = NULL;
        n += running[i] != NULL;
    }
    if (n == 0)
        pthread_cond_broadcast(&none_running);
    pthread_mutex_unlock(&lock);
}

static void *wipe_thread(void *arg)
{
    wipe_job *w = arg;
    vr_error err = {0};
    long long done = 0;
    int rc = vr_wipe_file(w->path, &done, on_progress, w, &err);
    if (rc == 0)
        rc = vr_volume_delete_end(w->a, &w->r, w->parent, false, &err);
    char detail[sizeof(err.message) + 96];
    if (rc == 0)
        snprintf(detail, sizeof(detail), "volume %s wiped (%lld bytes) and deleted", w->r.volume, done);
    else
        snprintf(detail, sizeof(detail), "%s; volume %s is left ILLEGAL (deleting it again wipes it whole)",
                 err.message, w->r.volume);
    if (rc == 0)
        VR_INFO("volume %s/%s/%s wiped (%lld bytes) and deleted", w->r.domain, w->r.image, w->r.volume, done);
    forget(w); /* (before the end: a later call finds the volume gone, or ILLEGAL to wipe again) */
    vr_spm_job_end(w->pool);
    vr_long_job_finish(w->job, rc == 0 ? VR_JOB_SUCCEEDED : VR_JOB_FAILED, detail);
    free(w);
    return NULL;
}

void vr_volume_wipes_stop(int wait_ms)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += wait_ms / 1000 + 1;
    pthread_mutex_lock(&lock);
    stopping = true;
    for (;;) {
        int n = 0;
        for (int i = 0; i < MAX_WIPES; i++)
            n += running[i] != NULL;
        if (n == 0 || pthread_cond_timedwait(&none_running, &lock, &t) != 0)
            break;
    }
    pthread_mutex_unlock(&lock);
}

/* The id of the job wiping r, if one runs (copied to id). */
static bool find_running(const vr_volume_ref *r, char id[37])
{
    bool found = false;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAX_WIPES && !found; i++)
        if (running[i] && !memcmp(&running[i]->r, r, sizeof(*r))) {
            memcpy(id, running[i]->job_id, 37);
            found = true;
        }
    pthread_mutex_unlock(&lock);
    return found;
}

int vr_volume_wipe_delete_start(vr_agent *a, const vr_volume_ref *r, const char *pool, json_t **result,
                                vr_error *err)
{
    char id[37];
    if (find_running(r, id)) {
        vr_spm_job_end(pool); /* the running wipe holds its own */
        *result = json_pack("{s:s}", "job", id);
        return 0;
    }
    wipe_job *w = calloc(1, sizeof(*w));
    if (!w) {
        vr_spm_job_end(pool);
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory deleting volume %s", r->volume);
    }
    w->a = a;
    w->r = *r;
    snprintf(w->pool, sizeof(w->pool), "%s", pool);
    bool link;
    if (vr_volume_delete_begin(a, r, w->parent, &link, err) < 0 ||
        vr_volume_path(a, r, "", w->path, sizeof(w->path), err) < 0 ||
        (link && vr_volume_delete_end(a, r, w->parent, true, err) < 0)) {
        vr_spm_job_end(pool);
        free(w);
        return -1;
    }
    if (link) { /* a template's data is not this disk's to wipe */
        vr_spm_job_end(pool);
        free(w);
        *result = json_object();
        return 0;
    }
    char name[64], detail[128];
    snprintf(name, sizeof(name), "volume %s", r->volume);
    snprintf(detail, sizeof(detail), "wiping volume %s with zeros, then deleting it", r->volume);
    int slot = -1;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAX_WIPES && slot < 0; i++)
        if (!running[i])
            slot = i;
    if (slot >= 0 && !stopping && (w->job = vr_long_job_new(a, "Volume.delete", "", name, detail))) {
        snprintf(w->job_id, sizeof(w->job_id), "%s", vr_long_job_id(w->job));
        running[slot] = w;
    }
    pthread_mutex_unlock(&lock);
    if (!w->job) {
        vr_spm_job_end(pool);
        free(w);
        return vr_error_set(err, VR_ERR_LIMIT, "cannot wipe volume %s now (%d wipes running, or stopping)",
                            r->volume, MAX_WIPES);
    }
    char left[320];
    snprintf(left, sizeof(left), "volume %s of image %s on storage domain %s is left ILLEGAL, partly wiped"
             " (deleting it again wipes it whole)", r->volume, r->image, r->domain);
    vr_long_job_on_interrupt(w->job, left);
    *result = json_pack("{s:s}", "job", w->job_id);
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&t, &attr, wipe_thread, w);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        forget(w);
        vr_spm_job_end(pool);
        vr_long_job_finish(w->job, VR_JOB_FAILED, "cannot start the wipe thread");
        free(w);
        json_decref(*result);
        *result = NULL;
        return vr_error_set(err, VR_ERR_INTERNAL, "cannot start wiping volume %s", r->volume);
    }
    VR_INFO("wiping volume %s/%s/%s started", r->domain, r->image, r->volume);
    return 0;
}
