/* Memory volumes: a VM's saved memory on a storage domain (volume_memory.c,
 * docs/storage.md "Memory volumes"). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "agent.h"
#include "volume.h"

/* The data file of memory volume r, which must be LEGAL (a complete save,
 * to restore from) or, with legal=false, ILLEGAL (waiting to be saved
 * into). Refuses a volume that is not a memory volume. */
int vr_memory_volume_path(vr_agent *a, const vr_volume_ref *r, bool legal, char *path, size_t size, vr_error *err);
