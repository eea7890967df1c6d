/* Host network setup (docs/networks.md): POST /api/hosts/ID/setupnetworks
 * checked by the engine's rules, then a job calls Host.setupNetworks with
 * the networks' definitions from the database, confirms the change over
 * a new connection (Host.confirmNetworks) and records the host's
 * attachments only once the host confirmed. */
#pragma once

#include <stdbool.h>

#include "kind.h"

/* The action's body members and its run (a job: reply {"job_id"}). */
#define VR_SETUPNET_NPARAMS 6
extern const vr_field vr_setupnet_params[VR_SETUPNET_NPARAMS];
int vr_setupnet_action(vr_call *c, json_t *host, json_t *body, json_t **reply, vr_error *err);

/* The whole request (the action's body with every member, labels
 * expanded by netlabel.h) checked against the database and the host's
 * report: the job's parameters {request, attach, removed, labels}, or NULL
 * with a 400/409 in err. host is a hosts row (id, name). */
json_t *vr_setupnet_plan(vr_engine *e, json_t *host, json_t *body, vr_error *err);

/* Send a plan to host (a row with id, name, address, port), confirm it
 * over a new connection, record it and read the host's report back;
 * events say what happened. job_id (NULL: none) gets the steps. */
int vr_setupnet_apply(vr_engine *e, const char *job_id, const char *user, json_t *host, json_t *params,
                      vr_error *err);

/* 409 when a setup job of host (a row with id, name) is pending or running. */
int vr_setupnet_busy(vr_engine *e, json_t *host, vr_error *err);

/* After an engine restart: an unfinished setup job is failed (the agent
 * rolls back a change nobody confirmed by itself); false when not one. */
bool vr_setupnet_resume(vr_engine *e, json_t *job);
