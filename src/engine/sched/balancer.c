/* The load balancer (see balancer.h). The decision is policy.c's (pure);
 * this file gathers the numbers, picks the VM and starts its migration
 * through the migrate job (vmmigrate.c) like any other. */
#include "balancer.h"
#include "hareserve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentcall.h"
#include "log.h"
#include "placement.h"
#include "policy.h"
#include "vmmigrate.h"

/* The VMs' CPU is measured over this long, on the source host only. */
#define SAMPLE_MS 1000

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

/* Since when each host is over / under its cluster's limits (host id ->
 * {"over": t, "under": t}); only the balancer thread touches it. */
static json_t *since;

static long long track(const char *host_id, const char *which, bool now_true, long long now)
{
    json_t *h = json_object_get(since, host_id);
    if (!h) {
        h = json_object();
        json_object_set_new(since, host_id, h);
    }
    if (!now_true) {
        json_object_del(h, which);
        return 0;
    }
    if (!json_object_get(h, which))
        json_object_set_new(h, which, json_integer(now));
    return json_integer_value(json_object_get(h, which));
}

/* CPU nanoseconds used by VM uuid on host so far; -1 when it cannot say. */
static long long cpu_ns(vr_engine *e, json_t *host, const char *uuid)
{
    json_t *r = NULL;
    vr_error err = {0};
    long long ns = vr_agent_call_host(e, host, "VM.getStats", json_pack("{s:s}", "uuid", uuid), &r, &err) == 0
                       ? json_integer_value(json_object_get(r, "cpu_time_ns")) : -1;
    json_decref(r);
    return ns;
}

/* The VM to move off host: the migratable up VM using the least CPU over
 * SAMPLE_MS (ties: by name). A new reference, NULL when none; *pct its CPU. */
static json_t *least_loaded_vm(vr_engine *e, json_t *host, double *pct)
{
    json_t *vms = NULL;
    if (vr_db_query(e->db, "SELECT id, name, status, host_id, cluster_id FROM vms WHERE host_id = ? AND status = 'up'"
                    " ORDER BY name, id", DB_ARGS(DB_TEXT(str(host, "id"))), &vms, NULL) < 0)
        return NULL;
    size_t n = json_array_size(vms), i;
    long long *before = calloc(n ? n : 1, sizeof(*before));
    json_t *vm, *best = NULL;
    if (!before) {
        json_decref(vms);
        return NULL;
    }
    json_array_foreach(vms, i, vm) {
        json_t *policy = vr_placement_of(e, str(vm, "id"));
        before[i] = vr_placement_affinity(policy) == VR_PLACE_MIGRATABLE ? cpu_ns(e, host, str(vm, "id")) : -1;
        json_decref(policy);
    }
    long long t0 = vr_now_ms();
    usleep(SAMPLE_MS * 1000);
    double dt = (double)(vr_now_ms() - t0) * 1e6;
    json_array_foreach(vms, i, vm) {
        if (before[i] < 0)
            continue;
        long long after = cpu_ns(e, host, str(vm, "id"));
        if (after < 0)
            continue;
        double p = dt > 0 ? 100.0 * (double)(after - before[i]) / dt : 0;
        if (!best || p < *pct) {
            best = vm;
            *pct = p;
        }
    }
    free(before);
    json_incref(best);
    json_decref(vms);
    return best;
}

/* Up VMs on host_id the engine may migrate (placement policy migratable). */
static int movable(vr_engine *e, const char *host_id)
{
    json_t *vms = NULL;
    if (vr_db_query(e->db, "SELECT id FROM vms WHERE host_id = ? AND status = 'up'", DB_ARGS(DB_TEXT(host_id)), &vms,
                    NULL) < 0)
        return 0;
    size_t i;
    json_t *vm;
    int n = 0;
    json_array_foreach(vms, i, vm) {
        json_t *policy = vr_placement_of(e, str(vm, "id"));
        n += vr_placement_affinity(policy) == VR_PLACE_MIGRATABLE;
        json_decref(policy);
    }
    json_decref(vms);
    return n;
}

