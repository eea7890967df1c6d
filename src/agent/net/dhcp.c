/* DHCP clients (dhcp.h). The agent never pastes into a shell: the client
 * is spawned with an argv array, the lease path reaches the hook in its
 * environment, and a pid file is believed only when /proc says that pid is
 * a udhcpc for that very interface (pids are reused). */
#include "dhcp.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "helper_path.h"
#include "log.h"

extern char **environ;

#define FIRST_LEASE_WAIT_MS 8000

static char dir[512] = "/run/vireo/dhcp";

void vr_dhcp_init(const char *run_dir)
{
    snprintf(dir, sizeof(dir), "%s/dhcp", run_dir && *run_dir ? run_dir : "/run/vireo");
}

/* A path cut short would name another file: then none (""). */
static void file_of(const char *dev, const char *ext, char *out, size_t n)
{
    int len = snprintf(out, n, "%s/%s.%s", dir, dev, ext);
    if (len < 0 || (size_t)len >= n)
        out[0] = '\0';
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The pid of a live udhcpc serving `dev`, from its pid file, or 0. */
static pid_t client_pid(const char *dev)
{
    char path[600], buf[4096];
    file_of(dev, "pid", path, sizeof(path));
    FILE *f = fopen(path, "re");
    long pid = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%ld", &pid) != 1)
        pid = 0;
    fclose(f);
    if (pid <= 1)
        return 0;
    snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    bool udhcpc = false, iface = false;
    for (char *p = buf, *prev = NULL; p < buf + n; prev = p, p += strlen(p) + 1) {
        const char *base = strrchr(p, '/') ? strrchr(p, '/') + 1 : p;
        udhcpc |= !strcmp(base, "udhcpc");
        iface |= prev && !strcmp(prev, "-i") && !strcmp(p, dev);
    }
    return udhcpc && iface ? (pid_t)pid : 0;
}

static void remove_files(const char *dev)
{
    char path[600];
    file_of(dev, "pid", path, sizeof(path));
    unlink(path);
    file_of(dev, "lease", path, sizeof(path));
    unlink(path);
}

static void stop_client(const char *dev)
{
    pid_t pid = client_pid(dev);
    if (pid > 0) {
        /* -R: on SIGTERM udhcpc sends DHCPRELEASE and runs the hook's
         * deconfig, which takes the address away. */
        kill(pid, SIGTERM);
        for (int i = 0; i < 60 && client_pid(dev) == pid; i++)
            sleep_ms(50);
        if (client_pid(dev) == pid)
            kill(pid, SIGKILL);
        VR_INFO("DHCP client of %s stopped (lease released)", dev);
    }
    remove_files(dev);
}

static bool wants_dhcp(json_t *target, const char *dev)
{
    json_t *net = json_object_get(target, dev);
    const char *proto = json_string_value(json_object_get(net, "boot_protocol"));
    return proto && !strcmp(proto, "dhcp");
}

void vr_dhcp_stop_unwanted(json_t *target)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char devs[64][16];
    int n = 0;
    while ((e = readdir(d)) && n < 64) {
        size_t len = strlen(e->d_name);
        if (len > 4 && len - 4 < 16 && !strcmp(e->d_name + len - 4, ".pid")) {
            snprintf(devs[n], sizeof(devs[n]), "%.*s", (int)(len - 4), e->d_name);
            n++;
        }
    }
    closedir(d);
    for (int i = 0; i < n; i++)
        if (!wants_dhcp(target, devs[i]))
            stop_client(devs[i]);
}

/* argv of the client: udhcpc itself, else busybox's applet. */
static const char *client_program(const char **applet)
{
    static const char *const own[] = {"/sbin/udhcpc", "/usr/sbin/udhcpc"};
    static const char *const bb[] = {"/bin/busybox", "/usr/bin/busybox"};
    for (size_t i = 0; i < 2; i++)
        if (access(own[i], X_OK) == 0) {
            *applet = NULL;
            return own[i];
        }
    for (size_t i = 0; i < 2; i++)
        if (access(bb[i], X_OK) == 0) {
            *applet = "udhcpc";
            return bb[i];
        }
    return NULL;
}

