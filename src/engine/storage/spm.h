/* SPM election, one data center at a time (RHV TR ch. 2.9), run by the
 * storage thread (storagemon.c):
 *
 *   1. a data center with an SPM: ask that host (SPM.status); still "SPM"
 *      -> nothing to do. Not up, not answering, or not SPM -> the role is
 *      free as far as the engine knows (datacenters.spm_host_id = NULL).
 *   2. no SPM: try the Up hosts with spm_priority >= 0, the last SPM first
 *      (its id and lease version are in the data center row, written back
 *      to the master domain's metadata by the agent), then by priority,
 *      random among equals; a host that fails is skipped for the rest of
 *      the round, and the list is new every round.
 *
 * The engine never decides on its own that a lost SPM is gone: a new
 * host's SPM.start succeeds only when sanlock grants the SDM lease, i.e.
 * when the old holder released it or its host id lease expired. Two SPMs
 * at once would need sanlock to grant one lease twice. */
#pragma once

#include <jansson.h>

#include "engine.h"

/* One round for dc (a row of vr_store_dcs_with_master), under the
 * election lock. SPM.start names the data center's newest master version
 * (datacenters.master_version): the agent refuses a master below it. */
void vr_spm_round(vr_engine *e, json_t *dc);

/* dc lost its last attached domain (a row of vr_store_dcs_without_master):
 * its SPM gives the lease back (SPM.stop) and the role is cleared. */
void vr_spm_release(vr_engine *e, json_t *dc);

/* Held by a round and by a master reconstruction (jobs/sdreconstruct.c):
 * the two never ask hosts at once. */
void vr_spm_election_lock(void);
void vr_spm_election_unlock(void);
