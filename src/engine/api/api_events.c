/* /api/events and /api/jobs: read-only views. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

static const api_field event_fields[] = {
    {"severity", "severity = ?", false, true, false},
    {"user", "user_name = ?", false, false, false},
    {"object_type", "object_type = ?", false, true, false},
    {"object_id", "object_id = ?", false, true, false},
    {"message", "lower(message) LIKE ? ESCAPE '\\'", true, true, false},
    {"after", "id > ?", false, false, true}, /* for followers: events newer than one seen */
    {NULL, NULL, false, false, false}};
static const api_field job_fields[] = {
    {"status", "status = ?", false, true, false},
    {"action", "action = ?", false, true, false},
    {"object_id", "object_id = ?", false, true, false},
    {NULL, NULL, false, false, false}};

/* Events have no URL of their own; they list newest first. */
void api_events(vr_engine *e, vr_http_req *r, vr_http_resp *resp, const char *id, const char *action)
{
    if (strcmp(r->method, "GET") || id)
        return (void)vr_http_fault(resp, id ? 404 : 405, id ? "Not Found" : "Method Not Allowed",
                                   "events are listed with GET /api/events");
    api_list_ordered(e, r, resp, "events",
                     "SELECT id, time, severity, user_name AS user, object_type, object_id, message"
                     " FROM events", event_fields, NULL, "id DESC", false);
}

void api_jobs(vr_engine *e, vr_http_req *r, vr_http_resp *resp, const char *id, const char *action)
{
    if (strcmp(r->method, "GET") || action)
        return (void)vr_http_fault(resp, 405, "Method Not Allowed", "jobs are read with GET");
    const char *sql = "SELECT id, action, description, object_type, object_id, status, detail,"
                      " steps_json, user_name AS user, created_at, updated_at FROM jobs";
    if (!id)
        return api_list_ordered(e, r, resp, "jobs", sql, job_fields, NULL, "created_at DESC, id", true);
    vr_error err = {0};
    char q[512];
    snprintf(q, sizeof(q), "%s WHERE id = ?", sql);
    json_t *row = vr_db_query_one(e->db, q, DB_ARGS(DB_TEXT(id)), &err);
    if (!row)
        return (void)vr_http_fault(resp, 404, "Not Found", "no job with id '%s'", id);
    api_entity(resp, row, "jobs", false);
}
