/* The InClusterUpgrade scheduling policy (RHV TR ch. 5.7; docs/availability.md
 * "InClusterUpgrade"): while a cluster's hosts move to a newer major
 * version of their OS, a VM migrates only to a host of the same OS with the
 * same or a newer major version than the host it runs on (so it never goes
 * back), a newer one preferred; it starts anywhere. */
#pragma once

#include <stddef.h>

#include "engine.h"
#include "hostview.h"

typedef enum {
    VR_UPGRADE_OK,      /* the same OS, the same or a newer major version */
    VR_UPGRADE_UNKNOWN, /* the destination's OS or its major version is not known */
    VR_UPGRADE_OTHER,   /* another OS (os-release ID) */
    VR_UPGRADE_OLDER,   /* an older major version */
} vr_upgrade_verdict;

/* The major version in an os-release VERSION_ID: its leading number ("12",
 * "9.2" -> 9, "24.04" -> 24); -1 when it has none. */
int vr_os_major(const char *version);

/* Whether a VM on a host of OS (src_id, src_version) may migrate to one of
 * (dst_id, dst_version); *newer (may be NULL) is set when the destination's
 * major version is higher. A source of unknown OS restricts nothing but an
 * unknown destination (there is nothing to compare with). Pure. */
vr_upgrade_verdict vr_upgrade_judge(const char *src_id, const char *src_version, const char *dst_id,
                                    const char *dst_version, bool *newer);

/* For a migration off source_id (a VM that runs) in a cluster whose
 * policy is in_cluster_upgrade: mark the up hosts the rule keeps out
 * (statuses "osunknown", "osother", "osolder", each with os and os_source
 * for the reason) and weigh the others (upgrade_penalty 1: the same major
 * version, 0: newer). The hosts' OS is what their agents last reported
 * (capabilities.os). Nothing for any other policy or a start. cluster is
 * the VM's cluster row (its scheduling_json read). 0, or -1 with err set
 * (database). */
int vr_upgrade_filter(vr_engine *e, json_t *cluster, const char *source_id, vr_sched_host *hosts, size_t n,
                      vr_error *err);

/* The policy's preconditions (RHV's in-cluster upgrade), checked when a
 * cluster switches to in_cluster_upgrade: every host of the cluster says
 * its OS with a major version (the filter has nothing to compare
 * otherwise), and no VM that runs there is kept from migrating (placement
 * policy pinned or user_migratable) or suspended (an upgrade moves every
 * VM off each host in turn). 0, or -1 with err VR_ERR_BAD_STATE naming
 * the first hosts and VMs in the way (or the database's error). */
int vr_upgrade_preconditions(vr_engine *e, const char *cluster_id, vr_error *err);
