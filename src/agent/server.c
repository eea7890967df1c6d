#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "i18n.h"
#include "jsonrpc.h"
#include "ticker.h"
#include "jsonx.h"
#include "log.h"
#include "vm_console.h"
#include "watchdog.h"

#define SLOW_VERB_MS 2000

/* A connection, listed from accept to the end of its thread so that a
 * stopping server can reach every one of them. */
typedef struct client {
    struct client *next;
    vr_server *srv;
    vr_tls_conn *tls;           /* NULL until the handshake succeeded */
    int fd;                     /* the socket, kept open until the client is
                                   freed so shutdown() never hits a reused
                                   number; the TLS session owns a dup of it */
    char addr[64];
    bool subscribed;            /* VM.event notifications */
    bool jobs_subscribed;       /* Job.progress notifications too */
    int refs;                   /* under clients_lock: its thread + notifiers */
    pthread_mutex_t write_lock; /* replies and notifications interleave */
} client;

struct vr_server {
    vr_agent *agent;
    vr_tls_creds *creds;
    vr_server_opts opts;
    int listen_fd;
    volatile sig_atomic_t stopping;
    int wake_pipe[2];             /* vr_server_stop() wakes the accept loop */
    pthread_mutex_t clients_lock; /* guards the list, nclients, closing */
    pthread_cond_t client_ended;  /* a client thread ended */
    client *clients;
    int nclients;                 /* client threads running */
    bool closing;                 /* vr_server_shutdown() began */
};

static int parse_listen(const char *spec, char *host, size_t hlen, char *port, size_t plen)
{
    const char *colon = strrchr(spec, ':');
    if (!colon || colon == spec || !colon[1])
        return -1;
    const char *h = spec, *hend = colon;
    if (*h == '[' && hend[-1] == ']') {
        h++;
        hend--;
    }
    if ((size_t)(hend - h) >= hlen || strlen(colon + 1) >= plen)
        return -1;
    memcpy(host, h, (size_t)(hend - h));
    host[hend - h] = '\0';
    snprintf(port, plen, "%s", colon + 1);
    return 0;
}

int vr_server_new(vr_agent *a, vr_tls_creds *creds, const vr_server_opts *opts,
                  vr_server **out, vr_error *err)
{
    char host[256], port[16];
    if (parse_listen(opts->listen, host, sizeof(host), port, sizeof(port)) < 0)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                            "listen address '%s' must look like ADDR:PORT", opts->listen);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0)
        return vr_error_set(err, VR_ERR_IO, "cannot resolve listen address '%s': %s",
                            opts->listen, gai_strerror(rc));
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 64) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return vr_error_set(err, VR_ERR_IO, "cannot listen on %s: %s", opts->listen, strerror(e));
    }
    freeaddrinfo(res);
    vr_server *s = calloc(1, sizeof(*s));
    if (!s) {
        close(fd);
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory");
    }
    s->agent = a;
    s->creds = creds;
    s->opts = *opts;
    s->listen_fd = fd;
    if (pipe2(s->wake_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        int e = errno;
        close(fd);
        free(s);
        return vr_error_set(err, VR_ERR_IO, "cannot create the stop pipe: %s", strerror(e));
    }
    pthread_mutex_init(&s->clients_lock, NULL);
    vr_cond_init_mono(&s->client_ended);
    *out = s;
    return 0;
}

/* Serialize and send one message to a client; returns 0 or negative errno. */
static int client_send(client *c, json_t *msg)
{
    char *text = vr_json_dump(msg);
    if (!text)
        return -ENOMEM;
    vr_io io = vr_tls_io(c->tls);
    pthread_mutex_lock(&c->write_lock);
    int rc = vr_frame_write(&io, text, strlen(text));
    pthread_mutex_unlock(&c->write_lock);
    free(text);
    return rc;
}

/* Drop a reference; the last one closes the connection and frees. Called
 * with clients_lock held. */
static void client_unref_locked(client *c)
{
    if (--c->refs > 0)
        return;
    vr_tls_conn_free(c->tls); /* closes its dup of fd */
    close(c->fd);
    pthread_mutex_destroy(&c->write_lock);
    free(c);
}

