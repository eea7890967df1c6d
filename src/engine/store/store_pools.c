/* VM pools' SQL (store_pools.h). */
#include "store_pools.h"

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

static long long num(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_boolean(v) ? json_is_true(v) : json_integer_value(v);
}

static const vr_search pool_search[] = {
    {"name", "lower(name) LIKE ? ESCAPE '\\'", true, true, false, "name, * as wildcard"},
};

static int pool_insert(vr_engine *e, const char *id, json_t *b, vr_error *err)
{
    return vr_db_exec(e->db, "INSERT INTO vm_pools (id, name, description, cluster_id, template_id, type, size,"
                      " prestarted, max_user_vms, stateless, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                      DB_ARGS(DB_TEXT(id), DB_TEXT(str(b, "name")), DB_TEXT(str(b, "description")),
                              DB_TEXT(str(b, "cluster_id")), DB_TEXT(str(b, "template_id")), DB_TEXT(str(b, "type")),
                              DB_INT(num(b, "size")), DB_INT(num(b, "prestarted")), DB_INT(num(b, "max_user_vms")),
                              DB_INT(num(b, "stateless")), DB_INT(vr_now())), err) < 0 ? -1 : 0;
}

static int pool_update(vr_engine *e, json_t *row, json_t *b, vr_error *err)
{
    int n = vr_db_exec(e->db, "UPDATE vm_pools SET name = ?, description = ?, size = ?, prestarted = ?,"
                       " max_user_vms = ? WHERE id = ?",
                       DB_ARGS(DB_TEXT(str(b, "name")), DB_TEXT(str(b, "description")), DB_INT(num(b, "size")),
                               DB_INT(num(b, "prestarted")), DB_INT(num(b, "max_user_vms")),
                               DB_TEXT(str(row, "id"))), err);
    return n < 0 ? -1 : n == 0 ? vr_error_set(err, VR_ERR_BAD_STATE, "the pool was removed meanwhile") : 0;
}

static int pool_remove(vr_engine *e, json_t *row, vr_error *err)
{
    json_t *left = vr_db_query_one(e->db, "SELECT count(*) AS n FROM vms WHERE pool_id = ?",
                                   DB_ARGS(DB_TEXT(str(row, "id"))), err);
    long long n = num(left, "n");
    json_decref(left);
    if (err->code)
        return -1;
    if (n)
        return vr_error_set(err, VR_ERR_CONFLICT, "pool '%s' still has %lld VM(s): set its size to 0 first (VMs in"
                            " use stay until released)", str(row, "name"), n);
    return vr_db_exec(e->db, "DELETE FROM vm_pools WHERE id = ?", DB_ARGS(DB_TEXT(str(row, "id"))), err) < 0 ? -1 : 0;
}

const vr_store vr_store_pools = {
    .select = "SELECT p.id AS id, p.name AS name, p.description AS description, p.cluster_id AS cluster_id,"
              " p.template_id AS template_id, p.type AS type, p.size AS size, p.prestarted AS prestarted,"
              " p.max_user_vms AS max_user_vms, p.stateless AS stateless, p.created_at AS created_at,"
              " (SELECT count(*) FROM vms WHERE pool_id = p.id) AS vm_count,"
              " (SELECT count(*) FROM vms WHERE pool_id = p.id AND pool_user IS NOT NULL) AS allocated"
              " FROM vm_pools p",
    .id_expr = "p.id", .order = "name, id", .table = "vm_pools",
    .search = pool_search, .nsearch = sizeof(pool_search) / sizeof(pool_search[0]),
    .insert = pool_insert, .update = pool_update, .remove = pool_remove,
};
