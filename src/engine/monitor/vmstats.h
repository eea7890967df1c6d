/* The last statistics read from each running VM (VM.getStats), kept in
 * memory for GET /metrics: CPU time, balloon, NIC and disk counters. Host
 * monitors fill it; nothing is stored in the database (the figures are
 * counters a metrics system keeps the history of). Thread-safe. */
#pragma once

#include <stdbool.h>
#include <jansson.h>

#include "engine.h"

typedef struct vr_vmstats vr_vmstats;

/* How often a host's VMs' statistics are read again: every 10 s, or every
 * 4 polls when polls come faster than every 2.5 s. */
#define VR_VMSTATS_INTERVAL_MS 10000

vr_vmstats *vr_vmstats_new(void);
void vr_vmstats_free(vr_vmstats *s);

/* Called by a host's monitor after each poll: when the host's figures are
 * older than the interval, read them with one VM.getAllStats over the
 * monitor's connection c and keep those of the VMs the engine placed on
 * this host; VMs no longer reported are forgotten. A failure (an agent
 * without the verb included) only leaves the host without figures until
 * the next interval. */
struct vr_rpc_client;
void vr_vmstats_poll(vr_engine *e, struct vr_rpc_client *c, const char *host_id);

/* Forget every VM of a host (its monitor ended or lost the host). */
void vr_vmstats_forget_host(vr_vmstats *s, const char *host_id);

/* A copy of everything: {vm_id: {"at": epoch ms, "stats": VM.getStats}}. */
json_t *vr_vmstats_snapshot(vr_vmstats *s);

/* What VM vm_id's guest agent last reported (guest_info of its statistics:
 * hostname, os, interfaces, ips, updated_at) as a new reference; NULL when
 * nothing is known (no agent in the guest, VM down, figures not read yet). */
json_t *vr_vmstats_guest_info(vr_vmstats *s, const char *vm_id);
