/* VM.migrate (docs/migration.md): libvirt peer-to-peer live migration as a
 * long job. Two threads per migration: one sits in virDomainMigrateToURI3
 * (it returns only when the migration ended), the supervisor polls
 * virDomainGetJobStats, reports progress, applies the policy (downtime
 * ladder, suspend, post-copy, abort on stall or timeout) and passes a
 * Job.cancel on as virDomainAbortJob; an abort the stream does not answer
 * within VR_MIG_CUT_GRACE_MS ends by cutting the stream (vm_migrate_cut.h).
 * The VM's job (vm_jobs.h) is held from the call to the end, so nothing
 * else changes the VM meanwhile. */
#include "vm_migrate.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "hyp.h"
#include "jsonx.h"
#include "log.h"
#include "ticker.h"
#include "long_jobs.h"
#include "vm_jobs.h"
#include "vm_migrate_cut.h"
#include "vm_migrate_xml.h"

#define MIB (1024ULL * 1024ULL)

static const char *const policy_names[] = {"minimal_downtime", "suspend_workload", "post_copy"};

typedef struct migration {
    vr_agent *a;
    virDomainPtr dom;
    char uuid[VIR_UUID_STRING_BUFLEN], name[65], dest_host[254], dest_uri[300], stream_uri[300];
    char stream_addr[254]; /* dest.address; "" = none */
    char dest_root[256]; /* the destination's storage root; "" = this host's */
    char display[64];    /* where the consoles listen there; "" = as here */
    unsigned long long bandwidth_mibps;
    bool auto_converge, compression, was_paused;
    vr_mig_watch w;
    vr_long_job *job;
    /* The supervisor's: its start (vr_mono_ms), when it asked libvirt to
     * end the migration (ms since the start; -1 not yet), its next try at
     * cutting the stream, whether it cut it, and whether libvirt's last
     * answer was that it could not reach QEMU within its job wait (30 s). */
    long long t0, asked_end_ms, next_cut_ms;
    bool cut, stuck;
    /* Written by the migrate thread before it sets done. */
    int done; /* atomic */
    int rc;
    vr_error err;
} migration;

static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;
static int outgoing; /* migrations being sent */

static int outgoing_limit(const vr_agent *a)
{
    if (a->max_outgoing_migrations > 0)
        return a->max_outgoing_migrations;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return cpus >= 1 && cpus < 2 ? (int)cpus : 2; /* ch. 5.10: 2, or one per core if fewer */
}

enum vr_mig_step vr_mig_watch_step(vr_mig_watch *w, unsigned long long remaining, long long now_ms)
{
    if (remaining < w->lowest_remaining) {
        w->lowest_remaining = remaining;
        w->last_progress_ms = now_ms;
    }
    if (now_ms >= w->timeout_ms && !w->postcopy)
        return VR_MIG_ABORT_TIMEOUT;
    long long stalled = now_ms - w->last_progress_ms;
    if (stalled >= w->stall_timeout_ms && !w->postcopy)
        return VR_MIG_ABORT_STALLED;
    /* One step per step_ms of stalling. */
    long long step = w->step_ms > 0 ? w->step_ms : VR_MIG_STALL_STEP_MS;
    if (stalled < step || now_ms - w->last_step_ms < step)
        return VR_MIG_WAIT;
    w->last_step_ms = now_ms;
    if (w->policy == VR_MIG_POST_COPY) {
        if (w->postcopy)
            return VR_MIG_WAIT;
        w->postcopy = true;
        return VR_MIG_START_POSTCOPY;
    }
    if (w->downtime_ms < w->base_downtime_ms * VR_MIG_DOWNTIME_CEILING) {
        w->downtime_ms *= 2;
        if (w->downtime_ms > w->base_downtime_ms * VR_MIG_DOWNTIME_CEILING)
            w->downtime_ms = w->base_downtime_ms * VR_MIG_DOWNTIME_CEILING;
        return VR_MIG_RAISE_DOWNTIME;
    }
    if (w->policy == VR_MIG_SUSPEND_WORKLOAD && !w->suspended) {
        w->suspended = true;
        return VR_MIG_SUSPEND;
    }
    return VR_MIG_WAIT;
}

