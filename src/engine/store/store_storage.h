/* Storage domains and disks: their SQL (store_storage.c), and the few
 * reads the storage jobs share: a data center's SPM host, the VMs that use
 * a disk. The SPM columns of datacenters are written by the storage
 * monitor (storage/), only read here. */
#pragma once

#include "store.h"

extern const vr_store vr_store_storagedomains, vr_store_disks;

/* The SPM host of data center dc_id (a new row: id, name, address, port,
 * status) or NULL when it has none yet (err untouched) or on a database
 * error (err set). */
json_t *vr_storage_spm_host(vr_engine *e, const char *dc_id, vr_error *err);

/* The VMs whose spec names disk_id (a new array of {id, name, status,
 * host_id}); an empty array when none. NULL with err on a database error. */
json_t *vr_storage_disk_users(vr_engine *e, const char *disk_id, vr_error *err);

/* Names of the VMs on a host (running, starting, migrating, saving...)
 * with a disk or their lease on storage domain sd_id, by name (a new
 * array), or NULL with err. */
json_t *vr_storage_domain_running_users(vr_engine *e, const char *sd_id, vr_error *err);

/* In the caller's transaction, just before it writes VM vm_id's spec: each
 * engine disk the spec names is locked (a no-op UPDATE of its row, taken in
 * id order) and must be used by no other VM unless shareable (a disk not
 * recorded yet passes: jobs that make a VM record its new disks next). Two requests giving one disk to two VMs at once thus end with
 * one winner (VR_ERR_CONFLICT naming the disk and the VM for the other). */
int vr_storage_disks_claim(vr_engine *e, json_t *spec, const char *vm_id, vr_error *err);

/* The number of hosts in the clusters of data center dc_id (-1 on error). */
int vr_storage_dc_hosts(vr_engine *e, const char *dc_id, vr_error *err);

/* The agent's connection object of a storage domain row (storage_type,
 * storage_spec, vfs_type, mount_options, nfs_version): a new reference. */
json_t *vr_storage_conn(json_t *sd);

/* Disk disk_id with what its jobs need of its domain (storage_domain,
 * sd_status, sd_name, datacenter_id, free_bytes, critical_space_gib): a new
 * row, or NULL (err set only on a database error). */
json_t *vr_storage_disk_get(vr_engine *e, const char *disk_id, vr_error *err);
