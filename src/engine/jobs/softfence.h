/* Soft fencing (docs/fencing.md "Soft fencing"; RHV Technical Reference
 * ch. 4 restarts VDSM over SSH): a non-responsive host whose SSH access
 * allows it has its agent restarted with `systemctl restart
 * vireo-agent.service`, logged in as root with the engine's key; the host
 * is hard-fenced only when its agent still does not answer after that. */
#pragma once

#include "engine.h"

/* Whether host_id's SSH access has soft_fencing on. */
bool vr_soft_fence_enabled(vr_engine *e, const char *host_id);

/* Restart the agent of host_id over SSH and wait for it to answer
 * (Host.ping), on the caller's thread, with an event for each step. 0: it
 * answers again (detail says so); -1 with err: not possible (no SSH, the
 * key refused, the host key changed) or it still does not answer. A host
 * key seen for the first time is pinned in the host's ssh member. */
int vr_soft_fence_run(vr_engine *e, const char *host_id, const char *user, char *detail, size_t len, vr_error *err);
