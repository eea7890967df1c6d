/* Each candidate's verdict in a placement (src/engine/sched/verdict.c,
 * vr_sched_choose_v): the filter that removed a host and why, or its
 * weights and rank, and the failure text naming every host. Pure: no
 * database. */
#include <stdlib.h>

#include "check.h"
#include "scheduler.h"

#define H(NAME, CPU, TOTAL, USED) {.id = NAME "-id", .name = NAME, .status = "up", .virt_mode = "kvm", \
                                   .cpu_percent = CPU, .mem_total_mib = TOTAL, .committed_mib = USED, \
                                   .max_vcpus = 16, .cpus = 4}

int main(void)
{
    vr_sched_host hs[6] = {H("h0", 10, 4096, 3584), H("h1", 10, 8192, 0), H("h2", 30, 8192, 1024),
                           H("h3", 10, 8192, 0), H("h4", 80, 8192, 0), H("h5", 5, 8192, 0)};
    hs[1].lacks_network = true;
    hs[1].missing_net = "red";
    snprintf(hs[3].status, sizeof(hs[3].status), "maintenance");
    snprintf(hs[5].status, sizeof(hs[5].status), "notallowed");
    vr_sched_verdict v[6];
    char reason[1024];
    /* h0: 512 free for 2048; h1 lacks red; h3 down; h5 outside its policy. */
    int i = vr_sched_choose_v(hs, 6, 2048, 2, "any", v, reason, sizeof(reason));
    CHECK(i == 2);
    CHECK(v[0].why[0] == '\0'); /* reasons only on demand */
    vr_sched_verdict_reasons(hs, v, 6, 2048, 2, "any");
    CHECK(v[0].filter && !strcmp(v[0].filter, "memory"));
    CHECK_STR_CONTAINS(v[0].why, "needs 2048 MiB, 512 free");
    CHECK(v[1].filter && !strcmp(v[1].filter, "network"));
    CHECK_STR_CONTAINS(v[1].why, "lacks red");
    CHECK(v[3].filter && !strcmp(v[3].filter, "status"));
    CHECK_STR_CONTAINS(v[3].why, "maintenance");
    CHECK(v[5].filter && !strcmp(v[5].filter, "pinned"));
    /* The two that passed: weights and ranks (h2 less loaded than h4). */
    CHECK(!v[2].filter && v[2].rank == 1 && v[2].cpu_bucket == 1 && v[2].free_mib == 7168);
    CHECK(!v[4].filter && v[4].rank == 2 && v[4].cpu_bucket == 3 && v[4].free_mib == 8192);
    CHECK(v[0].rank == 0 && v[1].rank == 0);
    /* The pure choice agrees with the explained one. */
    CHECK(vr_sched_choose(hs, 6, 2048, 2, "any", reason, sizeof(reason)) == 2);

    /* cpu and virt_mode; equal weights rank by order. */
    vr_sched_host two[3] = {H("a", 10, 4096, 0), H("b", 10, 4096, 0), H("c", 10, 4096, 0)};
    two[1].max_vcpus = 1;
    snprintf(two[2].virt_mode, sizeof(two[2].virt_mode), "tcg");
    CHECK(vr_sched_choose_v(two, 3, 256, 2, "kvm", v, reason, sizeof(reason)) == 0);
    vr_sched_verdict_reasons(two, v, 3, 256, 2, "kvm");
    CHECK(v[1].filter && !strcmp(v[1].filter, "cpu") && v[2].filter && !strcmp(v[2].filter, "virt_mode"));
    CHECK_STR_CONTAINS(v[2].why, "the cluster needs kvm, the host has tcg");
    CHECK_STR_CONTAINS(v[1].why, "needs 2 vCPUs, at most 1");
    two[1].max_vcpus = 16;
    snprintf(two[2].virt_mode, sizeof(two[2].virt_mode), "kvm");
    CHECK(vr_sched_choose_v(two, 3, 256, 2, "kvm", v, reason, sizeof(reason)) == 0);
    CHECK(v[0].rank == 1 && v[1].rank == 2 && v[2].rank == 3);
    /* A soft affinity group outweighs the order. */
    two[0].affinity_penalty = 1;
    CHECK(vr_sched_choose_v(two, 3, 256, 2, "kvm", v, reason, sizeof(reason)) == 1);
    CHECK(v[0].rank == 3 && v[0].affinity_penalty == 1);
    /* The HA reservation weighs next: before CPU load, after affinity. */
    two[1].ha_penalty = 1;
    CHECK(vr_sched_choose_v(two, 3, 256, 2, "kvm", v, reason, sizeof(reason)) == 2);
    CHECK(v[1].ha_penalty == 1 && v[1].rank == 2 && v[2].rank == 1);
    CHECK_STR_CONTAINS(reason, "keeps the HA reservation, then lowest CPU load");
    two[1].ha_penalty = 0;
    /* in_cluster_upgrade's weight next (osupgrade.c): a newer OS beats the
     * same one, before CPU load, after the HA reservation. */
    two[0].affinity_penalty = 0;
    two[0].upgrade_penalty = two[1].upgrade_penalty = 1;
    two[2].cpu_percent = 60; /* a newer OS outweighs a busier CPU */
    CHECK(vr_sched_choose_v(two, 3, 256, 2, "kvm", v, reason, sizeof(reason)) == 2);
    CHECK(v[2].upgrade_penalty == 0 && v[2].rank == 1 && v[0].rank == 2 && v[1].rank == 3);
    CHECK_STR_CONTAINS(reason, "a newer OS version (in_cluster_upgrade), then lowest CPU load");
    two[2].ha_penalty = 1; /* ...but not the HA reservation */
    CHECK(vr_sched_choose_v(two, 3, 256, 2, "kvm", v, reason, sizeof(reason)) == 0);
    two[2].ha_penalty = 0;
    two[0].upgrade_penalty = two[1].upgrade_penalty = 0;
    two[2].cpu_percent = 10;
    /* Its filter: each rule's reason names both OSes. */
    snprintf(two[0].status, sizeof(two[0].status), "osolder");
    snprintf(two[1].status, sizeof(two[1].status), "osother");
    snprintf(two[2].status, sizeof(two[2].status), "osunknown");
    for (int k = 0; k < 3; k++)
        snprintf(two[k].os_source, sizeof(two[k].os_source), "debian 12");
    snprintf(two[0].os, sizeof(two[0].os), "debian 11");
    snprintf(two[1].os, sizeof(two[1].os), "rhel 9");
    snprintf(two[2].os, sizeof(two[2].os), "unknown");
    CHECK(vr_sched_choose_v(two, 3, 256, 2, "kvm", v, reason, sizeof(reason)) == -1);
    vr_sched_verdict_reasons(two, v, 3, 256, 2, "kvm");
    for (int k = 0; k < 3; k++)
        CHECK(v[k].filter && !strcmp(v[k].filter, "in_cluster_upgrade"));
    CHECK_STR_CONTAINS(v[0].why, "runs debian 11, older than debian 12 where the VM runs");
    CHECK_STR_CONTAINS(v[1].why, "runs rhel 9, not debian 12 like the VM's host");
    CHECK_STR_CONTAINS(v[2].why, "its OS version is not known (unknown)");
    for (int k = 0; k < 3; k++)
        snprintf(two[k].status, sizeof(two[k].status), "up");

    /* Nothing fits: the reason keeps its head and names each host. */
    CHECK(vr_sched_choose_v(hs, 2, 2048, 2, "any", v, reason, sizeof(reason)) == -1);
    vr_sched_verdict_reasons(hs, v, 2, 2048, 2, "any");
    vr_sched_explain_hosts(reason, sizeof(reason), hs, v, 2, 2048, 2, "any");
    CHECK_STR_CONTAINS(reason, "no host can run it: 2 candidate(s), all filtered out");
    CHECK_STR_CONTAINS(reason, "; h0 (memory: needs 2048 MiB, 512 free), h1 (network: lacks red)");
    /* ... and a short buffer cuts it, never overruns. */
    char small[40];
    snprintf(small, sizeof(small), "x");
    vr_sched_explain_hosts(small, sizeof(small), hs, v, 2, 2048, 2, "any");
    CHECK(strlen(small) == sizeof(small) - 1);
    return CHECK_DONE();
}
