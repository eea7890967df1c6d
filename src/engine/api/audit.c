/* The audit trail of the generic dispatcher (docs/rest-api.md "Events"):
 * every accepted create answered 201, edit or synchronous removal of an
 * object leaves one event on that object, naming who did it and, for an
 * edit, which members changed - their names only, since values may be secrets or big specs.
 * Events on an object are filtered like the object (authz.c), so a user
 * who cannot see it does not see them either. */
#include <stdio.h>
#include <string.h>

#include "dispatch.h"
#include "i18n.h"

json_t *vr_audit_given(const vr_kind *k, json_t *body)
{
    json_t *names = json_array();
    for (size_t i = 0; i < k->nfields; i++) {
        json_t *v = json_object_get(body, k->fields[i].name);
        if (v && !json_is_null(v)) /* null counts as absent (body.c) */
            json_array_append_new(names, json_string(k->fields[i].name));
    }
    return names;
}

static const char *who(vr_call *c)
{
    return c->user && *c->user ? c->user : "engine";
}

static const char *name_of(json_t *row)
{
    return json_string_value(json_object_get(row, "name")) ?: json_string_value(json_object_get(row, "alias"))
               ?: json_string_value(json_object_get(row, "id")) ?: "";
}

bool vr_audit_updated(vr_call *c, json_t *before, json_t *given)
{
    const vr_kind *k = c->kind;
    const char *id = json_string_value(json_object_get(before, "id")) ?: "";
    json_t *now = vr_kind_get(c->e, k, id, NULL);
    char changed[512] = "";
    size_t len = 0, i;
    json_t *n;
    json_array_foreach(given, i, n) {
        const char *f = json_string_value(n);
        json_t *was = json_object_get(before, f), *is = now ? json_object_get(now, f) : NULL;
        /* A member the rendering never shows (a password) cannot be
         * compared: given, it counts as changed. */
        if ((was || is) && json_equal(was, is))
            continue;
        int w = snprintf(changed + len, sizeof(changed) - len, "%s%s", len ? ", " : "", f);
        if (w < 0 || (size_t)w >= sizeof(changed) - len)
            break; /* the list stops at what fits */
        len += (size_t)w;
    }
    /* A running VM keeps what cannot change live for its next start
     * (its pending_changes): the event says so. */
    const char *status = json_string_value(json_object_get(now, "status"));
    bool waits = json_array_size(json_object_get(now, "pending_changes")) && status && strcmp(status, "down");
    if (len)
        vr_event(c->e, "normal", c->user, k->type, id,
                 waits ? N_("%s '%s' was updated by %s: %s; what cannot change while it runs waits for its next start")
                       : N_("%s '%s' was updated by %s: %s"),
                 k->title, name_of(now ? now : before), who(c), changed);
    json_decref(now);
    return len > 0;
}

void vr_audit_parent(vr_call *c, json_t *row, char parent[64])
{
    /* The nearest of its ancestors is the one with the most ancestors of
     * its own (a pool's VM: the pool, under the cluster). */
    const char *id = json_string_value(json_object_get(row, "id")) ?: "";
    json_t *p = vr_db_query_one(c->e->db, "SELECT oa.ancestor_id AS id FROM object_ancestors oa"
                                " WHERE oa.object_id = ? AND oa.ancestor_id <> oa.object_id ORDER BY"
                                " (SELECT count(*) FROM object_ancestors b WHERE b.object_id = oa.ancestor_id) DESC,"
                                " oa.ancestor_id LIMIT 1", DB_ARGS(DB_TEXT(id)), NULL);
    snprintf(parent, 64, "%s", json_string_value(json_object_get(p, "id")) ?: "");
    json_decref(p);
}

void vr_audit_removed(vr_call *c, json_t *row, const char *parent)
{
    const char *id = json_string_value(json_object_get(row, "id")) ?: "";
    vr_event(c->e, "normal", c->user, c->kind->type, id, N_("%s '%s' was removed by %s"), c->kind->title,
             name_of(row), who(c));
    /* Gone from the tree, the object's events (this one included) are
     * seen through its parent from now on (events_view.c). */
    if (!parent || !*parent || !*id)
        return;
    vr_db_exec(c->e->db, "UPDATE events SET parent_id = ? WHERE object_id = ? AND parent_id IS NULL",
               DB_ARGS(DB_TEXT(parent), DB_TEXT(id)), NULL);
    /* The events of what was under it (removed before) move up with them. */
    vr_db_exec(c->e->db, "UPDATE events SET parent_id = ? WHERE parent_id = ?", DB_ARGS(DB_TEXT(parent), DB_TEXT(id)),
               NULL);
}

void vr_audit_created(vr_call *c, const char *id)
{
    json_t *row = vr_kind_get(c->e, c->kind, id, NULL);
    vr_event(c->e, "normal", c->user, c->kind->type, id, N_("%s '%s' was created by %s"), c->kind->title,
             row ? name_of(row) : id, who(c));
    json_decref(row);
}
