/* Who sees which event (docs/rest-api.md "Events", docs/permissions.md
 * "Filtered views"). An event is seen like its object: through a
 * permission on the object or above it, or on the system. A removed object
 * is no longer in the tree (object_ancestors), so its events carry the
 * object that was above it (parent_id, written by audit.c at the removal)
 * and are seen through that parent and above; a permission given on the
 * removed object itself still shows them, since permissions stay when
 * their object goes (docs/permissions.md "Owners").
 *
 * A follower may also wait for the next events (wait=SECONDS): an empty
 * answer is held by the HTTP server without a thread (http_park.c) and
 * the listing run again at each new event the user may see (one query
 * per user and wake: vr_events_relevant), until it finds some or the
 * wait ends. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"

#include "api.h"
#include "dispatch.h"
#include "perm.h"

int vr_events_filter_sql(char *where, size_t len)
{
    char tree[700];
    /* the anchor is a fixed expression of the events' columns */
    vr_perm_visible_sql("COALESCE(r.parent_id, r.object_id)", tree, sizeof(tree));
    int n = snprintf(where, len, "(%s OR (r.parent_id IS NOT NULL AND r.object_id IN (SELECT up.object_id FROM"
                     " user_permissions up WHERE up.user_name = ?)))", tree);
    return n > 0 && (size_t)n < len ? 3 : -1;
}

long long vr_events_mark(vr_call *c)
{
    if (!vr_http_arg(c->req, "wait"))
        return 0;
    json_t *m = vr_db_query_one(c->e->db, "SELECT max(id) AS m FROM events", DB_NOARGS, NULL);
    long long mark = json_integer_value(json_object_get(m, "m"));
    json_decref(m);
    return mark;
}

bool vr_events_relevant(void *engine, const char *user, long long mark)
{
    vr_engine *e = engine;
    char where[1000], sql[1400];
    bool all = vr_authz_unrestricted(user);
    if (all)
        snprintf(sql, sizeof(sql), "SELECT 1 AS ok FROM events r WHERE r.id > ? LIMIT 1");
    else if (vr_events_filter_sql(where, sizeof(where)) == 3)
        snprintf(sql, sizeof(sql), "SELECT 1 AS ok FROM events r WHERE r.id > ? AND %s LIMIT 1", where);
    else
        return true;
    vr_error err = {0};
    json_t *ok = all ? vr_db_query_one(e->db, sql, DB_ARGS(DB_INT(mark)), &err)
                     : vr_db_query_one(e->db, sql, DB_ARGS(DB_INT(mark), DB_TEXT(user), DB_TEXT(user), DB_TEXT(user)),
                                       &err);
    json_decref(ok);
    return ok || err.code; /* in doubt, its listings run again */
}

int vr_events_hold(vr_call *c, json_t *out, long long mark, vr_error *err)
{
    const char *w = vr_http_arg(c->req, "wait");
    if (!w)
        return 0;
    char *end;
    errno = 0;
    long secs = strtol(w, &end, 10);
    if (errno || end == w || *end || secs < 0 || secs > VR_EVENTS_MAX_WAIT_S)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "wait must be an integer from 0 to %d (seconds)",
                            VR_EVENTS_MAX_WAIT_S);
    if (json_array_size(json_object_get(out, "events")) || !secs)
        return 0;
    uint64_t until = c->req->parked_until_ns ? c->req->parked_until_ns : vr_mono_ns() + (uint64_t)secs * 1000000000ull;
    if (vr_mono_ns() < until) {
        c->resp->park_until_ns = until; /* the empty list answers if the server stops meanwhile */
        /* a wake with no new event this user may see leaves it held */
        snprintf(c->resp->park_key, sizeof(c->resp->park_key), "%s", c->user ? c->user : "");
        c->resp->park_mark = mark;
    }
    return 0;
}
