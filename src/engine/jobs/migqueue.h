/* The engine's queue of outgoing migrations (docs/migration.md "Queue"):
 * at most the source host's outgoing limit of migrations run at once
 * (its cluster's migration_policy.max_outgoing, default 2, or one per CPU
 * if fewer: ch. 5.10); a further migrate job - a user's, an evacuation's,
 * a balancing move's - waits in the engine for a slot, nothing asked of
 * any host meanwhile. Order: the higher queue rank first (an evacuated
 * highly available VM, by its HA priority), then by request time. The
 * queue lives in the jobs' parameters (queue_seq, queue_rank, slot), so
 * an engine restart keeps it. */
#pragma once

#include <stdbool.h>

#include "engine.h"

/* Stamp a new migrate job's parameters with its place in the queue:
 * queue_seq (strictly increasing request time) and queue_rank (> 0 goes
 * before every rank-0 job: an evacuated HA VM, 1 + its priority). */
void vr_migq_stamp(json_t *params, int rank);

/* The outgoing limit of host_id: its cluster's max_outgoing, at most its
 * CPUs. */
int vr_migq_limit(vr_engine *e, const char *host_id);

/* Where job_id stands among jobs (rows with id and params, the unfinished
 * migrate jobs) leaving host_id with that limit: 0 when it may start now,
 * else how many migrations must end before it does. A job holds a slot
 * once granted (params slot) or once sent (params agent_job). */
int vr_migq_ahead(json_t *jobs, const char *job_id, const char *host_id, int limit);

typedef enum { VR_MIGQ_GRANTED, VR_MIGQ_CANCELLED, VR_MIGQ_FAILED, VR_MIGQ_STOPPING } vr_migq_result;

/* Wait until migrate job job_id (its parameters p, updated and stored
 * with slot true when granted) of VM vm_id (name) may leave its source
 * host; meanwhile the job's detail says how many are ahead. Ends early
 * when the job is cancelled, when the VM is no longer migratingfrom on
 * its source (stopped) or the source host stops serving (why says so),
 * or when the engine stops (resumed at the next start). */
vr_migq_result vr_migq_wait(vr_engine *e, const char *job_id, const char *vm_id, const char *name, json_t *p,
                            char *why, size_t len);
