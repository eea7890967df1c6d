/* Verb tables, one per file of handlers; verbs.c searches them all. */
#pragma once

#include "agent.h"

extern const vr_verb vr_host_verbs[];
extern const vr_verb vr_vm_lifecycle_verbs[];
extern const vr_verb vr_vm_device_verbs[];
extern const vr_verb vr_vm_stats_verbs[];
extern const vr_verb vr_job_verbs[];
extern const vr_verb vr_storage_verbs[];
extern const vr_verb vr_volume_verbs[];
extern const vr_verb vr_memory_verbs[];
extern const vr_verb vr_lease_verbs[]; /* storage/vmlease.c */
extern const vr_verb vr_ovf_verbs[]; /* storage/ovfstore.c */
extern const vr_verb vr_snapshot_verbs[]; /* vm_snapshot.c */
extern const vr_verb vr_volume_io_verbs[];
extern const vr_verb vr_net_verbs[];
extern const vr_verb vr_vm_exit_verbs[]; /* vm_exits.c */
extern const vr_verb vr_fence_verbs[];   /* fence.c */
