/* The decision: does a user hold, directly or through a group, a
 * permission whose role has an action group, on an object or anything
 * above it? One query over the views user_permissions and
 * object_ancestors (migration 12), so ancestry is said once, in SQL, and
 * the same condition filters listings. */
#include <stdio.h>
#include <string.h>

#include "perm.h"

/* A permission on the object itself counts also once the object is gone
 * (its permissions stay): whoever removed their own disk or VM still
 * follows the removal's job and reads its events. */
#define COVERS(anchor) "(up.object_id = '" VR_SYSTEM_ID "' OR up.object_id = " anchor " OR up.object_id IN" \
    " (SELECT oa.ancestor_id FROM object_ancestors oa WHERE oa.object_id = " anchor "))"

/* The Blank template is everyone's to see and use as a base (oVirt gives
 * Everyone a role on it). */
#define BLANK "00000000-0000-0000-0000-000000000000"

int vr_perm_allows(vr_engine *e, const char *user, const char *object_id, const char *group, vr_error *err)
{
    if (!group && !strcmp(object_id, BLANK))
        return 1;
    vr_error local = {0};
    json_t *row = group
        ? vr_db_query_one(e->db, "SELECT 1 AS ok FROM user_permissions up JOIN role_action_groups g"
                          " ON g.role_id = up.role_id AND g.action_group = ? WHERE up.user_name = ? AND "
                          COVERS("?") " LIMIT 1",
                          DB_ARGS(DB_TEXT(group), DB_TEXT(user), DB_TEXT(object_id), DB_TEXT(object_id)), &local)
        : vr_db_query_one(e->db, "SELECT 1 AS ok FROM user_permissions up WHERE up.user_name = ? AND "
                          COVERS("?") " LIMIT 1", DB_ARGS(DB_TEXT(user), DB_TEXT(object_id), DB_TEXT(object_id)),
                          &local);
    if (!row && local.code) {
        if (err)
            *err = local;
        return -1;
    }
    json_decref(row);
    return row != NULL;
}

int vr_perm_grant_owner(vr_engine *e, const char *user, const char *object_type, const char *object_id,
                        const char *role_id, vr_error *err)
{
    if (!user || !strcmp(user, VR_ADMIN_USER))
        return 0;
    char id[37];
    vr_uuid_new(id);
    return vr_db_exec(e->db, "INSERT INTO permissions (id, user_id, group_id, role_id, object_type, object_id,"
                      " created_at) SELECT ?, u.id, NULL, ?, ?, ?, ? FROM users u WHERE u.name = ?",
                      DB_ARGS(DB_TEXT(id), DB_TEXT(role_id), DB_TEXT(object_type), DB_TEXT(object_id),
                              DB_INT(vr_now()), DB_TEXT(user)), err) < 0 ? -1 : 0;
}

void vr_perm_visible_sql(const char *anchor, char *out, size_t len)
{
    /* Two uncorrelated subqueries, each run once per listing: does the
     * user hold anything on the system, and the set of objects under what
     * they hold. (A per-row EXISTS over the views cost a second for 50,000
     * events.) anchor is a fixed expression of the kind's table, never
     * client text. */
    snprintf(out, len,
             "(%s = '" BLANK "' OR EXISTS (SELECT 1 FROM user_permissions up WHERE up.user_name = ? AND"
             " up.object_id = '" VR_SYSTEM_ID "') OR %s IN (SELECT oa.object_id FROM object_ancestors oa"
             " JOIN user_permissions up ON up.object_id = oa.ancestor_id WHERE up.user_name = ?))",
             anchor, anchor);
}
