/* Removing a host with cleaning it (docs/operations.md "Removing a
 * host"): DELETE /api/hosts/ID?clean=true[&force=true] is a persisted job
 * that logs in to the host with the engine's SSH key (checked against the
 * pinned host key), stops and purges vireo-agent and removes its key,
 * certificate and configuration (deploy/hostsetup.h vr_setup_clean), then
 * forgets the host and revokes its certificate. A clean that fails keeps
 * the host (the job fails and says why) unless force is set: then the host
 * goes anyway and an event says what was left on it. */
#pragma once

#include "engine.h"

/* Start the job for host row (in maintenance, checked by the caller). It
 * needs the host's SSH access (its ssh member as stored); one deploy or
 * remove job per host at a time (VR_ERR_BAD_STATE otherwise). */
int vr_host_remove_submit(vr_engine *e, json_t *row, bool force, const char *user, char job_id[37], vr_error *err);

/* Whether a remove job of host_id is pending or running (activation and
 * deploys wait for it). */
bool vr_host_remove_busy(vr_engine *e, const char *host_id);

/* After an engine restart: the job runs again from its first step (every
 * step can run twice). False when job is not a host remove job. */
bool vr_host_remove_resume(vr_engine *e, json_t *job);
