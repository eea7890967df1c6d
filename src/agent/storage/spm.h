/* The SPM role (docs/storage.md, "SPM and leases on the agent"): holding
 * the sanlock resource SDM in the master domain's dom_md/leases. The agent
 * registers with sanlock once (lazily) and acquires leases on that
 * registration, so the lease is this process's: if it dies, sanlock frees
 * it at once; if the whole host dies, other hosts get it only after sanlock
 * presumes the owner dead. Sanlock, not the engine, keeps SPMs unique. */
#pragma once

#include "agent.h"
#include "error.h"

/* Become SPM of pool on master as host_id: the master's lockspace must be
 * joined with that host id, its POOL_UUID empty or pool, its class Data.
 * Idempotent. *lver gets the lease version, *version the master's
 * MASTER_VERSION. VR_ERR_LEASE_HELD (naming the owner's host id) when
 * another live host holds it; VR_ERR_BAD_STATE when the master is demoted
 * (Regular) or its MASTER_VERSION is below min_version (the pool's newest
 * known: a newer master exists). */
int vr_spm_start(const vr_agent *a, const char *pool, const char *master, int host_id, long long min_version,
                 long long *lver, long long *version, vr_error *err);

/* This agent's role in pool ("SPM", "Contending", "Free") and the lease on
 * master's storage: owner host id (-1 when free) and version. */
int vr_spm_status(const vr_agent *a, const char *pool, const char *master, const char **status,
                  long long *spm_id, long long *lver, vr_error *err);

/* Release pool's SPM lease. Not SPM: fine. VR_ERR_BAD_STATE while SPM jobs
 * of the pool run (vr_spm_jobs_running). */
int vr_spm_stop(const vr_agent *a, const char *pool, vr_error *err);

/* As SPM of pool on master `from`, move the master role to data domain
 * `to` (attached, its lockspace joined as host_id): acquire SDM on `to`,
 * write it Master with a master version above both, write `from` Regular,
 * release SDM on `from`. Idempotent: already SPM on `to` just demotes
 * `from` again. *version and *lver get the new master version and lease
 * version. VR_ERR_NOT_SPM when this host is not the SPM of pool. */
int vr_spm_move_master(const vr_agent *a, const char *pool, const char *from, const char *to, int host_id,
                       long long *version, long long *lver, vr_error *err);

/* Without an SPM, make data domain `to` of pool the master
 * (reconstructMaster: the old master `from` lost with its SPM): write it
 * ROLE=Master, MASTER_VERSION=version; `from`, if still readable here,
 * Regular. Refused (VR_ERR_BAD_STATE) while this host is SPM of pool,
 * when `to` is not a data domain of pool, or when `to`'s or a readable
 * `from`'s MASTER_VERSION is not below version. Idempotent: `to` already
 * Master at version is done. The caller (the engine) has made sure no
 * host can be SPM on `from`; SPM.start on `to` follows. */
int vr_spm_reconstruct_master(const vr_agent *a, const char *pool, const char *from, const char *to,
                              long long version, vr_error *err);
