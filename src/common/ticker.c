/* Periodic worker threads (ticker.h). */
#include "ticker.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"

struct vr_ticker {
    const char *name;
    long long period_ms;
    void (*fn)(void *);
    void *arg;
    pthread_t tid;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* CLOCK_MONOTONIC */
    bool kicked, stopping; /* under lock */
};

static void add_ms(struct timespec *ts, long long ms)
{
    long long ns = ts->tv_nsec + (ms % 1000) * 1000000LL;
    ts->tv_sec += (time_t)(ms / 1000 + ns / 1000000000LL);
    ts->tv_nsec = ns % 1000000000LL;
}

struct timespec vr_mono_after(long long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    add_ms(&ts, ms);
    return ts;
}

void vr_cond_init_mono(pthread_cond_t *cond)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(cond, &ca);
    pthread_condattr_destroy(&ca);
}

static void *tick_thread(void *arg)
{
    vr_ticker *t = arg;
    pthread_mutex_lock(&t->lock);
    while (!t->stopping) {
        t->kicked = false;
        pthread_mutex_unlock(&t->lock);
        t->fn(t->arg);
        pthread_mutex_lock(&t->lock);
        struct timespec until = vr_mono_after(t->period_ms);
        while (!t->stopping && !t->kicked)
            if (pthread_cond_timedwait(&t->wake, &t->lock, &until) == ETIMEDOUT)
                break;
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

vr_ticker *vr_ticker_start(const char *name, long long period_ms, void (*fn)(void *arg), void *arg,
                           vr_error *err)
{
    vr_ticker *t = calloc(1, sizeof(*t));
    if (!t) {
        vr_error_set(err, VR_ERR_INTERNAL, "out of memory starting the %s", name);
        return NULL;
    }
    t->name = name;
    t->period_ms = period_ms > 0 ? period_ms : 1;
    t->fn = fn;
    t->arg = arg;
    pthread_mutex_init(&t->lock, NULL);
    vr_cond_init_mono(&t->wake);
    if (pthread_create(&t->tid, NULL, tick_thread, t) != 0) {
        pthread_cond_destroy(&t->wake);
        pthread_mutex_destroy(&t->lock);
        free(t);
        vr_error_set(err, VR_ERR_INTERNAL, "cannot start the %s thread", name);
        return NULL;
    }
    return t;
}

void vr_ticker_kick(vr_ticker *t)
{
    pthread_mutex_lock(&t->lock);
    t->kicked = true;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
}

void vr_ticker_stop(vr_ticker *t, long long wait_ms)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    t->stopping = true;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
    if (wait_ms > 0) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until); /* pthread_timedjoin_np takes CLOCK_REALTIME */
        add_ms(&until, wait_ms);
        if (pthread_timedjoin_np(t->tid, NULL, &until) != 0) {
            VR_WARN("the %s is stuck; not waiting for it", t->name);
            pthread_detach(t->tid);
            return;
        }
    } else {
        pthread_join(t->tid, NULL);
    }
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

long long vr_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
