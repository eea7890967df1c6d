/* qemu-img as a child process (see qemuimg.h). */
#include "qemuimg.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

const char *vr_qemuimg_program = "/usr/bin/qemu-img";

#define OUT_MAX (256 * 1024) /* qemu-img info of one file is far below */
#define ERR_MAX 2048         /* the tail of stderr kept for the message */

typedef struct child {
    pid_t pid;
    int out, err; /* read ends, -1 once at EOF */
    char *obuf;
    size_t olen;
    char ebuf[ERR_MAX];
    size_t elen;
} child;

/* The child's side of spawn(): only async-signal-safe calls between fork
 * and exec. It dies with the thread that started it (PR_SET_PDEATHSIG):
 * a qemu-img left behind by a killed agent would go on writing a volume
 * nobody will mark LEGAL, after the agent's SPM lease is gone. */
static void child_exec(char *const argv[], pid_t parent, int out, int errfd, int report)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127); /* the agent died before prctl */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* The agent ignores SIGPIPE; the child gets default signal handling. */
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigaction(SIGPIPE, &dfl, NULL);
    sigaction(SIGTERM, &dfl, NULL);
    int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0)
        goto failed;
    /* no fd of the agent (TLS sockets, libvirt's) leaks in; report is
     * close-on-exec: it tells the parent only that exec failed */
    if (report > 3)
        close_range(3, (unsigned)report - 1, 0);
    close_range((unsigned)report + 1, ~0U, 0);
    execve(argv[0], argv, (char *[]){"LC_ALL=C", NULL});
failed:;
    int e = errno;
    ssize_t ignored = write(report, &e, sizeof(e));
    (void)ignored;
    _exit(127);
}

/* Start argv[0] with stdin on /dev/null and stdout/stderr on pipes. */
static int spawn(char *const argv[], child *c, vr_error *err)
{
    int po[2], pe[2], rep[2];
    memset(c, 0, sizeof(*c));
    c->out = c->err = -1;
    if (pipe2(po, O_CLOEXEC) < 0)
        return vr_error_set(err, VR_ERR_STORAGE, "cannot run qemu-img: pipe: %s", strerror(errno));
    if (pipe2(pe, O_CLOEXEC) < 0) {
        close(po[0]);
        close(po[1]);
        return vr_error_set(err, VR_ERR_STORAGE, "cannot run qemu-img: pipe: %s", strerror(errno));
    }
    if (pipe2(rep, O_CLOEXEC) < 0) {
        close(po[0]);
        close(po[1]);
        close(pe[0]);
        close(pe[1]);
        return vr_error_set(err, VR_ERR_STORAGE, "cannot run qemu-img: pipe: %s", strerror(errno));
    }
    pid_t parent = getpid();
    c->pid = fork();
    if (c->pid == 0)
        child_exec(argv, parent, po[1], pe[1], rep[1]);
    int fork_errno = errno;
    close(po[1]);
    close(pe[1]);
    close(rep[1]);
    int exec_errno = 0;
    if (c->pid > 0) {
        ssize_t n;
        while ((n = read(rep[0], &exec_errno, sizeof(exec_errno))) < 0 && errno == EINTR)
            ;
        if (n != (ssize_t)sizeof(exec_errno))
            exec_errno = 0; /* closed by exec: it runs */
        else
            while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
                ;
    }
    close(rep[0]);
    if (c->pid < 0 || exec_errno) {
        close(po[0]);
        close(pe[0]);
        return vr_error_set(err, VR_ERR_STORAGE, "cannot run %s: %s", argv[0],
                            strerror(c->pid < 0 ? fork_errno : exec_errno));
    }
    c->out = po[0];
    c->err = pe[0];
    return 0;
}

