/* /api/events and /api/jobs: read-only views. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

/* Events have no name; they list newest first with their own paging. */
void api_events(vr_engine *e, vr_http_req *r, vr_http_resp *resp, const char *id, const char *action)
{
    if (strcmp(r->method, "GET") || id)
        return (void)vr_http_fault(resp, id ? 404 : 405, id ? "Not Found" : "Method Not Allowed",
                                   "events are listed with GET /api/events");
    const char *smax = vr_http_arg(r, "max");
    char *end = NULL;
    long max = smax ? strtol(smax, &end, 10) : 100;
    if (smax && (*end || max < 1 || max > 1000))
        return (void)vr_http_fault(resp, 400, "Bad Request", "max must be an integer from 1 to 1000");
    json_t *rows;
    vr_error err = {0};
    if (vr_db_query(e->db, "SELECT id, time, severity, user_name AS user, object_type, object_id,"
                    " message FROM events ORDER BY id DESC LIMIT ?", DB_ARGS(DB_INT(max)), &rows,
                    &err) < 0)
        return (void)api_error(resp, &err);
    resp->status = 200;
    resp->body = json_pack("{s:o}", "events", rows);
}

void api_jobs(vr_engine *e, vr_http_req *r, vr_http_resp *resp, const char *id, const char *action)
{
    if (strcmp(r->method, "GET") || action)
        return (void)vr_http_fault(resp, 405, "Method Not Allowed", "jobs are read with GET");
    const char *sql = "SELECT id, action, object_type, object_id, status, detail, user_name AS user,"
                      " created_at, updated_at FROM jobs";
    vr_error err = {0};
    if (!id) {
        json_t *rows;
        char q[512];
        snprintf(q, sizeof(q), "%s ORDER BY created_at DESC LIMIT 100", sql);
        if (vr_db_query(e->db, q, DB_NOARGS, &rows, &err) < 0)
            return (void)api_error(resp, &err);
        size_t i;
        json_t *row;
        json_array_foreach(rows, i, row) api_href(row, "jobs");
        resp->status = 200;
        resp->body = json_pack("{s:o}", "jobs", rows);
        return;
    }
    char q[512];
    snprintf(q, sizeof(q), "%s WHERE id = ?", sql);
    json_t *row = vr_db_query_one(e->db, q, DB_ARGS(DB_TEXT(id)), &err);
    if (!row)
        return (void)vr_http_fault(resp, 404, "Not Found", "no job with id '%s'", id);
    api_entity(resp, row, "jobs", false);
}
