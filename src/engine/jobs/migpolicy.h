/* A cluster's migration policy (docs/migration.md "Migration policy"): how
 * the agents migrate the cluster's VMs - RHV's minimal downtime (the
 * default), suspend workload if needed and post-copy, with the bandwidth,
 * the starting downtime limit, auto-convergence and compression, and how
 * many migrations may leave one host at once (max_outgoing: the engine's
 * queue, migqueue.h, waits beyond it) and arrive at one (max_incoming: the
 * scheduler's incoming filter, sched/incoming.h); neither is an agent
 * parameter. Stored
 * whole, every member filled, as clusters.migration_json; rendered as the
 * cluster's `migration_policy`; turned into VM.migrate parameters by the
 * migration job (vmmigrate.c), so user migrations, maintenance evacuation
 * and balancing moves all follow it. */
#pragma once

#include <jansson.h>

#include "error.h"

/* Check a migration_policy given for a cluster and fill the members it
 * leaves out with their defaults, in place. */
int vr_migpolicy_normalize(json_t *policy, vr_error *err);

/* The policy of a cluster that was given none. New reference. */
json_t *vr_migpolicy_default(void);

/* Add the VM.migrate parameters of a stored policy (NULL or broken: the
 * default) to call; members already in call (a request's own bandwidth)
 * are kept. */
void vr_migpolicy_apply(json_t *stored, json_t *call);

/* The stored policy's max_outgoing, or its default when absent or broken
 * (the engine's queue, migqueue.h). */
int vr_migpolicy_max_outgoing(json_t *stored);

/* The stored policy's max_incoming, or its default when absent or broken
 * (the scheduler's incoming filter, sched/incoming.h). */
int vr_migpolicy_max_incoming(json_t *stored);
