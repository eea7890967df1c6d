/* Host monitoring: one thread per host polls its agent (capabilities,
 * statistics, VM list), drives the host status machine and reconciles the
 * status of the VMs that run there. */
#pragma once

#include "engine.h"

/* Start monitors for every host in the database. */
int vr_hostmon_start(vr_engine *e, vr_error *err);

/* Start monitoring one (new) host. Monitors end by themselves when their
 * host is removed from the database. */
int vr_hostmon_add(vr_engine *e, const char *host_id, vr_error *err);

/* Ask monitors to stop (engine shutdown); they exit at their next tick. */
void vr_hostmon_stop(vr_engine *e);
