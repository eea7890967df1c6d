/* Snapshots of VMs: their SQL (store_snapshots.c). A row keeps, for each
 * engine disk the VM had, the volume that holds that disk's data as it was
 * when the snapshot was taken (volumes: {disk id: volume id}), and the VM's
 * definition then (config: {memory_mib, vcpus, spec}). The disk's own row
 * names its current leaf (disks.volume_id). */
#pragma once

#include "store.h"

extern const vr_store vr_store_snapshots;

/* Every snapshot of VM vm_id, oldest first (a new array), NULL with err
 * on a database error. */
json_t *vr_snapshots_of_vm(vr_engine *e, const char *vm_id, vr_error *err);
