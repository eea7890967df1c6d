/* VM placement: filters, then weights, over the hosts of a cluster. */
#pragma once

#include "engine.h"

/* Pick a host for vm (a row of vms). On success *host is a new reference
 * to the chosen host row and reason describes the decision. */
int vr_sched_pick(vr_engine *e, json_t *vm, json_t **host, char *reason, size_t len, vr_error *err);

/* Pure placement over candidate rows, exposed for tests and benchmarks:
 * each host carries "status", "cpu_percent", "mem_total_mib", "virt_mode",
 * "max_vcpus", "cpus", "committed_mib" (memory of VMs already placed
 * there) and "pending_vcpus" (vCPUs of VMs still starting there).
 * Returns the index or -1. */
int vr_sched_choose(json_t *hosts, long long memory_mib, long long vcpus, const char *virt_mode,
                    char *reason, size_t len);
