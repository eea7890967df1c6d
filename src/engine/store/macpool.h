/* MAC pools (docs/networks.md "MAC pools"): named sets of MAC ranges,
 * assigned to clusters (mac_pools, clusters.mac_pool_id); a NIC's address
 * comes from its VM's cluster's pool and is unique across the engine
 * (table macs). The Default pool is the one of --mac-pool. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "engine.h"

#define VR_MACPOOL_DEFAULT "56:6f:00:00:00:00-56:6f:ff:ff:ff:ff"
/* The Default pool's fixed id (made by schema v15). */
#define VR_MACPOOL_DEFAULT_ID "00000000-0000-4000-8000-00000000ac01"
#define VR_MACPOOL_MAX_RANGES 16

/* Parse "FIRST-LAST" (two unicast MACs, FIRST <= LAST) into integers. */
int vr_macpool_parse(const char *range, uint64_t *first, uint64_t *last, vr_error *err);

/* A pool's ranges [{from, to}]: 1-16 of them, unicast, the first octet
 * kept, none overlapping another; 400 naming the range. The MACs are
 * rewritten in place in lowercase. */
int vr_macpool_check_ranges(json_t *ranges, vr_error *err);

/* Do two (checked) range lists share an address? where gets b's range. */
bool vr_macpool_overlap(json_t *a, json_t *b, char *where, size_t len);

/* [{from, to}] of one range (a new reference). */
json_t *vr_macpool_range_json(uint64_t first, uint64_t last);

/* At start: the Default pool gets the engine's range (e->mac_first..last)
 * when given is true (--mac-pool on the command line) or it has none. */
int vr_macpool_init(vr_engine *e, bool given, vr_error *err);

/* Reserve a free MAC of the pool of vm_id's cluster for it (call inside
 * the transaction that stores the VM, after its row). VR_ERR_LIMIT when
 * the pool is used up. */
int vr_macpool_allocate(vr_engine *e, const char *vm_id, char mac[18], vr_error *err);
