/* MAC pools: their SQL (docs/networks.md "MAC pools"). The ranges are kept
 * as JSON ([{from, to}], checked by api/kinds_macpools.c); the number of
 * addresses a pool has given is counted from macs. */
#include <stdlib.h>

#include "store_networks.h"

static const char *str(json_t *b, const char *k)
{
    return json_string_value(json_object_get(b, k)) ?: "";
}

static const vr_search mp_search[] = {
    {"name", "lower(name) LIKE ? ESCAPE '\\'", true, true, false, "name, * as wildcard"},
};

static int mp_insert(vr_engine *e, const char *id, json_t *b, vr_error *err)
{
    char *ranges = json_dumps(json_object_get(b, "ranges"), JSON_COMPACT);
    int rc = vr_db_exec(e->db, "INSERT INTO mac_pools (id, name, description, ranges_json, allow_duplicates,"
                        " created_at) VALUES (?,?,?,?,?,?)",
                        DB_ARGS(DB_TEXT(id), DB_TEXT(str(b, "name")), DB_TEXT(str(b, "description")),
                                DB_TEXT(ranges ?: "[]"), DB_INT(json_is_true(json_object_get(b, "allow_duplicates"))),
                                DB_INT(vr_now())), err);
    free(ranges);
    if (rc < 0 && err->code == VR_ERR_CONFLICT)
        vr_error_set(err, VR_ERR_CONFLICT, "a MAC pool named '%s' exists already", str(b, "name"));
    return rc < 0 ? -1 : 0;
}

static int mp_update(vr_engine *e, json_t *row, json_t *b, vr_error *err)
{
    char *ranges = json_dumps(json_object_get(b, "ranges"), JSON_COMPACT);
    int n = vr_db_exec(e->db, "UPDATE mac_pools SET name = ?, description = ?, ranges_json = ?, allow_duplicates = ?"
                       " WHERE id = ?",
                       DB_ARGS(DB_TEXT(str(b, "name")), DB_TEXT(str(b, "description")), DB_TEXT(ranges ?: "[]"),
                               DB_INT(json_is_true(json_object_get(b, "allow_duplicates"))),
                               DB_TEXT(str(row, "id"))), err);
    free(ranges);
    if (n < 0 && err->code == VR_ERR_CONFLICT)
        return vr_error_set(err, VR_ERR_CONFLICT, "a MAC pool named '%s' exists already", str(b, "name"));
    return n < 0 ? -1 : n == 0 ? vr_error_set(err, VR_ERR_BAD_STATE, "the MAC pool was removed meanwhile") : 0;
}

static int mp_remove(vr_engine *e, json_t *row, vr_error *err)
{
    int n = vr_db_exec(e->db, "DELETE FROM mac_pools WHERE id = ?", DB_ARGS(DB_TEXT(str(row, "id"))), err);
    return n < 0 ? -1 : n == 0 ? vr_error_set(err, VR_ERR_NOT_FOUND, "it was removed meanwhile") : 0;
}

const vr_store vr_store_macpools = {
    .select = "SELECT * FROM (SELECT p.id AS id, p.name AS name, p.description AS description, p.ranges_json AS"
              " ranges_json, p.allow_duplicates AS allow_duplicates, (SELECT count(*) FROM macs m WHERE m.pool_id ="
              " p.id) AS macs_in_use, p.created_at AS created_at FROM mac_pools p) AS mp",
    .id_expr = "id", .order = "name, id", .table = "mac_pools",
    .search = mp_search, .nsearch = sizeof(mp_search) / sizeof(mp_search[0]),
    .insert = mp_insert, .update = mp_update, .remove = mp_remove,
};
