/* A cluster's scheduling policy (docs/availability.md "Scheduling
 * policies and load balancing"; RHV TR ch. 5.2-5.6): its name and its
 * parameters with ch. 5's defaults, and the load balancer's decision for
 * one round of one cluster (a pure function, unit-tested). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "engine.h"

typedef enum {
    VR_POLICY_NONE,
    VR_POLICY_EVENLY,      /* evenly_distributed: CPU load */
    VR_POLICY_VM_EVENLY,   /* vm_evenly_distributed: VM counts */
    VR_POLICY_POWER,       /* power_saving: CPU load, and empty the idle hosts */
    VR_POLICY_UPGRADE,     /* in_cluster_upgrade: migrations only to the same or a newer OS; no balancing */
    VR_POLICY_N
} vr_policy_name;

extern const char *const vr_policy_names[VR_POLICY_N];

typedef struct vr_sched_policy {
    vr_policy_name name;
    int high_utilization;      /* HighUtilization, % CPU (80) */
    int low_utilization;       /* LowUtilization, % CPU (20; power_saving) */
    int overcommit_minutes;    /* CpuOverCommitDurationMinutes (2) */
    int high_vm_count;         /* HighVmCount (10) */
    int migration_threshold;   /* MigrationThreshold (5) */
    int spm_vm_grace;          /* SpmVmGrace (5) */
} vr_sched_policy;

/* Check a scheduling_policy given for a cluster and rewrite it in place to
 * its stored form: {"name": N, "properties": {every parameter of N, with
 * its default where not given}}. 0, or -1 with VR_ERR_INVALID_PARAMS
 * naming the member at fault (a parameter the policy does not have, out
 * of its range). */
int vr_policy_normalize(json_t *policy, vr_error *err);

/* The policy of a stored form (NULL or broken: none). */
void vr_policy_parse(json_t *stored, vr_sched_policy *out);

/* The default stored form (none). New reference. */
json_t *vr_policy_default(void);

/* One host as the balancer sees it. */
typedef struct vr_bal_host {
    char id[37], name[65];
    double cpu_percent;
    int vms;               /* migratable VMs up on it (what may be moved) */
    int vm_count;          /* every VM on it (what counts) */
    bool spm;
    long long over_since;  /* since when its CPU is above HighUtilization (0: it is not) */
    long long under_since; /* since when below LowUtilization (0: it is not) */
} vr_bal_host;

/* The balancer's decision for one cluster: *src the host to move one VM
 * off (-1: nothing to do), *dst the host to move it to (-1: the scheduler
 * picks, as for a migration without a host). why explains either way.
 * now and the hosts' *_since are seconds. */
void vr_policy_decide(const vr_sched_policy *p, const vr_bal_host *hosts, size_t n, long long now, int *src,
                      int *dst, char *why, size_t len);
