/* The network rules the engine checks before anything is stored or sent
 * to a host (docs/networks.md): names that can name a Linux device, roles,
 * labels, QoS (libvirt bandwidth) and bonds (RHV 4.0 ch. 3). Each fails
 * with VR_ERR_INVALID_PARAMS naming the member. */
#pragma once

#include <stdbool.h>
#include <jansson.h>

#include "error.h"

/* 1-15 bytes of [A-Za-z0-9_-], not starting with '-' nor with the agent's
 * own device prefixes vrt- and vrv. */
int vr_net_check_name(const char *name, vr_error *err);

/* An array of distinct roles among management, display, migration. */
int vr_net_check_roles(json_t *roles, vr_error *err);

/* "" or 1-32 of [A-Za-z0-9_-]. */
int vr_net_check_label(const char *label, vr_error *err);

/* null, or {"inbound"?: DIR, "outbound"?: DIR} with DIR {"average",
 * "peak"?, "burst"?}, each 1..2^32-1 (KiB/s, KiB). where names it. */
int vr_net_check_qos(json_t *qos, const char *where, vr_error *err);

/* A bond: name bond0..bond999, nics an array of >= 2 distinct NIC names,
 * mode 0-6; modes 0, 5 and 6 refused when it carries a VM network. */
int vr_net_check_bond(const char *name, json_t *bond, bool carries_vm_network, vr_error *err);

/* A host NIC name the agent can use: 1-8 bytes (its veths add 7), of
 * [A-Za-z0-9_.-]. */
int vr_net_check_nic(const char *nic, const char *where, vr_error *err);
