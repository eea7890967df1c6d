/* The engine's MAC pool: NIC addresses handed out from one configurable
 * range (--mac-pool), unique across the engine (table macs). */
#pragma once

#include <stdint.h>

#include "engine.h"

#define VR_MACPOOL_DEFAULT "56:6f:00:00:00:00-56:6f:ff:ff:ff:ff"

/* Parse "FIRST-LAST" (two unicast MACs, FIRST <= LAST) into integers. */
int vr_macpool_parse(const char *range, uint64_t *first, uint64_t *last, vr_error *err);

/* Reserve a free MAC of the pool for vm_id (call inside the transaction
 * that stores the VM). VR_ERR_LIMIT when the pool is used up. */
int vr_macpool_allocate(vr_engine *e, const char *vm_id, char mac[18], vr_error *err);
