/* VLAN trunks without 8021q or bridge VLAN filtering (this kernel has
 * neither): small eBPF programs on tc's clsact hooks, attached through
 * netlink, tag and untag frames (docs/networks.md).
 *
 *  - on a NIC's ingress: a frame tagged V is untagged and redirected into
 *    the veth of VLAN network V (its trunk end, "a"); an untagged frame goes
 *    to the NIC's untagged network, or to the host's stack on the NIC when
 *    it has none; other VLANs are dropped;
 *  - on each network veth's trunk end ingress (what the network's bridge
 *    sends): the frame is tagged V (not for the untagged network) and
 *    redirected out of the NIC. */
#pragma once

#include "nl.h"

typedef struct vr_trunk_vlan {
    int vid;          /* 2..4094 */
    int ifindex;      /* the network veth's trunk end */
} vr_trunk_vlan;

/* The VLANs one NIC's program can tell apart (7 instructions each within
 * the kernel's 4096); more is refused. */
#define VR_TRUNK_MAX_VLANS 582

/* (Re)program a NIC's ingress; untagged_ifindex 0 = to the host stack;
 * n above VR_TRUNK_MAX_VLANS is refused. */
int vr_trunk_nic(vr_nl *nl, const char *nic, const vr_trunk_vlan *vlans, int n,
                 int untagged_ifindex, vr_error *err);
/* Program a network veth's trunk end: tag with vid (0 = none), out of nic. */
int vr_trunk_port(vr_nl *nl, const char *veth, int vid, const char *nic, vr_error *err);
/* Port mirroring: every frame entering `port` is also copied out of
 * to_ifindex (a VM's tap); filter priority 1 on the port's ingress. */
int vr_trunk_mirror(vr_nl *nl, const char *port, int to_ifindex, vr_error *err);
/* Attach an eBPF program (direct action) at `prio` on dev's clsact ingress,
 * replacing the filter of that priority. */
struct bpf_insn;
int vr_trunk_attach(vr_nl *nl, const char *dev, const struct bpf_insn *insns, int n, int prio,
                    vr_error *err);
/* Make sure dev has a clsact qdisc; its ifindex or -1. */
int vr_trunk_clsact(vr_nl *nl, const char *dev, vr_error *err);
/* Remove the filter of priority prio from dev's clsact ingress. */
int vr_trunk_detach(vr_nl *nl, const char *dev, int prio, vr_error *err);
/* Remove the agent's programs (the clsact qdisc) from a device. */
int vr_trunk_clear(vr_nl *nl, const char *dev, vr_error *err);
