/* The disk move's steps that the offline move (diskmove.c) and the live
 * one (disklivemove.c) share. p is the job's params ({from, to, to_name,
 * alias, was, live?}); *spm the data center's SPM, looked up when NULL. */
#pragma once

#include <jansson.h>

#include "engine.h"
#include "jobs.h"

/* The disk is whole on the target: one UPDATE names it (the step a
 * restarted job goes on from), then the source chain goes. */
int vr_disk_move_switch(vr_engine *e, const char *job_id, const char *disk_id, json_t *p, json_t **spm,
                        vr_error *err);

/* After the switch: the source chain goes through the SPM; the disk is ok. */
int vr_disk_move_remove_source(vr_engine *e, const char *job_id, json_t *d, json_t *p, json_t **spm, vr_error *err);

/* Unlock the disk and record the job's end (rc as vr_dj_ended); frees spm.
 * An engine stopping leaves the job to run again at the next start. */
void vr_disk_move_end(vr_engine *e, const char *job_id, const char *disk_id, const char *user, json_t *p, json_t *spm,
                      int rc, vr_error *err);

/* The live move of a running VM's disk (disklivemove.c): a job function
 * (vr_job_fn), also the one a restarted engine runs again. */
void vr_disk_live_move_run(vr_engine *e, const char *job_id, const char *disk_id, const char *user);
