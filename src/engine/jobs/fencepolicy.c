/* Cluster fencing policies (fencepolicy.h). */
#include "fencepolicy.h"

#include <string.h>

#include "agentcall.h"
#include "db.h"
#include "jsonx.h"
#include "log.h"

/* RHV's defaults (its REST API's FencingPolicy: enabled, both skips off,
 * threshold 50) except skip_if_connectivity_broken, on in Vireo: before
 * the policy existed the engine always skipped fencing when more than half
 * of a cluster was unreachable, and a cluster keeps that unless told. */
json_t *vr_fence_policy_default(void)
{
    return json_pack("{s:b, s:b, s:b, s:i}", "enabled", 1, "skip_if_sd_active", 0, "skip_if_connectivity_broken", 1,
                     "threshold", 50);
}

int vr_fence_policy_normalize(json_t *p, json_t *current, vr_error *err)
{
    if (!json_is_object(p))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "fencing_policy must be an object {\"enabled\": ...}");
    static const char *const members[] = {"enabled", "skip_if_sd_active", "skip_if_connectivity_broken",
                                          "threshold"};
    if (vr_json_check_keys(p, "fencing_policy", VR_NAMES(members), err) < 0)
        return -1;
    for (size_t i = 0; i < 3; i++) {
        json_t *v = json_object_get(p, members[i]);
        if (v && !json_is_boolean(v))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "fencing_policy.%s must be true or false", members[i]);
    }
    /* Any whole percentage: RHV's dialog offers 25, 50, 75 and 100, its
     * API takes any; a cluster of 3 hosts may want 33. */
    json_t *t = json_object_get(p, "threshold");
    if (t && (!json_is_integer(t) || json_integer_value(t) < 0 || json_integer_value(t) > 100))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "fencing_policy.threshold must be a whole percentage of the"
                            " cluster's hosts, 0..100 (fencing is skipped while more than that many are"
                            " unreachable)");
    json_t *base = json_is_object(current) ? json_deep_copy(current) : vr_fence_policy_default();
    json_t *dflt = vr_fence_policy_default();
    json_object_update_missing(base, dflt); /* a stored form from before a member existed */
    json_object_update_missing(p, base);
    json_decref(dflt);
    json_decref(base);
    /* only the members above: a stored form may carry no others */
    const char *key;
    void *tmp;
    json_object_foreach_safe(p, tmp, key, t) {
        size_t i = 0;
        while (i < 4 && strcmp(key, members[i]))
            i++;
        if (i == 4)
            json_object_del(p, key);
    }
    return 0;
}

void vr_fence_policy_read(json_t *stored, vr_fence_policy *out)
{
    json_t *p = json_is_object(stored) ? json_deep_copy(stored) : vr_fence_policy_default();
    vr_error err = {0};
    if (vr_fence_policy_normalize(p, NULL, &err) < 0) { /* a broken stored form: the defaults */
        json_decref(p);
        p = vr_fence_policy_default();
    }
    out->enabled = json_is_true(json_object_get(p, "enabled"));
    out->skip_if_sd_active = json_is_true(json_object_get(p, "skip_if_sd_active"));
    out->skip_if_connectivity_broken = json_is_true(json_object_get(p, "skip_if_connectivity_broken"));
    out->threshold = (int)json_integer_value(json_object_get(p, "threshold"));
    json_decref(p);
}

vr_fence_verdict vr_fence_decide(const vr_fence_policy *p, long long lost, long long total, vr_lease_seen lease)
{
    if (!p->enabled)
        return VR_FENCE_SKIP_DISABLED;
    /* "More than threshold percent": 50 is the old "more than half" (1 of
     * 2 is fenced, 2 of 2 are not, nor the only host of a cluster); 100
     * never skips. */
    if (p->skip_if_connectivity_broken && total > 0 && lost * 100 > (long long)p->threshold * total)
        return VR_FENCE_SKIP_CONNECTIVITY;
    if (p->skip_if_sd_active && lease == VR_LEASE_NOT_ASKED)
        return VR_FENCE_ASK_LEASE;
    if (p->skip_if_sd_active && lease == VR_LEASE_LIVE)
        return VR_FENCE_SKIP_SD_ACTIVE;
    return VR_FENCE_GO;
}

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