/* Whether c asked for notifications of this method. Job.progress is opt-in
 * (Host.subscribe {"jobs": true}): subscribers that predate it expect
 * VM.event only. Called with clients_lock held. */
static bool wants(const client *c, const char *method)
{
    return c->subscribed && (strncmp(method, "Job.", 4) != 0 || c->jobs_subscribed);
}

void vr_server_notify(vr_server *srv, const char *method, json_t *params)
{
    json_t *msg = vr_rpc_notification(method, params);
    /* Take references under the lock, send without it: a slow subscriber
     * must not block connects, disconnects and subscribe calls. */
    pthread_mutex_lock(&srv->clients_lock);
    if (srv->closing) { /* connections are being cut */
        pthread_mutex_unlock(&srv->clients_lock);
        json_decref(msg);
        return;
    }
    int n = 0;
    for (client *c = srv->clients; c; c = c->next)
        n += wants(c, method);
    client **targets = n ? calloc((size_t)n, sizeof(*targets)) : NULL;
    n = 0;
    for (client *c = srv->clients; c && targets; c = c->next)
        if (wants(c, method)) {
            c->refs++;
            targets[n++] = c;
        }
    pthread_mutex_unlock(&srv->clients_lock);
    bool *failed = n ? calloc((size_t)n, sizeof(*failed)) : NULL;
    for (int i = 0; i < n; i++)
        failed[i] = !failed || client_send(targets[i], msg) < 0;
    pthread_mutex_lock(&srv->clients_lock);
    for (int i = 0; i < n; i++) {
        /* A peer not draining its socket is cut off; its reader thread
         * sees the shutdown and cleans up. */
        if (failed && failed[i]) {
            targets[i]->subscribed = false;
            shutdown(targets[i]->fd, SHUT_RDWR);
        }
        client_unref_locked(targets[i]);
    }
    pthread_mutex_unlock(&srv->clients_lock);
    free(failed);
    free(targets);
    json_decref(msg);
}

/* Connection-level methods that are not verbs on the hypervisor. */
static bool handle_session_method(client *c, const vr_rpc_request *req, json_t **result,
                                  vr_error *err)
{
    static const char *const sub_keys[] = {"jobs"};
    bool sub = !strcmp(req->method, "Host.subscribe"), jobs = false;
    if (sub || !strcmp(req->method, "Host.unsubscribe")) {
        if (!sub && json_object_size(req->params) != 0) {
            vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s takes no parameters", req->method);
            return true;
        }
        if (sub && (vr_json_check_keys(req->params, "params", VR_NAMES(sub_keys), err) < 0 ||
                    vr_json_bool(req->params, "params", "jobs", false, &jobs, err) < 0))
            return true;
        pthread_mutex_lock(&c->srv->clients_lock);
        c->subscribed = sub;
        c->jobs_subscribed = jobs;
        pthread_mutex_unlock(&c->srv->clients_lock);
        *result = json_pack("{s:b, s:b}", "subscribed", sub, "jobs", jobs);
        return true;
    }
    return false;
}

/* Handle one request frame; returns the reply (new ref) or NULL for none.
 * A VM.attachConsole that succeeded leaves its console in *console: once
 * the reply is sent, the connection relays the console's bytes. */
