#include "vm_health.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hyp.h"
#include "log.h"
#include "ticker.h"

#define LOOP_MS 1000
#define PROBE_INTERVAL_MS 2000

/* One watched VM. Entries are only unlinked when no probe thread points at
 * them, so a probe that returns after its VM is gone still finds its entry. */
typedef struct health_entry {
    struct health_entry *next;
    char uuid[VIR_UUID_STRING_BUFLEN];
    char *name;
    bool in_flight;      /* a probe thread is inside libvirt */
    bool unresponsive;   /* last verdict, as announced to clients */
    bool seen;           /* present in the current sweep */
    long long started_ms, finished_ms;
    long long error_since_ms; /* libvirt first said "monitor error"; 0 = it does not */
} health_entry;

typedef struct probe {
    virDomainPtr dom; /* owned reference */
    health_entry *e;
} probe;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static health_entry *entries;
static vr_agent *agent;
static long long timeout_ms;

static health_entry *find(const char *uuid)
{
    for (health_entry *e = entries; e; e = e->next)
        if (!strcmp(e->uuid, uuid))
            return e;
    return NULL;
}

bool vr_health_responsive(const char *uuid)
{
    pthread_mutex_lock(&lock);
    health_entry *e = find(uuid);
    bool ok = !e || !e->unresponsive;
    pthread_mutex_unlock(&lock);
    return ok;
}

/* Block statistics of all disks ("" path) always go through QEMU's
 * monitor (query-blockstats), with or without disks or a balloon: cheap
 * when QEMU answers, and blocked for exactly as long as it does not. */
static void *probe_thread(void *arg)
{
    probe *p = arg;
    virDomainBlockStatsStruct st;
    if (virDomainBlockStats(p->dom, "", &st, sizeof(st)) < 0)
        virResetLastError(); /* a VM going away also ends the probe */
    pthread_mutex_lock(&lock);
    p->e->in_flight = false;
    p->e->finished_ms = vr_mono_ms();
    pthread_mutex_unlock(&lock);
    virDomainFree(p->dom);
    free(p);
    return NULL;
}

static void start_probe(virDomainPtr dom, health_entry *e, long long now)
{
    probe *p = malloc(sizeof(*p));
    pthread_t t;
    pthread_attr_t attr;
    if (!p || virDomainRef(dom) < 0) {
        free(p);
        return;
    }
    *p = (probe){dom, e};
    e->in_flight = true;
    e->started_ms = now;
    /* Small stacks: a hung VM can pin one of these for a long time. */
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, probe_thread, p) != 0) {
        e->in_flight = false;
        virDomainFree(dom);
        free(p);
    }
    pthread_attr_destroy(&attr);
}

/* What libvirt says of one owned running domain, gathered before the
 * lock is taken (the calls are round trips to libvirtd). */
typedef struct dom_view {
    virDomainPtr dom; /* borrowed from the listing */
    char uuid[VIR_UUID_STRING_BUFLEN];
    bool have_ci;
    virDomainControlInfo ci;
} dom_view;

/* Decide whether one VM responds; returns the event to announce or NULL.
 * Called with the lock held. */
static const char *judge(const dom_view *d, health_entry *e, long long now, char *detail, size_t len)
{
    const virDomainControlInfo *ci = &d->ci;
    bool stuck = false;
    /* libvirt reports a monitor error for a moment while QEMU releases a
     * hot-unplugged device: only an error that lasts the monitor timeout
     * makes the VM not responding, as for an occupied monitor. */
    bool error_now = d->have_ci && ci->state == VIR_DOMAIN_CONTROL_ERROR;
    if (!error_now)
        e->error_since_ms = 0;
    else if (!e->error_since_ms)
        e->error_since_ms = now;
    if (e->in_flight && now - e->started_ms > timeout_ms) {
        stuck = true;
        snprintf(detail, len, "QEMU has not answered its monitor for %lld s",
                 (now - e->started_ms) / 1000);
    } else if (d->have_ci &&
               ((ci->state == VIR_DOMAIN_CONTROL_OCCUPIED && (long long)ci->stateTime > timeout_ms) ||
                (error_now && now - e->error_since_ms > timeout_ms))) {
        /* Another caller's monitor command is the one stuck. */
        stuck = true;
        snprintf(detail, len, ci->state == VIR_DOMAIN_CONTROL_ERROR
                                  ? "libvirt reports QEMU's monitor as unusable"
                                  : "a monitor command has been running for %llu s",
                 ci->stateTime / 1000);
    }
    if (stuck == e->unresponsive)
        return NULL;
    e->unresponsive = stuck;
    if (!stuck)
        snprintf(detail, len, "QEMU answers its monitor again");
    return stuck ? "NotResponding" : "Responding";
}