enum vr_mig_step vr_mig_watch_connecting(vr_mig_watch *w, long long now_ms)
{
    w->last_progress_ms = now_ms;
    if (now_ms >= w->timeout_ms)
        return VR_MIG_ABORT_TIMEOUT;
    /* The stream connects only at the start: now_ms is how long it has. */
    return now_ms >= vr_mig_connect_limit_ms(w) ? VR_MIG_ABORT_NOSTREAM : VR_MIG_WAIT;
}

long long vr_mig_connect_limit_ms(const vr_mig_watch *w)
{
    return w->stall_timeout_ms > VR_MIG_CONNECT_MIN_MS ? w->stall_timeout_ms : VR_MIG_CONNECT_MIN_MS;
}

enum vr_mig_step vr_mig_watch_unknown(const vr_mig_watch *w, long long now_ms)
{
    if (w->postcopy)
        return VR_MIG_WAIT;
    if (now_ms >= w->timeout_ms)
        return VR_MIG_ABORT_TIMEOUT;
    return now_ms - w->last_progress_ms >= w->stall_timeout_ms ? VR_MIG_ABORT_STALLED : VR_MIG_WAIT;
}

/* A host name or address that can stand in a URI as is: letters, digits,
 * '.', '-' (and ':' for IPv6 addresses when allowed); no leading '-' or '.'. */
static bool uri_host_ok(const char *s, bool colon)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253 || s[0] == '-' || s[0] == '.')
        return false;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && !(colon && *p == ':'))
            return false;
    return true;
}

static void migrate_event(migration *m, const char *detail)
{
    json_t *p = json_pack("{s:s, s:s, s:s, s:b, s:s, s:s}", "uuid", m->uuid, "name", m->name, "event",
                          "Migration", "owned", true, "detail", detail, "dest", m->dest_host);
    vr_long_jobs_notify("VM.event", p); /* not once the agent stops: the server may be gone */
}

