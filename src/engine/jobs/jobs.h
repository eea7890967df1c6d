/* Jobs: long operations, persisted with their steps, progress and a cancel
 * request, so an engine restart loses none (each action's own rule resumes
 * or rolls it back). Status machine:
 *   pending -> running -> finished | failed | cancelled
 * (pending -> cancelled directly when cancelled before it ran). */
#pragma once

#include "engine.h"

typedef enum {
    VR_JOB_PENDING,
    VR_JOB_RUNNING,
    VR_JOB_FINISHED,
    VR_JOB_FAILED,
    VR_JOB_CANCELLED,
    VR_JOB_NSTATUS
} vr_job_status;

/* The statuses' names, indexed by vr_job_status. */
extern const char *const vr_job_status_names[VR_JOB_NSTATUS];

/* Ask a pending or running job to stop: it stops at its next cancel point
 * (a step boundary). VR_ERR_BAD_STATE when it has ended or a cancel is
 * already asked for; VR_ERR_NOT_FOUND when there is no such job. */
int vr_job_cancel(vr_engine *e, const char *job_id, const char *user, vr_error *err);

/* Whether a cancel was asked for job_id (a job's own thread asks this at
 * its cancel points). */
bool vr_job_cancel_requested(vr_engine *e, const char *job_id);

/* Set a job's status and detail and keep its steps: a new detail while
 * running starts a step; a final status closes the last one. Only the
 * job's own thread writes its row. */
void vr_job_update(vr_engine *e, const char *job_id, const char *status, const char *detail);

/* Keep job_id's description also as a message id and arguments, for its
 * readers' languages: desc as this thread's vr_i18n_format wrote it (or a
 * phrase of the catalog). Call right after inserting the job's row. */
int vr_job_describe(vr_engine *e, const char *job_id, const char *desc, vr_error *err);

/* Run fn(e, job_id, object_id, user) on a thread of its own, counted for
 * an orderly shutdown. A job that cannot get a thread stays pending: the
 * next engine start resumes it. */
typedef void (*vr_job_fn)(vr_engine *e, const char *job_id, const char *object_id, const char *user);
void vr_job_spawn(vr_engine *e, const char *job_id, const char *object_id, const char *user, vr_job_fn fn);

/* Say how far a running job is (0-100). */
void vr_job_progress(vr_engine *e, const char *job_id, int percent);

/* Store params (borrowed) as the job's params, whole (what a resumed run
 * reads back); a failed write is left for the next one. */
void vr_job_params_store(vr_engine *e, const char *job_id, json_t *params);

/* Call each(e, job) for every pending or running job, oldest first (job:
 * id, action, object_type, object_id, user_name, status, params). */
void vr_jobs_each_unfinished(vr_engine *e, void (*each)(vr_engine *e, json_t *job));
