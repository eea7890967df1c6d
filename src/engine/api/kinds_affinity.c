/* Affinity groups (/api/affinitygroups, /api/clusters/ID/affinitygroups;
 * docs/availability.md "Affinity groups"): VMs of one cluster kept on one
 * host (positive) or apart (negative), enforcing (the scheduler filters)
 * or soft (it weighs). The scheduler reads them (sched/affinity.c). */
#include <string.h>

#include "jsonx.h"
#include "i18n.h"
#include "kind.h"
#include "store_affinity.h"

/* More VMs than one group would sensibly hold; keeps a body small. */
#define MAX_VMS 256

/* Check b's `vms` (ids or names of VMs of cluster_id) and leave their ids,
 * without repeats, in `vm_ids` for the store; 400 naming the entry. */
static int check_vms(vr_call *c, json_t *b, const char *cluster_id, vr_error *err)
{
    json_t *vms = json_object_get(b, "vms");
    if (!vms)
        return 0;
    if (!json_is_array(vms) || json_array_size(vms) > MAX_VMS)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "vms must be a list of at most %d VMs (ids or names)", MAX_VMS);
    json_t *ids = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(vms, i, v) {
        const char *ref = json_string_value(v);
        json_t *row = ref ? vr_db_query_one(c->e->db, "SELECT id, cluster_id FROM vms WHERE id = ? OR name = ?",
                                            DB_ARGS(DB_TEXT(ref), DB_TEXT(ref)), err)
                          : NULL;
        const char *why = !ref ? N_("vms[%zu] must be a VM id or name")
                        : !row ? N_("vms[%zu]: no VM '%s'")
                        : strcmp(json_string_value(json_object_get(row, "cluster_id")) ?: "", cluster_id ?: "")
                            ? N_("vms[%zu]: VM '%s' is in another cluster")
                            : NULL;
        if (why || err->code) {
            json_decref(row);
            json_decref(ids);
            return err->code ? -1 : vr_error_set(err, VR_ERR_INVALID_PARAMS, why, i, ref);
        }
        vr_json_append_unique(ids, json_object_get(row, "id"));
        json_decref(row);
    }
    json_object_set_new(b, "vm_ids", ids);
    return 0;
}

static int group_check_create(vr_call *c, json_t *b, vr_error *err)
{
    return check_vms(c, b, json_string_value(json_object_get(b, "cluster_id")), err);
}

static int group_check_update(vr_call *c, json_t *row, json_t *b, vr_error *err)
{
    return check_vms(c, b, json_string_value(json_object_get(row, "cluster_id")), err);
}

static void group_present(vr_engine *e, json_t *row)
{
    json_object_set_new(row, "positive", json_boolean(json_integer_value(json_object_get(row, "positive"))));
    json_object_set_new(row, "enforcing", json_boolean(json_integer_value(json_object_get(row, "enforcing"))));
    json_t *rows = NULL, *ids = json_array();
    vr_db_query(e->db, "SELECT vm_id FROM affinity_group_vms WHERE group_id = ? ORDER BY vm_id",
                DB_ARGS(DB_TEXT(json_string_value(json_object_get(row, "id")) ?: "")), &rows, NULL);
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) json_array_append(ids, json_object_get(r, "vm_id"));
    json_decref(rows);
    json_object_set_new(row, "vms", ids);
}

static const vr_field group_fields[] = {
    {"id", VR_FT_ID, 0, .doc = NULL},
    {"name", VR_FT_NAME, VR_F_REQ | VR_F_CREATE | VR_F_UPDATE | VR_F_SORT, .doc = "Unique within its cluster."},
    {"description", VR_FT_STR, VR_F_CREATE | VR_F_UPDATE, 0, 4096, .dflt = "\"\""},
    {"cluster_id", VR_FT_REF, VR_F_REQ | VR_F_CREATE | VR_F_FIXED, .ref = "clusters",
     .doc = "Its cluster (cannot change); its VMs are of that cluster."},
    {"positive", VR_FT_BOOL, VR_F_CREATE | VR_F_UPDATE, .dflt = "true",
     .doc = "true: its VMs run on one host; false (negative): each on a different host."},
    {"enforcing", VR_FT_BOOL, VR_F_CREATE | VR_F_UPDATE, .dflt = "true",
     .doc = "true: a host that would break the group is never chosen (a start or migration fails instead);"
            " false (soft): such a host is chosen only when no other suits."},
    {"vms", VR_FT_JSON, VR_F_CREATE | VR_F_UPDATE, .schema = "AffinityGroupVms", .dflt = "[]",
     .doc = "Its VMs (given by id or name, shown as ids); a VM removed leaves the group."},
    {"created_at", VR_FT_TIME, VR_F_SORT, .doc = NULL},
};

const vr_kind vr_kind_affinity_groups = {
    .collection = "affinitygroups", .type = "affinitygroup", .title = "affinity group", .schema = "AffinityGroup",
    .tag = "Clusters", .store = &vr_store_affinity_groups, .fields = group_fields,
    .nfields = VR_ARRAY_SIZE(group_fields), .parent = "clusters", .parent_field = "cluster_id",
    .check_create = group_check_create, .check_update = group_check_update, .present = group_present,
};
