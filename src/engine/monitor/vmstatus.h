/* VM statuses: one string table. Who moves a VM where:
 *   down -> waitforlaunch (start accepted) -> poweringup (sent to a host)
 *   -> up | paused | poweringdown | notresponding (its host's monitor)
 *   any running -> unknown (its host stopped answering) -> whatever the
 *   host reports once it answers; -> down when the host reports it gone.
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
    VR_VM_NSTATUS
} vr_vm_status;

extern const char *const vr_vm_status_names[VR_VM_NSTATUS];
