/* A VM's hardware members (boot, disks, nics, max_vcpus, ...) checked by
 * the agents' own rules (common/devspec.c) and kept as one spec document.
 * Create and update give the same verdict on the same members: what the
 * engine assigns itself (MACs from the pool, PCI addresses from the first
 * start) is refused in both. */
#include <stdio.h>
#include <string.h>

#include "devspec.h"
#include "diskjobs.h"
#include "names.h"
#include "vm_spec.h"

int vr_vm_disk_parse(json_t *obj, const char *where, vr_disk *d, json_t **keep, vr_error *err)
{
    *keep = NULL;
    json_t *id = json_object_get(obj, "disk");
    if (!json_is_object(obj) || !id)
        return vr_disk_parse(obj, where, d, err);
    if (!json_is_string(id) || !vr_valid_uuid(json_string_value(id)))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.disk must be the id of a disk", where);
    if (json_object_get(obj, "path"))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s names a disk or a path, not both", where);
    json_t *iface = json_object_get(obj, "interface"), *boot = json_object_get(obj, "bootable");
    static const char *const ifaces[][2] = {{"virtio", "virtio"}, {"virtio_scsi", "virtio-scsi"}, {"sata", "sata"},
                                            {"ide", "ide"}};
    if (iface) {
        const char *bus = NULL;
        for (size_t i = 0; i < VR_ARRAY_SIZE(ifaces); i++)
            if (json_is_string(iface) && !strcmp(json_string_value(iface), ifaces[i][0]))
                bus = ifaces[i][1];
        if (!bus)
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.interface must be virtio, virtio_scsi, sata or ide",
                                where);
        json_object_set_new(obj, "bus", json_string(bus));
        json_object_del(obj, "interface");
    }
    if (boot && !json_is_boolean(boot))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.bootable must be a boolean", where);
    json_object_del(obj, "format"); /* the disk's own */
    /* The agent's rules, on a copy with a stand-in path for the volume. */
    *keep = json_deep_copy(obj);
    json_object_del(*keep, "disk");
    json_object_del(*keep, "bootable");
    json_object_set_new(*keep, "path", json_string("/vireo-engine-disk"));
    return vr_disk_parse(*keep, where, d, err);
}

/* Whether the disk list names disk id. */
static bool names_disk(json_t *disks, const char *id)
{
    size_t i;
    json_t *d;
    json_array_foreach(disks, i, d)
        if (!strcmp(json_string_value(json_object_get(d, "disk")) ?: "", id))
            return true;
    return false;
}

int vr_vm_spec_check_disk_refs(vr_engine *e, json_t *spec, json_t *before, const char *vm_id, vr_error *err)
{
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(spec, "disks"), i, d) {
        const char *id = json_string_value(json_object_get(d, "disk"));
        if (id && names_disk(json_object_get(before, "disks"), id))
            continue; /* kept: a job on it (an extend) does not block the VM's other changes */
        json_t *row = id ? vr_disk_for_vm(e, id, vm_id, err) : NULL;
        if (id && !row)
            return -1;
        json_decref(row);
    }
    return 0;
}

/* The spec members, in the order they are documented. */
const char *const vr_vm_spec_members[] = {"boot", "disks", "nics", "max_vcpus", "max_memory_mib",
                                          "serial_console", "vnc"};
const size_t vr_vm_nspec_members = sizeof(vr_vm_spec_members) / sizeof(vr_vm_spec_members[0]);

static int check_disks(json_t *disks, vr_error *err)
{
    size_t i;
    json_t *d, *keep = json_array();
    vr_disk disk[VR_MAX_STORAGE];
    int ide = 0, rc = 0;
    json_array_foreach(disks, i, d) {
        char where[32];
        json_t *k = NULL;
        snprintf(where, sizeof(where), "disks[%zu]", i);
        if (json_is_object(d) && json_object_get(d, "address"))
            rc = vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.address is assigned at the VM's first start", where);
        else
            rc = vr_vm_disk_parse(d, where, &disk[i], &k, err);
        if (k)
            json_array_append_new(keep, k);
        if (rc < 0)
            break;
        ide += !strcmp(disk[i].bus, "ide");
    }
    if (rc == 0 && vr_disks_assign_targets(disk, (int)json_array_size(disks), err) < 0) {
        err->code = VR_ERR_INVALID_PARAMS; /* within one body: a bad request */
        rc = -1;
    }
    if (rc == 0 && ide > VR_MAX_IDE)
        rc = vr_error_set(err, VR_ERR_INVALID_PARAMS, "at most %d IDE disks", VR_MAX_IDE);
    json_decref(keep);
    return rc;
}