/* Read what is available on fd into the child's buffers; false at EOF. */
static bool drain(child *c, int which)
{
    char buf[4096];
    ssize_t n = read(which == 1 ? c->out : c->err, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return true;
    if (n <= 0)
        return false;
    if (which == 1) {
        if (c->olen + (size_t)n <= OUT_MAX) {
            char *p = realloc(c->obuf, c->olen + (size_t)n + 1);
            if (p) {
                c->obuf = p;
                memcpy(p + c->olen, buf, (size_t)n);
                c->olen += (size_t)n;
                p[c->olen] = 0;
            }
        }
    } else {
        /* keep the tail: qemu-img's reason is its last line */
        const char *src = buf;
        size_t add = (size_t)n;
        if (add > ERR_MAX - 1) {
            src += add - (ERR_MAX - 1);
            add = ERR_MAX - 1;
        }
        if (c->elen + add > ERR_MAX - 1) {
            size_t drop = c->elen + add - (ERR_MAX - 1);
            memmove(c->ebuf, c->ebuf + drop, c->elen - drop);
            c->elen -= drop;
        }
        memcpy(c->ebuf + c->elen, src, add);
        c->elen += add;
        c->ebuf[c->elen] = 0;
    }
    return true;
}

/* Pump both pipes until EOF. Every ~200 ms (and on output) tick is called
 * with the output so far; when it returns true the child is killed. Then
 * reap. Returns the exit status (>= 0), -ECANCELED, or -errno. */
static int finish(child *c, bool (*tick)(void *, child *), void *opaque)
{
    bool cancelled = false;
    while (c->out >= 0 || c->err >= 0) {
        struct pollfd p[2] = {{.fd = c->out, .events = POLLIN}, {.fd = c->err, .events = POLLIN}};
        int n = poll(p, 2, 200);
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2 && n > 0; i++) {
            if (p[i].fd >= 0 && (p[i].revents & (POLLIN | POLLHUP | POLLERR)) &&
                !drain(c, i + 1)) {
                close(p[i].fd);
                *(i == 0 ? &c->out : &c->err) = -1;
            }
        }
        if (tick && !cancelled && tick(opaque, c)) {
            cancelled = true;
            kill(c->pid, SIGKILL);
        }
    }
    if (c->out >= 0)
        close(c->out);
    if (c->err >= 0)
        close(c->err);
    c->out = c->err = -1;
    int st;
    while (waitpid(c->pid, &st, 0) < 0)
        if (errno != EINTR)
            return -errno;
    if (cancelled)
        return -ECANCELED;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* qemu-img's own words, trimmed to its last line. */
static const char *reason(child *c)
{
    while (c->elen && (c->ebuf[c->elen - 1] == '\n' || c->ebuf[c->elen - 1] == '\r'))
        c->ebuf[--c->elen] = 0;
    char *nl = strrchr(c->ebuf, '\n');
    const char *r = nl ? nl + 1 : c->ebuf;
    return *r ? r : "no reason given";
}

/* Run argv to its end. On success *out (may be NULL) gets stdout (caller
 * frees). what names the operation in errors. */
static int run(char *const argv[], const char *what, char **out, vr_error *err)
{
    child c;
    if (spawn(argv, &c, err) < 0)
        return -1;
    int rc = finish(&c, NULL, NULL);
    if (rc != 0) {
        vr_error_set(err, VR_ERR_STORAGE, "%s failed (qemu-img exit %d): %s", what, rc, reason(&c));
        free(c.obuf);
        return -1;
    }
    if (out)
        *out = c.obuf ? c.obuf : strdup("");
    else
        free(c.obuf);
    return 0;
}

int vr_qemuimg_create(const char *path, const char *fmt, long long size, bool preallocated,
                      vr_error *err)
{
    char sz[32], what[128 + 1024];
    snprintf(sz, sizeof(sz), "%lld", size);
    bool qcow2 = !strcmp(fmt, "qcow2");
    const char *opts = qcow2 ? (preallocated ? "compat=1.1,preallocation=metadata" : "compat=1.1")
                             : (preallocated ? "preallocation=falloc" : "preallocation=off");
    char *argv[] = {(char *)vr_qemuimg_program, "create", "-q", "-f", qcow2 ? "qcow2" : "raw",
                    "-o", (char *)opts, (char *)path, sz, NULL};
    snprintf(what, sizeof(what), "creating %s", path);
    return run(argv, what, NULL, err);
}

int vr_qemuimg_info(const char *path, json_t **info, vr_error *err)
{
    char *out, what[64 + 1024];
    char *argv[] = {(char *)vr_qemuimg_program, "info", "--output=json", "-U", (char *)path, NULL};
    snprintf(what, sizeof(what), "reading %s", path);
    if (run(argv, what, &out, err) < 0)
        return -1;
    json_error_t je;
    *info = json_loads(out, 0, &je);
    free(out);
    if (!json_is_object(*info)) {
        json_decref(*info);
        *info = NULL;
        return vr_error_set(err, VR_ERR_STORAGE, "qemu-img info of %s: unreadable answer (%s)", path,
                            je.text);
    }
    return 0;
}

int vr_qemuimg_resize(const char *path, const char *fmt, long long size, bool preallocated,
                      vr_error *err)
{
    char sz[32], what[64 + 1024];
    snprintf(sz, sizeof(sz), "%lld", size);
    bool falloc = preallocated && !strcmp(fmt, "raw");
    char *argv[] = {(char *)vr_qemuimg_program, "resize", "-q", "-f", (char *)fmt,
                    falloc ? "--preallocation=falloc" : "--preallocation=off", (char *)path, sz,
                    NULL};
    snprintf(what, sizeof(what), "resizing %s", path);
    return run(argv, what, NULL, err);
}

double vr_qemuimg_parse_progress(const char *buf, size_t len)
{
    /* qemu-img -p rewrites one line: "    (42.17/100%)\r" */
    for (size_t i = len; i-- > 0;) {
        if (buf[i] != '(')
            continue;
        char tmp[24];
        size_t n = len - i - 1 < sizeof(tmp) - 1 ? len - i - 1 : sizeof(tmp) - 1;
        memcpy(tmp, buf + i + 1, n);
        tmp[n] = 0;
        char *end;
        double v = strtod(tmp, &end);
        if (end != tmp && !strncmp(end, "/100%)", 6) && v >= 0 && v <= 100)
            return v;
    }
    return -1;
}

typedef struct convert_tick {
    vr_qemuimg_progress_fn fn;
    void *opaque;
    double last;
    size_t seen; /* stdout bytes already looked at */
} convert_tick;

static bool on_tick(void *arg, child *c)
{
    convert_tick *t = arg;
    if (c->olen > t->seen) {
        double p = vr_qemuimg_parse_progress(c->obuf, c->olen);
        if (p >= 0)
            t->last = p;
        /* progress lines pile up: keep only a short tail */
        if (c->olen > 4096) {
            memmove(c->obuf, c->obuf + c->olen - 64, 64);
            c->olen = 64;
            c->obuf[c->olen] = 0;
        }
        t->seen = c->olen;
    }
    return t->fn ? t->fn(t->opaque, t->last) : false;
}

/* Run a `qemu-img convert` argv (src and dst its last two members),
 * following its progress. */
static int convert_run(char **argv, const char *src, const char *dst, vr_qemuimg_progress_fn progress,
                       void *opaque, vr_error *err)
{
    child c;
    if (spawn(argv, &c, err) < 0)
        return -1;
    convert_tick t = {.fn = progress, .opaque = opaque};
    int rc = finish(&c, on_tick, &t);
    free(c.obuf);
    if (rc == -ECANCELED) {
        vr_error_set(err, VR_ERR_STORAGE, "copy of %s to %s cancelled", src, dst);
        return -ECANCELED;
    }
    if (rc != 0)
        return vr_error_set(err, VR_ERR_STORAGE, "copy of %s to %s failed (qemu-img exit %d): %s",
                            src, dst, rc, reason(&c));
    VR_DEBUG("qemu-img convert %s -> %s done", src, dst);
    return 0;
}

int vr_qemuimg_convert(const char *src, const char *src_fmt, const char *dst,
                       const char *dst_fmt, const char *cache, vr_qemuimg_progress_fn progress,
                       void *opaque, vr_error *err)
{
    char *argv[] = {(char *)vr_qemuimg_program, "convert", "-p", "-t", (char *)cache, "-T",
                    (char *)cache, "-f", (char *)src_fmt, "-O", (char *)dst_fmt, (char *)src,
                    (char *)dst, NULL};
    return convert_run(argv, src, dst, progress, opaque, err);
}

int vr_qemuimg_convert_layer(const char *src, const char *src_fmt, const char *dst, const char *backing,
                             const char *backing_fmt, const char *cache, vr_qemuimg_progress_fn progress,
                             void *opaque, vr_error *err)
{
    /* With -B only the clusters src's own layer holds are written (qemu-img
     * asks the block status above src's backing): the copy is a layer too. */
    char *argv[] = {(char *)vr_qemuimg_program, "convert", "-p", "-t", (char *)cache, "-T",
                    (char *)cache, "-f", (char *)src_fmt, "-O", "qcow2", "-B", (char *)backing, "-F",
                    (char *)backing_fmt, (char *)src, (char *)dst, NULL};
    return convert_run(argv, src, dst, progress, opaque, err);
}

int vr_qemuimg_create_overlay(const char *path, const char *backing, const char *backing_fmt,
                              long long size, vr_error *err)
{
    char sz[32], what[128 + 1024];
    snprintf(sz, sizeof(sz), "%lld", size);
    char *argv[] = {(char *)vr_qemuimg_program, "create", "-q", "-f", "qcow2", "-o", "compat=1.1",
                    "-b", (char *)backing, "-F", (char *)backing_fmt, (char *)path, sz, NULL};
    snprintf(what, sizeof(what), "creating overlay %s on %s", path, backing);
    return run(argv, what, NULL, err);
}

int vr_qemuimg_commit(const char *top, const char *base, vr_error *err)
{
    char what[64 + 2048];
    /* -t none: shared storage must not keep dirty pages in this host's
     * cache; -b names the base so an intermediate top commits one step. */
    char *argv[] = {(char *)vr_qemuimg_program, "commit", "-q", "-t", "none", "-f", "qcow2",
                    "-b", (char *)base, (char *)top, NULL};
    snprintf(what, sizeof(what), "committing %s into %s", top, base);
    return run(argv, what, NULL, err);
}

int vr_qemuimg_rebase_unsafe(const char *path, const char *backing, const char *backing_fmt,
                             vr_error *err)
{
    char what[64 + 2048];
    char *argv[] = {(char *)vr_qemuimg_program, "rebase", "-q", "-u", "-f", "qcow2", "-b",
                    (char *)backing, "-F", (char *)backing_fmt, (char *)path, NULL};
    snprintf(what, sizeof(what), "pointing %s at %s", path, backing);
    return run(argv, what, NULL, err);
}
