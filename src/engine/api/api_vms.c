/* /api/vms: VM definitions, MAC pool allocation and actions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentcall.h"
#include "api.h"
#include "devspec.h"
#include "jsonx.h"
#include "macpool.h"
#include "vmstart.h"

#define VM_SELECT                                                                              \
    "SELECT v.id AS id, v.name AS name, v.description AS description, v.cluster_id AS cluster_id," \
    " v.host_id AS host_id, (SELECT name FROM hosts WHERE id = v.host_id) AS host,"             \
    " v.status AS status, v.memory_mib AS memory_mib, v.vcpus AS vcpus, v.spec_json AS spec_json," \
    " v.devices_json AS devices_json, v.created_at AS created_at FROM vms v"

static const char *const vm_keys[] = {"name", "description", "cluster_id", "memory_mib", "vcpus",
                                      "max_vcpus", "max_memory_mib", "boot", "disks", "nics",
                                      "serial_console", "vnc", NULL};
static const api_field vm_fields[] = {
    {"name", "lower(name) LIKE ? ESCAPE '\\'", true, true, false},
    {"status", "status = ?", false, true, false},
    {"host", "host_id IN (SELECT id FROM hosts WHERE lower(name) LIKE ? ESCAPE '\\')", true, true, false},
    {"cluster", "cluster_id IN (SELECT id FROM clusters WHERE lower(name) LIKE ? ESCAPE '\\')", true, true, false},
    {NULL, NULL, false, false, false}};

/* Validate the hardware members of a VM body into an agent-style spec
 * fragment (new reference) or answer 400. Values go through the same
 * checks the agent makes, so a bad VM is refused before it is stored. */
static json_t *vm_spec_from_body(json_t *b, vr_http_resp *resp)
{
    vr_error err = {0};
    json_t *spec = json_object(), *boot = NULL, *disks = NULL, *nics = NULL;
    long long maxv = 0, maxm = 0;
    bool serial = true, vnc = false;
    if (vr_json_obj(b, "body", "boot", false, &boot, &err) < 0 ||
        vr_json_arr(b, "body", "disks", false, &disks, &err) < 0 ||
        vr_json_arr(b, "body", "nics", false, &nics, &err) < 0 ||
        vr_json_int(b, "body", "max_vcpus", false, 1, 240, &maxv, &err) < 0 ||
        vr_json_int(b, "body", "max_memory_mib", false, 16, 4 << 20, &maxm, &err) < 0 ||
        vr_json_bool(b, "body", "serial_console", false, &serial, &err) < 0 ||
        vr_json_bool(b, "body", "vnc", false, &vnc, &err) < 0)
        goto bad;
    vr_boot boot_spec;
    if (boot && vr_boot_parse(boot, &boot_spec, &err) < 0)
        goto bad;
    /* Disks and NICs follow the agent's own rules (devspec.c); only what the
     * engine assigns itself is refused here: MACs come from the pool, PCI
     * addresses from the first start. */
    size_t i;
    json_t *d;
    vr_disk disk[VR_MAX_STORAGE];
    int ide = 0;
    if (json_array_size(disks) > VR_MAX_STORAGE || json_array_size(nics) > VR_MAX_NICS) {
        vr_error_set(&err, VR_ERR_INVALID_PARAMS, "at most %d disks and %d NICs", VR_MAX_STORAGE, VR_MAX_NICS);
        goto bad;
    }
    json_array_foreach(disks, i, d) {
        char where[32];
        snprintf(where, sizeof(where), "disks[%zu]", i);
        if (json_is_object(d) && json_object_get(d, "address")) {
            vr_error_set(&err, VR_ERR_INVALID_PARAMS, "%s.address is assigned at the VM's first start", where);
            goto bad;
        }
        if (vr_disk_parse(d, where, &disk[i], &err) < 0)
            goto bad;
        ide += !strcmp(disk[i].bus, "ide");
    }
    if (vr_disks_assign_targets(disk, (int)json_array_size(disks), &err) < 0) {
        err.code = VR_ERR_INVALID_PARAMS; /* within one body: a bad request */
        goto bad;
    }
    json_array_foreach(nics, i, d) {
        char where[32];
        vr_nic nic;
        snprintf(where, sizeof(where), "nics[%zu]", i);
        if (json_is_object(d) && (json_object_get(d, "mac") || json_object_get(d, "address"))) {
            vr_error_set(&err, VR_ERR_INVALID_PARAMS,
                         "%s: MACs come from the engine's MAC pool and addresses from the first start", where);
            goto bad;
        }
        if (vr_nic_parse(d, where, &nic, &err) < 0)
            goto bad;
    }
    if (ide > VR_MAX_IDE) {
        vr_error_set(&err, VR_ERR_INVALID_PARAMS, "at most %d IDE disks", VR_MAX_IDE);
        goto bad;
    }
    if (boot)
        json_object_set(spec, "boot", boot);
    json_object_set_new(spec, "disks", disks ? json_deep_copy(disks) : json_array());
    json_object_set_new(spec, "nics", nics ? json_deep_copy(nics) : json_array());
    if (maxv)
        json_object_set_new(spec, "max_vcpus", json_integer(maxv));
    if (maxm)
        json_object_set_new(spec, "max_memory_mib", json_integer(maxm));
    json_object_set_new(spec, "serial_console", json_boolean(serial));
    json_object_set_new(spec, "vnc", json_boolean(vnc));
    return spec;
bad:
    json_decref(spec);
    api_error(resp, &err);
    return NULL;
}

