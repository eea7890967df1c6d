/* GET /api/users/me: the caller's own identity - their user, the groups
 * they are a member of (internal ones and those their directory named at
 * their last login), the permissions they hold directly or through those
 * groups, and where they may create VMs and disks (docs/rest-api.md
 * "Users, groups, roles and permissions", docs/permissions.md "Who am I").
 * Every authenticated user may read their own; nothing else is shown. */
#pragma once

#include <stdbool.h>

#include "engine.h"
#include "http.h"

/* True when the authenticated request is for /api/users/me (resp is
 * filled: the identity or a fault); false for every other path. */
bool vr_me_handle(vr_engine *e, vr_http_req *req, vr_http_resp *resp);
