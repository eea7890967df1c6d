/* VMs: definitions with their hardware spec, MACs from the pool, and
 * actions forwarded to the VM's host (start is a job). */
#include <stdio.h>
#include <string.h>

#include "clonejobs.h"
#include "export_api.h"
#include "devspec.h"
#include "dispatch.h"
#include "i18n.h"
#include "jsonx.h"
#include "kind.h"
#include "perm.h"
#include "quota.h"
#include "placement.h"
#include "vm_spec.h"
#include "console.h"
#include "vmaction.h"
#include "vmsuspend.h"
#include "vmmigrate.h"
#include "vmlive.h"
#include "vmlease.h"
#include "vmstart.h"
#include "vmstatus.h"
#include "vmstats.h"

/* Clients see the VM's hardware as members of the VM; the database keeps
 * it as one spec document. */
static void vm_present(vr_engine *e, json_t *row)
{
    json_t *spec = json_object_get(row, "spec");
    if (json_is_object(spec))
        json_object_update_missing(row, spec);
    json_object_del(row, "spec");
    if (!json_is_array(json_object_get(row, "pending_changes")))
        json_object_set_new(row, "pending_changes", json_array());
    if (!json_is_object(json_object_get(row, "placement_policy")))
        json_object_set_new(row, "placement_policy", json_pack("{s:s, s:[]}", "affinity", "migratable", "hosts"));
    /* What the guest agent reported, as the host monitor last read it. */
    const char *status = json_string_value(json_object_get(row, "status"));
    json_t *gi = status && strcmp(status, "down") ?
        vr_vmstats_guest_info(e->vmstats, json_string_value(json_object_get(row, "id"))) : NULL;
    json_object_set_new(row, "guest_info", gi ? gi : json_null());
}

/* A placement policy given: checked and stored with host ids. */
static int vm_placement(vr_call *c, json_t *b, const char *cluster_id, vr_error *err)
{
    json_t *p = json_object_get(b, "placement_policy");
    return p ? vr_placement_normalize(c->e, p, cluster_id, err) : 0;
}

/* body.high_availability: {enabled, priority 0..100}; members left out
 * keep their stored value (or the default at create). Normalized in place. */
static int ha_check(json_t *b, json_t *row, vr_error *err)
{
    static const char *const keys[] = {"enabled", "priority"};
    json_t *given = json_object_get(b, "high_availability");
    json_t *now = json_object_get(row, "high_availability");
    if (!given)
        return 0;
    if (!json_is_object(given))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "body.high_availability must be an object");
    if (vr_json_check_keys(given, "body.high_availability", VR_NAMES(keys), err) < 0)
        return -1;
    bool enabled = json_is_true(json_object_get(now, "enabled"));
    long long prio = json_integer_value(json_object_get(now, "priority"));
    if (vr_json_bool(given, "body.high_availability", "enabled", false, &enabled, err) < 0 ||
        vr_json_int(given, "body.high_availability", "priority", false, 0, 100, &prio, err) < 0)
        return -1;
    json_object_set_new(b, "high_availability",
                        json_pack("{s:b, s:I}", "enabled", enabled, "priority", (json_int_t)prio));
    return 0;
}

/* body.lease: {storage_domain: ID} gives the VM a lease on that data
 * domain of its data center, {} takes it away; only while the VM is down.
 * A change is handed to the store as lease_sd (the id, or ""). */
