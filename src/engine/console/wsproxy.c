/* GET /api/vms/ID/console?ticket=T (docs/rest-api.md "Consoles"): the
 * ticket is taken, the VM's host is asked over the agent's mutual TLS to
 * attach the console (VM.attachConsole) - or, for a graphics console
 * listening on the cluster's display network, its VNC server is connected
 * there - and the HTTPS connection is upgraded to a WebSocket whose binary
 * frames carry the console's bytes both ways. One thread per open console. */
#include "console.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "dispatch.h"
#include "fault.h"
#include "log.h"
#include "rpcclient.h"
#include "ticket.h"
#include "timeouts.h"
#include "ws.h"
#include "i18n.h"

typedef struct session {
    struct session *next;
    vr_engine *e;
    vr_tls_conn *agent;      /* the attached console on the VM's host, or */
    int vnc;                 /* QEMU's VNC on the host's display network address */
    int sock;                /* the client's upgraded connection */
    void *handle;            /* for vr_http_upgrade_close */
    uint8_t *in;             /* client bytes not yet parsed */
    size_t in_len;
    char vm_id[37], vm_name[80], user[128], console[16], host[80];
    char accept[29], protocol[16];
    const char *headers[9];
} session;

/* Open sessions, so a stopping engine can cut them. */
static pthread_mutex_t sessions_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sessions_cond = PTHREAD_COND_INITIALIZER;
static session *sessions;
static int nsessions;

static void session_free(void *cls)
{
    session *s = cls;
    vr_tls_conn_free(s->agent);
    if (s->vnc >= 0)
        close(s->vnc);
    free(s->in);
    free(s);
}

