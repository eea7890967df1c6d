#include "scheduler.h"

#include <stdio.h>
#include <string.h>

/* CPU load is compared in coarse steps: samples taken a moment apart on
 * equally loaded hosts should tie and let free memory decide. */
#define CPU_BUCKET 25.0

int vr_sched_choose(json_t *hosts, long long memory_mib, long long vcpus, const char *virt_mode,
                    char *reason, size_t len)
{
    int best = -1, filtered = 0;
    double best_cpu = 0;
    long long best_free = 0;
    size_t i;
    json_t *h;
    json_array_foreach(hosts, i, h) {
        const char *status = json_string_value(json_object_get(h, "status"));
        long long free_mib = json_integer_value(json_object_get(h, "mem_total_mib")) -
                             json_integer_value(json_object_get(h, "committed_mib"));
        long long cpus = json_integer_value(json_object_get(h, "cpus"));
        long long maxv = json_integer_value(json_object_get(h, "max_vcpus"));
        const char *mode = json_string_value(json_object_get(h, "virt_mode")) ?: "";
        /* Filters: the host must be up, have room and suit the cluster. */
        if (!status || strcmp(status, "up") || free_mib < memory_mib || vcpus > maxv || cpus < 1 ||
            (!strcmp(virt_mode, "kvm") && strcmp(mode, "kvm"))) {
            filtered++;
            continue;
        }
        /* VMs placed here that are still starting are not in the host's
         * last CPU sample yet; count them as busy, or a burst of starts
         * would all land on the host that looked idlest before it. */
        double cpu = json_number_value(json_object_get(h, "cpu_percent")) +
                     100.0 * (double)json_integer_value(json_object_get(h, "pending_vcpus")) / (double)cpus;
        double bucket = (double)(long)(cpu / CPU_BUCKET);
        if (best < 0 || bucket < best_cpu || (bucket == best_cpu && free_mib > best_free)) {
            best = (int)i;
            best_cpu = bucket;
            best_free = free_mib;
        }
    }
    if (best >= 0)
        snprintf(reason, len, "%zu candidate(s), %d filtered out; lowest CPU load (%.0f-%.0f%%), "
                 "then most free memory (%lld MiB)", json_array_size(hosts), filtered,
                 best_cpu * CPU_BUCKET, (best_cpu + 1) * CPU_BUCKET, best_free);
    else
        snprintf(reason, len, "no host can run it: %zu candidate(s), all filtered out (need an up "
                 "host with %lld MiB free and %lld vCPUs)", json_array_size(hosts), memory_mib, vcpus);
    return best;
}

int vr_sched_pick(vr_engine *e, json_t *vm, json_t **host, char *reason, size_t len, vr_error *err)
{
    json_t *hosts;
    const char *cluster = json_string_value(json_object_get(vm, "cluster_id"));
    if (vr_db_query(e->db,
                    /* Only what the decision needs: 400 hosts are read per placement. */
                    "SELECT h.id AS id, h.status AS status, h.cpu_percent AS cpu_percent,"
                    " h.mem_total_mib AS mem_total_mib, h.virt_mode AS virt_mode,"
                    " h.max_vcpus AS max_vcpus, h.cpus AS cpus,"
                    " h.committed_mib AS committed_mib, h.pending_vcpus AS pending_vcpus"
                    " FROM hosts h"
                    " WHERE h.cluster_id = ? ORDER BY h.name, h.id",
                    DB_ARGS(DB_TEXT(cluster)), &hosts, err) < 0)
        return -1;
    json_t *cl = vr_db_query_one(e->db, "SELECT virt_mode FROM clusters WHERE id = ?",
                                 DB_ARGS(DB_TEXT(cluster)), NULL);
    int i = vr_sched_choose(hosts, json_integer_value(json_object_get(vm, "memory_mib")),
                            json_integer_value(json_object_get(vm, "vcpus")),
                            cl ? json_string_value(json_object_get(cl, "virt_mode")) : "any",
                            reason, len);
    json_decref(cl);
    if (i < 0) {
        json_decref(hosts);
        return vr_error_set(err, VR_ERR_LIMIT, "%s", reason);
    }
    *host = vr_db_query_one(e->db, "SELECT id, name, address, port FROM hosts WHERE id = ?",
                            DB_ARGS(DB_TEXT(json_string_value(json_object_get(json_array_get(hosts, (size_t)i), "id")))),
                            err);
    json_decref(hosts);
    return *host ? 0 : -1;
}
