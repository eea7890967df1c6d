#include "crl.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

int vr_crl_parse(const char *crl_pem, const char *ca_file, json_t **serials, long long *this_update,
                 vr_error *err)
{
    gnutls_datum_t d = {(unsigned char *)(uintptr_t)crl_pem, (unsigned)strlen(crl_pem)}, cad = {0};
    gnutls_x509_crl_t crl = NULL;
    gnutls_x509_crt_t *cas = NULL;
    unsigned ncas = 0, verify = 0;
    int rc = -1;
    *serials = NULL;
    if (gnutls_load_file(ca_file, &cad) < 0 ||
        gnutls_x509_crt_list_import2(&cas, &ncas, &cad, GNUTLS_X509_FMT_PEM, 0) < 0) {
        vr_error_set(err, VR_ERR_IO, "cannot load the CA certificate %s", ca_file);
        goto out;
    }
    if (gnutls_x509_crl_init(&crl) < 0 || gnutls_x509_crl_import(crl, &d, GNUTLS_X509_FMT_PEM) < 0) {
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "the revocation list is not a PEM CRL");
        goto out;
    }
    if (gnutls_x509_crl_verify(crl, cas, ncas, 0, &verify) < 0 || verify != 0) {
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "the revocation list is not signed by this host's CA");
        goto out;
    }
    json_t *set = json_object();
    int n = gnutls_x509_crl_get_crt_count(crl);
    for (int i = 0; i < n; i++) {
        unsigned char raw[20];
        size_t len = sizeof(raw);
        char hex[2 * sizeof(raw) + 1] = "";
        if (gnutls_x509_crl_get_crt_serial(crl, (unsigned)i, raw, &len, NULL) < 0)
            continue;
        for (size_t k = 0; k < len; k++)
            snprintf(hex + 2 * k, 3, "%02x", raw[k]);
        json_object_set_new(set, hex, json_true());
    }
    *serials = set;
    *this_update = (long long)gnutls_x509_crl_get_this_update(crl);
    rc = 0;
out:
    for (unsigned i = 0; i < ncas; i++)
        gnutls_x509_crt_deinit(cas[i]);
    gnutls_free(cas);
    gnutls_free(cad.data);
    gnutls_x509_crl_deinit(crl);
    return rc;
}
