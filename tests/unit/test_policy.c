/* Scheduling policies (src/engine/sched/policy.c): parameters checked and
 * filled with ch. 5's defaults, and the load balancer's decision for each
 * policy. Pure functions: no database. */
#include <stdlib.h>

#include "check.h"
#include "osupgrade.h"
#include "policy.h"

static int norm(const char *text, json_t **out, vr_error *err)
{
    json_decref(*out);
    *out = json_loads(text, JSON_DECODE_ANY, NULL);
    vr_error_clear(err);
    return vr_policy_normalize(*out, err);
}

#define HOST(NAME, CPU, VMS) {.id = NAME, .name = NAME, .cpu_percent = CPU, .vms = VMS, .vm_count = VMS}

int main(void)
{
    json_t *p = NULL;
    vr_error err;
    vr_sched_policy pol;
    /* Defaults per policy (ch. 5), and only the policy's own parameters. */
    CHECK(norm("{\"name\":\"vm_evenly_distributed\"}", &p, &err) == 0);
    vr_policy_parse(p, &pol);
    CHECK(pol.name == VR_POLICY_VM_EVENLY && pol.high_vm_count == 10 && pol.migration_threshold == 5 &&
          pol.spm_vm_grace == 5);
    CHECK(json_object_size(json_object_get(p, "properties")) == 3);
    CHECK(norm("{\"name\":\"power_saving\",\"properties\":{\"LowUtilization\":10}}", &p, &err) == 0);
    vr_policy_parse(p, &pol);
    CHECK(pol.name == VR_POLICY_POWER && pol.high_utilization == 80 && pol.low_utilization == 10 &&
          pol.overcommit_minutes == 2);
    CHECK(norm("{\"name\":\"none\"}", &p, &err) == 0 && json_object_size(json_object_get(p, "properties")) == 0);
    /* in_cluster_upgrade (ch. 5.7): no parameters, no balancing move. */
    CHECK(norm("{\"name\":\"in_cluster_upgrade\"}", &p, &err) == 0 &&
          json_object_size(json_object_get(p, "properties")) == 0);
    vr_policy_parse(p, &pol);
    CHECK(pol.name == VR_POLICY_UPGRADE);
    CHECK(norm("{\"name\":\"in_cluster_upgrade\",\"properties\":{\"HighVmCount\":1}}", &p, &err) < 0);
    CHECK_STR_CONTAINS(err.message, "in_cluster_upgrade has no parameter 'HighVmCount'");
    CHECK(norm("{\"name\":\"in_cluster_upgrade\",\"properties\":[]}", &p, &err) < 0);
    CHECK_STR_CONTAINS(err.message, "properties must be an object");
    {
        vr_sched_policy up = {.name = VR_POLICY_UPGRADE};
        vr_bal_host two[] = {HOST("a", 95, 5), HOST("b", 0, 0)};
        two[0].over_since = 1;
        int s, d;
        char why[256];
        vr_policy_decide(&up, two, 2, 100000, &s, &d, why, sizeof(why));
        CHECK(s == -1 && d == -1);
        CHECK_STR_CONTAINS(why, "in_cluster_upgrade: no load balancing");
    }
    /* Its rule: the same OS, the same or a newer major version. */
    bool newer;
    CHECK(vr_os_major("12") == 12 && vr_os_major("9.2") == 9 && vr_os_major("24.04") == 24);
    CHECK(vr_os_major("") == -1 && vr_os_major("sid") == -1 && vr_os_major(NULL) == -1);
    CHECK(vr_upgrade_judge("rhel", "7.9", "rhel", "8.1", &newer) == VR_UPGRADE_OK && newer);
    CHECK(vr_upgrade_judge("rhel", "7.2", "rhel", "7.9", &newer) == VR_UPGRADE_OK && !newer); /* majors only */
    CHECK(vr_upgrade_judge("rhel", "8", "rhel", "7.9", &newer) == VR_UPGRADE_OLDER);
    CHECK(vr_upgrade_judge("rhel", "8", "debian", "12", &newer) == VR_UPGRADE_OTHER);
    CHECK(vr_upgrade_judge("rhel", "8", "unknown", "", &newer) == VR_UPGRADE_UNKNOWN);
    CHECK(vr_upgrade_judge("rhel", "8", "rhel", "", &newer) == VR_UPGRADE_UNKNOWN); /* no VERSION_ID */
    CHECK(vr_upgrade_judge("unknown", "", "rhel", "8", &newer) == VR_UPGRADE_OK && !newer);
    /* Refusals name what is wrong. */
    CHECK(norm("{\"name\":\"even\"}", &p, &err) < 0 && err.code == VR_ERR_INVALID_PARAMS);
    CHECK_STR_CONTAINS(err.message, "scheduling_policy.name");
    CHECK(norm("{\"name\":\"evenly_distributed\",\"properties\":{\"HighVmCount\":3}}", &p, &err) < 0);
    CHECK_STR_CONTAINS(err.message, "'HighVmCount'");
    CHECK(norm("{\"name\":\"evenly_distributed\",\"properties\":{\"HighUtilization\":101}}", &p, &err) < 0);
    CHECK_STR_CONTAINS(err.message, "HighUtilization must be an integer in 1..100");
    CHECK(norm("{\"name\":\"power_saving\",\"properties\":{\"LowUtilization\":90}}", &p, &err) < 0);
    CHECK_STR_CONTAINS(err.message, "LowUtilization must be below HighUtilization");
    CHECK(norm("{\"name\":\"none\",\"x\":1}", &p, &err) < 0 && norm("[]", &p, &err) < 0);

    int src, dst;
    char why[1024];
    /* vm_evenly_distributed: over HighVmCount and MigrationThreshold. */
    vr_sched_policy ve = {.name = VR_POLICY_VM_EVENLY, .high_vm_count = 1, .migration_threshold = 1};
    vr_bal_host two[] = {HOST("a", 30, 2), HOST("b", 50, 0)};
    vr_policy_decide(&ve, two, 2, 0, &src, &dst, why, sizeof(why));
    CHECK(src == 0 && dst == 1);
    CHECK_STR_CONTAINS(why, "host 'a' counts 2 VM(s), over HighVmCount 1");
    vr_bal_host even[] = {HOST("a", 30, 1), HOST("b", 50, 1)};
    vr_policy_decide(&ve, even, 2, 0, &src, &dst, why, sizeof(why));
    CHECK(src == -1);
    CHECK_STR_CONTAINS(why, "balanced");
    /* ... the SPM's grace counts: it gives away even at equal counts. */
    vr_sched_policy grace = ve;
    grace.spm_vm_grace = 2;
    even[0].spm = true;
    vr_policy_decide(&grace, even, 2, 0, &src, &dst, why, sizeof(why));
    CHECK(src == 0 && dst == 1);
    /* ... but not a VM that may not move (vms 0: pinned ones only). */
    vr_bal_host pinned[] = {{.id = "a", .name = "a", .vms = 0, .vm_count = 3}, HOST("b", 1, 0)};
    vr_policy_decide(&ve, pinned, 2, 0, &src, &dst, why, sizeof(why));
    CHECK(src == -1);

    /* evenly_distributed: over HighUtilization for long enough. */
    vr_sched_policy ed = {.name = VR_POLICY_EVENLY, .high_utilization = 80, .overcommit_minutes = 2};
    vr_bal_host busy[] = {HOST("a", 95, 3), HOST("b", 20, 1), HOST("c", 10, 1)};
    busy[0].over_since = 1000;
    vr_policy_decide(&ed, busy, 3, 1000 + 119, &src, &dst, why, sizeof(why));
    CHECK(src == -1); /* not two minutes yet */
    vr_policy_decide(&ed, busy, 3, 1000 + 120, &src, &dst, why, sizeof(why));
    CHECK(src == 0 && dst == 2);
    CHECK_STR_CONTAINS(why, "host 'a' has been over 80% CPU");
    busy[1].cpu_percent = busy[2].cpu_percent = 85;
    vr_policy_decide(&ed, busy, 3, 1000 + 120, &src, &dst, why, sizeof(why));
    CHECK(src == -1);
    CHECK_STR_CONTAINS(why, "no other host is below it");

    /* power_saving: an idle host is emptied onto one between the limits. */
    vr_sched_policy ps = {.name = VR_POLICY_POWER, .high_utilization = 80, .low_utilization = 20,
                          .overcommit_minutes = 0};
    vr_bal_host idle[] = {HOST("a", 5, 1), HOST("b", 50, 2), HOST("c", 3, 0)};
    idle[0].under_since = idle[2].under_since = 1;
    vr_policy_decide(&ps, idle, 3, 1, &src, &dst, why, sizeof(why));
    CHECK(src == 0 && dst == 1);
    CHECK_STR_CONTAINS(why, "emptying it onto host 'b'");
    idle[1].cpu_percent = 10;
    idle[1].under_since = 1;
    vr_policy_decide(&ps, idle, 3, 1, &src, &dst, why, sizeof(why));
    CHECK(src == -1);

    /* none, and a single host: nothing. */
    vr_sched_policy none = {.name = VR_POLICY_NONE};
    vr_policy_decide(&none, busy, 3, 0, &src, &dst, why, sizeof(why));
    CHECK(src == -1);
    vr_policy_decide(&ve, two, 1, 0, &src, &dst, why, sizeof(why));
    CHECK(src == -1);
    json_decref(p);
    return CHECK_DONE();
}
