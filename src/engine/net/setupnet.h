/* Host network setup (docs/networks.md): POST /api/hosts/ID/setupnetworks
 * checked by the engine's rules, then a job calls Host.setupNetworks with
 * the networks' definitions from the database, confirms the change over
 * a new connection (Host.confirmNetworks) and records the host's
 * attachments only once the host confirmed. */
#pragma once

#include <stdbool.h>

#include "kind.h"

/* The action's body members and its run (a job: reply {"job_id"}). */
#define VR_SETUPNET_NPARAMS 5
extern const vr_field vr_setupnet_params[VR_SETUPNET_NPARAMS];
int vr_setupnet_action(vr_call *c, json_t *host, json_t *body, json_t **reply, vr_error *err);

/* After an engine restart: an unfinished setup job is failed (the agent
 * rolls back a change nobody confirmed by itself); false when not one. */
bool vr_setupnet_resume(vr_engine *e, json_t *job);
