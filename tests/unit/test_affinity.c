/* Affinity groups in placement (src/engine/sched/affinity.c): enforcing
 * groups filter hosts, soft ones weigh them, and the scheduler's choice
 * (vr_sched_choose) follows both. Pure functions: no database. */
#include <stdlib.h>

#include "affinity.h"
#include "check.h"
#include "scheduler.h"

#define H(ID, CPU) {.id = ID, .status = "up", .virt_mode = "tcg", .cpu_percent = CPU, .mem_total_mib = 4096, \
                     .max_vcpus = 16, .cpus = 4}

static void reset(vr_sched_host *hs, const vr_sched_host *from, size_t n)
{
    memcpy(hs, from, n * sizeof(*hs));
}

int main(void)
{
    const vr_sched_host base[3] = {H("h0", 10), H("h1", 50), H("h2", 90)};
    vr_sched_host hs[3];
    char why[512], reason[512];
    char on_h0[][37] = {"h0"}, on_h0_h2[][37] = {"h0", "h2"};

    /* No groups: nothing filtered, the least loaded host wins. */
    reset(hs, base, 3);
    CHECK(vr_affinity_apply(NULL, 0, hs, 3, why, sizeof(why)) == 0 && why[0] == '\0');
    CHECK(vr_sched_choose(hs, 3, 256, 1, "any", reason, sizeof(reason)) == 0);

    /* Enforcing negative: not where the group's other VMs run. */
    char web2[][65] = {"web2"};
    vr_affinity_rule neg = {.group = "apart", .positive = false, .enforcing = true, .hosts = on_h0, .vms = web2,
                            .nhosts = 1};
    reset(hs, base, 3);
    CHECK(vr_affinity_apply(&neg, 1, hs, 3, why, sizeof(why)) == 1);
    CHECK(!strcmp(hs[0].status, "affinity") && !strcmp(hs[1].status, "up") && !strcmp(hs[2].status, "up"));
    CHECK_STR_CONTAINS(why, "1 host(s) filtered out by enforcing negative affinity group 'apart'");
    /* ... and the host's verdict names the group and the VM it would meet. */
    char one[192];
    CHECK(!strcmp(vr_sched_filter(&hs[0], 256, 1, "any", one, sizeof(one)), "affinity"));
    CHECK(!strcmp(one, "group 'apart' keeps it from VM 'web2'"));
    CHECK(vr_sched_choose(hs, 3, 256, 1, "any", reason, sizeof(reason)) == 1);

    /* Enforcing positive: only where they run (either of two hosts). */
    vr_affinity_rule pos = {.group = "together", .positive = true, .enforcing = true, .hosts = on_h0_h2,
                            .nhosts = 2};
    reset(hs, base, 3);
    CHECK(vr_affinity_apply(&pos, 1, hs, 3, why, sizeof(why)) == 1);
    CHECK(!strcmp(hs[1].status, "affinity"));
    vr_sched_filter(&hs[1], 256, 1, "any", one, sizeof(one));
    CHECK(!strcmp(one, "group 'together' keeps it with VM '?', on another host")); /* no names given */
    CHECK(vr_sched_choose(hs, 3, 256, 1, "any", reason, sizeof(reason)) == 0);
    /* ... and a positive group whose VMs run nowhere yet binds nothing. */
    vr_affinity_rule pos_idle = {.group = "together", .positive = true, .enforcing = true};
    reset(hs, base, 3);
    CHECK(vr_affinity_apply(&pos_idle, 1, hs, 3, why, sizeof(why)) == 0);

    /* Both at once cannot be met: every host filtered, the choice fails
     * and each group says how many hosts it took. */
    vr_affinity_rule both[2] = {neg, {.group = "with-h0", .positive = true, .enforcing = true, .hosts = on_h0,
                                      .nhosts = 1}};
    reset(hs, base, 3);
    CHECK(vr_affinity_apply(both, 2, hs, 3, why, sizeof(why)) == 3);
    CHECK_STR_CONTAINS(why, "'apart'");
    CHECK_STR_CONTAINS(why, "2 host(s) filtered out by enforcing positive affinity group 'with-h0'");
    CHECK(vr_sched_choose(hs, 3, 256, 1, "any", reason, sizeof(reason)) == -1);

    /* A host already filtered (down) is not counted by a group. */
    reset(hs, base, 3);
    snprintf(hs[0].status, sizeof(hs[0].status), "maintenance");
    CHECK(vr_affinity_apply(&neg, 1, hs, 3, why, sizeof(why)) == 0 && why[0] == '\0');

    /* Soft: weighs before CPU load. The negative group pushes the VM off
     * the idle h0 to h1; the positive one pulls it onto the busy h2. */
    vr_affinity_rule soft_neg = {.group = "s-apart", .positive = false, .enforcing = false, .hosts = on_h0,
                                 .nhosts = 1};
    reset(hs, base, 3);
    CHECK(vr_affinity_apply(&soft_neg, 1, hs, 3, why, sizeof(why)) == 0 && why[0] == '\0');
    CHECK(hs[0].affinity_penalty == 1 && hs[1].affinity_penalty == 0 && !strcmp(hs[0].status, "up"));
    CHECK(vr_sched_choose(hs, 3, 256, 1, "any", reason, sizeof(reason)) == 1);
    CHECK_STR_CONTAINS(reason, "fewest soft affinity groups broken (0)");
    char on_h2[][37] = {"h2"};
    vr_affinity_rule soft_pos = {.group = "s-with", .positive = true, .enforcing = false, .hosts = on_h2,
                                 .nhosts = 1};
    reset(hs, base, 3);
    vr_affinity_apply(&soft_pos, 1, hs, 3, why, sizeof(why));
    CHECK(vr_sched_choose(hs, 3, 256, 1, "any", reason, sizeof(reason)) == 2);
    /* ... but a soft group never beats a filter: h2 full, h0 wins (penalty 1 each). */
    reset(hs, base, 3);
    vr_affinity_apply(&soft_pos, 1, hs, 3, why, sizeof(why));
    hs[2].committed_mib = 4096;
    CHECK(vr_sched_choose(hs, 3, 256, 1, "any", reason, sizeof(reason)) == 0);
    /* Without soft groups the reason does not speak of them. */
    reset(hs, base, 3);
    vr_affinity_apply(NULL, 0, hs, 3, why, sizeof(why));
    CHECK(vr_sched_choose(hs, 3, 256, 1, "any", reason, sizeof(reason)) == 0);
    CHECK(!strstr(reason, "affinity"));
    return CHECK_DONE();
}
