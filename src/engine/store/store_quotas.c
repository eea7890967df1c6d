/* Quotas' SQL (store_quotas.h). */
#include <stdlib.h>

#include "store_quotas.h"

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

static long long num(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static const vr_search quota_search[] = {
    {"name", "lower(name) LIKE ? ESCAPE '\\'", true, true, false, "name, * as wildcard"},
    {"datacenter", "datacenter_id IN (SELECT id FROM datacenters WHERE lower(name) LIKE ? ESCAPE '\\')", true, true,
     false, "data center name, * as wildcard"},
};

/* The two limit lists as stored text (freed by the caller). */
static void lists(json_t *b, char **cl, char **sl)
{
    json_t *c = json_object_get(b, "cluster_limits"), *s = json_object_get(b, "storage_limits");
    *cl = json_dumps(json_is_array(c) ? c : json_array(), JSON_COMPACT);
    *sl = json_dumps(json_is_array(s) ? s : json_array(), JSON_COMPACT);
}

static int quota_insert(vr_engine *e, const char *id, json_t *b, vr_error *err)
{
    char *cl, *sl;
    lists(b, &cl, &sl);
    int rc = vr_db_exec(e->db, "INSERT INTO quotas (id, name, description, datacenter_id, vcpus, memory_mib,"
                        " storage_gib, cluster_grace_pct, storage_grace_pct, cluster_threshold_pct,"
                        " storage_threshold_pct, cluster_limits_json, storage_limits_json, created_at)"
                        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        DB_ARGS(DB_TEXT(id), DB_TEXT(str(b, "name")), DB_TEXT(str(b, "description")),
                                DB_TEXT(str(b, "datacenter_id")), DB_INT(num(b, "vcpus")), DB_INT(num(b, "memory_mib")),
                                DB_INT(num(b, "storage_gib")), DB_INT(num(b, "cluster_grace_pct")),
                                DB_INT(num(b, "storage_grace_pct")), DB_INT(num(b, "cluster_threshold_pct")),
                                DB_INT(num(b, "storage_threshold_pct")), DB_TEXT(cl), DB_TEXT(sl), DB_INT(vr_now())),
                        err);
    free(cl);
    free(sl);
    return rc < 0 ? -1 : 0;
}

static int quota_update(vr_engine *e, json_t *row, json_t *b, vr_error *err)
{
    char *cl, *sl;
    lists(b, &cl, &sl);
    int n = vr_db_exec(e->db, "UPDATE quotas SET name = ?, description = ?, vcpus = ?, memory_mib = ?, storage_gib = ?,"
                       " cluster_grace_pct = ?, storage_grace_pct = ?, cluster_threshold_pct = ?,"
                       " storage_threshold_pct = ?, cluster_limits_json = ?, storage_limits_json = ? WHERE id = ?",
                       DB_ARGS(DB_TEXT(str(b, "name")), DB_TEXT(str(b, "description")), DB_INT(num(b, "vcpus")),
                               DB_INT(num(b, "memory_mib")), DB_INT(num(b, "storage_gib")),
                               DB_INT(num(b, "cluster_grace_pct")), DB_INT(num(b, "storage_grace_pct")),
                               DB_INT(num(b, "cluster_threshold_pct")), DB_INT(num(b, "storage_threshold_pct")),
                               DB_TEXT(cl), DB_TEXT(sl), DB_TEXT(str(row, "id"))), err);
    free(cl);
    free(sl);
    return n < 0 ? -1 : n == 0 ? vr_error_set(err, VR_ERR_BAD_STATE, "quota '%s' was removed meanwhile",
                                              str(row, "name")) : 0;
}

/* A quota still named by a VM or disk stays (the delete is conditional,
 * so one assigned meanwhile keeps it too). */
static int quota_remove(vr_engine *e, json_t *row, vr_error *err)
{
    int n = vr_db_exec(e->db, "DELETE FROM quotas WHERE id = ? AND NOT EXISTS (SELECT 1 FROM vms WHERE quota_id = ?)"
                       " AND NOT EXISTS (SELECT 1 FROM disks WHERE quota_id = ?)",
                       DB_ARGS(DB_TEXT(str(row, "id")), DB_TEXT(str(row, "id")), DB_TEXT(str(row, "id"))), err);
    return n < 0 ? -1 : n == 0 ? vr_error_set(err, VR_ERR_CONFLICT, "cannot remove quota '%s': VMs or disks still"
                                              " consume it (give them another quota first)", str(row, "name")) : 0;
}

const vr_store vr_store_quotas = {
    .select = "SELECT id, name, description, datacenter_id, vcpus, memory_mib, storage_gib, cluster_grace_pct,"
              " storage_grace_pct, cluster_threshold_pct, storage_threshold_pct, cluster_limits_json,"
              " storage_limits_json, created_at FROM quotas",
    .id_expr = "id", .order = "name, id", .table = "quotas",
    .search = quota_search, .nsearch = sizeof(quota_search) / sizeof(quota_search[0]),
    .insert = quota_insert, .update = quota_update, .remove = quota_remove,
};
