#include "certsign.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

/* A file's contents as a gnutls datum (gnutls_free()). */
static int load(const char *path, gnutls_datum_t *d, vr_error *err)
{
    if (gnutls_load_file(path, d) < 0)
        return vr_error_set(err, VR_ERR_INTERNAL, "cannot read %s", path);
    return 0;
}

/* An address as the bytes of an IP SAN (4 or 16), or 0 when it is a name. */
static size_t ip_bytes(const char *address, unsigned char out[16])
{
    if (inet_pton(AF_INET, address, out) == 1)
        return 4;
    if (inet_pton(AF_INET6, address, out) == 1)
        return 16;
    return 0;
}

/* Every name the request asks for must be the host's. */
static int check_request(gnutls_x509_crq_t crq, const char *name, const char *address, vr_error *err)
{
    if (gnutls_x509_crq_verify(crq, 0) < 0)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "the certificate request of host '%s' is not signed by"
                            " its own key", name);
    char cn[256];
    size_t len = sizeof(cn);
    if (gnutls_x509_crq_get_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &len) < 0)
        cn[0] = '\0';
    if (strcmp(cn, name))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "the certificate request is for '%.100s', not for host '%s';"
                            " refusing to sign it", cn, name);
    unsigned char want_ip[16];
    size_t want_len = ip_bytes(address, want_ip);
    for (unsigned i = 0;; i++) {
        unsigned char san[256];
        size_t slen = sizeof(san);
        unsigned crit = 0;
        int type = gnutls_x509_crq_get_subject_alt_name(crq, i, san, &slen, NULL, &crit);
        if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
            break;
        if (type == GNUTLS_SAN_IPADDRESS && want_len && slen == want_len && !memcmp(san, want_ip, slen))
            continue;
        if (type == GNUTLS_SAN_DNSNAME && slen < sizeof(san)) {
            san[slen] = '\0';
            if (!strcasecmp((char *)san, name) || (!want_len && !strcasecmp((char *)san, address)))
                continue;
        }
        char shown[64] = "?";
        if (type == GNUTLS_SAN_IPADDRESS && (slen == 4 || slen == 16))
            inet_ntop(slen == 4 ? AF_INET : AF_INET6, san, shown, sizeof(shown));
        else if (type == GNUTLS_SAN_DNSNAME)
            snprintf(shown, sizeof(shown), "%.*s", (int)(slen < 60 ? slen : 60), (char *)san);
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "the certificate request of host '%s' also asks for %s,"
                            " which is not its address %s; refusing to sign it", name, shown, address);
    }
    return 0;
}

/* CN, SANs, usages, validity, serial: what the engine decides. */
static int fill(gnutls_x509_crt_t crt, gnutls_x509_crq_t crq, gnutls_x509_crt_t ca, const char *name,
                const char *address, int valid_days, char serial_hex[41])
{
    unsigned char serial[16], ip[16];
    if (gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial)) < 0)
        return -1;
    serial[0] &= 0x7f; /* a positive number */
    serial[0] |= 0x01;
    for (size_t i = 0; i < sizeof(serial); i++)
        snprintf(serial_hex + 2 * i, 3, "%02x", serial[i]);
    time_t now = time(NULL), end = now + (time_t)valid_days * 86400, ca_end = gnutls_x509_crt_get_expiration_time(ca);
    if (ca_end > 0 && end > ca_end)
        end = ca_end;
    size_t iplen = ip_bytes(address, ip);
    unsigned char kid[64];
    size_t kidlen = sizeof(kid);
    /* Only the request's key is taken; the subject is the engine's. */
    gnutls_pubkey_t pub = NULL;
    int rc = gnutls_pubkey_init(&pub) < 0 || gnutls_pubkey_import_x509_crq(pub, crq, 0) < 0 ||
             gnutls_x509_crt_set_pubkey(crt, pub) < 0;
    gnutls_pubkey_deinit(pub);
    rc |= gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, name, (unsigned)strlen(name)) < 0;
    rc |= gnutls_x509_crt_set_version(crt, 3) < 0;
    rc |= gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)) < 0;
    rc |= gnutls_x509_crt_set_activation_time(crt, now - 60) < 0;
    rc |= gnutls_x509_crt_set_expiration_time(crt, end) < 0;
    rc |= gnutls_x509_crt_set_basic_constraints(crt, 0, -1) < 0;
    rc |= gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_KEY_ENCIPHERMENT) < 0;
    rc |= gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0) < 0;
    rc |= gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_CLIENT, 0) < 0;
    if (iplen)
        rc |= gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, (unsigned)iplen,
                                                   GNUTLS_FSAN_SET) < 0;
    else
        rc |= gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, address, (unsigned)strlen(address),
                                                   GNUTLS_FSAN_SET) < 0;
    if (strcasecmp(name, address))
        rc |= gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, name, (unsigned)strlen(name),
                                                   GNUTLS_FSAN_APPEND) < 0;
    if (gnutls_x509_crt_get_key_id(crt, 0, kid, &kidlen) == 0)
        rc |= gnutls_x509_crt_set_subject_key_id(crt, kid, kidlen) < 0;
    kidlen = sizeof(kid);
    if (gnutls_x509_crt_get_subject_key_id(ca, kid, &kidlen, NULL) == 0)
        rc |= gnutls_x509_crt_set_authority_key_id(crt, kid, kidlen) < 0;
    return rc ? -1 : 0;
}

