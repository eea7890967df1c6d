/* Cluster migration policies (migpolicy.h). */
#include "migpolicy.h"

#include <string.h>

#include "jsonx.h"

/* The agent's VM.migrate takes these names as they are (docs/migration.md). */
static const char *const policy_names[] = {"minimal_downtime", "suspend_workload", "post_copy"};
#define NPOLICIES (sizeof(policy_names) / sizeof(policy_names[0]))

/* The agent's own defaults: 52 MiB/s, a 300 ms starting downtime limit,
 * a step of the policy per 15 s of stalling, and the abort after 240 s
 * without progress (RHV ch. 5.10). */
#define DEFAULT_BANDWIDTH_MIBPS 52
#define DEFAULT_DOWNTIME_MS 300
#define DEFAULT_STEP_S 15
#define DEFAULT_STALL_S 240
/* Outgoing migrations per host at once (ch. 5.10: 2, fewer on a host with
 * fewer CPUs); the agents' --max-outgoing-migrations allows 1..64. */
#define DEFAULT_MAX_OUTGOING 2
#define MAX_OUTGOING_MAX 64
/* Incoming migrations per host at once (VDSM's max_incoming_migrations, 2):
 * the scheduler's incoming filter (sched/incoming.h). */
#define DEFAULT_MAX_INCOMING 2

json_t *vr_migpolicy_default(void)
{
    /* auto_converge null: on under suspend_workload, off otherwise (agent) */
    return json_pack("{s:s, s:i, s:i, s:n, s:b, s:i, s:i, s:i, s:i}", "policy", "minimal_downtime", "bandwidth_mibps",
                     DEFAULT_BANDWIDTH_MIBPS, "max_downtime_ms", DEFAULT_DOWNTIME_MS, "auto_converge",
                     "compression", 0, "convergence_step_s", DEFAULT_STEP_S, "stall_timeout_s", DEFAULT_STALL_S,
                     "max_outgoing", DEFAULT_MAX_OUTGOING, "max_incoming", DEFAULT_MAX_INCOMING);
}

static int int_member(json_t *p, const char *key, long long min, long long max, vr_error *err)
{
    json_t *v = json_object_get(p, key);
    if (v && (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "migration_policy.%s must be an integer in %lld..%lld", key,
                            min, max);
    return 0;
}

int vr_migpolicy_normalize(json_t *p, vr_error *err)
{
    if (!json_is_object(p))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "migration_policy must be an object {\"policy\": ...}");
    static const char *const members[] = {"policy", "bandwidth_mibps", "max_downtime_ms", "auto_converge",
                                          "compression", "convergence_step_s", "stall_timeout_s", "max_outgoing",
                                          "max_incoming"};
    if (vr_json_check_keys(p, "migration_policy", VR_NAMES(members), err) < 0)
        return -1;
    json_t *name = json_object_get(p, "policy");
    size_t i = 0;
    while (json_is_string(name) && i < NPOLICIES && strcmp(json_string_value(name), policy_names[i]))
        i++;
    if (name && (!json_is_string(name) || i == NPOLICIES))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "migration_policy.policy must be minimal_downtime,"
                            " suspend_workload or post_copy");
    if (int_member(p, "bandwidth_mibps", 1, 100000, err) < 0 || int_member(p, "max_downtime_ms", 1, 60000, err) < 0 ||
        int_member(p, "convergence_step_s", 1, 600, err) < 0 || int_member(p, "stall_timeout_s", 5, 3600, err) < 0 ||
        int_member(p, "max_outgoing", 1, MAX_OUTGOING_MAX, err) < 0 ||
        int_member(p, "max_incoming", 1, MAX_OUTGOING_MAX, err) < 0)
        return -1;
    json_t *ac = json_object_get(p, "auto_converge"), *comp = json_object_get(p, "compression");
    if ((ac && !json_is_boolean(ac) && !json_is_null(ac)) || (comp && !json_is_boolean(comp)))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "migration_policy.%s must be true or false",
                            comp && !json_is_boolean(comp) ? "compression" : "auto_converge");
    json_t *dflt = vr_migpolicy_default();
    json_object_update_missing(p, dflt);
    json_decref(dflt);
    return 0;
}

int vr_migpolicy_max_outgoing(json_t *stored)
{
    json_t *m = json_object_get(stored, "max_outgoing");
    long long v = json_integer_value(m);
    return json_is_integer(m) && v >= 1 && v <= MAX_OUTGOING_MAX ? (int)v : DEFAULT_MAX_OUTGOING;
}

int vr_migpolicy_max_incoming(json_t *stored)
{
    json_t *m = json_object_get(stored, "max_incoming");
    long long v = json_integer_value(m);
    return json_is_integer(m) && v >= 1 && v <= MAX_OUTGOING_MAX ? (int)v : DEFAULT_MAX_INCOMING;
}

void vr_migpolicy_apply(json_t *stored, json_t *call)
{
    json_t *p = json_is_object(stored) ? json_deep_copy(stored) : vr_migpolicy_default();
    vr_error err = {0};
    if (vr_migpolicy_normalize(p, &err) < 0) { /* a broken stored form: the defaults */
        json_decref(p);
        p = vr_migpolicy_default();
    }
    const char *key;
    json_t *v;
    json_object_del(p, "max_outgoing"); /* the engine's queue's, not the agent's (migqueue.h) */
    json_object_del(p, "max_incoming"); /* the scheduler's (sched/incoming.h) */
    json_object_foreach(p, key, v) {
        if (!json_object_get(call, key) && !json_is_null(v))
            json_object_set(call, key, v);
    }
    json_decref(p);
}
