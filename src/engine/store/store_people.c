/* Users, groups, roles and permissions: their SQL (docs/permissions.md).
 * Passwords arrive hashed (the kind hashes them); a user's tokens go when
 * the user is disabled, given a new password or removed. */
#include "store_people.h"

#include <stdlib.h>

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

static long long num(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_boolean(v) ? json_is_true(v) : json_integer_value(v);
}

static int changed(int n, const char *what, vr_error *err)
{
    return n < 0 ? -1 : n == 0 ? vr_error_set(err, VR_ERR_NOT_FOUND, "the %s was removed meanwhile", what) : 0;
}

static const vr_search name_search[] = {
    {"name", "lower(name) LIKE ? ESCAPE '\\'", true, true, false, "name, * as wildcard"},
};

/* ---- users ---- */

static int user_insert(vr_engine *e, const char *id, json_t *b, vr_error *err)
{
    /* domain: set by the kind's check for a directory user (uid@profile) */
    return vr_db_exec(e->db, "INSERT INTO users (id, name, password_hash, description, enabled, domain, created_at)"
                      " VALUES (?,?,?,?,?,?,?)",
                      DB_ARGS(DB_TEXT(id), DB_TEXT(str(b, "name")), DB_TEXT(str(b, "password_hash")),
                              DB_TEXT(str(b, "description")), DB_INT(num(b, "enabled")),
                              DB_TEXT(*str(b, "domain") ? str(b, "domain") : "internal"), DB_INT(vr_now())),
                      err) < 0 ? -1 : 0;
}

static int user_update(vr_engine *e, json_t *row, json_t *b, vr_error *err)
{
    const char *id = str(row, "id");
    bool pw = json_object_get(b, "password_hash") != NULL;
    if (vr_db_begin(e->db, err) < 0)
        return -1;
    int n = vr_db_exec(e->db, "UPDATE users SET description = ?, enabled = ? WHERE id = ?",
                       DB_ARGS(DB_TEXT(str(b, "description")), DB_INT(num(b, "enabled")), DB_TEXT(id)), err);
    if (changed(n, "user", err) < 0 ||
        (pw && vr_db_exec(e->db, "UPDATE users SET password_hash = ? WHERE id = ?",
                          DB_ARGS(DB_TEXT(str(b, "password_hash")), DB_TEXT(id)), err) < 0) ||
        ((pw || !num(b, "enabled")) &&
         vr_db_exec(e->db, "UPDATE tokens SET revoked = 1 WHERE user_id = ?", DB_ARGS(DB_TEXT(id)), err) < 0)) {
        vr_db_rollback(e->db);
        return -1;
    }
    return vr_db_commit(e->db, err);
}

static int user_remove(vr_engine *e, json_t *row, vr_error *err)
{
    const char *id = str(row, "id");
    if (vr_db_begin(e->db, err) < 0)
        return -1;
    /* memberships and permissions go with it (ON DELETE CASCADE) */
    if (vr_db_exec(e->db, "DELETE FROM tokens WHERE user_id = ?", DB_ARGS(DB_TEXT(id)), err) < 0 ||
        changed(vr_db_exec(e->db, "DELETE FROM users WHERE id = ?", DB_ARGS(DB_TEXT(id)), err), "user", err) < 0) {
        vr_db_rollback(e->db);
        return -1;
    }
    return vr_db_commit(e->db, err);
}

const vr_store vr_store_users = {
    .select = "SELECT id, name, description, enabled, domain, created_at FROM users",
    .id_expr = "id", .order = "name, id", .table = "users",
    .search = name_search, .nsearch = VR_ARRAY_SIZE(name_search),
    .insert = user_insert, .update = user_update, .remove = user_remove,
};

/* ---- groups ---- */

static int group_insert(vr_engine *e, const char *id, json_t *b, vr_error *err)
{
    return vr_db_exec(e->db, "INSERT INTO user_groups (id, name, description, created_at) VALUES (?,?,?,?)",
                      DB_ARGS(DB_TEXT(id), DB_TEXT(str(b, "name")), DB_TEXT(str(b, "description")),
                              DB_INT(vr_now())), err) < 0 ? -1 : 0;
}

static int group_update(vr_engine *e, json_t *row, json_t *b, vr_error *err)
{
    return changed(vr_db_exec(e->db, "UPDATE user_groups SET name = ?, description = ? WHERE id = ?",
                              DB_ARGS(DB_TEXT(str(b, "name")), DB_TEXT(str(b, "description")),
                                      DB_TEXT(str(row, "id"))), err), "group", err);
}

static int group_remove(vr_engine *e, json_t *row, vr_error *err)
{
    return changed(vr_db_exec(e->db, "DELETE FROM user_groups WHERE id = ?", DB_ARGS(DB_TEXT(str(row, "id"))), err),
                   "group", err);
}

const vr_store vr_store_groups = {
    .select = "SELECT id, name, description, created_at FROM user_groups",
    .id_expr = "id", .order = "name, id", .table = "user_groups",
    .search = name_search, .nsearch = VR_ARRAY_SIZE(name_search),
    .insert = group_insert, .update = group_update, .remove = group_remove,
};

