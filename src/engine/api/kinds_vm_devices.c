/* A VM's NICs and disks as nested collections (/api/vms/ID/nics,
 * /api/vms/ID/disks). They live in the VM's spec document; a NIC is named
 * by its MAC, a disk by its target. On a down VM a change is stored at
 * once (201/200/204); on a running VM it is a job that hot plugs, unplugs
 * or retunes through the VM's host and then stores it (202). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "devspec.h"
#include "diskjobs.h"
#include "dispatch.h"
#include "jsonx.h"
#include "macpool.h"
#include "store_storage.h"
#include "vm_spec.h"
#include "vmlive.h"
#include "vnic.h"

/* May the VM's devices change now, and how? 0: stored only (down),
 * 1: live through a job (running), -1 with an error otherwise. */
static int vm_mode(json_t *vm, vr_error *err)
{
    const char *st = json_string_value(json_object_get(vm, "status")) ?: "?";
    if (!strcmp(st, "down"))
        return 0;
    if (!strcmp(st, "up") || !strcmp(st, "paused"))
        return 1;
    return vr_error_set(err, VR_ERR_BAD_STATE, "VM '%s' is %s; devices change while it is down, up or paused",
                        json_string_value(json_object_get(vm, "name")), st);
}

static const char *vm_id(json_t *vm)
{
    return json_string_value(json_object_get(vm, "id"));
}

/* Rewrite the VM's spec with fn applied to it, in one transaction whose
 * first statement re-reads it (the row may have moved on). */
static int edit_spec(vr_engine *e, json_t *vm, int (*fn)(vr_engine *, json_t *spec, json_t *arg, vr_error *),
                     json_t *arg, vr_error *err)
{
    if (vr_db_begin(e->db, err) < 0)
        return -1;
    json_t *row = vr_db_query_one(e->db, "SELECT spec_json FROM vms WHERE id = ? AND status = 'down'",
                                  DB_ARGS(DB_TEXT(vm_id(vm))), err);
    int rc = -1;
    if (!row && !err->code)
        vr_error_set(err, VR_ERR_CONFLICT, "VM '%s' changed meanwhile (no longer down); try again",
                     json_string_value(json_object_get(vm, "name")));
    if (row && fn(e, json_object_get(row, "spec"), arg, err) == 0) {
        char *text = json_dumps(json_object_get(row, "spec"), JSON_COMPACT);
        rc = vr_db_exec(e->db, "UPDATE vms SET spec_json = ? WHERE id = ?", DB_ARGS(DB_TEXT(text), DB_TEXT(vm_id(vm))),
                        err) < 0 ? -1 : 0;
        free(text);
    }
    json_decref(row);
    if (rc < 0) {
        vr_db_rollback(e->db);
        return -1;
    }
    return vr_db_commit(e->db, err);
}

static json_t *array_of(json_t *spec, const char *key)
{
    json_t *a = json_object_get(spec, key);
    if (!json_is_array(a)) {
        a = json_array();
        json_object_set_new(spec, key, a);
    }
    return a;
}

/* ---- NICs: named by their MAC ---- */

static int nic_rows(vr_engine *e, json_t *vm, json_t **rows, vr_error *err)
{
    *rows = json_array();
    size_t i;
    json_t *n;
    json_array_foreach(json_object_get(vm, "nics"), i, n) {
        json_t *r = json_deep_copy(n);
        json_object_set(r, "id", json_object_get(n, "mac"));
        json_object_set_new(r, "vm_id", json_string(vm_id(vm)));
        json_array_append_new(*rows, r);
    }
    return 0;
}

static int append_nic(vr_engine *e, json_t *spec, json_t *nic, vr_error *err)
{
    char mac[18];
    if (vr_macpool_allocate(e, json_string_value(json_object_get(nic, "vm_id")), mac, err) < 0)
        return -1;
    json_object_set_new(nic, "mac", json_string(mac));
    json_t *stored = json_deep_copy(nic);
    json_object_del(stored, "vm_id");
    json_array_append_new(array_of(spec, "nics"), stored);
    return 0;
}

