/* Live changes of a running VM as jobs: hot plug and unplug of NICs and
 * disks, disk I/O limits, vCPU hot add, the balloon target. Each is a row
 * of the table below: the agent verb, then what the engine stores once the
 * host did it (the VM's spec and device list, in one transaction), or
 * undoes when it failed. The API answers 202; no API thread waits on the
 * agent. */
#include "vmlive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agentcall.h"
#include "jobs.h"
#include "log.h"
#include "vmstart.h"
#include "vnic.h"
#include "i18n.h"

typedef struct live_action {
    const char *action, *verb, *title; /* title: the job's description, of the VM's name */
    /* After the host did it: update spec/devices (in a transaction). */
    int (*commit)(json_t *spec, json_t *devices, json_t *params, json_t *result);
    /* After it failed: give back what was reserved. */
    void (*undo)(vr_engine *e, const char *vm_id, json_t *params);
    /* After it was done and recorded. */
    void (*after)(vr_engine *e, const char *vm_id, json_t *params);
    /* The agent's params when they are not the job's own (NULL with err). */
    json_t *(*agent_params)(vr_engine *e, json_t *params, vr_error *err);
} live_action;

static json_t *find_by(json_t *list, const char *key, const char *value, size_t *index)
{
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x) {
        const char *v = json_string_value(json_object_get(x, key));
        if (v && value && !strcasecmp(v, value)) {
            if (index)
                *index = i;
            return x;
        }
    }
    return NULL;
}

static int add_nic(json_t *spec, json_t *devices, json_t *params, json_t *result)
{
    json_array_append(json_object_get(spec, "nics"), json_object_get(params, "nic"));
    if (json_is_object(result))
        json_array_append(devices, result);
    return 0;
}

static void free_mac(vr_engine *e, const char *vm_id, json_t *params)
{
    const char *mac = json_string_value(json_object_get(json_object_get(params, "nic"), "mac"));
    vr_db_exec(e->db, "DELETE FROM macs WHERE mac = ? AND vm_id = ?", DB_ARGS(DB_TEXT(mac ?: ""), DB_TEXT(vm_id)),
               NULL);
}

static void drop_device(json_t *devices, const char *key, const char *value)
{
    size_t i;
    if (find_by(devices, key, value, &i))
        json_array_remove(devices, i);
}

static int remove_nic(json_t *spec, json_t *devices, json_t *params, json_t *result)
{
    const char *mac = json_string_value(json_object_get(params, "mac"));
    size_t i;
    if (find_by(json_object_get(spec, "nics"), "mac", mac, &i))
        json_array_remove(json_object_get(spec, "nics"), i);
    drop_device(devices, "mac", mac);
    return 0;
}

static int add_disk(json_t *spec, json_t *devices, json_t *params, json_t *result)
{
    json_t *disk = json_deep_copy(json_object_get(params, "disk"));
    const char *target = json_string_value(json_object_get(result, "target"));
    if (target) /* the agent chose it among the VM's targets */
        json_object_set_new(disk, "target", json_string(target));
    json_array_append_new(json_object_get(spec, "disks"), disk);
    if (json_is_object(result))
        json_array_append(devices, result);
    return 0;
}

static int remove_disk(json_t *spec, json_t *devices, json_t *params, json_t *result)
{
    const char *target = json_string_value(json_object_get(params, "target"));
    size_t i;
    if (find_by(json_object_get(spec, "disks"), "target", target, &i))
        json_array_remove(json_object_get(spec, "disks"), i);
    drop_device(devices, "target", target);
    return 0;
}

static int set_iotune(json_t *spec, json_t *devices, json_t *params, json_t *result)
{
    json_t *disk = find_by(json_object_get(spec, "disks"), "target",
                           json_string_value(json_object_get(params, "target")), NULL);
    if (disk)
        json_object_set(disk, "iotune", json_object_get(params, "iotune"));
    return 0;
}

/* A NIC's link state and profile, as the host now has them. */
static int update_nic(json_t *spec, json_t *devices, json_t *params, json_t *result)
{
    vr_error err = {0};
    return vr_vnic_apply_change(json_object_get(spec, "nics"), params, &err);
}