/* Clients see the VM's hardware (boot, disks, nics with their MACs...) as
 * members of the VM; the database keeps it as one spec document. */
static void vm_present(vr_engine *e, json_t *row)
{
    json_t *spec = json_object_get(row, "spec");
    if (json_is_object(spec))
        json_object_update_missing(row, spec);
    json_object_del(row, "spec");
}

static json_t *get_vm(vr_engine *e, vr_http_resp *resp, const char *id)
{
    vr_error err = {0};
    json_t *row = vr_db_query_one(e->db, VM_SELECT " WHERE v.id = ?", DB_ARGS(DB_TEXT(id)), &err);
    if (!row && !err.code)
        vr_http_fault(resp, 404, "Not Found", "no VM with id '%s'", id);
    else if (!row)
        api_error(resp, &err);
    else
        vm_present(e, row);
    return row;
}

static void create_vm(vr_engine *e, vr_http_req *r, vr_http_resp *resp)
{
    vr_error err = {0};
    json_t *b = api_body(r, resp, vm_keys), *spec = NULL;
    const char *name = NULL, *desc = "", *cluster = NULL;
    long long mem = 0, vcpus = 1;
    char id[37];
    if (!b)
        return;
    if (vr_json_str(b, "body", "name", true, &name, &err) < 0 ||
        vr_json_str(b, "body", "description", false, &desc, &err) < 0 ||
        vr_json_str(b, "body", "cluster_id", true, &cluster, &err) < 0 ||
        vr_json_int(b, "body", "memory_mib", true, 16, 4 << 20, &mem, &err) < 0 ||
        vr_json_int(b, "body", "vcpus", false, 1, 240, &vcpus, &err) < 0) {
        api_error(resp, &err);
        goto out;
    }
    if (api_check_name(resp, name) < 0 || !(spec = vm_spec_from_body(b, resp)))
        goto out;
    long long maxv = json_integer_value(json_object_get(spec, "max_vcpus"));
    long long maxm = json_integer_value(json_object_get(spec, "max_memory_mib"));
    if ((maxv && maxv < vcpus) || (maxm && maxm < mem)) {
        vr_http_fault(resp, 400, "Bad Request", "max_vcpus / max_memory_mib are below vcpus / memory_mib");
        goto out;
    }
    json_t *cl = vr_db_query_one(e->db, "SELECT id FROM clusters WHERE id = ?",
                                 DB_ARGS(DB_TEXT(cluster)), NULL);
    if (!cl) {
        vr_http_fault(resp, 400, "Bad Request", "no cluster with id '%s'", cluster);
        goto out;
    }
    json_decref(cl);
    vr_uuid_new(id);
    if (vr_db_begin(e->db, &err) < 0) {
        api_error(resp, &err);
        goto out;
    }
    char *stext = json_dumps(spec, JSON_COMPACT);
    int rc = vr_db_exec(e->db, "INSERT INTO vms (id, name, description, cluster_id, status, memory_mib,"
                        " vcpus, spec_json, created_at) VALUES (?,?,?,?, 'down', ?,?,?,?)",
                        DB_ARGS(DB_TEXT(id), DB_TEXT(name), DB_TEXT(desc), DB_TEXT(cluster), DB_INT(mem),
                                DB_INT(vcpus), DB_TEXT(stext), DB_INT(vr_now())), &err);
    free(stext);
    /* Each NIC gets a MAC from the pool, in the same transaction. */
    size_t i;
    json_t *nic;
    json_array_foreach(json_object_get(spec, "nics"), i, nic) {
        char mac[18];
        if (rc >= 0 && (rc = vr_macpool_allocate(e, id, mac, &err)) == 0)
            json_object_set_new(nic, "mac", json_string(mac));
    }
    stext = json_dumps(spec, JSON_COMPACT);
    if (rc < 0 || vr_db_exec(e->db, "UPDATE vms SET spec_json = ? WHERE id = ?",
                             DB_ARGS(DB_TEXT(stext), DB_TEXT(id)), &err) < 0) {
        vr_db_rollback(e->db);
        api_error(resp, &err);
    } else if (vr_db_commit(e->db, &err) < 0) {
        api_error(resp, &err);
    } else {
        vr_event(e, "normal", r->user, "vm", id, "VM '%s' created", name);
        json_t *row = get_vm(e, resp, id);
        if (row)
            api_entity(resp, row, "vms", true);
    }
    free(stext);
out:
    json_decref(spec);
    json_decref(b);
}

