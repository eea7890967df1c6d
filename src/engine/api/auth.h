/* Users, password hashes and bearer tokens (OAuth2 password grant). */
#pragma once

#include "engine.h"
#include "http.h"

/* Ensure admin@internal exists; its password comes from the file (first
 * line) when the user is created. Never stored in clear (yescrypt). */
int vr_auth_bootstrap(vr_engine *e, const char *password_file, vr_error *err);

/* Hash a password as admin@internal's is (yescrypt) into out. */
int vr_auth_hash(const char *pw, char *out, size_t len, vr_error *err);

/* POST /api/sso/token. */
void vr_auth_token(vr_engine *e, vr_http_req *req, vr_http_resp *resp);
/* DELETE /api/sso/token. */
void vr_auth_logout(vr_engine *e, vr_http_req *req, vr_http_resp *resp);

/* The single authorization gate: verifies the bearer token and fills
 * req->user. Returns 0, or -1 with a 401 in resp. Roles plug in here. */
int vr_auth_check(vr_engine *e, vr_http_req *req, vr_http_resp *resp);
