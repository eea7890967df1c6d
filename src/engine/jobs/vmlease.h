/* VM leases, the engine's side (docs/availability.md "VM leases"): a VM
 * with a lease (vms.lease_sd_id) has a sanlock resource on that data
 * domain, made by the SPM (Lease.create) when the VM starts, and handed to
 * the chosen host's agent in the VM spec; the host's libvirt acquires it
 * for QEMU. Leases whose VM is gone (or moved its lease elsewhere) are
 * removed by the SPM in the storage thread's sweep. */
#pragma once

#include "engine.h"

/* 0 if vm_id has no lease or its lease's domain is active; else -1 with
 * VR_ERR_BAD_STATE naming the domain and its status (a start is refused). */
int vr_vm_lease_check(vr_engine *e, const char *vm_id, vr_error *err);

/* For a start job: when the VM has a lease, check its domain, have the
 * SPM create the lease if it is not there yet (idempotent) and add
 * "lease": {domain, key} to the agent spec. */
int vr_vm_lease_prepare(vr_engine *e, const char *job_id, const char *vm_id, json_t *spec, vr_error *err);

/* Something may have left a lease behind (a VM deleted, a lease moved or
 * removed): the next storage round sweeps. */
void vr_vm_leases_dirty(void);

/* Storage thread: when dirty (or force), remove through the SPM host spm
 * every lease file of domain sd_id whose VM does not name that domain. */
void vr_vm_leases_sweep(vr_engine *e, json_t *spm, const char *sd_id, const char *sd_name);

/* Whether a sweep is wanted (clears the flag). */
bool vr_vm_leases_take_dirty(void);

/* Storage thread, each round per data center dc (with its SPM): a highly
 * available VM with a lease whose host is NonResponsive (its VMs unknown)
 * and not being fenced is restarted elsewhere without fencing once its
 * lease is provably free - no owner on storage, or an owner sanlock calls
 * dead (past its host-dead time) or free (it left the lockspace), as the
 * SPM's sanlock sees it. While the
 * lost host still holds the lease (it renews it: QEMU runs), nothing
 * happens. RHV TR ch. 5, VM leases. */
void vr_vm_leases_ha_round(vr_engine *e, json_t *dc);

/* For the restart of a highly available VM that lost its lease (its host's
 * agent said "lease_lost": sanlock powered it off when the host could no
 * longer renew the lease): wait, at most limit_s seconds, until the SPM
 * reads the lease free (how: in what way). 0 (also for a VM without a
 * lease), or -1 with err: still held, cancelled, no SPM. */
int vr_vm_lease_wait_free(vr_engine *e, const char *job_id, const char *vm_id, int limit_s, char *how, size_t len,
                          vr_error *err);
