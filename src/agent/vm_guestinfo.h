/* What the guest agent (qemu-ga on the org.qemu.guest_agent.0 channel)
 * reports about each running VM: hostname, OS, addresses per interface.
 *
 * A thread of its own asks libvirt (virDomainGetGuestInfo) every few
 * seconds and keeps the answers; the verbs (VM.getStats, VM.getAllStats)
 * only read them. An agent call waits for the guest (up to libvirt's
 * agent response timeout, which this sets per VM) and for the VM's agent
 * job (held by a quiesced snapshot), so it must never run on a verb's or
 * another loop's thread. */
#pragma once

#include <jansson.h>

#include "agent.h"

/* Start the collector thread. */
int vr_guestinfo_start(vr_agent *a, vr_error *err);

/* Stop it, waiting briefly for a round in progress (a round stuck on a
 * guest is left to end on its own). */
void vr_guestinfo_stop(void);

/* The last report of VM uuid as a new reference, NULL when its guest agent
 * has not answered recently (none running, or the VM just started):
 * {hostname, os: {...}, interfaces: [{name, mac, addresses: [{type,
 * address, prefix}]}], ips: [...], updated_at}. */
json_t *vr_guestinfo_get(const char *uuid);
