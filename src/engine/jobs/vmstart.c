#include "vmstart.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentcall.h"
#include "deployjob.h"
#include "fencejob.h"
#include "jobs.h"
#include "vmaction.h"
#include "vmlease.h"
#include "vmlive.h"
#include "vmsuspend.h"
#include "log.h"
#include "memvol.h"
#include "maintenance.h"
#include "scheduler.h"
#include "diskjobs.h"
#include "sdjobs.h"
#include "netlabel.h"
#include "rolenet.h"
#include "setupnet.h"
#include "snapjobs.h"
#include "stateless.h"
#include "templjobs.h"
#include "clonejobs.h"
#include "exportjob.h"
#include "vnic.h"
#include "i18n.h"

/* Copy a stored address onto the spec device that matches it. */
static void apply_addresses(json_t *list, json_t *devices, const char *kind, const char *key)
{
    size_t i, j;
    json_t *d, *dev;
    json_array_foreach(list, i, d) {
        json_array_foreach(devices, j, dev) {
            const char *a = json_string_value(json_object_get(d, key));
            const char *b = json_string_value(json_object_get(dev, key));
            /* An engine disk's file is .../images/<disk id>/<volume> on its host. */
            const char *disk = json_string_value(json_object_get(d, "disk"));
            char img[64] = "";
            if (disk)
                snprintf(img, sizeof(img), "/images/%.36s/", disk);
            bool same = a && b ? !strcmp(a, b) : disk && b && strstr(b, img);
            if (!strcmp(json_string_value(json_object_get(dev, "kind")) ?: "", kind) && same &&
                json_object_get(dev, "address")) {
                json_object_set(d, "address", json_object_get(dev, "address"));
                if (!strcmp(kind, "disk") && json_object_get(dev, "target"))
                    json_object_set(d, "target", json_object_get(dev, "target"));
            }
        }
    }
}

json_t *vr_vm_agent_disk(vr_engine *e, json_t *disk, vr_error *err)
{
    const char *id = json_string_value(json_object_get(disk, "disk"));
    if (!id)
        return json_deep_copy(disk);
    json_t *row = vr_db_query_one(e->db, "SELECT d.id AS id, d.alias AS alias, d.volume_id AS volume_id,"
                                  " d.format AS format, d.interface AS interface, d.read_only AS read_only, d.status AS status,"
                                  " d.storage_domain_id AS domain, s.name AS sd_name, s.status AS sd_status"
                                  " FROM disks d JOIN storage_domains s ON s.id = d.storage_domain_id WHERE d.id = ?",
                                  DB_ARGS(DB_TEXT(id)), err);
    const char *st = json_string_value(json_object_get(row, "status")) ?: "";
    const char *sd_st = json_string_value(json_object_get(row, "sd_status")) ?: "";
    if (!row) {
        if (!err->code)
            vr_error_set(err, VR_ERR_NOT_FOUND, "disk %s no longer exists", id);
        return NULL;
    }
    if (vr_disk_doubt_refuse(row, err) < 0) {
        json_decref(row);
        return NULL;
    }
    if (strcmp(st, "ok") || strcmp(sd_st, "active")) {
        vr_error_set(err, VR_ERR_BAD_STATE, strcmp(st, "ok") ? N_("disk '%s' is %s") : N_("disk '%s' is on storage domain"
                     " '%s', which is %s"), json_string_value(json_object_get(row, "alias")),
                     strcmp(st, "ok") ? st : json_string_value(json_object_get(row, "sd_name")), sd_st);
        json_decref(row);
        return NULL;
    }
    json_t *out = json_deep_copy(disk);
    json_object_del(out, "disk");
    json_object_del(out, "bootable");
    json_object_set_new(out, "volume", json_pack("{s:O, s:s, s:O}", "domain", json_object_get(row, "domain"), "image",
                                                 id, "volume", json_object_get(row, "volume_id")));
    bool cow = !strcmp(json_string_value(json_object_get(row, "format")) ?: "", "cow");
    json_object_set_new(out, "format", json_string(cow ? "qcow2" : "raw"));
    if (!json_object_get(out, "bus")) {
        const char *iface = json_string_value(json_object_get(row, "interface")) ?: "virtio";
        json_object_set_new(out, "bus", json_string(!strcmp(iface, "virtio_scsi") ? "virtio-scsi" : iface));
    }
    if (json_integer_value(json_object_get(row, "read_only")))
        json_object_set_new(out, "readonly", json_true());
    json_decref(row);
    return out;
}

