#include "agentjob.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include "agentcall.h"
#include "jobs.h"
#include "log.h"
#include "ticker.h"
#include "i18n.h"

/* Job.get is asked soon after the job starts, then less and less often:
 * a short job (a small copy, a quick shutdown) ends within a few tens of
 * milliseconds of the agent's, and a long one costs a call per second. */
#define FIRST_CHECK_MS 50
#define MAX_CHECK_MS 1000
/* A host that cannot be asked for this long has lost the job for us (its
 * agent restarted, or the host is gone): the caller decides what the
 * object's state is. */
#define UNREACHABLE_S 120

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

/* Woken when a host's monitor hears that one of its agent's jobs ended
 * (the agent's Job.progress notification): every follower then asks at
 * once instead of at its next interval. A counter, not a set: a wake-up
 * for another job costs one Job.get. */
static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_cond;
static pthread_once_t wake_once = PTHREAD_ONCE_INIT;
static unsigned long wake_gen;

static void wake_init(void)
{
    vr_cond_init_mono(&wake_cond);
}

void vr_agent_job_ended(void)
{
    pthread_once(&wake_once, wake_init);
    pthread_mutex_lock(&wake_lock);
    wake_gen++;
    pthread_cond_broadcast(&wake_cond);
    pthread_mutex_unlock(&wake_lock);
}

static unsigned long wake_seen(void)
{
    pthread_mutex_lock(&wake_lock);
    unsigned long g = wake_gen;
    pthread_mutex_unlock(&wake_lock);
    return g;
}

/* Sleep ms, or less when a job ended since the counter read seen. */
static void wake_wait(unsigned long seen, int ms)
{
    pthread_once(&wake_once, wake_init);
    struct timespec until = vr_mono_after(ms);
    pthread_mutex_lock(&wake_lock);
    while (wake_gen == seen && pthread_cond_timedwait(&wake_cond, &wake_lock, &until) == 0)
        ;
    pthread_mutex_unlock(&wake_lock);
}

const char *vr_agent_job_detail(json_t *job, char *detail, size_t len)
{
    snprintf(detail, len, "%s", str(job, "detail"));
    json_t *cap = json_object_get(job, "detail_i18n");
    char *ctext = json_is_object(cap) ? json_dumps(cap, JSON_COMPACT) : NULL;
    vr_error relayed = {0};
    if (ctext && *detail)
        vr_error_relay(&relayed, VR_ERR_INTERNAL, detail, ctext); /* remembers it when it holds */
    free(ctext);
    return detail;
}

int vr_agent_job_wait(vr_engine *e, const char *job_id, json_t *host, const char *agent_job, int lo, int hi,
                      int limit_s, char *detail, size_t len, vr_error *err)
{
    const char *hname = str(host, "name");
    bool cancel_sent = false;
    long long start = vr_now(), unreachable_since = 0;
    unsigned long seen = wake_seen();
    for (int pause_ms = FIRST_CHECK_MS; !e->stopping; pause_ms = pause_ms * 2 > MAX_CHECK_MS ? MAX_CHECK_MS : pause_ms * 2) {
        wake_wait(seen, pause_ms);
        seen = wake_seen(); /* before the Job.get: an end heard after it wakes the next wait */
        vr_error local = {0};
        if (!cancel_sent && vr_job_cancel_requested(e, job_id)) {
            json_t *r = NULL;
            cancel_sent = vr_agent_call_host(e, host, "Job.cancel", json_pack("{s:s}", "id", agent_job), &r, &local)
                          == 0 || local.code == VR_ERR_BAD_STATE; /* it ended meanwhile: read below */
            json_decref(r);
            vr_error_clear(&local);
        }
        json_t *j = NULL;
        if (vr_agent_call_host(e, host, "Job.get", json_pack("{s:s}", "id", agent_job), &j, &local) < 0) {
            if (local.code == VR_ERR_INVALID_PARAMS) /* "no job": an agent without its records forgot it */
                return vr_error_set(err, VR_ERR_NOT_FOUND, "host '%s' no longer knows its job %s (its agent "
                                    "restarted)", hname, agent_job);
            /* The host may come back: keep following for a while. */
            if (!unreachable_since) {
                unreachable_since = vr_now();
                VR_WARN("job %s: cannot read job %s on host '%s': %s", job_id, agent_job, hname, local.message);
            } else if (vr_now() - unreachable_since > UNREACHABLE_S) {
                return vr_error_set(err, VR_ERR_IO, "host '%s' lost its job %s: unreachable for %d s (%s)", hname,
                                    agent_job, UNREACHABLE_S, local.message);
            }
        } else {
            unreachable_since = 0;
            const char *state = str(j, "state");
            long long pct = json_integer_value(json_object_get(j, "progress"));
            pct = pct < 0 ? 0 : pct > 100 ? 100 : pct;
            int rc = !strcmp(state, "succeeded") ? 0 : !strcmp(state, "cancelled") ? 1
                   : !strcmp(state, "failed") ? -1 : 2;
            if (rc == 2) {
                vr_job_progress(e, job_id, lo + (int)(pct * (hi - lo) / 100));
            } else {
                vr_agent_job_detail(j, detail, len);
                if (rc < 0)
                    vr_error_set(err, VR_ERR_STORAGE, "%s", *detail ? detail : "the host's job failed");
                json_decref(j);
                return rc;
            }
        }
        json_decref(j);
        if (vr_now() - start > limit_s)
            return vr_error_set(err, VR_ERR_IO, "the job %s on host '%s' did not end within %d s", agent_job,
                                hname, limit_s);
    }
    return 2;
}

void vr_agent_job_follow(vr_engine *e, const char *job_id, json_t *host, const char *agent_job, int limit_s)
{
    char step[200], detail[512] = "";
    vr_i18n_format(step, sizeof(step), "following job %s on host '%s'", agent_job, str(host, "name"));
    vr_job_update(e, job_id, "running", step);
    vr_error err = {0};
    int rc = vr_agent_job_wait(e, job_id, host, agent_job, 10, 95, limit_s, detail, sizeof(detail), &err);
    if (rc == 2)
        return; /* the engine stops: resumed at the next start */
    if (rc >= 0) {
        vr_job_update(e, job_id, rc == 0 ? "finished" : "cancelled", detail);
        return;
    }
    char why[700];
    snprintf(why, sizeof(why), "%s%s", err.message,
             err.code == VR_ERR_STORAGE ? "" : "; the host's monitor reports the VM's state");
    vr_job_update(e, job_id, "failed", why);
}
