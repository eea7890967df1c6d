/* Leftover volumes on storage, swept by each new SPM (docs/storage.md
 * "Leftovers"). A volume is written ILLEGAL first and marked LEGAL only when
 * complete, and the engine records a disk (its image) before any volume of
 * it is made. So an ILLEGAL volume whose image no disk row names is what an
 * operation left when it was cut off in a way nobody could clean up: a copy
 * whose SPM died (the engine forgets the copy's disk, the dead agent cannot
 * remove its half), an upload whose disk row was removed meanwhile.
 *
 * When a data center gets an SPM (and at the engine's first round with it,
 * and every grace period after), the storage thread asks that SPM for every
 * volume of the data center's active domains and deletes, through the SPM,
 * each one that is
 *   - ILLEGAL with readable metadata (a corrupt .meta is never deleted:
 *     it is reported and left for a person),
 *   - of an image no disk row names and no unfinished job mentions, or a
 *     layer of a known image that no disk (its leaf), snapshot, stateless
 *     VM or unfinished job names and on which no volume is built (a
 *     snapshot layer whose SPM died before the engine recorded it),
 *   - older than --storage-orphan-grace-s (default 600 s): an agent that
 *     lost its engine may still be writing a young one.
 * LEGAL volumes are never swept: an unknown LEGAL image is data (an import
 * finds it). Each removal is an event naming domain, image and volume. */
#pragma once

#include <jansson.h>

#include "engine.h"

/* One round for dc (a row of vr_store_dcs_with_master): sweeps when dc's SPM
 * (host, lease version) differs from the one recorded in swept (an object
 * the caller owns, data center id -> {key: "host:lver", at}), and again
 * once --storage-orphan-grace-s (at least 60 s) passed since the last. */
void vr_orphans_round(vr_engine *e, json_t *dc, json_t *swept);

/* VM leases whose VM is gone or names another domain, removed through
 * dc's SPM from each active data domain (jobs/vmlease.h); called when a
 * sweep is wanted. */
void vr_orphans_leases_round(vr_engine *e, json_t *dc);
