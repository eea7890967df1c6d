#include "jsonrpc.h"

#include <string.h>

int vr_rpc_parse_request(const char *buf, size_t len, vr_rpc_request *req,
                         json_t **id_out, vr_error *err)
{
    memset(req, 0, sizeof(*req));
    *id_out = NULL;
    json_error_t jerr;
    /* REJECT_DUPLICATES: a key given twice is ambiguous, refuse it. */
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!root)
        return vr_error_set(err, VR_ERR_PARSE, "malformed JSON at line %d column %d: %s",
                            jerr.line, jerr.column, jerr.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return vr_error_set(err, VR_ERR_INVALID_REQUEST, "request must be a JSON object");
    }
    json_t *id = json_object_get(root, "id");
    if (id && (json_is_string(id) || json_is_integer(id) || json_is_null(id)))
        *id_out = json_incref(id);
    else if (id) {
        json_decref(root);
        return vr_error_set(err, VR_ERR_INVALID_REQUEST, "'id' must be a string, integer or null");
    }
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val) {
        if (strcmp(key, "jsonrpc") && strcmp(key, "method") && strcmp(key, "params") &&
            strcmp(key, "id")) {
            vr_error_set(err, VR_ERR_INVALID_REQUEST, "unknown request member '%s'", key);
            goto fail;
        }
    }
    json_t *ver = json_object_get(root, "jsonrpc");
    if (!json_is_string(ver) || strcmp(json_string_value(ver), "2.0") != 0) {
        vr_error_set(err, VR_ERR_INVALID_REQUEST, "'jsonrpc' must be \"2.0\"");
        goto fail;
    }
    json_t *method = json_object_get(root, "method");
    if (!json_is_string(method) || json_string_length(method) == 0) {
        vr_error_set(err, VR_ERR_INVALID_REQUEST, "'method' must be a non-empty string");
        goto fail;
    }
    json_t *params = json_object_get(root, "params");
    if (params && !json_is_object(params)) {
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "'params' must be an object (named parameters)");
        goto fail;
    }
    if (!params) {
        params = json_object();
        json_object_set_new(root, "params", params);
    }
    req->root = root;
    req->method = json_string_value(method);
    req->params = params;
    req->id = id;
    return 0;
fail:
    json_decref(root);
    return -1;
}

void vr_rpc_request_clear(vr_rpc_request *req)
{
    json_decref(req->root);
    memset(req, 0, sizeof(*req));
}

json_t *vr_rpc_result(json_t *id, json_t *result)
{
    return json_pack("{s:s, s:o, s:O}", "jsonrpc", "2.0", "result",
                     result ? result : json_null(), "id", id ? id : json_null());
}

json_t *vr_rpc_error(json_t *id, const vr_error *err)
{
    return json_pack("{s:s, s:{s:i, s:s}, s:O}", "jsonrpc", "2.0", "error", "code",
                     err->code ? err->code : VR_ERR_INTERNAL, "message",
                     err->message[0] ? err->message : "unknown error", "id",
                     id ? id : json_null());
}

json_t *vr_rpc_notification(const char *method, json_t *params)
{
    return json_pack("{s:s, s:s, s:o}", "jsonrpc", "2.0", "method", method, "params",
                     params ? params : json_object());
}

json_t *vr_rpc_new_request(const char *method, json_t *params, long long id)
{
    return json_pack("{s:s, s:s, s:o, s:I}", "jsonrpc", "2.0", "method", method,
                     "params", params ? params : json_object(), "id", (json_int_t)id);
}

char *vr_json_dump(const json_t *msg)
{
    return json_dumps(msg, JSON_COMPACT);
}
