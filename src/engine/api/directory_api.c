/* Directory search through the API (see directory_api.h). The search
 * itself, with its escaping and deadlines, is perm/directory.c's. */
#include "directory_api.h"

#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "directory.h"
#include "fault.h"
#include "kind.h"
#include "dispatch.h"

#define ID_MAX 65
#define MAX_DEFAULT 50
#define MAX_CAP 500

bool vr_directory_api_handle(vr_engine *e, vr_http_req *req, vr_http_resp *resp)
{
    char id[ID_MAX];
    bool groups = vr_api_path_id(req->path, "/api/domains/", "/groups", id, ID_MAX);
    if (!groups && !vr_api_path_id(req->path, "/api/domains/", "/users", id, ID_MAX))
        return false;
    if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
        vr_http_fault(resp, 405, "Method Not Allowed", "use GET to search a directory");
        return true;
    }
    vr_error err = {0};
    json_t *dom = NULL, *out = NULL;
    const char *text = vr_http_arg(req, "search") ?: "", *max_s = vr_http_arg(req, "max");
    char *end = NULL;
    long max = max_s ? strtol(max_s, &end, 10) : MAX_DEFAULT;
    /* Whoever may add users may search for them; before anything about
     * the profile is told. */
    if (vr_authorize_user(e, req->user, &vr_kind_users, NULL, "search", &err) < 0)
        goto out;
    if (max_s && (!*max_s || *end || max < 1 || max > MAX_CAP)) {
        vr_error_set(&err, VR_ERR_INVALID_PARAMS, "max is a whole number from 1 to %d", MAX_CAP);
        goto out;
    }
    if ((dom = vr_directory_profile(e, id, &err)))
        vr_directory_search(e, dom, text, groups, (int)max, &out, &err);
out:
    if (out) {
        resp->status = 200;
        resp->body = out;
    } else {
        vr_fault(resp, &err);
    }
    json_decref(dom);
    return true;
}
