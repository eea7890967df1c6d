/* Disk jobs (docs/storage.md "Engine"): create, delete, copy and extend a
 * disk's volume through the SPM of its domain's data center (extend of a
 * disk a running VM uses: VM.resizeDisk on the VM's host). The disk is
 * locked while its job runs; a failure puts it back. */
#pragma once

#include <stdbool.h>

#include "engine.h"

/* Record disk `id` (locked) from a checked create body and start the job
 * that creates its volume. The domain must be active with an SPM. */
int vr_disk_create_submit(vr_engine *e, const char *id, json_t *body, const char *user, char job_id[37],
                          vr_error *err);

/* Delete the disk row's volume, then the row; refused while a VM uses it
 * or a job holds it. */
int vr_disk_delete_submit(vr_engine *e, json_t *disk, const char *user, char job_id[37], vr_error *err);

/* Copy the disk to active domain dst_sd of the same data center as a new
 * disk (same alias); the job follows the agent's copy job. */
int vr_disk_copy_submit(vr_engine *e, json_t *disk, const char *dst_sd, const char *user, char job_id[37],
                        vr_error *err);

/* Move the disk (of down VMs only, or floating) to active data domain
 * dst_sd of the same data center: its chain copied collapsed by the SPM,
 * the disk switched, the source removed. 409 while a VM runs with it. */
int vr_disk_move_submit(vr_engine *e, json_t *disk, const char *dst_sd, const char *user, char job_id[37],
                        vr_error *err);

/* A disk in doubt after a live move (diskresolve.c; docs/storage.md "A
 * live move in doubt"): -1 with a 409 naming the disk (a row with id,
 * alias, status) and the resolve action when its status is indoubt, else
 * 0. vr_vm_disks_doubt_refuse: the same for each engine disk of a VM spec. */
int vr_disk_doubt_refuse(json_t *disk, vr_error *err);
int vr_vm_disks_doubt_refuse(vr_engine *e, json_t *spec, vr_error *err);

/* Settle a disk in doubt (its VMs down): keep its copy on domain keep
 * (its storage_domain or doubt_storage_domain), the SPM removes the other,
 * the disk ok again. vr_disk_resolve_resume runs it again after an
 * engine restart (every step may run twice). */
int vr_disk_resolve_submit(vr_engine *e, json_t *disk, const char *keep, const char *user, char job_id[37],
                           vr_error *err);
void vr_disk_resolve_resume(vr_engine *e, json_t *job);

/* Grow the disk to size bytes. */
int vr_disk_extend_submit(vr_engine *e, json_t *disk, long long size, const char *user, char job_id[37],
                          vr_error *err);

/* Whether a disk may be used by VM vm_id now: it exists, is not locked
 * or illegal, and is not used by another VM unless shareable. A new
 * reference to its row (with storage_domain, its domain's status) or NULL
 * with err. */
json_t *vr_disk_for_vm(vr_engine *e, const char *disk_id, const char *vm_id, vr_error *err);

/* Restart rule of an unfinished disk job (called by vr_storage_job_resume). */
bool vr_disk_job_resume(vr_engine *e, json_t *job);