static int nic_add(vr_call *c, json_t *vm, json_t *body, json_t **reply, char job[37], vr_error *err)
{
    vr_nic nic;
    int mode = vm_mode(vm, err);
    /* A NIC on a network keeps its profile's id; the agent's rules see it
     * without (the start turns the profile into its fields). */
    if (mode < 0 || vr_vnic_resolve(c->e, vm, body, err) < 0)
        return -1;
    json_t *plain = json_deep_copy(body);
    json_object_del(plain, "profile");
    json_object_del(plain, "linked"); /* the engine's; checked as a boolean already */
    int prc = vr_nic_parse(plain, "body", &nic, err);
    json_decref(plain);
    if (prc < 0)
        return -1;
    if (mode == 1 && vr_vnic_check_host(c->e, vm, body, err) < 0)
        return -1;
    if (json_array_size(json_object_get(vm, "nics")) >= VR_MAX_NICS)
        return vr_error_set(err, VR_ERR_LIMIT, "VM '%s' already has %d NICs", json_string_value(json_object_get(vm, "name")),
                            VR_MAX_NICS);
    json_t *n = json_deep_copy(body);
    json_object_set_new(n, "vm_id", json_string(vm_id(vm)));
    if (mode == 0) {
        int rc = edit_spec(c->e, vm, append_nic, n, err);
        if (rc == 0) {
            json_object_set(n, "id", json_object_get(n, "mac"));
            vr_event(c->e, "normal", c->user, "vm", vm_id(vm), "NIC %s added to VM '%s'",
                     json_string_value(json_object_get(n, "mac")), json_string_value(json_object_get(vm, "name")));
            *reply = n;
            return 0;
        }
        json_decref(n);
        return -1;
    }
    /* Running: reserve the MAC now (so no other VM gets it), plug in a job. */
    char mac[18];
    if (vr_db_begin(c->e->db, err) < 0 || (vr_macpool_allocate(c->e, vm_id(vm), mac, err) < 0 &&
                                           (vr_db_rollback(c->e->db), 1)) ||
        vr_db_commit(c->e->db, err) < 0) {
        json_decref(n);
        return -1;
    }
    json_object_del(n, "vm_id");
    json_object_set_new(n, "mac", json_string(mac));
    if (vr_vm_live_submit(c->e, vm, "hotplug_nic", json_pack("{s:o}", "nic", n), c->user, job, err) == 0)
        return 0;
    vr_db_exec(c->e->db, "DELETE FROM macs WHERE mac = ?", DB_ARGS(DB_TEXT(mac)), NULL); /* never used */
    return -1;
}

static int drop_nic(vr_engine *e, json_t *spec, json_t *mac, vr_error *err)
{
    json_t *nics = array_of(spec, "nics");
    size_t i;
    json_t *n;
    json_array_foreach(nics, i, n)
        if (!strcasecmp(json_string_value(json_object_get(n, "mac")) ?: "", json_string_value(mac))) {
            json_array_remove(nics, i);
            return vr_db_exec(e->db, "DELETE FROM macs WHERE mac = ?", DB_ARGS(DB_TEXT(json_string_value(mac))),
                              err) < 0 ? -1 : 0;
        }
    return vr_error_set(err, VR_ERR_NOT_FOUND, "no NIC %s", json_string_value(mac));
}

static int nic_remove(vr_call *c, json_t *vm, json_t *nic, char job[37], vr_error *err)
{
    int mode = vm_mode(vm, err);
    json_t *mac = json_object_get(nic, "mac");
    if (mode < 0)
        return -1;
    if (mode == 1)
        return vr_vm_live_submit(c->e, vm, "hotunplug_nic", json_pack("{s:O}", "mac", mac), c->user, job, err);
    if (edit_spec(c->e, vm, drop_nic, mac, err) < 0)
        return -1;
    vr_event(c->e, "normal", c->user, "vm", vm_id(vm), "NIC %s removed from VM '%s'", json_string_value(mac),
             json_string_value(json_object_get(vm, "name")));
    return 0;
}

static int set_nic(vr_engine *e, json_t *spec, json_t *change, vr_error *err)
{
    return vr_vnic_apply_change(array_of(spec, "nics"), change, err);
}

/* PUT: link state and profile. Down: stored; running: an update_nic job
 * that records the change once the host made it. */
