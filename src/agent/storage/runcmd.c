/* Helper programs as argv arrays (see runcmd.h). */
#include "runcmd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ticker.h"

extern char **environ;

int vr_run_argv(const char *const argv[], int timeout_s, char *out, size_t size)
{
    return vr_run_argv_input(argv, NULL, timeout_s, out, size);
}

int vr_run_argv_input(const char *const argv[], const char *input, int timeout_s, char *out, size_t size)
{
    return vr_run_argv_env_input(argv, NULL, input, timeout_s, out, size);
}

/* environ with `extra` ("NAME=value") in front (a name there wins: glibc's
 * getenv takes the first). The array is calloc'ed, its strings borrowed. */
static char **env_with(const char *const extra[])
{
    size_t n = 0, k = 0;
    while (environ[n])
        n++;
    while (extra[k])
        k++;
    char **env = calloc(n + k + 1, sizeof(*env));
    if (!env)
        return NULL;
    for (size_t i = 0; i < k; i++)
        env[i] = (char *)extra[i];
    for (size_t i = 0; i < n; i++)
        env[k + i] = environ[i];
    return env;
}

int vr_run_argv_env_input(const char *const argv[], const char *const extra_env[], const char *input,
                          int timeout_s, char *out, size_t size)
{
    char **env = extra_env ? env_with(extra_env) : environ;
    if (!env)
        return -ENOMEM;
    int pfd[2], ifd[2] = {-1, -1};
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        int e = errno;
        if (env != environ)
            free(env);
        return -e;
    }
    if (pipe2(pfd, O_CLOEXEC) < 0)
        return -errno;
    if (input && pipe2(ifd, O_CLOEXEC) < 0) {
        int e = errno;
        close(pfd[0]);
        close(pfd[1]);
        if (env != environ)
            free(env);
        return -e;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (input)
        posix_spawn_file_actions_adddup2(&fa, ifd[0], 0);
    else
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, env);
    posix_spawn_file_actions_destroy(&fa);
    if (env != environ)
        free(env);
    close(pfd[1]);
    if (input)
        close(ifd[0]);
    if (rc != 0) {
        close(pfd[0]);
        if (input)
            close(ifd[1]);
        return -rc;
    }
    if (input) {
        /* Small (a few key=value lines): fits the pipe, so writing it all
         * before reading cannot deadlock; a child that exits unread gets
         * EPIPE here, which is ignored (SIGPIPE is ignored by the agent). */
        size_t len = strlen(input), off = 0;
        while (off < len) {
            ssize_t w = write(ifd[1], input + off, len - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        close(ifd[1]);
    }
    size_t len = 0;
    char sink[512];
    long long deadline = vr_mono_ms() + (long long)timeout_s * 1000;
    for (;;) {
        long long left = deadline - vr_mono_ms();
        if (left <= 0) {
            kill(pid, SIGKILL);
            break;
        }
        struct pollfd p = {.fd = pfd[0], .events = POLLIN};
        int n = poll(&p, 1, (int)(left > 1000 ? 1000 : left));
        if (n < 0 && errno != EINTR)
            break;
        if (n <= 0)
            continue;
        char *dst = out && len + 1 < size ? out + len : sink;
        size_t room = out && len + 1 < size ? size - 1 - len : sizeof(sink);
        ssize_t r = read(pfd[0], dst, room);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (dst != sink)
            len += (size_t)r;
    }
    close(pfd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (out && size) {
        while (len && (out[len - 1] == '\n' || out[len - 1] == ' '))
            len--;
        out[len] = 0;
    }
    if (vr_mono_ms() >= deadline && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        return -ETIMEDOUT;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
