/* VM pools: their SQL (store_pools.c). A pool keeps `size` thin VMs of its
 * template (vms.pool_id); `prestarted` of the free ones running; a user
 * holds at most `max_user_vms` (vms.pool_user). The pool monitor
 * (jobs/poolmon.c) does the keeping; the API only records the wish. */
#pragma once

#include "store.h"

extern const vr_store vr_store_pools;
