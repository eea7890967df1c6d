/* HA reservation (src/engine/sched/hareserve.c): the verdict of "could
 * every HA VM restart if any one host failed" over hosts and VMs. Pure:
 * no database. */
#include "check.h"
#include "hareserve.h"

#define UP(NAME, FREE) {.name = NAME, .up = true, .free_mib = FREE, .max_vcpus = 16}

int main(void)
{
    char d[1024];
    /* No HA VM: fine whatever the hosts. */
    vr_ha_host one[] = {UP("h0", 100)};
    CHECK(vr_ha_reserve_check(one, 1, NULL, 0, d, sizeof(d)));
    CHECK_STR_CONTAINS(d, "0 highly available VM(s)");
    /* A lone host's HA VM has nowhere to go. */
    vr_ha_vm lone[] = {{.name = "a", .host = 0, .memory_mib = 10, .vcpus = 1}};
    CHECK(!vr_ha_reserve_check(one, 1, lone, 1, d, sizeof(d)));
    CHECK_STR_CONTAINS(d, "if host 'h0' failed, its highly available VM(s) 'a' (10 MiB)");
    /* Three hosts: h0's two VMs spread over h1 and h2 (largest first, each
     * on the host with most room left). */
    vr_ha_host three[] = {UP("h0", 0), UP("h1", 600), UP("h2", 500)};
    vr_ha_vm spread[] = {{.name = "a", .host = 0, .memory_mib = 400, .vcpus = 1},
                         {.name = "b", .host = 0, .memory_mib = 500, .vcpus = 1}};
    CHECK(vr_ha_reserve_check(three, 3, spread, 2, d, sizeof(d)));
    CHECK_STR_CONTAINS(d, "2 highly available VM(s) could restart elsewhere if any one of the 3 up host(s)");
    /* One more: they no longer fit together; the detail names who is left. */
    vr_ha_vm more[] = {spread[0], spread[1], {.name = "c", .host = 0, .memory_mib = 300, .vcpus = 1}};
    CHECK(!vr_ha_reserve_check(three, 3, more, 3, d, sizeof(d)));
    CHECK_STR_CONTAINS(d, "'c' (300 MiB)");
    /* A host that is not up takes nothing, and its own loss is not checked. */
    three[2].up = false;
    CHECK(!vr_ha_reserve_check(three, 3, spread, 2, d, sizeof(d)));
    CHECK_STR_CONTAINS(d, "'a' (400 MiB)");
    vr_ha_vm on_down[] = {{.name = "x", .host = 2, .memory_mib = 100000, .vcpus = 1}};
    CHECK(vr_ha_reserve_check(three, 3, on_down, 1, d, sizeof(d)));
    /* vCPUs: a VM wider than every other host cannot restart. */
    three[2].up = true;
    vr_ha_vm wide[] = {{.name = "w", .host = 0, .memory_mib = 1, .vcpus = 32}};
    CHECK(!vr_ha_reserve_check(three, 3, wide, 1, d, sizeof(d)));
    /* Each host's loss is checked: h2's VM does not fit on h0 and h1 (full). */
    vr_ha_host full[] = {UP("h0", 0), UP("h1", 0), UP("h2", 1000)};
    vr_ha_vm on_h2[] = {{.name = "z", .host = 2, .memory_mib = 1, .vcpus = 1}};
    CHECK(!vr_ha_reserve_check(full, 3, on_h2, 1, d, sizeof(d)));
    CHECK_STR_CONTAINS(d, "if host 'h2' failed");
    return CHECK_DONE();
}
