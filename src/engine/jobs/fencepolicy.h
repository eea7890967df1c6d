/* A cluster's fencing policy (docs/fencing.md "Fencing policy"), RHV's
 * per-cluster rules that keep the engine from fencing a host that is
 * alive or whose loss is more likely the engine's network than the host:
 * fencing on or off; skip it while the host's sanlock host id is live in
 * a storage domain's lockspace (it still renews its lease: only its
 * management link is broken); skip it while more than a threshold
 * percentage of the cluster's hosts are unreachable at once. Stored whole,
 * every member filled, as clusters.fencing_json; rendered as the cluster's
 * `fencing_policy`; read by the host monitor before an automatic fence
 * (hostmon.c). An administrator's fence (POST /api/hosts/ID/fence) is not
 * subject to it. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "engine.h"
#include "error.h"

typedef struct {
    bool enabled;
    bool skip_if_sd_active;
    bool skip_if_connectivity_broken;
    int threshold; /* percent of the cluster's active hosts, 0..100 */
} vr_fence_policy;

/* The policy of a cluster that was given none. New reference. */
json_t *vr_fence_policy_default(void);

/* Check a fencing_policy given for a cluster and fill the members it
 * leaves out from current (the cluster's policy so far; NULL: the
 * defaults), in place. */
int vr_fence_policy_normalize(json_t *policy, json_t *current, vr_error *err);

/* The policy in a stored form (NULL or broken: the defaults). */
void vr_fence_policy_read(json_t *stored, vr_fence_policy *out);

/* What the other hosts' sanlock says of a lost host's storage lease. */
typedef enum {
    VR_LEASE_NOT_ASKED,
    VR_LEASE_NOT_LIVE, /* not live wherever asked */
    VR_LEASE_LIVE,     /* live in a lockspace another host shares */
    VR_LEASE_UNKNOWN,  /* nobody could tell (no storage, no host id, no answer) */
} vr_lease_seen;

typedef enum {
    VR_FENCE_GO,                /* fence it */
    VR_FENCE_SKIP_DISABLED,     /* fencing is off in the cluster */
    VR_FENCE_SKIP_CONNECTIVITY, /* too many of its cluster's hosts are unreachable */
    VR_FENCE_SKIP_SD_ACTIVE,    /* it still renews its storage lease: it is alive */
    VR_FENCE_ASK_LEASE,         /* the lease rule applies and its answer is not known yet */
} vr_fence_verdict;

/* Whether a non-responsive host may be fenced automatically. lost of the
 * total hosts of its cluster (not in maintenance, the host itself
 * included) are unreachable; lease: what the other hosts said of its
 * storage lease (VR_LEASE_NOT_ASKED: the verdict is VR_FENCE_ASK_LEASE
 * where the rule applies; a lease nobody could read does not stop a
 * fence). Pure: the rules in the order they are checked. */
vr_fence_verdict vr_fence_decide(const vr_fence_policy *p, long long lost, long long total, vr_lease_seen lease);

/* Ask the other up hosts of host_id's data center whether the host's
 * sanlock host id is live in the lockspace of an active storage domain
 * they share (Lockspace.status with "peer"). where says which host id,
 * domain and asking host (live), or why nobody could tell. */
vr_lease_seen vr_fence_lease_seen(vr_engine *e, const char *host_id, char *where, size_t len);
