/* Role networks (docs/networks.md "Roles"): where the traffic a network of
 * a VM's cluster carries by its role goes on a host. The migration network
 * carries the migration stream, as in RHV; without one (or when it is the
 * management network) the stream goes where the engine reaches the host.
 * The display network is where the VM's consoles (VNC) listen; without one
 * they listen on the host's loopback, reached only through the agent. */
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

/* Where VM vm_id's consoles listen on host (a hosts row): the host's IPv4
 * address on the cluster's display network (the first by name), asked of
 * the host; a display network that is also the management network the
 * host did not bridge yet: the host's address when it is an IPv4 address.
 * Without a display network, or when the host has no address on it
 * (why then says so, for a warning), addr is "127.0.0.1". Returns 1 when
 * the display network is used, 0 otherwise. */
int vr_dispnet_address(vr_engine *e, const char *vm_id, json_t *host, char *addr, size_t addr_len, char *why,
                       size_t why_len);
