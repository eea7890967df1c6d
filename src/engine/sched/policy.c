/* Scheduling policies and the balancer's decision (see policy.h). */
#include "policy.h"

#include "jsonx.h"

#include <stdio.h>
#include <string.h>

const char *const vr_policy_names[VR_POLICY_N] = {
    [VR_POLICY_NONE] = "none", [VR_POLICY_EVENLY] = "evenly_distributed",
    [VR_POLICY_VM_EVENLY] = "vm_evenly_distributed", [VR_POLICY_POWER] = "power_saving",
    [VR_POLICY_UPGRADE] = "in_cluster_upgrade"};

/* Each parameter: its name, default, range and the policies that have it. */
static const struct param {
    const char *name;
    int dflt, min, max;
    unsigned policies; /* bit per vr_policy_name */
    size_t off;
} params[] = {
    {"HighUtilization", 80, 1, 100, 1u << VR_POLICY_EVENLY | 1u << VR_POLICY_POWER,
     offsetof(vr_sched_policy, high_utilization)},
    {"LowUtilization", 20, 0, 99, 1u << VR_POLICY_POWER, offsetof(vr_sched_policy, low_utilization)},
    {"CpuOverCommitDurationMinutes", 2, 0, 1440, 1u << VR_POLICY_EVENLY | 1u << VR_POLICY_POWER,
     offsetof(vr_sched_policy, overcommit_minutes)},
    {"HighVmCount", 10, 0, 10000, 1u << VR_POLICY_VM_EVENLY, offsetof(vr_sched_policy, high_vm_count)},
    {"MigrationThreshold", 5, 1, 10000, 1u << VR_POLICY_VM_EVENLY, offsetof(vr_sched_policy, migration_threshold)},
    {"SpmVmGrace", 5, 0, 10000, 1u << VR_POLICY_VM_EVENLY, offsetof(vr_sched_policy, spm_vm_grace)},
};
#define NPARAMS (sizeof(params) / sizeof(params[0]))

static int *field(vr_sched_policy *p, size_t i)
{
    return (int *)((char *)p + params[i].off);
}

json_t *vr_policy_default(void)
{
    return json_pack("{s:s, s:{}}", "name", "none", "properties");
}

int vr_policy_normalize(json_t *policy, vr_error *err)
{
    if (!json_is_object(policy))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "scheduling_policy must be an object {\"name\": ...,"
                            " \"properties\": {...}}");
    static const char *const members[] = {"name", "properties"};
    if (vr_json_check_keys(policy, "scheduling_policy", VR_NAMES(members), err) < 0)
        return -1;
    const char *k;
    json_t *v;
    const char *name = json_string_value(json_object_get(policy, "name"));
    int p = -1;
    for (int i = 0; name && i < VR_POLICY_N; i++)
        if (!strcmp(name, vr_policy_names[i]))
            p = i;
    if (p < 0)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "scheduling_policy.name must be none, evenly_distributed,"
                            " vm_evenly_distributed, power_saving or in_cluster_upgrade");
    json_t *given = json_object_get(policy, "properties");
    if (given && !json_is_object(given))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "scheduling_policy.properties must be an object");
    json_object_foreach(given, k, v) {
        size_t i = 0;
        while (i < NPARAMS && (strcmp(params[i].name, k) || !(params[i].policies & 1u << p)))
            i++;
        if (i == NPARAMS)
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "scheduling_policy.properties: %s has no parameter"
                                " '%s'", vr_policy_names[p], k);
        if (!json_is_integer(v) || json_integer_value(v) < params[i].min || json_integer_value(v) > params[i].max)
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "scheduling_policy.properties.%s must be an integer in"
                                " %d..%d", k, params[i].min, params[i].max);
    }
    json_t *props = json_object();
    for (size_t i = 0; i < NPARAMS; i++)
        if (params[i].policies & 1u << p)
            json_object_set_new(props, params[i].name,
                                json_object_get(given, params[i].name)
                                    ? json_integer(json_integer_value(json_object_get(given, params[i].name)))
                                    : json_integer(params[i].dflt));
    if (p == VR_POLICY_POWER && json_integer_value(json_object_get(props, "LowUtilization")) >=
                                    json_integer_value(json_object_get(props, "HighUtilization"))) {
        json_decref(props);
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "scheduling_policy.properties: LowUtilization must be"
                            " below HighUtilization");
    }
    json_object_set_new(policy, "name", json_string(vr_policy_names[p]));
    json_object_set_new(policy, "properties", props);
    return 0;
}