static void balance_cluster(vr_engine *e, json_t *cl)
{
    vr_sched_policy p;
    vr_policy_parse(json_object_get(cl, "scheduling"), &p);
    if (p.name == VR_POLICY_NONE || p.name == VR_POLICY_UPGRADE) /* neither balances (ch. 5.6, 5.7) */
        return;
    const char *cid = str(cl, "id"), *cname = str(cl, "name");
    /* One migration at a time per cluster (ch. 5.10). */
    json_t *busy = vr_db_query_one(e->db, "SELECT count(*) AS n FROM jobs j JOIN vms v ON v.id = j.object_id"
                                   " WHERE j.action = 'migrate' AND j.status IN ('pending', 'running')"
                                   " AND v.cluster_id = ?", DB_ARGS(DB_TEXT(cid)), NULL);
    long long migrating = json_integer_value(json_object_get(busy, "n"));
    json_decref(busy);
    json_t *hosts = NULL;
    if (migrating || vr_db_query(e->db, "SELECT h.id AS id, h.name AS name, h.address AS address, h.port AS port,"
                                 " h.cpu_percent AS cpu_percent,"
                                 " (SELECT count(*) FROM vms v WHERE v.host_id = h.id AND v.status != 'down') AS vm_count,"
                                 " (SELECT count(*) FROM datacenters d WHERE d.spm_host_id = h.id) AS spm"
                                 " FROM hosts h WHERE h.cluster_id = ? AND h.status = 'up' ORDER BY h.name, h.id",
                                 DB_ARGS(DB_TEXT(cid)), &hosts, NULL) < 0)
        return;
    size_t n = json_array_size(hosts), i;
    vr_bal_host *bh = calloc(n ? n : 1, sizeof(*bh));
    json_t *h;
    long long now = vr_now();
    json_array_foreach(hosts, i, h) {
        if (!bh)
            break;
        snprintf(bh[i].id, sizeof(bh[i].id), "%s", str(h, "id"));
        snprintf(bh[i].name, sizeof(bh[i].name), "%s", str(h, "name"));
        bh[i].cpu_percent = json_number_value(json_object_get(h, "cpu_percent"));
        bh[i].vm_count = (int)json_integer_value(json_object_get(h, "vm_count"));
        bh[i].spm = json_integer_value(json_object_get(h, "spm")) > 0;
        bh[i].vms = movable(e, bh[i].id);
        bh[i].over_since = track(bh[i].id, "over", bh[i].cpu_percent > p.high_utilization, now);
        bh[i].under_since = track(bh[i].id, "under", bh[i].cpu_percent < p.low_utilization, now);
    }
    int src = -1, dst = -1;
    char why[1024];
    if (bh)
        vr_policy_decide(&p, bh, n, now, &src, &dst, why, sizeof(why));
    if (src < 0) {
        if (bh)
            VR_DEBUG("load balancing of cluster %s: %s", cname, why);
        goto out;
    }
    double pct = 0;
    json_t *src_host = json_array_get(hosts, (size_t)src);
    json_t *vm = least_loaded_vm(e, src_host, &pct);
    if (!vm) {
        VR_DEBUG("load balancing of cluster %s: %s; but no migratable VM is up there", cname, why);
        goto out;
    }
    char job[37];
    vr_error err = {0};
    if (vr_vm_migrate_submit(e, vm, dst >= 0 ? bh[dst].id : NULL, 0, true, 0, "", job, &err) < 0)
        vr_event(e, "warning", "", "cluster", cid, "load balancing of cluster '%s' (%s) cannot migrate VM '%s':"
                 " %s", cname, why, str(vm, "name"), err.message);
    else
        vr_event(e, "normal", "", "cluster", cid, "load balancing of cluster '%s': %s; migrating VM '%s' (the"
                 " lowest CPU there, %.1f%%) from host '%s' (job %s)", cname, why, str(vm, "name"), pct,
                 bh[src].name, job);
    json_decref(vm);
out:
    free(bh);
    json_decref(hosts);
}

static void *balancer_thread(void *arg)
{
    vr_engine *e = arg;
    since = json_object();
    while (!e->stopping) {
        long long next = vr_now_ms() + (long long)e->balance_period_s * 1000;
        while (!e->stopping && vr_now_ms() < next)
            usleep(100 * 1000);
        json_t *cls = NULL;
        if (e->stopping || vr_db_query(e->db, "SELECT id, name, scheduling_json FROM clusters ORDER BY name, id",
                                       DB_NOARGS, &cls, NULL) < 0)
            continue;
        size_t i;
        json_t *cl;
        json_array_foreach(cls, i, cl) {
            if (e->stopping)
                break;
            /* Whether its HA VMs survive any one host's loss: an event when that changes. */
            vr_ha_reserve_update(e, json_string_value(json_object_get(cl, "id")),
                                 json_string_value(json_object_get(cl, "name")));
            balance_cluster(e, cl);
        }
        json_decref(cls);
    }
    json_decref(since);
    vr_engine_thread_leave(e);
    return NULL;
}

int vr_balancer_start(vr_engine *e, vr_error *err)
{
    if (e->balance_period_s <= 0)
        return 0;
    return vr_engine_thread_start(e, balancer_thread, "load balancer", err);
}
