/* Affinity groups' SQL (store_affinity.h). The kind (api/kinds_affinity.c)
 * checks a body's `vms` and leaves their ids in `vm_ids`; a group and its
 * members are written in one transaction. */
#include "store_affinity.h"

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

/* A boolean member as given (true/false) or as read back (1/0). */
static long long flag(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_boolean(v) ? json_is_true(v) : json_integer_value(v) != 0;
}

static const vr_search group_search[] = {
    {"name", "lower(name) LIKE ? ESCAPE '\\'", true, true, false, "name, * as wildcard"},
};

/* Replace the members of group id with b's vm_ids, if it has them (in the
 * caller's transaction). */
static int put_members(vr_engine *e, const char *id, json_t *b, vr_error *err)
{
    json_t *ids = json_object_get(b, "vm_ids");
    if (!json_is_array(ids))
        return 0;
    if (vr_db_exec(e->db, "DELETE FROM affinity_group_vms WHERE group_id = ?", DB_ARGS(DB_TEXT(id)), err) < 0)
        return -1;
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v)
        if (vr_db_exec(e->db, "INSERT INTO affinity_group_vms (group_id, vm_id) VALUES (?, ?)",
                       DB_ARGS(DB_TEXT(id), DB_TEXT(json_string_value(v) ?: "")), err) < 0)
            return -1;
    return 0;
}

static int done(vr_engine *e, int rc, vr_error *err)
{
    if (rc < 0) {
        vr_db_rollback(e->db);
        return -1;
    }
    return vr_db_commit(e->db, err);
}

static int group_insert(vr_engine *e, const char *id, json_t *b, vr_error *err)
{
    if (vr_db_begin(e->db, err) < 0)
        return -1;
    int rc = vr_db_exec(e->db, "INSERT INTO affinity_groups (id, name, description, cluster_id, positive, enforcing,"
                        " created_at) VALUES (?,?,?,?,?,?,?)",
                        DB_ARGS(DB_TEXT(id), DB_TEXT(str(b, "name")), DB_TEXT(str(b, "description")),
                                DB_TEXT(str(b, "cluster_id")), DB_INT(flag(b, "positive")),
                                DB_INT(flag(b, "enforcing")), DB_INT(vr_now())), err);
    if (rc >= 0)
        rc = put_members(e, id, b, err);
    return done(e, rc, err);
}

static int group_update(vr_engine *e, json_t *row, json_t *b, vr_error *err)
{
    if (vr_db_begin(e->db, err) < 0)
        return -1;
    int rc = vr_db_exec(e->db, "UPDATE affinity_groups SET name = ?, description = ?, positive = ?, enforcing = ?"
                        " WHERE id = ?",
                        DB_ARGS(DB_TEXT(str(b, "name")), DB_TEXT(str(b, "description")), DB_INT(flag(b, "positive")),
                                DB_INT(flag(b, "enforcing")), DB_TEXT(str(row, "id"))), err);
    if (rc == 0)
        rc = vr_error_set(err, VR_ERR_BAD_STATE, "affinity group '%s' was removed meanwhile", str(row, "name"));
    if (rc >= 0)
        rc = put_members(e, str(row, "id"), b, err);
    return done(e, rc, err);
}

static int group_remove(vr_engine *e, json_t *row, vr_error *err)
{
    return vr_db_exec(e->db, "DELETE FROM affinity_groups WHERE id = ?", DB_ARGS(DB_TEXT(str(row, "id"))), err) < 0
               ? -1 : 0;
}

const vr_store vr_store_affinity_groups = {
    .select = "SELECT g.id AS id, g.name AS name, g.description AS description, g.cluster_id AS cluster_id,"
              " g.positive AS positive, g.enforcing AS enforcing, g.created_at AS created_at FROM affinity_groups g",
    .id_expr = "g.id", .order = "name, id", .table = "affinity_groups",
    .search = group_search, .nsearch = sizeof(group_search) / sizeof(group_search[0]),
    .insert = group_insert, .update = group_update, .remove = group_remove,
};
