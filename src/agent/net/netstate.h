/* The agent's network state (docs/networks.md "Setup, confirmation and
 * rollback"): the running configuration, the rollback point of an
 * unconfirmed setup and its deadline, the last good configuration
 * persisted in --net-state, and the thread that rolls back by itself. */
#pragma once

#include <stdbool.h>
#include <jansson.h>

#include "agent.h"

#define VR_NET_STATE_DEFAULT "/var/lib/vireo/networks.json"

/* At start: load the last good configuration from `path` (absent = none),
 * make the host match it (only devices the agent owns), start the rollback
 * thread. A failed restore is logged, not fatal: the agent must stay
 * reachable to be told what to do. */
int vr_net_start(vr_agent *a, const char *path, vr_error *err);
void vr_net_stop(void);

/* The verbs' work (net_verbs.c checks params). */
int vr_net_setup(vr_agent *a, json_t *params, json_t **result, vr_error *err);
int vr_net_confirm(vr_agent *a, json_t **result, vr_error *err);
/* Copies of the running configuration and the pending deadline (0 = none). */
json_t *vr_net_running(long long *deadline);

/* For VM NICs: the bridge of a VM network this host runs (its name) and
 * its MTU; -32013 naming the host when it does not run it or it is not a
 * VM network. */
int vr_net_vm_network(const char *network, int *mtu, vr_error *err);

/* Names of running VMs with a NIC on bridge `name`, comma separated
 * (empty if none). */
void vr_net_vms_on(vr_agent *a, const char *name, char *out, size_t n);
