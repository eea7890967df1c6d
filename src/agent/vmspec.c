#include "vmspec.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <uuid/uuid.h>

#include "jsonx.h"
#include "storage/vmlease.h"
#include "storage/volume.h"

static int boot_parse(json_t *params, vr_vm_spec *s, vr_error *err)
{
    json_t *boot = NULL;
    vr_boot b;
    if (vr_json_obj(params, "params", "boot", false, &boot, err) < 0)
        return -1;
    if (!boot)
        return 0;
    if (vr_boot_parse(boot, &b, err) < 0)
        return -1;
    s->kernel = b.kernel;
    s->initrd = b.initrd;
    s->cmdline = b.cmdline;
    for (s->nboot = 0; s->nboot < b.norder; s->nboot++)
        s->boot_order[s->nboot] = b.order[s->nboot];
    return 0;
}

int vr_vm_disk_resolve(vr_agent *a, json_t *obj, const char *where, vr_disk *d, char *path,
                       size_t size, vr_error *err)
{
    vr_volume_ref ref;
    const char *fmt, *given = NULL;
    char in[64];
    snprintf(in, sizeof(in), "%s.volume", where);
    if (vr_volume_ref_parse(d->volume, in, &ref, err) < 0 ||
        vr_json_str(obj, where, "format", false, &given, err) < 0 ||
        vr_volume_resolve(a, &ref, path, size, &fmt, err) < 0)
        return -1;
    if (given && strcmp(given, fmt))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.format is %s but volume %s is %s", where,
                            given, ref.volume, fmt);
    d->path = path;
    d->format = fmt;
    return 0;
}

/* lease: {domain, key?}: the VM's lease on a data domain, whose key is the
 * VM's UUID (given with it). Resolved to this host's path of the lease. */
static int lease_parse(vr_agent *a, json_t *params, vr_vm_spec *s, vr_error *err)
{
    static const char *const keys[] = {"domain", "key"};
    json_t *lease = NULL;
    const char *key = NULL;
    if (vr_json_obj(params, "params", "lease", false, &lease, err) < 0 || !lease)
        return 0;
    if (vr_json_check_keys(lease, "lease", VR_NAMES(keys), err) < 0 ||
        vr_json_str(lease, "lease", "domain", true, &s->lease_domain, err) < 0 ||
        vr_json_str(lease, "lease", "key", false, &key, err) < 0)
        return -1;
    if (!json_object_get(params, "uuid"))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "a VM with a lease needs its uuid (the lease's key)");
    if (key && strcasecmp(key, s->uuid))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "lease.key must be the VM's uuid %s", s->uuid);
    return vr_vmlease_for_vm(a, s->lease_domain, s->uuid, s->lease_path, sizeof(s->lease_path), err);
}

static int devices_parse(vr_agent *a, json_t *params, vr_vm_spec *s, vr_error *err)
{
    json_t *disks = NULL, *nics = NULL, *v;
    size_t i;
    char where[32];
    if (vr_json_arr(params, "params", "disks", false, &disks, err) < 0 ||
        vr_json_arr(params, "params", "nics", false, &nics, err) < 0)
        return -1;
    if (disks && json_array_size(disks) > VR_MAX_STORAGE)
        return vr_error_set(err, VR_ERR_LIMIT, "a VM can have at most %d storage devices",
                            VR_MAX_STORAGE);
    if (nics && json_array_size(nics) > VR_MAX_NICS)
        return vr_error_set(err, VR_ERR_LIMIT, "a VM can have at most %d NICs", VR_MAX_NICS);
    int nide = 0;
    json_array_foreach(disks, i, v) {
        snprintf(where, sizeof(where), "disks[%zu]", i);
        vr_disk *d = &s->disks[s->ndisks++];
        if (vr_disk_parse(v, where, d, err) < 0 ||
            (d->volume && vr_vm_disk_resolve(a, v, where, d, s->vol_paths[s->ndisks - 1],
                                             sizeof(s->vol_paths[0]), err) < 0))
            return -1;
        if (!strcmp(d->bus, "ide") && ++nide > VR_MAX_IDE)
            return vr_error_set(err, VR_ERR_LIMIT, "a VM can have at most %d IDE devices", VR_MAX_IDE);
    }
    if (vr_disks_assign_targets(s->disks, s->ndisks, err) < 0)
        return -1;
    json_array_foreach(nics, i, v) {
        snprintf(where, sizeof(where), "nics[%zu]", i);
        if (vr_nic_parse(v, where, &s->nics[s->nnics], err) < 0)
            return -1;
        for (int j = 0; j < s->nnics; j++)
            if (!strcmp(s->nics[j].mac, s->nics[s->nnics].mac))
                return vr_error_set(err, VR_ERR_CONFLICT, "MAC %s is given twice", s->nics[j].mac);
        s->nnics++;
    }
    return 0;
}