static int lease_check(vr_call *c, json_t *b, json_t *row, vr_error *err)
{
    static const char *const keys[] = {"storage_domain"};
    json_t *given = json_object_get(b, "lease");
    if (!given || json_is_null(given))
        return 0;
    const char *want = NULL;
    if (!json_is_object(given))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "body.lease must be an object: {storage_domain} or {}");
    if (vr_json_check_keys(given, "body.lease", VR_NAMES(keys), err) < 0 ||
        vr_json_str(given, "body.lease", "storage_domain", false, &want, err) < 0)
        return -1;
    const char *now = json_string_value(json_object_get(json_object_get(row, "lease"), "storage_domain"));
    if ((!want && !now) || (want && now && !strcmp(want, now)))
        return 0;
    const char *st = json_string_value(json_object_get(row, "status")) ?: "down";
    if (strcmp(st, "down"))
        return vr_error_set(err, VR_ERR_BAD_STATE, "VM '%s' is %s; its lease changes only while it is down",
                            json_string_value(json_object_get(row, "name")), st);
    if (want) {
        const char *cl = json_string_value(json_object_get(row ?: b, "cluster_id")) ?: "";
        json_t *sd = vr_db_query_one(c->e->db, "SELECT s.name AS name, s.sd_type AS sd_type, coalesce(s.datacenter_id, '')"
                                     " AS dc, (SELECT datacenter_id FROM clusters WHERE id = ?) AS vm_dc"
                                     " FROM storage_domains s WHERE s.id = ?", DB_ARGS(DB_TEXT(cl), DB_TEXT(want)), err);
        if (!sd)
            return err->code ? -1 : vr_error_set(err, VR_ERR_INVALID_PARAMS, "body.lease.storage_domain: no storage"
                                                 " domain '%s'", want);
        const char *name = json_string_value(json_object_get(sd, "name"));
        int rc = 0;
        if (strcmp(json_string_value(json_object_get(sd, "sd_type")) ?: "", "data"))
            rc = vr_error_set(err, VR_ERR_INVALID_PARAMS, "storage domain '%s' is not a data domain; a lease lives"
                              " on a data domain", name);
        else if (strcmp(json_string_value(json_object_get(sd, "dc")) ?: "",
                        json_string_value(json_object_get(sd, "vm_dc")) ?: "-"))
            rc = vr_error_set(err, VR_ERR_INVALID_PARAMS, "storage domain '%s' is not attached to the VM's data"
                              " center", name);
        json_decref(sd);
        if (rc < 0)
            return -1;
    }
    json_object_set_new(b, "lease_sd", json_string(want ? want : "")); /* before want's owner goes */
    json_object_set_new(b, "lease", want ? json_pack("{s:s}", "storage_domain", want) : json_null());
    return 0;
}

static int vm_check_create(vr_call *c, json_t *b, vr_error *err)
{
    if (vm_placement(c, b, json_string_value(json_object_get(b, "cluster_id")), err) < 0 || ha_check(b, NULL, err) < 0 ||
        lease_check(c, b, NULL, err) < 0)
        return -1;
    json_t *spec = vr_vm_spec_build(b, json_integer_value(json_object_get(b, "vcpus")),
                                    json_integer_value(json_object_get(b, "memory_mib")), err);
    if (!spec || vr_vm_spec_check_disk_refs(c->e, spec, NULL, NULL, err) < 0) {
        json_decref(spec);
        return -1;
    }
    json_object_set_new(b, "spec", spec);
    return 0;
}

static bool vm_running(json_t *row)
{
    const char *st = json_string_value(json_object_get(row, "status")) ?: "down";
    return !strcmp(st, "up") || !strcmp(st, "paused");
}

/* Members that change what runs: on a running VM those not applied live
 * wait for its next start (its next-run configuration, oVirt's term). */
static const char *const hw_members[] = {"memory_mib", "vcpus", "boot", "disks", "nics", "max_vcpus",
                                         "max_memory_mib", "serial_console", "vnc"};

/* vCPUs go live when raised within the VM's maximum. */
static bool vcpus_live(json_t *row, json_t *b)
{
    long long now = json_integer_value(json_object_get(row, "vcpus"));
    long long want = json_integer_value(json_object_get(b, "vcpus"));
    long long max = json_integer_value(json_object_get(row, "max_vcpus"));
    return vm_running(row) && want > now && max && want <= max;
}

