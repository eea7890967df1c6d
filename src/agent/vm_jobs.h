/* Per-VM jobs: at most one operation changes a given VM at a time.
 *
 * This is libvirt's own model (a job per domain), kept in the agent so
 * that a caller whose VM is busy gets a prompt, clear refusal instead of
 * queuing behind a libvirt call that may never return (a hung QEMU keeps
 * its monitor command, and with it the job, forever). Jobs of different
 * VMs never wait for each other. The table holds no lock while any job
 * runs: it is only consulted and updated under a short mutex.
 *
 * VM.destroy deliberately takes no job: it is the way out of a hung VM. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "agent.h"

/* How long a verb waits for the VM's current job before giving up with
 * VR_ERR_BAD_STATE. Long enough for ordinary jobs (a hot unplug waits
 * ~5 s for the guest), far below libvirt's own 30 s job wait. */
#define VR_VM_JOB_WAIT_MS 10000

/* Look up the VM named by params.uuid (as vr_dom_lookup) and begin a job
 * called `job` (the verb name) on it, waiting up to VR_VM_JOB_WAIT_MS for
 * a running one. On success the caller owns *out and must call
 * vr_vm_job_end_free(*out) when done. Fails with VR_ERR_BAD_STATE
 * "VM NAME (UUID) is busy with JOB ..." when the wait times out, or when
 * the agent is stopping. */
int vr_vm_job_begin_lookup(vr_agent *a, json_t *params, const char *job, virDomainPtr *out,
                           vr_error *err);

/* End the job begun on dom and free the domain reference. */
void vr_vm_job_end_free(virDomainPtr dom);

/* The same by UUID, for callers that have no domain yet. vm_name only
 * names the VM in messages. */
int vr_vm_job_begin(const char *uuid, const char *vm_name, const char *job, vr_error *err);
void vr_vm_job_end(const char *uuid);

/* Does a job of the VM run, or wait its turn? (VM.get's job_active.) */
bool vr_vm_job_pending(const char *uuid);

/* The agent is stopping: waiters give up at once and new jobs are refused.
 * Jobs already running finish (or not) on their own. */
void vr_vm_jobs_stop(void);
