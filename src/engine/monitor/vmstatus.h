/* VM statuses: one string table. Who moves a VM where:
 *   down -> waitforlaunch (start accepted) -> poweringup (sent to a host)
 *   -> up | paused | poweringdown | notresponding (its host's monitor)
 *   any running -> unknown (its host stopped answering) -> whatever the
 *   host reports once it answers; -> down when the host reports it gone.
 *   down -> imagelocked -> down: a snapshot job changes a stopped VM's disks
 *   (jobs/snapjobs.c); it cannot start meanwhile.
 *   up | paused -> migratingfrom (migrate accepted) -> up | paused on the
 *   destination or back on the source (the migrate job alone, vmmigrate.c).
 *   any running -> waitforlaunch: a highly available VM whose QEMU died
 *   unasked, with its restart job in the same transaction (vmexit.h).
 * Writers check the from-state in the same UPDATE (WHERE status = ...). */
#pragma once

typedef enum {
    VR_VM_DOWN,
    VR_VM_WAITFORLAUNCH,
    VR_VM_POWERINGUP,
    VR_VM_UP,
    VR_VM_PAUSED,
    VR_VM_POWERINGDOWN,
    VR_VM_NOTRESPONDING,
    VR_VM_UNKNOWN,
    VR_VM_MIGRATINGFROM,
    VR_VM_IMAGELOCKED, /* down, its disks being changed by a snapshot job */
    VR_VM_SAVINGSTATE, /* its memory being saved to a volume (the suspend job's) */
    VR_VM_SUSPENDED,   /* not running; its memory saved, restored at the next start */
    VR_VM_NSTATUS
} vr_vm_status;

extern const char *const vr_vm_status_names[VR_VM_NSTATUS];

#include "engine.h"

/* The status named s, or -1. */
int vr_vm_status_parse(const char *s);

/* The one way a monitor changes a VM's status: from `from` (what the
 * caller read) on host_id to `to`, only if the machine allows that move
 * and the row still says `from` on that host (compare-and-set in one
 * UPDATE: a fresher change made meanwhile wins, and a VM whose start job
 * is in flight - waitforlaunch - is the job's alone). Going down clears
 * host_id. Records the event with the severity both paths agree on and
 * `why` appended. Returns 1 when changed, 0 when not (raced or not
 * allowed), -1 on a database error. */
int vr_vm_move(vr_engine *e, const char *vm_id, const char *name, const char *host_id, vr_vm_status from,
               vr_vm_status to, const char *user, const char *why);

/* vr_vm_move that, going down, also records why the VM stopped (its
 * stop_reason: crashed, user, shutdown, destroyed, host_fenced, unknown)
 * and ends a stop request. reason NULL: as vr_vm_move. */
int vr_vm_move_down_for(vr_engine *e, const char *vm_id, const char *name, const char *host_id, vr_vm_status from,
                        vr_vm_status to, const char *reason, const char *user, const char *why);

/* Record why a VM running on host_id is paused as its host's poll reports
 * it (agent_vm: the agent's VM.list entry, its pause_reason and
 * pause_disk; no pause_reason: not paused). A new storage reason (enospc,
 * ioerror) is a warning event naming the VM, the disk and the reason. */
void vr_vm_note_pause(vr_engine *e, const char *vm_id, const char *name, const char *host_id, json_t *agent_vm);
