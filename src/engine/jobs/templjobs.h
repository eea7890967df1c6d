/* Template jobs (docs/storage.md "Templates", RHV TR ch. 7): make a
 * template from a stopped VM (each disk's whole chain collapsed by the SPM
 * into one read-only template volume), remove one, and make a VM from one,
 * thin (a qcow2 layer over each template volume) or clone (independent
 * copies). Rows and their job are recorded together; a failure removes what
 * the job made and puts the source back. */
#pragma once

#include <stdbool.h>

#include "engine.h"

/* Template `id` from body {name, vm, description?, base_template?,
 * version_name?}: the VM must be down with its disks ok. */
int vr_template_create_submit(vr_engine *e, const char *id, json_t *body, const char *user, char job_id[37],
                              vr_error *err);

/* Remove template row t (refused while thin VM disks or sub-versions use it). */
int vr_template_remove_submit(vr_engine *e, json_t *t, const char *user, char job_id[37], vr_error *err);

/* A new VM from template row t: body {name, cluster_id?, description?,
 * clone?, version? ("latest": the newest sub-version of base t)}. The VM's
 * id goes to vm_id. */
int vr_template_newvm_submit(vr_engine *e, json_t *t, json_t *body, const char *user, char job_id[37],
                             char vm_id[37], vr_error *err);

/* After an engine restart: an unfinished template job is failed and what
 * it made removed; false when job is not one. */
bool vr_template_job_resume(vr_engine *e, json_t *job);