json_t *vr_vm_agent_spec(vr_engine *e, json_t *vm, vr_error *err)
{
    json_t *spec = json_deep_copy(json_object_get(vm, "spec"));
    if (!json_is_object(spec)) {
        json_decref(spec);
        spec = json_object();
    }
    json_object_set(spec, "name", json_object_get(vm, "name"));
    json_object_set(spec, "uuid", json_object_get(vm, "id"));
    json_object_set(spec, "memory_mib", json_object_get(vm, "memory_mib"));
    json_object_set(spec, "vcpus", json_object_get(vm, "vcpus"));
    json_t *cl = vr_db_query_one(e->db, "SELECT cpu_type FROM clusters WHERE id = ?",
                                 DB_ARGS(DB_TEXT(json_string_value(json_object_get(vm, "cluster_id")))),
                                 NULL);
    if (cl)
        json_object_set(spec, "cpu_model", json_object_get(cl, "cpu_type"));
    json_decref(cl);
    /* Stable PCI addresses: what the agent reported at the first start. */
    json_t *devices = json_object_get(vm, "devices");
    if (json_is_array(devices)) {
        apply_addresses(json_object_get(spec, "disks"), devices, "disk", "path");
        apply_addresses(json_object_get(spec, "nics"), devices, "nic", "mac");
    }
    /* Disks named by id become the volumes the agent resolves. */
    json_t *disks = json_object_get(spec, "disks");
    for (size_t i = 0; i < json_array_size(disks); i++) {
        json_t *d = vr_vm_agent_disk(e, json_array_get(disks, i), err);
        if (!d) {
            json_decref(spec);
            return NULL;
        }
        json_array_set_new(disks, i, d);
    }
    /* NICs on vNIC profiles become the agent's network fields. */
    json_t *nics = json_object_get(spec, "nics");
    for (size_t i = 0; i < json_array_size(nics); i++) {
        json_t *n = vr_vnic_agent_nic(e, json_array_get(nics, i), err);
        if (!n) {
            json_decref(spec);
            return NULL;
        }
        json_array_set_new(nics, i, n);
    }
    return spec;
}

#define VM_SELECT "SELECT id, name, cluster_id, host_id, status, memory_mib, vcpus, spec_json," \
                  " devices_json, memory_json, coalesce(pending_json, '') AS pending_text, stop_reason FROM vms WHERE id = ?"

/* A start that did not happen: a VM with saved memory is suspended again
 * (the next start restores it), any other down. */
#define NOT_STARTED "UPDATE vms SET status = CASE WHEN memory_json IS NULL THEN 'down' ELSE 'suspended' END," \
                    " host_id = NULL WHERE id = ?"

/* The VM runs from its saved memory (mem, its vms.memory_json): the VM no
 * longer has it, and a suspend's memory volume goes (a snapshot's stays
 * with the snapshot). Best effort: a volume left is named in an event. */
static void forget_memory(vr_engine *e, const char *job_id, const char *vm_id, json_t *mem)
{
    if (!json_is_object(mem))
        return;
    vr_db_exec(e->db, "UPDATE vms SET memory_json = NULL WHERE id = ?", DB_ARGS(DB_TEXT(vm_id)), NULL);
    if (json_object_get(mem, "snapshot"))
        return;
    vr_error err = {0};
    json_t *res = NULL, *spm = vr_storage_wait_spm(e, job_id, json_string_value(json_object_get(mem, "datacenter")),
                                                    30, &err);
    if (!spm || vr_agent_call_host(e, spm, "Volume.delete", vr_memvol_ref(mem), &res, &err) < 0)
        vr_event(e, "warning", "", "vm", vm_id, "memory volume %s (image %s), which the VM was restored from, is left"
                 " on its storage domain: %s", json_string_value(json_object_get(mem, "volume")),
                 json_string_value(json_object_get(mem, "image")), err.message);
    json_decref(res);
    json_decref(spm);
}

/* Where does a VM whose start may already have been sent stand? The host
 * is recorded before VM.create goes out, so only that host can run it.
 * Returns 1 if it runs there (*host set), 0 if it surely does not, -1 if
 * that host cannot tell us (the outcome stays unknown). */