static int nic_change(vr_call *c, json_t *vm, json_t *nic, json_t *body, json_t **reply, char job[37],
                      vr_error *err)
{
    int mode = vm_mode(vm, err);
    if (mode < 0)
        return -1;
    const char *mac = json_string_value(json_object_get(nic, "mac"));
    const char *from = json_string_value(json_object_get(nic, "profile"));
    const char *to = json_string_value(json_object_get(body, "profile"));
    bool move = to && (!from || strcmp(from, to));
    bool was_linked = !json_is_false(json_object_get(nic, "linked"));
    json_t *lk = json_object_get(body, "linked");
    bool linked = lk ? json_is_true(lk) : was_linked;
    if (move) {
        json_t *probe = json_pack("{s:s}", "profile", to);
        int rc = vr_vnic_resolve(c->e, vm, probe, err);
        json_decref(probe);
        if (rc < 0)
            return -1;
    }
    json_t *change = json_pack("{s:s, s:b}", "mac", mac, "linked", linked);
    if (move)
        json_object_set_new(change, "profile", json_string(to));
    if (mode == 1) {
        if (move && (vr_vnic_check_host(c->e, vm, change, err) < 0 ||
                     vr_vnic_check_live_move(c->e, vm, mac, to, err) < 0)) {
            json_decref(change);
            return -1;
        }
        if (move || linked != was_linked)
            return vr_vm_live_submit(c->e, vm, "update_nic", change, c->user, job, err);
        json_decref(change); /* as it is already: nothing to send */
        *reply = json_deep_copy(nic);
        json_object_del(*reply, "href");
        return 0;
    }
    int rc = edit_spec(c->e, vm, set_nic, change, err);
    if (rc == 0) {
        *reply = json_deep_copy(nic);
        json_object_del(*reply, "href");
        json_t *one = json_pack("[O]", *reply); /* the stored NIC as it is now */
        vr_vnic_apply_change(one, change, err);
        json_decref(one);
        vr_event(c->e, "normal", c->user, "vm", vm_id(vm), "NIC %s of VM '%s' changed", mac,
                 json_string_value(json_object_get(vm, "name")));
    }
    json_decref(change);
    return rc;
}

static const vr_field nic_fields[] = {
    {"id", VR_FT_STR, 0, .doc = "The NIC's MAC: it names the NIC in its URL."},
    {"vm_id", VR_FT_ID, 0, .doc = "Its VM."},
    {"mac", VR_FT_STR, 0, .schema = "^[0-9a-f][02468ace](:[0-9a-f]{2}){5}$", .doc = "From the engine's MAC pool."},
    {"bridge", VR_FT_STR, VR_F_CREATE | VR_F_OPT, 1, 15, .doc = "Host bridge to plug into (none: user networking)."},
    {"profile", VR_FT_REF, VR_F_CREATE | VR_F_UPDATE | VR_F_OPT, .ref = "vnicprofiles",
     .doc = "The vNIC profile it uses: its network, QoS, filter and mirroring (the network must be attached to the"
            " VM's cluster); PUT moves the NIC, live on a running VM."},
    {"linked", VR_FT_BOOL, VR_F_CREATE | VR_F_UPDATE | VR_F_OPT,
     .doc = "Link state (absent: true): false takes the guest's carrier down; PUT changes it, live on a running"
            " VM."},
    {"network", VR_FT_STR, VR_F_CREATE | VR_F_OPT, 1, 15,
     .doc = "At create: a network of the VM's data center by name, for its default profile (stored as profile)."},
    {"model", VR_FT_ENUM, VR_F_CREATE | VR_F_OPT, .values = VR_STRS("virtio", "e1000", "rtl8139"), .dflt = "\"virtio\""},
    {"address", VR_FT_JSON, VR_F_OPT, .schema = "PciAddress", .doc = "Assigned at the VM's first start."},
};

const vr_kind vr_kind_vm_nics = {
    .collection = "nics", .type = "vm", .title = "NIC", .schema = "VmNicItem", .tag = "VMs",
    .fields = nic_fields, .nfields = VR_ARRAY_SIZE(nic_fields), .parent = "vms", .parent_field = "vm_id",
    .children = nic_rows, .add_child = nic_add, .change_child = nic_change, .remove_child = nic_remove,
};

/* ---- disks: named by their target ---- */

