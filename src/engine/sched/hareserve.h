/* HA reservation (RHV Technical Reference ch. 5): could every highly
 * available VM of a cluster restart on the other up hosts if any one host
 * failed? Memory and vCPUs as the scheduler counts them (scheduler.h); the
 * lost host's HA VMs are placed largest first, each on the other up host
 * with the most free memory left. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "engine.h"

typedef struct vr_ha_host {
    const char *name;
    bool up;
    long long free_mib;    /* memory total - memory of the VMs placed there */
    long long max_vcpus;
} vr_ha_host;

typedef struct vr_ha_vm {
    const char *name;
    size_t host;           /* index into the hosts */
    long long memory_mib, vcpus;
} vr_ha_vm;

/* The verdict over hosts[0..nhosts) and the HA VMs placed on them: true
 * when the loss of any one up host leaves room for its HA VMs; detail
 * says what was checked or, when false, which host's loss could not be
 * absorbed and which VMs would stay down. */
bool vr_ha_reserve_check(const vr_ha_host *hosts, size_t nhosts, const vr_ha_vm *vms, size_t nvms, char *detail,
                         size_t len);

/* The verdict for a cluster now, read from the database: a new
 * {"ok": bool, "detail": text}, or NULL on a database error. */
json_t *vr_ha_reserve_eval(vr_engine *e, const char *cluster_id);

/* Evaluate the cluster, store the verdict, and raise an event when it
 * turns false (warning) or true again (normal); nothing for a cluster
 * whose HA reservation is switched off (clusters.ha_reservation_enabled).
 * Called by the load balancer thread every round. */
void vr_ha_reserve_update(vr_engine *e, const char *cluster_id, const char *cluster_name);
