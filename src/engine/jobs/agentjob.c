#include "agentjob.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agentcall.h"
#include "jobs.h"
#include "log.h"

/* The agent's end states and the engine job's. */
static const char *engine_status(const char *agent_state)
{
    return !strcmp(agent_state, "succeeded") ? "finished"
         : !strcmp(agent_state, "cancelled") ? "cancelled"
         : !strcmp(agent_state, "failed") ? "failed" : NULL;
}

void vr_agent_job_follow(vr_engine *e, const char *job_id, json_t *host, const char *agent_job, int limit_s)
{
    const char *hname = json_string_value(json_object_get(host, "name")) ?: "?";
    char step[200];
    snprintf(step, sizeof(step), "following job %s on host '%s'", agent_job, hname);
    vr_job_update(e, job_id, "running", step);
    bool cancel_sent = false;
    int transport_failures = 0;
    for (long long start = vr_now(); !e->stopping; sleep(1)) {
        vr_error err = {0};
        if (!cancel_sent && vr_job_cancel_requested(e, job_id)) {
            json_t *r = NULL;
            cancel_sent = vr_agent_call_host(e, host, "Job.cancel", json_pack("{s:s}", "id", agent_job), &r, &err) == 0
                          || err.code == VR_ERR_BAD_STATE; /* it ended meanwhile: its end is read below */
            json_decref(r);
            vr_error_clear(&err);
        }
        json_t *j = NULL;
        if (vr_agent_call_host(e, host, "Job.get", json_pack("{s:s}", "id", agent_job), &j, &err) < 0) {
            if (err.code == VR_ERR_INVALID_PARAMS) { /* "no job": the agent restarted and forgot it */
                char why[400];
                snprintf(why, sizeof(why), "host '%s' no longer knows its job %s (its agent restarted); the"
                         " host's monitor reports the VM's state", hname, agent_job);
                vr_job_update(e, job_id, "failed", why);
                return;
            }
            /* The host may come back: keep following within the limit. */
            if (++transport_failures == 1)
                VR_WARN("job %s: cannot read job %s on host '%s': %s", job_id, agent_job, hname, err.message);
        } else {
            transport_failures = 0;
            const char *state = json_string_value(json_object_get(j, "state")) ?: "running";
            const char *detail = json_string_value(json_object_get(j, "detail")) ?: "";
            const char *end = engine_status(state);
            if (end) {
                vr_job_update(e, job_id, end, detail);
                json_decref(j);
                return;
            }
            long long pct = json_integer_value(json_object_get(j, "progress"));
            vr_job_progress(e, job_id, (int)(10 + (pct < 0 ? 0 : pct > 100 ? 100 : pct) * 85 / 100));
        }
        json_decref(j);
        if (vr_now() - start > limit_s) {
            vr_job_update(e, job_id, "failed", "the host's job did not end in time; the host's monitor reports"
                          " the VM's state");
            return;
        }
    }
}
