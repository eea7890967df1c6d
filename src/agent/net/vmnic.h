/* The host side of a VM NIC on a network (docs/networks.md "VM NIC spec"):
 * what the agent checks before libvirt sees the NIC. */
#pragma once

#include "devspec.h"
#include "error.h"
#include "nl.h"

/* -32013 naming this host when the NIC asks for what it cannot have: a
 * network it does not run (or not a VM network), SR-IOV passthrough.
 * *mtu gets the network's MTU (0 without a network). */
int vr_net_nic_check(const vr_nic *n, int *mtu, vr_error *err);
