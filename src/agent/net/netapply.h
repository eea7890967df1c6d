/* Making the host's devices match a network configuration (netconf.h).
 * One idempotent "converge" serves a setup, a rollback and the restore at
 * start: it deletes the agent's own devices that the configuration does not
 * want (veths vrv*, the network bridges it made, the VLAN programs on NICs
 * it no longer uses), creates or adjusts the wanted ones, and moves
 * addresses. Devices the agent did not create are never deleted. */
#pragma once

#include <jansson.h>

#include "error.h"
#include "nl.h"

/* Refuse, changing nothing, a configuration this host cannot carry: NIC
 * missing or a port of some bridge, MTU above the NIC's maximum, a network
 * named like a device the agent does not own. */
int vr_net_precheck(vr_nl *nl, json_t *target, json_t *known_bridges, vr_error *err);

/* nic_saved: NIC name -> {"addresses": [...], "gateway": s|null}, every NIC
 * the agent carries networks on, with the addresses it had when taken;
 * updated in place (added when a NIC is taken, removed when given back).
 * known_bridges: network bridges the agent may have made (array of names). */
int vr_net_converge(vr_nl *nl, json_t *target, json_t *known_bridges, json_t *nic_saved,
                    vr_error *err);
