#include "http.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>

#include "hist.h"
#include "http_conn.h"
#include "i18n.h"
#include "log.h"
#include "park.h"
#include "utf8.h"

/* libmicrohttpd keeps a request's whole head in one memory pool per
 * connection and writes its answer's head from the same pool. In 0.9.75 a
 * head that leaves too little of it gets no answer at all (the connection
 * is closed), and a query with more parameters than the pool can record
 * leaves the connection hanging until the idle timeout. So the pool is
 * four times our own head limit: every head from that limit up to nearly
 * the pool size gets our JSON refusal, and we parse the query ourselves
 * (see on_uri). Only a head of about POOL_SIZE bytes or more is refused by
 * the library itself, with its own short HTML 414/431, or (within a few
 * hundred bytes of POOL_SIZE) by closing the connection. */
#define POOL_SIZE (4 * VR_HTTP_MAX_HEAD)
#define IDLE_TIMEOUT_S 30
#define ALLOWED_METHODS "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS"

struct vr_http {
    struct MHD_Daemon *daemon;
    vr_http_handler handler;
    vr_http_streamer streamer;
    vr_http_observer observe;
    void *ctx;
    size_t max_body;
    char *cert, *key;
};

const char *vr_http_reason(int status)
{
    const char *r = MHD_get_reason_phrase_for((unsigned)status);
    return r && *r ? r : "Error";
}

int vr_http_fault(vr_http_resp *resp, int status, const char *reason, const char *detail_fmt, ...)
{
    /* Details quote clients and other programs: jansson refuses a string
     * that is not valid UTF-8, and the fault would silently vanish. */
    char detail[1024], why[128];
    va_list ap;
    va_start(ap, detail_fmt);
    /* In the request's language (docs/rest-api.md "Languages"). */
    const char *lang = vr_i18n_thread();
    int n = -1;
    if (strcmp(lang, VR_LANG_EN)) {
        va_list again;
        va_copy(again, ap);
        json_t *m = vr_i18n_vcapture(detail_fmt, again);
        va_end(again);
        if (m)
            n = vr_i18n_render(detail, sizeof(detail), detail_fmt, json_object_get(m, "args"), lang);
        json_decref(m);
    }
    if (n < 0)
        vr_utf8_vformat(detail, sizeof(detail), detail_fmt, ap);
    va_end(ap);
    vr_utf8_sanitize(why, sizeof(why), reason ? reason : "", reason ? strlen(reason) : 0);
    json_decref(resp->body);
    resp->status = status;
    resp->body = json_pack("{s:{s:s, s:s}}", "fault", "reason", *why ? why : vr_http_reason(status),
                           "detail", *detail ? detail : vr_http_reason(status));
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
    request *rq = req->priv;
    if (rq && rq->own_query) {
        for (int i = 0; i < rq->nargs; i++)
            if (!strcmp(rq->args[i].key, name))
                return rq->args[i].value;
        return NULL;
    }
    return req->conn ? MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name) : NULL;
}

const char *vr_http_header(vr_http_req *req, const char *name)
{
    return req->conn ? MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name) : NULL;
}

/* Percent-decode s[0..n) (and '+' as a space in queries) into a new
 * string. NULL when the result is not valid UTF-8 or holds a NUL byte. */
static char *decode(const char *s, size_t n, bool plus_is_space)
{
    char *d = malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    if (plus_is_space)
        for (char *p = d; *p; p++)
            if (*p == '+')
                *p = ' ';
    size_t len = MHD_http_unescape(d);
    if (!vr_utf8_valid(d, len)) {
        free(d);
        return NULL;
    }
    return d;
}

/* The first refusal of a request wins; its text is a message
 * (vr_i18n_vformat), answered in the request's language. */
