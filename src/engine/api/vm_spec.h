/* A VM's hardware spec document, built from the members of a request. */
#pragma once

#include <jansson.h>

#include "devspec.h"
#include "engine.h"
#include "error.h"

extern const char *const vr_vm_spec_members[];
extern const size_t vr_vm_nspec_members;

/* Check the spec members of `members` (a body, or a body merged over the
 * stored VM) and build the spec document (new reference), or NULL with a
 * VR_ERR_INVALID_PARAMS naming the bad member. NICs get no MACs here. */
json_t *vr_vm_spec_build(json_t *members, long long vcpus, long long memory_mib, vr_error *err);

/* Parse one VM disk: a path disk by devspec's rules, or one naming an
 * engine disk ({"disk": ID, "interface"?, "bootable"?, bus, target...},
 * "interface" turned into "bus" in obj) checked by the same rules with a
 * stand-in path. d's strings point into obj or *keep (json_decref it
 * after using d; NULL for a path disk). */
int vr_vm_disk_parse(json_t *obj, const char *where, vr_disk *d, json_t **keep, vr_error *err);

/* The engine disks a spec names that `before` (the VM as stored, with its
 * "disks"; NULL for a new VM) did not exist, are ok, and are not used by
 * another VM than vm_id unless shareable. */
int vr_vm_spec_check_disk_refs(vr_engine *e, json_t *spec, json_t *before, const char *vm_id, vr_error *err);
