/* `vireo directory list|show|create|update|delete`: the engine's directory
 * profiles (LDAP directories whose users log in as uid@PROFILE;
 * docs/permissions.md "Directory users", docs/cli.md). The bind password
 * comes from --bind-password-file (never the command line), the CA from
 * --ca-cert-file; bodies are built with jansson only. Exit codes as cli.h
 * says. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "directory_cmd.h"
#include "http_client.h"
#include "table.h"
#include "verb_cmd.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_CA_BYTES 65536 /* the engine's limit of ca_cert */

static const vr_column d_cols[] = {{"NAME", "name", 0}, {"TYPE", "type", 0}, {"URL", "url", 0},
                                   {"TLS", "tls", 0}, {"BASE DN", "base_dn", 0}, {"ID", "id", 0}};

static const kind d_kind = {"directory", "domains", d_cols, N(d_cols), NULL, VR_NO_NAMES, false, false,
                            NULL, NULL, NULL};

static const vr_nested d_nested = {&d_kind, NULL, NULL, "directory profile"};

/* --OPTION and the string member it sets as given. */
static const char *const str_opts[][2] = {
    {"url", "url"}, {"tls", "tls"}, {"bind-dn", "bind_dn"}, {"base-dn", "base_dn"},
    {"type", "type"}, {"user-attribute", "user_attribute"}, {"description", "description"},
};

static const vr_xopt xopts[] = {
    {"url", false}, {"tls", false}, {"bind-dn", false}, {"base-dn", false}, {"type", false},
    {"user-attribute", false}, {"description", false}, {"bind-password-file", false}, {"ca-cert-file", false},
};

#define D_OPTS " url tls bind-dn base-dn type user-attribute description bind-password-file ca-cert-file "
#define D_USAGE "--url ldaps://HOST --tls ldaps|starttls --bind-dn DN --bind-password-file FILE|- --base-dn DN" \
    " [--type ldap|ad] [--user-attribute A] [--ca-cert-file PEM] [--description T]"

static const vr_verb verbs[] = {
    {"directory", "list", "", "", "", VR_LIST_OPTS},
    {"directory", "show", "NAME-or-ID", "", "", BIT(O_JSON)},
    {"directory", "create", "", D_OPTS, "--name NAME " D_USAGE, BIT(O_NAME) | BIT(O_JSON)},
    {"directory", "update", "NAME-or-ID", D_OPTS, "[any of: " D_USAGE "] (no password: the old one kept)",
     BIT(O_JSON)},
    {"directory", "delete", "NAME-or-ID", "", "", 0},
};

static const char *str_member(const char *opt)
{
    for (size_t i = 0; i < N(str_opts); i++)
        if (!strcmp(str_opts[i][0], opt))
            return str_opts[i][1];
    return NULL;
}

/* The whole PEM file at path into body's ca_cert ("" clears it): 0 or 2. */
static int ca_cert(const char *path, json_t *body)
{
    FILE *f = fopen(path, "re");
    char *buf = f ? malloc(MAX_CA_BYTES + 1) : NULL;
    size_t n = buf ? fread(buf, 1, MAX_CA_BYTES + 1, f) : 0;
    int rc = 0;
    if (!f || !buf || ferror(f)) {
        fprintf(stderr, "vireo: cannot read the CA certificate %s: %s\n", path, f ? "read error" : strerror(errno));
        rc = 2;
    } else if (n > MAX_CA_BYTES) {
        fprintf(stderr, "vireo: the CA certificate %s is larger than %d bytes\n", path, MAX_CA_BYTES);
        rc = 2;
    } else {
        json_t *t = json_stringn(buf, n);
        if (!t) {
            fprintf(stderr, "vireo: the CA certificate %s is not UTF-8 text\n", path);
            rc = 2;
        }
        json_object_set_new(body, "ca_cert", t);
    }
    free(buf);
    if (f)
        fclose(f);
    return rc;
}

static int build(const vr_session *s, const vr_verb *v, const args *a, json_t *body, char **ref)
{
    (void)s, (void)ref;
    int rc = 0;
    for (int i = 0; i < a->nx && !rc; i++) {
        const char *o = a->xopt[i], *val = a->xval[i], *member = str_member(o);
        if (!vr_verb_has(v, o)) {
            fprintf(stderr, "vireo: --%s does not apply to '%s %s'\n", o, v->obj, v->verb);
            rc = 2;
        } else if (member) { /* the engine checks the values */
            json_t *t = json_string(val);
            rc = t ? 0 : vr_bad_value(o, val);
            json_object_set_new(body, member, t);
        } else if (!strcmp(o, "bind-password-file")) {
            rc = vr_body_password(body, "bind_password", val, "the directory's bind account");
        } else { /* ca-cert-file */
            rc = ca_cert(val, body);
        }
    }
    if (!rc && a->name)
        json_object_set_new(body, "name", json_string(a->name));
    return rc;
}

static int run(const vr_session *s, const vr_verb *v, const args *a, json_t *body, const char *ref)
{
    (void)ref;
    if (!strcmp(v->verb, "create"))
        return vr_send_print(s, "POST", "/api/domains", body, a);
    return vr_nested_run(s, &d_nested, v, a, body, NULL);
}

int vr_directory_profile_cmd(int argc, char **argv)
{
    return vr_verb_main(argc, argv, verbs, N(verbs), xopts, N(xopts), build, run);
}
