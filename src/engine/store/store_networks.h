/* Logical networks, vNIC profiles and host NICs: their SQL
 * (store_networks.c), and the reads the network code shares (a network
 * by name, the profiles a VM's NICs name). docs/networks.md "Engine". */
#pragma once

#include "store.h"

extern const vr_store vr_store_networks, vr_store_vnicprofiles, vr_store_host_nics, vr_store_macpools;

/* The name of the data centers' default management network (RHV:
 * ovirtmgmt). */
#define VR_MGMT_NETWORK "vireomgmt"

/* A network's roles as stored (a comma list) from a JSON array of role
 * names (already checked); out gets "" for none. */
void vr_net_roles_text(json_t *roles, char *out, size_t len);

/* Insert network `id` of data center dc (name, description, vm, vlan (<= 0:
 * untagged), mtu, roles text) and, for a VM network, its default vNIC
 * profile of the same name, in the caller's transaction (or none). */
int vr_net_insert(vr_engine *e, const char *id, const char *dc, const char *name, const char *desc, bool vm,
                  long long vlan, long long mtu, const char *roles, const char *label, vr_error *err);

/* Attach its data center's management network(s) to cluster_id, required,
 * unless attached already (one statement; in the caller's transaction). */
int vr_net_attach_mgmt(vr_engine *e, const char *cluster_id, vr_error *err);

/* The VMs (array of {id, name, status}) whose NICs name a vNIC profile of
 * network_id (profile_id NULL) or the profile profile_id. NULL with err on
 * a database error. */
json_t *vr_net_profile_users(vr_engine *e, const char *network_id, const char *profile_id, vr_error *err);