static void note_pending(json_t *row, json_t *b)
{
    json_t *pending = json_deep_copy(json_object_get(row, "pending_changes"));
    if (!json_is_array(pending)) {
        json_decref(pending);
        pending = json_array();
    }
    if (vm_running(row) || strcmp(json_string_value(json_object_get(row, "status")) ?: "down", "down"))
        for (size_t i = 0; i < sizeof(hw_members) / sizeof(hw_members[0]); i++) {
            const char *m = hw_members[i];
            json_t *v = json_object_get(b, m);
            bool seen = false;
            size_t k;
            json_t *p;
            json_array_foreach(pending, k, p) seen |= !strcmp(json_string_value(p), m);
            if (v && !json_equal(v, json_object_get(row, m)) && !seen &&
                !(!strcmp(m, "vcpus") && vcpus_live(row, b)))
                json_array_append_new(pending, json_string(m));
        }
    json_object_set_new(b, "pending_changes", pending);
}

static int vm_live_update(vr_call *c, json_t *before, json_t *b, char job[37], vr_error *err)
{
    if (!vcpus_live(before, b))
        return 0;
    if (vr_vm_live_submit(c->e, before, "set_vcpus", json_pack("{s:O}", "vcpus", json_object_get(b, "vcpus")),
                          c->user, job, err) == 0)
        return 0;
    vr_vm_note_pending(c->e, json_string_value(json_object_get(before, "id")), "vcpus");
    return -1;
}

static int vm_balloon(vr_call *c, json_t *vm, json_t *body, json_t **reply, vr_error *err)
{
    char job[37];
    long long want = json_integer_value(json_object_get(body, "memory_mib"));
    long long max = json_integer_value(json_object_get(vm, "max_memory_mib")) ?: json_integer_value(json_object_get(vm, "memory_mib"));
    if (!vm_running(vm))
        return vr_error_set(err, VR_ERR_BAD_STATE, "VM '%s' is %s; the balloon is set on a running VM",
                            json_string_value(json_object_get(vm, "name")),
                            json_string_value(json_object_get(vm, "status")));
    if (want > max)
        return vr_error_set(err, VR_ERR_LIMIT, "memory_mib %lld is above VM '%s''s maximum (%lld MiB)", want,
                            json_string_value(json_object_get(vm, "name")), max);
    if (vr_vm_live_submit(c->e, vm, "set_balloon", json_pack("{s:I}", "memory_mib", (json_int_t)want), c->user, job,
                          err) < 0)
        return -1;
    *reply = json_pack("{s:s}", "job_id", job);
    return 0;
}

static const vr_field balloon_params[] = {
    {"memory_mib", VR_FT_INT, VR_F_REQ | VR_F_CREATE, 16, 4LL << 20, .doc = "The guest's new memory target."},
};

/* The stored hardware, overridden by what the body gives. */
static int vm_check_update(vr_call *c, json_t *row, json_t *b, vr_error *err)
{
    if (vm_placement(c, b, json_string_value(json_object_get(row, "cluster_id")), err) < 0)
        return -1;
    /* A running VM's NICs are live devices with pool MACs: they change one
     * by one through /nics (hot plug), never by rewriting the list. */
    if (ha_check(b, row, err) < 0 || lease_check(c, b, row, err) < 0)
        return -1;
    json_t *nics = json_object_get(b, "nics");
    if (nics && strcmp(json_string_value(json_object_get(row, "status")) ?: "down", "down")) {
        json_t *now = vr_json_copy_or_array(json_object_get(row, "nics")), *given = json_deep_copy(nics);
        size_t i;
        json_t *n;
        json_array_foreach(now, i, n) json_object_del(n, "mac");
        bool same = json_equal(now, given);
        json_decref(now);
        json_decref(given);
        if (!same)
            return vr_error_set(err, VR_ERR_BAD_STATE, "VM '%s' is %s: its NICs change through /api/vms/%s/nics",
                                json_string_value(json_object_get(row, "name")),
                                json_string_value(json_object_get(row, "status")),
                                json_string_value(json_object_get(row, "id")));
    }
    json_t *merged = json_object();
    for (size_t i = 0; i < vr_vm_nspec_members; i++) {
        const char *m = vr_vm_spec_members[i];
        json_t *v = json_object_get(b, m) ?: json_object_get(row, m);
        if (v && !json_is_null(v))
            json_object_set(merged, m, v);
    }
    if (!json_object_get(b, "nics")) { /* kept NICs keep their MACs (the store does) */
        json_t *copy = vr_json_copy_or_array(json_object_get(row, "nics"));
        size_t i;
        json_t *n;
        json_array_foreach(copy, i, n) json_object_del(n, "mac");
        json_object_set_new(merged, "nics", copy);
    }
    json_t *spec = vr_vm_spec_build(merged, json_integer_value(json_object_get(b, "vcpus")),
                                    json_integer_value(json_object_get(b, "memory_mib")), err);
    json_decref(merged);
    if (!spec ||
        vr_vm_spec_check_disk_refs(c->e, spec, row, json_string_value(json_object_get(row, "id")), err) < 0) {
        json_decref(spec);
        return -1;
    }
    json_object_set_new(b, "spec", spec);
    note_pending(row, b);
    return 0;
}

