/* OVF descriptions of VMs on export domains (docs/storage.md "Export
 * domains"): an OVF 1.0 envelope shaped like oVirt's (References,
 * NetworkSection, DiskSection, a VirtualSystem Content with its
 * OperatingSystemSection and VirtualHardwareSection of rasd Items), plus
 * a few elements of Vireo's own namespace for what OVF has no word for
 * (direct kernel boot, disks given by host path).
 *
 * Both directions go through one JSON model, so what is written is what
 * is read back:
 *   {id, name, description, memory_mib, vcpus, created_at, template (bool),
 *    template_id?, template_name? (read only: a thin VM's template, from
 *    another manager's export; Vireo's exports are collapsed, TemplateId Blank),
 *    boot? {kernel?, initrd?, cmdline?, order?[]},
 *    disks: [{disk, volume, alias, description, size, format (raw|cow),
 *             bus, bootable, readonly, storage_domain}
 *            | {path, bus, readonly, format?, device?}]   (the VM's order)
 *    nics: [{name, mac, model, profile, network}]}
 * Text is only ever handed to libxml2's writer (escaped there), and read
 * with XML_PARSE_NONET, without entity substitution or DTD loading: an OVF
 * on storage is input from whoever could write the domain. */
#pragma once

#include <jansson.h>

#include "error.h"

#define VR_OVF_MAX_BYTES (256 * 1024)

/* The OVF text of model (malloc'ed, caller frees), or NULL with err. */
char *vr_ovf_write(json_t *model, vr_error *err);

/* The model of an OVF text of len bytes (a new reference), or NULL with
 * err (VR_ERR_INVALID_PARAMS naming what is wrong): malformed XML, a DTD
 * or entity, more than VR_OVF_MAX_BYTES, a missing or bad member. */
json_t *vr_ovf_read(const char *text, size_t len, vr_error *err);
