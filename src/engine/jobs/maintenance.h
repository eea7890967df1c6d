/* Host maintenance as RHV does it (docs/availability.md "Maintenance"):
 * `deactivate` moves the host to preparingformaintenance and starts this
 * job, which migrates the host's VMs away (one migrate job each through
 * vmmigrate.c, all submitted at once: beyond the host's outgoing limit
 * they wait in the engine's queue, migqueue.h; destinations chosen by the
 * scheduler), gives up the SPM role if the host holds it,
 * and moves the host to maintenance once no VM is on it. `activate` (or
 * a cancel of the job) ends a maintenance in progress. */
#pragma once

#include <stdbool.h>

#include "engine.h"

/* The order VMs leave the host: a qsort comparator over (json_t *) vms
 * rows (id, name, memory_mib, status). This is the hook for evacuation
 * priorities: highly available VMs first (higher HA priority first),
 * then the smaller VMs, as they free a migration slot sooner, then by
 * name. The migrate jobs are submitted in this order, so the queue of
 * the host's outgoing migrations (migqueue.h) keeps it. */
int vr_maint_evacuation_cmp(const void *a, const void *b);

/* Check and start the maintenance of host (a hosts row). Refusals change
 * nothing: VR_ERR_BAD_STATE when the host is in maintenance, when a
 * maintenance of it is already running, or naming the VMs on it that
 * cannot migrate (their placement policy is pinned or user_migratable).
 * A host preparing for maintenance whose last job ended (a migration
 * failed) gets a new job: a retry. On success the host is
 * preparingformaintenance and job_id runs. */
int vr_maint_submit(vr_engine *e, json_t *host, const char *user, char job_id[37], vr_error *err);

/* True while a maintenance job of host_id is pending or running (it lets
 * go of the host's storage itself; the host monitor waits for it). */
bool vr_maint_running(vr_engine *e, const char *host_id);

/* After an engine restart: resume r (a jobs row) if it is a maintenance.
 * True when it was one. */
bool vr_maint_resume(vr_engine *e, json_t *r);
