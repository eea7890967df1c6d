#include "vm_exits.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "devspec.h"
#include "jsonx.h"
#include "log.h"
#include "verbs.h"

const char *vr_exit_reason_of_stop(int detail)
{
    switch (detail) {
    case VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN: return "shutdown";
    case VIR_DOMAIN_EVENT_STOPPED_DESTROYED: return "destroyed";
    case VIR_DOMAIN_EVENT_STOPPED_CRASHED: /* the guest panicked */
    case VIR_DOMAIN_EVENT_STOPPED_FAILED: return "crashed"; /* QEMU killed or died */
    case VIR_DOMAIN_EVENT_STOPPED_MIGRATED: return "migrated";
    case VIR_DOMAIN_EVENT_STOPPED_SAVED: return "saved";
    case VIR_DOMAIN_EVENT_STOPPED_FROM_SNAPSHOT: return "snapshot";
    default: return "unknown";
    }
}

/* A ring of the last exits: enough for every VM a host runs to end at
 * once and the engine to ask about each. */
#define KEPT 512
typedef struct exit_rec {
    char uuid[VIR_UUID_STRING_BUFLEN];
    char reason[16], detail[16];
    long long at;
} exit_rec;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static exit_rec ring[KEPT];
static unsigned next;

void vr_exit_record(const char *uuid, const char *name, const char *reason, const char *detail)
{
    pthread_mutex_lock(&lock);
    exit_rec *r = &ring[next++ % KEPT];
    snprintf(r->uuid, sizeof(r->uuid), "%s", uuid);
    snprintf(r->reason, sizeof(r->reason), "%s", reason);
    snprintf(r->detail, sizeof(r->detail), "%s", detail ? detail : "");
    r->at = (long long)time(NULL);
    pthread_mutex_unlock(&lock);
    VR_INFO("VM %s (%s) ended: %s", name ? name : "?", uuid, reason);
}

/* The newest remembered exit of uuid, copied into *out. */
static bool remembered(const char *uuid, exit_rec *out)
{
    bool found = false;
    pthread_mutex_lock(&lock);
    for (unsigned i = 0; i < KEPT && i < next && !found; i++) {
        const exit_rec *r = &ring[(next - 1 - i) % KEPT];
        if (!strcmp(r->uuid, uuid)) {
            *out = *r;
            found = true;
        }
    }
    pthread_mutex_unlock(&lock);
    return found;
}

/* libvirt's shutoff reasons (virDomainShutoffReason's names) as ours. */
static const char *from_libvirt(const char *word, size_t n)
{
    static const struct { const char *lv, *ours; } map[] = {
        {"shutdown", "shutdown"}, {"destroyed", "destroyed"}, {"crashed", "crashed"},
        {"failed", "crashed"}, {"migrated", "migrated"}, {"saved", "saved"},
        {"from-snapshot", "snapshot"}, {"daemon", "unknown"}, {"unknown", "unknown"}};
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strlen(map[i].lv) == n && !strncmp(word, map[i].lv, n))
            return map[i].ours;
    return "unknown";
}

/* The last `max` bytes of path, NUL-terminated (malloc'd), or NULL. */
static char *read_tail(const char *path, size_t max)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return NULL;
    off_t size = lseek(fd, 0, SEEK_END);
    off_t from = size > (off_t)max ? size - (off_t)max : 0;
    char *buf = size >= 0 ? malloc((size_t)(size - from) + 1) : NULL;
    ssize_t got = buf ? pread(fd, buf, (size_t)(size - from), from) : -1;
    close(fd);
    if (got < 0) {
        free(buf);
        return NULL;
    }
    buf[got] = '\0';
    return buf;
}

/* Each start of a domain appends "...: starting up libvirt version ..."
 * and its command line (with "-uuid U") to <log_dir>/<name>.log; its end
 * appends "...: shutting down, reason=R". */
const char *vr_exit_from_libvirt_log(const char *log_dir, const char *name, const char *uuid)
{
    char path[1024];
    if (!vr_valid_name(name) || snprintf(path, sizeof(path), "%s/%s.log", log_dir, name) >= (int)sizeof(path))
        return NULL;
    char *text = read_tail(path, 256 * 1024);
    if (!text)
        return NULL;
    const char *reason = NULL;
    char *start = NULL;
    for (char *p = text; (p = strstr(p, "starting up")); p++)
        start = p;
    const char *mark = "shutting down, reason=";
    char *end = start ? strstr(start, mark) : NULL;
    char *id = start ? strstr(start, uuid) : NULL;
    if (end && id && id < end) {
        end += strlen(mark);
        reason = from_libvirt(end, strcspn(end, " \t\r\n"));
    }
    free(text);
    return reason;
}

static int vm_get_exit(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    static const char *const keys[] = {"uuid", "name", NULL};
    const char *uuid = NULL, *name = NULL;
    if (vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0 ||
        vr_json_str(params, "params", "uuid", true, &uuid, err) < 0 ||
        vr_json_str(params, "params", "name", false, &name, err) < 0)
        return -1;
    if (!vr_valid_uuid(uuid))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "params.uuid: '%.64s' is not a UUID", uuid);
    if (name && !vr_valid_name(name))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "params.name: not a VM name");
    virDomainPtr dom = virDomainLookupByUUIDString(a->conn, uuid);
    virResetLastError();
    if (dom) {
        int state = 0, reason = 0;
        bool running = virDomainGetState(dom, &state, &reason, 0) == 0 && state != VIR_DOMAIN_SHUTOFF;
        virResetLastError();
        virDomainFree(dom);
        if (running)
            return vr_error_set(err, VR_ERR_BAD_STATE, "VM %s is running on this host", uuid);
    }
    exit_rec r;
    if (remembered(uuid, &r)) {
        *result = json_pack("{s:s, s:s, s:s, s:I, s:s}", "uuid", uuid, "reason", r.reason, "detail", r.detail,
                            "at", (json_int_t)r.at, "source", "event");
        return 0;
    }
    const char *why = name ? vr_exit_from_libvirt_log(a->console_log_dir, name, uuid) : NULL;
    *result = json_pack("{s:s, s:s, s:s}", "uuid", uuid, "reason", why ? why : "unknown", "source",
                        why ? "libvirt-log" : "none");
    return 0;
}

const vr_verb vr_vm_exit_verbs[] = {
    {"VM.getExit", vm_get_exit},
    {NULL, NULL},
};
