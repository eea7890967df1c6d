/* The REST API's entry: public endpoints, authentication, then the kinds'
 * generic dispatcher (kind.h). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "engine.h"
#include "http.h"

/* The top-level request handler given to the HTTP server. */
void api_handle(void *engine, vr_http_req *req, vr_http_resp *resp);

/* The HTTP server's vr_http_opts.park_relevant for events long polls
 * (events_view.c): may user see an event newer than mark? */
bool vr_events_relevant(void *engine, const char *user, long long mark);

/* Whether path is pre + ID + post (post "/..."), ID one non-empty segment
 * shorter than idlen; copies ID into id. For the routes outside the
 * dispatcher (disk content, statistics history, placement dry run). */
bool vr_api_path_id(const char *path, const char *pre, const char *post, char *id, size_t idlen);