static json_t *handle_frame(client *c, const char *buf, size_t len, vr_console **console)
{
    vr_rpc_request req;
    json_t *id = NULL, *result = NULL, *reply;
    vr_error err = {0};
    if (vr_rpc_parse_request(buf, len, &req, &id, &err) < 0) {
        VR_WARN("client %s: bad request: %s", c->addr, err.message);
        reply = vr_rpc_error(id, &err);
        json_decref(id);
        return reply;
    }
    json_decref(id);
    if (!strcmp(req.method, "VM.attachConsole")) {
        if (!req.id)
            vr_error_set(&err, VR_ERR_INVALID_REQUEST, "VM.attachConsole needs an id (its reply starts the relay)");
        else if (vr_console_open(c->srv->agent, req.params, console, &err) == 0)
            result = json_pack("{s:b}", "attached", 1);
        else
            VR_INFO("client %s: %s failed: %s", c->addr, req.method, err.message);
    } else if (!handle_session_method(c, &req, &result, &err)) {
        const vr_verb *verb = vr_verb_find(req.method);
        long long t0 = vr_mono_ms();
        if (!verb)
            vr_error_set(&err, VR_ERR_NO_METHOD, "unknown method '%s'", req.method);
        else if (verb->fn(c->srv->agent, req.params, &result, &err) < 0)
            VR_INFO("client %s: %s failed: %s", c->addr, req.method, err.message);
        /* The engine gives up on a host after a few seconds of silence: a
         * verb that comes near it is what to look at when a host flaps. */
        long long took = vr_mono_ms() - t0;
        if (took >= SLOW_VERB_MS)
            VR_WARN("client %s: %s took %lld ms", c->addr, req.method, took);
    }
    reply = NULL;
    if (req.id) /* a request without id is a notification: no reply */
        reply = err.code ? vr_rpc_error(req.id, &err) : vr_rpc_result(req.id, result);
    else if (!err.code)
        json_decref(result);
    if (err.code && result)
        json_decref(result);
    vr_rpc_request_clear(&req);
    return reply;
}

static void client_loop(client *c)
{
    vr_io io = vr_tls_io(c->tls);
    for (;;) {
        char *buf = NULL;
        size_t len = 0;
        int rc = vr_frame_read(&io, c->srv->opts.max_frame, 3 * (unsigned)c->srv->opts.io_timeout_s,
                               &buf, &len);
        if (rc == -EMSGSIZE || rc == -EBADMSG) {
            /* The stream cannot be resynchronized: explain, then hang up. */
            vr_error err;
            vr_error_set(&err, VR_ERR_INVALID_REQUEST,
                         rc == -EMSGSIZE ? N_("frame larger than the %zu byte limit")
                                         : N_("empty frame (limit %zu bytes)"),
                         c->srv->opts.max_frame);
            json_t *reply = vr_rpc_error(NULL, &err);
            client_send(c, reply);
            json_decref(reply);
            VR_WARN("client %s: %s; closing", c->addr, err.message);
            return;
        }
        if (rc < 0) {
            if (rc != -EPIPE)
                VR_INFO("client %s: connection ended: %s", c->addr, strerror(-rc));
            return;
        }
        vr_console *console = NULL;
        json_t *reply = handle_frame(c, buf, len, &console);
        free(buf);
        if (reply) {
            rc = client_send(c, reply);
            json_decref(reply);
            if (rc < 0) {
                vr_console_free(console);
                return;
            }
        }
        if (console) { /* the connection is the console's now, to its end */
            vr_console_relay(console, c->tls, c->fd);
            return;
        }
    }
}