static int vm_check_delete(vr_call *c, json_t *row, vr_error *err)
{
    const char *st = json_string_value(json_object_get(row, "status")) ?: "?";
    if (strcmp(st, "down"))
        return vr_error_set(err, VR_ERR_BAD_STATE, "VM '%s' is %s; stop it first",
                            json_string_value(json_object_get(row, "name")), st);
    return 0;
}

/* The create, update and removal events are the dispatcher's (audit.c). */
static void vm_after_write(vr_call *c, const char *id, const char *what)
{
    if (strcmp(what, "created")) {
        vr_vm_leases_dirty(); /* a lease left behind goes in the storage thread's next round */
        return;
    }
    vr_perm_grant_owner(c->e, c->user, "vm", id, VR_USERVMMANAGER_ROLE_ID, NULL); /* its creator manages it */
}

/* What the VM takes of a quota while it is defined: all of it at create
 * or when it moves to another quota, what an update adds otherwise. */
static int vm_quota(vr_call *c, json_t *row, json_t *b, vr_error *err)
{
    const char *cluster = json_string_value(json_object_get(row ? row : b, "cluster_id")) ?: "";
    const char *given = json_string_value(json_object_get(b, "quota"));
    long long vcpus = json_integer_value(json_object_get(b, "vcpus"));
    long long mem = json_integer_value(json_object_get(b, "memory_mib"));
    long long dv = row ? vcpus - json_integer_value(json_object_get(row, "vcpus")) : vcpus;
    long long dm = row ? mem - json_integer_value(json_object_get(row, "memory_mib")) : mem;
    /* An update that grows nothing and keeps its quota (or has none and
     * names none) is not checked; keeping its quota it takes its growth;
     * moving to a quota (or given the default one now) it takes all. */
    bool kept = row && given && !strcmp(given, json_string_value(json_object_get(row, "quota")) ?: "");
    if (row && (kept || !given) && dv <= 0 && dm <= 0)
        return 0;
    if (kept) {
        vcpus = dv;
        mem = dm;
    }
    char dc[37], quota[37], what[100];
    vr_quota_dc_of_cluster(c->e, cluster, dc);
    snprintf(what, sizeof(what), "VM '%.64s'", json_string_value(json_object_get(b, "name")) ?: "");
    vr_quota_ask ask = {what, dc, cluster, vcpus, mem, NULL};
    if (vr_quota_take(c->e, c->user, given, &ask, quota, err) < 0)
        return -1;
    json_object_set_new(b, "quota", json_string(quota));
    return 0;
}

static int vm_start(vr_call *c, json_t *vm, json_t *body, json_t **reply, vr_error *err)
{
    char job[37];
    const char *id = json_string_value(json_object_get(vm, "id"));
    if (vr_vm_start_submit(c->e, id, c->user, job, err) < 0)
        return -1;
    vr_event(c->e, "normal", c->user, "vm", id, "start of VM '%s' accepted",
             json_string_value(json_object_get(vm, "name")));
    *reply = json_pack("{s:s}", "job_id", job);
    return 0;
}

