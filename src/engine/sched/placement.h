/* A VM's placement policy (docs/availability.md "Placement policy"), as
 * oVirt has it: whether it may migrate (migratable: by the engine and by a
 * user; user_migratable: only when a user asks for it; pinned: never) and
 * the hosts it may run on (none listed: any host of its cluster). Stored
 * as vms.placement_json; rendered as `placement_policy`. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "engine.h"
#include "hostview.h"

typedef enum {
    VR_PLACE_MIGRATABLE,
    VR_PLACE_USER_MIGRATABLE,
    VR_PLACE_PINNED,
    VR_PLACE_N
} vr_place_affinity;

extern const char *const vr_place_affinity_names[VR_PLACE_N];

/* Check a placement_policy given for a VM of cluster_id and rewrite it in
 * place to its stored form: {"affinity": A, "hosts": [host ids]} (hosts
 * named by id or name; each must be a host of that cluster). 0, or -1
 * with VR_ERR_INVALID_PARAMS naming the member at fault. */
int vr_placement_normalize(vr_engine *e, json_t *policy, const char *cluster_id, vr_error *err);

/* The stored policy of VM vm_id (a new reference; the default one when the
 * VM has none or is gone). */
json_t *vr_placement_of(vr_engine *e, const char *vm_id);

/* The policy's affinity. */
vr_place_affinity vr_placement_affinity(json_t *policy);

/* Whether host_id is one the policy lets the VM run on. */
bool vr_placement_allows(json_t *policy, const char *host_id);

/* Filter out (status "notallowed") the hosts the policy does not list;
 * returns how many it filtered. */
size_t vr_placement_filter(json_t *policy, vr_sched_host *hosts, size_t n);

/* For a VM with a lease (docs/availability.md "VM leases"): filter out
 * (status "nolockmanager") the hosts whose libvirt does not use the sanlock
 * lock manager, as their agents' capabilities say (lock_manager). Returns
 * how many it filtered; 0 for a VM without a lease. */
size_t vr_placement_lease_filter(vr_engine *e, const char *vm_id, vr_sched_host *hosts, size_t n);

/* Append to a placement's reason (len bytes) that count hosts were
 * filtered for want of the sanlock lock manager (nothing when 0). */
void vr_placement_lease_explain(char *reason, size_t len, size_t count);
