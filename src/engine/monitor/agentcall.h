/* One-shot calls from the engine to a host's agent over mutual TLS. */
#pragma once

#include "engine.h"

/* Call verb on the agent at address:port. params is stolen. On success
 * *result is a new reference. Agent errors keep their code; transport
 * failures are VR_ERR_IO. */
int vr_agent_call(vr_engine *e, const char *address, int port, const char *verb, json_t *params,
                  json_t **result, vr_error *err);

/* The same, for a host row from the database (address, port, name). */
int vr_agent_call_host(vr_engine *e, json_t *host, const char *verb, json_t *params,
                       json_t **result, vr_error *err);
