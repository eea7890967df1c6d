/* Data centers and clusters: their SQL. A data center is made with its
 * management network, a cluster with that network attached (required). */
#include <stdlib.h>
#include "store.h"
#include "store_networks.h"

static const char *str(json_t *b, const char *k)
{
    return json_string_value(json_object_get(b, k)) ?: "";
}

static const vr_search name_search[] = {
    {"name", "lower(name) LIKE ? ESCAPE '\\'", true, true, false, "name, * as wildcard"},
};

static int dc_insert(vr_engine *e, const char *id, json_t *b, vr_error *err)
{
    char net[37];
    vr_uuid_new(net);
    if (vr_db_begin(e->db, err) < 0)
        return -1;
    if (vr_db_exec(e->db, "INSERT INTO datacenters (id, name, description, created_at, quota_mode)"
                   " VALUES (?,?,?,?,?)", DB_ARGS(DB_TEXT(id), DB_TEXT(str(b, "name")), DB_TEXT(str(b, "description")),
                           DB_INT(vr_now()), DB_TEXT(*str(b, "quota_mode") ? str(b, "quota_mode") : "disabled")),
                   err) < 0 ||
        vr_net_insert(e, net, id, VR_MGMT_NETWORK, "management network (engine to agents)", true, 0, 1500,
                      "management", "", err) < 0) {
        vr_db_rollback(e->db);
        return -1;
    }
    return vr_db_commit(e->db, err);
}

static int dc_update(vr_engine *e, json_t *row, json_t *b, vr_error *err)
{
    int n = vr_db_exec(e->db, "UPDATE datacenters SET name = ?, description = ?, quota_mode = ? WHERE id = ?",
                       DB_ARGS(DB_TEXT(str(b, "name")), DB_TEXT(str(b, "description")),
                               DB_TEXT(*str(b, "quota_mode") ? str(b, "quota_mode") : "disabled"),
                               DB_TEXT(str(row, "id"))), err);
    return n < 0 ? -1 : n == 0 ? vr_error_set(err, VR_ERR_BAD_STATE, "the data center was removed meanwhile") : 0;
}

static int remove_by_id(vr_engine *e, const char *sql, json_t *row, vr_error *err)
{
    int n = vr_db_exec(e->db, sql, DB_ARGS(DB_TEXT(str(row, "id"))), err);
    return n < 0 ? -1 : n == 0 ? vr_error_set(err, VR_ERR_NOT_FOUND, "it was removed meanwhile") : 0;
}

/* Its networks and their profiles go with it; a data center that still
 * has clusters keeps them (the clusters' references refuse, all is rolled
 * back). */
static int dc_remove(vr_engine *e, json_t *row, vr_error *err)
{
    if (vr_db_begin(e->db, err) < 0)
        return -1;
    const char *id = str(row, "id");
    if (vr_db_exec(e->db, "DELETE FROM vnic_profiles WHERE network_id IN (SELECT id FROM networks WHERE"
                   " datacenter_id = ?)", DB_ARGS(DB_TEXT(id)), err) < 0 ||
        vr_db_exec(e->db, "DELETE FROM networks WHERE datacenter_id = ?", DB_ARGS(DB_TEXT(id)), err) < 0 ||
        vr_db_exec(e->db, "DELETE FROM quotas WHERE datacenter_id = ?", DB_ARGS(DB_TEXT(id)), err) < 0 ||
        remove_by_id(e, "DELETE FROM datacenters WHERE id = ?", row, err) < 0) {
        vr_db_rollback(e->db);
        return -1;
    }
    return vr_db_commit(e->db, err);
}

const vr_store vr_store_datacenters = {
    .select = "SELECT id, name, description, created_at, spm_host_id AS spm_host,"
              " master_domain_id AS master_storage_domain, storage_status, quota_mode FROM datacenters",
    .id_expr = "id", .order = "name, id", .table = "datacenters",
    .search = name_search, .nsearch = sizeof(name_search) / sizeof(name_search[0]),
    .insert = dc_insert, .update = dc_update, .remove = dc_remove,
};

static const vr_search cl_search[] = {
    {"name", "lower(name) LIKE ? ESCAPE '\\'", true, true, false, "name, * as wildcard"},
    {"datacenter", "datacenter_id IN (SELECT id FROM datacenters WHERE lower(name) LIKE ? ESCAPE '\\')",
     true, true, false, "data center name, * as wildcard"},
};