static void refuse(request *rq, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void refuse(request *rq, int status, const char *fmt, ...)
{
    if (!rq->refuse) {
        rq->refuse = status;
        va_list ap;
        va_start(ap, fmt);
        vr_i18n_vformat(rq->why, sizeof(rq->why), fmt, ap);
        va_end(ap);
    }
}

/* Split the query copy into decoded parameters. */
static void parse_query(request *rq)
{
    char *save = NULL;
    for (char *kv = strtok_r(rq->query, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
        if (rq->nargs == VR_HTTP_MAX_ARGS) {
            refuse(rq, 400, N_("too many query parameters (at most %d)"), VR_HTTP_MAX_ARGS);
            return;
        }
        char *eq = strchr(kv, '=');
        /* A key without '=' has no value (NULL), as the library had it. */
        char *k = decode(kv, eq ? (size_t)(eq - kv) : strlen(kv), true);
        char *v = eq ? decode(eq + 1, strlen(eq + 1), true) : NULL;
        if (!k || (eq && !v)) {
            free(k);
            free(v);
            refuse(rq, 400, N_("a query parameter is not valid UTF-8 once percent-decoded (or holds a NUL byte)"));
            return;
        }
        rq->args[rq->nargs++] = (arg){k, v};
    }
}

/* Called by the library as soon as the request line is read, before it
 * parses the query. The query is taken here and blanked in the library's
 * buffer (the library cuts the target at this '?' and parses what follows,
 * now nothing), so its parser, which hangs the connection when its pool
 * runs out, never sees many parameters; ours is bounded and answers. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    (void)conn;
    request *rq = calloc(1, sizeof(*rq));
    if (!rq)
        return NULL; /* on_request makes do with the library's parse */
    rq->own_query = true;
    rq->started_ns = vr_mono_ns();
    rq->url_len = strlen(uri);
    char *q = strchr(uri, '?');
    size_t plen = q ? (size_t)(q - uri) : rq->url_len;
    if (rq->url_len > VR_HTTP_MAX_URL)
        refuse(rq, 414, N_("the request target exceeds %d bytes"), VR_HTTP_MAX_URL);
    else if (q && !(rq->query = strdup(q + 1)))
        refuse(rq, 500, N_("out of memory"));
    if (q)
        q[1] = '\0'; /* the library's own writable buffer (uri is const only in its API) */
    if (!rq->refuse && !(rq->path = decode(uri, plen, false)))
        refuse(rq, 400, N_("the URL path is not valid UTF-8 once percent-decoded (or holds a NUL byte)"));
    if (!rq->refuse && rq->query)
        parse_query(rq);
    return rq;
}

static void free_request(request *rq)
{
    if (!rq)
        return;
    if (rq->stream)
        rq->stream->close(rq->stream, rq->stream_finished);
    if (rq->upgrade_free) /* answered 101, never upgraded (the client left) */
        rq->upgrade_free(rq->upgrade_cls);
    json_decref(rq->stream_resp.body);
    for (int i = 0; i < rq->nargs; i++) {
        free(rq->args[i].key);
        free(rq->args[i].value);
    }
    free(rq->path);
    free(rq->query);
    free(rq->buf);
    free(rq);
}

struct head_size {
    size_t bytes;
    unsigned lines;
};

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    (void)kind;
    struct head_size *hs = cls;
    hs->bytes += strlen(key) + (value ? strlen(value) : 0) + 4; /* ": " and CRLF */
    hs->lines++;
    return MHD_YES;
}

