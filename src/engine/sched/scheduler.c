#include "scheduler.h"

#include "affinity.h"
#include "i18n.h"
#include "incoming.h"
#include "osupgrade.h"
#include "placement.h"
#include "vnic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* CPU load is compared in coarse steps: samples taken a moment apart on
 * equally loaded hosts should tie and let free memory decide. */
#define CPU_BUCKET 25.0

/* Whether weights a rank before b (ties: the earlier host, by name). */
static bool beats(const vr_sched_verdict *a, size_t ia, const vr_sched_verdict *b, size_t ib)
{
    if (a->affinity_penalty != b->affinity_penalty)
        return a->affinity_penalty < b->affinity_penalty;
    if (a->ha_penalty != b->ha_penalty)
        return a->ha_penalty < b->ha_penalty;
    if (a->upgrade_penalty != b->upgrade_penalty)
        return a->upgrade_penalty < b->upgrade_penalty;
    if (a->cpu_bucket != b->cpu_bucket)
        return a->cpu_bucket < b->cpu_bucket;
    if (a->free_mib != b->free_mib)
        return a->free_mib > b->free_mib;
    return ia < ib;
}

int vr_sched_choose_v(const vr_sched_host *hosts, size_t n, long long memory_mib, long long vcpus,
                      const char *virt_mode, vr_sched_verdict *v, char *reason, size_t len)
{
    int best = -1, filtered = 0;
    bool weighed = false; /* a soft affinity group told hosts apart */
    bool ha_weighed = false; /* so did the HA reservation */
    bool up_weighed = false; /* so did in_cluster_upgrade's newer OS */
    vr_sched_verdict one, bestv = {0};
    for (size_t i = 0; i < n; i++) {
        const vr_sched_host *h = &hosts[i];
        vr_sched_verdict *w = v ? &v[i] : &one;
        memset(w, 0, sizeof(*w));
        /* Filters: the host must be up, have room and suit the cluster. */
        w->filter = vr_sched_filter(h, memory_mib, vcpus, virt_mode, w->why, 0); /* reasons: on demand */
        if (w->filter) {
            filtered++;
            continue;
        }
        /* VMs placed here that are still starting are not in the host's
         * last CPU sample yet; count them as busy, or a burst of starts
         * would all land on the host that looked idlest before it. */
        w->cpu_percent = h->cpu_percent + 100.0 * (double)h->pending_vcpus / (double)h->cpus;
        w->cpu_bucket = (int)(w->cpu_percent / CPU_BUCKET);
        /* Soft affinity groups weigh first: the host breaking fewest wins. */
        w->affinity_penalty = h->affinity_penalty;
        w->ha_penalty = h->ha_penalty;
        w->upgrade_penalty = h->upgrade_penalty;
        w->free_mib = h->mem_total_mib - h->committed_mib;
        weighed |= best >= 0 && w->affinity_penalty != bestv.affinity_penalty;
        ha_weighed |= best >= 0 && w->ha_penalty != bestv.ha_penalty;
        up_weighed |= best >= 0 && w->upgrade_penalty != bestv.upgrade_penalty;
        if (best < 0 || beats(w, i, &bestv, (size_t)best)) {
            best = (int)i;
            bestv = *w;
        }
    }
    /* Ranks, for the dry run and the tests: how many passing hosts beat each. */
    for (size_t i = 0; v && i < n; i++)
        for (size_t k = 0; !v[i].filter && k < n; k++)
            v[i].rank += k == i || (!v[k].filter && beats(&v[k], k, &v[i], i));
    char soft[80] = "", ha[176] = "", first[256] = "";
    if (weighed)
        vr_i18n_format(soft, sizeof(soft), "fewest soft affinity groups broken (%d), then ", bestv.affinity_penalty);
    if (ha_weighed && !bestv.ha_penalty)
        vr_i18n_format(ha, sizeof(ha), "%skeeps the HA reservation, then ", soft);
    else
        memcpy(ha, soft, sizeof(soft));
    if (up_weighed && !bestv.upgrade_penalty)
        vr_i18n_format(first, sizeof(first), "%sa newer OS version (in_cluster_upgrade), then ", ha);
    else
        memcpy(first, ha, sizeof(ha));
    if (best >= 0)
        vr_i18n_format(reason, len, "%zu candidate(s), %d filtered out; %slowest CPU load (%.0f-%.0f%%), "
                 "then most free memory (%lld MiB)", n, filtered, first,
                 bestv.cpu_bucket * CPU_BUCKET, (bestv.cpu_bucket + 1) * CPU_BUCKET, bestv.free_mib);
    else
        vr_i18n_format(reason, len, "no host can run it: %zu candidate(s), all filtered out (need an up "
                 "host with %lld MiB free and %lld vCPUs)", n, memory_mib, vcpus);
    return best;
}