int vr_group_members(vr_engine *e, const char *group_id, json_t **rows, vr_error *err)
{
    return vr_db_query(e->db, "SELECT u.id AS id, u.name AS name FROM group_members m JOIN users u"
                       " ON u.id = m.user_id WHERE m.group_id = ? ORDER BY u.name, u.id",
                       DB_ARGS(DB_TEXT(group_id)), rows, err);
}

int vr_group_member_add(vr_engine *e, const char *group_id, const char *user_id, vr_error *err)
{
    return vr_db_exec(e->db, "INSERT INTO group_members (group_id, user_id) VALUES (?,?)",
                      DB_ARGS(DB_TEXT(group_id), DB_TEXT(user_id)), err) < 0 ? -1 : 0;
}

int vr_group_member_remove(vr_engine *e, const char *group_id, const char *user_id, vr_error *err)
{
    return changed(vr_db_exec(e->db, "DELETE FROM group_members WHERE group_id = ? AND user_id = ?",
                              DB_ARGS(DB_TEXT(group_id), DB_TEXT(user_id)), err), "membership", err);
}

/* ---- roles ---- */

static int role_write_groups(vr_engine *e, const char *id, json_t *groups, vr_error *err)
{
    if (vr_db_exec(e->db, "DELETE FROM role_action_groups WHERE role_id = ?", DB_ARGS(DB_TEXT(id)), err) < 0)
        return -1;
    size_t i;
    json_t *g;
    json_array_foreach(groups, i, g)
        if (vr_db_exec(e->db, "INSERT INTO role_action_groups (role_id, action_group) VALUES (?,?)"
                       " ON CONFLICT DO NOTHING", DB_ARGS(DB_TEXT(id), DB_TEXT(json_string_value(g))), err) < 0)
            return -1;
    return 0;
}

static int role_write(vr_engine *e, const char *id, json_t *b, bool insert, vr_error *err)
{
    char *groups = json_dumps(json_object_get(b, "action_groups"), JSON_COMPACT);
    if (!groups)
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory");
    int rc = -1;
    if (vr_db_begin(e->db, err) == 0) {
        int n = insert
            ? vr_db_exec(e->db, "INSERT INTO roles (id, name, description, administrative, predefined,"
                         " action_groups_json, created_at) VALUES (?,?,?,?,0,?,?)",
                         DB_ARGS(DB_TEXT(id), DB_TEXT(str(b, "name")), DB_TEXT(str(b, "description")),
                                 DB_INT(num(b, "administrative")), DB_TEXT(groups), DB_INT(vr_now())), err)
            : vr_db_exec(e->db, "UPDATE roles SET name = ?, description = ?, administrative = ?,"
                         " action_groups_json = ? WHERE id = ? AND predefined = 0",
                         DB_ARGS(DB_TEXT(str(b, "name")), DB_TEXT(str(b, "description")),
                                 DB_INT(num(b, "administrative")), DB_TEXT(groups), DB_TEXT(id)), err);
        if (changed(n, "role", err) == 0 && role_write_groups(e, id, json_object_get(b, "action_groups"), err) == 0)
            rc = vr_db_commit(e->db, err);
        else
            vr_db_rollback(e->db);
    }
    free(groups);
    return rc;
}

static int role_insert(vr_engine *e, const char *id, json_t *b, vr_error *err)
{
    return role_write(e, id, b, true, err);
}

static int role_update(vr_engine *e, json_t *row, json_t *b, vr_error *err)
{
    return role_write(e, str(row, "id"), b, false, err);
}

/* Its action groups go with it; permissions that use it refuse (409). */
static int role_remove(vr_engine *e, json_t *row, vr_error *err)
{
    return changed(vr_db_exec(e->db, "DELETE FROM roles WHERE id = ? AND predefined = 0",
                              DB_ARGS(DB_TEXT(str(row, "id"))), err), "role", err);
}

const vr_store vr_store_roles = {
    .select = "SELECT id, name, description, administrative, predefined, action_groups_json, created_at FROM roles",
    .id_expr = "id", .order = "name, id", .table = "roles",
    .search = name_search, .nsearch = VR_ARRAY_SIZE(name_search),
    .insert = role_insert, .update = role_update, .remove = role_remove,
};

/* ---- permissions ---- */

static const vr_search perm_search[] = {
    {"user", "user_id IN (SELECT id FROM users WHERE lower(name) LIKE ? ESCAPE '\\')", true, true, false,
     "user name, * as wildcard"},
    {"group", "group_id IN (SELECT id FROM user_groups WHERE lower(name) LIKE ? ESCAPE '\\')", true, true, false,
     "group name, * as wildcard"},
    {"role", "lower(role) LIKE ? ESCAPE '\\'", true, true, false, "role name, * as wildcard"},
    {"object_type", "object_type = ?", false, true, false, "system, datacenter, cluster, host, vm..."},
    {"object_id", "object_id = ?", false, true, false, "the object's id"},
    /* What a user holds through their groups (a user's permissions page
     * names them "through group X"): their own are user=. */
    {"member", "group_id IN (SELECT gm.group_id FROM group_members gm WHERE gm.user_id = ?)", false, false, false,
     "a user's id: the permissions of the groups the user is a member of"},
    /* What an object's permissions page shows: its own and those it
     * inherits (docs/permissions.md "Objects and inheritance"). */
    {"covers", "object_type = 'system' OR object_id IN (SELECT oa.ancestor_id FROM object_ancestors oa"
               " WHERE oa.object_id = ?)", false, true, false,
     "an object's id: the permissions that cover it, given on it, above it or on the system"},
};

