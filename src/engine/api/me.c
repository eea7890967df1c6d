/* GET /api/users/me: who the caller is and what they may do (see me.h).
 * Read straight from the permission tables: the answer concerns the caller
 * alone, so it needs no authorization beyond the token. */
#include "me.h"

#include <string.h>

#include "fault.h"
#include "kind.h"
#include "perm.h"

/* The profile part of NAME@PROFILE ("internal" for a name without one). */
static const char *domain_of(const char *name)
{
    const char *at = name ? strrchr(name, '@') : NULL;
    return at ? at + 1 : "internal";
}

static void set_hrefs(json_t *rows, const char *collection, const char *member)
{
    size_t i;
    json_t *r;
    char href[256];
    json_array_foreach(rows, i, r) {
        snprintf(href, sizeof(href), "/api/%s/%s", collection, json_string_value(json_object_get(r, "id")) ?: "");
        json_object_set_new(r, member, json_string(href));
    }
}

/* The groups the user is a member of, with the domain each comes from. */
static json_t *groups(vr_engine *e, const char *uid, vr_error *err)
{
    json_t *rows = NULL;
    if (vr_db_query(e->db, "SELECT g.id, g.name FROM user_groups g JOIN group_members m ON m.group_id = g.id"
                    " WHERE m.user_id = ? ORDER BY g.name", DB_ARGS(DB_TEXT(uid)), &rows, err) < 0)
        return NULL;
    size_t i;
    json_t *g;
    json_array_foreach(rows, i, g)
        json_object_set_new(g, "domain", json_string(domain_of(json_string_value(json_object_get(g, "name")))));
    set_hrefs(rows, "groups", "href");
    return rows;
}

/* Every permission the user holds, their own then their groups', each with
 * its role's name and action groups; group is null for their own. */
static json_t *permissions(vr_engine *e, const char *uid, vr_error *err)
{
    json_t *rows = NULL;
    if (vr_db_query(e->db,
                    "SELECT p.id, p.role_id, r.name AS role, r.administrative, r.action_groups_json, p.object_type,"
                    " p.object_id, NULL AS group_id, NULL AS group_name FROM permissions p JOIN roles r ON"
                    " r.id = p.role_id WHERE p.user_id = ?"
                    " UNION ALL SELECT p.id, p.role_id, r.name, r.administrative, r.action_groups_json, p.object_type,"
                    " p.object_id, g.id, g.name FROM permissions p JOIN roles r ON r.id = p.role_id JOIN user_groups g"
                    " ON g.id = p.group_id JOIN group_members m ON m.group_id = g.id WHERE m.user_id = ?"
                    " ORDER BY 3, 6, 7, 1",
                    DB_ARGS(DB_TEXT(uid), DB_TEXT(uid)), &rows, err) < 0)
        return NULL;
    size_t i;
    json_t *p;
    json_array_foreach(rows, i, p) {
        json_t *adm = json_object_get(p, "administrative");
        json_object_set_new(p, "administrative", json_boolean(json_is_integer(adm) && json_integer_value(adm)));
        if (!strcmp(json_string_value(json_object_get(p, "object_id")) ?: "", VR_SYSTEM_ID))
            json_object_set_new(p, "object_id", json_null());
        const char *gid = json_string_value(json_object_get(p, "group_id"));
        json_object_set_new(p, "group", gid ? json_pack("{s:s, s:O}", "id", gid, "name",
                                                        json_object_get(p, "group_name"))
                                            : json_null());
        json_object_del(p, "group_id");
        json_object_del(p, "group_name");
    }
    set_hrefs(rows, "permissions", "href");
    return rows;
}

/* The objects of a table (clusters, storage domains) on which the user
 * holds a role with action group ag, on them or above them: exactly where
 * vr_authorize would let them create there. table is one of ours. */
static json_t *where(vr_engine *e, const char *user, const char *table, const char *collection, const char *ag,
                     vr_error *err)
{
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "SELECT t.id, t.name FROM %s t WHERE EXISTS (SELECT 1 FROM user_permissions up JOIN"
             " role_action_groups g ON g.role_id = up.role_id AND g.action_group = ? WHERE up.user_name = ? AND"
             " (up.object_id = '" VR_SYSTEM_ID "' OR up.object_id IN (SELECT oa.ancestor_id FROM object_ancestors oa"
             " WHERE oa.object_id = t.id))) ORDER BY t.name",
             table);
    json_t *rows = NULL;
    if (vr_db_query(e->db, sql, DB_ARGS(DB_TEXT(ag), DB_TEXT(user)), &rows, err) < 0)
        return NULL;
    set_hrefs(rows, collection, "href");
    return rows;
}

static json_t *identity(vr_engine *e, const char *user, vr_error *err)
{
    json_t *row = vr_db_query_one(e->db, "SELECT id FROM users WHERE name = ?", DB_ARGS(DB_TEXT(user)), err);
    if (!row) {
        if (!err->code) /* removed between the token check and now */
            vr_error_set(err, VR_ERR_NOT_FOUND, "no %s with id '%.64s'", vr_kind_users.title, user);
        return NULL;
    }
    json_t *me = vr_kind_get(e, &vr_kind_users, json_string_value(json_object_get(row, "id")), err);
    json_decref(row);
    if (!me)
        return NULL;
    const char *uid = json_string_value(json_object_get(me, "id"));
    json_t *g = groups(e, uid, err), *p = g ? permissions(e, uid, err) : NULL,
           *vms = p ? where(e, user, "clusters", "clusters", "create_vm", err) : NULL,
           *disks = vms ? where(e, user, "storage_domains", "storagedomains", "create_disk", err) : NULL;
    if (!disks) {
        json_decref(g);
        json_decref(p);
        json_decref(vms);
        json_decref(me);
        return NULL;
    }
    json_object_set_new(me, "groups", g);
    json_object_set_new(me, "permissions", p);
    json_object_set_new(me, "may", json_pack("{s:o, s:o}", "create_vm", vms, "create_disk", disks));
    return me;
}

bool vr_me_handle(vr_engine *e, vr_http_req *req, vr_http_resp *resp)
{
    if (strcmp(req->path, "/api/users/me"))
        return false;
    if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
        vr_http_fault(resp, 405, "Method Not Allowed", "use GET to read your own identity");
        return true;
    }
    vr_error err = {0};
    json_t *me = identity(e, req->user, &err);
    if (me) {
        resp->status = 200;
        resp->body = me;
    } else {
        vr_fault(resp, &err);
    }
    return true;
}
