/* Export of a stopped VM to an export domain, and import back
 * (docs/storage.md "Export domains", docs/rest-api.md "Export and
 * import"). Jobs run by the data center's SPM; persisted and run again
 * after an engine restart. */
#pragma once

#include <stdbool.h>
#include <jansson.h>

#include "engine.h"

/* POST /api/vms/ID/export: body {storage_domain (id or name),
 * collapse_snapshots?, exclusive?}. job_id gets the job (a running export
 * job of the VM is found instead of starting another). */
int vr_vm_export_submit(vr_engine *e, json_t *vm, json_t *body, const char *user, char job_id[37], vr_error *err);

/* POST /api/storagedomains/SD/vms/VM/import: body {cluster, storage_domain,
 * name?, clone?}. job_id gets the job, vm_id the new VM. */
int vr_vm_import_submit(vr_engine *e, json_t *sd, const char *vm_id, json_t *body, const char *user,
                        char job_id[37], char vm_id_out[37], vr_error *err);

/* The VMs on export domain sd (a row) read from their OVFs on storage:
 * {vms: [model... or {id, error}]} (a new reference). */
json_t *vr_export_domain_vms(vr_engine *e, json_t *sd, vr_error *err);

/* The OVF model of VM vm_id on export domain sd_id (a new reference). */
json_t *vr_export_read_ovf(vr_engine *e, const char *sd_id, const char *vm_id, json_t *host, vr_error *err);

/* An Up host that sees domain sd_id now (a row: name, address, port). */
json_t *vr_export_host(vr_engine *e, const char *sd_id, vr_error *err);

/* Engine restart: an export job (exportjob.c) is run again. */
bool vr_export_vm_resume(vr_engine *e, json_t *job);

/* Engine restart: an export or import job is run again. */
bool vr_export_job_resume(vr_engine *e, json_t *job);
