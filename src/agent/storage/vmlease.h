/* VM leases (docs/storage.md, "VM leases"): one sanlock resource per VM
 * that has a lease on a data domain, in <sd>/vm_leases/<vm-uuid>.lease
 * (1 MiB, offset 0, lockspace = the domain, resource name = the VM's
 * UUID). The SPM creates and removes them; a host's libvirt acquires one
 * for the VM's QEMU through its sanlock lock manager (<lease> in the
 * domain XML, domxml.c), so two QEMUs of one VM never run at once, even
 * if the engine is wrong or cut off. */
#pragma once

#include <stddef.h>
#include <jansson.h>

#include "agent.h"
#include "error.h"

#define VR_VMLEASE_DIR "vm_leases"

/* Path of VM key's lease file in connected domain (both UUIDs, checked). */
int vr_vmlease_path(const vr_agent *a, const char *domain, const char *key, char *out, size_t size,
                    vr_error *err);

/* Create the lease (SPM of the domain's pool only). Idempotent: a lease
 * file already holding that resource is kept. Written to a temporary file
 * and renamed, so a crash never leaves a half-initialized lease under the
 * final name. *out = its info (vr_vmlease_info). */
int vr_vmlease_create(vr_agent *a, const char *domain, const char *key, json_t **out, vr_error *err);

/* Remove the lease file (SPM only). Missing: fine. Refused (-32011) while a
 * live host holds it. */
int vr_vmlease_delete(vr_agent *a, const char *domain, const char *key, vr_error *err);

/* {domain, lease, path, offset, owner (host id or null), lver,
 * owner_state} read from storage (any host that has the domain connected);
 * owner_state is this host's sanlock's view of the owner's host id:
 * live, fail, dead (its leases can be taken), free (no owner), unknown. */
int vr_vmlease_info(const vr_agent *a, const char *domain, const char *key, json_t **out, vr_error *err);

/* {"leases": [uuid...]}: the lease files of a domain (for the engine's
 * sweep of leases whose VM is gone). */
int vr_vmlease_list(const vr_agent *a, const char *domain, json_t **out, vr_error *err);

/* For VM.create: the lease's path into out after checking the file exists
 * and this host has joined the domain's lockspace (clear errors instead of
 * libvirt's "Failed to acquire lock: error -N"). */
int vr_vmlease_for_vm(const vr_agent *a, const char *domain, const char *key, char *out, size_t size,
                      vr_error *err);

/* After a VM with a lease started: whether this host (its host id in the
 * domain's lockspace) owns the lease on storage. False means libvirt did
 * not take it (no sanlock lock manager configured): the caller kills the
 * VM. */
int vr_vmlease_held_here(const vr_agent *a, const char *domain, const char *key, vr_error *err);

/* The Lease.* verbs. */
extern const vr_verb vr_lease_verbs[];