/* Every disk with its target (older VMs' specs may lack stored ones). */
static int disk_rows(vr_engine *e, json_t *vm, json_t **rows, vr_error *err)
{
    json_t *disks = json_object_get(vm, "disks");
    size_t n = json_array_size(disks);
    vr_disk *d = calloc(n ? n : 1, sizeof(*d));
    *rows = json_array();
    if (!d)
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory");
    int rc = 0;
    json_t *keep = json_array(), *k;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = vr_vm_disk_parse(json_array_get(disks, i), "disk", &d[i], &k, err);
        if (k)
            json_array_append_new(keep, k);
    }
    if (rc == 0)
        rc = vr_disks_assign_targets(d, (int)n, err);
    for (size_t i = 0; i < n && rc == 0; i++) {
        json_t *r = json_deep_copy(json_array_get(disks, i));
        json_object_set_new(r, "target", json_string(d[i].target));
        json_object_set_new(r, "id", json_string(d[i].target));
        json_object_set_new(r, "vm_id", json_string(vm_id(vm)));
        json_array_append_new(*rows, r);
    }
    free(d);
    json_decref(keep);
    return rc;
}

/* The target a new disk gets beside the VM's (explicit one kept). */
static int new_target(vr_engine *e, json_t *vm, json_t *disk, vr_error *err)
{
    json_t *all = vr_json_copy_or_array(json_object_get(vm, "disks"));
    json_array_append(all, disk);
    json_t *fake = json_pack("{s:O, s:o}", "id", json_object_get(vm, "id"), "disks", all), *rows;
    int rc = disk_rows(e, fake, &rows, err);
    if (rc == 0)
        json_object_set(disk, "target", json_object_get(json_array_get(rows, json_array_size(rows) - 1), "target"));
    json_decref(rows);
    json_decref(fake);
    return rc;
}

/* Against the spec as it is now, in the transaction: another disk added
 * meanwhile may have taken the target or the last slot. */
static int append_disk(vr_engine *e, json_t *spec, json_t *disk, vr_error *err)
{
    json_t *disks = array_of(spec, "disks");
    char vm[40];
    snprintf(vm, sizeof(vm), "%s", json_string_value(json_object_get(disk, "_vm")) ?: "");
    json_object_del(disk, "_vm");
    if (json_array_size(disks) >= VR_MAX_STORAGE)
        return vr_error_set(err, VR_ERR_LIMIT, "the VM already has %d disks", VR_MAX_STORAGE);
    if (!json_object_get(disk, "explicit_target"))
        json_object_del(disk, "target");
    json_object_del(disk, "explicit_target");
    json_t *fake = json_pack("{s:s, s:O}", "id", "", "disks", disks);
    int rc = new_target(e, fake, disk, err);
    json_decref(fake);
    if (rc < 0)
        return -1;
    /* the disk may have gone to another VM since it was checked */
    json_t *one = json_pack("{s:[O]}", "disks", disk);
    rc = vr_storage_disks_claim(e, one, vm, err);
    json_decref(one);
    if (rc < 0)
        return -1;
    json_array_append(disks, disk);
    return 0;
}

static int disk_add(vr_call *c, json_t *vm, json_t *body, json_t **reply, char job[37], vr_error *err)
{
    vr_disk d;
    json_t *keep = NULL;
    int mode = vm_mode(vm, err);
    if (mode < 0)
        return -1;
    int prc = vr_vm_disk_parse(body, "body", &d, &keep, err);
    json_decref(keep);
    if (prc < 0)
        return -1;
    const char *disk_id = json_string_value(json_object_get(body, "disk"));
    json_t *engine_disk = disk_id ? vr_disk_for_vm(c->e, disk_id, vm_id(vm), err) : NULL;
    if (disk_id && !engine_disk)
        return -1;
    json_decref(engine_disk);
    if (json_object_get(body, "address"))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "body.address is assigned by the host");
    if (json_array_size(json_object_get(vm, "disks")) >= VR_MAX_STORAGE)
        return vr_error_set(err, VR_ERR_LIMIT, "VM '%s' already has %d disks",
                            json_string_value(json_object_get(vm, "name")), VR_MAX_STORAGE);
    json_t *disk = json_deep_copy(body);
    bool explicit_target = json_object_get(body, "target") != NULL;
    if (new_target(c->e, vm, disk, err) < 0) {
        json_decref(disk);
        err->code = err->code == VR_ERR_INTERNAL ? err->code : VR_ERR_INVALID_PARAMS;
        return -1;
    }
    if (mode == 1)
        return vr_vm_live_submit(c->e, vm, "hotplug_disk", json_pack("{s:o}", "disk", disk), c->user, job, err);
    if (explicit_target)
        json_object_set_new(disk, "explicit_target", json_true());
    json_object_set_new(disk, "_vm", json_string(vm_id(vm))); /* for append_disk's claim; it drops it */
    if (edit_spec(c->e, vm, append_disk, disk, err) < 0) {
        json_decref(disk);
        if (err->code == VR_ERR_INTERNAL || err->code == VR_ERR_CONFLICT || err->code == VR_ERR_LIMIT)
            return -1;
        err->code = VR_ERR_INVALID_PARAMS;
        return -1;
    }
    json_object_set(disk, "id", json_object_get(disk, "target"));
    json_object_set_new(disk, "vm_id", json_string(vm_id(vm)));
    vr_event(c->e, "normal", c->user, "vm", vm_id(vm), "disk %s added to VM '%s'",
             json_string_value(json_object_get(disk, "target")), json_string_value(json_object_get(vm, "name")));
    *reply = disk;
    return 0;
}