/* A NIC change {mac, linked, profile?} as VM.updateNic's link, network,
 * filter, mirror and bandwidth. */
static json_t *update_nic_params(vr_engine *e, json_t *params, vr_error *err)
{
    return vr_vnic_agent_change(e, params, err);
}

/* A vCPU count stored but not reached stays pending for the next start. */
static void vcpus_pending(vr_engine *e, const char *vm_id, json_t *params)
{
    vr_vm_note_pending(e, vm_id, "vcpus");
}

/* An unplugged NIC's MAC goes back to the pool. */
static void free_unplugged_mac(vr_engine *e, const char *vm_id, json_t *params)
{
    vr_db_exec(e->db, "DELETE FROM macs WHERE mac = ? AND vm_id = ?",
               DB_ARGS(DB_TEXT(json_string_value(json_object_get(params, "mac")) ?: ""), DB_TEXT(vm_id)), NULL);
}

void vr_vm_note_pending(vr_engine *e, const char *vm_id, const char *member)
{
    /* Read-modify-write in a transaction: other pending members stay. */
    if (vr_db_begin(e->db, NULL) < 0)
        return;
    json_t *row = vr_db_query_one(e->db, "SELECT pending_json FROM vms WHERE id = ?", DB_ARGS(DB_TEXT(vm_id)), NULL);
    json_t *pending = json_is_array(json_object_get(row, "pending")) ? json_incref(json_object_get(row, "pending"))
                                                                      : json_array();
    bool seen = false;
    size_t i;
    json_t *p;
    json_array_foreach(pending, i, p) seen |= json_is_string(p) && !strcmp(json_string_value(p), member);
    if (!seen)
        json_array_append_new(pending, json_string(member));
    char *text = json_dumps(pending, JSON_COMPACT);
    int rc = vr_db_exec(e->db, "UPDATE vms SET pending_json = ? WHERE id = ?", DB_ARGS(DB_TEXT(text), DB_TEXT(vm_id)),
                        NULL);
    free(text);
    json_decref(pending);
    json_decref(row);
    if (rc < 0)
        vr_db_rollback(e->db);
    else
        vr_db_commit(e->db, NULL);
}

static const live_action actions[] = {
    {"hotplug_nic", "VM.hotplugNic", N_("Hot plug a NIC into VM '%s'"), add_nic, free_mac, NULL, NULL},
    {"hotunplug_nic", "VM.hotunplugNic", N_("Hot unplug a NIC from VM '%s'"), remove_nic, NULL, free_unplugged_mac,
     NULL},
    {"hotplug_disk", "VM.hotplugDisk", N_("Hot plug a disk into VM '%s'"), add_disk, NULL, NULL, NULL},
    {"hotunplug_disk", "VM.hotunplugDisk", N_("Hot unplug a disk from VM '%s'"), remove_disk, NULL, NULL, NULL},
    {"set_iotune", "VM.setIoTune", N_("Set disk I/O limits of VM '%s'"), set_iotune, NULL, NULL, NULL},
    {"set_vcpus", "VM.setVcpus", N_("Hot add vCPUs to VM '%s'"), NULL, vcpus_pending, NULL, NULL},
    {"set_balloon", "VM.setBalloonTarget", N_("Set the balloon target of VM '%s'"), NULL, NULL, NULL, NULL},
    {"update_nic", "VM.updateNic", N_("Change a NIC of VM '%s'"), update_nic, NULL, NULL, update_nic_params},
};

static const live_action *find(const char *name)
{
    for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
        if (!strcmp(actions[i].action, name))
            return &actions[i];
    return NULL;
}

