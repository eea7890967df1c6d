/* The revocation list this agent checks its peers against (docs/pki.md
 * "Revocation"): loaded from --crl FILE at start, replaced by the engine
 * with Host.setRevocationList (only a newer CRL signed by the CA), kept in
 * that file for the next start. */
#pragma once

#include <stdbool.h>

#include "agent.h"

/* Remember the CA and the CRL file (NULL: none) and load the file if it
 * exists; a file that does not parse or verify is an error. */
int vr_agent_crl_init(const char *ca_file, const char *crl_file, vr_error *err);

/* Whether a peer's certificate serial is revoked (a vr_tls_revoked_fn). */
bool vr_agent_crl_revoked(void *arg, const char *serial_hex);

extern const vr_verb vr_host_crl_verbs[];
