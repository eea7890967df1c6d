/* What a VM NIC on a network needs from the host once its tap exists
 * (docs/networks.md): bandwidth shaping and port mirroring, done by the
 * agent through netlink because libvirt's own shaping needs qdiscs and
 * actions this kernel lacks (sfq, police), so a domain with <bandwidth>
 * would not start here.
 *
 * A NIC is announced before libvirt creates it (vr_nicqos_want, called
 * where its XML is written); a watcher finds its tap (libvirt gives the tap
 * the guest's MAC with the first byte fe) and applies:
 *  - inbound (to the guest): a tbf qdisc on the tap;
 *  - outbound (from the guest): the tap's ingress redirected (u32 +
 *    mirred) to an ifb device vrq-<tap> shaped by a tbf qdisc;
 *  - mirror: every port of the network's bridge copies what enters it to
 *    the tap (trunk.h's mirror program), ports that appear later too.
 * When the tap goes, the NIC is forgotten and its ifb and mirror programs
 * removed. */
#pragma once

#include "devspec.h"
#include "error.h"

void vr_nicqos_want(const vr_nic *n);
int vr_nicqos_start(vr_error *err);
void vr_nicqos_stop(void);
