/* Certificate revocation lists (docs/pki.md "Revocation"), as agents
 * check them: a CRL is taken only when its CA signed it. */
#pragma once

#include <jansson.h>

#include "error.h"

/* Parse crl_pem, verify its signature against the CA certificate(s) in
 * ca_file; *serials: a new object whose keys are the revoked serials
 * (lowercase hex), *this_update: when it was made. VR_ERR_INVALID_PARAMS
 * for a CRL that does not parse or verify. */
int vr_crl_parse(const char *crl_pem, const char *ca_file, json_t **serials, long long *this_update,
                 vr_error *err);
