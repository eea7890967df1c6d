/* The disk move's steps that the offline move (diskmove.c) and the live
 * one (disklivemove.c) share. p is the job's params ({from, to, to_name,
 * alias, was, live?}); *spm the data center's SPM, looked up when NULL. */
#pragma once

#include <jansson.h>

#include "engine.h"
#include "jobs.h"

/* The disk row d as on another domain (a new reference). */
json_t *vr_disk_move_row_on(json_t *d, const char *domain);

/* The disk is whole on the target: one UPDATE names it (the step a
 * restarted job goes on from), then the source chain goes. */
int vr_disk_move_switch(vr_engine *e, const char *job_id, const char *disk_id, json_t *p, json_t **spm,
                        vr_error *err);

/* One step of a move, run while the disk is not on the target yet: it
 * ends with vr_disk_move_switch (0) or leaves the disk on its source. */
typedef int (*vr_disk_move_step)(vr_engine *e, const char *job_id, json_t *d, json_t *p, json_t **spm, vr_error *err);

/* A move job: the disk on the target already (a restart after the
 * switch): its source chain goes; else step. Then the disk is unlocked and
 * the job's end recorded; an engine stopping leaves the job to run again
 * at the next start. */
void vr_disk_move_job(vr_engine *e, const char *job_id, const char *disk_id, const char *user, vr_disk_move_step step);

/* The live move of a running VM's disk (disklivemove.c): a job function
 * (vr_job_fn), also the one a restarted engine runs again. */
void vr_disk_live_move_run(vr_engine *e, const char *job_id, const char *disk_id, const char *user);
