/* Quotas (docs/permissions.md "Quotas"): what a data center's users may
 * consume - vCPUs and memory of the VMs they define, provisioned storage
 * of the disks they make - globally and per cluster or storage domain.
 *
 * Usage is never stored: it is summed from the vms and disks rows that
 * name a quota, so it cannot drift from what exists. A check and the
 * write it admits run under one engine-wide lock (vr_quota_lock), so two
 * requests cannot both take the last unit. The data center's mode decides
 * what an overrun does: disabled (nothing is checked), audit (a warning
 * event, the request goes through), enforced (beyond the grace
 * percentage the request is refused, 409 naming the quota, the resource,
 * the use and the limit). */
#pragma once

#include <jansson.h>

#include "engine.h"

/* Serialize quota checks with the writes they admit (every path that adds
 * consumption takes it around check + write). */
void vr_quota_lock(void);
void vr_quota_unlock(void);

/* What a request adds to a quota. */
typedef struct vr_quota_ask {
    const char *what;        /* the consumer, for messages: "VM 'web1'" */
    const char *dc_id;       /* the data center it belongs to (NULL/"": none, nothing checked) */
    const char *cluster_id;  /* where the vCPUs and memory go (NULL: none asked) */
    long long vcpus, memory_mib;
    json_t *storage;         /* {storage_domain_id: bytes added}, or NULL */
} vr_quota_ask;

/* The quota a consumer uses, and whether it may take what it asks:
 *  - given (an id, or NULL/"" for the default) must be a quota of ask->dc_id
 *    (400 otherwise); without one, the data center's only quota is used
 *    when it has exactly one; out gets the id ("" for none);
 *  - in audit or enforced mode the user needs consume_quota on the quota
 *    (403), and enforced mode needs a quota (400 when none can be chosen);
 *  - each limit is checked with the asked amounts added (what is not
 *    raised is not checked): events for thresholds, grace and audit
 *    overruns; in enforced mode an overrun beyond grace is 409.
 * 0 admitted, -1 refused (err set). Call under vr_quota_lock. */
int vr_quota_take(vr_engine *e, const char *user, const char *given, const vr_quota_ask *ask, char out[37],
                  vr_error *err);

/* A quota row's use: {vcpus, memory_mib, storage_gib, clusters: [...],
 * storage_domains: [...]} (new reference). */
json_t *vr_quota_usage(vr_engine *e, const char *quota_id);

/* The data center of a cluster or a storage domain ("" when none). */
void vr_quota_dc_of_cluster(vr_engine *e, const char *cluster_id, char out[37]);
void vr_quota_dc_of_domain(vr_engine *e, const char *sd_id, char out[37]);