static int check_recorded_host(vr_engine *e, json_t *vm, json_t **host)
{
    const char *hid = json_string_value(json_object_get(vm, "host_id"));
    if (!hid)
        return 0;
    json_t *h = vr_db_query_one(e->db, "SELECT id, name, address, port FROM hosts WHERE id = ?",
                                DB_ARGS(DB_TEXT(hid)), NULL);
    if (!h)
        return 0;
    json_t *r = NULL;
    vr_error err = {0};
    int rc = vr_agent_call_host(e, h, "VM.get", json_pack("{s:O}", "uuid", json_object_get(vm, "id")),
                                &r, &err);
    json_decref(r);
    if (rc == 0) {
        *host = h;
        return 1;
    }
    json_decref(h);
    return err.code == VR_ERR_NO_VM ? 0 : -1;
}

/* The VM may or may not run on its host: say so, and never start it
 * anywhere else until the host's monitor finds out. */
static void mark_unknown(vr_engine *e, const char *job_id, const char *vm_id, const char *name,
                         const char *hname, const char *user, const char *why)
{
    vr_db_exec(e->db, "UPDATE vms SET status = 'unknown' WHERE id = ?", DB_ARGS(DB_TEXT(vm_id)), NULL);
    vr_event(e, "warning", user, "vm", vm_id,
             "start of VM '%s' on host '%s' has an unknown outcome (%s); the VM is unknown until "
             "the host answers", name, hname, why);
    vr_job_update(e, job_id, "failed", why);
}

/* A cancel honoured before VM.create went out: nothing ran anywhere, so
 * the VM simply goes back to down. */
static bool cancelled(vr_engine *e, const char *job_id, const char *vm_id, const char *user)
{
    if (!vr_job_cancel_requested(e, job_id))
        return false;
    vr_db_exec(e->db, NOT_STARTED " AND status = 'waitforlaunch'",
               DB_ARGS(DB_TEXT(vm_id)), NULL);
    vr_job_update(e, job_id, "cancelled", "cancelled before the VM was sent to a host");
    vr_event(e, "normal", user, "vm", vm_id, "start of VM %s cancelled", vm_id);
    return true;
}

