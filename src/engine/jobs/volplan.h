/* Volume plans: the volumes a storage job is to make, each
 * {disk, volume, domain, src_disk, src_volume, size, src_domain?, parent?}
 * (parent: the entry is a qcow2 layer over that volume of its image, made
 * by an earlier entry; the copy holds src's own layer), recorded in the job's
 * params before the SPM is asked, so a failure or a restart knows what to
 * remove. Used by the template jobs (a template from a VM, a VM from a
 * template) and the clone jobs (a VM from a VM or one of its snapshots). */
#pragma once

#include <stdbool.h>

#include "engine.h"

/* {domain, image, volume}: a new reference. */
json_t *vr_volplan_ref(const char *domain, const char *image, const char *volume);

/* The SPM host of the data center of domain sd_id (waited for up to 60 s). */
json_t *vr_volplan_spm(vr_engine *e, const char *job_id, const char *sd_id, vr_error *err);

/* Append to plan a new disk and volume (fresh UUIDs) made from disk (a row
 * of vr_volplan_disk_row) starting at its volume src_volume. */
void vr_volplan_append(json_t *plan, json_t *disk, const char *src_volume);

/* A volume (ref: {domain, image, volume}, borrowed) that an earlier run
 * asked spm to make without noting the answer (the engine stopped in
 * between): 1 whole (LEGAL) on storage; 0 to make - not there, or an
 * ILLEGAL leftover with no copy running (removed here: a plan's volumes
 * are its own) - or, with agent_job set, the SPM's Volume.copy into it
 * still running, to follow (never started twice); -1 (err). */
int vr_volplan_made_before(vr_engine *e, json_t *spm, json_t *ref, char agent_job[64], vr_error *err);

/* vr_volplan_run's answer when the engine stops under it: nothing was
 * changed or opened, the job stays running and the next start resumes it
 * (each plan entry notes how far it got: asked, agent_job/agent_host,
 * made). The caller returns at once. */
#define VR_VOLPLAN_STOPPED 2

/* Make every volume of plan (the job's params.plan) - copies of src
 * followed to its chain's end (flattened, qcow2), or with thin qcow2
 * layers over template volumes - or none (a failure removes what was
 * made); then, in a transaction it leaves open for the caller's own row
 * changes (the caller commits), the plan's disks ok, or gone. 0, -1 with
 * err, or VR_VOLPLAN_STOPPED. A resumed job's run picks up where the last
 * one stopped: a copy under way is followed again, never started twice. */
int vr_volplan_run(vr_engine *e, const char *job_id, json_t *plan, bool thin, vr_error *err);

/* The job's params (a new reference; {} when unreadable), and the run of
 * its params.plan for the new VM new_id (clones, imports): the VM down
 * when every volume was made, else gone with its MACs; the transaction
 * stays open for the caller (who commits). step: the job's detail.
 * VR_VOLPLAN_STOPPED as vr_volplan_run (nothing open). */
json_t *vr_volplan_job_params(vr_engine *e, const char *job_id);
int vr_volplan_run_vm(vr_engine *e, const char *job_id, json_t *params, const char *new_id, const char *step,
                      vr_error *err);

/* A VM definition for new disks: engine disks swapped for the plan's,
 * device addresses and NIC MACs dropped (the new VM gets its own). */
json_t *vr_volplan_spec(json_t *spec, json_t *plan);

/* Record disk id (volume vol, status locked) like src (a disk row): a
 * template's disk when tmpl_id, a thin layer over parent_disk when given. */
int vr_volplan_insert_disk(vr_engine *e, json_t *src, const char *id, const char *vol, const char *tmpl_id,
                           const char *parent_disk, vr_error *err);

/* The disk row id as plans read it (storage_domain, provisioned_size...). */
/* A new VM's quota (body.quota, or its data center's only one) takes the
 * VM's vCPUs and memory (sizes: a row with vcpus and memory_mib) and the
 * provisioned size of each disk of the plan, under vr_quota_lock held by
 * the caller until the rows are in (quota/quota.h). quota gets its id. */
int vr_volplan_take_quota(vr_engine *e, const char *user, json_t *body, json_t *sizes, const char *cluster,
                          json_t *plan, char quota[37], vr_error *err);

/* The planned disk counts against quota ("" none), in the caller's transaction. */
int vr_volplan_disk_quota(vr_engine *e, const char *disk_id, const char *quota, vr_error *err);

json_t *vr_volplan_disk_row(vr_engine *e, const char *id, vr_error *err);

/* End job_id with an event on (type, id) saying what was done or why not. */
void vr_volplan_ended(vr_engine *e, const char *job_id, const char *user, const char *type, const char *id,
                      const char *what, int rc, vr_error *err);
