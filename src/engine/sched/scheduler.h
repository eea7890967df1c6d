/* VM placement: filters, then weights, over the hosts of a cluster. */
#pragma once

#include "engine.h"
#include "hostview.h"

/* Pick a host for vm (a row of vms). On success *host is a new reference
 * to the chosen host row and reason describes the decision. */
int vr_sched_pick(vr_engine *e, json_t *vm, json_t **host, char *reason, size_t len, vr_error *err);

/* Pure placement over candidate hosts (exposed for tests and benchmarks).
 * Returns the index or -1; reason says why either way. */
int vr_sched_choose(const vr_sched_host *hosts, size_t n, long long memory_mib, long long vcpus,
                    const char *virt_mode, char *reason, size_t len);

/* Append to a failed placement's reason why (len bytes) what the VM's own
 * rules filtered: not_allowed hosts outside its placement policy, and the
 * affinity groups' reason aff ("" when none). */
void vr_sched_explain(char *why, size_t len, size_t not_allowed, const char *aff);

/* Append to a failed placement's reason how many candidates (not the
 * migration's "source") lack one of the VM's networks nets[0..nnets), and
 * which networks those are; nothing when none does. */
void vr_sched_explain_nets(char *why, size_t len, const vr_sched_host *hosts, size_t n, const char *const *nets,
                           size_t nnets);
