/* Registering a VM or template found in the OVF store of an imported data domain
 * (docs/storage.md "The OVF store of data domains", docs/rest-api.md
 * "Unregistered VMs"): POST /api/storagedomains/SD/vms/VM/register. */
#pragma once

#include <jansson.h>

#include "engine.h"

/* Make VM vm_id from its OVF in domain sd's store (a row; active data
 * domain): body {cluster (id or name, of sd's data center), name?,
 * reassign_bad_macs?}. The VM keeps its id, disks (which must be here,
 * ok) and MACs (one in use: 409, or a new one with reassign_bad_macs);
 * NICs on the profiles of the same names. 409 naming why otherwise;
 * nothing is changed then. */
int vr_vm_register(vr_engine *e, json_t *sd, const char *vm_id, json_t *body, vr_error *err);

/* Each engine disk of OVF model m checked against the volumes of domain sd
 * (a row) and m made what they say (regchain.c): each disk's chain the one
 * its volumes form down from its volume here (its leaf), which the OVF's
 * chain must start; each layer under a leaf the OVF does not know gives a
 * recovered snapshot appended to m.snapshots (new id, the VM's definition
 * as the OVF has it). 409 naming the volume when a chain does not hold
 * together (a volume missing or ILLEGAL, a loop) or the OVF's chain is not
 * its start. */
int vr_register_chains(vr_engine *e, json_t *sd, json_t *m, vr_error *err);

/* Its pure part: res the domain's Volume.list answer, leaves {disk id: its
 * volume here}. */
int vr_regchain_apply(json_t *res, json_t *leaves, json_t *sd, json_t *m, vr_error *err);

/* The same for template id: POST /api/storagedomains/SD/templates/ID/register
 * {cluster, name?}: the template row (version 1, ok) with its id, and its
 * disks (here, ok, used by no VM) marked as its own, in one transaction. */
int vr_template_register(vr_engine *e, json_t *sd, const char *id, json_t *body, vr_error *err);

/* In the caller's transaction: the template row id (version 1, status) with
 * OVF model m's description, memory and vCPUs, name, cluster cl and spec. */
int vr_template_row_insert(vr_engine *e, const char *id, json_t *m, json_t *cl, const char *name, json_t *spec,
                           const char *status, vr_error *err);
