/* Disk and NIC specifications as JSON objects (docs/agent-api.md): parsed
 * strictly, with the same rules in the agent (VM.create, hotplug) and the
 * engine (VM definitions), so the engine stores only what an agent accepts.
 * Strings are borrowed from the JSON, which must outlive the structs. */
#pragma once

#include <stdbool.h>
#include <jansson.h>

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
    /* A disk names either a file (path) or a volume of a storage domain,
     * {"domain","image","volume"} (borrowed; path is NULL until the agent
     * resolves it, see docs/storage.md). Exactly one of the two is given. */
    json_t *volume;
    char target[16];          /* vda, sdb, hdc... assigned if not given */
    bool readonly;
    bool has_iotune;
    long long iotune[VR_IOTUNE_N];
    json_t *address;          /* borrowed; NULL = let libvirt choose */
} vr_disk;

enum { VR_BW_AVERAGE, VR_BW_PEAK, VR_BW_BURST, VR_BW_N };

typedef struct vr_nic {
    char mac[18];
    const char *model, *bridge; /* bridge NULL = user-mode networking */
    json_t *address;
    /* Networks (docs/networks.md); all optional. A NIC names a bridge or a
     * network (the agent plugs it into that network's bridge), not both. */
    const char *network;
    bool filter;                /* nwfilter clean-traffic; default: network given */
    bool link_down, mirror, passthrough;
    bool has_bw[2];             /* [0] inbound, [1] outbound */
    long long bw[2][VR_BW_N];   /* KiB/s, KiB/s, KiB; 0 = not given */
} vr_nic;

typedef struct vr_boot {
    const char *kernel, *initrd, *cmdline; /* direct kernel boot, or NULL */
    const char *order[4];                  /* "hd", "cdrom", "network" */
    int norder;
} vr_boot;

/* Parse a VM's "boot" object: kernel/initrd absolute paths, initrd and
 * cmdline only with a kernel, cmdline at most 2048 bytes, order at most 3
 * of hd, cdrom, network. */
int vr_boot_parse(json_t *boot, vr_boot *b, vr_error *err);

/* Parse one disk / NIC object. `where` names it in errors ("disks[2]").
 * A NIC without a MAC gets a random 52:54:00 one. */
int vr_disk_parse(json_t *obj, const char *where, vr_disk *d, vr_error *err);
int vr_nic_parse(json_t *obj, const char *where, vr_nic *n, vr_error *err);

/* Pick the first free target name for the disk's bus, given names in use. */
int vr_disk_assign_target(vr_disk *d, const char *const *used, int nused, vr_error *err);

/* Give every disk of a VM its target: explicit ones first, so an automatic
 * one never takes their name. */
int vr_disks_assign_targets(vr_disk *disks, int n, vr_error *err);

/* Validation helpers. */
bool vr_valid_name(const char *s);
bool vr_valid_uuid(const char *s);
bool vr_valid_mac(const char *s);
bool vr_valid_target(const char *s); /* a guest disk name: 1-6 of [a-z] (vda, sdb...) */
bool vr_valid_path(const char *s); /* absolute, <= 1024 bytes, vr_valid_text */
/* Text that XML 1.0 can carry: no control characters, no U+FFFE/U+FFFF
 * (jansson has already made sure it is valid UTF-8). */
bool vr_valid_text(const char *s);
void vr_random_mac(char out[18]);
