/* HTTPS server for the REST API on libmicrohttpd: collects a request
 * (with a body size limit), hands it to one handler, sends back JSON.
 * Errors use the API's fault shape {"fault":{"reason","detail"}}. */
#pragma once

#include <stddef.h>
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
} vr_http_req;

typedef struct vr_http_resp {
    int status;
    json_t *body;              /* owned; NULL = empty body */
    char location[512];        /* Location header when non-empty */
} vr_http_resp;

typedef void (*vr_http_handler)(void *ctx, vr_http_req *req, vr_http_resp *resp);

typedef struct vr_http_opts {
    const char *address;       /* bind address, e.g. "0.0.0.0" */
    int port;
    const char *cert_file, *key_file; /* PEM; HTTPS only */
    size_t max_body;           /* larger bodies get 413 */
    int threads;
} vr_http_opts;

int vr_http_start(const vr_http_opts *opts, vr_http_handler handler, void *ctx, vr_http **out,
                  vr_error *err);
void vr_http_stop(vr_http *h);

/* Query argument or header value (borrowed) or NULL. */
const char *vr_http_arg(vr_http_req *req, const char *name);
const char *vr_http_header(vr_http_req *req, const char *name);

/* Fill resp with a fault. Returns -1 for convenience. */
int vr_http_fault(vr_http_resp *resp, int status, const char *reason, const char *detail_fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Map a vr_error code to an HTTP status. */
int vr_http_status_for(const vr_error *err);