int vr_vm_spec_pci_count(const vr_vm_spec *s)
{
    int n = s->nnics + s->balloon + s->rng + s->guest_agent + (s->vnc ? 1 : 0);
    bool scsi = false, sata = false;
    for (int i = 0; i < s->ndisks; i++) {
        n += !strcmp(s->disks[i].bus, "virtio");
        scsi |= !strcmp(s->disks[i].bus, "virtio-scsi");
        sata |= !strcmp(s->disks[i].bus, "sata");
    }
    return n + scsi + sata;
}

int vr_vm_spec_parse(vr_agent *a, json_t *params, vr_vm_spec *s, vr_error *err)
{
    static const char *const keys[] = {
        "name", "uuid", "memory_mib", "max_memory_mib", "vcpus", "max_vcpus", "cpu_model",
        "machine", "domain_type", "boot", "disks", "nics", "serial_console", "vnc", "balloon",
        "rng", "guest_agent", "lease"};
    static const char *const types[] = {"kvm", "qemu"};
    memset(s, 0, sizeof(*s));
    s->json = params;
    s->serial_console = s->balloon = s->guest_agent = true;
    s->vcpus = 1;
    const char *uuid = NULL;
    json_t *vnc = NULL;
    if (vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0 ||
        vr_json_str(params, "params", "name", true, &s->name, err) < 0 ||
        vr_json_str(params, "params", "uuid", false, &uuid, err) < 0 ||
        vr_json_int(params, "params", "memory_mib", true, 16, 4 * 1024 * 1024, &s->memory_mib, err) < 0 ||
        vr_json_int(params, "params", "max_memory_mib", false, 16, 4 * 1024 * 1024, &s->max_memory_mib, err) < 0 ||
        vr_json_int(params, "params", "vcpus", false, 1, 4096, &s->vcpus, err) < 0 ||
        vr_json_int(params, "params", "max_vcpus", false, 1, 4096, &s->max_vcpus, err) < 0 ||
        vr_json_str(params, "params", "cpu_model", false, &s->cpu_model, err) < 0 ||
        vr_json_str(params, "params", "machine", false, &s->machine, err) < 0 ||
        vr_json_str(params, "params", "domain_type", false, &s->domain_type, err) < 0 ||
        vr_json_bool(params, "params", "serial_console", false, &s->serial_console, err) < 0 ||
        vr_json_bool(params, "params", "balloon", false, &s->balloon, err) < 0 ||
        vr_json_bool(params, "params", "rng", false, &s->rng, err) < 0 ||
        vr_json_bool(params, "params", "guest_agent", false, &s->guest_agent, err) < 0 ||
        boot_parse(params, s, err) < 0 || devices_parse(a, params, s, err) < 0)
        return -1;
    if (!vr_valid_name(s->name))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                            "name must be 1-64 letters, digits, '.', '-' or '_', starting with a letter or digit");
    if (uuid) {
        if (!vr_valid_uuid(uuid))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "uuid '%s' is not a valid UUID", uuid);
        for (int i = 0; i < 36; i++) /* libvirt reports UUIDs in lowercase */
            s->uuid[i] = (char)tolower((unsigned char)uuid[i]);
    } else {
        uuid_t u;
        uuid_generate_random(u);
        uuid_unparse_lower(u, s->uuid);
    }
    json_t *v = json_object_get(params, "vnc");
    if (v && json_is_boolean(v)) {
        s->vnc = json_is_true(v);
    } else if (v && !json_is_null(v)) {
        static const char *const vkeys[] = {"listen"};
        if (vr_json_obj(params, "params", "vnc", false, &vnc, err) < 0 ||
            vr_json_check_keys(vnc, "vnc", VR_NAMES(vkeys), err) < 0 ||
            vr_json_str(vnc, "vnc", "listen", false, &s->vnc_listen, err) < 0)
            return -1;
        s->vnc = true;
    }
    unsigned char bin[16];
    if (s->vnc_listen && inet_pton(AF_INET, s->vnc_listen, bin) != 1 && inet_pton(AF_INET6, s->vnc_listen, bin) != 1)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "vnc.listen must be an IP address");
    if (!s->max_memory_mib)
        s->max_memory_mib = s->memory_mib;
    if (s->max_memory_mib < s->memory_mib)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "max_memory_mib is below memory_mib");
    if (!s->max_vcpus)
        s->max_vcpus = s->vcpus;
    if (s->max_vcpus < s->vcpus)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "max_vcpus is below vcpus");
    if (s->max_vcpus > a->max_vcpus)
        return vr_error_set(err, VR_ERR_LIMIT, "%lld vCPUs requested; this host allows at most %d",
                            s->max_vcpus, a->max_vcpus);
    if (s->domain_type && !vr_str_in(s->domain_type, VR_NAMES(types)))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "domain_type must be kvm or qemu");
    if (s->domain_type && !strcmp(s->domain_type, "kvm") && a->mode != VR_VIRT_KVM)
        return vr_error_set(err, VR_ERR_UNSUPPORTED,
                            "domain type kvm requested but this host has no hardware virtualization (mode %s)",
                            a->mode == VR_VIRT_TCG ? "tcg" : "kvm-emulated");
    /* A literal, not the JSON string: params is rewritten below. */
    s->domain_type = !s->domain_type ? a->default_domain_type
                     : !strcmp(s->domain_type, "kvm") ? "kvm" : "qemu";
    if (s->cpu_model && (!*s->cpu_model || strlen(s->cpu_model) > 64 ||
                         strspn(s->cpu_model, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != strlen(s->cpu_model)))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "cpu_model is not a valid CPU model name");
    if (s->machine && (!*s->machine || strlen(s->machine) > 64 ||
                       strspn(s->machine, "abcdefghijklmnopqrstuvwxyz0123456789-_.") != strlen(s->machine)))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "machine is not a valid machine type");
    if (lease_parse(a, params, s, err) < 0)
        return -1;
    int pci = vr_vm_spec_pci_count(s);
    if (pci > VR_MAX_PCI)
        return vr_error_set(err, VR_ERR_LIMIT, "the VM needs %d PCI devices; at most %d are allowed",
                            pci, VR_MAX_PCI);
    if (!s->kernel && s->ndisks == 0)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "nothing to boot: give boot.kernel or a disk");
    /* Record what was chosen for the caller, so the spec stored in the
     * domain's metadata describes the VM as it runs. */
    json_object_set_new(params, "uuid", json_string(s->uuid));
    json_object_set_new(params, "domain_type", json_string(s->domain_type));
    json_t *arr = json_object_get(params, "disks");
    for (int k = 0; k < s->ndisks; k++)
        json_object_set_new(json_array_get(arr, (size_t)k), "target", json_string(s->disks[k].target));
    arr = json_object_get(params, "nics");
    for (int k = 0; k < s->nnics; k++)
        json_object_set_new(json_array_get(arr, (size_t)k), "mac", json_string(s->nics[k].mac));
    return 0;
}
