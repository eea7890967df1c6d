#include "vm_jobs.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "hyp.h"
#include "log.h"
#include "ticker.h"

/* One VM with a job running. The list is short (at most one entry per
 * client connection), so a linked list searched under the lock is enough. */
typedef struct job_slot {
    struct job_slot *next;
    char uuid[VIR_UUID_STRING_BUFLEN];
    char job[48];
    struct timespec since;
} job_slot;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ended; /* broadcast when a job ends or the agent stops */
static pthread_once_t ended_once = PTHREAD_ONCE_INIT;
static job_slot *slots;
/* Jobs asked for and waiting their turn, so that a VM about to change
 * (a VM.save behind a hot plug) is not taken for one at rest. */
static job_slot *waiting;
static bool stopping;

/* Deadlines on the monotonic clock: a wall-clock jump must not turn a
 * 10 s wait into hours or into none. */
static void init_cond(void)
{
    vr_cond_init_mono(&ended);
}

static job_slot *find(const char *uuid)
{
    for (job_slot *s = slots; s; s = s->next)
        if (!strcasecmp(s->uuid, uuid))
            return s;
    return NULL;
}

static long long ms_since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)(now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

int vr_vm_job_begin(const char *uuid, const char *vm_name, const char *job, vr_error *err)
{
    pthread_once(&ended_once, init_cond);
    job_slot *mine = calloc(1, sizeof(*mine));
    if (!mine)
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory starting %s on VM %s", job, uuid);
    snprintf(mine->uuid, sizeof(mine->uuid), "%s", uuid);
    snprintf(mine->job, sizeof(mine->job), "%s", job);
    struct timespec deadline = vr_mono_after(VR_VM_JOB_WAIT_MS);
    pthread_mutex_lock(&lock);
    job_slot *busy;
    int rc = 0;
    if (!stopping && find(uuid)) {
        mine->next = waiting;
        waiting = mine;
        while (!stopping && (busy = find(uuid)) && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&ended, &lock, &deadline);
        for (job_slot **pp = &waiting; *pp; pp = &(*pp)->next)
            if (*pp == mine) {
                *pp = mine->next;
                break;
            }
        mine->next = NULL;
    }
    if (stopping || (busy = find(uuid))) {
        if (stopping)
            vr_error_set(err, VR_ERR_BAD_STATE, "the agent is stopping; %s of VM %s (%s) not started",
                         job, vm_name, uuid);
        else
            vr_error_set(err, VR_ERR_BAD_STATE,
                         "VM %s (%s) is busy with %s (running for %lld s); try again later",
                         vm_name, uuid, busy->job, ms_since(&busy->since) / 1000);
        pthread_mutex_unlock(&lock);
        free(mine);
        return -1;
    }
    clock_gettime(CLOCK_MONOTONIC, &mine->since);
    mine->next = slots;
    slots = mine;
    pthread_mutex_unlock(&lock);
    VR_DEBUG("VM %s: job %s begins", vm_name, job);
    return 0;
}

void vr_vm_job_end(const char *uuid)
{
    pthread_once(&ended_once, init_cond);
    job_slot *gone = NULL;
    pthread_mutex_lock(&lock);
    for (job_slot **pp = &slots; *pp; pp = &(*pp)->next)
        if (!strcasecmp((*pp)->uuid, uuid)) {
            gone = *pp;
            *pp = gone->next;
            break;
        }
    pthread_cond_broadcast(&ended);
    pthread_mutex_unlock(&lock);
    if (gone)
        VR_DEBUG("VM %s: job %s ends after %lld ms", uuid, gone->job, ms_since(&gone->since));
    else
        VR_WARN("VM %s: ending a job that was not running", uuid);
    free(gone);
}

int vr_vm_job_begin_lookup(vr_agent *a, json_t *params, const char *job, virDomainPtr *out,
                           vr_error *err)
{
    virDomainPtr dom;
    if (vr_dom_lookup(a, params, &dom, err) < 0)
        return -1;
    char uuid[VIR_UUID_STRING_BUFLEN] = "";
    virDomainGetUUIDString(dom, uuid);
    const char *name = virDomainGetName(dom);
    if (vr_vm_job_begin(uuid, name ? name : "?", job, err) < 0) {
        virDomainFree(dom);
        return -1;
    }
    *out = dom;
    return 0;
}

void vr_vm_job_end_free(virDomainPtr dom)
{
    char uuid[VIR_UUID_STRING_BUFLEN] = "";
    virDomainGetUUIDString(dom, uuid);
    vr_vm_job_end(uuid);
    virDomainFree(dom);
}

bool vr_vm_job_pending(const char *uuid)
{
    pthread_mutex_lock(&lock);
    bool any = find(uuid) != NULL;
    for (job_slot *s = waiting; s && !any; s = s->next)
        any = !strcasecmp(s->uuid, uuid);
    pthread_mutex_unlock(&lock);
    return any;
}

void vr_vm_jobs_stop(void)
{
    pthread_once(&ended_once, init_cond);
    pthread_mutex_lock(&lock);
    stopping = true;
    pthread_cond_broadcast(&ended);
    pthread_mutex_unlock(&lock);
}
