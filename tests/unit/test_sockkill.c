/* vr_sockkill_outgoing (src/agent/net/sockkill.h) over loopback, no
 * harness: a connection this process made to a peer that never answers
 * (as a migration stream's TLS handshake to a destination whose network is
 * gone) is destroyed by that peer's address, and its waiting reader wakes
 * with ECONNABORTED; the connection a client made to one of our listening
 * ports, a connection to another address, and another process's connection
 * to the same peer are left alone. Needs root (CAP_NET_ADMIN) and a kernel
 * with CONFIG_INET_DIAG_DESTROY; exits 77 (skipped) when not root. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "net/sockkill.h"

static struct sockaddr_storage addr(int family, const char *ip, int port)
{
    struct sockaddr_storage ss = {0};
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        inet_pton(AF_INET, ip, &a->sin_addr);
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        inet_pton(AF_INET6, ip, &a->sin6_addr);
    }
    return ss;
}

/* A listening socket on ip (any port); its address in *at. */
static int listener(int family, const char *ip, struct sockaddr_storage *at)
{
    *at = addr(family, ip, 0);
    socklen_t len = sizeof(*at);
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)at, len) < 0 || listen(fd, 8) < 0 ||
        getsockname(fd, (struct sockaddr *)at, &len) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* A connection from `from` (NULL: any) to `to`. */
static int connect_from(int family, const char *from, const struct sockaddr_storage *to)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_storage me = addr(family, from ? from : (family == AF_INET ? "0.0.0.0" : "::"), 0);
    if (fd < 0 || (from && bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) ||
        connect(fd, (const struct sockaddr *)to, sizeof(*to)) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Both ends still carry a byte each way. */
static bool alive(int a, int b)
{
    char c = 0;
    return send(a, "x", 1, MSG_NOSIGNAL) == 1 && recv(b, &c, 1, 0) == 1 && c == 'x' &&
           send(b, "y", 1, MSG_NOSIGNAL) == 1 && recv(a, &c, 1, 0) == 1 && c == 'y';
}

/* A reader waiting on a connection whose peer never writes. */
typedef struct reader {
    int fd;
    ssize_t got;
    int err;
} reader;

/* A blocking read, as QEMU's in a TLS handshake (bounded by SO_RCVTIMEO, so
 * a destroy that never comes fails the test with EAGAIN, not hangs it). */
static void *read_one(void *arg)
{
    reader *r = arg;
    struct timeval limit = {.tv_sec = 30};
    char c;
    errno = 0;
    r->got = setsockopt(r->fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit)) == 0 ? recv(r->fd, &c, 1, 0) : -2;
    r->err = errno;
    return NULL;
}

static void ipv4(void)
{
    struct sockaddr_storage l_at, m_at;
    int l = listener(AF_INET, "127.0.0.2", &l_at), m = listener(AF_INET, "127.0.0.4", &m_at);
    CHECK(l >= 0 && m >= 0);
    /* ours to 127.0.0.2 (the one to cut), from 127.0.0.3 */
    int a = connect_from(AF_INET, "127.0.0.3", &l_at), a_srv = accept(l, NULL, NULL);
    /* ours to another address */
    int b = connect_from(AF_INET, NULL, &m_at), b_srv = accept(m, NULL, NULL);
    CHECK(a >= 0 && a_srv >= 0 && b >= 0 && b_srv >= 0);
    /* another process's connection to the same peer */
    int go[2], ready[2];
    CHECK(pipe(go) == 0 && pipe(ready) == 0);
    pid_t child = fork();
    if (child == 0) {
        int c = connect_from(AF_INET, "127.0.0.5", &l_at);
        char x = 0;
        if (write(ready[1], "r", 1) != 1 || read(go[0], &x, 1) != 1)
            _exit(2);
        _exit(c >= 0 && recv(c, &x, 1, 0) == 1 && x == 'z' ? 0 : 1);
    }
    char x;
    CHECK(read(ready[0], &x, 1) == 1);
    int c_srv = accept(l, NULL, NULL);
    CHECK(c_srv >= 0);

    /* 127.0.0.3 is the peer of a connection made to us (our listening
     * port is its local port): not ours to cut. */
    struct sockaddr_storage p3 = addr(AF_INET, "127.0.0.3", 0), p2 = addr(AF_INET, "127.0.0.2", 0);
    CHECK(vr_sockkill_outgoing(getpid(), (struct sockaddr *)&p3) == 0);
    CHECK(alive(a, a_srv));

    reader r = {.fd = a};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, read_one, &r) == 0);
    usleep(100 * 1000); /* (the reader is usually waiting by now; the check holds either way) */
    CHECK(vr_sockkill_outgoing(getpid(), (struct sockaddr *)&p2) == 1);
    pthread_join(t, NULL);
    CHECK(r.got == -1 && r.err == ECONNABORTED);
    /* the peer got a reset */
    CHECK(recv(a_srv, &x, 1, 0) == -1 && errno == ECONNRESET);
    /* nothing else was touched */
    CHECK(alive(b, b_srv));
    CHECK(send(c_srv, "z", 1, MSG_NOSIGNAL) == 1 && write(go[1], "g", 1) == 1);
    int status = -1;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* once cut, nothing more to cut */
    CHECK(vr_sockkill_outgoing(getpid(), (struct sockaddr *)&p2) == 0);
    int fds[] = {l, m, a, a_srv, b, b_srv, c_srv, go[0], go[1], ready[0], ready[1]};
    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
        close(fds[i]);
}

/* IPv6: our connection to [::1] goes, the one [::1] made to our listener
 * (the same address at both ends) stays. */
static void ipv6(void)
{
    struct sockaddr_storage at;
    int l = listener(AF_INET6, "::1", &at);
    if (l < 0) {
        fprintf(stderr, "no IPv6 loopback here: its part skipped\n");
        return;
    }
    int a = connect_from(AF_INET6, NULL, &at), a_srv = accept(l, NULL, NULL);
    CHECK(a >= 0 && a_srv >= 0);
    struct sockaddr_storage p = addr(AF_INET6, "::1", 0);
    CHECK(vr_sockkill_outgoing(getpid(), (struct sockaddr *)&p) == 1);
    char x;
    CHECK(recv(a, &x, 1, 0) == -1 && errno == ECONNABORTED);
    close(a);
    close(a_srv);
    close(l);
}

static void refusals(void)
{
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    CHECK(vr_sockkill_outgoing(getpid(), (struct sockaddr *)&un) == -EAFNOSUPPORT);
    struct sockaddr_storage p = addr(AF_INET, "127.0.0.2", 0);
    pid_t gone = fork();
    if (gone == 0)
        _exit(0);
    waitpid(gone, NULL, 0);
    CHECK(vr_sockkill_outgoing(gone, (struct sockaddr *)&p) == -ESRCH);
}

int main(void)
{
    if (geteuid() != 0) {
        fprintf(stderr, "test_sockkill: needs root (CAP_NET_ADMIN); skipped\n");
        return 77;
    }
    ipv4();
    ipv6();
    refusals();
    return CHECK_DONE();
}