static int check_nics(json_t *nics, vr_error *err)
{
    size_t i;
    json_t *d;
    json_array_foreach(nics, i, d) {
        char where[32];
        vr_nic nic;
        snprintf(where, sizeof(where), "nics[%zu]", i);
        if (json_is_object(d) && (json_object_get(d, "mac") || json_object_get(d, "address")))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                                "%s: MACs come from the engine's MAC pool and addresses from the first start", where);
        /* A NIC on a vNIC profile: the agent's rules see it without. */
        json_t *plain = json_is_object(d) ? json_deep_copy(d) : json_incref(d);
        json_t *prof = json_object_get(plain, "profile");
        int rc = prof && (!json_is_string(prof) || !vr_valid_uuid(json_string_value(prof)))
            ? vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.profile must be the id of a vNIC profile", where) : 0;
        json_object_del(plain, "profile");
        json_t *linked = json_object_get(plain, "linked"); /* the engine's; the agent's "link" */
        if (rc == 0 && linked && !json_is_boolean(linked))
            rc = vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.linked must be true or false", where);
        json_object_del(plain, "linked");
        /* The network fields of the agent's NIC come from profiles only. */
        static const char *const from_profile[] = {"network", "filter", "bandwidth", "mirror", "passthrough"};
        for (size_t k = 0; rc == 0 && k < VR_ARRAY_SIZE(from_profile); k++)
            if (json_object_get(plain, from_profile[k]))
                rc = vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.%s comes from the NIC's vNIC profile: give"
                                  " profile (or add the NIC with POST /api/vms/ID/nics {\"network\": NAME})", where,
                                  from_profile[k]);
        if (rc == 0)
            rc = vr_nic_parse(plain, where, &nic, err);
        json_decref(plain);
        if (rc < 0)
            return -1;
    }
    return 0;
}

json_t *vr_vm_spec_build(json_t *members, long long vcpus, long long memory_mib, vr_error *err)
{
    json_t *boot = json_object_get(members, "boot"), *disks = json_object_get(members, "disks"),
           *nics = json_object_get(members, "nics");
    if ((boot && !json_is_object(boot)) || (disks && !json_is_array(disks)) || (nics && !json_is_array(nics))) {
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "body.%s must be %s", boot && !json_is_object(boot) ? "boot"
                     : disks && !json_is_array(disks) ? "disks" : "nics",
                     boot && !json_is_object(boot) ? "an object" : "an array");
        return NULL;
    }
    vr_boot boot_spec;
    if (boot && vr_boot_parse(boot, &boot_spec, err) < 0)
        return NULL;
    if (json_array_size(disks) > VR_MAX_STORAGE || json_array_size(nics) > VR_MAX_NICS) {
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "at most %d disks and %d NICs", VR_MAX_STORAGE, VR_MAX_NICS);
        return NULL;
    }
    if (check_disks(disks, err) < 0 || check_nics(nics, err) < 0)
        return NULL;
    long long maxv = json_integer_value(json_object_get(members, "max_vcpus"));
    long long maxm = json_integer_value(json_object_get(members, "max_memory_mib"));
    if ((maxv && maxv < vcpus) || (maxm && maxm < memory_mib)) {
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "max_vcpus / max_memory_mib are below vcpus / memory_mib");
        return NULL;
    }
    json_t *spec = json_object();
    if (boot)
        json_object_set(spec, "boot", boot);
    json_object_set_new(spec, "disks", disks ? json_deep_copy(disks) : json_array());
    json_object_set_new(spec, "nics", nics ? json_deep_copy(nics) : json_array());
    if (maxv)
        json_object_set_new(spec, "max_vcpus", json_integer(maxv));
    if (maxm)
        json_object_set_new(spec, "max_memory_mib", json_integer(maxm));
    json_t *serial = json_object_get(members, "serial_console"), *vnc = json_object_get(members, "vnc");
    json_object_set_new(spec, "serial_console", json_boolean(serial ? json_is_true(serial) : true));
    json_object_set_new(spec, "vnc", json_boolean(vnc && json_is_true(vnc)));
    return spec;
}
