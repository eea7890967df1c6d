/* Pause on ENOSPC, resume when there is room again (see enospc.h). */
#include "enospc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "devspec.h"
#include "dominfo.h"
#include "hyp.h"
#include "log.h"
#include "ticker.h"
#include "vm_jobs.h"

/* Room enough to resume: 64 MiB free, or 10 % of the file system when that
 * is less (small test or scratch file systems). Less than that and the
 * guest would most likely fill it again at once and pause again. */
#define ROOM_BYTES (64ULL << 20)

bool vr_enospc_has_room(unsigned long long total, unsigned long long avail)
{
    unsigned long long need = total / 10 < ROOM_BYTES ? total / 10 : ROOM_BYTES;
    return avail > need;
}

/* Number of disk errors of dom into errs (max n); the caller frees disk
 * names. */
static int disk_errors(virDomainPtr dom, virDomainDiskErrorPtr errs, int n)
{
    int k = virDomainGetDiskErrors(dom, errs, (unsigned)n, 0);
    if (k < 0)
        virResetLastError();
    return k < 0 ? 0 : k;
}

/* libvirt's pause reasons other than an I/O error, by name (the engine
 * shows them as a VM's pause_reason). */
static const char *other_reason(int reason)
{
    switch (reason) {
    case VIR_DOMAIN_PAUSED_USER: return "user";
    case VIR_DOMAIN_PAUSED_MIGRATION:
    case VIR_DOMAIN_PAUSED_POSTCOPY:
    case VIR_DOMAIN_PAUSED_POSTCOPY_FAILED: return "migration";
    case VIR_DOMAIN_PAUSED_SNAPSHOT:
    case VIR_DOMAIN_PAUSED_FROM_SNAPSHOT: return "snapshot";
    case VIR_DOMAIN_PAUSED_SAVE: return "save";
    case VIR_DOMAIN_PAUSED_DUMP: return "dump";
    case VIR_DOMAIN_PAUSED_STARTING_UP: return "starting";
    case VIR_DOMAIN_PAUSED_SHUTTING_DOWN: return "shutting_down";
    case VIR_DOMAIN_PAUSED_CRASHED: return "crashed";
    case VIR_DOMAIN_PAUSED_WATCHDOG: return "watchdog";
    default: return "unknown";
    }
}

const char *vr_enospc_pause_reason(virDomainPtr dom, int state, int reason, char *disk, size_t len)
{
    if (len)
        *disk = 0;
    if (state != VIR_DOMAIN_PAUSED)
        return NULL;
    if (reason != VIR_DOMAIN_PAUSED_IOERROR)
        return other_reason(reason);
    virDomainDiskError errs[8];
    int k = disk_errors(dom, errs, 8);
    bool nospace = false;
    for (int i = 0; i < k; i++) {
        nospace |= errs[i].error == VIR_DOMAIN_DISK_ERROR_NO_SPACE;
        if (len && !*disk && errs[i].disk)
            snprintf(disk, len, "%s", errs[i].disk);
        free(errs[i].disk);
    }
    return nospace ? "enospc" : "ioerror";
}

/* Free space of the file system holding the disk `target` of dom; false
 * when unknown. path gets the disk's file. */
static bool disk_room(virDomainPtr dom, xmlDocPtr doc, const char *target, char *path,
                      size_t size)
{
    if (strspn(target, "abcdefghijklmnopqrstuvwxyz") != strlen(target) || strlen(target) > 8)
        return false; /* goes into an XPath */
    char xp[128];
    snprintf(xp, sizeof(xp), "/domain/devices/disk[target/@dev='%s']/source/@file", target);
    json_t *files = vr_dom_xpath_strings(doc, xp);
    const char *f = json_string_value(json_array_get(files, 0));
    snprintf(path, size, "%s", f ? f : "");
    json_decref(files);
    struct statvfs sv;
    if (!*path || statvfs(path, &sv) < 0)
        return false;
    return vr_enospc_has_room((unsigned long long)sv.f_blocks * sv.f_frsize,
                              (unsigned long long)sv.f_bavail * sv.f_frsize);
}

