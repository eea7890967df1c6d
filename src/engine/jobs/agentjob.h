/* Following an agent's own long job (Job.get / Job.cancel on the host,
 * docs/agent-api.md "Job verbs") from an engine job: its progress and
 * detail are mirrored, a cancel of the engine job is passed on, and the
 * agent job's end ends the engine job. The agent job's id is kept in the
 * engine job's parameters, so an engine restart picks the following up
 * again; an agent restart (which forgets its jobs) ends it as failed with
 * a reason. */
#pragma once

#include "engine.h"

/* Follow agent_job on host (a row with address, port, name) until it
 * ends, the engine stops (the job stays running: resumed at the next
 * start), or it has run for limit_s. Records the engine job's end. */
void vr_agent_job_follow(vr_engine *e, const char *job_id, json_t *host, const char *agent_job, int limit_s);
