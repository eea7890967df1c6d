/* JSON-RPC 2.0 message helpers (requests, responses, notifications). */
#pragma once

#include <jansson.h>

#include "error.h"

/* A parsed request. `root` owns everything; id/params borrow from it. */
typedef struct vr_rpc_request {
    json_t *root;
    const char *method;
    json_t *params; /* object; an empty object when absent */
    json_t *id;     /* NULL for a notification */
} vr_rpc_request;

/* Parse and validate one request frame. On failure err is set. Either way,
 * if an id could be recovered, *id_out holds a new reference to it (else
 * NULL), which the caller releases: a refused request is still answered
 * under its id. */
int vr_rpc_parse_request(const char *buf, size_t len, vr_rpc_request *req,
                         json_t **id_out, vr_error *err);
void vr_rpc_request_clear(vr_rpc_request *req);

/* Build a response (new reference). `result` is stolen; `id` is borrowed.
 * If it cannot be built, the reply is an internal error for the same id:
 * a request always gets an answer (NULL only when out of memory). */
json_t *vr_rpc_result(json_t *id, json_t *result);
/* Build an error response (new reference); id may be NULL (→ null). The
 * message is sanitized to valid UTF-8 first; same fallback as above. */
json_t *vr_rpc_error(json_t *id, const vr_error *err);
/* Build a notification (new reference); `params` is stolen. */
json_t *vr_rpc_notification(const char *method, json_t *params);
/* Build a request (new reference); `params` is stolen, may be NULL. */
json_t *vr_rpc_new_request(const char *method, json_t *params, long long id);

/* Serialize compactly; caller frees. A reply (a message with an id and a
 * result or error) that cannot be serialized becomes an internal error
 * reply for the same id, so its caller is still answered. NULL on other
 * failures (out of memory, a notification that cannot be encoded). */
char *vr_json_dump(const json_t *msg);
