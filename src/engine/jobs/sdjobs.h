/* Storage domain jobs (docs/storage.md "Engine"): create (connect and
 * format, or find and import), attach to a data center, detach. Each
 * records its row change and its job in one transaction, then talks to
 * hosts on a job thread; a failure puts the domain back as it was. */
#pragma once

#include <stdbool.h>

#include "engine.h"
#include "jobs.h"

/* Insert a job row (pending) for object_type/object_id inside the
 * caller's transaction; params (may be NULL) is borrowed. */
int vr_storage_job_insert(vr_engine *e, const char *job_id, const char *action, const char *object_type,
                          const char *object_id, const char *desc, json_t *params, const char *user, vr_error *err);

/* The end of a job submit inside the caller's transaction: record the job
 * (when rc is still 0), commit and start run; rolls back and returns -1 on
 * any failure. params is stolen. */
int vr_storage_job_submit(vr_engine *e, int rc, const char *job_id, const char *action, const char *object_type,
                          const char *object_id, const char *desc, json_t *params, const char *user, vr_job_fn run,
                          vr_error *err);

/* Record domain `id` (locked) from a checked create body and start the job
 * that connects body.host to it and formats it (or, with body.import,
 * finds it and reads its disks back). */
int vr_sd_create_submit(vr_engine *e, const char *id, json_t *body, const char *user, char job_id[37],
                        vr_error *err);

/* Attach the unattached domain row sd to data center dc_id: master if the
 * data center has none; the job waits for the SPM and has it write the
 * pool into the domain. VR_ERR_BAD_STATE / VR_ERR_CONFLICT when refused. */
int vr_sd_attach_submit(vr_engine *e, json_t *sd, const char *dc_id, const char *user, char job_id[37],
                        vr_error *err);

/* Detach the domain row sd (in maintenance) from its data center through
 * its SPM. */
int vr_sd_detach_submit(vr_engine *e, json_t *sd, const char *user, char job_id[37], vr_error *err);

/* Remove the unattached domain row sd from storage: lock it, then a job
 * has host_id (NULL: any up host) connect and Storage.remove it, and
 * deletes its rows (and its disks'); a failure puts it back unattached. */
int vr_sd_remove_submit(vr_engine *e, json_t *sd, const char *host_id, const char *user, char job_id[37],
                        vr_error *err);

/* Wait (polling each second, up to limit_s, honouring a cancel of job_id)
 * for data center dc_id to have an SPM host: a new host row or NULL with
 * err set. */
json_t *vr_storage_wait_spm(vr_engine *e, const char *job_id, const char *dc_id, int limit_s, vr_error *err);

/* After an engine restart: an unfinished storage job (domain or disk) is
 * failed with a reason and its object put back; false when not one. */
bool vr_storage_job_resume(vr_engine *e, json_t *job);
