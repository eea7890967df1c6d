/* The queue of outgoing migrations (src/engine/jobs/migqueue.c): who may
 * start and how many are ahead, and the policy member that sets the
 * limit. Pure functions: no database, no agent. */
#include <stdlib.h>

#include "check.h"
#include "migpolicy.h"
#include "migqueue.h"

/* A migrate job row: {id, params}. */
static json_t *job(const char *id, const char *src, long long seq, int rank, int slot)
{
    json_t *p = json_pack("{s:s, s:I}", "source_host_id", src, "queue_seq", (json_int_t)seq);
    if (rank)
        json_object_set_new(p, "queue_rank", json_integer(rank));
    if (slot)
        json_object_set_new(p, "slot", json_true());
    return json_pack("{s:s, s:o}", "id", id, "params", p);
}

int main(void)
{
    json_t *jobs = json_array();
    /* one host, limit 1: a holds the slot, b and c wait in request order */
    json_array_append_new(jobs, job("a", "h0", 10, 0, 1));
    json_array_append_new(jobs, job("c", "h0", 30, 0, 0));
    json_array_append_new(jobs, job("b", "h0", 20, 0, 0));
    CHECK(vr_migq_ahead(jobs, "a", "h0", 1) == 0);
    CHECK(vr_migq_ahead(jobs, "b", "h0", 1) == 1);
    CHECK(vr_migq_ahead(jobs, "c", "h0", 1) == 2);
    /* limit 2: b may start, c waits for one */
    CHECK(vr_migq_ahead(jobs, "b", "h0", 2) == 0);
    CHECK(vr_migq_ahead(jobs, "c", "h0", 2) == 1);
    /* an evacuated HA VM (rank > 0) goes before earlier requests, the
     * higher rank first */
    json_array_append_new(jobs, job("ha", "h0", 40, 1, 0));
    json_array_append_new(jobs, job("ha9", "h0", 50, 10, 0));
    CHECK(vr_migq_ahead(jobs, "ha9", "h0", 1) == 1);
    CHECK(vr_migq_ahead(jobs, "ha", "h0", 1) == 2);
    CHECK(vr_migq_ahead(jobs, "b", "h0", 1) == 3);
    /* another host's migrations do not count; a sent job (agent_job)
     * holds a slot as a granted one does */
    json_array_append_new(jobs, job("x", "h1", 1, 0, 1));
    json_t *sent = json_pack("{s:s, s:{s:s, s:s}}", "id", "y", "params", "source_host_id", "h1", "agent_job", "j1");
    json_array_append_new(jobs, sent);
    json_array_append_new(jobs, job("z", "h1", 2, 0, 0));
    CHECK(vr_migq_ahead(jobs, "z", "h1", 2) == 1);
    CHECK(vr_migq_ahead(jobs, "z", "h1", 3) == 0);
    /* a job not in the list (ended meanwhile) is not held up */
    CHECK(vr_migq_ahead(jobs, "gone", "h0", 1) == 0);
    json_decref(jobs);

    /* stamps increase strictly, also within one microsecond */
    json_t *p1 = json_object(), *p2 = json_object();
    vr_migq_stamp(p1, 0);
    vr_migq_stamp(p2, 3);
    CHECK(json_integer_value(json_object_get(p2, "queue_seq")) > json_integer_value(json_object_get(p1, "queue_seq")));
    CHECK(!json_object_get(p1, "queue_rank") && json_integer_value(json_object_get(p2, "queue_rank")) == 3);
    json_decref(p1);
    json_decref(p2);

    /* the limit is the cluster policy's max_outgoing: default 2, 1..64,
     * never passed to the agent's VM.migrate */
    vr_error err = {0};
    json_t *pol = json_loads("{\"max_outgoing\": 1}", 0, NULL);
    CHECK(vr_migpolicy_normalize(pol, &err) == 0 && json_integer_value(json_object_get(pol, "max_outgoing")) == 1);
    json_t *call = json_object();
    vr_migpolicy_apply(pol, call);
    CHECK(!json_object_get(call, "max_outgoing") && !json_object_get(call, "max_incoming") &&
          json_object_get(call, "policy"));
    json_decref(call);
    json_decref(pol);
    json_t *dflt = vr_migpolicy_default();
    CHECK(json_integer_value(json_object_get(dflt, "max_outgoing")) == 2);
    CHECK(json_integer_value(json_object_get(dflt, "max_incoming")) == 2 && vr_migpolicy_max_incoming(dflt) == 2);
    CHECK(vr_migpolicy_max_incoming(NULL) == 2);
    json_decref(dflt);
    const char *bad[] = {"{\"max_outgoing\": 0}", "{\"max_outgoing\": 65}", "{\"max_outgoing\": \"1\"}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        pol = json_loads(bad[i], 0, NULL);
        vr_error_clear(&err);
        CHECK(vr_migpolicy_normalize(pol, &err) < 0);
        CHECK_STR_CONTAINS(err.message, "migration_policy.max_outgoing must be an integer in 1..64");
        json_decref(pol);
    }
    return CHECK_DONE();
}
