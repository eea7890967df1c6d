/* The incoming filter: how many migrations may arrive at one host at once
 * (the cluster's migration_policy.max_incoming, default 2 as VDSM's
 * max_incoming_migrations, at most one per CPU of the host). A migration's
 * destination is booked when its job picks it (vms.migrating_to_host_id,
 * vmmigrate.c), so the count is the VMs migrating to the host now. A
 * migration that finds every host that would fit busy this way waits for
 * one (vmmigrate.c) rather than failing: the others end by themselves. */
#pragma once

#include <stddef.h>

#include "engine.h"
#include "hostview.h"

/* For a migration of vm_id in cluster (its row: migration_json read): mark
 * the up hosts that already receive their most migrations at once (status
 * "incoming", with incoming for the reason). 0, or -1
 * with err set (database). */
int vr_incoming_filter(vr_engine *e, json_t *cluster, const char *vm_id, vr_sched_host *hosts, size_t n,
                       vr_error *err);
