/* Each candidate's verdict in a placement (see scheduler.h): the filter
 * that removed it and why, or its weights and rank. */
#include "scheduler.h"

#include "i18n.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The filters in the order a host meets them: the statuses the pick's
 * own filters write into a host's copy (vmmigrate.c, placement.c,
 * affinity.c) first, then the host's own numbers. */
enum { F_NONE, F_SOURCE, F_NOTASKED, F_PINNED, F_LOCK, F_LEASE_LOST, F_AFFINITY, F_UPGRADE, F_INCOMING, F_STATUS, F_NETWORK, F_MEMORY,
       F_CPU, F_VIRT };

static const char *const filter_names[] = {
    [F_NONE] = NULL, [F_SOURCE] = "source", [F_NOTASKED] = "notasked", [F_PINNED] = "pinned",
    [F_LOCK] = "lock_manager", [F_LEASE_LOST] = "lease_lost", [F_AFFINITY] = "affinity", [F_UPGRADE] = "in_cluster_upgrade", [F_INCOMING] = "incoming", [F_STATUS] = "status", [F_NETWORK] = "network",
    [F_MEMORY] = "memory", [F_CPU] = "cpu", [F_VIRT] = "virt_mode"};

static int filter_of(const vr_sched_host *h, long long memory_mib, long long vcpus, const char *virt_mode)
{
    static const struct {
        const char *status;
        int f;
    } marked[] = {{"source", F_SOURCE}, {"notasked", F_NOTASKED}, {"notallowed", F_PINNED},
                  {"nolockmanager", F_LOCK}, {"leaselost", F_LEASE_LOST}, {"affinity", F_AFFINITY},
                  {"osunknown", F_UPGRADE}, {"osother", F_UPGRADE}, {"osolder", F_UPGRADE}, {"incoming", F_INCOMING}};
    if (strcmp(h->status, "up")) { /* up, the common case, is one compare */
        for (size_t i = 0; i < sizeof(marked) / sizeof(marked[0]); i++)
            if (!strcmp(h->status, marked[i].status))
                return marked[i].f;
        return F_STATUS;
    }
    if (h->lacks_network)
        return F_NETWORK;
    if (h->mem_total_mib - h->committed_mib < memory_mib)
        return F_MEMORY;
    if (vcpus > h->max_vcpus || h->cpus < 1)
        return F_CPU;
    if (!strcmp(virt_mode, "kvm") && strcmp(h->virt_mode, "kvm"))
        return F_VIRT;
    return F_NONE;
}

/* The short reason of filter f for host h (catalog messages). */
static void say(int f, const vr_sched_host *h, long long memory_mib, long long vcpus, char *why, size_t len)
{
    switch (f) {
    case F_SOURCE: vr_i18n_format(why, len, "the VM runs there"); break;
    case F_NOTASKED: vr_i18n_format(why, len, "not the destination asked for"); break;
    case F_PINNED: vr_i18n_format(why, len, "not in the VM's placement policy hosts"); break;
    case F_LOCK: vr_i18n_format(why, len, "no sanlock lock manager for the VM's lease"); break;
    case F_LEASE_LOST: vr_i18n_format(why, len, "the VM lost its lease there (the host lost its storage)"); break;
    case F_AFFINITY:
        if (!h->affinity_group[0])
            vr_i18n_format(why, len, "an enforcing affinity group keeps the VM off it");
        else if (h->affinity_positive)
            vr_i18n_format(why, len, "group '%s' keeps it with VM '%s', on another host", h->affinity_group,
                           h->affinity_vm);
        else
            vr_i18n_format(why, len, "group '%s' keeps it from VM '%s'", h->affinity_group, h->affinity_vm);
        break;
    case F_UPGRADE: /* in_cluster_upgrade (osupgrade.c): the status says which rule */
        if (!strcmp(h->status, "osunknown"))
            vr_i18n_format(why, len, "its OS version is not known (%s)", h->os);
        else if (!strcmp(h->status, "osother"))
            vr_i18n_format(why, len, "runs %s, not %s like the VM's host", h->os, h->os_source);
        else
            vr_i18n_format(why, len, "runs %s, older than %s where the VM runs", h->os, h->os_source);
        break;
    case F_INCOMING:
        vr_i18n_format(why, len, "receives %d migrations already, its most at once", h->incoming);
        break;
    case F_STATUS: vr_i18n_format(why, len, "host is %s", h->status); break;
    case F_NETWORK: vr_i18n_format(why, len, "lacks %s", h->missing_net ?: "?"); break;
    case F_MEMORY:
        vr_i18n_format(why, len, "needs %lld MiB, %lld free", memory_mib, h->mem_total_mib - h->committed_mib);
        break;
    case F_CPU: vr_i18n_format(why, len, "needs %lld vCPUs, at most %lld", vcpus, h->cpus < 1 ? 0 : h->max_vcpus); break;
    case F_VIRT:
        vr_i18n_format(why, len, "the cluster needs kvm, the host has %s", h->virt_mode[0] ? h->virt_mode : "none");
        break;
    default: why[0] = '\0';
    }
}

