/* What this agent knows of its own SPM role: for each pool (data center)
 * whose SDM lease this process holds, the master domain and lease version.
 * spm.c sets it after sanlock grants the lease and clears it on release;
 * every structure-changing verb asks vr_spm_check first, so a host that is
 * not the SPM refuses with VR_ERR_NOT_SPM instead of racing the real one.
 *
 * In memory only, on purpose: sanlock releases the lease when this process
 * dies, so a restarted agent is not the SPM until SPM.start again. */
#pragma once

#include <stdbool.h>

#include "error.h"

#define VR_SPM_MAX_POOLS 16

/* Record that this agent holds the SPM lease of pool (master domain, lease
 * version). -ENOSPC if VR_SPM_MAX_POOLS pools are held already. */
int vr_spm_state_set(const char *pool, const char *master, long long lver);

/* Forget pool's SPM role (lease released or lost). */
void vr_spm_state_clear(const char *pool);

/* True and the lease version in *lver (may be NULL) if this agent is SPM of
 * pool; master (may be NULL, size >= 37) gets the master domain. */
bool vr_spm_state_get(const char *pool, char *master, long long *lver);

/* 0 if this agent is SPM of pool; else VR_ERR_NOT_SPM naming the pool and
 * what was refused (what, e.g. "create volume"). */
int vr_spm_check(const char *pool, const char *what, vr_error *err);

/* SPM jobs in flight: a structure-changing job (Volume.create, copy...)
 * calls vr_spm_job_begin before it starts and vr_spm_job_end when it ends,
 * so SPM.stop can refuse while any runs. begin fails like vr_spm_check
 * when this agent is not the SPM of pool. */
int vr_spm_job_begin(const char *pool, const char *what, vr_error *err);
void vr_spm_job_end(const char *pool);

/* Forget pool's SPM role unless SPM jobs of it are in flight: returns 0
 * when cleared (or not SPM), else the number of jobs (nothing changed).
 * Atomic with vr_spm_job_begin, so no job starts on a role being dropped. */
int vr_spm_state_clear_idle(const char *pool);

/* Number of SPM jobs of pool in flight (0 when not SPM). */
int vr_spm_jobs_running(const char *pool);
