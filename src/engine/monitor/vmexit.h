/* A VM's end as its host reports it: why it stopped (the VM's stop_reason)
 * and, for a highly available VM whose QEMU died unasked, its restart
 * (docs/fencing.md "Highly available VMs"). */
#pragma once

#include "vmstatus.h"

/* The VM vm_id, `from` on host_id, ended there; agent_reason is the host's
 * word for why (VM.getExit / the Stopped event: crashed, shutdown,
 * destroyed, migrated, ... or unknown), `why` is appended to the event.
 * A stop a user asked for is "user" whatever the host says. A crash of an
 * HA VM nobody asked to stop goes to WaitForLaunch with a restart job;
 * anything else goes down with its reason. Compare-and-set like
 * vr_vm_move: returns 1 when this call moved the VM, 0 when not. */
int vr_vm_ended(vr_engine *e, const char *vm_id, const char *host_id, vr_vm_status from, const char *agent_reason,
                const char *why);

/* The reason to record for what a host said (NULL, or a word we do not
 * know: "unknown"). */
const char *vr_vm_stop_reason(const char *agent_reason, bool stop_requested);