int vr_ca_load(vr_ca *ca, const char *ca_cert_file, const char *ca_key_file, vr_error *err)
{
    gnutls_datum_t cad = {0}, keyd = {0};
    memset(ca, 0, sizeof(*ca));
    int rc = load(ca_cert_file, &cad, err) < 0 || load(ca_key_file, &keyd, err) < 0 ? -1 : 0;
    if (rc == 0 && (gnutls_x509_crt_init(&ca->crt) < 0 ||
                    gnutls_x509_crt_import(ca->crt, &cad, GNUTLS_X509_FMT_PEM) < 0 ||
                    gnutls_x509_privkey_init(&ca->xkey) < 0 ||
                    gnutls_x509_privkey_import(ca->xkey, &keyd, GNUTLS_X509_FMT_PEM) < 0 ||
                    gnutls_privkey_init(&ca->key) < 0 || gnutls_privkey_import_x509(ca->key, ca->xkey, 0) < 0))
        rc = vr_error_set(err, VR_ERR_INTERNAL, "cannot load the engine's CA (%s, %s)", ca_cert_file, ca_key_file);
    gnutls_free(cad.data);
    if (keyd.data) {
        gnutls_memset(keyd.data, 0, keyd.size);
        gnutls_free(keyd.data);
    }
    return rc;
}

void vr_ca_free(vr_ca *ca)
{
    gnutls_x509_crt_deinit(ca->crt);
    gnutls_privkey_deinit(ca->key);
    gnutls_x509_privkey_deinit(ca->xkey);
    memset(ca, 0, sizeof(*ca));
}

int vr_csr_sign(const char *ca_cert_file, const char *ca_key_file, const char *csr_pem, const char *name,
                const char *address, int valid_days, char **cert_pem, char serial[41], long long *expires,
                vr_error *err)
{
    gnutls_datum_t out = {0};
    gnutls_datum_t csrd = {(unsigned char *)(uintptr_t)csr_pem, (unsigned)strlen(csr_pem)};
    gnutls_x509_crt_t crt = NULL;
    gnutls_x509_crq_t crq = NULL;
    vr_ca ca;
    int rc = -1;
    *cert_pem = NULL;
    serial[0] = '\0';
    if (vr_ca_load(&ca, ca_cert_file, ca_key_file, err) < 0)
        goto out;
    if (gnutls_x509_crq_init(&crq) < 0 || gnutls_x509_crq_import(crq, &csrd, GNUTLS_X509_FMT_PEM) < 0) {
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "host '%s' sent no readable certificate request", name);
        goto out;
    }
    if (check_request(crq, name, address, err) < 0)
        goto out;
    if (gnutls_x509_crt_init(&crt) < 0 || fill(crt, crq, ca.crt, name, address, valid_days, serial) < 0 ||
        gnutls_x509_crt_privkey_sign(crt, ca.crt, ca.key, GNUTLS_DIG_SHA256, 0) < 0 ||
        gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &out) < 0) {
        vr_error_set(err, VR_ERR_INTERNAL, "cannot sign the certificate of host '%s'", name);
        goto out;
    }
    if (!(*cert_pem = strndup((char *)out.data, out.size))) {
        vr_error_set(err, VR_ERR_INTERNAL, "out of memory");
        goto out;
    }
    *expires = (long long)gnutls_x509_crt_get_expiration_time(crt);
    rc = 0;
out:
    gnutls_free(out.data);
    vr_ca_free(&ca);
    gnutls_x509_crt_deinit(crt);
    gnutls_x509_crq_deinit(crq);
    return rc;
}
