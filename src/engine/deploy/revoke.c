#include "revoke.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "certsign.h"
#include "log.h"
#include "rpcclient.h"

#define CRL_DAYS 7

int vr_cert_revoke(vr_engine *e, const char *serial, const char *subject, const char *reason, vr_error *err)
{
    if (!serial || !*serial)
        return 0;
    int n = vr_db_exec(e->db, "INSERT INTO revoked_certificates (serial, subject, reason, revoked_at)"
                       " SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM revoked_certificates WHERE serial = ?)",
                       DB_ARGS(DB_TEXT(serial), DB_TEXT(subject), DB_TEXT(reason), DB_INT(vr_now()),
                               DB_TEXT(serial)), err);
    if (n < 0)
        return -1;
    if (n > 0) {
        __atomic_add_fetch(&e->crl_generation, 1, __ATOMIC_SEQ_CST); /* the monitors tell the agents */
        vr_event(e, "normal", "", "", "", "certificate %s of '%s' revoked (%s)", serial, subject, reason);
    }
    return 0;
}

bool vr_cert_is_revoked(void *arg, const char *serial)
{
    vr_engine *e = arg;
    json_t *row = vr_db_query_one(e->db, "SELECT subject FROM revoked_certificates WHERE serial = ?",
                                  DB_ARGS(DB_TEXT(serial)), NULL);
    bool yes = row != NULL;
    if (yes)
        VR_WARN("refused the revoked certificate %s of '%s'", serial,
                json_string_value(json_object_get(row, "subject")) ?: "?");
    json_decref(row);
    return yes;
}

/* The bytes of a hex serial; 0 when it is not one. */
static size_t unhex(const char *hex, unsigned char *out, size_t max)
{
    size_t n = strlen(hex) / 2;
    if (strlen(hex) % 2 || n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return 0;
        out[i] = (unsigned char)v;
    }
    return n;
}

void vr_crl_send(vr_engine *e, vr_rpc_client *c, const char *host_name, int *sent)
{
    int gen = __atomic_load_n(&e->crl_generation, __ATOMIC_SEQ_CST);
    if (*sent == gen)
        return;
    char *pem = NULL;
    json_t *r = NULL;
    vr_error err = {0};
    if (vr_crl_pem(e, &pem, &err) == 0 &&
        vr_rpc_call(c, "Host.setRevocationList", json_pack("{s:s}", "crl", pem), &r, &err) == 0)
        VR_DEBUG("host %s: revocation list sent", host_name);
    else if (err.code != VR_ERR_IO) /* an agent without the verb, or no CA key: said once */
        VR_WARN("host %s: cannot send the revocation list: %s", host_name, err.message);
    if (!err.code || err.code != VR_ERR_IO)
        *sent = gen; /* a broken connection: the next poll tries again */
    free(pem);
    json_decref(r);
}

int vr_crl_pem(vr_engine *e, char **pem, vr_error *err)
{
    json_t *rows = NULL;
    if (vr_db_query(e->db, "SELECT serial, revoked_at FROM revoked_certificates ORDER BY revoked_at, serial",
                    DB_NOARGS, &rows, err) < 0)
        return -1;
    gnutls_datum_t out = {0};
    gnutls_x509_crl_t crl = NULL;
    vr_ca ca;
    int rc = -1;
    *pem = NULL;
    if (vr_ca_load(&ca, e->ca_cert_file, e->ca_key_file, err) < 0)
        goto out;
    time_t now = time(NULL);
    if (gnutls_x509_crl_init(&crl) < 0 || gnutls_x509_crl_set_version(crl, 2) < 0 ||
        gnutls_x509_crl_set_this_update(crl, now) < 0 ||
        gnutls_x509_crl_set_next_update(crl, now + CRL_DAYS * 86400) < 0) {
        vr_error_set(err, VR_ERR_INTERNAL, "cannot make the CRL");
        goto out;
    }
    unsigned char num[8];
    for (size_t i = 0; i < sizeof(num); i++)
        num[i] = (unsigned char)((unsigned long long)now >> (8 * (sizeof(num) - 1 - i)));
    gnutls_x509_crl_set_number(crl, num, sizeof(num)); /* newer CRLs have larger numbers */
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) {
        unsigned char serial[20];
        size_t n = unhex(json_string_value(json_object_get(r, "serial")) ?: "", serial, sizeof(serial));
        if (n && gnutls_x509_crl_set_crt_serial(crl, serial, n,
                                                (time_t)json_integer_value(json_object_get(r, "revoked_at"))) < 0) {
            vr_error_set(err, VR_ERR_INTERNAL, "cannot add a serial to the CRL");
            goto out;
        }
    }
    if (gnutls_x509_crl_privkey_sign(crl, ca.crt, ca.key, GNUTLS_DIG_SHA256, 0) < 0 ||
        gnutls_x509_crl_export2(crl, GNUTLS_X509_FMT_PEM, &out) < 0) {
        vr_error_set(err, VR_ERR_INTERNAL, "cannot sign the CRL");
        goto out;
    }
    if (!(*pem = strndup((char *)out.data, out.size))) {
        vr_error_set(err, VR_ERR_INTERNAL, "out of memory");
        goto out;
    }
    rc = 0;
out:
    json_decref(rows);
    gnutls_free(out.data);
    vr_ca_free(&ca);
    gnutls_x509_crl_deinit(crl);
    return rc;
}
