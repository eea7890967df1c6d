/* The default management network (docs/networks.md "Engine"): every data
 * center has `vireomgmt` (a VM network with the management role and its
 * default profile), attached to each of its clusters as required. */
#pragma once

#include "engine.h"

/* Create data center dc_id's management network if it has none. */
int vr_mgmtnet_datacenter(vr_engine *e, const char *dc_id, vr_error *err);

/* Attach its data center's management network(s) to cluster_id, required,
 * unless attached already. */
int vr_mgmtnet_cluster(vr_engine *e, const char *cluster_id, vr_error *err);

/* Give every data center and cluster made before networks existed (schema
 * v8) the same; run once at start-up. */
int vr_mgmtnet_ensure_all(vr_engine *e, vr_error *err);
