/* Statistics history over the API (see history.h). */
#include "history.h"

#include <string.h>

#include "api.h"
#include "devspec.h"
#include "dispatch.h"
#include "fault.h"
#include "kind.h"
#include "statshistory.h"

#define ID_MAX 65
static const char post[] = "/statistics/history";

/* "/api/hosts/<id>/statistics/history" -> the kind and id. */
static const vr_kind *parse(const char *path, char id[ID_MAX])
{
    static const struct {
        const char *pre;
        const vr_kind *k;
    } kinds[] = {{"/api/hosts/", &vr_kind_hosts}, {"/api/vms/", &vr_kind_vms}};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (vr_api_path_id(path, kinds[i].pre, post, id, ID_MAX))
            return kinds[i].k;
    return NULL;
}

bool vr_history_path(const char *path)
{
    char id[ID_MAX];
    return parse(path, id) != NULL;
}

bool vr_history_handle(vr_engine *e, vr_http_req *req, vr_http_resp *resp)
{
    char id[ID_MAX];
    const vr_kind *k = parse(req->path, id);
    if (!k)
        return false;
    if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
        vr_http_fault(resp, 405, "Method Not Allowed", "use GET for a statistics history");
        return true;
    }
    vr_error err = {0};
    json_t *row = NULL;
    if (vr_valid_uuid(id))
        row = vr_kind_get(e, k, id, &err);
    else
        vr_error_set(&err, VR_ERR_NOT_FOUND, "no %s with id '%.64s'", k->title, id);
    if (row && vr_authorize_user(e, req->user, k, row, "get", &err) == 0) {
        resp->status = 200;
        resp->body = vr_statshist_get(e->statshist, json_string_value(json_object_get(row, "id")), vr_now_ms());
    } else {
        vr_fault(resp, &err);
    }
    json_decref(row);
    return true;
}
