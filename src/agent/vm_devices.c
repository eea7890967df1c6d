/* VM device verbs: balloon, vCPU hot add, I/O limits, disk and NIC hotplug. */
#include "verbs.h"

const vr_verb vr_vm_device_verbs[] = {
    {NULL, NULL},
};