static void run_start(vr_engine *e, const char *job_id, const char *vm_id, const char *user)
{
    if (cancelled(e, job_id, vm_id, user))
        return;
    vr_job_update(e, job_id, "running", "scheduling");
    vr_job_progress(e, job_id, 5);
    vr_error err = {0};
    json_t *vm = vr_db_query_one(e->db, VM_SELECT, DB_ARGS(DB_TEXT(vm_id)), &err);
    if (!vm || strcmp(json_string_value(json_object_get(vm, "status")), "waitforlaunch")) {
        vr_job_update(e, job_id, "failed", vm ? N_("the VM is no longer waiting for launch") : N_("the VM is gone"));
        json_decref(vm);
        return;
    }
    const char *name = json_string_value(json_object_get(vm, "name"));
    json_t *host = NULL, *result = NULL;
    char reason[512] = "";
    int where = check_recorded_host(e, vm, &host);
    if (where < 0) {
        json_t *h = vr_db_query_one(e->db, "SELECT name FROM hosts WHERE id = ?",
                                    DB_ARGS(DB_TEXT(json_string_value(json_object_get(vm, "host_id")))), NULL);
        mark_unknown(e, job_id, vm_id, name, h ? json_string_value(json_object_get(h, "name")) : "?",
                     user, "its host does not answer");
        json_decref(h);
        goto out;
    }
    if (where > 0) {
        vr_db_exec(e->db, "UPDATE vms SET status = 'poweringup', host_id = ? WHERE id = ?",
                   DB_ARGS(DB_TEXT(json_string_value(json_object_get(host, "id"))), DB_TEXT(vm_id)), NULL);
        vr_event(e, "normal", user, "vm", vm_id, "VM '%s' was already running on host '%s'; adopted",
                 name, json_string_value(json_object_get(host, "name")));
        forget_memory(e, job_id, vm_id, json_object_get(vm, "memory"));
        vr_job_update(e, job_id, "finished", "already running");
        goto out;
    }
    /* An HA VM whose host lost its lease: started only once the lease
     * is free (so it runs nowhere), and not on that host. */
    char lost_on[37] = "";
    if (!strcmp(json_string_value(json_object_get(vm, "stop_reason")) ?: "", "lease_lost") &&
        json_is_string(json_object_get(vm, "host_id"))) {
        char how[96] = "";
        snprintf(lost_on, sizeof(lost_on), "%s", json_string_value(json_object_get(vm, "host_id")));
        vr_job_update(e, job_id, "running", N_("waiting for the VM's lease to be free"));
        if (vr_vm_lease_wait_free(e, job_id, vm_id, 90, how, sizeof(how), &err) < 0) {
            vr_db_exec(e->db, NOT_STARTED " AND status = 'waitforlaunch'", DB_ARGS(DB_TEXT(vm_id)), NULL);
            vr_event(e, "error", user, "vm", vm_id, "cannot start VM '%s': %s", name, err.message);
            vr_job_update(e, job_id, "failed", err.message);
            goto out;
        }
        if (how[0])
            vr_event(e, "normal", user, "vm", vm_id, "the lease of VM '%s' is free (%s): it runs nowhere, so it may"
                     " start again", name, how);
    }
    /* A stateless VM (a pool's) gets fresh layers; the last run's go. */
    if (vr_stateless_prepare(e, job_id, vm_id, &err) < 0) {
        vr_db_exec(e->db, NOT_STARTED " AND status = 'waitforlaunch'",
                   DB_ARGS(DB_TEXT(vm_id)), NULL);
        vr_event(e, "error", user, "vm", vm_id, "cannot start VM '%s': %s", name, err.message);
        vr_job_update(e, job_id, "failed", err.message);
        goto out;
    }
    /* One placement at a time, so two starts cannot both take the last
     * free memory of a host. */
    pthread_mutex_lock(&e->sched_lock);
    if (vr_sched_pick(e, vm, lost_on[0] ? lost_on : NULL, &host, reason, sizeof(reason), &err) < 0) {
        pthread_mutex_unlock(&e->sched_lock);
        vr_db_exec(e->db, NOT_STARTED " AND status = 'waitforlaunch'",
                   DB_ARGS(DB_TEXT(vm_id)), NULL);
        vr_event(e, "error", user, "vm", vm_id, "cannot start VM '%s': %s", name, err.message);
        vr_job_update(e, job_id, "failed", err.message);
        goto out;
    }
    if (cancelled(e, job_id, vm_id, user)) {
        pthread_mutex_unlock(&e->sched_lock);
        goto out;
    }
    const char *hid = json_string_value(json_object_get(host, "id"));
    const char *hname = json_string_value(json_object_get(host, "name"));
    /* Book the host before the next placement looks at it; its monitor
     * recomputes these from the VMs at every poll. */
    vr_db_exec(e->db, "UPDATE vms SET host_id = ? WHERE id = ?", DB_ARGS(DB_TEXT(hid), DB_TEXT(vm_id)), NULL);
    vr_db_exec(e->db, "UPDATE hosts SET committed_mib = committed_mib + ?,"
               " pending_vcpus = pending_vcpus + ? WHERE id = ?",
               DB_ARGS(DB_INT(json_integer_value(json_object_get(vm, "memory_mib"))),
                       DB_INT(json_integer_value(json_object_get(vm, "vcpus"))), DB_TEXT(hid)), NULL);
    vr_hostview_refresh(e->view, e->db, hid);
    pthread_mutex_unlock(&e->sched_lock);
    vr_event(e, "normal", user, "vm", vm_id, "scheduler placed VM '%s' on host '%s': %s", name, hname,
             reason);
    char step[200]; /* the job says where, not only the event */
    vr_i18n_format(step, sizeof(step), "starting on host '%s'", hname);
    vr_job_update(e, job_id, "running", step);
    vr_job_progress(e, job_id, 30);
    json_t *agent_spec = vr_vm_agent_spec(e, vm, &err);
    if (agent_spec && json_is_true(json_object_get(agent_spec, "vnc"))) {
        /* VNC listens on the host's display network address, else on its
         * loopback; a ticket is its password either way. */
        char listen[64], why[300];
        vr_dispnet_address(e, vm_id, host, listen, sizeof(listen), why, sizeof(why));
        if (*why)
            vr_event(e, "warning", user, "vm", vm_id, "the consoles of VM '%s' listen on the loopback of host '%s': %s",
                     name, hname, why);
        json_object_set_new(agent_spec, "vnc", json_pack("{s:s}", "listen", listen));
    }
    if (agent_spec && vr_vm_lease_prepare(e, job_id, vm_id, agent_spec, &err) < 0) {
        json_decref(agent_spec);
        agent_spec = NULL;
    }
    /* A suspended VM (or one previewing a snapshot with memory) resumes
     * from its saved memory instead of booting. */
    json_t *mem = json_object_get(vm, "memory");
    const char *verb = agent_spec && json_is_object(mem) ? "VM.restore" : "VM.create";
    if (agent_spec && json_is_object(mem))
        json_object_set_new(agent_spec, "memory", vr_memvol_ref(mem));
    if (agent_spec && vr_agent_call_host(e, host, verb, agent_spec, &result, &err) < 0 &&
        err.code == VR_ERR_IO) {
        /* The request may have reached the agent before the connection
         * broke: the VM may be running there. */
        mark_unknown(e, job_id, vm_id, name, hname, user, err.message);
        goto out;
    }
    if (err.code) {
        vr_db_exec(e->db, NOT_STARTED,
                   DB_ARGS(DB_TEXT(vm_id)), NULL);
        vr_event(e, "error", user, "vm", vm_id, "VM '%s' failed to start on host '%s': %s", name,
                 hname, err.message);
        vr_job_update(e, job_id, "failed", err.message);
        goto out;
    }
    /* The first start fixes the device addresses for every later one. */
    char *devs = json_dumps(json_object_get(result, "devices"), JSON_COMPACT);
    /* Changes stored after the spec was read (a PUT meanwhile) stay pending. */
    vr_db_exec(e->db, "UPDATE vms SET status = 'poweringup',"
               " pending_json = CASE WHEN coalesce(pending_json, '') = ? THEN NULL ELSE pending_json END,"
               " devices_json = coalesce(devices_json, ?) WHERE id = ?",
               DB_ARGS(DB_TEXT(json_string_value(json_object_get(vm, "pending_text")) ?: ""),
                       devs ? DB_TEXT(devs) : DB_NULL, DB_TEXT(vm_id)), NULL);
    free(devs);
    vr_event(e, "normal", user, "vm", vm_id, json_is_object(mem) ? N_("VM '%s' restored from its saved memory on host"
             " '%s'") : N_("VM '%s' started on host '%s'"), name, hname);
    forget_memory(e, job_id, vm_id, mem);
    vr_job_update(e, job_id, "finished", "");
out:
    json_decref(result);
    json_decref(host);
    json_decref(vm);
}

