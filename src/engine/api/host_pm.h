/* A host's power management (docs/fencing.md): its fence agents as the
 * API takes and shows them (passwords are write-only), and the fence
 * action. */
#pragma once

#include "kind.h"

/* Check and normalize body.power_management (defaults filled). A fence
 * agent given without a password keeps the stored one of the host's agent
 * with the same type, address and port (host_id NULL at create). */
int vr_host_pm_check(vr_call *c, json_t *b, const char *host_id, vr_error *err);

/* Remove every password from a rendered host row. */
void vr_host_pm_present(vr_engine *e, json_t *row);

/* POST /api/hosts/ID/fence {"fence_type": status|start|stop|restart}: a job. */
int vr_host_fence_action(vr_call *c, json_t *row, json_t *body, json_t **reply, vr_error *err);
extern const vr_field vr_host_fence_params[];
#define VR_HOST_FENCE_NPARAMS 1
