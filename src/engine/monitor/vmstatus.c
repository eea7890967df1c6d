#include "vmstatus.h"

const char *const vr_vm_status_names[VR_VM_NSTATUS] = {
    [VR_VM_DOWN] = "down", [VR_VM_WAITFORLAUNCH] = "waitforlaunch", [VR_VM_POWERINGUP] = "poweringup",
    [VR_VM_UP] = "up", [VR_VM_PAUSED] = "paused", [VR_VM_POWERINGDOWN] = "poweringdown",
    [VR_VM_NOTRESPONDING] = "notresponding", [VR_VM_UNKNOWN] = "unknown"};