/* PUT: any member of POST but cluster_id. Hardware changes of a running VM
 * are stored and take effect at its next start. NICs keep their MACs by
 * position; new ones get MACs from the pool, removed ones free theirs. */
static void update_vm(vr_engine *e, vr_http_req *r, vr_http_resp *resp, json_t *vm)
{
    vr_error err = {0};
    const char *id = json_string_value(json_object_get(vm, "id"));
    json_t *b = api_body(r, resp, vm_keys), *merged = NULL, *spec = NULL;
    const char *name = json_string_value(json_object_get(vm, "name"));
    const char *desc = json_string_value(json_object_get(vm, "description"));
    const char *cluster = NULL;
    long long mem = json_integer_value(json_object_get(vm, "memory_mib"));
    long long vcpus = json_integer_value(json_object_get(vm, "vcpus"));
    if (!b)
        return;
    if (vr_json_str(b, "body", "name", false, &name, &err) < 0 ||
        vr_json_str(b, "body", "description", false, &desc, &err) < 0 ||
        vr_json_str(b, "body", "cluster_id", false, &cluster, &err) < 0 ||
        vr_json_int(b, "body", "memory_mib", false, 16, 4 << 20, &mem, &err) < 0 ||
        vr_json_int(b, "body", "vcpus", false, 1, 240, &vcpus, &err) < 0) {
        api_error(resp, &err);
        goto out;
    }
    if (api_check_name(resp, name) < 0)
        goto out;
    if (cluster && strcmp(cluster, json_string_value(json_object_get(vm, "cluster_id")))) {
        vr_http_fault(resp, 409, "Conflict", "a VM cannot move to another cluster");
        goto out;
    }
    /* The current hardware, overridden by what the body gives. */
    merged = json_object();
    static const char *const hw[] = {"boot", "disks", "nics", "max_vcpus", "max_memory_mib",
                                     "serial_console", "vnc", NULL};
    for (int i = 0; hw[i]; i++) {
        json_t *v = json_object_get(b, hw[i]) ?: json_object_get(vm, hw[i]);
        if (v && !json_is_null(v))
            json_object_set(merged, hw[i], v);
    }
    json_t *old_nics = json_object_get(vm, "nics");
    if (json_object_get(b, "nics")) { /* MACs are the pool's, not the client's */
        size_t i;
        json_t *n;
        json_array_foreach(json_object_get(merged, "nics"), i, n)
            if (json_is_object(n))
                json_object_del(n, "mac");
    } else {
        json_t *copy = json_deep_copy(old_nics ? old_nics : json_array());
        size_t i;
        json_t *n;
        json_array_foreach(copy, i, n) json_object_del(n, "mac");
        json_object_set_new(merged, "nics", copy);
    }
    if (!(spec = vm_spec_from_body(merged, resp)))
        goto out;
    long long maxv = json_integer_value(json_object_get(spec, "max_vcpus"));
    long long maxm = json_integer_value(json_object_get(spec, "max_memory_mib"));
    if ((maxv && maxv < vcpus) || (maxm && maxm < mem)) {
        vr_http_fault(resp, 400, "Bad Request", "max_vcpus / max_memory_mib are below vcpus / memory_mib");
        goto out;
    }
    if (vr_db_begin(e->db, &err) < 0) {
        api_error(resp, &err);
        goto out;
    }
    size_t i;
    json_t *n;
    int rc = 0;
    json_array_foreach(json_object_get(spec, "nics"), i, n) {
        const char *mac = json_string_value(json_object_get(json_array_get(old_nics, i), "mac"));
        char fresh[18];
        if (mac)
            json_object_set_new(n, "mac", json_string(mac));
        else if (rc == 0 && (rc = vr_macpool_allocate(e, id, fresh, &err)) == 0)
            json_object_set_new(n, "mac", json_string(fresh));
    }
    for (size_t k = json_array_size(json_object_get(spec, "nics")); rc == 0 && k < json_array_size(old_nics); k++)
        rc = vr_db_exec(e->db, "DELETE FROM macs WHERE mac = ?",
                        DB_ARGS(DB_TEXT(json_string_value(json_object_get(json_array_get(old_nics, k), "mac")) ?: "")),
                        &err) < 0 ? -1 : 0;
    char *stext = json_dumps(spec, JSON_COMPACT);
    if (rc < 0 || vr_db_exec(e->db, "UPDATE vms SET name = ?, description = ?, memory_mib = ?, vcpus = ?,"
                             " spec_json = ? WHERE id = ?",
                             DB_ARGS(DB_TEXT(name), DB_TEXT(desc), DB_INT(mem), DB_INT(vcpus),
                                     DB_TEXT(stext), DB_TEXT(id)), &err) < 0) {
        vr_db_rollback(e->db);
        api_error(resp, &err);
    } else if (vr_db_commit(e->db, &err) < 0) {
        api_error(resp, &err);
    } else {
        bool running = strcmp(json_string_value(json_object_get(vm, "status")), "down") != 0;
        vr_event(e, "normal", r->user, "vm", id, "VM '%s' updated%s", name,
                 running ? "; hardware changes apply at its next start" : "");
        json_t *row = get_vm(e, resp, id);
        if (row)
            api_entity(resp, row, "vms", false);
    }
    free(stext);
out:
    json_decref(spec);
    json_decref(merged);
    json_decref(b);
}

