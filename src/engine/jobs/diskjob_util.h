/* Pieces the disk jobs share (diskjobs.c: create, delete, extend;
 * diskcopy.c: copy). Disk rows are those of vr_storage_disk_get. */
#pragma once

#include <stdbool.h>
#include <jansson.h>

#include "engine.h"
#include "jobs.h"

/* The job's params (a new reference; an empty object when it has none). */
json_t *vr_dj_params(vr_engine *e, const char *job_id);

/* {domain, image, volume} of a disk row (new reference). */
json_t *vr_dj_vol_ref(json_t *d);

/* A domain (id, name, status, datacenter_id) that takes new volumes now:
 * active, in a data center with an SPM; -1 with a 409-kind err if not. */
int vr_dj_domain_ready(vr_engine *e, json_t *sd, vr_error *err);

/* Follow the agent's job agent_job on host: 0 when it succeeded, 1
 * cancelled, -1 failed (err says why; VR_ERR_UNAVAILABLE when the engine
 * stops). Progress maps into lo..hi of the engine job. */
int vr_dj_follow(vr_engine *e, const char *job_id, json_t *host, const char *agent_job, int lo, int hi,
                 vr_error *err);

/* Call verb (params stolen) on the SPM; an answer naming an agent job
 * ("job") is recorded in the job's params (agent_job, agent_host) and
 * followed to its end. Returns as vr_dj_follow. */
int vr_dj_call_spm(vr_engine *e, const char *job_id, json_t *spm, const char *verb, json_t *params, int lo, int hi,
                   vr_error *err);

/* The running VM that uses the disk (a new row: id, name, its host's
 * host_id, host, address, port, and the disk's target), or NULL. */
json_t *vr_dj_running_user(vr_engine *e, const char *disk_id);

/* Read the volume's size on storage and legality into the disk row: its
 * status becomes status_if_legal, or illegal. */
void vr_dj_refresh(vr_engine *e, json_t *host, json_t *d, const char *status_if_legal);

/* The disk row of disk_id and, in *spm, its data center's SPM (waited
 * for); NULL (and *spm NULL) with err when either is missing. */
json_t *vr_dj_start(vr_engine *e, const char *job_id, const char *disk_id, json_t **spm, vr_error *err);

/* Record the job's end (rc 0 finished, 1 cancelled, else failed with err)
 * with an event naming `what`. */
void vr_dj_ended(vr_engine *e, const char *job_id, const char *user, const char *disk_id, const char *what, int rc,
                 vr_error *err);

/* 409 while a job holds the disk (a delete during its copy). */
int vr_dj_not_locked(json_t *disk, vr_error *err);

/* Lock disk and record job_id (action, desc, params stolen; a copy's
 * params carry its new row) in one transaction, then run fn. */
int vr_dj_submit(vr_engine *e, json_t *disk, const char *action, const char *desc, json_t *params,
                 const char *user, char job_id[37], vr_job_fn fn, vr_error *err);

/* After an engine restart: follow the copy job's agent job again. */
void vr_disk_copy_resume(vr_engine *e, const char *job_id, const char *disk_id, const char *user);

/* Delete the disk row d's chain from its leaf (d.volume_id) down through
 * the SPM, on d.storage_domain; wiped first with d.wipe_after_delete. A
 * volume already gone ends the walk (a delete asked twice). */
int vr_dj_delete_chain(vr_engine *e, const char *job_id, json_t *spm, json_t *d, vr_error *err);

/* After an engine restart: run the move job again from where storage and
 * the disk row say it is. */
void vr_disk_move_resume(vr_engine *e, json_t *job);
