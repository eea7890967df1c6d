/* A leased VM that ended because its host lost the lease (docs/
 * availability.md "VM leases", "Losing the lease"). sanlock powers the VM
 * off through libvirt's helper (on_lockfailure poweroff: libvirt reports
 * "destroyed") or kills QEMU ("crashed") when this host can no longer
 * renew its lockspace on the lease's storage domain; to the engine that
 * must not look like a user's destroy. The agent remembers, per running
 * domain, the lockspace of its lease, and at its Stopped event asks
 * sanlock whether this host is still in that lockspace: not (gone,
 * leaving, joining again) makes the exit "lease_lost". */
#pragma once

#include <libvirt/libvirt.h>

/* Remember dom's lease lockspace (none: nothing), read from its live XML.
 * Called once per domain the agent sees as its own. */
void vr_leaseloss_track(virDomainPtr dom, const char *uuid);

/* The exit reason for the domain uuid that stopped for `reason` (its
 * vr_exit_reason_of_stop): "lease_lost" when it was destroyed or died
 * while this host was no longer in its lease's lockspace, else reason.
 * Forgets the domain's lockspace. */
const char *vr_leaseloss_reason(const char *uuid, const char *reason);
