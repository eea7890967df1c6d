/* The agent's own long work, as jobs a client can follow and cancel:
 * work that outlives the call that started it (today: VM.shutdown's wait
 * for the guest, then the forced power-off). Clients list and read them
 * (Job.list, Job.get), cancel them (Job.cancel) and, when subscribed,
 * receive Job.progress notifications. Not to be confused with a VM's job
 * (vm_jobs.h), which only keeps two changes of one VM from overlapping.
 *
 * Each job is also recorded on the host (job_store.h): an agent that
 * stopped while a job ran finds the record when it starts again and fails
 * the job as `interrupted` (its work stopped with the agent), so a client
 * following it learns that rather than losing it. Finished jobs are kept
 * for a while (32) so that their outcome can still be read. */
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

/* What an interruption of the job (the agent stopping under it) leaves
 * behind, for the job's detail after a restart: "volume V is left ILLEGAL
 * ...". Recorded at once. */
void vr_long_job_on_interrupt(vr_long_job *j, const char *detail);

/* What the job's work did to the world that a client must learn even if
 * the job's end is lost (VM.blockCopy: "pivoted" the moment libvirt
 * confirms the pivot): recorded on the host at once (fsync) before the
 * worker goes on, shown by Job.get/Job.list as "outcome", and kept when a
 * restarted agent fails the job as interrupted. "" clears it. */
void vr_long_job_set_outcome(vr_long_job *j, const char *outcome);

/* At start, before serving: read the records in dir (made if missing) back
 * as finished jobs, failing those that were running as interrupted. Jobs
 * are recorded there from then on. */
int vr_long_jobs_restore(vr_agent *a, const char *dir, vr_error *err);

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
