/* The engine's SSH identity for host deploy (issue 13): an Ed25519 key
 * made at the first start in the state directory (private key 0600,
 * OpenSSH format), its public half served to administrators at
 * GET /pki/engine-ssh.pub to put into a host's root authorized_keys, as
 * oVirt serves its engine key. */
#pragma once

#include "error.h"

#define VR_SSHKEY_FILE "engine_ssh_ed25519"

/* Load STATE_DIR/engine_ssh_ed25519, or make it (and its .pub) when it
 * does not exist. *pubkey: a new "ssh-ed25519 BASE64 vireo-engine@HOST"
 * line (free()). A key file that cannot be read or has looser permissions
 * than 0600 is an error, never replaced. */
int vr_sshkey_ensure(const char *state_dir, char **pubkey, vr_error *err);
