/* A ticker: one thread that runs a function now and then once per period
 * until it is stopped - the agent's monitors (storage, ENOSPC, VM health)
 * and the systemd watchdog. It owns the thread, its wake-up condition
 * (CLOCK_MONOTONIC, so clock steps neither stall nor rush it) and the
 * stop handshake, which each of them used to carry. */
#pragma once

#include <pthread.h>
#include <time.h>

#include "error.h"

typedef struct vr_ticker vr_ticker;

/* Start a thread running fn(arg) at once and then every period_ms (counted
 * from the end of the previous run) until vr_ticker_stop. name appears in
 * errors and logs (static). NULL with err set if the thread cannot start. */
vr_ticker *vr_ticker_start(const char *name, long long period_ms, void (*fn)(void *arg), void *arg,
                           vr_error *err);

/* Run the next round now instead of at the end of the period (a round in
 * progress finishes first). */
void vr_ticker_kick(vr_ticker *t);

/* Stop: no round starts after this; wait for the one in progress up to
 * wait_ms (<= 0: as long as it takes). A round that does not end in time
 * (stuck on dead storage) is left behind, detached, and its ticker leaked
 * on purpose: it still uses it. Frees t otherwise. NULL is a no-op. */
void vr_ticker_stop(vr_ticker *t, long long wait_ms);

/* Milliseconds of CLOCK_MONOTONIC: for deadlines and ages that clock steps
 * must not move. */
long long vr_mono_ms(void);

/* The CLOCK_MONOTONIC time ms from now: the deadline of a
 * pthread_cond_timedwait on a condition made by vr_cond_init_mono. */
struct timespec vr_mono_after(long long ms);

/* Initialise cond so that its timed waits count on CLOCK_MONOTONIC (a
 * wall-clock step must not turn a 10 s wait into hours or into none). */
void vr_cond_init_mono(pthread_cond_t *cond);
