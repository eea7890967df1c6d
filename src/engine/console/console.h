/* Browser and CLI consoles (docs/rest-api.md "Consoles"): one-time
 * tickets and the engine's WebSocket proxy to the VM's host. */
#pragma once

#include <stdbool.h>

#include "engine.h"
#include "http.h"
#include "kind.h"

/* POST /api/vms/ID/ticket: a one-time ticket for the VM's serial or
 * graphics console (the graphics one also becomes the VNC password on the
 * VM's host). A vr_action run function. */
int vr_console_ticket(vr_call *c, json_t *vm, json_t *body, json_t **reply, vr_error *err);

/* The action's body members. */
extern const vr_field vr_console_ticket_params[];
extern const size_t vr_console_ticket_nparams;

/* GET /api/vms/ID/console?ticket=T: the WebSocket proxy. Returns false
 * when the path is not a console's (nothing answered). Called before the
 * bearer token check: the ticket is the credential (a bearer token, when
 * given, must be the ticket's user's). */
bool vr_console_ws_handle(vr_engine *e, vr_http_req *req, vr_http_resp *resp);

/* Cut every open console connection and wait up to timeout_ms for their
 * relays to end; before the HTTP server stops. */
void vr_console_ws_stop_all(int timeout_ms);
