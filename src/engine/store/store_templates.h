/* Templates: their SQL (store_templates.c). A template is a VM definition
 * (memory_mib, vcpus, spec) whose engine disks are template disks
 * (disks.template_id = the template): read-only base volumes that thin VMs
 * layer on (their disks' parent_disk_id) and clones copy. Sub-versions of a
 * base template share its name and count up version_number. The Blank
 * template (the all-zero id) has no disks. */
#pragma once

#include "store.h"

#define VR_BLANK_TEMPLATE "00000000-0000-0000-0000-000000000000"

extern const vr_store vr_store_templates;