/* Resume dom if every disk that failed for lack of space has room now. */
static void check_vm(vr_agent *a, virDomainPtr dom)
{
    int state, reason;
    if (!vr_dom_is_owned(dom) || virDomainGetState(dom, &state, &reason, 0) < 0 ||
        state != VIR_DOMAIN_PAUSED || reason != VIR_DOMAIN_PAUSED_IOERROR) {
        virResetLastError();
        return;
    }
    virDomainDiskError errs[VR_MAX_STORAGE];
    int k = disk_errors(dom, errs, VR_MAX_STORAGE);
    xmlDocPtr doc = NULL;
    bool ok = k > 0 && vr_dom_doc(dom, &doc, NULL) == 0;
    char path[1025] = "", paths[512] = "";
    for (int i = 0; i < k; i++) {
        if (ok && errs[i].error != VIR_DOMAIN_DISK_ERROR_NO_SPACE)
            ok = false; /* another I/O error: not ours to judge */
        if (ok && !disk_room(dom, doc, errs[i].disk, path, sizeof(path)))
            ok = false;
        if (ok)
            snprintf(paths + strlen(paths), sizeof(paths) - strlen(paths), "%s%s",
                     *paths ? " " : "", path);
        free(errs[i].disk);
    }
    if (doc)
        xmlFreeDoc(doc);
    if (!ok)
        return;
    char uuid[VIR_UUID_STRING_BUFLEN] = "";
    virDomainGetUUIDString(dom, uuid);
    vr_error err = {0};
    if (vr_vm_job_begin(uuid, virDomainGetName(dom), "resume after ENOSPC", &err) < 0) {
        VR_DEBUG("VM %s: %s; resume later", virDomainGetName(dom), err.message);
        return;
    }
    if (virDomainResume(dom) < 0) {
        vr_libvirt_error(&err, "cannot resume VM %s", virDomainGetName(dom));
        VR_WARN("%s", err.message);
    } else {
        VR_INFO("VM %s resumed: space available again on %s", virDomainGetName(dom), paths);
        vr_server_notify(a->server, "VM.event",
                         json_pack("{s:s, s:s, s:s, s:b, s:s, s:s}", "uuid", uuid, "name",
                                   virDomainGetName(dom), "event", "AutoResumed", "owned", true,
                                   "reason", "enospc", "detail", paths));
    }
    vr_vm_job_end(uuid);
}

static vr_ticker *ticker;

static void watch_round(void *arg)
{
    vr_agent *agent = arg;
    virConnectPtr conn = __atomic_load_n(&agent->conn, __ATOMIC_SEQ_CST);
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(conn, &doms, VIR_CONNECT_LIST_DOMAINS_PAUSED);
    if (n < 0)
        virResetLastError(); /* libvirtd away: the reconnect thread handles it */
    for (int i = 0; i < n; i++) {
        check_vm(agent, doms[i]);
        virDomainFree(doms[i]);
    }
    free(doms);
}

int vr_enospc_start(vr_agent *a, vr_error *err)
{
    ticker = vr_ticker_start("ENOSPC watcher", VR_ENOSPC_CHECK_S * 1000LL, watch_round, a, err);
    return ticker ? 0 : -1;
}

void vr_enospc_stop(void)
{
    vr_ticker_stop(ticker, 0);
    ticker = NULL;
}

static int on_io_error(virConnectPtr conn, virDomainPtr dom, const char *path, const char *alias,
                       int action, const char *reason, void *opaque)
{
    vr_agent *a = opaque;
    static const char *const actions[] = {"none", "pause", "report"};
    if (!vr_dom_is_owned(dom))
        return 0;
    char uuid[VIR_UUID_STRING_BUFLEN] = "";
    virDomainGetUUIDString(dom, uuid);
    const char *act = action >= 0 && action < 3 ? actions[action] : "unknown";
    VR_WARN("VM %s: I/O error on %s (%s), action %s", virDomainGetName(dom), path ? path : "?",
            reason ? reason : "?", act);
    vr_server_notify(a->server, "VM.event",
                     json_pack("{s:s, s:s, s:s, s:b, s:s, s:s, s:s, s:s}", "uuid", uuid, "name",
                               virDomainGetName(dom), "event", "IOError", "owned", true, "path",
                               path ? path : "", "alias", alias ? alias : "", "action", act,
                               "reason", reason && *reason ? reason : "unknown"));
    return 0;
}

int vr_enospc_register(vr_agent *a, virConnectPtr conn, vr_error *err)
{
    if (virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON,
                                         VIR_DOMAIN_EVENT_CALLBACK(on_io_error), a, NULL) < 0)
        return vr_libvirt_error(err, "cannot subscribe to libvirt I/O error events");
    return 0;
}