static void *migrate_thread(void *arg)
{
    migration *m = arg;
    virTypedParameterPtr params = NULL;
    int n = 0, max = 0;
    unsigned int flags = VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER;
    if (!m->a->migration_tcp)
        flags |= VIR_MIGRATE_TLS; /* QEMU's own stream too, not only libvirtd's */
    if (m->auto_converge)
        flags |= VIR_MIGRATE_AUTO_CONVERGE;
    if (m->w.policy == VR_MIG_POST_COPY)
        flags |= VIR_MIGRATE_POSTCOPY;
    /* Lease and disk paths under another storage root there: the
     * destination gets its own XML (a lease libvirt hands over with the
     * VM must name the file as the destination sees it). */
    char *dxml = NULL;
    if ((*m->dest_root || *m->display) &&
        vr_migrate_dest_xml(m->dom, m->a->storage_root, m->dest_root, m->display, &dxml, &m->err) < 0) {
        m->rc = -1;
        __atomic_store_n(&m->done, 1, __ATOMIC_SEQ_CST);
        return NULL;
    }
    if ((dxml && virTypedParamsAddString(&params, &n, &max, VIR_MIGRATE_PARAM_DEST_XML, dxml) < 0) ||
        virTypedParamsAddULLong(&params, &n, &max, VIR_MIGRATE_PARAM_BANDWIDTH, m->bandwidth_mibps) < 0 ||
        (*m->stream_uri && virTypedParamsAddString(&params, &n, &max, VIR_MIGRATE_PARAM_URI, m->stream_uri) < 0) ||
        /* The stream goes to another address (a migration network's) than
         * the host's certificate names: QEMU is to check it against the
         * host's name, as libvirtd did, not against that address. */
        (*m->stream_uri && !m->a->migration_tcp &&
         virTypedParamsAddString(&params, &n, &max, VIR_MIGRATE_PARAM_TLS_DESTINATION, m->dest_host) < 0) ||
        (m->compression &&
         virTypedParamsAddString(&params, &n, &max, VIR_MIGRATE_PARAM_COMPRESSION, "xbzrle") < 0)) {
        m->rc = vr_libvirt_error(&m->err, "cannot prepare the migration of VM %s", m->name);
    } else if (virDomainMigrateToURI3(m->dom, m->dest_uri, params, (unsigned)n, flags) < 0) {
        m->rc = vr_libvirt_error(&m->err, "migration of VM %s to %s failed", m->name, m->dest_host);
    }
    virTypedParamsFree(params, n);
    free(dxml);
    __atomic_store_n(&m->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

struct sample {
    bool active, unreadable, stuck; /* stuck: libvirt timed out waiting for QEMU */
    unsigned long long total, processed, remaining;
};

static struct sample read_stats(virDomainPtr dom)
{
    struct sample s = {0};
    int type = 0, n = 0;
    virTypedParameterPtr p = NULL;
    if (virDomainGetJobStats(dom, &type, &p, &n, 0) < 0) {
        s.unreadable = true;
        s.stuck = virGetLastErrorCode() == VIR_ERR_OPERATION_TIMEOUT;
        virResetLastError();
        return s;
    }
    s.active = type == VIR_DOMAIN_JOB_UNBOUNDED || type == VIR_DOMAIN_JOB_BOUNDED;
    virTypedParamsGetULLong(p, n, VIR_DOMAIN_JOB_DATA_TOTAL, &s.total);
    virTypedParamsGetULLong(p, n, VIR_DOMAIN_JOB_DATA_PROCESSED, &s.processed);
    virTypedParamsGetULLong(p, n, VIR_DOMAIN_JOB_DATA_REMAINING, &s.remaining);
    virTypedParamsFree(p, n);
    return s;
}

static long long since_start(const migration *m)
{
    return vr_mono_ms() - m->t0;
}

/* An end libvirt took but the stream did not answer: the stream cut (and
 * again every grace while the migration goes on). Never after a post-copy
 * switch: the guest runs on the destination then, pulling its pages over
 * that stream. */
static void cut_if_unanswered(migration *m)
{
    long long now_ms = since_start(m);
    if (m->asked_end_ms < 0 || now_ms < m->next_cut_ms || m->w.postcopy)
        return;
    m->next_cut_ms = now_ms + VR_MIG_CUT_GRACE_MS;
    const char *to = *m->stream_addr ? m->stream_addr : m->dest_host;
    int rc = vr_migrate_cut_stream(m->name, m->dest_host, m->stream_addr);
    if (rc > 0)
        m->cut = true;
    char when[64];
    snprintf(when, sizeof(when), m->stuck ? "libvirt cannot reach its QEMU" : "not ended %.1f s after it was asked",
             (now_ms - m->asked_end_ms) / 1000.0);
    VR_WARN("VM %s: ending its migration: %s; %s %d connection(s) of its QEMU to %s%s%s", m->name, when,
            rc > 0 ? "cut" : "found", rc > 0 ? rc : 0, to, rc < 0 ? ": " : "", rc < 0 ? strerror(-rc) : "");
}

/* Ask libvirt to end the migration (a cancel or the policy's abort). Once
 * libvirt took it the stream has VR_MIG_CUT_GRACE_MS to end. When libvirt
 * could not reach QEMU within its job wait (its last answer, or this
 * abort's), QEMU's main loop is stuck (a TLS handshake reading a stream
 * that no longer answers): no cancel can reach it, so the stream is cut at
 * once. */
static void ask_end(migration *m, const char *what)
{
    if (m->stuck && m->asked_end_ms < 0) {
        m->asked_end_ms = m->next_cut_ms = since_start(m);
        cut_if_unanswered(m);
    }
    if (virDomainAbortJob(m->dom) < 0) {
        bool stuck = virGetLastErrorCode() == VIR_ERR_OPERATION_TIMEOUT;
        VR_WARN("VM %s: cannot %s its migration: %s", m->name, what, virGetLastErrorMessage());
        virResetLastError();
        if (stuck && m->asked_end_ms < 0) {
            m->asked_end_ms = m->next_cut_ms = since_start(m);
            cut_if_unanswered(m);
        }
    } else if (m->asked_end_ms < 0) {
        m->asked_end_ms = since_start(m);
        m->next_cut_ms = m->asked_end_ms + VR_MIG_CUT_GRACE_MS;
    }
}

/* Abort once, recording why (the migrate thread's error then only
 * confirms it); a user's cancel already under way is the reason instead. */
static void abort_once(migration *m, char *why, size_t len, const char *reason)
{
    if (*why || vr_long_job_cancel_requested(m->job))
        return;
    snprintf(why, len, "%s", reason);
    ask_end(m, "abort");
}

/* A Job.cancel passed on once. */
static void cancel_if_asked(migration *m, bool *sent)
{
    if (!*sent && vr_long_job_cancel_requested(m->job)) {
        *sent = true;
        ask_end(m, "cancel");
    }
}

static void apply_step(migration *m, enum vr_mig_step step, char *why, size_t len)
{
    char reason[96];
    switch (step) {
    case VR_MIG_WAIT:
        return;
    case VR_MIG_RAISE_DOWNTIME:
        VR_INFO("VM %s: migration stalls; downtime limit raised to %llu ms", m->name, m->w.downtime_ms);
        if (virDomainMigrateSetMaxDowntime(m->dom, m->w.downtime_ms, 0) < 0)
            virResetLastError();
        return;
    case VR_MIG_SUSPEND:
        VR_INFO("VM %s: migration still stalls; pausing the guest to finish (policy suspend_workload)", m->name);
        if (virDomainSuspend(m->dom) < 0)
            virResetLastError();
        return;
    case VR_MIG_START_POSTCOPY:
        VR_INFO("VM %s: migration stalls; switching to post-copy", m->name);
        if (virDomainMigrateStartPostCopy(m->dom, 0) < 0)
            virResetLastError();
        return;
    case VR_MIG_ABORT_STALLED:
        snprintf(reason, sizeof(reason), "aborted: no progress for %lld s", m->w.stall_timeout_ms / 1000);
        abort_once(m, why, len, reason);
        return;
    case VR_MIG_ABORT_NOSTREAM:
        snprintf(reason, sizeof(reason), "aborted: the migration stream did not start within %lld s",
                 vr_mig_connect_limit_ms(&m->w) / 1000);
        abort_once(m, why, len, reason);
        return;
    case VR_MIG_ABORT_TIMEOUT:
        snprintf(reason, sizeof(reason), "aborted: not done within its timeout of %lld s", m->w.timeout_ms / 1000);
        abort_once(m, why, len, reason);
        return;
    }
}

static void finish(migration *m, long long elapsed_ms, const char *why)
{
    char detail[sizeof(m->err.message) + 256];
    enum vr_job_end end;
    if (m->rc == 0) {
        end = VR_JOB_SUCCEEDED;
        snprintf(detail, sizeof(detail), "migrated to %s in %.1f s%s", m->dest_host, elapsed_ms / 1000.0,
                 m->w.suspended ? " (the guest paused to finish: policy suspend_workload)" : "");
        migrate_event(m, "Succeeded");
    } else {
        /* libvirt resumes a source it paused itself; one we paused (policy
         * suspend_workload) is ours to resume. */
        int state = 0;
        if (m->w.suspended && !m->was_paused && virDomainGetState(m->dom, &state, NULL, 0) == 0 &&
            state == VIR_DOMAIN_PAUSED && virDomainResume(m->dom) < 0)
            VR_WARN("VM %s: cannot resume it after the failed migration: %s", m->name, virGetLastErrorMessage());
        virResetLastError();
        bool cancelled = vr_long_job_cancel_requested(m->job) && !*why;
        end = cancelled ? VR_JOB_CANCELLED : VR_JOB_FAILED;
        char cut[128] = "";
        if (m->cut)
            snprintf(cut, sizeof(cut), "the migration stream did not answer the %s and was cut; ",
                     cancelled ? "cancel" : "abort");
        if (cancelled)
            snprintf(detail, sizeof(detail), "cancelled: %sVM %s keeps running on this host", cut, m->name);
        else if (*why)
            snprintf(detail, sizeof(detail), "%s (policy %s); %sVM %s keeps running on this host", why,
                     policy_names[m->w.policy], cut, m->name);
        else
            snprintf(detail, sizeof(detail), "%s; VM %s keeps running on this host", m->err.message, m->name);
        migrate_event(m, cancelled ? "Cancelled" : "Failed");
    }
    vr_long_job_finish(m->job, end, detail);
}

static void *supervisor(void *arg)
{
    migration *m = arg;
    long long t0 = m->t0 = vr_mono_ms();
    pthread_t t;
    char why[160] = "";
    if (pthread_create(&t, NULL, migrate_thread, m) != 0) {
        m->rc = vr_error_set(&m->err, VR_ERR_INTERNAL, "cannot start the migration thread of VM %s", m->name);
    } else {
        bool downtime_set = false, cancel_sent = false;
        for (int tick = 0; !__atomic_load_n(&m->done, __ATOMIC_SEQ_CST); tick++) {
            usleep(50 * 1000); /* notice the end within 50 ms */
            cancel_if_asked(m, &cancel_sent);
            if (tick % 10 != 9)
                continue;
            cut_if_unanswered(m);
            struct sample s = read_stats(m->dom);
            m->stuck = s.stuck;
            cancel_if_asked(m, &cancel_sent); /* asked while the statistics took long: before the policy */
            if (s.unreadable) { /* (a stuck QEMU: libvirt's job wait took 30 s) */
                apply_step(m, vr_mig_watch_unknown(&m->w, vr_mono_ms() - t0), why, sizeof(why));
                continue;
            }
            if (!s.active)
                continue;
            if (!downtime_set) /* needs the migration under way */
                downtime_set = virDomainMigrateSetMaxDowntime(m->dom, m->w.downtime_ms, 0) == 0;
            virResetLastError();
            long long now_ms = vr_mono_ms() - t0;
            apply_step(m, s.total ? vr_mig_watch_step(&m->w, s.remaining, now_ms) : vr_mig_watch_connecting(&m->w, now_ms),
                       why, sizeof(why));
            char now[512];
            int pct = s.total ? (int)(s.processed * 100 / s.total) : 0;
            snprintf(now, sizeof(now), "migrating to %s: %d%% of %llu MiB, %llu MiB remaining, downtime limit %llu ms%s",
                     m->dest_host, pct, s.total / MIB, s.remaining / MIB, m->w.downtime_ms,
                     m->w.postcopy ? ", post-copy" : m->w.suspended ? ", guest paused" : "");
            vr_long_job_progress(m->job, pct, now);
        }
        pthread_join(t, NULL);
    }
    finish(m, vr_mono_ms() - t0, why);
    pthread_mutex_lock(&count_lock);
    outgoing--;
    pthread_mutex_unlock(&count_lock);
    vr_vm_job_end(m->uuid);
    virDomainFree(m->dom);
    free(m);
    return NULL;
}

static int parse_dest(migration *m, json_t *params, vr_error *err)
{
    static const char *const keys[] = {"host", "address", "storage_root", "display_address"};
    json_t *dest;
    const char *host = NULL, *addr = NULL, *root = NULL, *display = NULL;
    unsigned char bin[16];
    if (vr_json_obj(params, "params", "dest", true, &dest, err) < 0 ||
        vr_json_check_keys(dest, "params.dest", VR_NAMES(keys), err) < 0 ||
        vr_json_str(dest, "params.dest", "host", true, &host, err) < 0 ||
        vr_json_str(dest, "params.dest", "address", false, &addr, err) < 0 ||
        vr_json_str(dest, "params.dest", "storage_root", false, &root, err) < 0 ||
        vr_json_str(dest, "params.dest", "display_address", false, &display, err) < 0)
        return -1;
    if (display && inet_pton(AF_INET, display, bin) != 1 && inet_pton(AF_INET6, display, bin) != 1)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "params.dest.display_address must be an IP address");
    snprintf(m->display, sizeof(m->display), "%s", display ?: "");
    if (root && (root[0] != '/' || strstr(root, "/..") || strlen(root) >= sizeof(m->dest_root)))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "params.dest.storage_root must be an absolute path without"
                            " '..' (under %zu bytes)", sizeof(m->dest_root));
    snprintf(m->dest_root, sizeof(m->dest_root), "%s", root ?: "");
    if (!uri_host_ok(host, false))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                            "params.dest.host must be a host name (letters, digits, '.', '-'; up to 253)");
    if (addr && !uri_host_ok(addr, true))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                            "params.dest.address must be an IP address or host name");
    char self[256] = "";
    gethostname(self, sizeof(self) - 1);
    if (!strcasecmp(host, self))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "params.dest.host '%s' is this host", host);
    snprintf(m->dest_host, sizeof(m->dest_host), "%s", host);
    snprintf(m->dest_uri, sizeof(m->dest_uri), "qemu+%s://%s/system", m->a->migration_tcp ? "tcp" : "tls", host);
    if (addr) {
        snprintf(m->stream_uri, sizeof(m->stream_uri), strchr(addr, ':') ? "tcp://[%s]" : "tcp://%s", addr);
        snprintf(m->stream_addr, sizeof(m->stream_addr), "%s", addr);
    }
    return 0;
}

