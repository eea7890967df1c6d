/* The agent's long jobs on the host's disk (docs/agent-api.md, "Job
 * verbs"): one small JSON file per job, <dir>/<job id>.json, replaced
 * atomically (write, fsync, rename, fsync the directory) when the job
 * starts, crosses a tenth of its progress and ends. A restarted agent
 * reads them back, so a client following a job learns how it ended even
 * when the agent stopped under it (long_jobs.c marks those interrupted). */
#pragma once

#include <jansson.h>

#include "error.h"

/* Use dir (absolute; made 0700 if missing) for the records. Called once
 * at start, before any job; without it nothing is written. */
int vr_job_store_open(const char *dir, vr_error *err);

/* Write rec (an object with a string "id", a UUID) as that job's record.
 * Failures are logged: a job does not fail for its record. */
void vr_job_store_save(json_t *rec);

/* Forget job id's record. */
void vr_job_store_remove(const char *id);

/* Every record found (new reference: an array of objects); files that are
 * not valid records are logged and skipped. */
json_t *vr_job_store_load(void);
