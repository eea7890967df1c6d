/* Export of a stopped VM or a template to an export domain, and import back
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

/* POST /api/templates/ID/export: body {storage_domain, exclusive?}; the
 * template (a row) locked while its disks are copied, its OVF written
 * last under master/templates/. */
int vr_template_export_submit(vr_engine *e, json_t *t, json_t *body, const char *user, char job_id[37], vr_error *err);

/* Whether export domain sd holds an OVF of VM (template: of template) id,
 * asked of host: 1, 0, or -1 with err. */
int vr_export_has_ovf(vr_engine *e, json_t *host, const char *sd, const char *id, bool template, vr_error *err);

/* POST /api/storagedomains/SD/vms/VM/import: body {cluster, storage_domain,
 * name?, clone?}. job_id gets the job, vm_id the new VM. */
int vr_vm_import_submit(vr_engine *e, json_t *sd, const char *vm_id, json_t *body, const char *user,
                        char job_id[37], char vm_id_out[37], vr_error *err);

/* POST /api/storagedomains/SD/templates/T/import: body {cluster,
 * storage_domain, name?, clone?} (tmplimport.c). job_id gets the job,
 * new_id the template. */
int vr_template_import_submit(vr_engine *e, json_t *sd, const char *id, json_t *body, const char *user,
                              char job_id[37], char new_id[37], vr_error *err);

/* The VMs (template: the templates, under master/templates) on export
 * domain sd (a row; a data domain's store holds both together) read from
 * their OVFs on storage: {vms|templates: [model... or {id, error}]} (a new
 * reference). */
json_t *vr_export_domain_vms(vr_engine *e, json_t *sd, bool template, vr_error *err);

/* The OVF model of VM (template: template) id on domain sd_id (a new
 * reference). */
json_t *vr_export_read_ovf(vr_engine *e, const char *sd_id, const char *id, bool template, json_t *host,
                           vr_error *err);

/* An Up host that sees domain sd_id now (a row: name, address, port). */
json_t *vr_export_host(vr_engine *e, const char *sd_id, vr_error *err);

/* Engine restart: an export job (exportjob.c) is resumed where it was. */
bool vr_export_vm_resume(vr_engine *e, json_t *job);

/* The copy plan of model m's engine disks from export domain export_sd
 * into data domain sd (new image and volume ids with clone; else the
 * exported ones): a new reference. */
json_t *vr_import_plan(json_t *m, const char *export_sd, const char *sd, bool clone);

/* In the caller's transaction: the disks of plan recorded (locked) as
 * the import's, a template's when tmpl_id (a disk id here: 409). */
int vr_import_insert_disks(vr_engine *e, json_t *plan, const char *tmpl_id, vr_error *err);

/* A row of a table by id or name (sql binds ref twice), or NULL with err
 * (400 naming what). */
json_t *vr_import_by_ref(vr_engine *e, const char *sql, const char *ref, const char *what, vr_error *err);

/* The checks of an import from export domain sd (a row: export, active),
 * body.cluster (*cl) and the active data domain body.storage_domain of its
 * data center (*dsd), then the OVF's model of VM (template: template) id:
 * a new reference, or NULL with err (a bad OVF on storage is a 409). */
json_t *vr_import_read(vr_engine *e, json_t *sd, const char *id, bool template, json_t *body, json_t **cl,
                       json_t **dsd, vr_error *err);

/* The job function of a template's import (tmplimport.c), also run
 * again after an engine restart. */
void vr_template_import_run(vr_engine *e, const char *job_id, const char *tmpl_id, const char *user);

/* Engine restart: an export or import job is run again. */
bool vr_export_job_resume(vr_engine *e, json_t *job);

/* The OVF model of a VM (or, with p.template true, a template) from p:
 * {vm_row: {id, name, description, memory_mib, vcpus, created_at, spec},
 * disks: vr_export_plan_disks()'s, domain?}: each disk on p.domain (an
 * export) or else on its own domain (the OVF store). A new reference. */
json_t *vr_export_ovf_model(vr_engine *e, json_t *p);

/* The engine disks of vm (a row with spec) as the OVF names them: {disk,
 * volume, src_volume, storage_domain, alias, description, format, size,
 * bootable}, each ok (a 409 otherwise). For an export (store false) a
 * shareable disk or a writable disk given by path is refused too. */
json_t *vr_export_plan_disks(vr_engine *e, json_t *vm, bool store, vr_error *err);

/* The spec members {disks, nics, boot?} of a VM made from OVF model m:
 * the k-th engine disk named by plan[k].disk, NICs on data center dc's
 * vNIC profile of the same name and network (none: on no network). */
json_t *vr_import_members(vr_engine *e, json_t *m, json_t *plan, const char *dc);

/* In the caller's transaction: VM new_id's NICs take model m's MACs (the
 * pool's ones given back); a MAC another VM holds is a 409, or with
 * reassign the NIC keeps the pool's new MAC. */
int vr_import_keep_macs(vr_engine *e, json_t *m, const char *new_id, bool reassign, vr_error *err);

/* Exports keeping snapshots (exportchain.c). The regular snapshots of vm
 * (a row; a preview or a snapshot not ok is a 409) for the job's params
 * ({id, description, created_at, config, volumes}, a new reference), each
 * disk of plan (vr_export_plan_disks()') given its chain, base first
 * ({volume, parent ("" the base)}, leaf last) when it has layers. NULL
 * with err. */
json_t *vr_export_chain_plan(vr_engine *e, json_t *vm, json_t *plan, vr_error *err);

/* The OVF models of the snapshots in export params p: {id, description,
 * created_at, memory_mib, vcpus, boot?, disks (the snapshot's volumes),
 * nics} (a new reference). */
json_t *vr_export_ovf_snapshots(vr_engine *e, json_t *p);

/* In the caller's transaction: the snapshot rows of model m for imported
 * VM new_id (its NICs and MACs recorded), their volumes those plan made
 * (new ids with clone), definitions built as the VM's (NICs on data
 * center dc's profiles, the VM's MACs). */
int vr_import_snapshots(vr_engine *e, json_t *m, json_t *plan, const char *new_id, const char *dc, bool clone,
                        vr_error *err);