/* stop|shutdown|reboot|pause|resume: forwarded to the VM's host. */
static void vm_action(vr_engine *e, vr_http_req *r, vr_http_resp *resp, json_t *vm, const char *action)
{
    static const struct {
        const char *action, *verb, *new_status;
    } map[] = {{"stop", "VM.destroy", "down"}, {"shutdown", "VM.shutdown", "poweringdown"},
               {"reboot", "VM.reboot", NULL}, {"pause", "VM.pause", "paused"},
               {"resume", "VM.cont", "up"}};
    const char *id = json_string_value(json_object_get(vm, "id"));
    const char *name = json_string_value(json_object_get(vm, "name"));
    const char *status = json_string_value(json_object_get(vm, "status"));
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(map[i].action, action))
            continue;
        const char *hid = json_string_value(json_object_get(vm, "host_id"));
        json_t *host = hid ? vr_db_query_one(e->db, "SELECT id, name, address, port FROM hosts WHERE id = ?",
                                             DB_ARGS(DB_TEXT(hid)), NULL) : NULL;
        if (!host || !strcmp(status, "down") || !strcmp(status, "waitforlaunch")) {
            vr_http_fault(resp, 409, "Conflict", "VM '%s' is %s; it is not running on a host", name, status);
            json_decref(host);
            return;
        }
        if (!strcmp(status, "notresponding") && strcmp(action, "stop")) {
            /* Anything but a power-off would wait on the hung QEMU. */
            vr_http_fault(resp, 409, "Conflict", "VM '%s' is not responding; only stop is possible", name);
            json_decref(host);
            return;
        }
        vr_error err = {0};
        json_t *res = NULL;
        if (vr_agent_call_host(e, host, map[i].verb, json_pack("{s:s}", "uuid", id), &res, &err) < 0 &&
            !(err.code == VR_ERR_NO_VM && !strcmp(action, "stop"))) {
            json_decref(host);
            api_error(resp, &err);
            return;
        }
        json_decref(res);
        if (map[i].new_status)
            vr_db_exec(e->db, !strcmp(map[i].new_status, "down")
                                  ? "UPDATE vms SET status = ?, host_id = NULL WHERE id = ?"
                                  : "UPDATE vms SET status = ? WHERE id = ?",
                       DB_ARGS(DB_TEXT(map[i].new_status), DB_TEXT(id)), NULL);
        vr_event(e, "normal", r->user, "vm", id, "VM '%s': %s requested on host '%s'", name, action,
                 json_string_value(json_object_get(host, "name")));
        json_decref(host);
        json_t *row = get_vm(e, resp, id);
        if (row)
            api_entity(resp, row, "vms", false);
        return;
    }
    vr_http_fault(resp, 404, "Not Found", "no VM action '%s'", action);
}

