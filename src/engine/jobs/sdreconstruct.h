/* Reconstructing a lost master without an SPM (docs/storage.md "A lost
 * master"), a step of the movemaster job (sdmaster.c). */
#pragma once

#include <jansson.h>

#include "engine.h"

/* With the master `from` of the move job's params p lost and no SPM: when
 * no host can be SPM on `from` (every Up host answers, none SPM or
 * contending; `from`'s SDM lease unreadable, free or held by a dead host;
 * the last SPM said Free or is dead in sanlock's eyes), has the first SPM
 * candidate write `to` Master with a master version above every one known
 * (SPM.reconstructMaster) and switches the rows (`to` the master, `from`
 * inactive and regular, datacenters.master_version), under the election
 * lock. Returns the new master version, or 0 with why saying what blocks
 * (asked again later). */
long long vr_sd_master_reconstruct(vr_engine *e, json_t *p, char *why, size_t len);
