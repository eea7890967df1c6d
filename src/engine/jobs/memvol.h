/* Memory volumes seen from the engine (docs/storage.md "Memory volumes"):
 * a VM's saved memory on a storage domain, described by
 * {domain, image, volume, datacenter} (vms.memory_json, snapshots.memory_json,
 * job params). Used by the suspend job, the snapshot jobs and the start job;
 * every call goes to the data center's SPM. */
#pragma once

#include "engine.h"

/* {domain, image, volume} of m, as the agent's verbs take it (new). */
json_t *vr_memvol_ref(json_t *m);

/* A new memory volume's description on domain sd_id of data center dc_id
 * (fresh image and volume UUIDs; new reference). */
json_t *vr_memvol_plan(const char *sd_id, const char *dc_id);

/* Have spm make m as an ILLEGAL memory volume big enough for memory_mib of
 * guest memory (Volume.createMemory). */
int vr_memvol_create(vr_engine *e, json_t *spm, json_t *m, long long memory_mib, const char *desc, vr_error *err);

/* Have spm mark m LEGAL, which it does only over a complete save image
 * (Volume.sealMemory): VR_ERR_BAD_STATE when the image is incomplete. */
int vr_memvol_seal(vr_engine *e, json_t *spm, json_t *m, vr_error *err);

/* Remove m through spm; best effort (a volume already gone is fine, a
 * failure is logged for job_id). NULL m or spm: nothing. */
void vr_memvol_drop(vr_engine *e, json_t *spm, json_t *m, const char *job_id);
