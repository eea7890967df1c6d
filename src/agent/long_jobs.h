/* The agent's own long work, as jobs a client can follow and cancel:
 * work that outlives the call that started it (today: VM.shutdown's wait
 * for the guest, then the forced power-off). Clients list and read them
 * (Job.list, Job.get), cancel them (Job.cancel) and, when subscribed,
 * receive Job.progress notifications. Not to be confused with a VM's job
 * (vm_jobs.h), which only keeps two changes of one VM from overlapping.
 *
 * Jobs live in memory: an agent restart forgets them (the work stops with
 * the agent). Finished jobs are kept for a while so that their outcome can
 * still be read. */
#pragma once

#include <stdbool.h>
#include <jansson.h>

#include "agent.h"

typedef struct vr_long_job vr_long_job;

/* Register a running job of `kind` (the verb that started it) on a VM and
 * announce it. The caller's worker owns it until vr_long_job_finish();
 * the registry frees it later. NULL if out of memory. */
vr_long_job *vr_long_job_new(vr_agent *a, const char *kind, const char *vm_uuid,
                             const char *vm_name, const char *detail);

/* The job's id (a UUID), valid until vr_long_job_finish(). */
const char *vr_long_job_id(const vr_long_job *j);

/* True once a client asked to cancel: the worker should stop and finish
 * with VR_JOB_CANCELLED. */
bool vr_long_job_cancel_requested(vr_long_job *j);

/* Progress 0-100 and what the job is doing now. A notification goes out
 * when the percentage crosses a multiple of 10. */
void vr_long_job_progress(vr_long_job *j, int percent, const char *detail);

enum vr_job_end { VR_JOB_SUCCEEDED, VR_JOB_FAILED, VR_JOB_CANCELLED };

/* The worker is done; j must not be used afterwards. Announced. */
void vr_long_job_finish(vr_long_job *j, enum vr_job_end end, const char *detail);

/* The agent is stopping: no notification is sent after this returns. */
void vr_long_jobs_stop(void);

/* Send another notification about a job's work (e.g. VM.migrate's
 * "Migration" VM.event) under the same rule: dropped once stopping, since
 * a job's thread may outlive the server. params is stolen. Only after
 * vr_long_job_new() (which names the agent). */
void vr_long_jobs_notify(const char *method, json_t *params);