/* Apply fn to the stored disk whose target is arg.target. */
static int with_disk(json_t *spec, json_t *arg, int remove, vr_error *err)
{
    json_t *disks = array_of(spec, "disks"), *rows;
    json_t *fake = json_pack("{s:s, s:O}", "id", "", "disks", disks);
    int rc = disk_rows(NULL, fake, &rows, err);
    json_decref(fake);
    if (rc < 0)
        return -1;
    const char *target = json_string_value(json_object_get(arg, "target"));
    size_t i;
    json_t *r;
    rc = vr_error_set(err, VR_ERR_NOT_FOUND, "no disk %s", target);
    json_array_foreach(rows, i, r) {
        if (strcmp(json_string_value(json_object_get(r, "target")), target))
            continue;
        if (remove)
            json_array_remove(disks, i);
        else
            json_object_set(json_array_get(disks, i), "iotune", json_object_get(arg, "iotune"));
        vr_error_clear(err);
        rc = 0;
        break;
    }
    json_decref(rows);
    return rc;
}

static int drop_disk(vr_engine *e, json_t *spec, json_t *arg, vr_error *err)
{
    return with_disk(spec, arg, 1, err);
}

static int tune_disk(vr_engine *e, json_t *spec, json_t *arg, vr_error *err)
{
    return with_disk(spec, arg, 0, err);
}

static int disk_change(vr_call *c, json_t *vm, json_t *disk, json_t *body, json_t **reply, char job[37],
                       vr_error *err)
{
    int mode = vm_mode(vm, err);
    json_t *iotune = json_object_get(body, "iotune");
    if (mode < 0)
        return -1;
    /* Checked by the disk rules: the current disk with the new limits. */
    json_t *check = json_deep_copy(disk);
    json_object_del(check, "id");
    json_object_del(check, "vm_id");
    json_object_del(check, "href");
    json_object_del(check, "address");
    if (iotune)
        json_object_set(check, "iotune", iotune);
    vr_disk d;
    json_t *keep = NULL;
    int rc = vr_vm_disk_parse(check, "body", &d, &keep, err);
    json_decref(keep);
    json_decref(check);
    if (rc < 0)
        return -1;
    json_t *arg = json_pack("{s:O, s:o}", "target", json_object_get(disk, "target"), "iotune",
                            iotune ? json_incref(iotune) : json_object());
    if (mode == 1)
        return vr_vm_live_submit(c->e, vm, "set_iotune", arg, c->user, job, err);
    rc = edit_spec(c->e, vm, tune_disk, arg, err);
    json_decref(arg);
    if (rc < 0)
        return -1;
    /* iotune is the one member a PUT changes; the same limits again: no event */
    json_t *none = json_object(), *was = json_object_get(disk, "iotune");
    bool changed = iotune && !json_equal(iotune, was ? was : none);
    json_decref(none);
    if (changed)
        vr_event(c->e, "normal", c->user, "vm", vm_id(vm), "disk %s of VM '%s' was updated by %s: %s",
                 json_string_value(json_object_get(disk, "target")) ?: "", json_string_value(json_object_get(vm, "name")) ?: "",
                 c->user ? c->user : "engine", "iotune");
    *reply = json_deep_copy(disk);
    json_object_del(*reply, "href");
    if (iotune)
        json_object_set(*reply, "iotune", iotune);
    return 0;
}

