/* Following an agent's own long job (Job.get / Job.cancel on the host,
 * docs/agent-api.md "Job verbs") from an engine job: its progress and
 * detail are mirrored, a cancel of the engine job is passed on, and the
 * agent job's end ends the engine job. The agent job's id is kept in the
 * engine job's parameters, so an engine restart picks the following up
 * again. An agent restart stops the agent's work, but the agent reads its
 * job records back and reports such a job failed and `interrupted`; an
 * agent that does not know the job at all ends it as failed too. */
#pragma once

#include <stddef.h>

#include "engine.h"

/* A host's monitor heard its agent say that one of its jobs ended (a
 * Job.progress notification): followers waiting in vr_agent_job_wait ask
 * at once rather than at their next interval. */
void vr_agent_job_ended(void);

/* Copy a Job.get answer's detail into detail (len bytes), and let this
 * thread's next messages quoting it take it in their reader's language
 * (its detail_i18n, checked by vr_error_relay). Returns detail. */
const char *vr_agent_job_detail(json_t *job, char *detail, size_t len);

/* Wait for agent_job on host (a row with address, port, name) to end,
 * passing a cancel of the engine job on and mapping its progress into
 * lo..hi of job_id. 0 succeeded, 1 cancelled (detail gets the agent's
 * detail), -1 failed, lost (VR_ERR_NOT_FOUND: the agent restarted) or over
 * limit_s (err says which), 2 the engine is stopping. */
int vr_agent_job_wait(vr_engine *e, const char *job_id, json_t *host, const char *agent_job, int lo, int hi,
                      int limit_s, char *detail, size_t len, vr_error *err);

/* Follow agent_job on host (a row with address, port, name) until it
 * ends, the engine stops (the job stays running: resumed at the next
 * start), or it has run for limit_s. Records the engine job's end. */
void vr_agent_job_follow(vr_engine *e, const char *job_id, json_t *host, const char *agent_job, int limit_s);
