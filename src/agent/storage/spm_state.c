/* This agent's SPM roles (see spm_state.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "spm_state.h"

static struct {
    char pool[37], master[37];
    long long lver;
    int jobs; /* vr_spm_job_begin minus vr_spm_job_end */
} held[VR_SPM_MAX_POOLS];
static int nheld;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static int find(const char *pool)
{
    for (int i = 0; i < nheld; i++)
        if (!strcmp(held[i].pool, pool))
            return i;
    return -1;
}

int vr_spm_state_set(const char *pool, const char *master, long long lver)
{
    pthread_mutex_lock(&lock);
    int i = find(pool), rc = 0;
    if (i < 0 && nheld == VR_SPM_MAX_POOLS)
        rc = -ENOSPC;
    else {
        if (i < 0) {
            i = nheld++;
            held[i].jobs = 0;
        }
        snprintf(held[i].pool, sizeof(held[i].pool), "%s", pool);
        snprintf(held[i].master, sizeof(held[i].master), "%s", master);
        held[i].lver = lver;
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

void vr_spm_state_clear(const char *pool)
{
    pthread_mutex_lock(&lock);
    int i = find(pool);
    if (i >= 0)
        held[i] = held[--nheld];
    pthread_mutex_unlock(&lock);
}

bool vr_spm_state_get(const char *pool, char *master, long long *lver)
{
    pthread_mutex_lock(&lock);
    int i = find(pool);
    if (i >= 0) {
        if (master)
            snprintf(master, 37, "%s", held[i].master);
        if (lver)
            *lver = held[i].lver;
    }
    pthread_mutex_unlock(&lock);
    return i >= 0;
}

int vr_spm_check(const char *pool, const char *what, vr_error *err)
{
    if (pool && *pool && vr_spm_state_get(pool, NULL, NULL))
        return 0;
    return vr_error_set(err, VR_ERR_NOT_SPM, "cannot %s: this host is not the SPM of data center %s",
                        what, pool && *pool ? pool : "(domain not attached)");
}

int vr_spm_job_begin(const char *pool, const char *what, vr_error *err)
{
    pthread_mutex_lock(&lock);
    int i = pool ? find(pool) : -1;
    if (i >= 0)
        held[i].jobs++;
    pthread_mutex_unlock(&lock);
    if (i < 0)
        return vr_error_set(err, VR_ERR_NOT_SPM,
                            "cannot %s: this host is not the SPM of data center %s", what,
                            pool && *pool ? pool : "(domain not attached)");
    return 0;
}

void vr_spm_job_end(const char *pool)
{
    pthread_mutex_lock(&lock);
    int i = find(pool);
    if (i >= 0 && held[i].jobs > 0)
        held[i].jobs--;
    pthread_mutex_unlock(&lock);
}

int vr_spm_jobs_running(const char *pool)
{
    pthread_mutex_lock(&lock);
    int i = find(pool), n = i >= 0 ? held[i].jobs : 0;
    pthread_mutex_unlock(&lock);
    return n;
}

int vr_spm_state_clear_idle(const char *pool)
{
    pthread_mutex_lock(&lock);
    int i = find(pool), n = i >= 0 ? held[i].jobs : 0;
    if (i >= 0 && n == 0)
        held[i] = held[--nheld];
    pthread_mutex_unlock(&lock);
    return n;
}