static int perm_insert(vr_engine *e, const char *id, json_t *b, vr_error *err)
{
    json_t *user = json_object_get(b, "user_id"), *group = json_object_get(b, "group_id");
    const char *type = str(b, "object_type");
    return vr_db_exec(e->db, "INSERT INTO permissions (id, user_id, group_id, role_id, object_type, object_id,"
                      " created_at) VALUES (?,?,?,?,?,?,?)",
                      DB_ARGS(DB_TEXT(id), json_is_string(user) ? DB_TEXT(json_string_value(user)) : DB_NULL,
                              json_is_string(group) ? DB_TEXT(json_string_value(group)) : DB_NULL,
                              DB_TEXT(str(b, "role_id")), DB_TEXT(type),
                              DB_TEXT(!strcmp(type, "system") ? "system" : str(b, "object_id")), DB_INT(vr_now())),
                      err) < 0 ? -1 : 0;
}

static int perm_remove(vr_engine *e, json_t *row, vr_error *err)
{
    return changed(vr_db_exec(e->db, "DELETE FROM permissions WHERE id = ?", DB_ARGS(DB_TEXT(str(row, "id"))), err),
                   "permission", err);
}

const vr_store vr_store_permissions = {
    .select = "SELECT * FROM (SELECT p.id AS id, p.user_id AS user_id, p.group_id AS group_id, p.role_id AS role_id,"
              " (SELECT name FROM roles WHERE id = p.role_id) AS role, p.object_type AS object_type,"
              " CASE WHEN p.object_type = 'system' THEN NULL ELSE p.object_id END AS object_id,"
              " p.created_at AS created_at FROM permissions p) AS pm",
    .id_expr = "id", .order = "created_at, id", .table = "permissions",
    .search = perm_search, .nsearch = VR_ARRAY_SIZE(perm_search),
    .insert = perm_insert, .remove = perm_remove,
};

/* ---- directory profiles ---- */

static int domain_insert(vr_engine *e, const char *id, json_t *b, vr_error *err)
{
    return vr_db_exec(e->db, "INSERT INTO domains (id, name, description, url, bind_dn, bind_password, base_dn, tls,"
                      " user_attribute, type, ca_cert, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                      DB_ARGS(DB_TEXT(id), DB_TEXT(str(b, "name")), DB_TEXT(str(b, "description")),
                              DB_TEXT(str(b, "url")), DB_TEXT(str(b, "bind_dn")), DB_TEXT(str(b, "bind_password")),
                              DB_TEXT(str(b, "base_dn")), DB_TEXT(str(b, "tls")), DB_TEXT(str(b, "user_attribute")),
                              DB_TEXT(str(b, "type")), DB_TEXT(str(b, "ca_cert")), DB_INT(vr_now())), err) < 0
               ? -1 : 0;
}

/* The bind password changes only when a new one is given. */
static int domain_update(vr_engine *e, json_t *row, json_t *b, vr_error *err)
{
    bool pw = json_is_string(json_object_get(b, "bind_password"));
    return changed(vr_db_exec(e->db, "UPDATE domains SET description = ?, url = ?, bind_dn = ?, base_dn = ?, tls = ?,"
                              " user_attribute = ?, type = ?, ca_cert = ?, bind_password = CASE WHEN ? = 1 THEN ? ELSE bind_password END"
                              " WHERE id = ?",
                              DB_ARGS(DB_TEXT(str(b, "description")), DB_TEXT(str(b, "url")),
                                      DB_TEXT(str(b, "bind_dn")), DB_TEXT(str(b, "base_dn")), DB_TEXT(str(b, "tls")),
                                      DB_TEXT(str(b, "user_attribute")), DB_TEXT(str(b, "type")),
                                      DB_TEXT(str(b, "ca_cert")), DB_INT(pw), DB_TEXT(str(b, "bind_password")),
                                      DB_TEXT(str(row, "id"))), err), "directory profile", err);
}

static int domain_remove(vr_engine *e, json_t *row, vr_error *err)
{
    return changed(vr_db_exec(e->db, "DELETE FROM domains WHERE id = ?", DB_ARGS(DB_TEXT(str(row, "id"))), err),
                   "directory profile", err);
}

const vr_store vr_store_domains = {
    .select = "SELECT id, name, description, url, bind_dn, base_dn, tls, user_attribute, type, ca_cert, created_at"
              " FROM domains",
    .id_expr = "id", .order = "name, id", .table = "domains",
    .search = name_search, .nsearch = VR_ARRAY_SIZE(name_search),
    .insert = domain_insert, .update = domain_update, .remove = domain_remove,
};