static int start_client(const char *dev, vr_error *err)
{
    char hook[512], pidf[600], lease[600], logf[600], env_lease[640];
    const char *applet = NULL, *prog = client_program(&applet);
    if (!prog)
        return vr_error_set(err, VR_ERR_NETWORK,
                            "network %s: boot_protocol dhcp needs udhcpc (Debian busybox or busybox-static)",
                            dev);
    if (!vr_helper_path("vireo-dhcp-hook", hook, sizeof(hook)))
        return vr_error_set(err, VR_ERR_NETWORK, "network %s: vireo-dhcp-hook is not installed", dev);
    char parent[512];
    snprintf(parent, sizeof(parent), "%s", dir);
    *strrchr(parent, '/') = '\0'; /* dir always ends in /dhcp */
    if ((mkdir(parent, 0755) < 0 && errno != EEXIST) || (mkdir(dir, 0755) < 0 && errno != EEXIST))
        return vr_error_set(err, VR_ERR_NETWORK, "network %s: cannot make %s: %s", dev, dir,
                            strerror(errno));
    remove_files(dev);
    file_of(dev, "pid", pidf, sizeof(pidf));
    file_of(dev, "lease", lease, sizeof(lease));
    file_of(dev, "log", logf, sizeof(logf));
    snprintf(env_lease, sizeof(env_lease), "VIREO_DHCP_LEASE=%s", lease);
    /* -b: keep trying in the background when no lease came within the
     * first discovers; -R: release on exit; the hook sets the address. */
    const char *argv[24];
    int a = 0;
    argv[a++] = prog;
    if (applet)
        argv[a++] = applet;
    const char *rest[] = {"-i", dev, "-p", pidf, "-s", hook, "-R", "-b", "-t", "4", "-T", "1",
                          "-A", "5", NULL};
    for (int i = 0; rest[i]; i++)
        argv[a++] = rest[i];
    argv[a] = NULL;
    size_t ne = 0;
    while (environ && environ[ne])
        ne++;
    char **envp = calloc(ne + 2, sizeof(*envp));
    if (!envp)
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory starting the DHCP client of %s", dev);
    size_t k = 0;
    for (size_t i = 0; i < ne; i++)
        if (strncmp(environ[i], "VIREO_DHCP_LEASE=", 17))
            envp[k++] = environ[i];
    envp[k++] = env_lease;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, logf, O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    pid_t pid;
    int rc = posix_spawn(&pid, prog, &fa, NULL, (char *const *)argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    free(envp);
    if (rc)
        return vr_error_set(err, VR_ERR_NETWORK, "network %s: cannot start %s (log %s): %s", dev,
                            prog, logf, strerror(rc));
    /* The foreground udhcpc exits once it has a lease (or has gone to the
     * background without one); its daemon child goes on. */
    int status = 0, waited = 0;
    while (waitpid(pid, &status, WNOHANG) == 0 && waited < FIRST_LEASE_WAIT_MS) {
        sleep_ms(50);
        waited += 50;
    }
    if (waited >= FIRST_LEASE_WAIT_MS) {
        kill(pid, SIGTERM);
        waitpid(pid, &status, 0);
        return vr_error_set(err, VR_ERR_NETWORK, "network %s: the DHCP client did not start in time", dev);
    }
    json_t *l = vr_dhcp_lease(dev);
    if (l)
        VR_INFO("DHCP client of %s bound %s", dev, json_string_value(json_object_get(l, "address")));
    else
        VR_WARN("DHCP client of %s has no lease yet; it keeps trying (log %s)", dev, logf);
    json_decref(l);
    return 0;
}

int vr_dhcp_ensure(json_t *target, vr_error *err)
{
    const char *name;
    json_t *net;
    json_object_foreach(target, name, net) {
        if (wants_dhcp(target, name) && client_pid(name) == 0 && start_client(name, err) < 0)
            return -1;
    }
    return 0;
}

json_t *vr_dhcp_lease(const char *dev)
{
    char path[600];
    file_of(dev, "lease", path, sizeof(path));
    json_t *l = json_load_file(path, 0, NULL);
    if (l && !json_is_string(json_object_get(l, "address"))) {
        json_decref(l);
        l = NULL;
    }
    return l;
}
