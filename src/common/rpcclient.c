#include "rpcclient.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <string.h>

#include "frame.h"
#include "jsonrpc.h"

struct vr_rpc_client {
    vr_tls_conn *conn;
    long long next_id;
    int timeout_s;
    json_t *pending; /* notifications that arrived during calls, oldest first */
};

void vr_rpc_client_set_timeout(vr_rpc_client *c, int seconds)
{
    c->timeout_s = seconds;
    struct timeval tv = {.tv_sec = seconds};
    setsockopt(c->conn->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    setsockopt(c->conn->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

int vr_rpc_client_new(vr_tls_creds *creds, const char *host, int port,
                      vr_rpc_client **out, vr_error *err)
{
    vr_rpc_client *c = calloc(1, sizeof(*c));
    if (!c)
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory");
    if (vr_tls_dial(creds, host, port, &c->conn, err) < 0) {
        free(c);
        return -1;
    }
    c->next_id = 1;
    *out = c;
    return 0;
}

void vr_rpc_client_free(vr_rpc_client *c)
{
    if (!c)
        return;
    json_decref(c->pending);
    vr_tls_conn_free(c->conn);
    free(c);
}

vr_tls_conn *vr_rpc_client_release(vr_rpc_client *c)
{
    vr_tls_conn *conn = c->conn;
    c->conn = NULL;
    vr_rpc_client_free(c);
    return conn;
}

/* method: what the caller waits for, named in a timeout (NULL: a notification). */
static int read_message(vr_rpc_client *c, const char *method, json_t **msg, vr_error *err)
{
    vr_io io = vr_tls_io(c->conn);
    char *buf = NULL;
    size_t len = 0;
    /* Wait for the start of a message ourselves: the framer would wait
     * forever for an idle peer, which is right for a server only. */
    if (c->timeout_s && gnutls_record_check_pending(c->conn->session) == 0) {
        struct pollfd p = {.fd = c->conn->fd, .events = POLLIN};
        if (poll(&p, 1, c->timeout_s * 1000) == 0)
            return method ? vr_error_set(err, VR_ERR_IO, "agent did not answer %s within %d s", method, c->timeout_s)
                          : vr_error_set(err, VR_ERR_IO, "agent did not answer within %d s", c->timeout_s);
    }
    int rc = vr_frame_read(&io, 64 * 1024 * 1024, (unsigned)c->timeout_s, &buf, &len);
    if (rc < 0)
        return vr_error_set(err, VR_ERR_IO, "connection to agent lost: %s", strerror(-rc));
    json_error_t jerr;
    *msg = json_loadb(buf, len, 0, &jerr);
    free(buf);
    if (!*msg || !json_is_object(*msg)) {
        json_decref(*msg);
        return vr_error_set(err, VR_ERR_PARSE, "agent sent malformed JSON: %s", jerr.text);
    }
    return 0;
}

int vr_rpc_call(vr_rpc_client *c, const char *method, json_t *params,
                json_t **result, vr_error *err)
{
    long long id = c->next_id++;
    json_t *req = vr_rpc_new_request(method, params, id);
    char *text = vr_json_dump(req);
    json_decref(req);
    if (!text)
        return vr_error_set(err, VR_ERR_INTERNAL, "cannot encode request");
    vr_io io = vr_tls_io(c->conn);
    int rc = vr_frame_write(&io, text, strlen(text));
    free(text);
    if (rc < 0)
        return vr_error_set(err, VR_ERR_IO, "cannot send to agent: %s", strerror(-rc));
    for (;;) {
        json_t *msg;
        if (read_message(c, method, &msg, err) < 0)
            return -1;
        json_t *rid = json_object_get(msg, "id");
        if (!rid && json_object_get(msg, "method")) {
            /* Kept for vr_rpc_wait_notification; bounded so a client that
             * never collects them does not grow without limit. */
            if (!c->pending)
                c->pending = json_array();
            if (json_array_size(c->pending) < 1024)
                json_array_append(c->pending, msg);
            json_decref(msg);
            continue;
        }
        if (!rid || json_integer_value(rid) != id) {
            json_decref(msg); /* a stale reply */
            continue;
        }
        json_t *e = json_object_get(msg, "error");
        if (e) {
            json_t *cap = json_object_get(json_object_get(e, "data"), "i18n");
            char *ctext = json_is_object(cap) ? json_dumps(cap, JSON_COMPACT) : NULL;
            vr_error_relay(err, (int)json_integer_value(json_object_get(e, "code")),
                           json_string_value(json_object_get(e, "message")) ?: "error", ctext);
            free(ctext);
            json_decref(msg);
            return -1;
        }
        *result = json_incref(json_object_get(msg, "result"));
        json_decref(msg);
        return 0;
    }
}

int vr_rpc_wait_notification(vr_rpc_client *c, int timeout_ms, json_t **msg, vr_error *err)
{
    if (json_array_size(c->pending) > 0) {
        *msg = json_incref(json_array_get(c->pending, 0));
        json_array_remove(c->pending, 0);
        return 0;
    }
    if (gnutls_record_check_pending(c->conn->session) == 0) {
        struct pollfd p = {.fd = c->conn->fd, .events = POLLIN};
        int n = poll(&p, 1, timeout_ms < 0 ? -1 : timeout_ms);
        if (n == 0)
            return 1;
        if (n < 0)
            return vr_error_set(err, VR_ERR_IO, "poll: %s", strerror(errno));
    }
    for (;;) {
        if (read_message(c, NULL, msg, err) < 0)
            return -1;
        if (json_object_get(*msg, "method") && !json_object_get(*msg, "id"))
            return 0;
        json_decref(*msg); /* a stale reply */
        if (timeout_ms >= 0 && gnutls_record_check_pending(c->conn->session) == 0)
            return 1;
    }
}