static void *client_thread(void *arg)
{
    client *c = arg;
    vr_server *s = c->srv;
    vr_error err = {0};
    vr_tls_conn *tls = NULL;
    int tfd = dup(c->fd); /* vr_tls_accept closes what it is given on failure */
    if (tfd < 0 || vr_tls_accept(s->creds, tfd, &tls, &err) < 0) {
        VR_WARN("client %s refused: %s", c->addr, tfd < 0 ? strerror(errno) : err.message);
    } else {
        pthread_mutex_lock(&s->clients_lock);
        c->tls = tls;
        pthread_mutex_unlock(&s->clients_lock);
        VR_INFO("client %s connected as '%s'", c->addr, tls->peer_name);
        client_loop(c);
    }
    pthread_mutex_lock(&s->clients_lock);
    for (client **p = &s->clients; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    s->nclients--;
    client_unref_locked(c);
    /* Last use of s by this thread: once it is signalled, a stopping
     * server may be freed. */
    pthread_cond_broadcast(&s->client_ended);
    pthread_mutex_unlock(&s->clients_lock);
    return NULL;
}

static void tune_socket(int fd, int timeout_s)
{
    struct timeval tv = {.tv_sec = timeout_s};
    int one = 1, idle = 30, intvl = 10, cnt = 3;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    /* Keepalive finds peers that vanished without a FIN. */
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

/* A new connection: listed at once (so that a stopping server can cut it,
 * even mid-handshake) and served by its own detached thread. */
static void start_client(vr_server *s, int fd, const char *host, const char *port)
{
    pthread_mutex_lock(&s->clients_lock);
    bool full = s->nclients >= s->opts.max_clients;
    pthread_mutex_unlock(&s->clients_lock);
    if (full) {
        VR_WARN("client %s:%s refused: %d connections already open", host, port,
                s->opts.max_clients);
        close(fd);
        return;
    }
    tune_socket(fd, s->opts.io_timeout_s);
    client *c = calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        return;
    }
    c->srv = s;
    c->fd = fd;
    c->refs = 1; /* its thread's */
    snprintf(c->addr, sizeof(c->addr), "%s:%s", host, port);
    pthread_mutex_init(&c->write_lock, NULL);
    pthread_mutex_lock(&s->clients_lock);
    c->next = s->clients;
    s->clients = c;
    s->nclients++;
    pthread_mutex_unlock(&s->clients_lock);
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    /* Handlers are shallow; a small stack keeps 100s of clients cheap. */
    pthread_attr_setstacksize(&attr, 512 * 1024);
    if (pthread_create(&t, &attr, client_thread, c) != 0) {
        VR_WARN("client %s refused: cannot start a thread", c->addr);
        pthread_mutex_lock(&s->clients_lock);
        for (client **p = &s->clients; *p; p = &(*p)->next)
            if (*p == c) {
                *p = c->next;
                break;
            }
        s->nclients--;
        client_unref_locked(c);
        pthread_mutex_unlock(&s->clients_lock);
    }
    pthread_attr_destroy(&attr);
}

int vr_server_run(vr_server *s)
{
    VR_INFO("listening on %s (mutual TLS)", s->opts.listen);
    while (!s->stopping) {
        struct pollfd p[2] = {{.fd = s->listen_fd, .events = POLLIN},
                              {.fd = s->wake_pipe[0], .events = POLLIN}};
        int n = poll(p, 2, 1000); /* wakes each second for the watchdog */
        vr_watchdog_beat(VR_WATCHDOG_ACCEPT_LOOP);
        if (n <= 0 || !(p[0].revents & POLLIN))
            continue;
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = accept4(s->listen_fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        char host[48] = "?", port[8] = "?";
        getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port, sizeof(port),
                    NI_NUMERICHOST | NI_NUMERICSERV);
        start_client(s, fd, host, port);
    }
    return 0;
}

void vr_server_stop(vr_server *s)
{
    int saved = errno; /* called from signal handlers */
    s->stopping = 1;
    ssize_t rc = write(s->wake_pipe[1], "x", 1);
    (void)rc; /* a full pipe already wakes the loop */
    errno = saved;
}

int vr_server_shutdown(vr_server *s, int grace_ms)
{
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    s->listen_fd = -1;
    struct timespec deadline = vr_mono_after(grace_ms);
    pthread_mutex_lock(&s->clients_lock);
    s->closing = true;
    /* Wakes every reader (EOF), writer (EPIPE) and handshake: their threads
     * end at once. A thread inside a verb ends when the verb returns and
     * its reply cannot be sent. */
    for (client *c = s->clients; c; c = c->next) {
        c->subscribed = false;
        shutdown(c->fd, SHUT_RDWR);
    }
    int rc = 0;
    while (s->nclients > 0 && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&s->client_ended, &s->clients_lock, &deadline);
    int left = s->nclients;
    pthread_mutex_unlock(&s->clients_lock);
    if (left)
        VR_WARN("%d client thread(s) still inside a call after %d ms (a VM that does not "
                "answer libvirt?); not waiting for them", left, grace_ms);
    return left;
}

void vr_server_free(vr_server *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->clients_lock);
    int left = s->nclients;
    pthread_mutex_unlock(&s->clients_lock);
    if (left) /* their threads still use s: it must outlive them */
        return;
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    close(s->wake_pipe[0]);
    close(s->wake_pipe[1]);
    pthread_cond_destroy(&s->client_ended);
    pthread_mutex_destroy(&s->clients_lock);
    free(s);
}
