/* Stateless VMs (docs/storage.md "Pools"): every run starts from the same
 * disks. At each start the VM's engine disks get a new throw-away qcow2
 * layer (made by the SPM) and the VM runs on it; the next start - or a
 * release from its pool - removes it, so what the guest wrote is gone.
 * Both run on job threads (they call the SPM). */
#pragma once

#include "engine.h"

/* Before a start: discard the last run's layers, then, for a stateless VM,
 * give each engine disk a new layer. job_id: the calling job (its cancel
 * stops the SPM wait). */
int vr_stateless_prepare(vr_engine *e, const char *job_id, const char *vm_id, vr_error *err);

/* A stopped VM's layers go; its disks are their base volumes again. */
int vr_stateless_discard(vr_engine *e, const char *job_id, const char *vm_id, vr_error *err);
