/* Blocking JSON-RPC client over mutual TLS, used by the CLI and benchmarks
 * (and later by the engine). One call in flight at a time. */
#pragma once

#include <jansson.h>

#include "error.h"
#include "tls.h"

typedef struct vr_rpc_client vr_rpc_client;

/* Connect to an agent. creds are borrowed and must outlive the client. */
int vr_rpc_client_new(vr_tls_creds *creds, const char *host, int port,
                      vr_rpc_client **out, vr_error *err);
void vr_rpc_client_free(vr_rpc_client *c);

/* Free the client but keep its connection, returned to the caller (a call
 * such as VM.attachConsole turned it into a byte stream; bytes already
 * received stay in the TLS session's buffer). */
vr_tls_conn *vr_rpc_client_release(vr_rpc_client *c);

/* Call method with params (stolen, may be NULL). On success *result is a
 * new reference. A JSON-RPC error reply becomes err with the remote code and
 * message. Notifications arriving meanwhile are queued for
 * vr_rpc_wait_notification. */
int vr_rpc_call(vr_rpc_client *c, const char *method, json_t *params,
                json_t **result, vr_error *err);

/* Wait up to timeout_ms (< 0: forever) for a notification, queued during
 * earlier calls or arriving now. Returns 0 with *msg (new reference), 1 on
 * timeout, -1 on a broken connection. */
int vr_rpc_wait_notification(vr_rpc_client *c, int timeout_ms, json_t **msg, vr_error *err);

/* Give up on a reply (or a stalled send) after this many seconds; 0 (the
 * default) waits forever. */
void vr_rpc_client_set_timeout(vr_rpc_client *c, int seconds);

