/* The service watchdog (watchdog.h). */
#include "watchdog.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sdnotify.h"

static long long beats[VR_WATCHDOG_MAX_LOOPS]; /* CLOCK_MONOTONIC ms; atomic */
static const char *loop_names[VR_WATCHDOG_MAX_LOOPS];
static int loops;
static long long period;
static pthread_t tid;
static bool running;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static bool stopping;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void vr_watchdog_beat(int slot)
{
    if (slot >= 0 && slot < VR_WATCHDOG_MAX_LOOPS)
        __atomic_store_n(&beats[slot], now_ms(), __ATOMIC_RELAXED);
}

static void *ping_thread(void *arg)
{
    int stale_logged = -1;
    pthread_mutex_lock(&lock);
    while (!stopping) {
        long long now = now_ms();
        int stale = -1;
        for (int i = 0; i < loops && stale < 0; i++)
            if (now - __atomic_load_n(&beats[i], __ATOMIC_RELAXED) > period)
                stale = i;
        if (stale < 0) {
            vr_sd_notify("WATCHDOG=1");
            stale_logged = -1;
        } else if (stale != stale_logged) {
            /* systemd restarts us when the period ends without a ping */
            VR_ERROR("watchdog: the %s has made no progress for %lld ms; not telling systemd we are alive",
                     loop_names[stale], now - __atomic_load_n(&beats[stale], __ATOMIC_RELAXED));
            stale_logged = stale;
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        long long ns = until.tv_nsec + (period / 2) * 1000000LL;
        until.tv_sec += ns / 1000000000LL;
        until.tv_nsec = ns % 1000000000LL;
        pthread_cond_timedwait(&wake, &lock, &until);
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

int vr_watchdog_start(int nloops, const char *const names[], long long *period_ms, vr_error *err)
{
    *period_ms = 0;
    const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
    if (!usec || !*usec)
        return 0;
    if (pid && *pid && strtoll(pid, NULL, 10) != (long long)getpid())
        return 0; /* meant for another process (we were started by it) */
    char *end;
    long long us = strtoll(usec, &end, 10);
    if (*end || us < 2000 || nloops < 0 || nloops > VR_WATCHDOG_MAX_LOOPS)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "WATCHDOG_USEC '%.40s' is not a period of at least 2 ms",
                            usec);
    period = us / 1000;
    loops = nloops;
    for (int i = 0; i < nloops; i++) {
        loop_names[i] = names[i];
        vr_watchdog_beat(i);
    }
    if (pthread_create(&tid, NULL, ping_thread, NULL) != 0)
        return vr_error_set(err, VR_ERR_INTERNAL, "cannot start the watchdog thread");
    running = true;
    *period_ms = period;
    return 0;
}

void vr_watchdog_stop(void)
{
    if (!running)
        return;
    pthread_mutex_lock(&lock);
    stopping = true;
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&lock);
    pthread_join(tid, NULL);
    running = false;
}