/* A policy member given (checked by the kind), as stored; NULL: none given. */
static char *policy_text(json_t *b, const char *member)
{
    json_t *p = json_object_get(b, member);
    return json_is_object(p) ? json_dumps(p, JSON_COMPACT) : NULL;
}

/* The HA reservation switch as the cluster's check left it in the body
 * ({"enabled": bool}). */
static int ha_on(json_t *b)
{
    return json_is_true(json_object_get(json_object_get(b, "ha_reservation"), "enabled"));
}

static int cl_insert(vr_engine *e, const char *id, json_t *b, vr_error *err)
{
    if (vr_db_begin(e->db, err) < 0)
        return -1;
    char *sched = policy_text(b, "scheduling_policy"), *mig = policy_text(b, "migration_policy"),
         *fence = policy_text(b, "fencing_policy");
    int rc = vr_db_exec(e->db, "INSERT INTO clusters (id, name, description, datacenter_id, cpu_type,"
                        " virt_mode, scheduling_json, migration_json, fencing_json, mac_pool_id, created_at,"
                        " ha_reservation_enabled) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                        DB_ARGS(DB_TEXT(id), DB_TEXT(str(b, "name")), DB_TEXT(str(b, "description")),
                                DB_TEXT(str(b, "datacenter_id")), DB_TEXT(str(b, "cpu_type")),
                                DB_TEXT(str(b, "virt_mode")), sched ? DB_TEXT(sched) : DB_NULL,
                                mig ? DB_TEXT(mig) : DB_NULL, fence ? DB_TEXT(fence) : DB_NULL,
                                DB_TEXT(str(b, "mac_pool_id")), DB_INT(vr_now()), DB_INT(ha_on(b))),
                        err);
    free(sched);
    free(mig);
    free(fence);
    if (rc < 0 ||
        vr_net_attach_mgmt(e, id, err) < 0) {
        vr_db_rollback(e->db);
        return -1;
    }
    return vr_db_commit(e->db, err);
}

static int cl_update(vr_engine *e, json_t *row, json_t *b, vr_error *err)
{
    char *sched = policy_text(b, "scheduling_policy"), *mig = policy_text(b, "migration_policy"),
         *fence = policy_text(b, "fencing_policy");
    int n = vr_db_exec(e->db, "UPDATE clusters SET name = ?, description = ?, cpu_type = ?, virt_mode = ?,"
                       " scheduling_json = coalesce(?, scheduling_json), migration_json = coalesce(?, migration_json),"
                       " fencing_json = coalesce(?, fencing_json), mac_pool_id = ?, ha_reservation_enabled = ?,"
                       " ha_reservation_json = CASE WHEN ? = 1 THEN ha_reservation_json END WHERE id = ?",
                       DB_ARGS(DB_TEXT(str(b, "name")), DB_TEXT(str(b, "description")), DB_TEXT(str(b, "cpu_type")),
                               DB_TEXT(str(b, "virt_mode")), sched ? DB_TEXT(sched) : DB_NULL,
                               mig ? DB_TEXT(mig) : DB_NULL, fence ? DB_TEXT(fence) : DB_NULL,
                               DB_TEXT(str(b, "mac_pool_id")), DB_INT(ha_on(b)), DB_INT(ha_on(b)),
                               DB_TEXT(str(row, "id"))), err);
    free(sched);
    free(mig);
    free(fence);
    return n < 0 ? -1 : n == 0 ? vr_error_set(err, VR_ERR_BAD_STATE, "the cluster was removed meanwhile") : 0;
}

/* Its network attachments go with it (ON DELETE CASCADE). */
static int cl_remove(vr_engine *e, json_t *row, vr_error *err)
{
    return remove_by_id(e, "DELETE FROM clusters WHERE id = ?", row, err);
}

const vr_store vr_store_clusters = {
    .select = "SELECT id, name, description, datacenter_id, cpu_type, virt_mode,"
              " scheduling_json AS scheduling_policy_json, migration_json AS migration_policy_json,"
              " fencing_json AS fencing_policy_json, mac_pool_id,"
              " created_at, ha_reservation_enabled FROM clusters",
    .id_expr = "id", .order = "name, id", .table = "clusters",
    .search = cl_search, .nsearch = sizeof(cl_search) / sizeof(cl_search[0]),
    .insert = cl_insert, .update = cl_update, .remove = cl_remove,
};
