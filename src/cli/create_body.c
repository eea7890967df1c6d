/* The bodies of `vireo KIND create|update` and `host install|enrollcertificate`
 * (engine_cmd.h): options checked without the server, then a JSON body built
 * with jansson only - user text is never pasted into JSON - with references
 * resolved to ids and passwords read from files, never from the command line. */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "engine_cmd.h"
#include "http_client.h"
#include "jsonx.h"
#include "kinds.h"

/* Usage checks of `KIND create|update` that need no server. An update
 * takes any create option (the server refuses what cannot change). */
int vr_create_check(const kind *k, const char *verb, const args *a)
{
    bool update = !strcmp(verb, "update");
    if (!a->name && !update) {
        fprintf(stderr, "vireo: %s create needs --name NAME\n", k->name);
        return 2;
    }
    if (update && !a->name && !a->nx) {
        fprintf(stderr, "vireo: %s update needs something to change (--name or an option of create)\n",
                k->name);
        return 2;
    }
    for (int i = 0; i < a->nx; i++)
        if (!vr_kind_create_opt(k, a->xopt[i])) {
            fprintf(stderr, "vireo: --%s does not apply to '%s %s'\n", a->xopt[i], k->name, verb);
            return 2;
        }
    for (const create_opt *o = k->create; o->opt && !update; o++) {
        bool given = false;
        for (int i = 0; i < a->nx; i++)
            given |= !strcmp(a->xopt[i], o->opt);
        if (o->required && !given) {
            fprintf(stderr, "vireo: %s create needs --%s %s\n", k->name, o->opt, o->meta);
            return 2;
        }
    }
    return 0;
}

/* A member of the body's object obj: on|off, or for member num a whole
 * number 0..100 (a priority, a percentage). 0, or the CLI's bad value. */
static int switch_or_pct(json_t *body, const char *obj, const char *num, const create_opt *o, const char *v)
{
    json_t *to = json_object_get(body, obj);
    if (!to)
        json_object_set_new(body, obj, to = json_object());
    bool pct = !strcmp(o->member, num);
    long n = 0;
    if (pct ? !vr_parse_long(v, 0, 100, &n) : strcmp(v, "on") && strcmp(v, "off"))
        return vr_bad_value(o->opt, v);
    json_object_set_new(to, o->member, pct ? json_integer(n) : json_boolean(!strcmp(v, "on")));
    return 0;
}

/* The create body, built with jansson only: user text is never pasted
 * into JSON. References are resolved to ids on the way. */
