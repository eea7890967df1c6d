/* Why a VM's QEMU ended (docs/agent-api.md "VM.getExit"): crashed,
 * shutdown, destroyed, migrated, saved, snapshot or unknown. While the
 * agent runs, libvirt's Stopped event says it and is remembered here; for
 * a VM that ended while the agent was down, libvirtd's own record of it
 * (the "shutting down, reason=..." line it appends to the domain's log)
 * says it. The engine tells an HA VM's crash from a stop this way. */
#pragma once

#include "agent.h"

/* The exit reason a VIR_DOMAIN_EVENT_STOPPED detail stands for. A QEMU
 * that ended unasked (killed, died: libvirt's "Failed") counts as crashed. */
const char *vr_exit_reason_of_stop(int detail);

/* Remember that the owned domain uuid/name ended for `reason` (the last
 * few hundred exits are kept). */
void vr_exit_record(const char *uuid, const char *name, const char *reason, const char *detail);

/* The reason libvirtd logged for the last run of domain `name` with this
 * UUID in its QEMU log under log_dir: "crashed", "shutdown"... or NULL when
 * the log does not say (no log, another domain's, still running). Static
 * string. */
const char *vr_exit_from_libvirt_log(const char *log_dir, const char *name, const char *uuid);
