/* Internals shared by the generic dispatcher's files (dispatch.c,
 * listing.c, body.c, openapi.c) and the kinds' hooks. */
#pragma once

#include "kind.h"

/* GET of a kind's collection (optionally the children of parent_id):
 * {"<collection>": [...], "total": N} as a new reference in *out. */
int vr_list(vr_call *c, const char *parent_id, json_t **out, vr_error *err);

/* Parse search= into a WHERE fragment over the rendering's columns with
 * bound values (values holds the texts args point into). */
int vr_search_parse(const vr_kind *k, const char *search, char *where, size_t wlen,
                    char values[][256], vr_dbv *args, int *nargs, vr_error *err);

/* Parse the request body as a JSON object holding only members the kind
 * takes for create (update false) or update. New reference or NULL. */
json_t *vr_body_parse(vr_call *c, bool update, vr_error *err);

/* "may this user do this action on this object?" - asked after the object
 * is looked up (row NULL for collections). 0 or VR_ERR_FORBIDDEN. */
int vr_authorize(vr_call *c, const vr_kind *k, json_t *row, const char *action, vr_error *err);
/* The same for a request outside the dispatcher (disk content). For a
 * create, row is the body (it names where the object goes); for a child
 * (a VM's NIC), the parent's row. Implemented in authz.c. */
int vr_authorize_user(vr_engine *e, const char *user, const vr_kind *k, json_t *row, const char *action,
                      vr_error *err);
/* The objects a body names (its REF members, but the one a create goes
 * in, already authorized): an action's need the action's group, a
 * create's or child's must be seen by the caller. 0 or -1 (403). */
int vr_authorize_refs(vr_call *c, const vr_kind *k, const vr_field *fields, size_t n, json_t *body,
                      const char *action, vr_error *err);
/* True for the caller who is never refused (admin@internal). */
bool vr_authz_unrestricted(const char *user);
/* The condition keeping the rows of a listing of k that the caller may
 * see: how many '?' it holds (each the caller's name), 0 when none is
 * needed. */
int vr_authz_filter(vr_call *c, const vr_kind *k, char *where, size_t len);
/* Events' own visibility (events_view.c): the listing condition over the
 * row alias r; returns its number of '?' (each the user's name). A
 * removed object's events are seen through its parent and by those who
 * held a permission on the object itself. */
int vr_events_filter_sql(char *where, size_t len);
/* GET /api/events?wait=SECONDS (at most VR_EVENTS_MAX_WAIT_S): with out
 * (the listing) empty, hold the request until a new event or the end of
 * the wait, then list again. mark: vr_events_mark, asked before the
 * listing (the newest event id then; 0 without wait). 0, or -1 for a bad
 * wait (400). */
#define VR_EVENTS_MAX_WAIT_S 60
long long vr_events_mark(vr_call *c);
int vr_events_hold(vr_call *c, json_t *out, long long mark, vr_error *err);

/* Reply 202 with a job reference and its Location. */
void vr_reply_job(vr_call *c, const char *job_id);

/* The audit events of edits and removals (audit.c, docs/rest-api.md
 * "Events"). vr_audit_given: the names of k's fields a PUT body gives, as
 * a new array, taken before the body is completed with the row's values.
 * vr_audit_updated: after the update of `before` (its row as it was) was
 * stored, one event on the object naming the given members whose value
 * changed and the caller; none (false) when nothing changed.
 * vr_audit_parent: the object above row in the permission tree (its
 * parent, "" for none), asked before the row goes.
 * vr_audit_removed: one event on a row removed at once (no job); the
 * object's events are then anchored on parent (docs/rest-api.md "Events").
 * vr_audit_created: one event on the object a create stored at once
 * (answered 201), naming it and the caller. */
json_t *vr_audit_given(const vr_kind *k, json_t *body);
void vr_audit_created(vr_call *c, const char *id);
bool vr_audit_updated(vr_call *c, json_t *before, json_t *given);
void vr_audit_parent(vr_call *c, json_t *row, char parent[64]);
void vr_audit_removed(vr_call *c, json_t *row, const char *parent);
