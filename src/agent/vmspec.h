/* The VM specification clients send to VM.create (docs/agent-api.md):
 * parsed strictly from JSON, validated against the hypervisor limits, and
 * turned into domain XML by domxml.c. Strings are borrowed from the JSON,
 * which must outlive the spec. */
#pragma once

#include <stdbool.h>
#include <jansson.h>

#include "agent.h"
#include "devspec.h"
#include "error.h"

typedef struct vr_vm_spec {
    const char *name;
    char uuid[37];
    long long memory_mib, max_memory_mib, vcpus, max_vcpus;
    const char *cpu_model, *machine, *domain_type;
    const char *kernel, *initrd, *cmdline;
    const char *boot_order[4];
    int nboot;
    vr_disk disks[VR_MAX_STORAGE];
    int ndisks;
    /* Files of disks given by volume: disks[i].path points here, so a spec
     * must not be copied once parsed. */
    char vol_paths[VR_MAX_STORAGE][1025];
    vr_nic nics[VR_MAX_NICS];
    int nnics;
    bool serial_console, balloon, rng, guest_agent, vnc;
    const char *vnc_listen;
    /* A VM lease (docs/storage.md "VM leases"): lockspace = domain, key =
     * the VM's UUID; libvirt's sanlock lock manager acquires it. */
    const char *lease_domain; /* NULL: no lease */
    char lease_path[1025];
    json_t *json;             /* the spec as given (borrowed), for metadata */
} vr_vm_spec;

/* Parse and validate params of VM.create into spec. Fills defaults (UUID,
 * MACs, targets, domain type from the host's mode). */
int vr_vm_spec_parse(vr_agent *a, json_t *params, vr_vm_spec *spec, vr_error *err);

/* PCI slots a spec's devices need (for the 31-device limit). */
int vr_vm_spec_pci_count(const vr_vm_spec *spec);

/* A disk given by volume ({"volume": {domain, image, volume}} in obj, named
 * `where`): resolve it to its file under the storage root into path and
 * take its format from the volume's .meta; a missing or ILLEGAL volume,
 * or a "format" that differs, is refused naming the volume. */
int vr_vm_disk_resolve(vr_agent *a, json_t *obj, const char *where, vr_disk *d, char *path,
                       size_t size, vr_error *err);