void vr_policy_parse(json_t *stored, vr_sched_policy *out)
{
    memset(out, 0, sizeof(*out));
    const char *name = json_string_value(json_object_get(stored, "name")) ?: "none";
    for (int i = 0; i < VR_POLICY_N; i++)
        if (!strcmp(name, vr_policy_names[i]))
            out->name = (vr_policy_name)i;
    json_t *props = json_object_get(stored, "properties");
    for (size_t i = 0; i < NPARAMS; i++) {
        json_t *v = json_object_get(props, params[i].name);
        *field(out, i) = json_is_integer(v) ? (int)json_integer_value(v) : params[i].dflt;
    }
}

/* Over (or under) its limit for long enough. */
static bool lasting(long long since, long long now, int minutes)
{
    return since > 0 && now - since >= (long long)minutes * 60;
}

/* The least loaded host other than skip that may take a VM: below
 * HighUtilization, and (power saving) not itself to be emptied. */
static int least_loaded(const vr_sched_policy *p, const vr_bal_host *h, size_t n, int skip, bool not_idle)
{
    int best = -1;
    for (size_t i = 0; i < n; i++) {
        if ((int)i == skip || h[i].cpu_percent >= p->high_utilization ||
            (not_idle && h[i].cpu_percent < p->low_utilization))
            continue;
        if (best < 0 || h[i].cpu_percent < h[best].cpu_percent)
            best = (int)i;
    }
    return best;
}

static void decide_cpu(const vr_sched_policy *p, const vr_bal_host *h, size_t n, long long now, int *src, int *dst,
                       char *why, size_t len)
{
    const char *pn = vr_policy_names[p->name];
    /* Over-utilized for long enough: the busiest one gives a VM away. */
    for (size_t i = 0; i < n; i++)
        if (h[i].vms && lasting(h[i].over_since, now, p->overcommit_minutes) &&
            (*src < 0 || h[i].cpu_percent > h[*src].cpu_percent))
            *src = (int)i;
    if (*src >= 0) {
        *dst = least_loaded(p, h, n, *src, false);
        if (*dst < 0) {
            snprintf(why, len, "%s: host '%s' is over %d%% CPU (%.0f%%) but no other host is below it", pn,
                     h[*src].name, p->high_utilization, h[*src].cpu_percent);
            *src = -1;
            return;
        }
        snprintf(why, len, "%s: host '%s' has been over %d%% CPU (%.0f%%) for %d minute(s); host '%s' is the"
                 " least loaded (%.0f%%)", pn, h[*src].name, p->high_utilization, h[*src].cpu_percent,
                 p->overcommit_minutes, h[*dst].name, h[*dst].cpu_percent);
        return;
    }
    if (p->name == VR_POLICY_POWER) {
        /* Under-utilized for long enough: empty it onto a host that is
         * neither idle nor busy, so it can be switched off. */
        for (size_t i = 0; i < n; i++)
            if (h[i].vms && lasting(h[i].under_since, now, p->overcommit_minutes) &&
                (*src < 0 || h[i].cpu_percent < h[*src].cpu_percent))
                *src = (int)i;
        if (*src >= 0) {
            *dst = least_loaded(p, h, n, *src, true);
            if (*dst < 0) {
                snprintf(why, len, "%s: host '%s' is under %d%% CPU (%.0f%%) but no host between %d%% and %d%%"
                         " can take its VMs", pn, h[*src].name, p->low_utilization, h[*src].cpu_percent,
                         p->low_utilization, p->high_utilization);
                *src = -1;
                return;
            }
            snprintf(why, len, "%s: host '%s' has been under %d%% CPU (%.0f%%) for %d minute(s): emptying it onto"
                     " host '%s' (%.0f%%)", pn, h[*src].name, p->low_utilization, h[*src].cpu_percent,
                     p->overcommit_minutes, h[*dst].name, h[*dst].cpu_percent);
            return;
        }
    }
    snprintf(why, len, "%s: every host is within its limits", pn);
}

