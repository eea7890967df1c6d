/* What the HTTP server's two halves share (private to src/engine/api):
 * http.c takes requests in, http_send.c sends the answers out. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <microhttpd.h>

#include "http.h"

typedef struct arg {
    char *key, *value;
} arg;

/* One request: what on_uri parsed from the request target, then the body
 * while it arrives. */
typedef struct request {
    bool own_query;      /* the query is parsed here, not by the library */
    bool headers_seen;   /* the handler's first call (head complete) is past */
    size_t url_len;      /* the raw request target */
    int refuse;          /* 0, or the status the target is refused with */
    char why[160];
    char *path;          /* percent-decoded; NULL if refused */
    char *query;         /* the raw query copied, then split in place */
    arg args[VR_HTTP_MAX_ARGS];
    int nargs;
    char *buf;           /* the body */
    size_t len;
    bool too_large;
    vr_http_stream *stream; /* a streamed body's taker (buf unused) */
    bool stream_failed, stream_finished;
    vr_http_resp stream_resp; /* the answer once data failed */
    uint64_t started_ns; /* the request line arrived */
    int status;          /* the status answered (0: none yet) */
    void (*upgraded)(void *cls, int sock, const char *extra, size_t extra_len, void *handle);
    void (*upgrade_free)(void *cls); /* an upgrade answered but not yet done */
    void *upgrade_cls;
    char method[8];      /* for the observer ("" beyond 7 bytes: not one we serve) */
    int park_state;      /* VR_PARK_*: a long poll held without a thread (http_park.c) */
    uint64_t park_until_ns; /* the time it was first parked until (0: never parked) */
    unsigned long long park_gen; /* the lot's wakes when its handler last began */
} request;

enum { VR_PARK_NONE, VR_PARK_PARKED, VR_PARK_RESUMING };

/* The reason phrase of an HTTP status. */
const char *vr_http_reason(int status);

/* Answer the request with r (any of JSON, text, a stream or a 101
 * upgrade), noting the status in rq (NULL before on_uri) for the
 * observer; close asks the client to close the connection after it,
 * allow fills an Allow header. */
enum MHD_Result vr_http_send(struct MHD_Connection *conn, request *rq, vr_http_resp *r, bool close,
                             const char *allow);
