/* The top of the REST API: the public endpoints (token, OpenAPI
 * document), authentication, then the kinds' dispatcher. */
#include "api.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "console.h"
#include "export_api.h"
#include "history.h"
#include "placement_api.h"
#include "directory_api.h"
#include "kind.h"
#include "log.h"
#include "me.h"
#include "metrics.h"
#include "portal.h"
#include "revoke.h"
#include "transfer.h"

/* Built once from the tables; served as is (a new reference each time). */
static json_t *openapi_doc;
static pthread_once_t openapi_once = PTHREAD_ONCE_INIT;

static void build_openapi(void)
{
    openapi_doc = vr_openapi_build();
}

void api_handle(void *engine, vr_http_req *req, vr_http_resp *resp)
{
    vr_engine *e = engine;
    vr_db_thread_prefers_readers(true); /* an API thread: reads must not wait on monitors */
    if (!strcmp(req->path, "/api/sso/token")) {
        if (!strcmp(req->method, "POST"))
            vr_auth_token(e, req, resp);
        else if (!strcmp(req->method, "DELETE"))
            vr_auth_logout(e, req, resp);
        else
            vr_http_fault(resp, 405, "Method Not Allowed", "use POST to log in, DELETE to log out");
        return;
    }
    if (!strcmp(req->path, "/api/openapi.json")) {
        /* The API's own description: public, like the token endpoint. */
        pthread_once(&openapi_once, build_openapi);
        if (openapi_doc) {
            resp->status = 200;
            resp->body = json_incref(openapi_doc);
        } else {
            vr_http_fault(resp, 500, "Internal Server Error", "the API description could not be built");
        }
        return;
    }
    if (!strcmp(req->path, "/pki/engine-ssh.pub")) {
        /* Public, like oVirt's engine key: what an administrator puts into
         * a host's root authorized_keys before adding it by key. */
        if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
            vr_http_fault(resp, 405, "Method Not Allowed", "use GET for the engine's SSH key");
        } else if (!e->ssh_pubkey || !(resp->text = strdup(e->ssh_pubkey))) {
            vr_http_fault(resp, 500, "Internal Server Error", "the engine has no SSH key");
        } else {
            resp->status = 200;
            resp->content_type = "text/plain; charset=utf-8";
        }
        return;
    }
    if (!strcmp(req->path, "/pki/crl.pem")) {
        /* Public, like a CA's CRL distribution point: who may no longer
         * talk to the fleet (docs/pki.md "Revocation"). */
        vr_error err = {0};
        if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
            vr_http_fault(resp, 405, "Method Not Allowed", "use GET for the CRL");
        } else if (vr_crl_pem(e, &resp->text, &err) < 0) {
            VR_WARN("%s", err.message);
            vr_http_fault(resp, 503, "Service Unavailable", "the engine cannot sign a CRL (its CA key: --ca-key)");
        } else {
            resp->status = 200;
            resp->content_type = "application/x-pem-file";
        }
        return;
    }
    if (!strcmp(req->path, "/metrics")) {
        /* Prometheus' conventional path, outside /api; the same bearer
         * token as the API (a scraper's bearer_token). */
        if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
            vr_http_fault(resp, 405, "Method Not Allowed", "use GET for the metrics");
            return;
        }
        if (vr_auth_check(e, req, resp) < 0)
            return;
        vr_metrics_serve(e, req, resp);
        return;
    }
    if (vr_portal_handle(e->portal_dir, req, resp)) /* the browser portals: public static files */
        return;
    if (strncmp(req->path, "/api", 4) || (req->path[4] && req->path[4] != '/')) {
        vr_http_fault(resp, 404, "Not Found", "no such resource (the API lives under /api)");
        return;
    }
    if (vr_console_ws_handle(e, req, resp)) /* a WebSocket: the ticket is its credential */
        return;
    if (vr_auth_check(e, req, resp) < 0)
        return;
    if (vr_me_handle(e, req, resp)) /* the caller's own identity: no kind's authorization */
        return;
    if (vr_transfer_handle(e, req, resp)) /* disk content: not a kind's JSON */
        return;
    if (vr_history_handle(e, req, resp)) /* statistics history: from memory, no store */
        return;
    if (vr_placement_api_handle(e, req, resp)) /* the scheduler's dry run: no store */
        return;
    if (vr_directory_api_handle(e, req, resp)) /* a directory search: LDAP, no store */
        return;
    if (vr_export_api_handle(e, req, resp)) /* export domains: read from storage */
        return;
    vr_dispatch(e, req, resp);
}

bool vr_api_path_id(const char *path, const char *pre, const char *post, char *id, size_t idlen)
{
    size_t pl = strlen(pre);
    if (strncmp(path, pre, pl))
        return false;
    const char *seg = path + pl, *slash = strchr(seg, '/');
    size_t n = slash ? (size_t)(slash - seg) : 0;
    if (!n || n >= idlen || strcmp(slash, post))
        return false;
    memcpy(id, seg, n);
    id[n] = '\0';
    return true;
}
