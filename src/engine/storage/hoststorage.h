/* A host's side of storage, driven by its monitor (monitor/hostmon.c)
 * once per poll while the host is up:
 *
 *   - connect it to every domain of its data center that is attached
 *     (Storage.connect is idempotent on the agent; a domain the host does
 *     not report is connected again, inactive ones only once per
 *     autorecovery period),
 *   - give it its host id in the data center (store_spm.h) and join each
 *     domain's sanlock lockspace with it (Lockspace.join, asynchronous on
 *     the agent: ~20 s),
 *   - record what it reports of each domain (Storage.status: valid, read
 *     delay, space) in host_domain_status,
 *   - leave lockspaces of domains no longer attached, and let go of
 *     domains in maintenance (lockspace left, storage disconnected),
 *   - and say when the host has been blind to an active domain that other
 *     hosts see for longer than the grace: it must go NonOperational.
 *
 * vr_host_storage is the monitor's memory of what it joined; it is lost
 * with the agent connection (the agent may have restarted). */
#pragma once

#include <stddef.h>
#include <jansson.h>

#include "engine.h"
#include "rpcclient.h"

typedef struct vr_host_storage vr_host_storage;

vr_host_storage *vr_host_storage_new(void);
void vr_host_storage_free(vr_host_storage *hs);

/* Forget what was joined (a new agent connection). */
void vr_host_storage_reset(vr_host_storage *hs);

/* A host in maintenance lets go of its data center's storage: for every
 * attached domain it reports, it leaves the domain's lockspace and
 * disconnects the domain's storage. c: the monitor's connection, or NULL
 * for one-shot calls (the maintenance job; host then needs address, port,
 * name). With hs, done once until the next reset or serving round. 0 when
 * nothing is left, -1 with why (NULL: not wanted) otherwise. */
int vr_host_storage_leave(vr_engine *e, vr_rpc_client *c, json_t *host, vr_host_storage *hs, char *why,
                          size_t len);

/* One round for host (a hosts row) over connection c. Returns 0, or 1 with
 * why filled when the host cannot see an active domain (NonOperational). */
int vr_host_storage_poll(vr_engine *e, vr_rpc_client *c, json_t *host, vr_host_storage *hs,
                         char *why, size_t len);
