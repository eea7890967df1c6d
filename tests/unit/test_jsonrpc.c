/* The JSON-RPC reply path always answers: error messages that are not
 * valid UTF-8, results that cannot be encoded and oversized texts still
 * give a well-formed reply for the request's id. */
#include <stdlib.h>

#include "check.h"
#include "jsonrpc.h"
#include "utf8.h"

/* Dump a reply as the server sends it and parse it back like a client. */
static json_t *round_trip(json_t *reply)
{
    char *text = vr_json_dump(reply);
    json_decref(reply);
    if (!text)
        return NULL;
    CHECK(vr_utf8_valid(text, strlen(text)));
    json_t *back = json_loads(text, 0, NULL);
    free(text);
    return back;
}

static int code_of(json_t *msg)
{
    return (int)json_integer_value(json_object_get(json_object_get(msg, "error"), "code"));
}

static const char *message_of(json_t *msg)
{
    return json_string_value(json_object_get(json_object_get(msg, "error"), "message"));
}

int main(void)
{
    json_t *id = json_integer(7), *back;
    vr_error err;

    /* A message written around vr_error_set, with a cut character. */
    err.code = VR_ERR_LIBVIRT;
    snprintf(err.message, sizeof(err.message), "cannot start VM: bad path '/a\xc3");
    back = round_trip(vr_rpc_error(id, &err));
    CHECK(back && code_of(back) == VR_ERR_LIBVIRT);
    CHECK_STR_CONTAINS(message_of(back), "bad path '/a" VR_UTF8_REPLACEMENT);
    CHECK(json_integer_value(json_object_get(back, "id")) == 7);
    json_decref(back);

    /* A full buffer without a terminating NUL. */
    memset(err.message, 'x', sizeof(err.message));
    back = round_trip(vr_rpc_error(id, &err));
    CHECK(back && strlen(message_of(back)) < sizeof(err.message));
    json_decref(back);

    /* Through vr_error_set: a long non-ASCII text keeps its reason. */
    char path[1000] = "/";
    for (int i = 0; i < 300; i++)
        strcat(path, "\xe2\x82\xac");
    vr_error_set(&err, VR_ERR_LIBVIRT, "Cannot access storage file '%s': No such file or directory",
                 path);
    back = round_trip(vr_rpc_error(id, &err));
    CHECK(back && code_of(back) == VR_ERR_LIBVIRT);
    CHECK_STR_CONTAINS(message_of(back), "No such file or directory");
    json_decref(back);

    /* A result holding a string that skipped jansson's check cannot be
     * dumped: the caller gets an internal error for its id instead. */
    json_t *bad = json_pack("{s:o}", "path", json_stringn_nocheck("\xff", 1));
    back = round_trip(vr_rpc_result(id, bad));
    CHECK(back && code_of(back) == VR_ERR_INTERNAL);
    CHECK(json_integer_value(json_object_get(back, "id")) == 7);
    json_decref(back);
    /* Same with a string id. */
    json_t *sid = json_string("req-1");
    bad = json_pack("{s:o}", "path", json_stringn_nocheck("\xc3", 1));
    back = round_trip(vr_rpc_result(sid, bad));
    CHECK(back && code_of(back) == VR_ERR_INTERNAL);
    CHECK(back && !strcmp(json_string_value(json_object_get(back, "id")) ?: "", "req-1"));
    json_decref(back);
    json_decref(sid);
    /* A notification that cannot be encoded is not turned into a reply. */
    json_t *note = vr_rpc_notification("VM.event", json_pack("{s:o}", "x", json_stringn_nocheck("\xff", 1)));
    char *text = vr_json_dump(note);
    CHECK(text == NULL);
    free(text);
    json_decref(note);

    /* Request errors that quote client text: a 600-byte non-ASCII member
     * name gives a valid, bounded message. */
    char req[2048] = "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"x\",\"";
    for (int i = 0; i < 300; i++)
        strcat(req, "\xc3\xa9");
    strcat(req, "\":1}");
    vr_rpc_request r;
    json_t *rid = NULL;
    CHECK(vr_rpc_parse_request(req, strlen(req), &r, &rid, &err) == -1);
    CHECK(err.code == VR_ERR_INVALID_REQUEST && vr_utf8_valid(err.message, strlen(err.message)));
    back = round_trip(vr_rpc_error(rid, &err));
    CHECK(back && json_integer_value(json_object_get(back, "id")) == 3);
    json_decref(back);
    json_decref(rid);
    /* Malformed JSON whose error text quotes the raw (invalid) bytes. */
    rid = NULL;
    CHECK(vr_rpc_parse_request("{\"a\":\xff\xfe}", 9, &r, &rid, &err) == -1);
    CHECK(err.code == VR_ERR_PARSE && vr_utf8_valid(err.message, strlen(err.message)));
    back = round_trip(vr_rpc_error(rid, &err));
    CHECK(back != NULL);
    json_decref(back);
    json_decref(rid);

    json_decref(id);
    return CHECK_DONE();
}
