/* What Host.getNetworks reports: the host's NICs as the kernel sees them
 * and the agent's networks with their live addresses. */
#pragma once

#include <jansson.h>

#include "error.h"

/* The networks of a configuration as reported (new object): each gets
 * "bridge" and its bridge's live "addresses". */
json_t *vr_net_view(json_t *cfg);

/* Physical NICs: not lo, bridges, taps or the agent's veths (new array). */
int vr_net_nics(json_t **out, vr_error *err);
