/* A VM's hardware spec document, built from the members of a request. */
#pragma once

#include <jansson.h>

#include "error.h"

extern const char *const vr_vm_spec_members[];
extern const size_t vr_vm_nspec_members;

/* Check the spec members of `members` (a body, or a body merged over the
 * stored VM) and build the spec document (new reference), or NULL with a
 * VR_ERR_INVALID_PARAMS naming the bad member. NICs get no MACs here. */
json_t *vr_vm_spec_build(json_t *members, long long vcpus, long long memory_mib, vr_error *err);
