/* The REST API's entry: public endpoints, authentication, then the kinds'
 * generic dispatcher (kind.h). */
#pragma once

#include "engine.h"
#include "http.h"

/* The top-level request handler given to the HTTP server. */
void api_handle(void *engine, vr_http_req *req, vr_http_resp *resp);