static void sweep(void)
{
    vr_owned_dom *doms;
    int n = vr_owned_doms_list(agent, &doms);
    if (n < 0)
        return;
    dom_view *views = calloc((size_t)n + 1, sizeof(*views));
    int nv = 0;
    for (int i = 0; i < n && views; i++) {
        dom_view *d = &views[nv];
        /* An incoming migration's paused copy has its monitor busy with the
         * migration: not a hung QEMU, so neither judged nor probed. */
        int state, reason;
        if (virDomainGetState(doms[i].dom, &state, &reason, 0) == 0 && state == VIR_DOMAIN_PAUSED &&
            reason == VIR_DOMAIN_PAUSED_MIGRATION)
            continue;
        virResetLastError();
        memcpy(d->uuid, doms[i].uuid, sizeof(d->uuid));
        d->dom = doms[i].dom;
        d->have_ci = virDomainGetControlInfo(d->dom, &d->ci, 0) == 0;
        virResetLastError();
        nv++;
    }
    json_t *notes = json_array();
    long long now = vr_mono_ms();
    pthread_mutex_lock(&lock);
    for (health_entry *e = entries; e; e = e->next)
        e->seen = false;
    for (int i = 0; i < nv; i++) {
        health_entry *e = find(views[i].uuid);
        if (!e && (e = calloc(1, sizeof(*e)))) {
            snprintf(e->uuid, sizeof(e->uuid), "%s", views[i].uuid);
            e->name = strdup(virDomainGetName(views[i].dom) ?: "");
            e->next = entries;
            entries = e;
        }
        if (!e)
            continue;
        e->seen = true;
        char detail[128];
        const char *ev = judge(&views[i], e, now, detail, sizeof(detail));
        if (ev)
            json_array_append_new(notes, json_pack("{s:s, s:s, s:s, s:b, s:s}", "uuid", e->uuid,
                                                   "name", e->name ?: "", "event", ev, "owned", true,
                                                   "detail", detail));
        if (!e->in_flight && now - e->finished_ms >= PROBE_INTERVAL_MS)
            start_probe(views[i].dom, e, now);
    }
    for (health_entry **pp = &entries; *pp;) {
        health_entry *e = *pp;
        if (!e->seen && !e->in_flight) {
            *pp = e->next;
            free(e->name);
            free(e);
        } else {
            pp = &e->next;
        }
    }
    pthread_mutex_unlock(&lock);
    free(views);
    vr_owned_doms_free(doms, n);
    size_t i;
    json_t *p;
    json_array_foreach(notes, i, p) {
        VR_WARN("VM %s: %s (%s)", json_string_value(json_object_get(p, "name")),
                json_string_value(json_object_get(p, "event")),
                json_string_value(json_object_get(p, "detail")));
        vr_server_notify(agent->server, "VM.event", json_incref(p));
    }
    json_decref(notes);
}

static vr_ticker *ticker;

static void sweep_round(void *arg)
{
    (void)arg;
    vr_hyp_check_alive(agent);
    sweep();
}

int vr_health_start(vr_agent *a, int timeout_s, vr_error *err)
{
    agent = a;
    timeout_ms = (long long)timeout_s * 1000;
    ticker = vr_ticker_start("VM health watcher", LOOP_MS, sweep_round, NULL, err);
    return ticker ? 0 : -1;
}

void vr_health_stop(void)
{
    vr_ticker_stop(ticker, 0);
    ticker = NULL;
}
