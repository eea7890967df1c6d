/* Parked requests (http_park.c), private to the HTTP server: a long poll
 * held as a suspended connection, without a thread. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "http_conn.h"

/* Start the lot's timer (once per server start), with the relevance
 * filter of vr_http_opts (NULL: none): 0 or -1. */
int vr_park_open(bool (*relevant)(void *ctx, const char *key, long long mark), void *ctx);
/* The count of wakes so far, recorded in rq->park_gen before a handler
 * that may park runs. */
unsigned long long vr_park_gen(void);
/* Suspend conn until vr_http_wake() or until_ns (vr_mono_ns): true when
 * parked (the caller then returns MHD_YES without an answer), false when
 * the lot is closed (answer now). From the request's handler only. */
bool vr_park(struct MHD_Connection *conn, request *rq, uint64_t until_ns, const char *key, long long mark);
/* A request that was held has ended (its answer sent, or the client gone). */
void vr_park_done(request *rq);
/* Refuse new parks, resume every parked request and wait (up to 10 s)
 * until each was answered: the library must not stop with one suspended. */
void vr_park_close(void);
