/* VM leases through the SPM (see vmlease.h). */
#include "vmlease.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agentcall.h"
#include "fencejob.h"
#include "jobs.h"
#include "store_spm.h"
#include "vmexit.h"
#include "log.h"
#include "volplan.h"

static atomic_bool dirty = true; /* an engine start sweeps once */

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

/* {lease_sd_id, sd_name, sd_status} of a VM with a lease; NULL without. */
static json_t *lease_row(vr_engine *e, const char *vm_id, vr_error *err)
{
    return vr_db_query_one(e->db, "SELECT v.lease_sd_id AS sd, s.name AS sd_name, s.status AS sd_status FROM vms v"
                           " JOIN storage_domains s ON s.id = v.lease_sd_id WHERE v.id = ?",
                           DB_ARGS(DB_TEXT(vm_id)), err);
}

int vr_vm_lease_check(vr_engine *e, const char *vm_id, vr_error *err)
{
    json_t *row = lease_row(e, vm_id, err);
    if (!row)
        return err->code ? -1 : 0;
    int rc = 0;
    if (strcmp(str(row, "sd_status"), "active"))
        rc = vr_error_set(err, VR_ERR_BAD_STATE, "the VM's lease is on storage domain '%s', which is %s; a VM with a "
                          "lease starts only while that domain is active", str(row, "sd_name"), str(row, "sd_status"));
    json_decref(row);
    return rc;
}

int vr_vm_lease_prepare(vr_engine *e, const char *job_id, const char *vm_id, json_t *spec, vr_error *err)
{
    json_t *row = lease_row(e, vm_id, err);
    if (!row)
        return err->code ? -1 : 0;
    json_t *spm = NULL, *res = NULL;
    int rc = vr_vm_lease_check(e, vm_id, err);
    if (!rc && !(spm = vr_volplan_spm(e, job_id, str(row, "sd"), err)))
        rc = -1;
    if (!rc)
        rc = vr_agent_call_host(e, spm, "Lease.create", json_pack("{s:s, s:s}", "domain", str(row, "sd"), "lease", vm_id),
                                &res, err);
    if (!rc)
        json_object_set_new(spec, "lease", json_pack("{s:s, s:s}", "domain", str(row, "sd"), "key", vm_id));
    json_decref(res);
    json_decref(spm);
    json_decref(row);
    return rc;
}

void vr_vm_leases_dirty(void)
{
    atomic_store(&dirty, true);
}

bool vr_vm_leases_take_dirty(void)
{
    return atomic_exchange(&dirty, false);
}

void vr_vm_leases_sweep(vr_engine *e, json_t *spm, const char *sd_id, const char *sd_name)
{
    json_t *res = NULL;
    vr_error err = {0};
    if (vr_agent_call_host(e, spm, "Lease.list", json_pack("{s:s}", "domain", sd_id), &res, &err) < 0) {
        VR_WARN("VM lease sweep of storage domain %s skipped: %s", sd_name, err.message);
        vr_vm_leases_dirty();
        return;
    }
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(res, "leases"), i, k) {
        const char *vm = json_string_value(k);
        vr_error qerr = {0};
        json_t *row = vr_db_query_one(e->db, "SELECT id FROM vms WHERE id = ? AND lease_sd_id = ?",
                                      DB_ARGS(DB_TEXT(vm), DB_TEXT(sd_id)), &qerr);
        json_decref(row);
        if (row || qerr.code)
            continue;
        json_t *r = NULL;
        vr_error derr = {0};
        if (vr_agent_call_host(e, spm, "Lease.delete", json_pack("{s:s, s:s}", "domain", sd_id, "lease", vm), &r,
                               &derr) < 0) {
            VR_WARN("lease of VM %s on storage domain %s stays: %s", vm, sd_name, derr.message);
            vr_vm_leases_dirty();
        } else {
            vr_event(e, "normal", "", "storagedomain", sd_id, "removed the lease of VM %s from storage domain '%s'"
                     " (the VM is gone or holds its lease elsewhere)", vm, sd_name);
        }
        json_decref(r);
    }
    json_decref(res);
}

