#include "http.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>

#include "log.h"

struct vr_http {
    struct MHD_Daemon *daemon;
    vr_http_handler handler;
    void *ctx;
    size_t max_body;
    char *cert, *key;
};

/* Per-request state while the body arrives. */
typedef struct upload {
    char *buf;
    size_t len;
    bool too_large;
} upload;

int vr_http_fault(vr_http_resp *resp, int status, const char *reason, const char *detail_fmt, ...)
{
    char detail[1024];
    va_list ap;
    va_start(ap, detail_fmt);
    vsnprintf(detail, sizeof(detail), detail_fmt, ap);
    va_end(ap);
    json_decref(resp->body);
    resp->status = status;
    resp->body = json_pack("{s:{s:s, s:s}}", "fault", "reason", reason, "detail", detail);
    return -1;
}

int vr_http_status_for(const vr_error *err)
{
    switch (err->code) {
    case VR_ERR_PARSE:
    case VR_ERR_INVALID_REQUEST:
    case VR_ERR_INVALID_PARAMS: return 400;
    case VR_ERR_NO_VM: return 404;
    case VR_ERR_VM_EXISTS:
    case VR_ERR_CONFLICT:
    case VR_ERR_BAD_STATE: return 409;
    case VR_ERR_LIMIT:
    case VR_ERR_UNSUPPORTED: return 422;
    case VR_ERR_IO: return 502;          /* an agent did not answer */
    case VR_ERR_UNAVAILABLE: return 503; /* the database did not */
    default: return 500;
    }
}

const char *vr_http_arg(vr_http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *vr_http_header(vr_http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

static enum MHD_Result send_response(struct MHD_Connection *conn, vr_http_resp *r)
{
    char *text = r->body ? json_dumps(r->body, JSON_COMPACT) : NULL;
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        text ? strlen(text) : 0, text ? text : (char *)"", text ? MHD_RESPMEM_MUST_FREE
                                                               : MHD_RESPMEM_PERSISTENT);
    if (text)
        MHD_add_response_header(resp, "Content-Type", "application/json");
    if (r->location[0])
        MHD_add_response_header(resp, "Location", r->location);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **state)
{
    vr_http *h = cls;
    upload *up = *state;
    if (!up) {
        up = calloc(1, sizeof(*up));
        if (!up)
            return MHD_NO;
        *state = up;
        return MHD_YES;
    }
    if (*upload_size) {
        /* Keep draining an oversized body, but stop storing it. */
        if (!up->too_large && up->len + *upload_size > h->max_body) {
            up->too_large = true;
            free(up->buf);
            up->buf = NULL;
        }
        if (!up->too_large) {
            char *nb = realloc(up->buf, up->len + *upload_size + 1);
            if (!nb)
                return MHD_NO;
            up->buf = nb;
            memcpy(up->buf + up->len, upload_data, *upload_size);
            up->len += *upload_size;
            up->buf[up->len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    vr_http_resp resp = {.status = 200};
    if (up->too_large) {
        vr_http_fault(&resp, 413, "Request Entity Too Large",
                      "request body exceeds the limit of %zu bytes", h->max_body);
    } else {
        vr_http_req req = {.method = method, .path = url, .body = up->buf ? up->buf : "",
                           .body_len = up->len, .conn = conn};
        h->handler(h->ctx, &req, &resp);
    }
    enum MHD_Result ret = send_response(conn, &resp);
    json_decref(resp.body);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **state,
                         enum MHD_RequestTerminationCode toe)
{
    upload *up = *state;
    if (up) {
        free(up->buf);
        free(up);
        *state = NULL;
    }
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = malloc(1 << 20);
    size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (buf)
        buf[n] = '\0';
    return buf;
}

int vr_http_start(const vr_http_opts *o, vr_http_handler handler, void *ctx, vr_http **out,
                  vr_error *err)
{
    vr_http *h = calloc(1, sizeof(*h));
    if (!h)
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory");
    h->handler = handler;
    h->ctx = ctx;
    h->max_body = o->max_body;
    h->cert = slurp(o->cert_file);
    h->key = slurp(o->key_file);
    if (!h->cert || !h->key) {
        vr_error_set(err, VR_ERR_IO, "cannot read HTTPS certificate '%s' or key '%s'",
                     o->cert_file, o->key_file);
        goto fail;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->port)};
    if (inet_pton(AF_INET, o->address, &sa.sin_addr) != 1) {
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "bad listen address '%s' (IPv4 expected)",
                     o->address);
        goto fail;
    }
    h->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TLS | MHD_USE_ERROR_LOG,
        (uint16_t)o->port, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, &sa,
        MHD_OPTION_HTTPS_MEM_CERT, h->cert, MHD_OPTION_HTTPS_MEM_KEY, h->key,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)o->threads, MHD_OPTION_CONNECTION_LIMIT, 512u,
        MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
        MHD_OPTION_END);
    if (!h->daemon) {
        vr_error_set(err, VR_ERR_IO, "cannot serve HTTPS on %s:%d", o->address, o->port);
        goto fail;
    }
    *out = h;
    return 0;
fail:
    free(h->cert);
    free(h->key);
    free(h);
    return -1;
}

void vr_http_stop(vr_http *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->daemon);
    free(h->cert);
    free(h->key);
    free(h);
}
