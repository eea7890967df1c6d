/* The service watchdog (watchdog.h). */
#include "watchdog.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sdnotify.h"
#include "ticker.h"

static long long beats[VR_WATCHDOG_MAX_LOOPS]; /* CLOCK_MONOTONIC ms; atomic */
static const char *loop_names[VR_WATCHDOG_MAX_LOOPS];
static int loops;
static long long period;
static int stale_logged = -1; /* ticker thread only */
static vr_ticker *ticker;

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

static void ping(void *arg)
{
    (void)arg;
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
    ticker = vr_ticker_start("watchdog", period / 2, ping, NULL, err);
    if (!ticker)
        return -1;
    *period_ms = period;
    return 0;
}

void vr_watchdog_stop(void)
{
    vr_ticker_stop(ticker, 0);
    ticker = NULL;
}
