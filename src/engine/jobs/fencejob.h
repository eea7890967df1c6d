/* Fencing a host through its power management (docs/fencing.md): a job
 * that picks a proxy host (another up host of the same cluster first, then
 * of the same data center: RHV Technical Reference ch. 4), has that host's
 * agent run the fence agents (Host.fence) in their order, and, once the
 * host was powered off, sets its VMs down as host_fenced and restarts the
 * highly available ones elsewhere. */
#pragma once

#include "engine.h"

/* Accept fence_type (status, start, stop, restart) of host_id by user: a
 * pending job, one fence job per host at a time. VR_ERR_BAD_STATE when the
 * host has no power management enabled or is being fenced already. */
int vr_host_fence_submit(vr_engine *e, const char *host_id, const char *fence_type, const char *user,
                         char job_id[37], vr_error *err);

/* The automatic fence of a host its monitor lost (no user): soft (restart
 * its agent over SSH, softfence.h) first when soft, then, when hard (it has
 * power management) and the agent still does not answer, a restart
 * through a proxy. Same rules as vr_host_fence_submit otherwise. */
int vr_host_fence_auto_submit(vr_engine *e, const char *host_id, bool soft, bool hard, char job_id[37], vr_error *err);

/* Fence now, on the caller's thread (the automatic fencing of a host
 * monitor, or a job): 0 with the power state in power[8] ("on"/"off") and
 * what was done in detail, -1 with err. */
int vr_host_fence_run(vr_engine *e, const char *host_id, const char *fence_type, const char *user,
                      char power[8], char *detail, size_t len, vr_error *err);

/* A fenced host's VMs (powered off, or its kdump finished): surely not
 * running there; down as host_fenced, highest HA priority first, the HA
 * ones restarted elsewhere. hname names the host in the events. */
void vr_host_vms_fenced(vr_engine *e, const char *host_id, const char *hname);

/* Whether a power change of host_id is under way (a fence job that is not
 * a status query is pending or running): its monitor leaves the host's
 * status and VMs alone meanwhile, so a host that comes back during a
 * restart is not found "up" with its VMs gone (and restarted there) before
 * the fence job sets them down as host_fenced. */
bool vr_host_being_fenced(vr_engine *e, const char *host_id);

/* After an engine restart: a status job runs again; a power change whose
 * outcome is unknown fails (fencing twice is not harmless). False when the
 * job is not a fence job. */
bool vr_fence_job_resume(vr_engine *e, json_t *job);