static int disk_remove(vr_call *c, json_t *vm, json_t *disk, char job[37], vr_error *err)
{
    int mode = vm_mode(vm, err);
    json_t *arg = json_pack("{s:O}", "target", json_object_get(disk, "target"));
    if (mode < 0) {
        json_decref(arg);
        return -1;
    }
    if (mode == 1)
        return vr_vm_live_submit(c->e, vm, "hotunplug_disk", arg, c->user, job, err);
    int rc = edit_spec(c->e, vm, drop_disk, arg, err);
    json_decref(arg);
    if (rc == 0)
        vr_event(c->e, "normal", c->user, "vm", vm_id(vm), "disk %s removed from VM '%s'",
                 json_string_value(json_object_get(disk, "target")), json_string_value(json_object_get(vm, "name")));
    return rc;
}

static const vr_field disk_fields[] = {
    {"id", VR_FT_STR, 0, .doc = "The disk's target (vda, sdb...): it names the disk in its URL."},
    {"vm_id", VR_FT_ID, 0, .doc = "Its VM."},
    {"path", VR_FT_STR, VR_F_CREATE | VR_F_OPT, 1, 1024, .schema = "^/",
     .doc = "Absolute path of the image on the host (or give 'disk')."},
    {"disk", VR_FT_REF, VR_F_CREATE | VR_F_OPT, .ref = "disks",
     .doc = "An engine disk by id (or give 'path'): ok, and used by no other VM unless shareable."},
    {"interface", VR_FT_ENUM, VR_F_CREATE | VR_F_OPT, .values = VR_STRS("virtio", "virtio_scsi", "sata", "ide"),
     .doc = "An engine disk's bus in the disks' words; stored as 'bus'."},
    {"bootable", VR_FT_BOOL, VR_F_CREATE | VR_F_OPT, .doc = "Kept with an engine disk."},
    {"format", VR_FT_ENUM, VR_F_CREATE | VR_F_OPT, .values = VR_STRS("raw", "qcow2"), .dflt = "\"raw\""},
    {"bus", VR_FT_ENUM, VR_F_CREATE | VR_F_OPT, .values = VR_STRS("virtio", "virtio-scsi", "sata", "ide"),
     .dflt = "\"virtio\"", .doc = "Hot plug takes virtio and virtio-scsi."},
    {"device", VR_FT_ENUM, VR_F_CREATE | VR_F_OPT, .values = VR_STRS("disk", "cdrom"), .dflt = "\"disk\""},
    {"readonly", VR_FT_BOOL, VR_F_CREATE | VR_F_OPT, .doc = NULL},
    {"cache", VR_FT_ENUM, VR_F_CREATE | VR_F_OPT, .values = VR_STRS("none", "writethrough", "writeback", "directsync",
                                                                  "unsafe")},
    {"io", VR_FT_ENUM, VR_F_CREATE | VR_F_OPT, .values = VR_STRS("threads", "native")},
    {"serial", VR_FT_STR, VR_F_CREATE | VR_F_OPT, 1, 20, .schema = "^[A-Za-z0-9_-]{1,20}$"},
    {"target", VR_FT_STR, VR_F_CREATE, 3, 6, .schema = "^[a-z]{3,6}$",
     .doc = "Guest device name; assigned among the VM's targets if not given."},
    {"iotune", VR_FT_JSON, VR_F_CREATE | VR_F_UPDATE | VR_F_OPT, .schema = "VmIoTune",
     .doc = "I/O limits; changed live on a running VM (PUT)."},
    {"address", VR_FT_JSON, VR_F_OPT, .schema = "PciAddress", .doc = "Assigned at the VM's first start."},
};

const vr_kind vr_kind_vm_disks = {
    .collection = "disks", .type = "vm", .title = "disk", .schema = "VmDiskItem", .tag = "VMs",
    .fields = disk_fields, .nfields = VR_ARRAY_SIZE(disk_fields), .parent = "vms", .parent_field = "vm_id",
    .children = disk_rows, .add_child = disk_add, .change_child = disk_change, .remove_child = disk_remove,
};
