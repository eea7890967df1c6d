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

/* Reply 202 with a job reference and its Location. */
void vr_reply_job(vr_call *c, const char *job_id);
