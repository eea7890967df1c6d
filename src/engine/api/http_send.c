/* Sending the HTTP server's answers (http_conn.h): JSON faults and
 * objects, handlers' text and streamed bodies, and the 101 of a WebSocket
 * upgrade handed over to its owner. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_conn.h"
#include "i18n.h"
#include "log.h"

/* The last resort when not even a fault could be encoded. */
static const char fallback_body[] =
    "{\"fault\":{\"reason\":\"Internal Server Error\","
    "\"detail\":\"the response could not be encoded\"}}";

/* Send r. Every status that carries a body gets a JSON one: a missing or
 * unencodable body (a handler's json_pack refused a string) becomes a
 * fault rather than an empty answer the client cannot interpret. */
static ssize_t read_body(void *cls, uint64_t pos, char *buf, size_t max)
{
    vr_http_resp *r = cls;
    long long n = r->read(r->read_cls, pos, buf, max);
    return n > 0 ? (ssize_t)n : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void free_body(void *cls)
{
    vr_http_resp *r = cls;
    if (r->read_free)
        r->read_free(r->read_cls);
    free(r);
}

/* A handler's streamed answer: the library pulls it in blocks as the
 * client takes them. */
static enum MHD_Result send_stream(struct MHD_Connection *conn, vr_http_resp *r)
{
    vr_http_resp *keep = malloc(sizeof(*keep));
    if (!keep) {
        if (r->read_free)
            r->read_free(r->read_cls);
        r->read = NULL;
        return MHD_NO;
    }
    *keep = *r;
    keep->body = NULL; /* the caller keeps r->body */
    r->read = NULL;    /* the response owns read_cls now */
    struct MHD_Response *resp =
        MHD_create_response_from_callback((uint64_t)r->length, 64 * 1024, read_body, keep, free_body);
    if (!resp) {
        free_body(keep);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "application/octet-stream");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(conn, 200, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* A handler's text answer (the server owns r->text). */
static enum MHD_Result send_text(struct MHD_Connection *conn, vr_http_resp *r)
{
    char *text = r->text;
    r->text = NULL;
    struct MHD_Response *resp = MHD_create_response_from_buffer(r->text_len ? r->text_len : strlen(text), text,
                                                                MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", r->content_type ? r->content_type : "text/plain");
    if (!r->headers)
        MHD_add_response_header(resp, "Cache-Control", "no-store");
    for (const char *const *h = r->headers; h && h[0]; h += 2)
        MHD_add_response_header(resp, h[0], h[1]);
    enum MHD_Result ret = MHD_queue_response(conn, r->raw ? (unsigned)r->status : 200, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void on_upgrade(void *cls, struct MHD_Connection *conn, void *req_cls, const char *extra,
                       size_t extra_len, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
    (void)cls;
    (void)conn;
    request *rq = req_cls;
    void *ucls = rq->upgrade_cls;
    rq->upgrade_free = NULL; /* the callee owns it from here */
    rq->upgraded(ucls, sock, extra, extra_len, urh);
}

void vr_http_upgrade_close(void *handle)
{
    MHD_upgrade_action(handle, MHD_UPGRADE_ACTION_CLOSE);
}

/* A 101 answer: the library calls on_upgrade once it is sent. */
static enum MHD_Result send_upgrade(struct MHD_Connection *conn, request *rq, vr_http_resp *r)
{
    struct MHD_Response *resp = rq ? MHD_create_response_for_upgrade(on_upgrade, NULL) : NULL;
    if (!resp) {
        r->upgrade_free(r->upgrade_cls);
        return MHD_NO;
    }
    rq->upgraded = r->upgraded;
    rq->upgrade_free = r->upgrade_free;
    rq->upgrade_cls = r->upgrade_cls;
    for (const char *const *h = r->headers; h && h[0]; h += 2)
        MHD_add_response_header(resp, h[0], h[1]);
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result queue_answer(struct MHD_Connection *conn, vr_http_resp *r, bool close,
                                    const char *allow)
{
    if (r->text && (r->status == 200 || r->raw))
        return send_text(conn, r);
    free(r->text); /* a handler that changed its mind */
    r->text = NULL;
    if (r->read && r->status == 200)
        return send_stream(conn, r);
    if (r->read) { /* a handler that changed its mind: its reader is unused */
        if (r->read_free)
            r->read_free(r->read_cls);
        r->read = NULL;
    }
    bool bodiless = r->status < 200 || r->status == 204 || r->status == 304;
    char *text = NULL;
    if (bodiless) {
        json_decref(r->body);
        r->body = NULL;
    } else {
        if (!r->body && r->status >= 400)
            vr_http_fault(r, r->status, vr_http_reason(r->status),
                          "%s (the description of this error could not be encoded)",
                          vr_http_reason(r->status));
        else if (!r->body)
            vr_http_fault(r, 500, "Internal Server Error", "the response could not be encoded");
        text = r->body ? json_dumps(r->body, JSON_COMPACT) : NULL;
        if (!text) {
            VR_WARN("HTTP: a %d response could not be encoded; answering 500", r->status);
            r->status = 500;
        }
    }
    struct MHD_Response *resp =
        text ? MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE)
             : MHD_create_response_from_buffer(bodiless ? 0 : sizeof(fallback_body) - 1,
                                               (char *)fallback_body, MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(text);
        return MHD_NO; /* out of memory: the library closes the connection */
    }
    if (!bodiless) {
        MHD_add_response_header(resp, "Content-Type", "application/json");
        /* The language of the messages in it (vr_i18n_thread, set below). */
        MHD_add_response_header(resp, "Content-Language", vr_i18n_thread());
        MHD_add_response_header(resp, "Vary", "Accept-Language");
    }
    if (r->location[0])
        MHD_add_response_header(resp, "Location", r->location);
    if (allow)
        MHD_add_response_header(resp, "Allow", allow);
    /* A refused head may be followed by a body we will not parse: the
     * connection cannot carry another request. */
    if (close)
        MHD_add_response_header(resp, "Connection", "close");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result vr_http_send(struct MHD_Connection *conn, request *rq, vr_http_resp *r, bool close,
                             const char *allow)
{
    if (r->upgraded && r->status != 101) { /* a handler that changed its mind */
        r->upgrade_free(r->upgrade_cls);
        r->upgraded = NULL;
    }
    enum MHD_Result ret = r->upgraded ? send_upgrade(conn, rq, r) : queue_answer(conn, r, close, allow);
    if (rq)
        rq->status = r->status;
    return ret;
}
