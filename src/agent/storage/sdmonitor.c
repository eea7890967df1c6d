/* Storage domain monitor thread (see sdmonitor.h). */
#include "sdmonitor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "devspec.h"
#include "log.h"
#include "mdfile.h"
#include "sdinfo.h"
#include "ticker.h"

#define MAX_DOMAINS 128
#define ALIGN 4096

typedef struct result {
    char domain[37];
    bool valid;
    double delay_ms;
    long long total, free;
    char checked_at[32];
    char error[256];
} result;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* last, nlast */
static result last[MAX_DOMAINS];
static int nlast;
static vr_ticker *ticker;
/* Held around each notification; once silenced is set no more are sent, so
 * the server may go even if the thread is stuck on dead storage. */
static pthread_mutex_t notify_lock = PTHREAD_MUTEX_INITIALIZER;
static bool silenced;
static vr_agent *agent;

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Read metadata bypassing the page cache and check it. */
static void check_metadata(const char *dir, result *r)
{
    char path[PATH_MAX];
    vr_sd_fmt(path, sizeof(path), "%s/dom_md/metadata", dir);
    void *buf = NULL;
    if (posix_memalign(&buf, ALIGN, VR_MD_MAX_BYTES + ALIGN) != 0) {
        vr_sd_fmt(r->error, sizeof(r->error), "out of memory");
        return;
    }
    double t0 = mono_ms();
    int fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == EINVAL) /* tmpfs: no O_DIRECT, and no cache to bypass */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, VR_MD_MAX_BYTES + ALIGN);
    int e = errno;
    r->delay_ms = mono_ms() - t0;
    if (fd >= 0)
        close(fd);
    if (n < 0) {
        vr_sd_fmt(r->error, sizeof(r->error), "cannot read %s: %s", path, strerror(e));
    } else {
        vr_md md = {0};
        vr_error err = {0};
        const char *id = NULL;
        if (vr_md_parse(buf, (size_t)n, path, &md, &err) < 0)
            vr_sd_fmt(r->error, sizeof(r->error), "%s", err.message);
        else if (!(id = vr_md_get(&md, "SDUUID")) || strcmp(id, r->domain))
            vr_sd_fmt(r->error, sizeof(r->error), "%s names another domain", path);
        else
            r->valid = true;
        vr_md_clear(&md);
    }
    free(buf);
}

static void check_domain(const char *mount, const char *uuid, result *r)
{
    memset(r, 0, sizeof(*r));
    vr_sd_fmt(r->domain, sizeof(r->domain), "%s", uuid);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(r->checked_at, sizeof(r->checked_at), "%Y-%m-%dT%H:%M:%SZ", &tm);
    vr_error err = {0};
    if (vr_sd_dir_check(mount, uuid, &err) < 0) {
        vr_sd_fmt(r->error, sizeof(r->error), "%s", err.message);
        return;
    }
    char dir[PATH_MAX];
    vr_sd_fmt(dir, sizeof(dir), "%s/%s", mount, uuid);
    check_metadata(dir, r);
    struct statvfs vfs;
    if (statvfs(dir, &vfs) == 0) {
        r->total = (long long)vfs.f_blocks * (long long)vfs.f_frsize;
        r->free = (long long)vfs.f_bavail * (long long)vfs.f_frsize;
    } else if (r->valid) {
        r->valid = false;
        vr_sd_fmt(r->error, sizeof(r->error), "cannot statvfs %s: %s", dir, strerror(errno));
    }
}

/* Every <root>/<conn>/<uuid> holding a dom_md/metadata. */
static int scan(result *out, int max)
{
    int n = 0;
    DIR *root = opendir(agent->storage_root);
    struct dirent *c;
    while (root && n < max && (c = readdir(root))) {
        if (c->d_name[0] == '.')
            continue;
        char mount[PATH_MAX];
        vr_sd_fmt(mount, sizeof(mount), "%s/%s", agent->storage_root, c->d_name);
        DIR *m = opendir(mount);
        struct dirent *d;
        while (m && n < max && (d = readdir(m))) {
            char md[PATH_MAX];
            if (!vr_valid_uuid(d->d_name) ||
                vr_sd_fmt(md, sizeof(md), "%s/%s/dom_md/metadata", mount, d->d_name) < 0 ||
                access(md, F_OK) < 0)
                continue;
            check_domain(mount, d->d_name, &out[n++]);
        }
        if (m)
            closedir(m);
    }
    if (root)
        closedir(root);
    return n;
}

static void announce(const result *r)
{
    json_t *p = json_pack("{s:s, s:b}", "domain", r->domain, "valid", r->valid);
    if (!r->valid)
        json_object_set_new(p, "error", json_string(r->error));
    VR_INFO("storage domain %s is now %s%s%s", r->domain, r->valid ? "valid" : "invalid",
            r->valid ? "" : ": ", r->valid ? "" : r->error);
    pthread_mutex_lock(&notify_lock);
    if (silenced)
        json_decref(p);
    else
        vr_server_notify(agent->server, "Storage.changed", p);
    pthread_mutex_unlock(&notify_lock);
}

static void round_once(void *arg)
{
    (void)arg;
    static result cur[MAX_DOMAINS];
    int n = scan(cur, MAX_DOMAINS);
    int flipped[MAX_DOMAINS], nflip = 0;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < nlast; j++)
            if (!strcmp(cur[i].domain, last[j].domain) && cur[i].valid != last[j].valid)
                flipped[nflip++] = i;
    memcpy(last, cur, sizeof(result) * (size_t)n);
    nlast = n;
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < nflip; i++)
        announce(&cur[flipped[i]]);
}

int vr_sd_monitor_start(vr_agent *a, vr_error *err)
{
    agent = a;
    ticker = vr_ticker_start("storage monitor", VR_SD_MONITOR_INTERVAL_S * 1000LL, round_once, NULL, err);
    return ticker ? 0 : -1;
}

void vr_sd_monitor_stop(void)
{
    if (!ticker)
        return;
    /* A round blocked on a dead NFS server would hold the agent's exit:
     * wait a while, then leave the thread behind, silenced. */
    vr_ticker_stop(ticker, 5000);
    ticker = NULL;
    pthread_mutex_lock(&notify_lock);
    silenced = true;
    pthread_mutex_unlock(&notify_lock);
}

void vr_sd_monitor_kick(void)
{
    if (ticker)
        vr_ticker_kick(ticker);
}

json_t *vr_sd_monitor_json(void)
{
    json_t *arr = json_array();
    pthread_mutex_lock(&lock);
    for (int i = 0; i < nlast; i++) {
        const result *r = &last[i];
        json_t *o = json_pack("{s:s, s:b, s:f, s:I, s:I, s:s}", "domain", r->domain, "valid",
                              r->valid, "delay_ms", r->delay_ms, "total", (json_int_t)r->total,
                              "free", (json_int_t)r->free, "checked_at", r->checked_at);
        if (!r->valid)
            json_object_set_new(o, "error", json_string(r->error));
        json_array_append_new(arr, o);
    }
    pthread_mutex_unlock(&lock);
    return json_pack("{s:o}", "domains", arr);
}
