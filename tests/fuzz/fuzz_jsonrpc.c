/* JSON-RPC envelopes (src/common/jsonrpc.c) as the agent reads them from a
 * frame, and the reply path: whatever arrives, a request with an id gets
 * exactly one well-formed reply (valid UTF-8 JSON naming its id), also when
 * the reply quotes the client's own text. */
#include <string.h>

#include "fuzz.h"
#include "jsonrpc.h"

/* Dump as the server sends, parse as the client reads: must work. */
static void check_reply(json_t *reply, json_t *id)
{
    FUZZ_ASSERT(reply != NULL);
    char *text = vr_json_dump(reply);
    FUZZ_ASSERT(text != NULL);
    FUZZ_ASSERT(vr_utf8_valid(text, strlen(text)));
    json_t *back = json_loads(text, 0, NULL);
    FUZZ_ASSERT(back && json_is_object(back));
    FUZZ_ASSERT(json_object_get(back, "result") || json_object_get(back, "error"));
    if (id)
        FUZZ_ASSERT(json_equal(json_object_get(back, "id"), id));
    json_decref(back);
    free(text);
    json_decref(reply);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vr_rpc_request req;
    json_t *id = NULL;
    vr_error err = {0};
    if (vr_rpc_parse_request((const char *)data, size, &req, &id, &err) < 0) {
        FUZZ_ASSERT(err.code != 0);
        vr_fuzz_check_message(err.message, sizeof(err.message));
        check_reply(vr_rpc_error(id, &err), id);
        json_decref(id);
        return 0;
    }
    FUZZ_ASSERT(req.method && *req.method && json_is_object(req.params));
    FUZZ_ASSERT(id == req.id); /* the caller's own reference to the same id */
    json_decref(id);
    /* The server's answers to it: unknown method (quotes the name), a
     * verb's failure quoting a parameter, a result echoing the params. */
    vr_error_set(&err, VR_ERR_NO_METHOD, "unknown method '%s'", req.method);
    vr_fuzz_check_message(err.message, sizeof(err.message));
    check_reply(vr_rpc_error(req.id, &err), req.id);
    const char *key;
    json_t *v;
    json_object_foreach(req.params, key, v) {
        vr_error_set(&err, VR_ERR_INVALID_PARAMS, "params.%s: bad value '%s'", key,
                     json_is_string(v) ? json_string_value(v) : "?");
        vr_fuzz_check_message(err.message, sizeof(err.message));
        check_reply(vr_rpc_error(req.id, &err), req.id);
        break;
    }
    check_reply(vr_rpc_result(req.id, json_deep_copy(req.params)), req.id);
    json_t *note = vr_rpc_notification(req.method, json_deep_copy(req.params));
    char *text = vr_json_dump(note);
    FUZZ_ASSERT(text && vr_utf8_valid(text, strlen(text)));
    free(text);
    json_decref(note);
    vr_rpc_request_clear(&req);
    return 0;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned seed)
{
    return vr_fuzz_json_mutate(data, size, max_size, seed);
}