int vr_create_body(const vr_session *s, const kind *k, const args *a, json_t **out)
{
    *out = NULL;
    json_t *body = json_object();
    int rc = a->name && json_object_set_new(body, "name", json_string(a->name)) ? vr_bad_value("name", a->name) : 0;
    for (int i = 0; i < a->nx && !rc; i++) {
        const create_opt *o = vr_kind_create_opt(k, a->xopt[i]);
        const char *v = a->xval[i];
        long n;
        json_t *val = NULL, *list;
        switch (o->type) {
        case 's':
            val = json_string(v);
            break;
        case 'i':
            if (!vr_parse_long(v, LONG_MIN, LONG_MAX, &n)) {
                rc = vr_bad_value(o->opt, v);
                continue;
            }
            val = json_integer(n);
            break;
        case 'b':
            if (!json_object_get(body, "boot"))
                json_object_set_new(body, "boot", json_object());
            if (json_object_set_new(json_object_get(body, "boot"), o->member, json_string(v)))
                rc = vr_bad_value(o->opt, v);
            continue;
        case 'h': /* a member of high_availability: on|off or a priority */
            rc = switch_or_pct(body, "high_availability", "priority", o, v);
            continue;
        case 'f': /* a member of fencing_policy: on|off or the threshold percentage */
            rc = switch_or_pct(body, "fencing_policy", "threshold", o, v);
            continue;
        case 'a': /* the cluster's HA reservation switch: on|off */
            rc = switch_or_pct(body, "ha_reservation", "", o, v);
            continue;
        case 'x': { /* how the engine logs in to install the host: never the password on the command line */
            json_t *ssh = json_object_get(body, "ssh");
            if (!ssh)
                json_object_set_new(body, "ssh", ssh = json_object());
            if (!strcmp(o->member, "use_engine_key")) {
                json_object_set_new(ssh, o->member, json_true());
            } else if (!strcmp(o->member, "soft_fencing")) {
                if (strcmp(v, "on") && strcmp(v, "off"))
                    rc = vr_bad_value(o->opt, v);
                else
                    json_object_set_new(ssh, o->member, json_boolean(!strcmp(v, "on")));
            } else if (!strcmp(o->member, "port")) {
                if (!vr_parse_long(v, 1, 65535, &n))
                    rc = vr_bad_value(o->opt, v);
                else
                    json_object_set_new(ssh, o->member, json_integer(n));
            } else if (!strcmp(o->member, "password")) {
                rc = vr_body_password(ssh, o->member, v, "root at the host");
            } else if (json_object_set_new(ssh, o->member, json_string(v))) {
                rc = vr_bad_value(o->opt, v);
            }
            continue;
        }
        case 'p': { /* scheduling_policy: its name, or a KEY=N of its properties */
            json_t *pol = json_object_get(body, "scheduling_policy");
            if (!pol)
                json_object_set_new(body, "scheduling_policy", pol = json_object());
            const char *eq = strcmp(o->member, "name") ? strchr(v, '=') : NULL;
            if (!strcmp(o->member, "name")) {
                val = json_string(v);
            } else if (eq && eq > v && vr_parse_long(eq + 1, LONG_MIN, LONG_MAX, &n)) {
                json_t *props = json_object_get(pol, "properties");
                if (!props)
                    json_object_set_new(pol, "properties", props = json_object());
                char *key = strndup(v, (size_t)(eq - v));
                val = key ? json_integer(n) : NULL;
                if (val && json_object_set_new(props, key, val)) /* not UTF-8 */
                    val = NULL;
                free(key);
                if (val) /* stored in props */
                    continue;
            }
            if (!val || json_object_set_new(pol, o->member, val))
                rc = vr_bad_value(o->opt, v);
            continue;
        }
        case 'm': { /* a member of migration_policy: its name, or a number */
            json_t *mig = json_object_get(body, "migration_policy");
            if (!mig)
                json_object_set_new(body, "migration_policy", mig = json_object());
            if (!strcmp(o->member, "policy"))
                val = json_string(v);
            else if (vr_parse_long(v, 1, LONG_MAX, &n))
                val = json_integer(n);
            if (!val || json_object_set_new(mig, o->member, val))
                rc = vr_bad_value(o->opt, v);
            continue;
        }
        case 'l': /* the VM's lease: a storage domain id, or none */
            val = strcmp(v, "none") ? json_pack("{s:s?}", "storage_domain", v) : json_object();
            break;
        case 'd': {
            size_t len = strlen(v);
            bool ro = len > 3 && !strcmp(v + len - 3, ",ro");
            char *path = strndup(v, ro ? len - 3 : len);
            val = json_pack("{s:s?}", "path", path);
            if (val && ro)
                json_object_set_new(val, "readonly", json_true());
            free(path);
            break;
        }
        case 'n':
            val = strcmp(v, "user") ? json_pack("{s:s?}", "bridge", v) : json_object();
            break;
        case 'r': {
            char *id = NULL;
            if ((rc = vr_resolve(s, vr_kind_find(o->ref), v, &id)) == 0)
                val = json_string(id);
            free(id);
            if (rc)
                continue;
            break;
        }
        }
        if (!val) { /* jansson refuses strings that are not UTF-8 */
            rc = vr_bad_value(o->opt, v);
        } else if (strchr("dn", o->type)) {
            if (!(list = json_object_get(body, o->member)))
                json_object_set_new(body, o->member, list = json_array());
            json_array_append_new(list, val);
        } else {
            json_object_set_new(body, o->member, val);
        }
    }
    if (rc)
        json_decref(body);
    else
        *out = body;
    return rc;
}

/* host install | enrollcertificate: actions that log in to the host. */
bool vr_deploy_verb(const kind *k, const char *verb)
{
    return !strcmp(k->name, "host") && (!strcmp(verb, "install") || !strcmp(verb, "enrollcertificate"));
}

int vr_deploy_check(const kind *k, const char *verb, const args *a)
{
    bool login = false;
    for (int i = 0; i < a->nx; i++) {
        const create_opt *o = vr_kind_create_opt(k, a->xopt[i]);
        if (!o || o->type != 'x') {
            fprintf(stderr, "vireo: --%s does not apply to 'host %s'\n", a->xopt[i], verb);
            return 2;
        }
        login |= !strcmp(o->member, "password") || !strcmp(o->member, "use_engine_key");
    }
    if (!login) {
        fprintf(stderr, "vireo: host %s needs --ssh-password-file FILE|- or --ssh-key\n", verb);
        return 2;
    }
    return 0;
}

