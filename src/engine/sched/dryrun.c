/* The scheduler's dry run (GET /api/vms/ID/placement, see scheduler.h):
 * the same evaluation a start or a migration makes, under the same lock,
 * rendered instead of booked. */
#include "scheduler.h"

#include <pthread.h>
#include <string.h>

static json_t *verdict_json(const vr_sched_host *h, const vr_sched_verdict *v, bool chosen)
{
    json_t *o = json_pack("{s:s, s:s, s:b}", "id", h->id, "name", h->name, "chosen", chosen);
    if (v->filter) {
        json_object_set_new(o, "filter", json_string(v->filter));
        json_object_set_new(o, "reason", json_string(v->why));
        return o;
    }
    json_object_set_new(o, "filter", json_null());
    json_object_set_new(o, "rank", json_integer(v->rank));
    json_object_set_new(o, "weights", json_pack("{s:i, s:i, s:i, s:f, s:i, s:I}", "affinity_penalty",
                                                v->affinity_penalty, "ha_penalty", v->ha_penalty, "upgrade_penalty",
                                                v->upgrade_penalty, "cpu_percent",
                                                v->cpu_percent, "cpu_bucket", v->cpu_bucket, "free_mib",
                                                (json_int_t)v->free_mib));
    return o;
}

/* The host host_ref (id or name) names, for a dry run of vm: a new
 * reference, or NULL with err set (404 unknown, 400 another cluster). */
static json_t *asked_host(vr_engine *e, json_t *vm, const char *host_ref, vr_error *err)
{
    if (!*host_ref) {
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "host must name a host (its id or name)");
        return NULL;
    }
    json_t *h = vr_db_query_one(e->db, "SELECT id, name, cluster_id FROM hosts WHERE id = ? OR name = ?",
                                DB_ARGS(DB_TEXT(host_ref), DB_TEXT(host_ref)), err);
    if (!h) {
        if (!err->code)
            vr_error_set(err, VR_ERR_NOT_FOUND, "no host '%s'", host_ref);
        return NULL;
    }
    const char *vm_cluster = json_string_value(json_object_get(vm, "cluster_id")) ?: "";
    if (strcmp(json_string_value(json_object_get(h, "cluster_id")) ?: "", vm_cluster)) {
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "host '%s' is not in the cluster of VM '%s'",
                     json_string_value(json_object_get(h, "name")),
                     json_string_value(json_object_get(vm, "name")) ?: "");
        json_decref(h);
        return NULL;
    }
    return h;
}

json_t *vr_sched_dry_run(vr_engine *e, json_t *vm, const char *host_ref, vr_error *err)
{
    /* A VM that runs would move: its own host is the source, as for a
     * migration without a destination; any other is placed as a start. */
    const char *status = json_string_value(json_object_get(vm, "status")) ?: "down";
    const char *on = json_string_value(json_object_get(vm, "host_id"));
    bool moves = strcmp(status, "down") && on && *on;
    json_t *asked = host_ref ? asked_host(e, vm, host_ref, err) : NULL;
    if (host_ref && !asked)
        return NULL;
    const char *only = json_string_value(json_object_get(asked, "id"));
    vr_sched_eval ev;
    pthread_mutex_lock(&e->sched_lock);
    int rc = vr_sched_evaluate(e, vm, moves ? on : NULL, only, true, &ev, err);
    pthread_mutex_unlock(&e->sched_lock);
    if (rc < 0) {
        json_decref(asked);
        return NULL;
    }
    /* One destination asked for: its verdict alone (the others are only
     * "not the destination asked for"). */
    json_t *hosts = json_array();
    for (size_t i = 0; i < ev.n; i++)
        if (!only || !strcmp(ev.hosts[i].id, only))
            json_array_append_new(hosts, verdict_json(&ev.hosts[i], &ev.verdicts[i], (int)i == ev.chosen));
    json_decref(asked);
    json_t *out = json_pack("{s:{s:O, s:O}, s:s, s:o, s:s, s:o}", "vm", "id", json_object_get(vm, "id"), "name",
                            json_object_get(vm, "name"), "as", moves ? "migration" : "start", "host",
                            ev.chosen < 0 ? json_null()
                                          : json_pack("{s:s, s:s}", "id", ev.hosts[ev.chosen].id, "name",
                                                      ev.hosts[ev.chosen].name),
                            "reason", ev.reason, "hosts", hosts);
    vr_sched_eval_free(&ev);
    return out;
}