void api_vms(vr_engine *e, vr_http_req *r, vr_http_resp *resp, const char *id, const char *action)
{
    vr_error err = {0};
    bool post = !strcmp(r->method, "POST");
    if (!id && !strcmp(r->method, "GET"))
        return api_list(e, r, resp, "vms", VM_SELECT, vm_fields, vm_present);
    if (!id && post)
        return create_vm(e, r, resp);
    if (!id)
        return (void)vr_http_fault(resp, 405, "Method Not Allowed", "use GET or POST");
    json_t *vm = get_vm(e, resp, id);
    if (!vm)
        return;
    if (action && post && !strcmp(action, "start")) {
        char job[37];
        if (vr_vm_start_submit(e, id, r->user, job, &err) < 0)
            api_error(resp, &err);
        else {
            vr_event(e, "normal", r->user, "vm", id, "start of VM '%s' accepted",
                     json_string_value(json_object_get(vm, "name")));
            char href[128];
            snprintf(href, sizeof(href), "/api/jobs/%s", job);
            resp->status = 202;
            resp->body = json_pack("{s:{s:s, s:s}}", "job", "id", job, "href", href);
            snprintf(resp->location, sizeof(resp->location), "%s", href);
        }
    } else if (action && post) {
        vm_action(e, r, resp, vm, action);
    } else if (action) {
        vr_http_fault(resp, 405, "Method Not Allowed", "actions are POSTed");
    } else if (!strcmp(r->method, "GET")) {
        api_entity(resp, json_incref(vm), "vms", false);
    } else if (!strcmp(r->method, "DELETE")) {
        if (strcmp(json_string_value(json_object_get(vm, "status")), "down"))
            vr_http_fault(resp, 409, "Conflict", "VM '%s' is %s; stop it first",
                          json_string_value(json_object_get(vm, "name")),
                          json_string_value(json_object_get(vm, "status")));
        else if (vr_db_exec(e->db, "DELETE FROM vms WHERE id = ? AND status = 'down'",
                            DB_ARGS(DB_TEXT(id)), &err) < 0)
            api_error(resp, &err);
        else {
            vr_event(e, "normal", r->user, "vm", id, "VM '%s' removed",
                     json_string_value(json_object_get(vm, "name")));
            resp->status = 204;
        }
    } else if (!strcmp(r->method, "PUT")) {
        update_vm(e, r, resp, vm);
    } else {
        vr_http_fault(resp, 405, "Method Not Allowed", "method not allowed on a VM");
    }
    json_decref(vm);
}
