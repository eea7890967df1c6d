/* The authorization gate of every REST call (docs/permissions.md): which
 * object a request is about (its anchor: the object, the parent of a
 * child or of an object being created, the object a job, event or
 * permission is on, or the whole system), which action group the
 * operation needs (perm/roles.c), and the decision (perm/decide.c).
 * Denials are 403 naming the action and the object, and an audit event. */
#include <stdio.h>
#include <string.h>

#include "dispatch.h"
#include "i18n.h"
#include "perm.h"

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* Kinds whose rows are about the whole system. */
static bool system_kind(const vr_kind *k)
{
    return !strcmp(k->type, "user") || !strcmp(k->type, "group") || !strcmp(k->type, "role") ||
           !strcmp(k->type, "domain");
}

/* The member of a row that names the object it is about (NULL: its id). */
static const char *anchor_member(const vr_kind *k)
{
    if (!strcmp(k->type, "event") || !strcmp(k->type, "job") || !strcmp(k->type, "permission"))
        return "object_id";
    if (!strcmp(k->type, "host") && !strcmp(k->collection, "nics"))
        return "host_id";
    if (!strcmp(k->type, "affinitygroup")) /* not in the object tree: its cluster's */
        return "cluster_id";
    return NULL;
}

/* The member of a create body that names where the new object goes. */
static const char *create_member(const vr_kind *k)
{
    if (!strcmp(k->collection, "templates"))
        return "vm";
    if (!strcmp(k->collection, "vmpools"))
        return "cluster_id";
    if (!strcmp(k->collection, "permissions"))
        return "object_id";
    return k->parent_field;
}

static const char *anchor_of(const vr_kind *k, json_t *row, const char *action)
{
    if (!row || system_kind(k))
        return VR_SYSTEM_ID;
    if (k->children) /* children are authorized through their parent's row */
        return str(row, "id") ?: VR_SYSTEM_ID;
    if (!strcmp(action, "create")) {
        const char *m = create_member(k);
        return (m ? str(row, m) : NULL) ?: VR_SYSTEM_ID;
    }
    const char *m = anchor_member(k);
    return (m ? str(row, m) : str(row, "id")) ?: VR_SYSTEM_ID;
}

bool vr_authz_unrestricted(const char *user)
{
    /* admin@internal holds SuperUser on system and cannot lose it */
    return !user || !strcmp(user, VR_ADMIN_USER);
}

int vr_authorize_user(vr_engine *e, const char *user, const vr_kind *k, json_t *row, const char *action,
                      vr_error *err)
{
    if (vr_authz_unrestricted(user))
        return 0;
    bool read = !strcmp(action, "get") || !strcmp(action, "list");
    if (read && (!strcmp(action, "list") || !strcmp(k->type, "role")))
        return 0; /* lists are filtered; roles are public knowledge */
    const char *anchor = anchor_of(k, row, action);
    const char *group = NULL;
    if (!read) {
        if (!strcmp(k->type, "job")) /* a job's cancel is its own action's business */
            group = vr_action_group_for(str(row, "object_type") ?: "", NULL, str(row, "action") ?: "");
        else
            group = vr_action_group_for(k->type, k->collection, action);
    }
    vr_error local = {0};
    int ok = vr_perm_allows(e, user, anchor, group, &local);
    if (ok < 0)
        return err ? (*err = local, -1) : -1;
    if (ok)
        return 0;
    /* Name the object as the caller may know it: by name when they can
     * see it, else by the id they gave. */
    const vr_kind *shown = k;
    if (k->children) {
        shown = vr_kind_find(k->parent);
    } else if (!strcmp(action, "create") && row) { /* the object it would go in */
        const vr_field *f = create_member(k) ? vr_kind_field(k, create_member(k)) : NULL;
        shown = f && f->ref ? vr_kind_find(f->ref) : NULL;
    }
    bool sees = group && vr_perm_allows(e, user, anchor, NULL, NULL) > 0;
    /* Each wording is a whole message (docs/rest-api.md "Languages"):
     * the object named is a message of its own, nested into the denial,
     * and the kinds' names are translated terms. */
    vr_error what = {0};
    if (!row || !strcmp(anchor, VR_SYSTEM_ID)) {
        vr_error_set(&what, VR_ERR_FORBIDDEN, "the system");
    } else {
        const char *n = (shown == k && row) ? (str(row, "name") ?: str(row, "alias")) : NULL;
        vr_error_set(&what, VR_ERR_FORBIDDEN, "%s '%.64s'", shown ? shown->title : "object", sees && n ? n : anchor);
    }
    static const char *const fmts[][2] = { /* [how][needs a group] */
        {N_("user '%s' may not create a %s in %s: no permission on it or above it"),
         N_("user '%s' may not create a %s in %s: that needs action group '%s' from a role on it or above it")},
        {N_("user '%s' may not create an %s in %s: no permission on it or above it"),
         N_("user '%s' may not create an %s in %s: that needs action group '%s' from a role on it or above it")},
        {N_("user '%s' may not %s a %s of %s: no permission on it or above it"),
         N_("user '%s' may not %s a %s of %s: that needs action group '%s' from a role on it or above it")},
        {N_("user '%s' may not %s %s: no permission on it or above it"),
         N_("user '%s' may not %s %s: that needs action group '%s' from a role on it or above it")},
    };
    vr_error local_err = {0};
    vr_error *out = err ? err : &local_err;
    const char *fmt;
    if (!strcmp(action, "create")) {
        fmt = fmts[strchr("aeiou", k->title[0]) ? 1 : 0][group != NULL];
        vr_error_set(out, VR_ERR_FORBIDDEN, fmt, user, k->title, what.message, group);
    } else if (k->children) {
        fmt = fmts[2][group != NULL];
        vr_error_set(out, VR_ERR_FORBIDDEN, fmt, user, action, k->title, what.message, group);
    } else {
        fmt = fmts[3][group != NULL];
        vr_error_set(out, VR_ERR_FORBIDDEN, fmt, user, action, what.message, group);
    }
    vr_event(e, "warning", user, !strcmp(anchor, VR_SYSTEM_ID) ? "" : (shown ? shown->type : k->type),
             !strcmp(anchor, VR_SYSTEM_ID) ? "" : anchor, "permission denied: %s", out->message);
    return -1;
}

