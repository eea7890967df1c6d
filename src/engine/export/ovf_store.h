/* The OVF store of data domains (docs/storage.md "The OVF store of data
 * domains"; RHV's OVF_STORE): every active data domain holds the OVF of
 * each VM and template that has a disk on it (one with no disk on any
 * domain: on its data center's master), written through the SPM
 * (Ovf.put into dom_md/ovf/), so that a fresh engine importing the
 * domain registers them again (disaster recovery). */
#pragma once

#include <jansson.h>

#include "engine.h"

/* Start the OVF store thread (a registered engine thread; ends with
 * e->stopping). Each round (5 poll intervals) it writes the OVFs that
 * changed since it last wrote them and removes those of VMs and
 * templates gone; every OVF of a domain is written again once an hour
 * (and at the first round after the engine starts). */
int vr_ovfstore_start(vr_engine *e, vr_error *err);

/* The OVFs in data domain sd's store (a row) not registered in this
 * engine, read through any up host that sees it: {vms: [model... or {id,
 * error}]} with templates (true) only the templates, else only the VMs and
 * the OVFs that cannot be read (a new reference). */
json_t *vr_ovfstore_unregistered(vr_engine *e, json_t *sd, bool templates, vr_error *err);

/* Write now every OVF that belongs in active data domain sd_id's store
 * (through its data center's SPM), as RHV updates the OVF_STORE disks
 * before a domain is deactivated: a domain detached after a maintenance
 * carries every change made until then. 0 (also for a domain that keeps
 * no store); 1 with err saying why when the data center has no up SPM
 * (nothing could write the store: it stays as the last round left it);
 * -1 with err when a write failed. */
int vr_ovfstore_flush(vr_engine *e, const char *sd_id, vr_error *err);
