/* The VM specification clients send to VM.create (docs/agent-api.md):
 * parsed strictly from JSON, validated against the hypervisor limits, and
 * turned into domain XML by domxml.c. Strings are borrowed from the JSON,
 * which must outlive the spec. */
#pragma once

#include <stdbool.h>
#include <jansson.h>

#include "agent.h"
#include "error.h"

#define VR_MAX_STORAGE 28  /* storage devices per VM */
#define VR_MAX_IDE 4       /* emulated IDE devices per VM */
#define VR_MAX_PCI 31      /* PCI devices we may place on the root bus */
#define VR_MAX_NICS 16

enum { VR_IOTUNE_TOTAL_BYTES, VR_IOTUNE_READ_BYTES, VR_IOTUNE_WRITE_BYTES,
       VR_IOTUNE_TOTAL_IOPS, VR_IOTUNE_READ_IOPS, VR_IOTUNE_WRITE_IOPS, VR_IOTUNE_N };
extern const char *const vr_iotune_names[VR_IOTUNE_N];

typedef struct vr_disk {
    const char *path, *format, *bus, *device, *cache, *io, *serial;
    char target[16];          /* vda, sdb, hdc... assigned if not given */
    bool readonly;
    bool has_iotune;
    long long iotune[VR_IOTUNE_N];
    json_t *address;          /* borrowed; NULL = let libvirt choose */
} vr_disk;

typedef struct vr_nic {
    char mac[18];
    const char *model, *bridge; /* bridge NULL = user-mode networking */
    json_t *address;
} vr_nic;

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
    vr_nic nics[VR_MAX_NICS];
    int nnics;
    bool serial_console, balloon, rng, guest_agent, vnc;
    const char *vnc_listen;
    json_t *json;             /* the spec as given (borrowed), for metadata */
} vr_vm_spec;

/* Parse and validate params of VM.create into spec. Fills defaults (UUID,
 * MACs, targets, domain type from the host's mode). */
int vr_vm_spec_parse(vr_agent *a, json_t *params, vr_vm_spec *spec, vr_error *err);

/* Parse one disk / NIC object (also used by hotplug). `where` names it in
 * errors. Target assignment for disks is done by vr_disk_assign_target. */
int vr_disk_parse(json_t *obj, const char *where, vr_disk *d, vr_error *err);
int vr_nic_parse(json_t *obj, const char *where, vr_nic *n, vr_error *err);

/* Pick the first free target name for the disk's bus, given names in use. */
int vr_disk_assign_target(vr_disk *d, const char *const *used, int nused, vr_error *err);

/* PCI slots a spec's devices need (for the 31-device limit). */
int vr_vm_spec_pci_count(const vr_vm_spec *spec);

/* Validation helpers shared with other verbs. */
bool vr_valid_name(const char *s);
bool vr_valid_uuid(const char *s);
bool vr_valid_mac(const char *s);
bool vr_valid_path(const char *s);
void vr_random_mac(char out[18]);
