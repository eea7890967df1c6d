/* The load balancer (docs/availability.md "Scheduling policies and load
 * balancing"; RHV TR ch. 5.2, 5.10): a thread that every
 * --balance-period-s (default 60) looks at each cluster whose scheduling
 * policy is not none and migrates at most one VM of it per round, the VM
 * with the lowest CPU first, with an event explaining the decision. */
#pragma once

#include "engine.h"

/* Start the balancer thread (a registered engine thread; ends with
 * e->stopping). Does nothing when e->balance_period_s is 0. */
int vr_balancer_start(vr_engine *e, vr_error *err);
