/* GET /api/domains/ID/users?search=TEXT and GET /api/domains/ID/groups
 * ?search=TEXT: search a directory profile's LDAP directory for users and
 * groups to grant permissions to before their first login (docs/rest-api.md
 * "Directory search"). Authorized like POST /api/users (manipulate_users
 * on the system). */
#pragma once

#include <stdbool.h>

#include "engine.h"
#include "http.h"

/* True when the authenticated request is for such a path (resp is filled:
 * the search's answer or a fault); false for every other path. */
bool vr_directory_api_handle(vr_engine *e, vr_http_req *req, vr_http_resp *resp);
