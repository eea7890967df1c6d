/* HTTPS server for the REST API on libmicrohttpd: collects a request
 * (with a body size limit), hands it to one handler, sends back JSON.
 * Errors use the API's fault shape {"fault":{"reason","detail"}}.
 *
 * Malformed requests are refused here, before the handler, each with a
 * prompt JSON fault: methods the API does not use (405), a request target
 * over VR_HTTP_MAX_URL bytes (414), a head over VR_HTTP_MAX_HEAD bytes or
 * VR_HTTP_MAX_HEADERS lines (431), a path or query that is not valid UTF-8
 * once percent-decoded or holds too many parameters (400), a body over the
 * limit (413). Every answer with a status that carries a body has a JSON
 * body: a handler whose body cannot be encoded gets a 500 fault instead.
 *
 * One route may instead take its body as a stream (vr_http_streamer: a disk
 * image, any size) and answers may stream out (vr_http_resp.read); every
 * other request keeps the limit above. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "error.h"

typedef struct vr_http vr_http;
struct MHD_Connection;

typedef struct vr_http_req {
    const char *method;
    const char *path;          /* without the query string */
    const char *body;          /* raw body, NUL-terminated ("" if none) */
    size_t body_len;
    struct MHD_Connection *conn;
    char user[128];            /* set by the auth check */
    void *priv;                /* the server's parsed query; NULL outside it */
    uint64_t parked_until_ns;  /* a held long poll run again: the time it was held until (0: first run) */
} vr_http_req;

typedef struct vr_http_resp {
    int status;
    json_t *body;              /* owned; NULL = empty body */
    char location[512];        /* Location header when non-empty */
    /* A streamed answer (status 200, application/octet-stream, body
     * ignored) of `length` bytes: read copies up to max bytes at pos into
     * buf and returns how many (> 0), or -1 to cut the connection; the
     * server calls read_free(read_cls) once the answer is done with. */
    long long (*read)(void *cls, unsigned long long pos, char *buf, size_t max);
    void (*read_free)(void *cls);
    void *read_cls;
    long long length;
    /* A text answer instead of JSON (GET /metrics, the portal's files):
     * malloc'd, owned by the server once set, sent with content_type when
     * status is 200, or whatever the status when raw is set. text_len is
     * its length when it is not a C string (0: strlen). headers, when not
     * NULL, are name, value pairs ending with a NULL name (static strings)
     * sent with it in place of the default Cache-Control: no-store. */
    char *text;
    const char *content_type;
    size_t text_len;
    bool raw;
    const char *const *headers;
    /* A protocol upgrade (a WebSocket): status 101 with `headers` (which
     * must name Upgrade; they live in upgrade_cls). Once the client has the
     * answer, upgraded(cls, sock, extra, extra_len, handle) runs on the
     * server's thread with the connection's socket (for HTTPS a socket
     * pair end the server encrypts behind) and the bytes the client sent
     * after its head; the callee owns cls and must end the connection with
     * vr_http_upgrade_close(handle), from any thread. upgrade_free(cls)
     * runs instead when the upgrade never happens. */
    void (*upgraded)(void *cls, int sock, const char *extra, size_t extra_len, void *handle);
    void (*upgrade_free)(void *cls);
    void *upgrade_cls;
    /* A long poll: nonzero (a vr_mono_ns time), the request is held
     * without a thread until vr_http_wake() or that time, then its handler
     * runs again (req.parked_until_ns set); the answer filled beside it is
     * sent instead when the server is stopping. */
    uint64_t park_until_ns;
    /* What lets a wake skip it (vr_http_opts.park_relevant): whom it is
     * for and how far it has seen (both optional). */
    char park_key[128];
    long long park_mark;
} vr_http_resp;

/* Run the handlers of every held long poll again (something they may be
 * waiting for happened: a new event). Any thread; cheap when none is held. */
void vr_http_wake(void);
/* How many requests are held now. */
int vr_http_parked(void);

/* End an upgraded connection (see vr_http_resp.upgraded). */
void vr_http_upgrade_close(void *handle);

typedef void (*vr_http_handler)(void *ctx, vr_http_req *req, vr_http_resp *resp);

/* A request body taken as a stream instead of being collected (a disk
 * image: any size, bounded memory). The callbacks run on the request's
 * server thread, in order: data for each piece as it arrives, then finish
 * once the body is complete, then close when the request ends. */
typedef struct vr_http_stream vr_http_stream;
struct vr_http_stream {
    /* A piece of the body. Returning -1 with a fault in resp stops the
     * stream: the rest of the body is read and dropped, and resp is the
     * answer (its connection then closes). */
    int (*data)(vr_http_stream *s, const char *buf, size_t len, vr_http_resp *resp);
    /* The whole body arrived (data never failed): fill resp. */
    void (*finish)(vr_http_stream *s, vr_http_resp *resp);
    /* Always called last: the request was answered after finish
     * (finished true) or not (refused, or the client went away). Frees s. */
    void (*close)(vr_http_stream *s, bool finished);
};

/* Asked once a request's head is complete and sane, before its body: NULL
 * with resp untouched lets the server collect the body (up to max_body)
 * for the handler as usual; NULL with resp->status set refuses the request
 * unread (its connection then closes); a stream takes the body. */
typedef vr_http_stream *(*vr_http_streamer)(void *ctx, vr_http_req *req, vr_http_resp *resp);

/* Told once per answered request, when it is done (its answer sent or the
 * client gone): the method and decoded path, the status answered and the
 * seconds from the request line to the end. On the server's thread. */
typedef void (*vr_http_observer)(void *ctx, const char *method, const char *path, int status,
                                 double seconds);

typedef struct vr_http_opts {
    const char *address;       /* bind address, e.g. "0.0.0.0" */
    int port;
    const char *cert_file, *key_file; /* PEM; HTTPS only */
    size_t max_body;           /* larger bodies get 413 */
    int threads;
    unsigned idle_timeout_s;   /* HTTP idle: a connection silent this long is closed (0: 30) */
    vr_http_streamer streamer; /* NULL: every body is collected */
    vr_http_observer observe;  /* NULL: none */
    /* Asked at a wake for each distinct park_key among the held long polls
     * (with the smallest park_mark of that key), on the server's own
     * thread: false leaves them held (nothing new for them). NULL: every
     * wake runs every held handler again. */
    bool (*park_relevant)(void *ctx, const char *key, long long mark);
} vr_http_opts;

/* Request head limits (see the comment at the top). */
#define VR_HTTP_MAX_URL 8192
#define VR_HTTP_MAX_HEAD 16384
#define VR_HTTP_MAX_HEADERS 100
#define VR_HTTP_MAX_ARGS 64

int vr_http_start(const vr_http_opts *opts, vr_http_handler handler, void *ctx, vr_http **out,
                  vr_error *err);
/* Stops accepting, finishes the requests in progress (their handlers
 * return first) and frees the server. */
void vr_http_stop(vr_http *h);

/* Query argument (percent-decoded, valid UTF-8; the first of repeated
 * ones; NULL also for a key given without '=') or header value (borrowed)
 * or NULL. */
const char *vr_http_arg(vr_http_req *req, const char *name);
const char *vr_http_header(vr_http_req *req, const char *name);

/* Fill resp with a fault. The detail is made valid UTF-8 (invalid bytes
 * become U+FFFD) and bounded, never cut inside a character, so the fault
 * can always be encoded. Returns -1 for convenience. */
int vr_http_fault(vr_http_resp *resp, int status, const char *reason, const char *detail_fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Map a vr_error code to an HTTP status. */
int vr_http_status_for(const vr_error *err);
