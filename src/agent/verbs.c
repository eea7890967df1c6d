#include <string.h>

#include "host_crl.h"
#include "verbs.h"
#include "vm_blockcopy.h"
#include "vm_console.h"
#include "vm_migrate.h"

static const vr_verb *const tables[] = {vr_host_verbs, vr_vm_lifecycle_verbs,
                                        vr_vm_device_verbs, vr_vm_stats_verbs, vr_job_verbs,
                                        vr_volume_verbs, vr_memory_verbs, vr_snapshot_verbs, vr_blockcopy_verbs, vr_storage_verbs, vr_volume_io_verbs, vr_vm_migrate_verbs,
                                        vr_net_verbs, vr_vm_exit_verbs, vr_fence_verbs, vr_host_crl_verbs, vr_lease_verbs, vr_ovf_verbs,
                                        vr_vm_console_verbs};

const vr_verb *vr_verb_find(const char *name)
{
    for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
        for (const vr_verb *v = tables[t]; v->name; v++)
            if (!strcmp(v->name, name))
                return v;
    return NULL;
}
