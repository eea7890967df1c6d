/* Automatic fencing of a non-responsive host (docs/fencing.md
 * "Automatic fencing", "Fencing policy"). */
#pragma once

#include <stdbool.h>

#include "engine.h"

/* Host host_id (named name) is non-responsive past the grace: fence it
 * (soft first when its SSH access allows, then with power management a
 * restart through a proxy), or say with an event which rule of its
 * cluster's fencing policy skips it. false: not now and not decided (no
 * power management nor soft fencing, powered off on purpose, fenced less
 * than 120 s ago), ask again at the next poll; true: decided, once per
 * outage. */
bool vr_host_auto_fence(vr_engine *e, const char *host_id, const char *name);
