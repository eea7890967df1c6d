/* VM placement: filters, then weights, over the hosts of a cluster. */
#pragma once

#include "engine.h"
#include "hostview.h"

/* Why one candidate host was removed or how it ranked in one placement
 * (docs/availability.md "Why a host was chosen"). One array of these per
 * placement, one entry per host of the cluster: nothing per host beyond. */
typedef struct vr_sched_verdict {
    const char *filter;   /* the filter that removed it (a static name, see vr_sched_filter); NULL: it passed */
    char why[192];        /* that filter's short reason, in the caller's language */
    /* The weights of a host that passed, compared in this order (lower
     * wins, then more free memory): */
    int affinity_penalty; /* soft affinity groups it would break */
    int ha_penalty;       /* 1: the cluster's HA VMs could no longer all restart after a host failure */
    int upgrade_penalty;  /* in_cluster_upgrade: 1 a migration to the same OS version, 0 to a newer one */
    double cpu_percent;   /* CPU load, counting the vCPUs still starting there */
    int cpu_bucket;       /* that load in 25% steps: close loads tie */
    long long free_mib;   /* memory not committed to its VMs */
    int rank;             /* 1: the chosen host, 2: the runner-up...; 0: filtered */
} vr_sched_verdict;

/* The filter that removes host h for a VM of memory_mib and vcpus in a
 * cluster of virt_mode, with its short reason in why (len 0: no reason,
 * nothing formatted); NULL when every filter lets it through. Names: status, source, notasked, pinned,
 * lock_manager, lease_lost, affinity, in_cluster_upgrade, network, memory, cpu, virt_mode. */
const char *vr_sched_filter(const vr_sched_host *h, long long memory_mib, long long vcpus, const char *virt_mode,
                            char *why, size_t len);

/* vr_sched_choose that also fills v[0..n) (NULL: does not): each host's
 * filter, weights and rank; the filters' reasons (why) are left empty:
 * vr_sched_verdict_reasons fills them when someone will read them. */
int vr_sched_choose_v(const vr_sched_host *hosts, size_t n, long long memory_mib, long long vcpus,
                      const char *virt_mode, vr_sched_verdict *v, char *reason, size_t len);

/* Fill the reason (why) of each filtered host of v[0..n), in the
 * thread's language (vr_sched_localize). */
void vr_sched_verdict_reasons(const vr_sched_host *hosts, vr_sched_verdict *v, size_t n, long long memory_mib,
                              long long vcpus, const char *virt_mode);

/* Render text, a catalog message this thread has just formatted, in the
 * thread's language (English: left as it is; a text it cannot recall too). */
void vr_sched_localize(char *text, size_t len);

/* Append "; piece" to why, keeping it one catalog message with both
 * halves nested (each recalled, so formatted by this thread lately or
 * remembered again with vr_i18n_remember). */
void vr_sched_join(char *why, size_t len, const char *piece);

/* Append to a failed placement's reason each host's name and the filter
 * that removed it: "; h0 (memory: needs 2048 MiB, 512 free), ...", as
 * nested catalog messages (translated whole); refills v's reasons. */
void vr_sched_explain_hosts(char *why, size_t len, const vr_sched_host *hosts, vr_sched_verdict *v, size_t n,
                            long long memory_mib, long long vcpus, const char *virt_mode);
/* HA reservation as a weight (haweight.c; RHV TR ch. 5): set each up
 * host's ha_penalty to 1 when placing vm there (moving it there, when it
 * runs) would leave the cluster unable to restart all its HA VMs after
 * the loss of any one host, 0 otherwise; all 0 when the cluster has no HA
 * VM and vm is not one, or its HA reservation is switched off (cluster:
 * the VM's cluster row, ha_reservation_enabled read). Call before the
 * filters mark the hosts. 0, or -1 with err set (database). */
int vr_sched_ha_weigh(vr_engine *e, json_t *vm, json_t *cluster, vr_sched_host *hosts, size_t n, vr_error *err);

/* One placement evaluated without booking anything: the VM's cluster's
 * hosts with every filter applied, their verdicts and the choice. */
typedef struct vr_sched_eval {
    vr_sched_host *hosts;       /* malloc'd */
    vr_sched_verdict *verdicts; /* malloc'd, one per host */
    size_t n;
    int chosen;                 /* index into hosts, or -1 */
    char reason[1024];          /* the decision, or why no host fits (with each host's filter) */
} vr_sched_eval;

/* Evaluate placing vm (a row of vms: id, cluster_id, memory_mib, vcpus,
 * spec) now; the host skip_host (NULL: none) is filtered as its "source",
 * and when only_host is given (a migration's asked destination) every
 * other host as "notasked". Filtered hosts get their reasons when explain
 * is set or no host fits (a decision that succeeds skips that cost). 0 (ev filled even when no host fits; free
 * with vr_sched_eval_free), or -1 with err set (database, cluster gone).
 * Callers that book the result hold e->sched_lock around it. */
int vr_sched_evaluate(vr_engine *e, json_t *vm, const char *skip_host, const char *only_host, bool explain,
                      vr_sched_eval *ev, vr_error *err);
void vr_sched_eval_free(vr_sched_eval *ev);

/* The dry run of GET /api/vms/ID/placement: evaluate vm (its own host
 * filtered when it runs) and render {"vm", "as", "host", "reason",
 * "hosts"}. host_ref (id or name; NULL: any host) asks about one
 * destination, judged as a migration (or a start) to it would be, and
 * "hosts" then holds its verdict alone. New reference, or NULL with err
 * set (VR_ERR_NOT_FOUND: no such host; VR_ERR_INVALID_PARAMS: another
 * cluster's). */
json_t *vr_sched_dry_run(vr_engine *e, json_t *vm, const char *host_ref, vr_error *err);

/* Pick a host for vm (a row of vms), never lease_lost_on (NULL: none), the
 * host where the VM just lost its lease (filter "lease_lost"). On success
 * *host is a new reference to the chosen host row and reason describes
 * the decision. */
int vr_sched_pick(vr_engine *e, json_t *vm, const char *lease_lost_on, json_t **host, char *reason, size_t len,
                  vr_error *err);

/* Pure placement over candidate hosts (exposed for tests and benchmarks).
 * Returns the index or -1; reason says why either way. */
int vr_sched_choose(const vr_sched_host *hosts, size_t n, long long memory_mib, long long vcpus,
                    const char *virt_mode, char *reason, size_t len);

/* Append to a failed placement's reason why (len bytes) what the VM's own
 * rules filtered: not_allowed hosts outside its placement policy, and the
 * affinity groups' reason aff ("" when none) whose capture is aff_cap
 * (JSON text, NULL: none). */
void vr_sched_explain(char *why, size_t len, size_t not_allowed, const char *aff, const char *aff_cap);

/* Append to a failed placement's reason how many candidates (not the
 * migration's "source") lack one of the VM's networks nets[0..nnets), and
 * which networks those are; nothing when none does. */
void vr_sched_explain_nets(char *why, size_t len, const vr_sched_host *hosts, size_t n, const char *const *nets,
                           size_t nnets);
