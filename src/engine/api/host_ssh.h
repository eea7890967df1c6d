/* A host's SSH access for soft fencing (docs/fencing.md "Soft fencing"):
 * {"port", "fingerprint", "soft_fencing"}; the engine logs in as root with
 * its own key (deploy/sshkey.h), never a password. */
#pragma once

#include "kind.h"

/* Check and normalize body.ssh: members left out keep their stored value
 * (host_id NULL at create) or take the default {22, "", false}. */
int vr_host_ssh_check(vr_call *c, json_t *b, const char *host_id, vr_error *err);

/* A host row's ssh member as stored, or the default when it has none: a
 * new reference. */
json_t *vr_host_ssh_of(json_t *stored);

/* Pin fingerprint, the SSH host key seen at the first contact with a host
 * (a deploy, soft fencing or a clean), unless one is pinned already (an
 * administrator's, or one a job pinned meanwhile); an event by user says
 * so. Later logins are checked against the pin (deploy/sshconn.h). */
void vr_host_ssh_pin(vr_engine *e, const char *host_id, const char *fingerprint, const char *user);
