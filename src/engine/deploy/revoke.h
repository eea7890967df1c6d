/* Certificate revocation (docs/pki.md "Revocation"): the certificates the
 * engine signed for hosts that were removed or got a new one are revoked;
 * the engine refuses them at every TLS handshake with an agent, and
 * publishes them as a CRL signed by its CA at GET /pki/crl.pem. */
#pragma once

#include "engine.h"
#include "rpcclient.h"

/* Record serial (lowercase hex, as certsign.h makes it) of subject as
 * revoked for reason; revoking it again changes nothing. */
int vr_cert_revoke(vr_engine *e, const char *serial, const char *subject, const char *reason, vr_error *err);

/* Whether serial is revoked (a vr_tls_revoked_fn; arg is the engine). A
 * database that cannot answer refuses nothing: the chain was verified. */
bool vr_cert_is_revoked(void *arg, const char *serial);

/* The CRL of every revoked certificate, signed by the engine's CA, valid
 * for 7 days from now (fetch it again before): *pem (free()). */
int vr_crl_pem(vr_engine *e, char **pem, vr_error *err);

/* Send the CRL to a host's agent (Host.setRevocationList) when revocations
 * happened since *sent (the engine's crl_generation it last sent; 0 at
 * first): a host monitor calls it after each poll. */
void vr_crl_send(vr_engine *e, vr_rpc_client *c, const char *host_name, int *sent);
