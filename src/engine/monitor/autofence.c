/* The automatic fence of a host past the grace (hostmon.c), with the
 * cluster's fencing policy (fencepolicy.h). */
#include "autofence.h"

#include <stdio.h>
#include <string.h>

#include "db.h"
#include "fencejob.h"
#include "fencepolicy.h"
#include "softfence.h"

/* Not again within this long of the host's last fence: it may still be
 * booting. */
#define FENCE_QUIET_S 120

/* A host NonResponsive past the grace is fenced, once per outage
 * (docs/fencing.md "Automatic fencing"): soft first when its SSH access
 * allows (its agent restarted over SSH), then, with power management, a
 * restart through a proxy: then its VMs are surely not running and its HA
 * VMs restart elsewhere. Skipped, with an event naming the rule, where its
 * cluster's fencing policy says so. */
bool vr_host_auto_fence(vr_engine *e, const char *host_id, const char *name)
{
    json_t *row = vr_db_query_one(e->db, "SELECT pm_json, (SELECT count(*) FROM hosts o WHERE o.cluster_id ="
                                  " hosts.cluster_id AND o.status != 'maintenance') AS total, (SELECT count(*) FROM"
                                  " hosts o WHERE o.cluster_id = hosts.cluster_id AND o.status IN ('connecting', 'kdumping',"
                                  " 'nonresponsive')) AS lost, (SELECT fencing_json FROM clusters c WHERE c.id ="
                                  " hosts.cluster_id) AS fencing_json FROM hosts WHERE id = ?",
                                  DB_ARGS(DB_TEXT(host_id)), NULL);
    bool pm = json_is_true(json_object_get(json_object_get(row, "pm"), "enabled"));
    bool soft = vr_soft_fence_enabled(e, host_id);
    long long total = json_integer_value(json_object_get(row, "total")),
              lost = json_integer_value(json_object_get(row, "lost"));
    vr_fence_policy policy;
    vr_fence_policy_read(json_object_get(row, "fencing"), &policy);
    json_decref(row);
    /* Powered off on purpose (the last fence of the host was a stop): off
     * it stays. Fenced a moment ago: it is still coming back. */
    json_t *last = vr_db_query_one(e->db, "SELECT status, params_json, updated_at FROM jobs WHERE object_id = ?"
                                   " AND action = 'fence' ORDER BY created_at DESC LIMIT 1",
                                   DB_ARGS(DB_TEXT(host_id)), NULL);
    const char *ltype = json_string_value(json_object_get(json_object_get(last, "params"), "fence_type")) ?: "status";
    bool finished = !strcmp(json_string_value(json_object_get(last, "status")) ?: "", "finished");
    bool stopped = last && finished && !strcmp(ltype, "stop");
    bool recent = last && strcmp(ltype, "status") &&
                  json_integer_value(json_object_get(last, "updated_at")) > vr_now() - FENCE_QUIET_S;
    json_decref(last);
    if ((!pm && !soft) || stopped || recent)
        return false;
    /* The cluster's fencing policy; the lease is asked only when its rule
     * is on and nothing else stopped the fence (agent calls take time). */
    char where[512] = "";
    vr_fence_verdict v = vr_fence_decide(&policy, lost, total, VR_LEASE_NOT_ASKED);
    if (v == VR_FENCE_ASK_LEASE)
        v = vr_fence_decide(&policy, lost, total, vr_fence_lease_seen(e, host_id, where, sizeof(where)));
    if (v == VR_FENCE_SKIP_DISABLED) {
        vr_event(e, "warning", "", "host", host_id, "fencing of host '%s' skipped: fencing is disabled in the"
                 " fencing policy of its cluster (fencing_policy.enabled); its VMs stay unknown", name);
        return true;
    }
    if (v == VR_FENCE_SKIP_CONNECTIVITY) {
        vr_event(e, "warning", "", "host", host_id, "fencing of host '%s' skipped: %lld of the %lld hosts of"
                 " its cluster are unreachable at once, more than the %d%% of its fencing policy"
                 " (fencing_policy.skip_if_connectivity_broken): a network problem rather than dead hosts?", name,
                 lost, total, policy.threshold);
        return true;
    }
    if (v == VR_FENCE_SKIP_SD_ACTIVE && !soft) {
        vr_event(e, "warning", "", "host", host_id, "fencing of host '%s' skipped: it still renews its storage"
                 " lease (%s), so it is alive and only its link to the engine is broken"
                 " (fencing_policy.skip_if_sd_active); its VMs stay unknown", name, where);
        return true;
    }
    if (v == VR_FENCE_SKIP_SD_ACTIVE) {
        /* Alive: never powered off; restarting its agent harms nothing. */
        vr_event(e, "warning", "", "host", host_id, "host '%s' is non-responsive past the grace but still"
                 " renews its storage lease (%s): not powering it off (fencing_policy.skip_if_sd_active); soft"
                 " fencing it (restarting its agent over SSH)", name, where);
        pm = false;
    } else {
        vr_event(e, "warning", "", "host", host_id, "host '%s' is non-responsive past the grace: %s", name,
                 soft && pm ? "soft fencing it (restarting its agent over SSH), then fencing it (restart) if it"
                              " still does not answer"
                 : soft ? "soft fencing it (restarting its agent over SSH); it has no power management"
                        : "fencing it (restart); soft fencing is off (its ssh.soft_fencing)");
    }
    /* A job like an administrator's: persisted, listed, and it owns the
     * host and its VMs until it ends (poll_once). */
    char job[37];
    vr_error err = {0};
    if (vr_host_fence_auto_submit(e, host_id, soft, pm, job, &err) < 0)
        vr_event(e, "error", "", "host", host_id, "fencing of host '%s' failed: %s; its VMs stay unknown",
                 name, err.message);
    return true;
}
