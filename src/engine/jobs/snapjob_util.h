/* What every snapshot job needs (jobs/snapjobs.c): the job's state, the VM
 * and its hosts, the disks' leaves and the snapshot rows. The chain's shape
 * lives on the storage domain (each volume's PUUID); the database says
 * which volume each snapshot owns for each disk ({disk id: volume id}) and
 * which is each disk's leaf (disks.volume_id). All functions that fail set
 * j->err and return -1 (or NULL). */
#pragma once

#include <stdbool.h>

#include "engine.h"

typedef struct snap_job {
    vr_engine *e;
    const char *job_id, *vm_id, *user;
    json_t *params; /* the job's params_json, written back by vr_sj_save_params */
    json_t *vm;     /* id, name, status, host_id, memory_mib, vcpus, spec */
    json_t *spm, *host; /* host rows, found when first needed */
    json_t *devices;    /* the running VM's devices as its host reported them, once */
    vr_error err;
} snap_job;

/* A string member of a row, "" when absent. */
const char *vr_sj_str(json_t *o, const char *k);
/* The VM row a job works on (new reference) or NULL. */
json_t *vr_sj_vm_row(vr_engine *e, const char *vm_id, vr_error *err);
/* Engine disk ids of a VM's definition, in order (new array). */
json_t *vr_sj_vm_disk_ids(json_t *spec);
/* Up or paused on a host: changes go through that host live. */
bool vr_sj_running(json_t *vm);
void vr_sj_save_params(snap_job *j);
/* {domain, image, volume} of a disk row's volume (new reference). */
json_t *vr_sj_vol(json_t *disk, const char *volume);
/* Find the SPM of the disk's data center / the VM's host, once. */
int vr_sj_need_spm(snap_job *j, json_t *disk);
int vr_sj_need_host(snap_job *j);
/* The running VM's devices (VM.get on its host, asked once per job;
 * borrowed from j). NULL with j->err. */
json_t *vr_sj_live_devices(snap_job *j);
/* The guest device (vda...) of engine disk disk_id in the running VM: from
 * its stored devices, else from its host (VM.get). Also finds j->host. */
int vr_sj_disk_target(snap_job *j, const char *disk_id, char target[8]);
/* The disk's leaf is now volume, of format fmt ("raw"/"qcow2"). */
int vr_sj_set_leaf(snap_job *j, const char *disk_id, const char *volume, const char *fmt);
/* The VM's definition as a snapshot keeps it: {memory_mib, vcpus, spec}
 * (malloc'd text). */
char *vr_sj_config_text(json_t *vm);
/* Give the VM the definition config (a snapshot's). */
int vr_sj_set_config(snap_job *j, json_t *config);
int vr_sj_insert_snapshot(snap_job *j, const char *id, const char *type, const char *status, const char *desc,
                          bool quiesced, json_t *volumes);
int vr_sj_set_volumes(snap_job *j, const char *snap_id, json_t *volumes);
/* A new qcow2 layer over parent for disk row d, made by the SPM (listed in
 * params.created before it is asked for, so a restart can remove it). */
int vr_sj_make_layer(snap_job *j, json_t *d, const char *parent, char id[37]);
/* Remove the layers listed in params.created; best effort. */
void vr_sj_drop_created(snap_job *j);

/* Where snapshot id is in snaps (a VM's snapshots, oldest first);
 * (size_t)-1 when it is not there. */
size_t vr_sj_index_of(json_t *snaps, const char *id);

/* snapjob_preview.c: preview (a layer over the snapshot's volumes becomes
 * each disk's leaf; the former leaves kept as a preview_backup snapshot),
 * end of a preview (keep=false: undo; keep=true: commit, dropping the old
 * branch), restore (preview + commit). 0, or -1 with j->err. */
int vr_sj_run_preview(snap_job *j, const char *snap_id);
int vr_sj_run_end_preview(snap_job *j, const char *snap_id, bool keep);
int vr_sj_run_restore(snap_job *j, const char *snap_id);

/* In the caller's transaction: refuse (409, nothing changed) what the
 * snapshot rules forbid for action on vm (snap: the snapshot acted on, or
 * NULL for a create; live: the action may run while the VM runs), then lock
 * the VM (a stopped one is imagelocked), its disks and snap, and record the
 * job (params gets the locked disks; title: the format of its description,
 * of the snapshot's description and the VM's name). snapjob_admit.c. */
int vr_sj_admit(vr_engine *e, json_t *vm, const char *action, const char *title, bool live, json_t *snap,
                json_t *params, const char *user, const char *job_id, vr_error *err);
