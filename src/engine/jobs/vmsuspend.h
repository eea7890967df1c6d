/* Suspend to disk (vmsuspend.c, docs/storage.md "Memory volumes"): a job
 * that saves a running VM's memory to a memory volume on a storage domain;
 * the VM is then `suspended` and its next start restores it on any host of
 * its cluster (jobs/vmstart.c). */
#pragma once

#include <stdbool.h>

#include "engine.h"

/* Suspend VM row vm (id, name, status, host_id): 409 unless it is up or
 * paused on a host with no other job, and its data center has an active
 * data domain; records the job with the VM savingstate, then starts it. */
int vr_vm_suspend_submit(vr_engine *e, json_t *vm, const char *user, char job_id[37], vr_error *err);

/* Stop the suspended VM row vm: it is down at once (its next start
 * boots afresh) and a job removes its memory volume through the SPM. */
int vr_vm_discard_memory_submit(vr_engine *e, json_t *vm, const char *user, char job_id[37], vr_error *err);

/* After an engine restart: settle an unfinished suspend (a save asked for
 * is waited for and sealed or undone); false when job is not one (a
 * discard_memory job is run again). */
bool vr_vm_suspend_resume(vr_engine *e, json_t *job);