/* stop|shutdown|reboot|pause|resume: a job that asks the VM's host. */
static int vm_power(vr_call *c, json_t *vm, const char *action, json_t **reply, vr_error *err)
{
    char job[37];
    if (vr_vm_action_submit(c->e, vm, action, c->user, job, err) < 0)
        return -1;
    *reply = json_pack("{s:s}", "job_id", job);
    return 0;
}

#define POWER(fn, action) \
    static int fn(vr_call *c, json_t *vm, json_t *body, json_t **reply, vr_error *err) { return vm_power(c, vm, action, reply, err); }
POWER(vm_stop, "stop")
POWER(vm_shutdown, "shutdown")
POWER(vm_reboot, "reboot")
POWER(vm_pause, "pause")

/* Resume: a paused VM goes on; a suspended one is started (restored from
 * its saved memory on any host, as start does). */
static int vm_resume(vr_call *c, json_t *vm, json_t *body, json_t **reply, vr_error *err)
{
    if (!strcmp(json_string_value(json_object_get(vm, "status")) ?: "", "suspended"))
        return vm_start(c, vm, body, reply, err);
    return vm_power(c, vm, "resume", reply, err);
}

/* Suspend to disk (docs/storage.md "Memory volumes"): a job. */
static int vm_suspend(vr_call *c, json_t *vm, json_t *body, json_t **reply, vr_error *err)
{
    char job[37];
    if (vr_vm_suspend_submit(c->e, vm, c->user, job, err) < 0)
        return -1;
    *reply = json_pack("{s:s}", "job_id", job);
    return 0;
}

/* Live migration within the cluster (docs/migration.md): a job. */
static int vm_migrate(vr_call *c, json_t *vm, json_t *body, json_t **reply, vr_error *err)
{
    char job[37];
    if (vr_vm_migrate_submit(c->e, vm, json_string_value(json_object_get(body, "host")),
                             json_integer_value(json_object_get(body, "bandwidth_mibps")), false, 0, c->user, job,
                             err) < 0)
        return -1;
    *reply = json_pack("{s:s}", "job_id", job);
    return 0;
}

static const vr_field migrate_params[] = {
    {"host", VR_FT_STR, VR_F_CREATE, 1, 255,
     .doc = "The destination host, by id or name, in the VM's cluster; absent: the scheduler picks one."},
    {"bandwidth_mibps", VR_FT_INT, VR_F_CREATE, 1, 100000, .doc = "Bandwidth cap of this migration; default 52 MiB/s."},
};

static int vm_clone(vr_call *c, json_t *vm, json_t *body, json_t **reply, vr_error *err)
{
    char job[37], id[37];
    if (!vr_valid_text(json_string_value(json_object_get(body, "description")) ?: ""))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "description must be text without control characters");
    vr_quota_lock(); /* the quota check and the new VM's rows are one step */
    int rc = vr_vm_clone_submit(c->e, vm, body, c->user, job, id, err);
    vr_quota_unlock();
    if (rc < 0)
        return -1;
    vr_perm_grant_owner(c->e, c->user, "vm", id, VR_USERVMMANAGER_ROLE_ID, NULL); /* the cloner manages it */
    *reply = json_pack("{s:s}", "job_id", job); /* the job's object_id names the new VM */
    return 0;
}

static const vr_field clone_params[] = {
    {"name", VR_FT_NAME, VR_F_REQ | VR_F_CREATE, .doc = "The new VM's name."},
    {"description", VR_FT_STR, VR_F_CREATE, 0, 4096, .doc = NULL},
    {"snapshot", VR_FT_ID, VR_F_CREATE,
     .doc = "Clone the VM as it was in this snapshot of it (its disks and definition then); absent: as it is now."},
    {"quota", VR_FT_REF, VR_F_CREATE, .ref = "quotas",
     .doc = "The quota the new VM and its disks count against (default: the data center's only quota)."},
};

