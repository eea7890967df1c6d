/* Host certificate enrollment (docs/pki.md): the engine's CA signs the
 * certificate request a host made for its own key, after checking that
 * the request is for that host and nothing else. */
#pragma once

#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "error.h"

/* The engine's CA, loaded to sign: its certificate and its key. */
typedef struct vr_ca {
    gnutls_x509_crt_t crt;
    gnutls_privkey_t key;
    gnutls_x509_privkey_t xkey;
} vr_ca;

/* Load ca_cert_file and ca_key_file (PEM) into *ca (vr_ca_free() it,
 * also after a failure); VR_ERR_INTERNAL naming the files. */
int vr_ca_load(vr_ca *ca, const char *ca_cert_file, const char *ca_key_file, vr_error *err);
void vr_ca_free(vr_ca *ca);

/* Sign csr_pem (PKCS#10, PEM) with the CA in ca_cert_file/ca_key_file
 * for the host `name` at `address` (an IP address or DNS name). The
 * request's signature must verify, its common name must be `name`, and
 * every subject alternative name in it must be the address or the name:
 * otherwise VR_ERR_INVALID_PARAMS naming what was asked for. The
 * certificate says what the engine decides - CN=name, SAN = the address
 * (IP or DNS) and the name, TLS server and client use, valid from a minute
 * ago for valid_days (never past the CA's own end) - on the request's key.
 * *cert_pem: a new PEM text (free()); serial: its serial number in hex;
 * *expires: its end (epoch seconds). */
int vr_csr_sign(const char *ca_cert_file, const char *ca_key_file, const char *csr_pem, const char *name,
                const char *address, int valid_days, char **cert_pem, char serial[41], long long *expires,
                vr_error *err);