static int parse_params(migration *m, json_t *params, vr_error *err)
{
    static const char *const keys[] = {"uuid", "dest", "bandwidth_mibps", "max_downtime_ms", "policy",
                                       "auto_converge", "compression", "timeout_s", "stall_timeout_s",
                                       "convergence_step_s"};
    const char *policy = "minimal_downtime", *uuid;
    long long bw = 52, downtime = 300, timeout = 0, stall = 240, step = VR_MIG_STALL_STEP_MS / 1000;
    if (vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0 ||
        vr_json_str(params, "params", "uuid", true, &uuid, err) < 0 || parse_dest(m, params, err) < 0 ||
        vr_json_int(params, "params", "bandwidth_mibps", false, 1, 100000, &bw, err) < 0 ||
        vr_json_int(params, "params", "max_downtime_ms", false, 1, 60000, &downtime, err) < 0 ||
        vr_json_str(params, "params", "policy", false, &policy, err) < 0 ||
        vr_json_int(params, "params", "timeout_s", false, 1, 86400, &timeout, err) < 0 ||
        vr_json_int(params, "params", "stall_timeout_s", false, 5, 3600, &stall, err) < 0 ||
        vr_json_int(params, "params", "convergence_step_s", false, 1, 600, &step, err) < 0)
        return -1;
    int p = -1;
    for (int i = 0; i < 3; i++)
        if (!strcmp(policy, policy_names[i]))
            p = i;
    if (p < 0)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                            "params.policy must be minimal_downtime, suspend_workload or post_copy");
    m->auto_converge = p == VR_MIG_SUSPEND_WORKLOAD;
    if (vr_json_bool(params, "params", "auto_converge", false, &m->auto_converge, err) < 0 ||
        vr_json_bool(params, "params", "compression", false, &m->compression, err) < 0)
        return -1;
    m->bandwidth_mibps = (unsigned long long)bw;
    m->w = (vr_mig_watch){.policy = (enum vr_mig_policy)p, .timeout_ms = timeout * 1000,
                          .stall_timeout_ms = stall * 1000, .step_ms = step * 1000, .base_downtime_ms = (unsigned long long)downtime,
                          .downtime_ms = (unsigned long long)downtime, .lowest_remaining = ULLONG_MAX};
    return 0;
}

