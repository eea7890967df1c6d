#include "jsonrpc.h"

#include <stdbool.h>
#include <string.h>

#include "utf8.h"

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

/* The reply of last resort: constant text, so it cannot fail to encode. */
static json_t *internal_error(json_t *id)
{
    static const char msg[] = "internal error: the reply could not be encoded";
    json_t *r = json_pack("{s:s, s:{s:i, s:s}, s:O}", "jsonrpc", "2.0", "error", "code",
                          VR_ERR_INTERNAL, "message", msg, "id", id ? id : json_null());
    if (!r) /* an id that cannot be encoded: JSON-RPC's null id */
        r = json_pack("{s:s, s:{s:i, s:s}, s:n}", "jsonrpc", "2.0", "error", "code",
                      VR_ERR_INTERNAL, "message", msg, "id");
    return r;
}

json_t *vr_rpc_result(json_t *id, json_t *result)
{
    json_t *r = json_pack("{s:s, s:o, s:O}", "jsonrpc", "2.0", "result",
                          result ? result : json_null(), "id", id ? id : json_null());
    return r ? r : internal_error(id);
}

json_t *vr_rpc_error(json_t *id, const vr_error *err)
{
    /* vr_error_set keeps messages valid UTF-8, but a message written any
     * other way must not cost the caller its reply either. */
    char msg[sizeof(err->message)];
    vr_utf8_sanitize(msg, sizeof(msg), err->message, strnlen(err->message, sizeof(err->message)));
    json_t *r = json_pack("{s:s, s:{s:i, s:s}, s:O}", "jsonrpc", "2.0", "error", "code",
                          err->code ? err->code : VR_ERR_INTERNAL, "message",
                          msg[0] ? msg : "unknown error", "id", id ? id : json_null());
    /* The message's id and arguments too, so the engine can give it in its
     * reader's language (vr_error_relay checks it against the message). */
    const char *cap = vr_error_captured(err);
    json_t *m = cap && !strcmp(msg, err->message) ? json_loads(cap, 0, NULL) : NULL;
    if (r && m)
        json_object_set_new(json_object_get(r, "error"), "data", json_pack("{s:o}", "i18n", m));
    else
        json_decref(m);
    return r ? r : internal_error(id);
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
    char *text = json_dumps(msg, JSON_COMPACT);
    json_t *id = json_object_get(msg, "id");
    bool reply = id && (json_object_get(msg, "result") || json_object_get(msg, "error"));
    if (text || !reply)
        return text;
    /* A reply that cannot be encoded (a string made without jansson's
     * UTF-8 check, a nesting too deep) still answers its caller, who would
     * otherwise wait for its timeout. */
    json_t *fallback = internal_error(id);
    text = json_dumps(fallback, JSON_COMPACT);
    json_decref(fallback);
    if (!text) {
        fallback = internal_error(NULL);
        text = json_dumps(fallback, JSON_COMPACT);
        json_decref(fallback);
    }
    return text;
}
