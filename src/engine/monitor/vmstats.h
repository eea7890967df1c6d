/* The last statistics read from each running VM (VM.getStats), kept in
 * memory for GET /metrics: CPU time, balloon, NIC and disk counters. Host
 * monitors fill it; nothing is stored in the database (the figures are
 * counters a metrics system keeps the history of). Thread-safe. */
#pragma once

#include <stdbool.h>
#include <jansson.h>

#include "engine.h"

typedef struct vr_vmstats vr_vmstats;

/* How often a running VM's statistics are read again (a VM not read yet is
 * read at its host's next poll). */
#define VR_VMSTATS_INTERVAL_MS 10000

vr_vmstats *vr_vmstats_new(void);
void vr_vmstats_free(vr_vmstats *s);

/* Read the statistics of the VMs this host's agent reports running that
 * the engine placed here and are due (not read within the interval), over
 * the monitor's connection c; forget VMs of this host no longer running.
 * running: the agent's VM.list entries. Failures only skip a VM. */
struct vr_rpc_client;
void vr_vmstats_poll(vr_engine *e, struct vr_rpc_client *c, const char *host_id, json_t *running);

/* Forget every VM of a host (its monitor ended or lost the host). */
void vr_vmstats_forget_host(vr_vmstats *s, const char *host_id);

/* A copy of everything: {vm_id: {"at": epoch ms, "stats": VM.getStats}}. */
json_t *vr_vmstats_snapshot(vr_vmstats *s);