static bool method_allowed(const char *m)
{
    static const char *const ok[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (!strcmp(m, ok[i]))
            return true;
    return false;
}

/* The head is complete: refuse it now if it is malformed or too large,
 * before any body is read. Returns true when a refusal was queued. The
 * announced body length is checked only when check_length (a streamed
 * body has no limit here). */
static bool refuse_head(vr_http *h, struct MHD_Connection *conn, request *rq, const char *method,
                        bool check_length, enum MHD_Result *ret)
{
    vr_http_resp r = {0};
    const char *allow = NULL;
    struct head_size hs = {strlen(method) + rq->url_len + 12, 1};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, count_header, &hs);
    const char *clen = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    const char *expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Expect");
    if (!method_allowed(method)) {
        /* CONNECT would otherwise be answered 2xx without a length
         * (a tunnel), leaving the client waiting. */
        vr_http_fault(&r, 405, "Method Not Allowed", "the API does not serve the method '%s'",
                      method);
        allow = ALLOWED_METHODS;
    } else if (rq->refuse == 414) {
        vr_http_fault(&r, 414, "URI Too Long", "%s", rq->why);
    } else if (hs.bytes > VR_HTTP_MAX_HEAD || hs.lines > VR_HTTP_MAX_HEADERS) {
        vr_http_fault(&r, 431, "Request Header Fields Too Large",
                      "the request head has %zu bytes in %u lines (at most %d bytes, %d lines)", hs.bytes,
                      hs.lines, VR_HTTP_MAX_HEAD, VR_HTTP_MAX_HEADERS);
    } else if (rq->refuse) {
        vr_http_fault(&r, rq->refuse, vr_http_reason(rq->refuse), "%s", rq->why);
    } else if (check_length && clen && expect && strtoull(clen, NULL, 10) > h->max_body) {
        /* The client waits for "100 Continue": tell it now, unsent. */
        vr_http_fault(&r, 413, "Request Entity Too Large",
                      "request body exceeds the limit of %zu bytes", h->max_body);
    } else {
        return false;
    }
    *ret = vr_http_send(conn, rq, &r, true, allow);
    json_decref(r.body);
    return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **state)
{
    /* Faults, events and job details render in the language the client
     * asked for; everything this request does runs on this thread. */
    vr_i18n_thread_set(vr_i18n_negotiate(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept-Language")));
    (void)version;
    vr_http *h = cls;
    request *rq = *state;
    if (!rq) {
        /* on_uri ran out of memory: the library parsed the query. */
        if (!(rq = calloc(1, sizeof(*rq))))
            return MHD_NO;
        *state = rq;
    }
    if (!rq->headers_seen) {
        rq->headers_seen = true;
        if (strlen(method) < sizeof(rq->method))
            memcpy(rq->method, method, strlen(method) + 1);
        if (!rq->started_ns)
            rq->started_ns = vr_mono_ns();
        enum MHD_Result ret;
        if (refuse_head(h, conn, rq, method, false, &ret))
            return ret;
        if (h->streamer) {
            vr_http_resp r = {0};
            vr_http_req req = {.method = method, .path = rq->path ? rq->path : url, .body = "",
                               .conn = conn, .priv = rq};
            rq->stream = h->streamer(h->ctx, &req, &r);
            if (!rq->stream && r.status) {
                ret = vr_http_send(conn, rq, &r, true, NULL);
                json_decref(r.body);
                return ret;
            }
            json_decref(r.body);
            if (rq->stream)
                return MHD_YES;
        }
        if (refuse_head(h, conn, rq, method, true, &ret))
            return ret;
        return MHD_YES;
    }
    if (rq->stream) {
        /* A streamed body: each piece goes to its taker as it comes (the
         * library's own buffer, never the whole body); once the taker
         * failed, the rest is read and dropped, then its fault answers. */
        if (*upload_size) {
            if (!rq->stream_failed &&
                rq->stream->data(rq->stream, upload_data, *upload_size, &rq->stream_resp) < 0)
                rq->stream_failed = true;
            *upload_size = 0;
            return MHD_YES;
        }
        vr_http_resp resp = {.status = 200};
        bool failed = rq->stream_failed;
        if (failed) {
            resp = rq->stream_resp;
            rq->stream_resp = (vr_http_resp){0};
        } else {
            rq->stream->finish(rq->stream, &resp);
            rq->stream_finished = true;
        }
        enum MHD_Result ret = vr_http_send(conn, rq, &resp, failed, NULL);
        json_decref(resp.body);
        return ret;
    }
    if (*upload_size) {
        /* Keep draining an oversized body, but stop storing it. */
        if (!rq->too_large && rq->len + *upload_size > h->max_body) {
            rq->too_large = true;
            free(rq->buf);
            rq->buf = NULL;
        }
        if (!rq->too_large) {
            char *nb = realloc(rq->buf, rq->len + *upload_size + 1);
            if (!nb)
                return MHD_NO;
            rq->buf = nb;
            memcpy(rq->buf + rq->len, upload_data, *upload_size);
            rq->len += *upload_size;
            rq->buf[rq->len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    vr_http_resp resp = {.status = 200};
    if (rq->too_large) {
        vr_http_fault(&resp, 413, "Request Entity Too Large",
                      "request body exceeds the limit of %zu bytes", h->max_body);
    } else {
        rq->park_gen = vr_park_gen(); /* before it reads: a wake from now on is not lost */
        vr_http_req req = {.method = method, .path = rq->path ? rq->path : url,
                           .body = rq->buf ? rq->buf : "", .body_len = rq->len, .conn = conn,
                           .priv = rq, .parked_until_ns = rq->park_until_ns};
        h->handler(h->ctx, &req, &resp);
        if (resp.park_until_ns && !resp.text && !resp.read && !resp.upgraded &&
            vr_park(conn, rq, resp.park_until_ns, resp.park_key, resp.park_mark)) {
            json_decref(resp.body); /* held: answered by a later run */
            return MHD_YES;
        }
    }
    enum MHD_Result ret = vr_http_send(conn, rq, &resp, rq->too_large, NULL);
    json_decref(resp.body);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **state,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    (void)toe;
    vr_http *h = cls;
    request *rq = *state;
    if (rq && rq->park_state != VR_PARK_NONE) /* a long poll that was held, answered */
        vr_park_done(rq);
    if (h->observe && rq && rq->status)
        h->observe(h->ctx, rq->method, rq->path ? rq->path : "", rq->status,
                   (double)(vr_mono_ns() - rq->started_ns) / 1e9);
    free_request(*state);
    *state = NULL;
}

/* The library's own messages (refused heads, TLS failures) go to our log,
 * as valid UTF-8 on one line. */
static void on_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    va_list copy;
    va_copy(copy, ap);
    vr_utf8_vformat(msg, sizeof(msg), fmt, copy);
    va_end(copy);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    VR_WARN("HTTP: %s", msg);
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
    h->streamer = o->streamer;
    h->observe = o->observe;
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
    /* HTTP idle: a connection that sends nothing for this long is closed,
     * also one stalled in the middle of its head or body. */
    unsigned idle = o->idle_timeout_s ? o->idle_timeout_s : IDLE_TIMEOUT_S;
    h->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TLS | MHD_USE_ERROR_LOG |
            MHD_ALLOW_UPGRADE | MHD_ALLOW_SUSPEND_RESUME,
        (uint16_t)o->port, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, on_log, h,
        MHD_OPTION_SOCK_ADDR, &sa,
        MHD_OPTION_HTTPS_MEM_CERT, h->cert, MHD_OPTION_HTTPS_MEM_KEY, h->key,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)o->threads, MHD_OPTION_CONNECTION_LIMIT, 512u,
        MHD_OPTION_CONNECTION_TIMEOUT, idle, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)POOL_SIZE, MHD_OPTION_URI_LOG_CALLBACK, on_uri, h, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, h, MHD_OPTION_END);
    if (!h->daemon) {
        vr_error_set(err, VR_ERR_IO, "cannot serve HTTPS on %s:%d", o->address, o->port);
        goto fail;
    }
    if (vr_park_open(o->park_relevant, ctx) < 0) { /* long polls' timer */
        MHD_stop_daemon(h->daemon);
        vr_error_set(err, VR_ERR_INTERNAL, "cannot start the long polls' timer");
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
    /* Held long polls answer first (the library must not stop with a
     * suspended connection); then joins the library's threads, each open
     * request's state freed through on_completed. */
    vr_park_close();
    MHD_stop_daemon(h->daemon);
    free(h->cert);
    free(h->key);
    free(h);
}
