/* Host-wide claims on what must stay unique among the VMs of one host:
 * names, UUIDs and MAC addresses.
 *
 * Uniqueness is checked against libvirt's domains, and a check followed by
 * a libvirt call is a check-then-act race when two clients do it at once.
 * Instead of one lock held across both (a libvirt call can block for as
 * long as a hung QEMU does, and everything queued behind it), an operation
 * first claims the values it is about to make real, under a short lock;
 * then checks libvirt and makes its libvirt call with no lock held; then
 * frees its claims, once libvirt's domain list shows the result (or the
 * call failed). Two operations can never both pass the check for one
 * value, and nothing waits: a value already claimed is refused at once. */
#pragma once

#include "error.h"

enum vr_claim_kind { VR_CLAIM_NAME, VR_CLAIM_UUID, VR_CLAIM_MAC };

/* The claims of one operation. holder describes it in the refusals of
 * others, e.g. "VM.create of 'web1'". NULL if out of memory. */
typedef struct vr_claims vr_claims;
vr_claims *vr_claims_new(const char *holder);

/* Claim one value (names compare exactly, UUIDs and MACs in any case).
 * Fails if another operation holds it: VR_ERR_VM_EXISTS for a name or
 * UUID, VR_ERR_CONFLICT for a MAC. */
int vr_claims_add(vr_claims *c, enum vr_claim_kind kind, const char *value, vr_error *err);

/* Release every claim of c and free it. NULL is allowed. */
void vr_claims_free(vr_claims *c);
