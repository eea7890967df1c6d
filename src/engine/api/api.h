/* REST API plumbing shared by the collection handlers: routing, strict
 * body parsing, search/paging, entity links. */
#pragma once

#include "engine.h"
#include "http.h"
#include "names.h"

/* One searchable field of a collection: `key` in search=, matched against
 * the SQL expression `expr` (a fixed string, never user input) with one
 * bound parameter. */
typedef struct api_field {
    const char *key;
    const char *expr; /* e.g. "name LIKE ? ESCAPE '\\'" */
    bool glob;        /* translate * into % (and escape % _ \) */
    bool lower;       /* compare lowercased */
    bool integer;     /* the value must be an integer (bound as one) */
} api_field;

/* Parse the body as a JSON object with only the allowed members. Returns a
 * new reference or NULL after a 400 in resp. */
json_t *api_body_keys(vr_http_req *req, vr_http_resp *resp, vr_names allowed);
#define api_body(req, resp, allowed) api_body_keys((req), (resp), VR_NAMES(allowed))

/* GET a collection: select_sql has no WHERE/ORDER/LIMIT; rows go through
 * decorate (may be NULL) and out as {"<collection>": [...], "total": N},
 * ordered by name then id. */
void api_list(vr_engine *e, vr_http_req *req, vr_http_resp *resp, const char *collection,
              const char *select_sql, const api_field *fields,
              void (*decorate)(vr_engine *e, json_t *row));

/* The same with another stable order (a fixed SQL ORDER BY list) and, when
 * href is false, no per-row links (for rows without their own URL). */
void api_list_ordered(vr_engine *e, vr_http_req *req, vr_http_resp *resp, const char *collection,
                      const char *select_sql, const api_field *fields,
                      void (*decorate)(vr_engine *e, json_t *row), const char *order, bool href);

/* Add "href" to an entity row. */
void api_href(json_t *row, const char *collection);

/* Respond with an entity (201 + Location when created). */
void api_entity(vr_http_resp *resp, json_t *row, const char *collection, bool created);

/* Map a vr_error to a fault response. Returns -1. */
int api_error(vr_http_resp *resp, const vr_error *err);

/* Validate a name for an entity: 1-64 chars of [A-Za-z0-9._-], so names
 * are safe everywhere they travel (agent, libvirt, shell, logs). */
int api_check_name(vr_http_resp *resp, const char *name);

/* Collection handlers: `id` may be NULL, `action` may be NULL. */
void api_datacenters(vr_engine *e, vr_http_req *r, vr_http_resp *resp, const char *id, const char *action);
void api_clusters(vr_engine *e, vr_http_req *r, vr_http_resp *resp, const char *id, const char *action);
void api_hosts(vr_engine *e, vr_http_req *r, vr_http_resp *resp, const char *id, const char *action);
void api_vms(vr_engine *e, vr_http_req *r, vr_http_resp *resp, const char *id, const char *action);
void api_events(vr_engine *e, vr_http_req *r, vr_http_resp *resp, const char *id, const char *action);
void api_jobs(vr_engine *e, vr_http_req *r, vr_http_resp *resp, const char *id, const char *action);

/* The top-level request handler given to the HTTP server. */
void api_handle(void *engine, vr_http_req *req, vr_http_resp *resp);
