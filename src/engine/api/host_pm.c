#include "host_pm.h"

#include <string.h>

#include "fencejob.h"
#include "fenceopts.h"

/* The stored password of the agent of host_id like `a` (type, address,
 * port), or NULL. */
static json_t *stored_password(vr_engine *e, const char *host_id, json_t *a)
{
    if (!host_id)
        return NULL;
    json_t *row = vr_db_query_one(e->db, "SELECT pm_json FROM hosts WHERE id = ?", DB_ARGS(DB_TEXT(host_id)), NULL);
    json_t *found = NULL;
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(json_object_get(row, "pm"), "agents"), i, s) {
        if (json_equal(json_object_get(s, "type"), json_object_get(a, "type")) &&
            json_equal(json_object_get(s, "address"), json_object_get(a, "address")) &&
            json_equal(json_object_get(s, "port"), json_object_get(a, "port")))
            found = json_incref(json_object_get(s, "password"));
    }
    json_decref(row);
    return found;
}

int vr_host_pm_check(vr_call *c, json_t *b, const char *host_id, vr_error *err)
{
    static const char *const extra[] = {"order", "concurrent", NULL};
    json_t *pm = json_object_get(b, "power_management");
    if (!pm)
        return 0;
    if (!json_is_object(pm))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "body.power_management must be an object");
    const char *k;
    json_t *v;
    json_object_foreach(pm, k, v) {
        if (strcmp(k, "enabled") && strcmp(k, "agents") && strcmp(k, "kdump_detection"))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "body.power_management: unknown member '%.40s'", k);
    }
    json_t *en = json_object_get(pm, "enabled"), *agents = json_object_get(pm, "agents");
    json_t *kd = json_object_get(pm, "kdump_detection");
    if ((en && !json_is_boolean(en)) || (kd && !json_is_boolean(kd)))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "body.power_management.%s must be a boolean",
                            en && !json_is_boolean(en) ? "enabled" : "kdump_detection");
    if (agents && (!json_is_array(agents) || json_array_size(agents) > 4))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "body.power_management.agents must be a list of at most 4");
    json_t *out = json_array();
    size_t i;
    json_t *a;
    json_array_foreach(agents, i, a) {
        char where[64];
        snprintf(where, sizeof(where), "body.power_management.agents[%zu]", i);
        json_t *order = json_object_get(a, "order"), *conc = json_object_get(a, "concurrent");
        if (vr_fence_agent_check(a, where, extra, err) < 0) {
            json_decref(out);
            return -1;
        }
        if ((order && (!json_is_integer(order) || json_integer_value(order) < 1 || json_integer_value(order) > 10)) ||
            (conc && !json_is_boolean(conc))) {
            json_decref(out);
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s: order must be from 1 to 10, concurrent a boolean",
                                where);
        }
        json_t *opts = json_object_get(a, "options");
        json_t *n = json_pack("{s:O, s:O, s:I, s:s, s:o, s:I, s:b}", "type", json_object_get(a, "type"), "address",
                              json_object_get(a, "address"), "port",
                              (json_int_t)(json_integer_value(json_object_get(a, "port")) ?: 623), "username",
                              json_string_value(json_object_get(a, "username")) ?: "", "options",
                              opts ? json_incref(opts) : json_object(), "order",
                              (json_int_t)(order ? json_integer_value(order) : 1), "concurrent", json_is_true(conc));
        json_t *pw = json_object_get(a, "password");
        json_object_set_new(n, "password", pw ? json_incref(pw) : stored_password(c->e, host_id, n) ?: json_string(""));
        json_array_append_new(out, n);
    }
    if (json_is_true(en) && json_array_size(out) == 0) {
        json_decref(out);
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "power management needs at least one fence agent");
    }
    json_object_set_new(b, "power_management", json_pack("{s:b, s:b, s:o}", "enabled", json_is_true(en),
                                                         "kdump_detection", !json_is_false(kd), "agents", out));
    return 0;
}

void vr_host_pm_present(vr_engine *e, json_t *row)
{
    json_t *pm = json_object_get(row, "power_management");
    if (!json_is_object(pm)) {
        json_object_set_new(row, "power_management", json_pack("{s:b, s:b, s:[]}", "enabled", 0, "kdump_detection",
                                                               1, "agents"));
        return;
    }
    if (!json_object_get(pm, "kdump_detection")) /* stored before it existed: RHV's default */
        json_object_set_new(pm, "kdump_detection", json_true());
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(pm, "agents"), i, a) json_object_del(a, "password");
}

const vr_field vr_host_fence_params[] = {
    {"fence_type", VR_FT_ENUM, VR_F_REQ | VR_F_CREATE,
     .values = VR_STRS("status", "start", "stop", "restart", "soft"),
     .doc = "status: ask the power state; start, stop, restart: power the host on, off, off and on; soft: restart"
            " its agent over SSH (its ssh.soft_fencing on; no power action)."},
};

int vr_host_fence_action(vr_call *c, json_t *row, json_t *body, json_t **reply, vr_error *err)
{
    char job[37];
    if (vr_host_fence_submit(c->e, json_string_value(json_object_get(row, "id")),
                             json_string_value(json_object_get(body, "fence_type")), c->user, job, err) < 0)
        return -1;
    *reply = json_pack("{s:s}", "job_id", job);
    return 0;
}
