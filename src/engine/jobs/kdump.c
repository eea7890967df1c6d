/* The fence_kdump listener and the fence job's kdump step (see kdump.h). */
#include "kdump.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fencejob.h"
#include "hoststatus.h"
#include "hostview.h"
#include "jobs.h"
#include "log.h"

/* Senders remembered at once: more than any cluster has hosts dumping;
 * the entry heard from longest ago makes room. */
#define MAX_SENDERS 256

typedef struct {
    char addr[INET6_ADDRSTRLEN];
    long long first, last;
} sender;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static sender senders[MAX_SENDERS];
static int listen_fd = -1;

int vr_kdump_parse(const void *buf, size_t n, vr_error *err)
{
    uint32_t w[2];
    if (n != sizeof(w))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%zu bytes, not the 8 of a fence_kdump message", n);
    memcpy(w, buf, sizeof(w));
    /* fence_kdump_send writes the words in its own byte order, as
     * fence_kdump reads them; hosts and engine are little endian here, the
     * swapped form is taken too (a big-endian host). */
    if (w[0] != VR_KDUMP_MAGIC && w[0] != __builtin_bswap32(VR_KDUMP_MAGIC))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "bad magic number 0x%08x", w[0]);
    uint32_t v = w[0] == VR_KDUMP_MAGIC ? w[1] : __builtin_bswap32(w[1]);
    if (v != VR_KDUMP_VERSION)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "unknown message version %u", v);
    return 0;
}

static void heard(const char *addr, long long now)
{
    pthread_mutex_lock(&lock);
    int slot = -1, oldest = 0;
    for (int i = 0; i < MAX_SENDERS; i++) {
        if (senders[i].last && !strcmp(senders[i].addr, addr)) {
            slot = i;
            break;
        }
        if (senders[i].last < senders[oldest].last)
            oldest = i;
    }
    if (slot < 0) {
        slot = oldest;
        snprintf(senders[slot].addr, sizeof(senders[slot].addr), "%s", addr);
        senders[slot].first = now;
    }
    senders[slot].last = now;
    pthread_mutex_unlock(&lock);
}

static void *listener(void *arg)
{
    vr_engine *e = arg;
    while (!e->stopping) {
        struct pollfd p = {.fd = listen_fd, .events = POLLIN};
        if (poll(&p, 1, 250) <= 0)
            continue;
        unsigned char buf[64];
        struct sockaddr_storage from;
        socklen_t flen = sizeof(from);
        ssize_t n = recvfrom(listen_fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
        if (n < 0)
            continue;
        char host[INET6_ADDRSTRLEN] = "?";
        getnameinfo((struct sockaddr *)&from, flen, host, sizeof(host), NULL, 0, NI_NUMERICHOST);
        /* an IPv4 sender on a dual-stack socket: its plain form */
        const char *a = !strncmp(host, "::ffff:", 7) && strchr(host, '.') ? host + 7 : host;
        vr_error err = {0};
        if (vr_kdump_parse(buf, (size_t)n, &err) < 0) {
            VR_DEBUG("fence_kdump listener: ignored a datagram from %s: %s", a, err.message);
            continue;
        }
        heard(a, vr_now());
    }
    close(listen_fd);
    listen_fd = -1;
    vr_engine_thread_leave(e);
    return NULL;
}

int vr_kdump_start(vr_engine *e, vr_error *err)
{
    if (!*e->kdump_listen)
        return 0;
    const char *colon = strrchr(e->kdump_listen, ':');
    char addr[64];
    snprintf(addr, sizeof(addr), "%.*s", colon ? (int)(colon - e->kdump_listen) : 0, e->kdump_listen);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM, .ai_flags = AI_PASSIVE |
                             AI_NUMERICHOST | AI_NUMERICSERV}, *ai = NULL;
    int rc = colon ? getaddrinfo(*addr ? addr : NULL, colon + 1, &hints, &ai) : EAI_NONAME;
    int fd = rc ? -1 : socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        const char *why = rc ? gai_strerror(rc) : strerror(errno);
        if (fd >= 0)
            close(fd);
        if (ai)
            freeaddrinfo(ai);
        /* Not fatal: the engine serves on, fencing without kdump detection. */
        VR_ERROR("fence_kdump listener: cannot listen on udp %s: %s; kdump detection is off", e->kdump_listen, why);
        vr_event(e, "error", "", "", "", "fence_kdump listener cannot listen on udp %s: %s; hosts are fenced"
                 " without kdump detection", e->kdump_listen, why);
        e->kdump_listen[0] = 0;
        return 0;
    }
    freeaddrinfo(ai);
    listen_fd = fd;
    VR_INFO("fence_kdump listener on udp %s", e->kdump_listen);
    return vr_engine_thread_start(e, listener, "fence_kdump listener", err);
}