static void start_thread(vr_engine *e, const char *job_id, const char *vm_id, const char *user)
{
    run_start(e, job_id, vm_id, user);
}

static void spawn(vr_engine *e, const char *job_id, const char *vm_id, const char *user)
{
    vr_job_spawn(e, job_id, vm_id, user, start_thread);
}

int vr_vm_start_submit(vr_engine *e, const char *vm_id, const char *user, char job_id[37],
                       vr_error *err)
{
    vr_uuid_new(job_id);
    if (vr_db_begin(e->db, err) < 0)
        return -1;
    json_t *vm = vr_db_query_one(e->db, "SELECT name, status, spec_json FROM vms WHERE id = ?",
                                 DB_ARGS(DB_TEXT(vm_id)), err);
    if (!vm) {
        vr_db_rollback(e->db);
        return err->code ? -1 : vr_error_set(err, VR_ERR_NO_VM, "no VM with id '%s'", vm_id);
    }
    char st[32];
    snprintf(st, sizeof(st), "%s", json_string_value(json_object_get(vm, "status")) ?: "");
    if (strcmp(st, "down") && strcmp(st, "suspended")) {
        vr_error_set(err, VR_ERR_BAD_STATE, "VM '%s' is %s; only a down or suspended VM can be started",
                     json_string_value(json_object_get(vm, "name")), st);
        json_decref(vm);
        vr_db_rollback(e->db);
        return -1;
    }
    /* a disk in doubt: which copy to start from is a person's choice */
    if (vr_vm_lease_check(e, vm_id, err) < 0 || vr_vm_disks_doubt_refuse(e, json_object_get(vm, "spec"), err) < 0) {
        json_decref(vm);
        vr_db_rollback(e->db);
        return -1;
    }
    char desc[160];
    vr_i18n_format(desc, sizeof(desc), "Start VM '%s'", json_string_value(json_object_get(vm, "name")));
    json_decref(vm);
    /* Status and job are written together: an accepted start is never lost. */
    /* The status condition in the UPDATE itself makes this atomic on
     * PostgreSQL too, where the SELECT above does not lock the row. */
    int changed = vr_db_exec(e->db, "UPDATE vms SET status = 'waitforlaunch', stop_reason = '', stop_requested = 0, pause_reason = ''"
                             " WHERE id = ? AND status = ?", DB_ARGS(DB_TEXT(vm_id), DB_TEXT(st)), err);
    if (changed == 0)
        vr_error_set(err, VR_ERR_BAD_STATE, "VM %s is no longer %s", vm_id, st);
    if (changed <= 0 ||
        vr_db_exec(e->db, "INSERT INTO jobs (id, action, object_type, object_id, status, user_name,"
                   " description, created_at, updated_at) VALUES (?, 'start', 'vm', ?, 'pending', ?, ?, ?, ?)",
                   DB_ARGS(DB_TEXT(job_id), DB_TEXT(vm_id), DB_TEXT(user), DB_TEXT(desc),
                           DB_INT(vr_now()), DB_INT(vr_now())), err) < 0 ||
        vr_job_describe(e, job_id, desc, err) < 0) {
        vr_db_rollback(e->db);
        return -1;
    }
    if (vr_db_commit(e->db, err) < 0)
        return -1;
    spawn(e, job_id, vm_id, user);
    return 0;
}

