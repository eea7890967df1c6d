/* VMs: definitions with their hardware spec, MACs from the pool, and
 * actions forwarded to the VM's host (start is a job). */
#include <stdio.h>
#include <string.h>

#include "agentcall.h"
#include "dispatch.h"
#include "kind.h"
#include "vm_spec.h"
#include "vmstart.h"
#include "vmstatus.h"

/* Clients see the VM's hardware as members of the VM; the database keeps
 * it as one spec document. */
static void vm_present(vr_engine *e, json_t *row)
{
    json_t *spec = json_object_get(row, "spec");
    if (json_is_object(spec))
        json_object_update_missing(row, spec);
    json_object_del(row, "spec");
}

static int vm_check_create(vr_call *c, json_t *b, vr_error *err)
{
    json_t *spec = vr_vm_spec_build(b, json_integer_value(json_object_get(b, "vcpus")),
                                    json_integer_value(json_object_get(b, "memory_mib")), err);
    if (!spec)
        return -1;
    json_object_set_new(b, "spec", spec);
    return 0;
}

/* The stored hardware, overridden by what the body gives. */
static int vm_check_update(vr_call *c, json_t *row, json_t *b, vr_error *err)
{
    json_t *merged = json_object();
    for (size_t i = 0; i < vr_vm_nspec_members; i++) {
        const char *m = vr_vm_spec_members[i];
        json_t *v = json_object_get(b, m) ?: json_object_get(row, m);
        if (v && !json_is_null(v))
            json_object_set(merged, m, v);
    }
    if (!json_object_get(b, "nics")) { /* kept NICs keep their MACs (the store does) */
        json_t *copy = json_deep_copy(json_object_get(row, "nics") ?: json_array());
        size_t i;
        json_t *n;
        json_array_foreach(copy, i, n) json_object_del(n, "mac");
        json_object_set_new(merged, "nics", copy);
    }
    json_t *spec = vr_vm_spec_build(merged, json_integer_value(json_object_get(b, "vcpus")),
                                    json_integer_value(json_object_get(b, "memory_mib")), err);
    json_decref(merged);
    if (!spec)
        return -1;
    json_object_set_new(b, "spec", spec);
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

static void vm_after_write(vr_call *c, const char *id, const char *what)
{
    json_t *row = vr_db_query_one(c->e->db, "SELECT name, status FROM vms WHERE id = ?", DB_ARGS(DB_TEXT(id)), NULL);
    const char *name = json_string_value(json_object_get(row, "name")) ?: "";
    bool running = row && strcmp(json_string_value(json_object_get(row, "status")) ?: "down", "down");
    if (!strcmp(what, "updated"))
        vr_event(c->e, "normal", c->user, "vm", id, "VM '%s' updated%s", name,
                 running ? "; hardware changes apply at its next start" : "");
    else if (!strcmp(what, "created"))
        vr_event(c->e, "normal", c->user, "vm", id, "VM '%s' created", name);
    else
        vr_event(c->e, "normal", c->user, "vm", id, "VM removed");
    json_decref(row);
}

static int vm_start(vr_call *c, json_t *vm, json_t **reply, vr_error *err)
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

/* stop|shutdown|reboot|pause|resume: forwarded to the VM's host. */
static int vm_forward(vr_call *c, json_t *vm, const char *action, const char *verb, const char *new_status,
                      json_t **reply, vr_error *err)
{
    const char *id = json_string_value(json_object_get(vm, "id"));
    const char *name = json_string_value(json_object_get(vm, "name"));
    const char *status = json_string_value(json_object_get(vm, "status"));
    const char *hid = json_string_value(json_object_get(vm, "host_id"));
    json_t *host = hid ? vr_db_query_one(c->e->db, "SELECT id, name, address, port FROM hosts WHERE id = ?",
                                         DB_ARGS(DB_TEXT(hid)), err) : NULL;
    if (!host && err->code)
        return -1;
    int rc = -1;
    json_t *res = NULL;
    if (!host || !strcmp(status, "down") || !strcmp(status, "waitforlaunch")) {
        vr_error_set(err, VR_ERR_BAD_STATE, "VM '%s' is %s; it is not running on a host", name, status);
    } else if (!strcmp(status, "notresponding") && strcmp(action, "stop")) {
        /* Anything but a power-off would wait on the hung QEMU. */
        vr_error_set(err, VR_ERR_BAD_STATE, "VM '%s' is not responding; only stop is possible", name);
    } else if (vr_agent_call_host(c->e, host, verb, json_pack("{s:s}", "uuid", id), &res, err) < 0 &&
               !(err->code == VR_ERR_NO_VM && !strcmp(action, "stop"))) {
        /* the agent's error, as it said it */
    } else {
        vr_error_clear(err);
        if (new_status)
            vr_db_exec(c->e->db, !strcmp(new_status, "down")
                                     ? "UPDATE vms SET status = ?, host_id = NULL WHERE id = ?"
                                     : "UPDATE vms SET status = ? WHERE id = ?",
                       DB_ARGS(DB_TEXT(new_status), DB_TEXT(id)), NULL);
        vr_event(c->e, "normal", c->user, "vm", id, "VM '%s': %s requested on host '%s'", name, action,
                 json_string_value(json_object_get(host, "name")));
        rc = (*reply = vr_kind_get(c->e, c->kind, id, err)) ? 0 : -1;
    }
    json_decref(res);
    json_decref(host);
    return rc;
}

#define FORWARD(fn, action, verb, status) \
    static int fn(vr_call *c, json_t *vm, json_t **reply, vr_error *err) \
    { return vm_forward(c, vm, action, verb, status, reply, err); }
FORWARD(vm_stop, "stop", "VM.destroy", "down")
FORWARD(vm_shutdown, "shutdown", "VM.shutdown", "poweringdown")
FORWARD(vm_reboot, "reboot", "VM.reboot", NULL)
FORWARD(vm_pause, "pause", "VM.pause", "paused")
FORWARD(vm_resume, "resume", "VM.cont", "up")

static const vr_action vm_actions[] = {
    {"start", "Start a VM (a job: scheduling, then starting on the chosen host)", true, vm_start},
    {"stop", "Power a VM off at once", false, vm_stop},
    {"shutdown", "Ask the guest to shut down (ACPI)", false, vm_shutdown},
    {"reboot", "Reboot a VM", false, vm_reboot},
    {"pause", "Pause a VM", false, vm_pause},
    {"resume", "Resume a paused VM", false, vm_resume},
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
    {"status", VR_FT_ENUM, VR_F_SORT, .values = {vr_vm_status_names, VR_VM_NSTATUS}},
    {"memory_mib", VR_FT_INT, VR_F_REQ | VR_F_CREATE | VR_F_UPDATE | VR_F_SORT, 16, MEM_MAX, .doc = NULL},
    {"vcpus", VR_FT_INT, VR_F_CREATE | VR_F_UPDATE | VR_F_SORT, 1, 240, .dflt = "1"},
    {"devices", VR_FT_JSON, VR_F_NULL, .schema = "VmDevices",
     .doc = "Devices with their addresses as the host reported them at the first start; null before."},
    {"created_at", VR_FT_TIME, VR_F_SORT, .doc = NULL},
    {"boot", VR_FT_JSON, VR_F_SPEC | VR_F_OPT | VR_F_CREATE | VR_F_UPDATE, .schema = "VmBoot"},
    {"disks", VR_FT_JSON, VR_F_SPEC | VR_F_CREATE | VR_F_UPDATE, .schema = "VmDisks"},
    {"nics", VR_FT_JSON, VR_F_SPEC | VR_F_CREATE | VR_F_UPDATE, .schema = "VmNics"},
    {"max_vcpus", VR_FT_INT, VR_F_SPEC | VR_F_OPT | VR_F_CREATE | VR_F_UPDATE, 1, 240,
     .doc = "Upper bound for hot-added vCPUs."},
    {"max_memory_mib", VR_FT_INT, VR_F_SPEC | VR_F_OPT | VR_F_CREATE | VR_F_UPDATE, 16, MEM_MAX, .doc = NULL},
    {"serial_console", VR_FT_BOOL, VR_F_SPEC | VR_F_CREATE | VR_F_UPDATE, .dflt = "true"},
    {"vnc", VR_FT_BOOL, VR_F_SPEC | VR_F_CREATE | VR_F_UPDATE, .dflt = "false"},
};

const vr_kind vr_kind_vms = {
    .collection = "vms", .type = "vm", .title = "VM", .schema = "Vm", .tag = "VMs",
    .store = &vr_store_vms, .fields = vm_fields, .nfields = VR_N(vm_fields),
    .actions = vm_actions, .nactions = VR_N(vm_actions), .parent = "clusters", .parent_field = "cluster_id",
    .check_create = vm_check_create, .check_update = vm_check_update, .check_delete = vm_check_delete,
    .after_write = vm_after_write, .present = vm_present,
};