int vr_sched_choose(const vr_sched_host *hosts, size_t n, long long memory_mib, long long vcpus,
                    const char *virt_mode, char *reason, size_t len)
{
    return vr_sched_choose_v(hosts, n, memory_mib, vcpus, virt_mode, NULL, reason, len);
}

void vr_sched_explain(char *why, size_t len, size_t not_allowed, const char *aff, const char *aff_cap)
{
    char piece[160];
    if (not_allowed) {
        vr_i18n_format(piece, sizeof(piece), "%zu host(s) are not in its placement policy's hosts", not_allowed);
        vr_sched_join(why, len, piece);
    }
    if (*aff) {
        if (aff_cap)
            vr_i18n_remember(aff, aff_cap);
        vr_sched_join(why, len, aff);
    }
}

void vr_sched_explain_nets(char *why, size_t len, const vr_sched_host *hosts, size_t n, const char *const *nets,
                           size_t nnets)
{
    size_t lacking = 0;
    for (size_t k = 0; k < n; k++)
        lacking += hosts[k].lacks_network && strcmp(hosts[k].status, "source");
    if (!lacking) /* else say which networks kept them out */
        return;
    char names[256] = "", piece[320];
    size_t o = 0;
    for (size_t k = 0; k < nnets && o < sizeof(names); k++)
        o += (size_t)snprintf(names + o, sizeof(names) - o, "%s%s", k ? " " : "", nets[k]);
    vr_i18n_format(piece, sizeof(piece), "%zu host(s) do not run all of its networks: %s", lacking, names);
    vr_sched_join(why, len, piece);
}

void vr_sched_eval_free(vr_sched_eval *ev)
{
    free(ev->hosts);
    free(ev->verdicts);
    memset(ev, 0, sizeof(*ev));
}