/* Store what the host did, against the VM's current spec and devices. */
static int commit(vr_engine *e, const live_action *a, const char *vm_id, json_t *params, json_t *result,
                  vr_error *err)
{
    if (!a->commit)
        return 0;
    if (vr_db_begin(e->db, err) < 0)
        return -1;
    json_t *row = vr_db_query_one(e->db, "SELECT spec_json, devices_json FROM vms WHERE id = ?",
                                  DB_ARGS(DB_TEXT(vm_id)), err);
    int rc = -1;
    if (row) {
        json_t *spec = json_object_get(row, "spec"), *devices = json_object_get(row, "devices");
        if (!json_is_array(devices)) {
            devices = json_array();
            json_object_set_new(row, "devices", devices);
        }
        if (!json_is_array(json_object_get(spec, "nics")))
            json_object_set_new(spec, "nics", json_array());
        if (!json_is_array(json_object_get(spec, "disks")))
            json_object_set_new(spec, "disks", json_array());
        a->commit(spec, devices, params, result);
        char *s = json_dumps(spec, JSON_COMPACT), *d = json_dumps(devices, JSON_COMPACT);
        rc = vr_db_exec(e->db, "UPDATE vms SET spec_json = ?, devices_json = ? WHERE id = ?",
                        DB_ARGS(DB_TEXT(s), DB_TEXT(d), DB_TEXT(vm_id)), err) < 0 ? -1 : 0;
        free(s);
        free(d);
        json_decref(row);
    } else if (!err->code) {
        vr_error_set(err, VR_ERR_NOT_FOUND, "the VM was removed meanwhile");
    }
    if (rc < 0) {
        vr_db_rollback(e->db);
        return -1;
    }
    return vr_db_commit(e->db, err);
}

static void run_live(vr_engine *e, const char *job_id, const char *vm_id, const char *user)
{
    json_t *job = vr_db_query_one(e->db, "SELECT action, params_json FROM jobs WHERE id = ?",
                                  DB_ARGS(DB_TEXT(job_id)), NULL);
    const live_action *a = find(json_string_value(json_object_get(job, "action")) ?: "");
    json_t *params = json_object_get(job, "params");
    if (!a || !json_is_object(params)) {
        vr_job_update(e, job_id, "failed", "the job's parameters cannot be read");
        json_decref(job);
        return;
    }
    vr_error err = {0};
    if (vr_job_cancel_requested(e, job_id)) {
        if (a->undo)
            a->undo(e, vm_id, params);
        vr_job_update(e, job_id, "cancelled", "cancelled before it was sent to the host");
        json_decref(job);
        return;
    }
    json_t *vm = vr_db_query_one(e->db, "SELECT v.name AS name, v.status AS status, h.name AS host,"
                                 " h.address AS address, h.port AS port FROM vms v"
                                 " LEFT JOIN hosts h ON h.id = v.host_id WHERE v.id = ?",
                                 DB_ARGS(DB_TEXT(vm_id)), &err);
    const char *name = json_string_value(json_object_get(vm, "name")) ?: vm_id;
    const char *host = json_string_value(json_object_get(vm, "host"));
    json_t *res = NULL;
    bool refused = true; /* nothing was sent */
    if (!host) {
        vr_error_set(&err, VR_ERR_BAD_STATE, "VM '%s' no longer runs on a host", name);
    } else {
        char step[160];
        vr_i18n_format(step, sizeof(step), "asking host '%s'", host);
        vr_job_update(e, job_id, "running", step);
        vr_job_progress(e, job_id, 10);
        json_t *p = a->agent_params ? a->agent_params(e, params, &err) : json_deep_copy(params);
        if (p)
            json_object_set_new(p, "uuid", json_string(vm_id));
        /* A disk by id goes as its volume, a NIC on a profile as its
         * network's fields; each replaces (frees) the one in p. */
        json_t *disk = json_object_get(p, "disk"), *nic = json_object_get(p, "nic");
        bool has_disk = json_is_object(disk), has_nic = json_is_object(nic);
        json_t *agent_disk = has_disk ? vr_vm_agent_disk(e, disk, &err) : NULL;
        json_t *agent_nic = has_nic && !err.code ? vr_vnic_agent_nic(e, nic, &err) : NULL;
        if (agent_disk)
            json_object_set_new(p, "disk", agent_disk);
        if (agent_nic)
            json_object_set_new(p, "nic", agent_nic);
        if (!p || (has_disk && !agent_disk) || (has_nic && !agent_nic))
            json_decref(p);
        else if (vr_agent_call_host(e, vm, a->verb, p, &res, &err) == 0) {
            vr_job_update(e, job_id, "running", "recording the change");
            vr_job_progress(e, job_id, 80);
            if (commit(e, a, vm_id, params, res, &err) < 0) {
                char why[600];
                vr_i18n_format(why, sizeof(why), "done on host '%s' but not recorded: %s", host, err.message);
                vr_error_set(&err, err.code, "%s", why);
            } else if (a->after) {
                a->after(e, vm_id, params);
            }
        } else {
            /* The host said no: nothing happened, give back what was
             * reserved. A transport failure may have reached the host:
             * keep it (a MAC is never handed out twice). */
            refused = err.code != VR_ERR_IO;
        }
    }
    if (err.code) {
        if (a->undo && refused)
            a->undo(e, vm_id, params);
        char what[200];
        vr_i18n_format(what, sizeof(what), a->title, name);
        vr_event(e, "error", user, "vm", vm_id, "%s failed: %s", what, err.message);
        vr_job_update(e, job_id, "failed", err.message);
    } else {
        char what[200];
        vr_i18n_format(what, sizeof(what), a->title, name);
        vr_event(e, "normal", user, "vm", vm_id, "%s done on host '%s'", what, host);
        vr_job_update(e, job_id, "finished", "");
    }
    json_decref(res);
    json_decref(vm);
    json_decref(job);
}

