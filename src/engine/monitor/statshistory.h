/* The last hour of each host's and VM's CPU, memory and network, kept in
 * the engine's memory for the portals' charts (GET /api/hosts/ID/
 * statistics/history, GET /api/vms/ID/statistics/history). A fixed ring of
 * VR_STATSHIST_SLOTS samples per object, at most one sample per step
 * (60 s): the host monitors feed it from Host.getStats on every poll and
 * from VM.getAllStats (monitor/vmstats.c); a reading less than a step
 * after the last kept sample only refreshes the counters rates are
 * computed from. Nothing is stored in the database (an engine restart
 * starts the history again); an object with no reading for an hour is
 * forgotten, so memory is bounded by the objects monitored in the last
 * hour (about 3 KiB each). Thread-safe. */
#pragma once

#include <jansson.h>

#define VR_STATSHIST_SLOTS 60
#define VR_STATSHIST_STEP_S 60

typedef struct vr_statshist vr_statshist;

/* A history keeping one sample per step_s seconds (VR_STATSHIST_STEP_S;
 * a test may ask for less). NULL when out of memory. */
vr_statshist *vr_statshist_new(int step_s);
void vr_statshist_free(vr_statshist *h);

/* A host's Host.getStats reply read at now_ms: cpu_percent, memory
 * total_kib and available_kib (free_kib when unknown), NICs'
 * rx/tx_bytes_per_s summed. */
void vr_statshist_host(vr_statshist *h, const char *host_id, json_t *stats, long long now_ms);

/* A VM's VM.getStats reply read at now_ms: CPU from cpu_time_ns between
 * two readings over the VM's vCPUs, memory from the balloon (rss_kib,
 * else current_kib) against maximum_kib, network from its NICs' rx/tx
 * byte counters between two readings. */
void vr_statshist_vm(vr_statshist *h, const char *vm_id, json_t *stats, long long now_ms);

/* {"step_s", "slots", "samples": [{time, cpu_percent, memory_used_bytes,
 * memory_total_bytes, net_rx_bytes_per_s, net_tx_bytes_per_s}, ...]}
 * oldest first, only samples of the last slots*step_s seconds before
 * now_ms; a member the reading lacked is null. New reference. */
json_t *vr_statshist_get(vr_statshist *h, const char *id, long long now_ms);