/* vr_sched_evaluate, the skipped host marked skip_as ("source", "leaselost"). */
static int evaluate(vr_engine *e, json_t *vm, const char *skip_host, const char *skip_as, const char *only_host,
                    bool explain, vr_sched_eval *ev, vr_error *err)
{
    memset(ev, 0, sizeof(*ev));
    ev->chosen = -1;
    const char *cluster = json_string_value(json_object_get(vm, "cluster_id"));
    /* The cluster's row once: its mode, HA reservation switch, scheduling
     * and migration policies are what the filters and weights read. */
    json_t *cl = vr_db_query_one(e->db, "SELECT virt_mode, ha_reservation_enabled, scheduling_json, migration_json"
                                 " FROM clusters WHERE id = ?", DB_ARGS(DB_TEXT(cluster)), err);
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
    if (vr_hostview_cluster_nets(e->view, cluster, nets, nnets, &ev->hosts, &ev->n) < 0 ||
        !(ev->verdicts = calloc(ev->n ? ev->n : 1, sizeof(*ev->verdicts)))) {
        json_decref(cl);
        json_decref(netnames);
        vr_sched_eval_free(ev);
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory");
    }
    vr_sched_host *hosts = ev->hosts;
    size_t n = ev->n;
    /* The HA reservation weighs the hosts as they are, before the
     * filters below mark them. */
    if (vr_sched_ha_weigh(e, vm, cl, hosts, n, err) < 0) {
        json_decref(cl);
        json_decref(netnames);
        vr_sched_eval_free(ev);
        return -1;
    }
    for (size_t k = 0; k < n; k++)
        if (skip_host && !strcmp(hosts[k].id, skip_host))
            snprintf(hosts[k].status, sizeof(hosts[k].status), "%s", skip_as);
        else if (only_host && *only_host && strcmp(hosts[k].id, only_host))
            snprintf(hosts[k].status, sizeof(hosts[k].status), "notasked");
    /* Its placement policy's hosts only, when it lists some; then its
     * affinity groups (enforcing ones filter, soft ones weigh). */
    const char *vm_id = json_string_value(json_object_get(vm, "id")) ?: "";
    json_t *policy = vr_placement_of(e, vm_id);
    size_t not_allowed = vr_placement_filter(policy, hosts, n);
    json_decref(policy);
    size_t no_lm = vr_placement_lease_filter(e, vm_id, hosts, n);
    char aff[512] = "";
    /* ...and, in an in_cluster_upgrade cluster, a migration (not a start,
     * nor an HA restart) only to the same or a newer OS, newer preferred */
    if (vr_affinity_filter_vm(e, vm_id, hosts, n, aff, sizeof(aff), err) < 0 ||
        vr_upgrade_filter(e, cl, !strcmp(skip_as, "source") ? skip_host : NULL, hosts, n, err) < 0 ||
        /* ...and a migration only to a host not receiving its most already */
        (skip_host && !strcmp(skip_as, "source") && vr_incoming_filter(e, cl, vm_id, hosts, n, err) < 0)) {
        json_decref(cl);
        json_decref(netnames);
        vr_sched_eval_free(ev);
        return -1;
    }
    /* Its capture, to nest it in the failure's reason much later. */
    json_t *aff_m = aff[0] ? vr_i18n_recall(aff) : NULL;
    char *aff_cap = aff_m ? json_dumps(aff_m, JSON_COMPACT) : NULL;
    json_decref(aff_m);
    char *reason = ev->reason;
    size_t len = sizeof(ev->reason);
    long long mem = json_integer_value(json_object_get(vm, "memory_mib"));
    long long vcpus = json_integer_value(json_object_get(vm, "vcpus"));
    const char *mode = json_string_value(json_object_get(cl, "virt_mode")) ?: "any";
    ev->chosen = vr_sched_choose_v(hosts, n, mem, vcpus, mode, ev->verdicts, reason, len);
    vr_placement_lease_explain(reason, len, no_lm);
    /* Each filtered host's reason (while missing_net still points into
     * nets): for the failure text, which names them, or when asked. */
    if (ev->chosen < 0) {
        vr_sched_explain(reason, len, not_allowed, aff, aff_cap);
        if (!only_host || !*only_host)
            vr_sched_explain_nets(reason, len, hosts, n, nets, nnets);
        vr_sched_explain_hosts(reason, len, hosts, ev->verdicts, n, mem, vcpus, mode);
    }
    if (explain) { /* a reader: the decision and each host's reason in its language */
        vr_sched_localize(reason, len);
        vr_sched_verdict_reasons(hosts, ev->verdicts, n, mem, vcpus, mode);
    }
    free(aff_cap);
    json_decref(cl);
    /* missing_net points into nets, which go now. */
    for (size_t k = 0; k < n; k++)
        hosts[k].missing_net = NULL;
    json_decref(netnames);
    return 0;
}

int vr_sched_evaluate(vr_engine *e, json_t *vm, const char *skip_host, const char *only_host, bool explain,
                      vr_sched_eval *ev, vr_error *err)
{
    return evaluate(e, vm, skip_host, "source", only_host, explain, ev, err);
}

int vr_sched_pick(vr_engine *e, json_t *vm, const char *lease_lost_on, json_t **host, char *reason, size_t len,
                  vr_error *err)
{
    vr_sched_eval ev;
    if (evaluate(e, vm, lease_lost_on, "leaselost", NULL, false, &ev, err) < 0)
        return -1;
    snprintf(reason, len, "%.*s", (int)(len ? len - 1 : 0), ev.reason); /* a long list of hosts is cut */
    if (ev.chosen < 0) {
        vr_error_set(err, VR_ERR_LIMIT, "%s", ev.reason);
        vr_sched_eval_free(&ev);
        return -1;
    }
    *host = vr_db_query_one(e->db, "SELECT id, name, address, port FROM hosts WHERE id = ?",
                            DB_ARGS(DB_TEXT(ev.hosts[ev.chosen].id)), err);
    vr_sched_eval_free(&ev);
    if (!*host && !err->code)
        vr_error_set(err, VR_ERR_BAD_STATE, "the chosen host was just removed; start again");
    return *host ? 0 : -1;
}
