/* The detached worker threads of long jobs (long_jobs.h) that a stopping
 * agent must wait for: they use libvirt or storage the agent is about to
 * let go (Volume.copy's qemu-img, VM.blockCopy's mirror). One counter per
 * kind of work, static in its file (VR_JOB_THREADS_INIT). */
#pragma once

#include <pthread.h>
#include <stdbool.h>

typedef struct vr_job_threads {
    pthread_mutex_t lock;
    pthread_cond_t none_running;
    int running;
    bool stopping;
} vr_job_threads;

#define VR_JOB_THREADS_INIT {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, false}

/* Run fn(arg) on a detached thread, counted until vr_job_thread_done().
 * 0, or -1 when the thread cannot start (nothing counted then). */
int vr_job_thread_start(vr_job_threads *t, void *(*fn)(void *), void *arg);

/* The thread's last act. */
void vr_job_thread_done(vr_job_threads *t);

/* True once the agent stops: the thread should end its work now. */
bool vr_job_threads_stopping(vr_job_threads *t);

/* The agent stops: wait up to about wait_ms for the threads to end.
 * Returns how many still run. */
int vr_job_threads_stop(vr_job_threads *t, int wait_ms);
