#include "job_threads.h"

#include <time.h>

int vr_job_thread_start(vr_job_threads *t, void *(*fn)(void *), void *arg)
{
    pthread_t th;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_mutex_lock(&t->lock);
    t->running++; /* before the thread runs: it may be done at once */
    pthread_mutex_unlock(&t->lock);
    int rc = pthread_create(&th, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    if (rc != 0)
        vr_job_thread_done(t);
    return rc == 0 ? 0 : -1;
}

void vr_job_thread_done(vr_job_threads *t)
{
    pthread_mutex_lock(&t->lock);
    if (--t->running == 0)
        pthread_cond_broadcast(&t->none_running);
    pthread_mutex_unlock(&t->lock);
}

bool vr_job_threads_stopping(vr_job_threads *t)
{
    pthread_mutex_lock(&t->lock);
    bool stop = t->stopping;
    pthread_mutex_unlock(&t->lock);
    return stop;
}

int vr_job_threads_stop(vr_job_threads *t, int wait_ms)
{
    struct timespec end;
    clock_gettime(CLOCK_REALTIME, &end);
    end.tv_sec += wait_ms / 1000;
    end.tv_nsec += (long)(wait_ms % 1000) * 1000000;
    if (end.tv_nsec >= 1000000000) {
        end.tv_sec++;
        end.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&t->lock);
    t->stopping = true;
    while (t->running > 0 && pthread_cond_timedwait(&t->none_running, &t->lock, &end) == 0)
        ;
    int left = t->running;
    pthread_mutex_unlock(&t->lock);
    return left;
}
