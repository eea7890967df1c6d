/* Quotas (/api/quotas, /api/datacenters/ID/quotas; docs/permissions.md
 * "Quotas"): limits of a data center's vCPUs, memory and storage that
 * VMs and disks consume, checked by quota/quota.c. The rendering adds
 * `usage`, summed from the consumers at every read. */
#include <stdio.h>
#include <string.h>

#include "devspec.h"
#include "kind.h"
#include "quota.h"
#include "store_quotas.h"

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

/* A limit member of a list entry: absent is -1 (unlimited). */
static int limit_member(json_t *l, const char *m, long long max, const char *where, size_t i, vr_error *err)
{
    json_t *v = json_object_get(l, m);
    if (!v) {
        json_object_set_new(l, m, json_integer(-1));
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < -1 || json_integer_value(v) > max)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s[%zu].%s must be an integer from -1 (unlimited) to %lld",
                            where, i, m, max);
    return 0;
}

/* cluster_limits / storage_limits: a list of {ID_MEMBER: an object of the
 * quota's data center, limits...}, each object at most once. */
static int check_list(vr_call *c, json_t *b, const char *dc_id, const char *where, const char *id_member,
                      const char *table, const char *title, const char *const *limits, const long long *max,
                      vr_error *err)
{
    json_t *list = json_object_get(b, where);
    if (!list)
        return 0;
    if (!json_is_array(list) || json_array_size(list) > 256)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s must be a list of at most 256 objects", where);
    size_t i;
    json_t *l;
    json_array_foreach(list, i, l) {
        if (!json_is_object(l))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s[%zu] must be an object", where, i);
        const char *key;
        json_t *v;
        json_object_foreach(l, key, v) if (strcmp(key, id_member) && strcmp(key, limits[0]) &&
                                           (!limits[1] || strcmp(key, limits[1])))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s[%zu]: unknown member '%.64s'", where, i, key);
        const char *id = json_string_value(json_object_get(l, id_member));
        if (!id)
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s[%zu].%s is required (an id)", where, i, id_member);
        char sql[120];
        snprintf(sql, sizeof(sql), "SELECT datacenter_id AS dc FROM %s WHERE id = ?", table); /* a fixed name */
        json_t *row = vr_db_query_one(c->e->db, sql, DB_ARGS(DB_TEXT(id)), err);
        bool ours = row && !strcmp(str(row, "dc"), dc_id);
        json_decref(row);
        if (err->code)
            return -1;
        if (!ours)
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s[%zu]: no %s '%.64s' in the quota's data center", where,
                                i, title, id);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(str(json_array_get(list, j), id_member), id))
                return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s[%zu]: %s '%.64s' is listed twice", where, i,
                                    title, id);
        for (int k = 0; k < 2 && limits[k]; k++)
            if (limit_member(l, limits[k], max[k], where, i, err) < 0)
                return -1;
    }
    return 0;
}

static int check(vr_call *c, json_t *b, const char *dc_id, const char *self, vr_error *err)
{
    static const char *const cl_limits[] = {"vcpus", "memory_mib"}, *const sd_limits[] = {"storage_gib", NULL};
    static const long long cl_max[] = {1LL << 20, 1LL << 40}, sd_max[] = {1LL << 30, 0};
    if (!vr_valid_text(str(b, "description")))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "description must be text without control characters");
    json_t *dup = vr_db_query_one(c->e->db, "SELECT id FROM quotas WHERE datacenter_id = ? AND name = ? AND id != ?",
                                  DB_ARGS(DB_TEXT(dc_id), DB_TEXT(str(b, "name")), DB_TEXT(self)), err);
    bool taken = dup != NULL;
    json_decref(dup);
    if (taken)
        return vr_error_set(err, VR_ERR_CONFLICT, "the data center already has a quota named '%s'", str(b, "name"));
    if (err->code)
        return -1;
    return check_list(c, b, dc_id, "cluster_limits", "cluster_id", "clusters", "cluster", cl_limits, cl_max, err) < 0 ||
                   check_list(c, b, dc_id, "storage_limits", "storage_domain_id", "storage_domains", "storage domain",
                              sd_limits, sd_max, err) < 0
               ? -1 : 0;
}

static int quota_check_create(vr_call *c, json_t *b, vr_error *err)
{
    return check(c, b, str(b, "datacenter_id"), "", err);
}

static int quota_check_update(vr_call *c, json_t *row, json_t *b, vr_error *err)
{
    return check(c, b, str(row, "datacenter_id"), str(row, "id"), err);
}

static void quota_present(vr_engine *e, json_t *row)
{
    json_object_set_new(row, "usage", vr_quota_usage(e, str(row, "id")));
}

#define LIMIT(n, max, d) {n, VR_FT_INT, VR_F_CREATE | VR_F_UPDATE, -1, max, .dflt = "-1", .doc = d}
#define PCT(n, dv, d) {n, VR_FT_INT, VR_F_CREATE | VR_F_UPDATE, 0, 100, .dflt = dv, .doc = d}

static const vr_field quota_fields[] = {
    {"id", VR_FT_ID, 0, .doc = NULL},
    {"name", VR_FT_NAME, VR_F_REQ | VR_F_CREATE | VR_F_UPDATE | VR_F_SORT, .doc = "Unique within its data center."},
    {"description", VR_FT_STR, VR_F_CREATE | VR_F_UPDATE, 0, 4096, .dflt = "\"\""},
    {"datacenter_id", VR_FT_REF, VR_F_REQ | VR_F_CREATE | VR_F_FIXED, .ref = "datacenters",
     .doc = "Its data center (cannot change); its mode (quota_mode) decides what an overrun does."},
    LIMIT("vcpus", 1LL << 20, "vCPUs of its VMs, all clusters together (-1: unlimited)."),
    LIMIT("memory_mib", 1LL << 40, "Memory of its VMs in MiB, all clusters together (-1: unlimited)."),
    LIMIT("storage_gib", 1LL << 30, "Provisioned size of its disks in GiB, all storage domains together"
          " (-1: unlimited)."),
    {"cluster_limits", VR_FT_JSON, VR_F_CREATE | VR_F_UPDATE, .schema = "QuotaClusterLimits", .dflt = "[]",
     .doc = "Limits in one cluster of the data center, checked as well as the global ones."},
    {"storage_limits", VR_FT_JSON, VR_F_CREATE | VR_F_UPDATE, .schema = "QuotaStorageLimits", .dflt = "[]",
     .doc = "Limits on one storage domain of the data center, checked as well as the global one."},
    PCT("cluster_grace_pct", "20", "How far over a vCPU or memory limit an enforced quota still admits (with a"
        " warning)."),
    PCT("storage_grace_pct", "20", "How far over a storage limit an enforced quota still admits (with a warning)."),
    PCT("cluster_threshold_pct", "80", "An event when vCPU or memory use passes this share of a limit."),
    PCT("storage_threshold_pct", "80", "An event when storage use passes this share of a limit."),
    {"usage", VR_FT_JSON, 0, .schema = "QuotaUsage",
     .doc = "What its VMs and disks take now, summed from them at every read."},
    {"created_at", VR_FT_TIME, VR_F_SORT, .doc = NULL},
};

const vr_kind vr_kind_quotas = {
    .collection = "quotas", .type = "quota", .title = "quota", .schema = "Quota", .tag = "Data centers",
    .store = &vr_store_quotas, .fields = quota_fields, .nfields = VR_ARRAY_SIZE(quota_fields),
    .parent = "datacenters", .parent_field = "datacenter_id",
    .check_create = quota_check_create, .check_update = quota_check_update, .present = quota_present,
};