static const vr_action vm_actions[] = {
    {"start", "Start a VM (a job: scheduling, then starting on the chosen host)", true, vm_start, NULL, 0},
    {"stop", "Power a VM off at once (a job)", true, vm_stop, NULL, 0},
    {"shutdown", "Ask the guest to shut down through ACPI (a job)", true, vm_shutdown, NULL, 0},
    {"reboot", "Reboot a VM (a job)", true, vm_reboot, NULL, 0},
    {"pause", "Pause a VM (a job)", true, vm_pause, NULL, 0},
    {"resume", "Resume a paused VM, or start a suspended one from its saved memory (a job)", true, vm_resume, NULL,
     0},
    {"suspend", "Save a running VM's memory to a volume on a storage domain and stop it (a job); the VM is then"
     " suspended and its next start restores it on any host", true, vm_suspend, NULL, 0},
    {"balloon", "Set the balloon target of a running VM (a job)", true, vm_balloon, balloon_params,
     VR_ARRAY_SIZE(balloon_params)},
    {"migrate", "Live-migrate a running VM to another host of its cluster (a job)", true, vm_migrate,
     migrate_params, VR_ARRAY_SIZE(migrate_params)},
    {"ticket", "A one-time ticket (valid seconds, single use) for the VM's serial or graphics console through the"
     " WebSocket GET /api/vms/ID/console?ticket=T", false, vr_console_ticket, vr_console_ticket_params,
     2},
    {"clone", "Make an independent VM from this stopped VM, as it is or as in one of its snapshots (a job whose"
     " object_id is the new VM)", true, vm_clone, clone_params, VR_ARRAY_SIZE(clone_params)},
    {"export", "Copy this stopped VM (each disk collapsed) and its OVF description to an export domain of its data"
     " center (a job; docs/storage.md \"Export domains\")", true, vr_vm_export_action, vr_export_params, 3},
};

