/* GET /api/vms/ID/placement: the scheduler's dry run for one VM (see
 * placement_api.h). */
#include "placement_api.h"

#include <string.h>

#include "api.h"
#include "devspec.h"
#include "dispatch.h"
#include "fault.h"
#include "http.h"
#include "kind.h"
#include "scheduler.h"

#define ID_MAX 65

/* "/api/vms/<id>/placement" -> id; false for any other path. */
static bool parse(const char *path, char id[ID_MAX])
{
    return vr_api_path_id(path, "/api/vms/", "/placement", id, ID_MAX);
}

bool vr_placement_api_path(const char *path)
{
    char id[ID_MAX];
    return parse(path, id);
}

bool vr_placement_api_handle(vr_engine *e, vr_http_req *req, vr_http_resp *resp)
{
    char id[ID_MAX];
    if (!parse(req->path, id))
        return false;
    if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
        vr_http_fault(resp, 405, "Method Not Allowed", "use GET for a VM's placement dry run");
        return true;
    }
    vr_error err = {0};
    json_t *row = NULL, *vm = NULL;
    if (vr_valid_uuid(id))
        row = vr_kind_get(e, &vr_kind_vms, id, &err);
    else
        vr_error_set(&err, VR_ERR_NOT_FOUND, "no %s with id '%.64s'", vr_kind_vms.title, id);
    /* Whoever may start the VM may ask where it would start. The
     * scheduler reads the stored row (its spec names the networks). */
    if (row && vr_authorize_user(e, req->user, &vr_kind_vms, row, "start", &err) == 0)
        vm = vr_db_query_one(e->db, "SELECT id, name, status, host_id, cluster_id, memory_mib, vcpus, spec_json"
                             " FROM vms WHERE id = ?", DB_ARGS(DB_TEXT(id)), &err);
    json_t *out = vm ? vr_sched_dry_run(e, vm, vr_http_arg(req, "host"), &err) : NULL;
    if (out) {
        resp->status = 200;
        resp->body = out;
    } else {
        if (!err.code)
            vr_error_set(&err, VR_ERR_NOT_FOUND, "no %s with id '%.64s'", vr_kind_vms.title, id);
        vr_fault(resp, &err);
    }
    json_decref(vm);
    json_decref(row);
    return true;
}