static void decide_count(const vr_sched_policy *p, const vr_bal_host *h, size_t n, int *src, int *dst, char *why,
                         size_t len)
{
    const char *pn = vr_policy_names[p->name];
    int hi = -1, lo = -1;
    /* The SPM counts SpmVmGrace more: it should run fewer VMs. */
    for (size_t i = 0; i < n; i++) {
        int c = h[i].vm_count + (h[i].spm ? p->spm_vm_grace : 0);
        if (h[i].vms && (hi < 0 || c > h[hi].vm_count + (h[hi].spm ? p->spm_vm_grace : 0)))
            hi = (int)i;
        if (lo < 0 || c < h[lo].vm_count + (h[lo].spm ? p->spm_vm_grace : 0))
            lo = (int)i;
    }
    int chi = hi < 0 ? 0 : h[hi].vm_count + (h[hi].spm ? p->spm_vm_grace : 0);
    int clo = lo < 0 ? 0 : h[lo].vm_count + (h[lo].spm ? p->spm_vm_grace : 0);
    if (hi < 0 || lo < 0 || hi == lo || chi <= p->high_vm_count || chi - clo <= p->migration_threshold) {
        snprintf(why, len, "%s: balanced (at most %d VM(s) per host, HighVmCount %d, MigrationThreshold %d)", pn,
                 chi, p->high_vm_count, p->migration_threshold);
        return;
    }
    /* The destination: the least CPU-loaded host whose count stays below
     * the source's after the move (no ping-pong). */
    for (size_t i = 0; i < n; i++) {
        int c = h[i].vm_count + (h[i].spm ? p->spm_vm_grace : 0);
        if ((int)i != hi && c + 1 < chi && (*dst < 0 || h[i].cpu_percent < h[*dst].cpu_percent))
            *dst = (int)i;
    }
    *src = hi;
    snprintf(why, len, "%s: host '%s' counts %d VM(s)%s, over HighVmCount %d and %d more than host '%s' (%d;"
             " MigrationThreshold %d); host '%s' is the least CPU-loaded that stays below (%.0f%%)", pn,
             h[hi].name, chi, h[hi].spm ? " with the SPM's grace" : "", p->high_vm_count, chi - clo, h[lo].name,
             clo, p->migration_threshold, h[*dst].name, h[*dst].cpu_percent);
}

void vr_policy_decide(const vr_sched_policy *p, const vr_bal_host *hosts, size_t n, long long now, int *src,
                      int *dst, char *why, size_t len)
{
    *src = *dst = -1;
    if (p->name == VR_POLICY_NONE) {
        snprintf(why, len, "none: no load balancing");
        return;
    }
    /* RHV TR ch. 5.7 names no balancing for it: VMs move when a user or a
     * maintenance asks, and the scheduler keeps them off older OSes. */
    if (p->name == VR_POLICY_UPGRADE) {
        snprintf(why, len, "in_cluster_upgrade: no load balancing (VMs move only when asked or evacuated)");
        return;
    }
    if (n < 2) {
        snprintf(why, len, "%s: fewer than two up hosts", vr_policy_names[p->name]);
        return;
    }
    if (p->name == VR_POLICY_VM_EVENLY)
        decide_count(p, hosts, n, src, dst, why, len);
    else
        decide_cpu(p, hosts, n, now, src, dst, why, len);
}
