/* sockkill.h: sock_diag's dump of this namespace's TCP sockets, filtered by
 * owner, peer and direction, then SOCK_DESTROY of each match (iproute2's
 * `ss -K` does the same; no libnl: two plain requests). */
#include "sockkill.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DUMP_BUF 65536

typedef struct match {
    uint8_t family;
    struct inet_diag_sockid id;
} match;

typedef struct scan {
    const unsigned long *inodes; /* the owner's sockets, sorted */
    size_t n_inodes;
    const struct sockaddr *peer;
    uint16_t listening[64]; /* the owner's listening ports (network order) */
    size_t n_listening;
    match *found;
    size_t n_found, cap_found;
} scan;

static int cmp_ul(const void *a, const void *b)
{
    unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
    return x < y ? -1 : x > y;
}

/* The inodes of owner's open sockets ("socket:[N]" links in /proc/PID/fd). */
static int owner_sockets(pid_t owner, unsigned long **out, size_t *n_out)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%ld/fd", (long)owner);
    DIR *d = opendir(path);
    if (!d)
        return errno == ENOENT ? -ESRCH : -errno;
    unsigned long *v = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (struct dirent *e; (e = readdir(d));) {
        char link[64];
        ssize_t len = readlinkat(dirfd(d), e->d_name, link, sizeof(link) - 1);
        unsigned long ino;
        if (len <= 0)
            continue; /* "." and "..", or a descriptor closed meanwhile */
        link[len] = '\0';
        if (sscanf(link, "socket:[%lu]", &ino) != 1)
            continue;
        if (n == cap) {
            unsigned long *w = realloc(v, (cap = cap ? cap * 2 : 64) * sizeof(*v));
            if (!w) {
                rc = -ENOMEM;
                break;
            }
            v = w;
        }
        v[n++] = ino;
    }
    closedir(d);
    if (rc < 0) {
        free(v);
        return rc;
    }
    qsort(v, n, sizeof(*v), cmp_ul);
    *out = v;
    *n_out = n;
    return 0;
}

static bool peer_is(const scan *s, uint8_t family, const struct inet_diag_sockid *id)
{
    if (s->peer->sa_family == AF_INET) {
        uint32_t a = ((const struct sockaddr_in *)s->peer)->sin_addr.s_addr;
        if (family == AF_INET)
            return id->idiag_dst[0] == a;
        return id->idiag_dst[0] == 0 && id->idiag_dst[1] == 0 && id->idiag_dst[2] == htonl(0xffff) &&
               id->idiag_dst[3] == a;
    }
    return family == AF_INET6 &&
           !memcmp(id->idiag_dst, &((const struct sockaddr_in6 *)s->peer)->sin6_addr, 16);
}

static int take(scan *s, const struct inet_diag_msg *m)
{
    unsigned long ino = m->idiag_inode;
    if (!ino || !bsearch(&ino, s->inodes, s->n_inodes, sizeof(ino), cmp_ul))
        return 0;
    if (m->idiag_state == TCP_LISTEN) {
        if (s->n_listening < sizeof(s->listening) / sizeof(s->listening[0]))
            s->listening[s->n_listening++] = m->id.idiag_sport;
        return 0;
    }
    if (!peer_is(s, m->idiag_family, &m->id))
        return 0;
    if (s->n_found == s->cap_found) {
        match *w = realloc(s->found, (s->cap_found = s->cap_found ? s->cap_found * 2 : 8) * sizeof(*w));
        if (!w)
            return -ENOMEM;
        s->found = w;
    }
    s->found[s->n_found++] = (match){m->idiag_family, m->id};
    return 0;
}

/* Every TCP socket of one family in this namespace, through take(). */
static int dump(int fd, uint8_t family, scan *s)
{
    struct {
        struct nlmsghdr nlh;
        struct inet_diag_req_v2 r;
    } req = {
        .nlh = {.nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
                .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = family},
        .r = {.sdiag_family = family, .sdiag_protocol = IPPROTO_TCP, .idiag_states = ~0U},
    };
    if (send(fd, &req, sizeof(req), 0) < 0)
        return -errno;
    char *buf = malloc(DUMP_BUF);
    if (!buf)
        return -ENOMEM;
    int rc = 0;
    for (bool done = false; !done && rc == 0;) {
        int len = (int)recv(fd, buf, DUMP_BUF, 0);
        if (len < 0) {
            rc = errno == EINTR ? 0 : -errno;
            continue;
        }
        if (len == 0)
            rc = -EPROTO;
        unsigned int left = (unsigned int)len; /* NLMSG_OK compares it with a __u32 */
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; rc == 0 && NLMSG_OK(h, left);
             h = NLMSG_NEXT(h, left)) {
            if (h->nlmsg_type == NLMSG_DONE) {
                done = true;
                break;
            }
            if (h->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = NLMSG_DATA(h);
                rc = e->error ? e->error : -EPROTO;
            } else if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
                       h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
                rc = take(s, NLMSG_DATA(h));
            }
        }
    }
    free(buf);
    return rc;
}

/* SOCK_DESTROY of one socket, by the id the dump gave (cookie included, so
 * a socket that went and was replaced is not another's): 1 destroyed, 0
 * gone meanwhile, -errno. */
static int destroy(int fd, const match *m)
{
    struct {
        struct nlmsghdr nlh;
        struct inet_diag_req_v2 r;
    } req = {
        .nlh = {.nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DESTROY, .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK},
        .r = {.sdiag_family = m->family, .sdiag_protocol = IPPROTO_TCP, .idiag_states = ~0U, .id = m->id},
    };
    if (send(fd, &req, sizeof(req), 0) < 0)
        return -errno;
    char buf[1024];
    int len;
    do
        len = (int)recv(fd, buf, sizeof(buf), 0);
    while (len < 0 && errno == EINTR);
    if (len < 0)
        return -errno;
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    if (!NLMSG_OK(h, (unsigned int)len) || h->nlmsg_type != NLMSG_ERROR)
        return -EPROTO;
    int e = ((const struct nlmsgerr *)NLMSG_DATA(h))->error;
    return e == -ENOENT ? 0 : e < 0 ? e : 1; /* gone meanwhile: nothing left to cut */
}

int vr_sockkill_outgoing(pid_t owner, const struct sockaddr *peer)
{
    if (peer->sa_family != AF_INET && peer->sa_family != AF_INET6)
        return -EAFNOSUPPORT;
    unsigned long *inodes = NULL;
    size_t n_inodes = 0;
    int rc = owner_sockets(owner, &inodes, &n_inodes);
    if (rc < 0)
        return rc;
    scan s = {.inodes = inodes, .n_inodes = n_inodes, .peer = peer};
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    /* Both families: the owner's listening ports may be either, and an
     * IPv4 peer may be reached from an IPv6 socket (a mapped address). */
    if ((rc = dump(fd, AF_INET, &s)) < 0 || (rc = dump(fd, AF_INET6, &s)) < 0)
        goto out;
    int killed = 0;
    for (size_t i = 0; i < s.n_found; i++) {
        bool accepted = false; /* a connection made to the owner, not by it */
        for (size_t j = 0; j < s.n_listening && !accepted; j++)
            accepted = s.listening[j] == s.found[i].id.idiag_sport;
        if (accepted)
            continue;
        int r = destroy(fd, &s.found[i]);
        if (r < 0) {
            rc = r;
            goto out;
        }
        killed += r;
    }
    rc = killed;
out:
    if (fd >= 0)
        close(fd);
    free(s.found);
    free(inodes);
    return rc;
}