#define MEM_MAX (4LL << 20)
static const vr_field vm_fields[] = {
    {"id", VR_FT_ID, 0, .doc = NULL},
    {"name", VR_FT_NAME, VR_F_REQ | VR_F_CREATE | VR_F_UPDATE | VR_F_SORT, .doc = NULL},
    {"description", VR_FT_STR, VR_F_CREATE | VR_F_UPDATE, 0, 4096, .dflt = "\"\""},
    {"cluster_id", VR_FT_REF, VR_F_REQ | VR_F_CREATE | VR_F_FIXED, .ref = "clusters",
     .doc = "Its cluster (cannot change)."},
    {"host_id", VR_FT_ID, VR_F_NULL, .doc = "The host it runs on (or is being started on); null when down."},
    {"host", VR_FT_STR, VR_F_NULL, .doc = "That host's name; null when host_id is."},
    {"migrating_to_host_id", VR_FT_ID, VR_F_NULL,
     .doc = "While the VM is migratingfrom: the host it is migrating to, once the migration chose it (RHV's"
            " MigratingTo side); null otherwise, also while the migration waits for a slot or schedules."},
    {"migrating_to_host", VR_FT_STR, VR_F_NULL, .doc = "That host's name; null when migrating_to_host_id is."},
    {"status", VR_FT_ENUM, VR_F_SORT, .values = {vr_vm_status_names, VR_VM_NSTATUS}},
    {"memory_mib", VR_FT_INT, VR_F_REQ | VR_F_CREATE | VR_F_UPDATE | VR_F_SORT, 16, MEM_MAX, .doc = NULL},
    {"vcpus", VR_FT_INT, VR_F_CREATE | VR_F_UPDATE | VR_F_SORT, 1, 240, .dflt = "1"},
    {"devices", VR_FT_JSON, VR_F_NULL, .schema = "VmDevices",
     .doc = "Devices with their addresses as the host reported them at the first start; null before."},
    {"created_at", VR_FT_TIME, VR_F_SORT, .doc = NULL},
    {"placement_policy", VR_FT_JSON, VR_F_CREATE | VR_F_UPDATE, .schema = "VmPlacementPolicy",
     .doc = "Whether it may migrate (migratable; user_migratable: only when a user asks; pinned: never) and the"
            " hosts it may run on (ids or names; none: any host of its cluster). Default migratable, any host."},
    {"pending_changes", VR_FT_JSON, 0, .schema = "PendingChanges",
     .doc = "Members changed while the VM ran that apply at its next start (its next-run configuration)."},
    {"high_availability", VR_FT_JSON, VR_F_CREATE | VR_F_UPDATE, .schema = "VmHighAvailability",
     .dflt = "{\"enabled\": false, \"priority\": 0}",
     .doc = "Restart the VM when its QEMU dies unasked, highest priority first (docs/fencing.md)."},
    {"lease", VR_FT_JSON, VR_F_CREATE | VR_F_UPDATE | VR_F_NULL, .schema = "VmLease",
     .doc = "A sanlock lease on a data domain of its data center ({storage_domain: id}; {} removes it): libvirt"
            " and sanlock then refuse a second QEMU of the VM on any host (docs/availability.md). Null: none."},
    {"guest_info", VR_FT_JSON, VR_F_NULL, .schema = "VmGuestInfo",
     .doc = "What the guest agent (qemu-guest-agent on the VM's org.qemu.guest_agent.0 channel) last reported, as"
            " the host monitor reads it with the VM's statistics; null while the VM is down or its guest runs no"
            " agent."},
    {"stop_reason", VR_FT_STR, 0, .doc = "Why the VM last stopped: crashed, user, shutdown, destroyed, host_fenced,"
     " host_lost (its host unreachable and its lease free), lease_lost (its host lost its lease: sanlock powered it off),"
     " unknown; empty before its first stop and after a start by a user."},
    {"pause_reason", VR_FT_STR, VR_F_NULL, .doc = "Why the VM is paused, as its host's monitor last read it:"
     " enospc (a disk's storage is full; its host resumes it once there is room), ioerror (another storage I/O"
     " error), user, migration, snapshot, save, dump, starting, shutting_down, crashed, watchdog, unknown; null"
     " while it is not paused (or before the next poll tells why)."},
    {"boot", VR_FT_JSON, VR_F_SPEC | VR_F_OPT | VR_F_CREATE | VR_F_UPDATE, .schema = "VmBoot"},
    {"disks", VR_FT_JSON, VR_F_SPEC | VR_F_CREATE | VR_F_UPDATE, .schema = "VmDisks"},
    {"nics", VR_FT_JSON, VR_F_SPEC | VR_F_CREATE | VR_F_UPDATE, .schema = "VmNics"},
    {"max_vcpus", VR_FT_INT, VR_F_SPEC | VR_F_OPT | VR_F_CREATE | VR_F_UPDATE, 1, 240,
     .doc = "Upper bound for hot-added vCPUs."},
    {"max_memory_mib", VR_FT_INT, VR_F_SPEC | VR_F_OPT | VR_F_CREATE | VR_F_UPDATE, 16, MEM_MAX, .doc = NULL},
    {"serial_console", VR_FT_BOOL, VR_F_SPEC | VR_F_CREATE | VR_F_UPDATE, .dflt = "true"},
    {"vnc", VR_FT_BOOL, VR_F_SPEC | VR_F_CREATE | VR_F_UPDATE, .dflt = "false"},
    {"quota", VR_FT_REF, VR_F_CREATE | VR_F_UPDATE | VR_F_NULL, .ref = "quotas",
     .doc = "The quota of its data center its vCPUs and memory count against (docs/permissions.md \"Quotas\");"
            " default: the data center's only quota, if it has exactly one. Null: none."},
};

const vr_kind vr_kind_vms = {
    .collection = "vms", .type = "vm", .title = "VM", .schema = "Vm", .tag = "VMs",
    .store = &vr_store_vms, .fields = vm_fields, .nfields = VR_ARRAY_SIZE(vm_fields),
    .actions = vm_actions, .nactions = VR_ARRAY_SIZE(vm_actions), .parent = "clusters", .parent_field = "cluster_id",
    .check_create = vm_check_create, .check_update = vm_check_update, .check_delete = vm_check_delete,
    .after_write = vm_after_write, .present = vm_present, .live_update = vm_live_update, .quota = vm_quota,
};
