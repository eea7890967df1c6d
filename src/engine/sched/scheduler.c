#include "scheduler.h"

#include "affinity.h"
#include "i18n.h"
#include "placement.h"
#include "vnic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* CPU load is compared in coarse steps: samples taken a moment apart on
 * equally loaded hosts should tie and let free memory decide. */
#define CPU_BUCKET 25.0

int vr_sched_choose(const vr_sched_host *hosts, size_t n, long long memory_mib, long long vcpus,
                    const char *virt_mode, char *reason, size_t len)
{
    int best = -1, filtered = 0, best_pen = 0;
    bool weighed = false; /* a soft affinity group told hosts apart */
    double best_cpu = 0;
    long long best_free = 0;
    for (size_t i = 0; i < n; i++) {
        const vr_sched_host *h = &hosts[i];
        long long free_mib = h->mem_total_mib - h->committed_mib;
        long long cpus = h->cpus;
        /* Filters: the host must be up, have room and suit the cluster. */
        if (strcmp(h->status, "up") || h->lacks_network || free_mib < memory_mib || vcpus > h->max_vcpus || cpus < 1 ||
            (!strcmp(virt_mode, "kvm") && strcmp(h->virt_mode, "kvm"))) {
            filtered++;
            continue;
        }
        /* VMs placed here that are still starting are not in the host's
         * last CPU sample yet; count them as busy, or a burst of starts
         * would all land on the host that looked idlest before it. */
        double cpu = h->cpu_percent + 100.0 * (double)h->pending_vcpus / (double)cpus;
        double bucket = (double)(long)(cpu / CPU_BUCKET);
        /* Soft affinity groups weigh first: the host breaking fewest wins. */
        int pen = h->affinity_penalty;
        weighed |= best >= 0 && pen != best_pen;
        if (best < 0 || pen < best_pen ||
            (pen == best_pen && (bucket < best_cpu || (bucket == best_cpu && free_mib > best_free)))) {
            best = (int)i;
            best_pen = pen;
            best_cpu = bucket;
            best_free = free_mib;
        }
    }
    char soft[80] = "";
    if (weighed)
        vr_i18n_format(soft, sizeof(soft), "fewest soft affinity groups broken (%d), then ", best_pen);
    if (best >= 0)
        vr_i18n_format(reason, len, "%zu candidate(s), %d filtered out; %slowest CPU load (%.0f-%.0f%%), "
                 "then most free memory (%lld MiB)", n, filtered, soft,
                 best_cpu * CPU_BUCKET, (best_cpu + 1) * CPU_BUCKET, best_free);
    else
        vr_i18n_format(reason, len, "no host can run it: %zu candidate(s), all filtered out (need an up "
                 "host with %lld MiB free and %lld vCPUs)", n, memory_mib, vcpus);
    return best;
}

void vr_sched_explain(char *why, size_t len, size_t not_allowed, const char *aff)
{
    size_t o = strlen(why);
    if (not_allowed && o < len)
        o += (size_t)snprintf(why + o, len - o, "; %zu host(s) are not in its placement policy's hosts", not_allowed);
    if (*aff && o < len)
        snprintf(why + o, len - o, "; %s", aff);
}

void vr_sched_explain_nets(char *why, size_t len, const vr_sched_host *hosts, size_t n, const char *const *nets,
                           size_t nnets)
{
    size_t lacking = 0;
    for (size_t k = 0; k < n; k++)
        lacking += hosts[k].lacks_network && strcmp(hosts[k].status, "source");
    if (!lacking) /* else say which networks kept them out */
        return;
    size_t o = strlen(why);
    o += (size_t)snprintf(why + o, o < len ? len - o : 0, "; %zu host(s) do not run all of its networks:", lacking);
    for (size_t k = 0; k < nnets && o < len; k++)
        o += (size_t)snprintf(why + o, len - o, " %s", nets[k]);
}

int vr_sched_pick(vr_engine *e, json_t *vm, json_t **host, char *reason, size_t len, vr_error *err)
{
    const char *cluster = json_string_value(json_object_get(vm, "cluster_id"));
    json_t *cl = vr_db_query_one(e->db, "SELECT virt_mode FROM clusters WHERE id = ?",
                                 DB_ARGS(DB_TEXT(cluster)), err);
    if (!cl)
        return err->code ? -1 : vr_error_set(err, VR_ERR_BAD_STATE, "the VM's cluster is gone");
    /* The networks its NICs use, looked up once; each host's are in the view. */
    const char *nets[VR_VNIC_MAX_NETS];
    json_t *netnames = vr_vnic_vm_networks(e, vm, nets, err);
    if (!netnames) {
        json_decref(cl);
        return -1;
    }
    size_t nnets = json_array_size(netnames);
    /* The hosts' numbers come from memory: no 400-row read per placement. */
    vr_sched_host *hosts;
    size_t n;
    if (vr_hostview_cluster_nets(e->view, cluster, nets, nnets, &hosts, &n) < 0) {
        json_decref(cl);
        json_decref(netnames);
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory");
    }
    /* Its placement policy's hosts only, when it lists some; then its
     * affinity groups (enforcing ones filter, soft ones weigh). */
    const char *vm_id = json_string_value(json_object_get(vm, "id")) ?: "";
    json_t *policy = vr_placement_of(e, vm_id);
    size_t not_allowed = vr_placement_filter(policy, hosts, n);
    json_decref(policy);
    size_t no_lm = vr_placement_lease_filter(e, vm_id, hosts, n);
    char aff[512] = "";
    if (vr_affinity_filter_vm(e, vm_id, hosts, n, aff, sizeof(aff), err) < 0) {
        free(hosts);
        json_decref(cl);
        json_decref(netnames);
        return -1;
    }
    int i = vr_sched_choose(hosts, n, json_integer_value(json_object_get(vm, "memory_mib")),
                            json_integer_value(json_object_get(vm, "vcpus")),
                            json_string_value(json_object_get(cl, "virt_mode")) ?: "any", reason, len);
    json_decref(cl);
    vr_placement_lease_explain(reason, len, no_lm);
    if (i < 0)
        vr_sched_explain(reason, len, not_allowed, aff);
    if (i < 0) {
        vr_sched_explain_nets(reason, len, hosts, n, nets, nnets);
        free(hosts);
        json_decref(netnames);
        return vr_error_set(err, VR_ERR_LIMIT, "%s", reason);
    }
    json_decref(netnames);
    *host = vr_db_query_one(e->db, "SELECT id, name, address, port FROM hosts WHERE id = ?",
                            DB_ARGS(DB_TEXT(hosts[i].id)), err);
    free(hosts);
    if (!*host && !err->code)
        vr_error_set(err, VR_ERR_BAD_STATE, "the chosen host was just removed; start again");
    return *host ? 0 : -1;
}