int vr_vm_ha_restart_submit(vr_engine *e, const char *vm_id, const char *name, const char *host_id,
                            const char *from, const char *reason, char job_id[37], vr_error *err)
{
    vr_uuid_new(job_id);
    char desc[160];
    vr_i18n_format(desc, sizeof(desc), "Restart highly available VM '%s'", name);
    if (vr_db_begin(e->db, err) < 0)
        return -1;
    /* Still where and as the caller saw it: a monitor's event and its poll
     * may both report the same end; only one of them restarts the VM. */
    /* A VM that lost its lease keeps its host for the start job to avoid. */
    int changed = vr_db_exec(e->db, "UPDATE vms SET status = 'waitforlaunch', host_id = CASE WHEN CAST(? AS TEXT) = 'lease_lost'"
                             " THEN host_id ELSE NULL END, stop_reason = ?,"
                             " stop_requested = 0, pause_reason = '' WHERE id = ? AND status = ? AND host_id = ? AND ha_enabled = 1"
                             " AND stop_requested = 0",
                             DB_ARGS(DB_TEXT(reason), DB_TEXT(reason), DB_TEXT(vm_id), DB_TEXT(from), DB_TEXT(host_id)), err);
    if (changed <= 0 ||
        vr_db_exec(e->db, "INSERT INTO jobs (id, action, object_type, object_id, status, user_name,"
                   " description, created_at, updated_at) VALUES (?, 'start', 'vm', ?, 'pending', '', ?, ?, ?)",
                   DB_ARGS(DB_TEXT(job_id), DB_TEXT(vm_id), DB_TEXT(desc), DB_INT(vr_now()), DB_INT(vr_now())),
                   err) < 0 || vr_job_describe(e, job_id, desc, err) < 0) {
        vr_db_rollback(e->db);
        return changed < 0 || err->code ? -1 : 0;
    }
    if (vr_db_commit(e->db, err) < 0)
        return -1;
    spawn(e, job_id, vm_id, "");
    return 1;
}

/* A start: it asks the recorded host before ever placing the VM again. */
static bool start_resume(vr_engine *e, json_t *r)
{
    const char *id = json_string_value(json_object_get(r, "id"));
    if (strcmp(json_string_value(json_object_get(r, "action")) ?: "", "start"))
        return false;
    VR_INFO("resuming job %s (start of VM %s)", id, json_string_value(json_object_get(r, "object_id")));
    vr_job_update(e, id, "pending", "resumed after an engine restart");
    spawn(e, id, json_string_value(json_object_get(r, "object_id")), json_string_value(json_object_get(r, "user_name")));
    return true;
}

/* Each family of jobs knows its own actions and restart rules. */
static void resume_one(vr_engine *e, json_t *job)
{
    if (start_resume(e, job) || vr_vm_action_resume(e, job) || vr_vm_live_resume(e, job) ||
        vr_snapshot_job_resume(e, job) || vr_vm_suspend_resume(e, job) || vr_template_job_resume(e, job) || vr_vm_clone_resume(e, job) || vr_export_job_resume(e, job) ||
        vr_storage_job_resume(e, job) || vr_setupnet_resume(e, job) || vr_netlabel_resume(e, job) || vr_maint_resume(e, job) ||
        vr_fence_job_resume(e, job) || vr_deploy_resume(e, job))
        return;
    vr_job_update(e, json_string_value(json_object_get(job, "id")), "failed",
                  "interrupted by an engine restart; this engine does not know how to resume it");
}

void vr_jobs_resume(vr_engine *e)
{
    vr_jobs_each_unfinished(e, resume_one);
}