/* The VM's memory in GiB, rounded up: the default timeout is 64 s each. */
static long long default_timeout_s(virDomainPtr dom)
{
    virDomainInfo info;
    if (virDomainGetInfo(dom, &info) < 0) {
        virResetLastError();
        return 64;
    }
    unsigned long long gib = (info.maxMem + (1024ULL * 1024ULL) - 1) / (1024ULL * 1024ULL); /* KiB */
    return 64LL * (long long)(gib ? gib : 1);
}

static int vm_migrate(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    migration *m = calloc(1, sizeof(*m));
    if (!m)
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory");
    m->a = a;
    m->asked_end_ms = -1;
    if (parse_params(m, params, err) < 0 || vr_vm_job_begin_lookup(a, params, "VM.migrate", &m->dom, err) < 0) {
        free(m);
        return -1;
    }
    virDomainGetUUIDString(m->dom, m->uuid);
    snprintf(m->name, sizeof(m->name), "%s", virDomainGetName(m->dom) ?: "?");
    int state = 0;
    if (virDomainGetState(m->dom, &state, NULL, 0) < 0 || (state != VIR_DOMAIN_RUNNING && state != VIR_DOMAIN_PAUSED)) {
        virResetLastError();
        vr_error_set(err, VR_ERR_BAD_STATE, "VM %s is %s; only a running or paused VM can migrate", m->name,
                     vr_dom_state_name(state));
        goto refuse;
    }
    m->was_paused = state == VIR_DOMAIN_PAUSED;
    if (!m->w.timeout_ms)
        m->w.timeout_ms = default_timeout_s(m->dom) * 1000;
    int limit = outgoing_limit(a);
    pthread_mutex_lock(&count_lock);
    bool full = outgoing >= limit;
    if (!full)
        outgoing++;
    pthread_mutex_unlock(&count_lock);
    if (full) {
        vr_error_set(err, VR_ERR_BAD_STATE,
                     "VM %s not migrated: this host already sends %d migration(s), its limit; try again later",
                     m->name, limit);
        goto refuse;
    }
    char what[512];
    snprintf(what, sizeof(what), "migrating to %s (%s, %llu MiB/s)", m->dest_host, policy_names[m->w.policy],
             m->bandwidth_mibps);
    m->job = vr_long_job_new(a, "VM.migrate", m->uuid, m->name, what);
    if (!m->job) {
        pthread_mutex_lock(&count_lock);
        outgoing--;
        pthread_mutex_unlock(&count_lock);
        vr_error_set(err, VR_ERR_INTERNAL, "out of memory starting the migration of VM %s", m->name);
        goto refuse;
    }
    /* Everything the reply needs, before the supervisor may free m. */
    *result = json_pack("{s:s, s:s}", "job", vr_long_job_id(m->job), "dest_uri", m->dest_uri);
    VR_INFO("VM %s: migrating to %s (%s, policy %s, %llu MiB/s, timeout %lld s)", m->name, m->dest_host, m->dest_uri,
            policy_names[m->w.policy], m->bandwidth_mibps, m->w.timeout_ms / 1000);
    migrate_event(m, "Started");
    pthread_t t;
    if (pthread_create(&t, NULL, supervisor, m) != 0) {
        m->rc = vr_error_set(&m->err, VR_ERR_INTERNAL, "cannot start the supervisor of VM %s's migration", m->name);
        finish(m, 0, "");
        pthread_mutex_lock(&count_lock);
        outgoing--;
        pthread_mutex_unlock(&count_lock);
        vr_vm_job_end_free(m->dom);
        free(m);
        return 0; /* the job says it failed */
    }
    pthread_detach(t);
    return 0;
refuse:
    vr_vm_job_end_free(m->dom);
    free(m);
    return -1;
}

const vr_verb vr_vm_migrate_verbs[] = {
    {"VM.migrate", vm_migrate},
    {NULL, NULL},
};