/* Write all of buf to the client's socket (which may be non-blocking). */
static int sock_write(session *s, const uint8_t *buf, size_t len)
{
    for (size_t done = 0; done < len;) {
        ssize_t n = send(s->sock, buf + done, len - done, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p = {.fd = s->sock, .events = POLLOUT};
            if (poll(&p, 1, 30000) <= 0)
                return -1; /* a client that takes nothing for 30 s is gone */
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

static int ws_send(session *s, int opcode, const void *payload, size_t len)
{
    uint8_t hdr[14];
    size_t h = vr_ws_header(hdr, opcode, len, false, NULL);
    return sock_write(s, hdr, h) < 0 || sock_write(s, payload, len) < 0 ? -1 : 0;
}

static void ws_close(session *s, unsigned code, const char *why)
{
    uint8_t p[125] = {(uint8_t)(code >> 8), (uint8_t)code};
    size_t n = strlen(why) < sizeof(p) - 2 ? strlen(why) : sizeof(p) - 2;
    memcpy(p + 2, why, n);
    ws_send(s, VR_WS_CLOSE, p, n + 2);
}

static int peer_fd(session *s)
{
    return s->agent ? s->agent->fd : s->vnc;
}

/* Bytes from the console's side: -EAGAIN to try again, <= 0 at its end. */
static ssize_t peer_recv(session *s, uint8_t *buf, size_t len)
{
    if (s->agent) {
        ssize_t n = gnutls_record_recv(s->agent->session, buf, len);
        return n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED ? -EAGAIN : n;
    }
    ssize_t n = recv(s->vnc, buf, len, 0);
    return n < 0 && (errno == EINTR || errno == EAGAIN) ? -EAGAIN : n;
}

static int agent_write(session *s, const uint8_t *buf, size_t len)
{
    for (size_t done = 0; done < len;) {
        ssize_t n = s->agent ? gnutls_record_send(s->agent->session, buf + done, len - done)
                             : send(s->vnc, buf + done, len - done, MSG_NOSIGNAL);
        if (s->agent ? n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED : n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

/* Handle the client's complete frames in s->in. Returns 1 to go on, 0
 * when the session ends (a close, a protocol error, the host gone). */
static int from_client(session *s)
{
    size_t at = 0;
    int go = 1;
    while (go == 1 && at < s->in_len) {
        vr_ws_frame f;
        long n = vr_ws_parse(s->in + at, s->in_len - at, &f);
        if (n == 0)
            break;
        if (n < 0 || !f.masked) { /* RFC 6455: a client masks every frame */
            ws_close(s, n < 0 ? 1009 : 1002, n < 0 ? "frame too large or malformed" : "unmasked frame");
            return 0;
        }
        at += (size_t)n;
        if (f.opcode == VR_WS_CONT || f.opcode == VR_WS_TEXT || f.opcode == VR_WS_BINARY) {
            if (f.len && agent_write(s, f.payload, f.len) < 0) {
                ws_close(s, 1011, "the host's console connection failed");
                go = 0;
            }
        } else if (f.opcode == VR_WS_PING) {
            go = ws_send(s, VR_WS_PONG, f.payload, f.len) == 0;
        } else if (f.opcode == VR_WS_CLOSE) {
            ws_send(s, VR_WS_CLOSE, f.payload, f.len >= 2 ? 2 : 0); /* echo its code */
            go = 0;
        } else if (f.opcode != VR_WS_PONG) {
            ws_close(s, 1002, "unknown opcode");
            go = 0;
        }
    }
    memmove(s->in, s->in + at, s->in_len - at);
    s->in_len -= at;
    return go;
}

static void relay(session *s)
{
    static const size_t cap = VR_WS_MAX_PAYLOAD + 14;
    uint8_t *buf = malloc(16384);
    uint8_t *grown = realloc(s->in, cap);
    if (!buf || !grown) {
        free(buf);
        return;
    }
    s->in = grown;
    if (from_client(s) != 1) {
        free(buf);
        return;
    }
    for (;;) {
        struct pollfd p[2] = {{.fd = s->sock, .events = POLLIN}, {.fd = peer_fd(s), .events = POLLIN}};
        bool pending = s->agent && gnutls_record_check_pending(s->agent->session) > 0;
        if (!pending && poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pending || (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t n = peer_recv(s, buf, 16384);
            if (n == -EAGAIN)
                continue;
            if (n <= 0) {
                ws_close(s, 1000, "the console ended");
                break;
            }
            if (ws_send(s, VR_WS_BINARY, buf, (size_t)n) < 0)
                break;
        }
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            if (s->in_len == cap) {
                ws_close(s, 1009, "frame too large");
                break;
            }
            ssize_t n = recv(s->sock, s->in + s->in_len, cap - s->in_len, 0);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
                continue;
            if (n <= 0)
                break;
            s->in_len += (size_t)n;
            if (from_client(s) != 1)
                break;
        }
    }
    free(buf);
}

/* Close the client's connection, unlist and free the session. */
static void session_end(session *s)
{
    vr_http_upgrade_close(s->handle);
    pthread_mutex_lock(&sessions_lock);
    for (session **p = &sessions; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            break;
        }
    nsessions--;
    pthread_cond_broadcast(&sessions_cond);
    pthread_mutex_unlock(&sessions_lock);
    session_free(s);
}

static void *session_thread(void *arg)
{
    session *s = arg;
    vr_engine *e = s->e; /* s is freed by session_end */
    vr_event(s->e, "normal", s->user, "vm", s->vm_id, "%s console of VM '%s' opened by %s (host '%s')",
             s->console, s->vm_name, s->user, s->host);
    relay(s);
    VR_INFO("%s console of VM '%s' closed (user %s)", s->console, s->vm_name, s->user);
    session_end(s);
    vr_engine_thread_leave(e);
    return NULL;
}

static void on_upgraded(void *cls, int sock, const char *extra, size_t extra_len, void *handle)
{
    session *s = cls;
    s->sock = sock;
    s->handle = handle;
    if (extra_len && (s->in = malloc(extra_len))) {
        memcpy(s->in, extra, extra_len);
        s->in_len = extra_len;
    }
    pthread_mutex_lock(&sessions_lock);
    s->next = sessions;
    sessions = s;
    nsessions++;
    pthread_mutex_unlock(&sessions_lock);
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    /* registered: it records events, so shutdown waits for it before the
     * database closes (vr_console_ws_stop_all has cut its relay by then) */
    vr_engine_thread_enter(s->e);
    if (pthread_create(&t, &attr, session_thread, s) != 0) {
        VR_WARN("console of VM '%s': cannot start its thread", s->vm_name);
        vr_engine *e = s->e;
        session_end(s);
        vr_engine_thread_leave(e);
    }
    pthread_attr_destroy(&attr);
}

void vr_console_ws_stop_all(int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    pthread_mutex_lock(&sessions_lock);
    for (session *s = sessions; s; s = s->next)
        shutdown(peer_fd(s), SHUT_RDWR); /* its relay ends and closes the client */
    while (nsessions > 0 && pthread_cond_timedwait(&sessions_cond, &sessions_lock, &until) == 0)
        ;
    pthread_mutex_unlock(&sessions_lock);
}

/* Whether a comma-separated header value holds token (case-insensitive). */
static bool has_token(const char *value, const char *token)
{
    size_t tl = strlen(token);
    for (const char *p = value; p && *p;) {
        p += strspn(p, " \t,");
        size_t n = strcspn(p, " \t,");
        if (n == tl && !strncasecmp(p, token, n))
            return true;
        p += n;
    }
    return false;
}

static void refused(vr_engine *e, vr_http_resp *resp, int status, const char *vm_id, const char *user,
                    const char *why)
{
    vr_event(e, "warning", user, "vm", vm_id, "console connection to VM %s refused: %s", vm_id, why);
    vr_http_fault(resp, status, status == 401 ? "Unauthorized" : "Forbidden", "%s", why);
}

/* Ask the VM's host for the console; the agent connection is then a byte
 * stream (after the reply). */
static int attach(vr_engine *e, session *s, json_t *host, vr_error *err)
{
    vr_rpc_client *c;
    if (vr_rpc_client_new(e->agent_creds, json_string_value(json_object_get(host, "address")),
                          (int)json_integer_value(json_object_get(host, "port")), &c, err) < 0)
        return -1;
    vr_rpc_client_set_timeout(c, vr_timeout_agent_call_s(e, "VM.attachConsole"));
    json_t *res = NULL;
    if (vr_rpc_call(c, "VM.attachConsole", json_pack("{s:s, s:s}", "uuid", s->vm_id, "console", s->console),
                    &res, err) < 0) {
        vr_rpc_client_free(c);
        return -1;
    }
    json_decref(res);
    vr_rpc_client_set_timeout(c, 0); /* a console may be silent for hours */
    s->agent = vr_rpc_client_release(c);
    return 0;
}

bool vr_console_ws_handle(vr_engine *e, vr_http_req *req, vr_http_resp *resp)
{
    static const char prefix[] = "/api/vms/";
    const char *p = req->path;
    if (strncmp(p, prefix, sizeof(prefix) - 1) || strlen(p) != sizeof(prefix) - 1 + 36 + 8 ||
        strcmp(p + sizeof(prefix) - 1 + 36, "/console"))
        return false;
    char vm_id[37];
    memcpy(vm_id, p + sizeof(prefix) - 1, 36);
    vm_id[36] = '\0';
    if (strcmp(req->method, "GET")) {
        vr_http_fault(resp, 405, "Method Not Allowed", "a console is opened with GET and a WebSocket upgrade");
        return true;
    }
    /* A bearer token, when given (the CLI), must be valid and its user may
     * open consoles of this VM; the ticket must then be this user's. */
    bool bearer = vr_http_header(req, "Authorization") != NULL;
    if (bearer) {
        if (vr_auth_check(e, req, resp) < 0)
            return true;
        json_t *row = json_pack("{s:s}", "id", vm_id);
        vr_error aerr = {0};
        int rc = vr_authorize_user(e, req->user, &vr_kind_vms, row, "ticket", &aerr);
        json_decref(row);
        if (rc < 0) {
            vr_fault(resp, &aerr);
            return true;
        }
    }
    const char *upgrade = vr_http_header(req, "Upgrade"), *conn = vr_http_header(req, "Connection");
    const char *key = vr_http_header(req, "Sec-WebSocket-Key");
    const char *version = vr_http_header(req, "Sec-WebSocket-Version");
    const char *ticket = vr_http_arg(req, "ticket");
    char accept[29];
    if (!upgrade || !has_token(upgrade, "websocket") || !conn || !has_token(conn, "upgrade")) {
        vr_http_fault(resp, 400, "Bad Request", "a console is a WebSocket: send Upgrade: websocket");
        return true;
    }
    if (!version || strcmp(version, "13") || vr_ws_accept_key(key, accept) < 0) {
        vr_http_fault(resp, 400, "Bad Request", "WebSocket version 13 with a valid Sec-WebSocket-Key expected");
        return true;
    }
    if (!ticket || !*ticket) {
        refused(e, resp, 401, vm_id, "", "no ticket (POST /api/vms/ID/ticket gives one)");
        return true;
    }
    vr_ticket t;
    vr_ticket_status st = vr_ticket_take(ticket, vm_id, bearer ? req->user : NULL, &t);
    if (st != VR_TICKET_OK) {
        char why[200];
        snprintf(why, sizeof(why), "the console ticket %s%s%s", vr_ticket_status_text(st),
                 st == VR_TICKET_OTHER_USER ? ", not " : "", st == VR_TICKET_OTHER_USER ? req->user : "");
        refused(e, resp, st == VR_TICKET_OTHER_VM || st == VR_TICKET_OTHER_USER ? 403 : 401, vm_id,
                bearer ? req->user : t.user, why);
        return true;
    }
    vr_error err = {0};
    json_t *vm = vr_db_query_one(e->db, "SELECT v.name AS name, v.status AS status, h.name AS host,"
                                 " h.address AS address, h.port AS port FROM vms v"
                                 " LEFT JOIN hosts h ON h.id = v.host_id WHERE v.id = ?",
                                 DB_ARGS(DB_TEXT(vm_id)), &err);
    if (!vm || !json_string_value(json_object_get(vm, "host"))) {
        if (!err.code)
            vr_error_set(&err, VR_ERR_BAD_STATE, "VM %s no longer runs on a host", vm_id);
        vr_fault(resp, &err);
        json_decref(vm);
        return true;
    }
    session *s = calloc(1, sizeof(*s));
    if (!s) {
        json_decref(vm);
        vr_http_fault(resp, 500, NULL, "out of memory");
        return true;
    }
    s->e = e;
    s->sock = -1;
    s->vnc = -1;
    snprintf(s->vm_id, sizeof(s->vm_id), "%s", vm_id);
    snprintf(s->vm_name, sizeof(s->vm_name), "%s", json_string_value(json_object_get(vm, "name")));
    snprintf(s->host, sizeof(s->host), "%s", json_string_value(json_object_get(vm, "host")));
    snprintf(s->user, sizeof(s->user), "%s", t.user);
    snprintf(s->console, sizeof(s->console), "%s", t.console);
    /* On the display network the ticket, QEMU's VNC password, guards it
     * (docs/networks.md "Roles"); elsewhere only the agent reaches it. */
    if (*t.address && !strcmp(t.console, "graphics"))
        s->vnc = vr_tcp_dial(t.address, t.port, &err);
    if (*t.address && !strcmp(t.console, "graphics") ? s->vnc < 0 : attach(e, s, vm, &err) < 0) {
        char why[512];
        vr_i18n_format(why, sizeof(why), "%s", err.message);
        vr_error_set(&err, err.code, "cannot open the %s console of VM '%s' on host '%s': %s", s->console,
                     s->vm_name, s->host, why);
        vr_fault(resp, &err);
        json_decref(vm);
        session_free(s);
        return true;
    }
    json_decref(vm);
    memcpy(s->accept, accept, sizeof(accept));
    int h = 0;
    s->headers[h++] = "Upgrade";
    s->headers[h++] = "websocket";
    s->headers[h++] = "Sec-WebSocket-Accept";
    s->headers[h++] = s->accept;
    /* noVNC and others may offer "binary": frames here are binary. */
    const char *proto = vr_http_header(req, "Sec-WebSocket-Protocol");
    if (proto && has_token(proto, "binary")) {
        snprintf(s->protocol, sizeof(s->protocol), "binary");
        s->headers[h++] = "Sec-WebSocket-Protocol";
        s->headers[h++] = s->protocol;
    }
    s->headers[h++] = "Cache-Control";
    s->headers[h++] = "no-store";
    s->headers[h] = NULL;
    resp->status = 101;
    resp->headers = s->headers;
    resp->upgraded = on_upgraded;
    resp->upgrade_free = session_free;
    resp->upgrade_cls = s;
    return true;
}