/* At most this many other hosts are asked per domain: one answer that
 * reads the id live is enough, and each call may wait for a slow agent. */
#define ASK_HOSTS 2

vr_lease_seen vr_fence_lease_seen(vr_engine *e, const char *host_id, char *where, size_t len)
{
    vr_error err = {0};
    json_t *doms = NULL, *askers = NULL;
    json_t *me = vr_db_query_one(e->db, "SELECT h.name, c.datacenter_id AS dc, i.spm_id FROM hosts h JOIN clusters c"
                                 " ON c.id = h.cluster_id LEFT JOIN host_storage_ids i ON i.host_id = h.id AND"
                                 " i.datacenter_id = c.datacenter_id WHERE h.id = ?",
                                 DB_ARGS(DB_TEXT(host_id)), &err);
    json_t *sid = json_object_get(me, "spm_id");
    if (!me || !json_is_integer(sid)) {
        snprintf(where, len, "it has no sanlock host id in its data center");
        json_decref(me);
        return VR_LEASE_UNKNOWN;
    }
    long long id = json_integer_value(sid);
    if (vr_db_query(e->db, "SELECT id, name FROM storage_domains WHERE datacenter_id = ? AND status = 'active'"
                    " ORDER BY master DESC, name", DB_ARGS(DB_TEXT(str(me, "dc"))), &doms, &err) < 0 ||
        vr_db_query(e->db, "SELECT h.id, h.name, h.address, h.port FROM hosts h JOIN clusters c ON c.id ="
                    " h.cluster_id WHERE c.datacenter_id = ? AND h.status = 'up' AND h.id != ? ORDER BY h.name",
                    DB_ARGS(DB_TEXT(str(me, "dc")), DB_TEXT(host_id)), &askers, &err) < 0) {
        snprintf(where, len, "the database did not answer: %s", err.message);
        json_decref(me);
        json_decref(doms);
        return VR_LEASE_UNKNOWN;
    }
    vr_lease_seen seen = VR_LEASE_UNKNOWN;
    snprintf(where, len, "%s", json_array_size(doms) ? "no other up host of its data center answered"
                                                     : "its data center has no active storage domain");
    size_t i, j;
    json_t *d, *h;
    json_array_foreach(doms, i, d) {
        json_array_foreach(askers, j, h) {
            if (j >= ASK_HOSTS)
                break;
            json_t *res = NULL;
            vr_error aerr = {0};
            if (vr_agent_call_host(e, h, "Lockspace.status", json_pack("{s:s, s:I}", "domain", str(d, "id"), "peer",
                                   (json_int_t)id), &res, &aerr) < 0) {
                VR_WARN("sanlock host id %lld not read through host %s: %s", id, str(h, "name"), aerr.message);
                continue;
            }
            char st[32]; /* copied: the answer is freed before st is used */
            snprintf(st, sizeof(st), "%s", str(json_object_get(res, "peer"), "state"));
            bool joined = !strcmp(str(res, "state"), "joined");
            json_decref(res);
            if (!joined) /* that host is not in the lockspace: it cannot tell */
                continue;
            if (!strcmp(st, "live")) {
                snprintf(where, len, "host id %lld in the lockspace of storage domain '%s', as host '%s' sees it", id,
                         str(d, "name"), str(h, "name"));
                seen = VR_LEASE_LIVE;
                goto out;
            }
            seen = VR_LEASE_NOT_LIVE;
            snprintf(where, len, "host id %lld is %s in the lockspace of storage domain '%s' (host '%s')", id,
                     *st ? st : "unknown", str(d, "name"), str(h, "name"));
        }
    }
out:
    json_decref(me);
    json_decref(doms);
    json_decref(askers);
    return seen;
}
