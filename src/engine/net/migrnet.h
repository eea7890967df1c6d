/* The migration network (docs/networks.md "Roles", docs/migration.md): a
 * network of the VM's cluster with the `migration` role carries the
 * migration stream, as in RHV; without one (or when it is the management
 * network) the stream goes where the engine reaches the host. */
#pragma once

#include "engine.h"

/* Where the stream of VM vm_id's migration to host dst (a hosts row with
 * name and address) goes: dst's IPv4 address on its cluster's migration
 * network, asked of dst itself (Host.getNetworks: static or DHCP alike),
 * into addr. Without such a network, addr is dst's own address. With one
 * that dst does not run or has no address on, addr is dst's address too
 * and why (when why_len) says so, for a warning: the migration still goes,
 * over the management network, as RHV does. Returns 1 when the migration
 * network is used, 0 otherwise. */
int vr_migrnet_address(vr_engine *e, const char *vm_id, json_t *dst, char *addr, size_t addr_len, char *why,
                       size_t why_len);
