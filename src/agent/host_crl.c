#include "host_crl.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crl.h"
#include "jsonx.h"
#include "log.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *revoked;          /* serial -> true */
static long long this_update;    /* of the CRL in force */
static char ca_path[1024], crl_path[1024];

static void take(json_t *set, long long when)
{
    pthread_mutex_lock(&lock);
    json_decref(revoked);
    revoked = set;
    this_update = when;
    pthread_mutex_unlock(&lock);
}

int vr_agent_crl_init(const char *ca_file, const char *crl_file, vr_error *err)
{
    snprintf(ca_path, sizeof(ca_path), "%s", ca_file);
    snprintf(crl_path, sizeof(crl_path), "%s", crl_file ? crl_file : "");
    FILE *f = crl_file ? fopen(crl_file, "r") : NULL;
    if (!f)
        return 0; /* none yet: the engine sends it */
    static char pem[1 << 20];
    size_t n = fread(pem, 1, sizeof(pem) - 1, f);
    fclose(f);
    pem[n] = '\0';
    json_t *set;
    long long when;
    if (vr_crl_parse(pem, ca_path, &set, &when, err) < 0)
        return vr_error_set(err, err->code, "%s: %s", crl_file, err->message);
    take(set, when);
    VR_INFO("revocation list %s: %zu revoked certificate(s)", crl_file, json_object_size(set));
    return 0;
}

bool vr_agent_crl_revoked(void *arg, const char *serial_hex)
{
    pthread_mutex_lock(&lock);
    bool yes = revoked && json_object_get(revoked, serial_hex);
    pthread_mutex_unlock(&lock);
    if (yes)
        VR_WARN("refused a peer with the revoked certificate %s", serial_hex);
    return yes;
}

/* Host.setRevocationList {crl: PEM}: the CA's signature is the authority
 * (any peer may send it; none can forge it), and an older list never
 * replaces a newer one. */
static int host_set_crl(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    static const char *const keys[] = {"crl", NULL};
    if (vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0)
        return -1;
    const char *pem = json_string_value(json_object_get(params, "crl"));
    if (!pem)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "params.crl (a PEM CRL) is required");
    json_t *set;
    long long when;
    if (vr_crl_parse(pem, ca_path, &set, &when, err) < 0)
        return -1;
    pthread_mutex_lock(&lock);
    bool older = when < this_update;
    pthread_mutex_unlock(&lock);
    if (older) {
        json_decref(set);
        return vr_error_set(err, VR_ERR_BAD_STATE, "the revocation list is older than the one in force");
    }
    size_t count = json_object_size(set);
    take(set, when);
    if (*crl_path) { /* for the next start: written whole, then renamed */
        char tmp[1100];
        snprintf(tmp, sizeof(tmp), "%s.new", crl_path);
        FILE *f = fopen(tmp, "w");
        bool ok = f && fputs(pem, f) >= 0;
        if (f && fclose(f) != 0)
            ok = false;
        if (!ok || rename(tmp, crl_path) < 0) {
            unlink(tmp);
            VR_WARN("cannot keep the revocation list in %s", crl_path);
        }
    }
    *result = json_pack("{s:I}", "revoked", (json_int_t)count);
    return 0;
}

const vr_verb vr_host_crl_verbs[] = {
    {"Host.setRevocationList", host_set_crl},
    {NULL, NULL},
};