/* The lease of vm on sd is provably free, asked through host `via`. */
static bool lease_free(vr_engine *e, json_t *via, const char *sd, const char *vm, char *how, size_t len)
{
    json_t *res = NULL;
    vr_error err = {0};
    if (vr_agent_call_host(e, via, "Lease.info", json_pack("{s:s, s:s}", "domain", sd, "lease", vm), &res, &err) < 0) {
        VR_WARN("lease of VM %s not read through host %s: %s", vm, str(via, "name"), err.message);
        return false;
    }
    const char *state = str(res, "owner_state");
    /* "free": the holder's host id lease reads released, which sanlock
     * does only once its processes with leases there are gone (a host that
     * left the lockspace, its QEMU killed, without writing the release of
     * the VM's lease); "stale": that host id joined again since, in a newer
     * generation. sanlock lets another host acquire such a lease. */
    bool none = json_is_null(json_object_get(res, "owner"));
    bool left = !strcmp(state, "free") || !strcmp(state, "stale"); /* stale: it joined again since */
    bool free_ = none || left || !strcmp(state, "dead");
    snprintf(how, len, none ? "no host holds it" : left ? "its holder, host id %lld, left the lockspace since"
             " it took it" : "its holder, host id %lld, is dead for sanlock",
             (long long)json_integer_value(json_object_get(res, "owner")));
    json_decref(res);
    return free_;
}

void vr_vm_leases_ha_round(vr_engine *e, json_t *dc)
{
    if (strcmp(str(dc, "storage_status"), "up") || !json_is_string(json_object_get(dc, "spm_host_id")))
        return;
    json_t *rows = NULL;
    vr_error err = {0};
    if (vr_db_query(e->db, "SELECT v.id AS id, v.host_id AS host_id, v.lease_sd_id AS sd, s.name AS sd_name,"
                    " h.name AS host FROM vms v JOIN hosts h ON h.id = v.host_id JOIN storage_domains s ON"
                    " s.id = v.lease_sd_id WHERE v.status = 'unknown' AND v.ha_enabled = 1 AND v.stop_requested = 0"
                    " AND h.status = 'nonresponsive' AND s.status = 'active' AND s.datacenter_id = ?"
                    " AND v.host_id != ? ORDER BY v.ha_priority DESC, v.name",
                    DB_ARGS(DB_TEXT(str(dc, "id")), DB_TEXT(str(dc, "spm_host_id"))), &rows, &err) < 0 ||
        json_array_size(rows) == 0) {
        json_decref(rows);
        return;
    }
    json_t *spm = vr_store_host_brief(e->db, str(dc, "spm_host_id"));
    size_t i;
    json_t *v;
    json_array_foreach(rows, i, v) {
        char how[96], why[400];
        if (!spm || vr_host_being_fenced(e, str(v, "host_id")) ||
            !lease_free(e, spm, str(v, "sd"), str(v, "id"), how, sizeof(how)))
            continue;
        snprintf(why, sizeof(why), " (its host '%s' is non-responsive and its lease on storage domain '%s' is free:"
                 " %s, so it runs nowhere)", str(v, "host"), str(v, "sd_name"), how);
        vr_vm_ended(e, str(v, "id"), str(v, "host_id"), VR_VM_UNKNOWN, "host_lost", why);
    }
    json_decref(spm);
    json_decref(rows);
}

int vr_vm_lease_wait_free(vr_engine *e, const char *job_id, const char *vm_id, int limit_s, char *how, size_t len,
                          vr_error *err)
{
    json_t *row = lease_row(e, vm_id, err);
    if (!row)
        return err->code ? -1 : 0;
    json_t *spm = vr_volplan_spm(e, job_id, str(row, "sd"), err);
    int rc = spm ? 1 : -1; /* 1: still held */
    /* Each second, as the SPM's sanlock reads it: a lease released by the
     * killed QEMU reads free at once; one whose holder could not write its
     * release frees when sanlock calls that host id dead. */
    for (int waited = 0; rc == 1 && waited <= limit_s; waited++) {
        if (lease_free(e, spm, str(row, "sd"), vm_id, how, len))
            rc = 0;
        else if (vr_job_cancel_requested(e, job_id))
            rc = vr_error_set(err, VR_ERR_BAD_STATE, "cancelled while waiting for the VM's lease to be free");
        else if (waited < limit_s)
            sleep(1);
    }
    if (rc == 1)
        rc = vr_error_set(err, VR_ERR_BAD_STATE, "the VM's lease on storage domain '%s' is still held after %d s; it"
                          " may still run on its last host, so it is not started elsewhere", str(row, "sd_name"),
                          limit_s);
    json_decref(spm);
    json_decref(row);
    return rc < 0 ? -1 : 0;
}
