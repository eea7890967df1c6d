/* Each candidate's verdict in a placement (see scheduler.h): the filter
 * that removed it and why, or its weights and rank. */
#include "scheduler.h"

#include "i18n.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

const char *vr_sched_filter(const vr_sched_host *h, long long memory_mib, long long vcpus, const char *virt_mode,
                            char *why, size_t len)
{
    /* First the statuses the pick's own filters write into a host's copy
     * (vmmigrate.c, placement.c, affinity.c): each is a filter of its own. */
    if (!strcmp(h->status, "source")) {
        vr_i18n_format(why, len, "the VM runs there");
        return "source";
    }
    if (!strcmp(h->status, "notasked")) {
        vr_i18n_format(why, len, "not the destination asked for");
        return "notasked";
    }
    if (!strcmp(h->status, "notallowed")) {
        vr_i18n_format(why, len, "not in the VM's placement policy hosts");
        return "pinned";
    }
    if (!strcmp(h->status, "nolockmanager")) {
        vr_i18n_format(why, len, "no sanlock lock manager for the VM's lease");
        return "lock_manager";
    }
    if (!strcmp(h->status, "affinity")) {
        vr_i18n_format(why, len, "an enforcing affinity group keeps the VM off it");
        return "affinity";
    }
    if (strcmp(h->status, "up")) {
        vr_i18n_format(why, len, "host is %s", h->status);
        return "status";
    }
    if (h->lacks_network) {
        vr_i18n_format(why, len, "lacks %s", h->missing_net ?: "?");
        return "network";
    }
    long long free_mib = h->mem_total_mib - h->committed_mib;
    if (free_mib < memory_mib) {
        vr_i18n_format(why, len, "needs %lld MiB, %lld free", memory_mib, free_mib);
        return "memory";
    }
    if (vcpus > h->max_vcpus || h->cpus < 1) {
        vr_i18n_format(why, len, "needs %lld vCPUs, at most %lld", vcpus, h->cpus < 1 ? 0 : h->max_vcpus);
        return "cpu";
    }
    if (!strcmp(virt_mode, "kvm") && strcmp(h->virt_mode, "kvm")) {
        vr_i18n_format(why, len, "the cluster needs kvm, the host has %s", h->virt_mode[0] ? h->virt_mode : "none");
        return "virt_mode";
    }
    if (len)
        why[0] = '\0';
    return NULL;
}

void vr_sched_explain_hosts(char *why, size_t len, const vr_sched_host *hosts, const vr_sched_verdict *v, size_t n)
{
    size_t o = strlen(why);
    bool first = true;
    for (size_t i = 0; i < n && o < len; i++)
        if (v[i].filter) {
            o += (size_t)snprintf(why + o, len - o, "%s%s (%s: %s)", first ? "; " : ", ", hosts[i].name,
                                  v[i].filter, v[i].why);
            first = false;
        }
}
