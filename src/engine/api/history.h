/* GET /api/hosts/ID/statistics/history and GET /api/vms/ID/statistics/
 * history: the last hour of an object's CPU, memory and network from the
 * engine's memory (monitor/statshistory.h), authorized like a GET of the
 * object (docs/rest-api.md "Statistics history"). */
#pragma once

#include <stdbool.h>

#include "engine.h"
#include "http.h"

/* True when the authenticated request is for one of these paths (resp is
 * filled: the history or a fault); false for every other path. */
bool vr_history_handle(vr_engine *e, vr_http_req *req, vr_http_resp *resp);

/* Whether path is such a history path (for the request metrics' routes). */
bool vr_history_path(const char *path);
