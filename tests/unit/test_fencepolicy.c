/* Cluster fencing policies (src/engine/jobs/fencepolicy.c): the member
 * checks and defaults, and the verdict on a non-responsive host. Pure
 * functions: no database, no agent. */
#include <stdlib.h>

#include "check.h"
#include "fencepolicy.h"

static int norm(const char *text, const char *current, json_t **out, vr_error *err)
{
    json_decref(*out);
    *out = json_loads(text, JSON_DECODE_ANY, NULL);
    json_t *cur = current ? json_loads(current, 0, NULL) : NULL;
    vr_error_clear(err);
    int rc = vr_fence_policy_normalize(*out, cur, err);
    json_decref(cur);
    return rc;
}

int main(void)
{
    json_t *p = NULL;
    vr_error err;
    vr_fence_policy pol;
    /* Defaults: RHV's, with the connectivity rule on at 50%. */
    vr_fence_policy_read(NULL, &pol);
    CHECK(pol.enabled && !pol.skip_if_sd_active && pol.skip_if_connectivity_broken && pol.threshold == 50);
    CHECK(norm("{}", NULL, &p, &err) == 0);
    CHECK(json_object_size(p) == 4 && json_integer_value(json_object_get(p, "threshold")) == 50);
    /* Members left out keep the cluster's value; only the four members. */
    CHECK(norm("{\"threshold\":75}", "{\"enabled\":false,\"skip_if_sd_active\":true,\"threshold\":25}", &p,
               &err) == 0);
    vr_fence_policy_read(p, &pol);
    CHECK(!pol.enabled && pol.skip_if_sd_active && pol.skip_if_connectivity_broken && pol.threshold == 75);
    /* Bad input: a clear error naming the member. */
    CHECK(norm("{\"threshold\":101}", NULL, &p, &err) < 0);
    CHECK_STR_CONTAINS(err.message, "fencing_policy.threshold must be a whole percentage");
    CHECK(norm("{\"threshold\":\"50\"}", NULL, &p, &err) < 0);
    CHECK(norm("{\"threshold\":-1}", NULL, &p, &err) < 0);
    CHECK(norm("{\"enabled\":1}", NULL, &p, &err) < 0);
    CHECK_STR_CONTAINS(err.message, "fencing_policy.enabled must be true or false");
    CHECK(norm("{\"skip_if_gluster_bricks_up\":true}", NULL, &p, &err) < 0);
    CHECK_STR_CONTAINS(err.message, "skip_if_gluster_bricks_up");
    CHECK(norm("[]", NULL, &p, &err) < 0);
    /* A broken stored form reads as the defaults. */
    json_t *broken = json_pack("{s:i}", "threshold", 500);
    vr_fence_policy_read(broken, &pol);
    json_decref(broken);
    CHECK(pol.enabled && pol.threshold == 50);

    /* The verdict. Defaults: more than half lost is skipped (2 of 2, the
     * only host of a cluster), half is not (1 of 2). */
    vr_fence_policy d = {.enabled = true, .skip_if_connectivity_broken = true, .threshold = 50};
    CHECK(vr_fence_decide(&d, 1, 2, VR_LEASE_NOT_ASKED) == VR_FENCE_GO);
    CHECK(vr_fence_decide(&d, 2, 2, VR_LEASE_NOT_ASKED) == VR_FENCE_SKIP_CONNECTIVITY);
    CHECK(vr_fence_decide(&d, 1, 1, VR_LEASE_NOT_ASKED) == VR_FENCE_SKIP_CONNECTIVITY);
    CHECK(vr_fence_decide(&d, 2, 3, VR_LEASE_NOT_ASKED) == VR_FENCE_SKIP_CONNECTIVITY);
    /* 25%: 1 of 4 is fenced, 2 of 4 not; 100%: never skipped. */
    vr_fence_policy q = d;
    q.threshold = 25;
    CHECK(vr_fence_decide(&q, 1, 4, VR_LEASE_NOT_ASKED) == VR_FENCE_GO);
    CHECK(vr_fence_decide(&q, 2, 4, VR_LEASE_NOT_ASKED) == VR_FENCE_SKIP_CONNECTIVITY);
    q.threshold = 100;
    CHECK(vr_fence_decide(&q, 1, 1, VR_LEASE_NOT_ASKED) == VR_FENCE_GO);
    /* The rule off: the only host is fenced. */
    q.skip_if_connectivity_broken = false;
    q.threshold = 0;
    CHECK(vr_fence_decide(&q, 1, 1, VR_LEASE_NOT_ASKED) == VR_FENCE_GO);
    /* Disabled wins over everything. */
    vr_fence_policy off = {.enabled = false, .skip_if_sd_active = true};
    CHECK(vr_fence_decide(&off, 1, 2, VR_LEASE_LIVE) == VR_FENCE_SKIP_DISABLED);
    /* The lease rule: asked only when nothing else skipped; live skips,
     * not live or unknown (no storage, no answer) fences. */
    vr_fence_policy sd = d;
    sd.skip_if_sd_active = true;
    CHECK(vr_fence_decide(&sd, 2, 2, VR_LEASE_NOT_ASKED) == VR_FENCE_SKIP_CONNECTIVITY);
    CHECK(vr_fence_decide(&sd, 1, 2, VR_LEASE_NOT_ASKED) == VR_FENCE_ASK_LEASE);
    CHECK(vr_fence_decide(&sd, 1, 2, VR_LEASE_LIVE) == VR_FENCE_SKIP_SD_ACTIVE);
    CHECK(vr_fence_decide(&sd, 1, 2, VR_LEASE_NOT_LIVE) == VR_FENCE_GO);
    CHECK(vr_fence_decide(&sd, 1, 2, VR_LEASE_UNKNOWN) == VR_FENCE_GO);
    /* Its rule off: a live lease does not matter, nothing is asked. */
    CHECK(vr_fence_decide(&d, 1, 2, VR_LEASE_LIVE) == VR_FENCE_GO);
    json_decref(p);
    return CHECK_DONE();
}
