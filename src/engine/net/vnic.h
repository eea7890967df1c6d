/* VM NICs on vNIC profiles (docs/networks.md "VM NIC spec"): a VM's NIC
 * stores the id of its profile; the engine checks it when the NIC is
 * added, the scheduler places the VM only where its networks run, and the
 * start turns the profile into the agent's NIC fields. */
#pragma once

#include "devspec.h"
#include "engine.h"

#define VR_VNIC_MAX_NETS VR_MAX_NICS

/* A NIC body for VM vm (a vms row with id, name, cluster_id): "network":
 * NAME becomes "profile": the network's default profile; a "profile" is
 * checked (exists, its network attached to the VM's cluster). The body
 * is changed in place; one without either is left alone. */
int vr_vnic_resolve(vr_engine *e, json_t *vm, json_t *nic, vr_error *err);

/* The distinct networks the NICs of vm (a row with its "spec") use: a new
 * array of names, also pointed at by names[0..size) (at most
 * VR_VNIC_MAX_NETS). NULL with err on a database error. */
json_t *vr_vnic_vm_networks(vr_engine *e, json_t *vm, const char **names, vr_error *err);

/* For a NIC (resolved: with its "profile") plugged into running VM vm (a
 * row with id, name): 0 when the VM's host runs the profile's network,
 * else VR_ERR_CONFLICT naming host, VM and network (nothing is sent to a
 * host that would refuse it). A NIC without a profile passes. */
int vr_vnic_check_host(vr_engine *e, json_t *vm, json_t *nic, vr_error *err);

/* The agent's NIC (a new reference) for a stored NIC: its profile becomes
 * network, filter, bandwidth, mirror (and passthrough), "linked" the
 * agent's "link" (up/down); a NIC without a profile is copied otherwise.
 * Also VM.updateNic's fields from an update_nic job's change. NULL with
 * err when the profile is gone. */
json_t *vr_vnic_agent_nic(vr_engine *e, json_t *nic, vr_error *err);

/* Before a migration: ask the destination host (a hosts row) itself which
 * networks it runs now, and refuse (VR_ERR_CONFLICT, naming host, VM and
 * the networks missing or not VM networks) when it lacks one the VM's NICs
 * use. The scheduler's view may be a few polls old; this is the host's
 * word. A VM without networks passes without a call. */
int vr_vnic_check_dest(vr_engine *e, json_t *vm, json_t *dst, vr_error *err);

/* Apply a NIC change {mac, linked, profile?} to the NIC with that MAC in
 * nics (a spec's array): linked is stored, a profile replaces the NIC's
 * (and its bridge). VR_ERR_NOT_FOUND when no NIC has the MAC. */
int vr_vnic_apply_change(json_t *nics, json_t *change, vr_error *err);

/* Before moving NIC mac of running VM vm to profile `to`: VR_ERR_CONFLICT
 * when `to` is a passthrough profile; VR_ERR_INVALID_PARAMS when it is
 * gone. (QoS and mirroring come off a running NIC: the agent removes them.) */
int vr_vnic_check_live_move(vr_engine *e, json_t *vm, const char *mac, const char *to, vr_error *err);

/* VM.updateNic's fields (a new reference) for an update_nic change {mac,
 * linked, profile?}: vr_vnic_agent_nic's, plus "bandwidth": null when the
 * new profile has no QoS, so the agent takes the shaping off. */
json_t *vr_vnic_agent_change(vr_engine *e, json_t *change, vr_error *err);

/* After VM vm (a row with id, name, spec) migrated to host dst: the
 * destination's agent shapes and mirrors a NIC only when told (libvirt
 * moves the domain, not the tap's qdiscs), so each NIC whose profile has
 * QoS or mirroring gets them again through VM.updateNic. A refusal is a
 * warning event: the VM did migrate. */
void vr_vnic_after_migration(vr_engine *e, json_t *vm, json_t *dst, const char *user);
