/* A host's networks as its monitor sees them (docs/networks.md "Rules"):
 * Host.getNetworks asked every few polls (and after a reconnect or a
 * rollback the agent announced), the NICs and networks it reports stored
 * (host_nics, hosts.net_names), and the required-network check: a host
 * that does not run every required network of its cluster cannot serve
 * it. */
#pragma once

#include "engine.h"
#include "rpcclient.h"

typedef struct vr_host_net vr_host_net;

vr_host_net *vr_host_net_new(void);
void vr_host_net_free(vr_host_net *hn);

/* Ask Host.getNetworks at the next poll (a new connection, a rollback). */
void vr_host_net_reset(vr_host_net *hn);

/* The agent announced Host.networksRolledBack (params: its reason and
 * networks): an event for host_id, and the report asked again at once. */
void vr_host_net_rolled_back(vr_engine *e, const char *host_id, json_t *params, vr_host_net *hn);

/* One round for host (a hosts row: id, name, cluster_id) over connection
 * c. Returns 0, or 1 with why filled when a required network of its
 * cluster is missing (NonOperational). */
int vr_host_net_poll(vr_engine *e, vr_rpc_client *c, json_t *host, vr_host_net *hn, char *why, size_t len);

/* Store a Host.getNetworks report of host_id (NICs, the networks it runs). */
int vr_host_net_store(vr_engine *e, const char *host_id, json_t *report, vr_error *err);
