/* The host network configuration as data (docs/networks.md): checking a
 * Host.setupNetworks request against the running configuration and
 * merging it, with no device touched. Pure functions, unit tested.
 *
 * A configuration is a JSON object, network name -> normalized network:
 * {"nic": s, "vlan": int|null, "mtu": int, "vm": bool,
 *  "boot_protocol": "none"|"static"|"dhcp", "address": "a.b.c.d/n"|null,
 *  "gateway": "a.b.c.d"|null}. */
#pragma once

#include <stdbool.h>
#include <jansson.h>

#include "error.h"
#include "nl.h"

#define VR_NET_DEFAULT_TIMEOUT 120

typedef struct vr_netsetup {
    json_t *target;     /* the configuration after the change (new reference) */
    json_t *removed;    /* names of removed networks (array) */
    json_t *changed;    /* names of added or replaced networks (array) */
    bool check;         /* check_connectivity */
    int timeout_s;      /* connectivity_timeout */
} vr_netsetup;

/* Check params against `running` and build the target. have_bonding: the
 * kernel has the bonding module. On error nothing is allocated. */
int vr_netconf_setup_parse(json_t *params, json_t *running, bool have_bonding, vr_netsetup *out,
                           vr_error *err);
void vr_netsetup_free(vr_netsetup *s);

/* A network or bond name: 1..15 bytes of [A-Za-z0-9_-], not the agent's
 * own veth prefix (vrv). */
bool vr_netconf_valid_name(const char *s);

/* A network's veth name (docs/networks.md); false if it would not fit the
 * kernel's 15 bytes. side is 'a' (trunk end) or 'b' (bridge end). */
bool vr_netconf_veth_name(const char *nic, int vlan, char side, char out[16]);

/* The network's VLAN (0 = untagged). */
int vr_netconf_vlan(json_t *net);