/* The numeric addresses addr stands for (itself when numeric). */
static int resolve(const char *addr, char out[][INET6_ADDRSTRLEN], int max)
{
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *ai = NULL;
    if (getaddrinfo(addr, NULL, &hints, &ai) != 0)
        return 0;
    int n = 0;
    for (struct addrinfo *p = ai; p && n < max; p = p->ai_next)
        if (getnameinfo(p->ai_addr, p->ai_addrlen, out[n], INET6_ADDRSTRLEN, NULL, 0, NI_NUMERICHOST) == 0)
            n++;
    freeaddrinfo(ai);
    return n;
}

long long vr_kdump_last(vr_engine *e, const char *addr, long long *first)
{
    char ips[8][INET6_ADDRSTRLEN];
    int n = *e->kdump_listen ? resolve(addr, ips, 8) : 0;
    long long last = 0, f = 0;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAX_SENDERS; i++)
        for (int k = 0; k < n; k++)
            if (senders[i].last > last && !strcmp(senders[i].addr, ips[k])) {
                last = senders[i].last;
                f = senders[i].first;
            }
    pthread_mutex_unlock(&lock);
    if (first)
        *first = f;
    return last;
}

/* Sleep half a second; false when the engine stops or the job is cancelled. */
static bool nap(vr_engine *e, const char *job_id, bool *cancelled)
{
    usleep(500 * 1000);
    *cancelled = vr_job_cancel_requested(e, job_id);
    return !e->stopping && !*cancelled;
}

int vr_kdump_step(vr_engine *e, const char *job_id, const char *host_id, const char *user, char *detail,
                  size_t len)
{
    json_t *h = vr_db_query_one(e->db, "SELECT name, address, pm_json FROM hosts WHERE id = ?",
                                DB_ARGS(DB_TEXT(host_id)), NULL);
    json_t *kd = json_object_get(json_object_get(h, "pm"), "kdump_detection");
    if (!h || !*e->kdump_listen || json_is_false(kd)) {
        json_decref(h);
        return 0;
    }
    char name[256], addr[256];
    snprintf(name, sizeof(name), "%s", json_string_value(json_object_get(h, "name")) ?: "?");
    snprintf(addr, sizeof(addr), "%s", json_string_value(json_object_get(h, "address")) ?: "");
    json_decref(h);
    bool cancelled = false;
    char msg[512];
    snprintf(msg, sizeof(msg), "kdump detection: waiting up to %d s for fence_kdump messages from %s",
             e->kdump_started_s, addr);
    vr_job_update(e, job_id, "running", msg);
    /* Only a message heard since the host was lost counts: an old dump's
     * would not say anything about now. */
    long long since = vr_now() - e->kdump_finished_s, until = vr_now() + e->kdump_started_s, first = 0;
    while (vr_kdump_last(e, addr, &first) < since && vr_now() < until)
        if (!nap(e, job_id, &cancelled))
            goto stopped;
    long long last = vr_kdump_last(e, addr, &first);
    if (last < since) {
        vr_event(e, "normal", user, "host", host_id, "no kdump detected on host '%s': no fence_kdump message from"
                 " %s within %d s", name, addr, e->kdump_started_s);
        return 0;
    }
    snprintf(msg, sizeof(msg), "dumping a crash (kdump): fence_kdump messages from %s", addr);
    vr_host_set_status(e, host_id, VR_HOST_KDUMPING, msg, user, NULL);
    vr_hostview_refresh(e->view, e->db, host_id);
    vr_event(e, "warning", user, "host", host_id, "fencing of host '%s' skipped: it is dumping a crash (kdump"
             " messages from %s); its VMs count as gone once the dump ends (no message for %d s)", name, addr,
             e->kdump_finished_s);
    vr_job_update(e, job_id, "running", "the host is dumping a crash (kdump): waiting for the dump to end");
    while (vr_now() - vr_kdump_last(e, addr, NULL) < e->kdump_finished_s)
        if (!nap(e, job_id, &cancelled))
            goto stopped;
    last = vr_kdump_last(e, addr, &first);
    snprintf(detail, len, "kdump of host '%s' finished (fence_kdump messages for %lld s, none for %d s): the"
             " host counts as fenced", name, last - first, e->kdump_finished_s);
    vr_event(e, "warning", user, "host", host_id, "%s; its VMs are down and its highly available VMs restart"
             " elsewhere", detail);
    vr_host_set_status(e, host_id, VR_HOST_NONRESPONSIVE, "fenced (its kdump finished)", user, NULL);
    vr_hostview_refresh(e->view, e->db, host_id);
    vr_host_vms_fenced(e, host_id, name);
    return 1;
stopped:
    snprintf(detail, len, "%s", cancelled ? "cancelled while waiting for kdump" : "the engine stopped");
    return -1;
}