int vr_authorize(vr_call *c, const vr_kind *k, json_t *row, const char *action, vr_error *err)
{
    return vr_authorize_user(c->e, c->user, k, row, action, err);
}

int vr_authz_filter(vr_call *c, const vr_kind *k, char *where, size_t len)
{
    if (vr_authz_unrestricted(c->user) || !strcmp(k->type, "role"))
        return 0;
    if (!strcmp(k->type, "event")) /* they outlive their objects */
        return vr_events_filter_sql(where, len);
    char anchor[64];
    const char *m = anchor_member(k);
    if (system_kind(k))
        snprintf(anchor, sizeof(anchor), "'%s'", VR_SYSTEM_ID);
    else
        snprintf(anchor, sizeof(anchor), "r.%s", m ? m : "id");
    vr_perm_visible_sql(anchor, where, len);
    return 2;
}

/* The field's own default (the Default MAC pool of a new cluster) is
 * everyone's to name: the engine filled it in, the caller chose nothing. */
static bool is_default(const vr_field *f, const char *id)
{
    if (!f->dflt)
        return false;
    json_t *d = json_loads(f->dflt, JSON_DECODE_ANY, NULL);
    bool same = json_is_string(d) && !strcmp(json_string_value(d), id);
    json_decref(d);
    return same;
}

int vr_authorize_refs(vr_call *c, const vr_kind *k, const vr_field *fields, size_t n, json_t *body,
                      const char *action, vr_error *err)
{
    if (vr_authz_unrestricted(c->user) || !body)
        return 0;
    /* An action's named objects need the action's own group (a VM made
     * from a template into a cluster is a VM made in that cluster); a
     * create's or a child's need only be seen (what the caller cannot see
     * they cannot use: a disk attached to their VM, a profile). */
    const char *group = NULL;
    bool create = !strcmp(action, "create");
    if (!create)
        group = vr_action_group_for(k->type, k->collection, action);
    const char *anchor = create && !k->children ? create_member(k) : NULL;
    for (size_t i = 0; i < n; i++) {
        const vr_field *f = &fields[i];
        const char *id = f->type == VR_FT_REF ? str(body, f->name) : NULL;
        const vr_kind *ref = id ? vr_kind_find(f->ref) : NULL;
        /* A quota named is judged by the quota check (consume_quota on it). */
        if (!ref || system_kind(ref) || (anchor && !strcmp(anchor, f->name)) || !strcmp(ref->type, "quota") ||
            is_default(f, id))
            continue;
        int ok = vr_perm_allows(c->e, c->user, id, group, err);
        if (ok < 0)
            return -1;
        if (!ok) {
            if (group)
                vr_error_set(err, VR_ERR_FORBIDDEN, "user '%s' may not use %s '%.64s' here: that needs the"
                             " action's group on it too ('%s')", c->user, ref->title, id, group);
            else
                vr_error_set(err, VR_ERR_FORBIDDEN, "user '%s' may not name %s '%.64s' here: no permission on"
                             " it or above it", c->user, ref->title, id);
            vr_event(c->e, "warning", c->user, ref->type, id, "permission denied: %s", err->message);
            return -1;
        }
    }
    return 0;
}