const char *vr_sched_filter(const vr_sched_host *h, long long memory_mib, long long vcpus, const char *virt_mode,
                            char *why, size_t len)
{
    int f = filter_of(h, memory_mib, vcpus, virt_mode);
    /* Formatting a reason costs allocations (its catalog capture): only
     * when one is asked for. */
    if (len)
        say(f, h, memory_mib, vcpus, why, len);
    return filter_names[f];
}

void vr_sched_localize(char *text, size_t len)
{
    const char *lang = vr_i18n_thread();
    if (!strcmp(lang, VR_LANG_EN))
        return;
    json_t *m = vr_i18n_recall(text);
    char out[2048];
    if (m && vr_i18n_render(out, sizeof(out), json_string_value(json_object_get(m, "id")),
                            json_object_get(m, "args"), lang) >= 0)
        snprintf(text, len, "%s", out);
    json_decref(m);
}

void vr_sched_verdict_reasons(const vr_sched_host *hosts, vr_sched_verdict *v, size_t n, long long memory_mib,
                              long long vcpus, const char *virt_mode)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].filter) {
            vr_sched_filter(&hosts[i], memory_mib, vcpus, virt_mode, v[i].why, sizeof(v[i].why));
            vr_sched_localize(v[i].why, sizeof(v[i].why)); /* at once: the thread recalls only its last few */
        }
}

void vr_sched_join(char *why, size_t len, const char *piece)
{
    /* Both halves are recalled and remembered again right before the
     * join quotes them, however long ago they were formatted. */
    json_t *head = vr_i18n_recall(why), *tail = vr_i18n_recall(piece);
    char *h = strdup(why), *t = strdup(piece);
    char *hc = head ? json_dumps(head, JSON_COMPACT) : NULL, *tc = tail ? json_dumps(tail, JSON_COMPACT) : NULL;
    if (h && hc)
        vr_i18n_remember(h, hc);
    if (t && tc)
        vr_i18n_remember(t, tc);
    if (h && t)
        vr_i18n_format(why, len, "%s; %s", h, t);
    free(h);
    free(t);
    free(hc);
    free(tc);
    json_decref(head);
    json_decref(tail);
}

void vr_sched_explain_hosts(char *why, size_t len, const vr_sched_host *hosts, vr_sched_verdict *v, size_t n,
                            long long memory_mib, long long vcpus, const char *virt_mode)
{
    /* Composed from catalog messages, each nested in the next (i18n.h:
     * a message quoting the exact text of a recent one takes it
     * translated), so a Japanese reader gets it whole; the summary
     * before it is remembered again, as its capture is long gone from
     * the thread's few recent messages by now. */
    json_t *head = vr_i18n_recall(why);
    char list[512] = "", entry[192], next[512];
    for (size_t i = 0; i < n; i++) {
        if (!v[i].filter)
            continue;
        vr_sched_filter(&hosts[i], memory_mib, vcpus, virt_mode, v[i].why, sizeof(v[i].why));
        if (!strcmp(v[i].filter, "notasked")) /* a migration to one host: the others are noise */
            continue;
        vr_i18n_format(entry, sizeof(entry), "%s (%s: %s)", hosts[i].name, v[i].filter, v[i].why);
        if (!list[0]) {
            memcpy(list, entry, strlen(entry) + 1);
            continue;
        }
        vr_i18n_format(next, sizeof(next), "%s, %s", list, entry);
        memcpy(list, next, strlen(next) + 1);
    }
    if (list[0]) {
        char *captured = head ? json_dumps(head, JSON_COMPACT) : NULL;
        char *summary = strdup(why);
        if (captured && summary)
            vr_i18n_remember(summary, captured);
        vr_i18n_format(why, len, "%s; %s", summary ? summary : "", list);
        free(summary);
        free(captured);
    }
    json_decref(head);
}
