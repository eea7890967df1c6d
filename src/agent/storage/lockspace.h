/* Sanlock lockspaces of storage domains: joining one (with the host id the
 * engine assigned for the data center) is what lets this host take leases
 * in that domain. The sanlock daemon is the record: a restarted agent finds
 * the lockspaces its predecessor joined. Joining takes sanlock ~20 s, so it
 * is asynchronous; Lockspace.status tells when it is done. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "agent.h"
#include "error.h"

/* Join sd_uuid's lockspace as host_id (1..250) with io_timeout seconds
 * (0 = sanlock's default). *state gets "joining" or "joined" (static).
 * Joined already with that host id: fine; with another: VR_ERR_BAD_STATE. */
int vr_ls_join(const vr_agent *a, const char *sd_uuid, int host_id, int io_timeout,
               const char **state, vr_error *err);

/* Leave sd_uuid's lockspace (waits for sanlock to finish). Not joined:
 * fine. Refused while a lease of this process lives in it. */
int vr_ls_leave(const char *sd_uuid, vr_error *err);

/* State of sd_uuid's lockspace on this host: "joined", "joining",
 * "leaving" or "free"; *host_id (-1 when free); *failed true when a join
 * asked of this agent is gone without having completed. */
int vr_ls_status(const char *sd_uuid, const char **state, int *host_id, bool *failed,
                 vr_error *err);

/* Add to each domain object of `domains` (an array of objects with a
 * "domain" member, as Storage.status reports them) this host's lockspace
 * state there: "lockspace" ("joined", "joining", "leaving", "free") and
 * "host_id" (-1 when free). One question to sanlock for all of them;
 * nothing is added when sanlock cannot be asked. */
void vr_ls_annotate(json_t *domains);

/* True if a lockspace whose ids file lies below path (a mount) is joined
 * or being joined; its name goes to which (size >= 48). */
bool vr_ls_any_under(const char *path, char *which, size_t size);

/* What this host's sanlock thinks of host id `id` in lockspace domain:
 * "live", "fail" (stopped renewing), "dead" (past sanlock's host-dead
 * time), "free" (it left the lockspace), "stale" (it joined again in a
 * generation newer than gen, when gen is not 0) or "unknown" (not joined
 * here, or never seen). */
const char *vr_ls_host_state(const char *domain, long long id, unsigned long long gen);
