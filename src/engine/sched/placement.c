/* A VM's placement policy (see placement.h). */
#include "placement.h"

#include "i18n.h"
#include "jsonx.h"
#include "scheduler.h"

#include <stdio.h>
#include <string.h>

const char *const vr_place_affinity_names[VR_PLACE_N] = {
    [VR_PLACE_MIGRATABLE] = "migratable", [VR_PLACE_USER_MIGRATABLE] = "user_migratable",
    [VR_PLACE_PINNED] = "pinned"};

/* More than any cluster here would list for one VM; keeps a body small. */
#define MAX_HOSTS 64

int vr_placement_normalize(vr_engine *e, json_t *policy, const char *cluster_id, vr_error *err)
{
    if (!json_is_object(policy))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "placement_policy must be an object"
                            " {\"affinity\": ..., \"hosts\": [...]}");
    static const char *const members[] = {"affinity", "hosts"};
    if (vr_json_check_keys(policy, "placement_policy", VR_NAMES(members), err) < 0)
        return -1;
    json_t *v;
    json_t *aff = json_object_get(policy, "affinity");
    int a = aff ? -1 : VR_PLACE_MIGRATABLE;
    for (int i = 0; aff && i < VR_PLACE_N; i++)
        if (json_is_string(aff) && !strcmp(json_string_value(aff), vr_place_affinity_names[i]))
            a = i;
    if (a < 0)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "placement_policy.affinity must be migratable,"
                            " user_migratable or pinned");
    json_t *hosts = json_object_get(policy, "hosts"), *ids = json_array();
    if (hosts && (!json_is_array(hosts) || json_array_size(hosts) > MAX_HOSTS)) {
        json_decref(ids);
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "placement_policy.hosts must be a list of at most %d"
                            " hosts (ids or names)", MAX_HOSTS);
    }
    size_t i;
    json_array_foreach(hosts, i, v) {
        const char *ref = json_string_value(v);
        json_t *h = ref ? vr_db_query_one(e->db, "SELECT id FROM hosts WHERE (id = ? OR name = ?) AND cluster_id = ?",
                                          DB_ARGS(DB_TEXT(ref), DB_TEXT(ref), DB_TEXT(cluster_id ?: "")), err)
                        : NULL;
        if (!h) {
            json_decref(ids);
            if (err->code)
                return -1;
            return ref ? vr_error_set(err, VR_ERR_INVALID_PARAMS, "placement_policy.hosts[%zu]: no host '%s'"
                                      " in the VM's cluster", i, ref)
                       : vr_error_set(err, VR_ERR_INVALID_PARAMS, "placement_policy.hosts[%zu] must be a host id"
                                      " or name", i);
        }
        vr_json_append_unique(ids, json_object_get(h, "id"));
        json_decref(h);
    }
    json_object_set_new(policy, "affinity", json_string(vr_place_affinity_names[a]));
    json_object_set_new(policy, "hosts", ids);
    return 0;
}

json_t *vr_placement_of(vr_engine *e, const char *vm_id)
{
    json_t *row = vr_db_query_one(e->db, "SELECT placement_json FROM vms WHERE id = ?", DB_ARGS(DB_TEXT(vm_id)),
                                  NULL);
    json_t *p = json_incref(json_object_get(row, "placement"));
    json_decref(row);
    if (json_is_object(p))
        return p;
    json_decref(p);
    return json_pack("{s:s, s:[]}", "affinity", vr_place_affinity_names[VR_PLACE_MIGRATABLE], "hosts");
}

vr_place_affinity vr_placement_affinity(json_t *policy)
{
    const char *a = json_string_value(json_object_get(policy, "affinity")) ?: "";
    for (int i = 0; i < VR_PLACE_N; i++)
        if (!strcmp(a, vr_place_affinity_names[i]))
            return (vr_place_affinity)i;
    return VR_PLACE_MIGRATABLE;
}

bool vr_placement_allows(json_t *policy, const char *host_id)
{
    json_t *hosts = json_object_get(policy, "hosts");
    if (json_array_size(hosts) == 0)
        return true;
    size_t i;
    json_t *h;
    json_array_foreach(hosts, i, h)
        if (!strcmp(json_string_value(h) ?: "", host_id))
            return true;
    return false;
}

size_t vr_placement_filter(json_t *policy, vr_sched_host *hosts, size_t n)
{
    size_t out = 0;
    for (size_t i = 0; i < n; i++)
        if (!vr_placement_allows(policy, hosts[i].id)) {
            snprintf(hosts[i].status, sizeof(hosts[i].status), "notallowed");
            out++;
        }
    return out;
}

size_t vr_placement_lease_filter(vr_engine *e, const char *vm_id, vr_sched_host *hosts, size_t n)
{
    json_t *rows = NULL;
    if (vr_db_query(e->db, "SELECT h.id AS id, h.capabilities_json AS capabilities_json FROM hosts h JOIN vms v"
                    " ON v.cluster_id = h.cluster_id WHERE v.id = ? AND v.lease_sd_id IS NOT NULL",
                    DB_ARGS(DB_TEXT(vm_id)), &rows, NULL) < 0)
        return 0;
    size_t out = 0, i;
    json_t *r;
    json_array_foreach(rows, i, r) {
        const char *lm = json_string_value(json_object_get(json_object_get(r, "capabilities"), "lock_manager"));
        if (lm && !strcmp(lm, "sanlock"))
            continue;
        for (size_t k = 0; k < n; k++)
            if (!strcmp(hosts[k].id, json_string_value(json_object_get(r, "id")) ?: "") &&
                !strcmp(hosts[k].status, "up")) {
                snprintf(hosts[k].status, sizeof(hosts[k].status), "nolockmanager");
                out++;
            }
    }
    json_decref(rows);
    return out;
}

void vr_placement_lease_explain(char *reason, size_t len, size_t count)
{
    char piece[160];
    if (!count)
        return;
    vr_i18n_format(piece, sizeof(piece), "%zu host(s) filtered out: their libvirt has no sanlock lock manager,"
                   " which the VM's lease needs", count);
    vr_sched_join(reason, len, piece);
}
