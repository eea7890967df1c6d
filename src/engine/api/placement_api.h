/* GET /api/vms/ID/placement: the scheduler's dry run for a VM - each host
 * of its cluster with the filter that removed it or its weights, and the
 * host it would choose now, booking nothing. Authorized like starting the
 * VM (docs/rest-api.md "Placement dry run", docs/availability.md). */
#pragma once

#include <stdbool.h>

#include "engine.h"
#include "http.h"

/* True when the authenticated request is for such a path (resp is filled:
 * the dry run or a fault); false for every other path. */
bool vr_placement_api_handle(vr_engine *e, vr_http_req *req, vr_http_resp *resp);

/* Whether path is such a path (for the request metrics' routes). */
bool vr_placement_api_path(const char *path);