int vr_vm_live_submit(vr_engine *e, json_t *vm, const char *action, json_t *params, const char *user,
                      char job_id[37], vr_error *err)
{
    const live_action *a = find(action);
    const char *id = json_string_value(json_object_get(vm, "id"));
    const char *name = json_string_value(json_object_get(vm, "name"));
    char *ptext = json_dumps(params, JSON_COMPACT);
    if (!a || !ptext) {
        free(ptext);
        json_decref(params);
        return vr_error_set(err, VR_ERR_INTERNAL, "no live change '%s'", action);
    }
    /* Name the device, so a client can find it once the job is done. */
    const char *dev = json_string_value(json_object_get(json_object_get(params, "nic"), "mac"))
                          ?: json_string_value(json_object_get(json_object_get(params, "disk"), "target"))
                          ?: json_string_value(json_object_get(params, "mac"))
                          ?: json_string_value(json_object_get(params, "target"));
    char what[200], desc[240];
    vr_i18n_format(what, sizeof(what), a->title, name);
    if (dev)
        vr_i18n_format(desc, sizeof(desc), "%s: %s", what, dev);
    else
        snprintf(desc, sizeof(desc), "%s", what);
    json_decref(params);
    vr_uuid_new(job_id);
    int rc = vr_db_exec(e->db, "INSERT INTO jobs (id, action, object_type, object_id, status, user_name, description,"
                        " params_json, created_at, updated_at) VALUES (?, ?, 'vm', ?, 'pending', ?, ?, ?, ?, ?)",
                        DB_ARGS(DB_TEXT(job_id), DB_TEXT(action), DB_TEXT(id), DB_TEXT(user), DB_TEXT(desc),
                                DB_TEXT(ptext), DB_INT(vr_now()), DB_INT(vr_now())), err);
    free(ptext);
    if (rc < 0 || vr_job_describe(e, job_id, desc, err) < 0)
        return -1;
    vr_job_spawn(e, job_id, id, user, run_live);
    return 0;
}

bool vr_vm_is_live_action(const char *action)
{
    return find(action) != NULL;
}

bool vr_vm_live_resume(vr_engine *e, json_t *r)
{
    const live_action *a = find(json_string_value(json_object_get(r, "action")) ?: "");
    const char *id = json_string_value(json_object_get(r, "id"));
    if (!a)
        return false;
    if (!strcmp(json_string_value(json_object_get(r, "status")) ?: "", "pending")) {
        VR_INFO("resuming job %s (%s)", id, a->action);
        vr_job_spawn(e, id, json_string_value(json_object_get(r, "object_id")),
                     json_string_value(json_object_get(r, "user_name")), run_live);
    } else {
        /* Sent, outcome unknown: the device may or may not be there.
         * What was reserved (a MAC) stays reserved: never reused twice. */
        vr_job_update(e, id, "failed", "interrupted by an engine restart after it was sent to the host;"
                      " VM.get on the host tells whether it happened");
    }
    return true;
}
