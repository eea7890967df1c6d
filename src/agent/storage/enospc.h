/* A guest paused because its storage is full, and resumed once it is not.
 *
 * Every VM disk is started with error_policy="stop" (domxml.c): when a
 * write fails with ENOSPC, QEMU pauses the guest instead of handing the
 * error to it (libvirt: paused, reason I/O error). This watcher looks at
 * such VMs every few seconds and resumes one as soon as the file system
 * holding each failing disk has room again (rule in enospc.c), so a full
 * storage domain that an administrator cleans up costs the guest a pause,
 * never a corrupt file system. */
#pragma once

#include "agent.h"

/* Start the watcher thread (checks every VR_ENOSPC_CHECK_S seconds). */
#define VR_ENOSPC_CHECK_S 3
int vr_enospc_start(vr_agent *a, vr_error *err);

/* Stop and join the watcher. */
void vr_enospc_stop(void);

/* Subscribe conn's I/O error events (VM.event "IOError" with the reason,
 * e.g. "enospc"); called for every new libvirt connection. */
int vr_enospc_register(vr_agent *a, virConnectPtr conn, vr_error *err);

/* Why a VM in libvirt state `state`/`reason` is paused: "enospc" (a disk
 * ran out of space), "ioerror" (another I/O error), "user" (VM.pause,
 * virsh suspend), "migration", "snapshot", "save", "dump", "starting",
 * "shutting_down", "crashed", "watchdog" or "unknown"; NULL when it is not
 * paused. For the two storage reasons disk (len > 0) gets the target of
 * the first failing disk ("" when libvirt names none). */
const char *vr_enospc_pause_reason(virDomainPtr dom, int state, int reason, char *disk, size_t len);

/* Free-space rule: true when a file system of `total` bytes with `avail`
 * free has room enough to resume (exposed for unit tests). */
bool vr_enospc_has_room(unsigned long long total, unsigned long long avail);
