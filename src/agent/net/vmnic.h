/* The host side of a VM NIC on a network (docs/networks.md "VM NIC spec"):
 * what the agent checks before libvirt sees the NIC. */
#pragma once

#include "agent.h"
#include "devspec.h"
#include "error.h"
#include "nl.h"

/* -32013 naming this host when the NIC asks for what it cannot have: a
 * network it does not run (or not a VM network), SR-IOV passthrough.
 * *mtu gets the network's MTU (0 without a network). */
int vr_net_nic_check(const vr_nic *n, int *mtu, vr_error *err);

/* At agent start: the shaping and mirroring of every running VM's NICs, as
 * their stored specs say (VM.updateNic keeps them current), are wanted
 * again, so new bridge ports are mirrored and a stopped VM's ifb goes. */
void vr_net_nics_recover(vr_agent *a);

/* Keep the running domain's stored spec (its metadata) true after a live
 * NIC change: the NIC of that MAC takes nic's network, bridge, bandwidth,
 * filter, mirror and link (a NIC not there is added), or goes when nic is
 * NULL. A failure is logged only: the change itself happened. */
void vr_net_spec_nic(virDomainPtr dom, const char *mac, json_t *nic);
