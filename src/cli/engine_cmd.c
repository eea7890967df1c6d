/* `vireo login|logout|events` and `vireo datacenter|cluster|host|vm|job ...`:
 * the vireo-engine REST API (docs/rest-api.md) over HTTPS with a bearer
 * token kept in the session file (see http_client.h). A VM's device verbs
 * are in vm_devices_cmd.c, waiting for jobs in jobs_cmd.c. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "engine_cmd.h"
#include "host_deploy_cmd.h"
#include "storage_cmd.h"
#include "transfer_cmd.h"
#include "http_client.h"
#include "jsonx.h"
#include "kinds.h"
#include "table.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

bool vr_parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

int vr_bad_value(const char *opt, const char *val)
{
    fprintf(stderr, "vireo: bad value for --%s: '%s'\n", opt, val);
    return 2;
}

/* FIELD or -FIELD: which fields sort is the server's to say (400). */
static bool sortby_ok(const char *s)
{
    s += *s == '-';
    if (!*s)
        return false;
    for (; *s; s++)
        if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '_')
            return false;
    return true;
}

static int count_words(const char *s)
{
    int n = 0;
    for (bool in = false; *s; s++) {
        n += !in && *s != ' ';
        in = *s != ' ';
    }
    return n;
}

int vr_parse_args(int argc, char **argv, int first, unsigned allowed, const vr_xopt *xo, size_t nxo,
                  const char *operands, args *a)
{
    static const char *const common[] = {"search", "json", "max", "page", "wait", "timeout", "name",
                                         "follow", "sortby", "help"};
    static const int has_arg[] = {1, 0, 1, 1, 0, 1, 1, 0, 1, 0};
    _Static_assert(N(common) == O_EXTRA && N(has_arg) == O_EXTRA, "one entry per common option");
    struct option opts[N(common) + 64 + 1];
    memset(opts, 0, sizeof(opts));
    nxo = nxo > 64 ? 64 : nxo;
    for (size_t i = 0; i < N(common); i++)
        opts[i] = (struct option){common[i], has_arg[i], NULL, (int)i};
    for (size_t i = 0; i < nxo; i++)
        opts[N(common) + i] = (struct option){xo[i].name, xo[i].flag ? no_argument : required_argument, NULL,
                                              O_EXTRA + (int)i};
    memset(a, 0, sizeof(*a));
    a->max = -1;
    a->timeout = 600;
    opterr = 0; /* our own message: getopt would name argv[0], i.e. "vm" */
    optind = first;
    int c;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if (c == '?' || c == ':') {
            /* getopt sets optopt to a known option given a value it takes none of. */
            fprintf(stderr, "vireo: %s option: %s\n",
                    c == ':' ? "missing value for" : optopt > 0 ? "no value expected for" : "unknown",
                    argv[optind - 1]);
            return 2;
        }
        if (c >= O_EXTRA) {
            if (!(allowed & BIT(O_EXTRA)) || a->nx >= (int)N(a->xopt))
                goto not_here;
            a->xopt[a->nx] = xo[c - O_EXTRA].name;
            a->xval[a->nx++] = xo[c - O_EXTRA].flag ? NULL : optarg;
            continue;
        }
        if (c == O_HELP)
            return -1;
        if (!(allowed & BIT(c)))
            goto not_here;
        a->seen |= BIT(c);
        switch (c) {
        case O_SEARCH: a->search = optarg; break;
        case O_JSON: a->json = true; break;
        case O_MAX: if (!vr_parse_long(optarg, 1, 1000, &a->max)) return vr_bad_value("max", optarg); break;
        case O_PAGE: if (!vr_parse_long(optarg, 1, 1000000, &a->page)) return vr_bad_value("page", optarg); break;
        case O_WAIT: a->wait = true; break;
        case O_TIMEOUT: if (!vr_parse_long(optarg, 1, 86400, &a->timeout)) return vr_bad_value("timeout", optarg); break;
        case O_NAME: a->name = optarg; break;
        case O_FOLLOW: a->follow = true; break;
        case O_SORTBY: if (!sortby_ok(optarg)) return vr_bad_value("sortby", optarg); a->sortby = optarg; break;
        }
        continue;
    not_here:
        fprintf(stderr, "vireo: option %s does not apply here\n", argv[optind - 1]);
        return 2;
    }
    int want = count_words(operands);
    a->npos = argc - optind;
    if (a->npos != want || want > VR_MAX_POS) {
        if (want)
            fprintf(stderr, "vireo: expected %s (%d operand%s given)\n", operands, a->npos, a->npos == 1 ? "" : "s");
        else
            fprintf(stderr, "vireo: expected no operands\n");
        return 2;
    }
    for (int i = 0; i < want; i++)
        a->pos[i] = argv[optind + i];
    return 0;
}

static void kind_usage(FILE *f, const kind *k)
{
    const char *ref = k->by_id ? "ID" : "NAME-or-ID";
    fprintf(f, "usage: vireo %s list [--search EXPR] [--sortby [-]FIELD] [--max N] [--page N] [--json]\n"
               "       vireo %s show %s [--json]\n", k->name, k->name, ref);
    if (k->create) {
        fprintf(f, "       vireo %s create --name NAME", k->name);
        for (const create_opt *o = k->create; o->opt; o++)
            if (*o->meta)
                fprintf(f, o->required ? " --%s %s" : " [--%s %s]%s", o->opt, o->meta,
                        strchr("dn", o->type) ? "..." : "");
            else
                fprintf(f, " [--%s]", o->opt);
        fprintf(f, " [--json]\n       vireo %s update NAME-or-ID [--name NEW] [any create option...]%s [--json]\n"
                   "       vireo %s delete NAME-or-ID\n", k->name, k->action_jobs ? " [--wait [--timeout SECONDS]]" : "", k->name);
    }
    for (size_t i = 0; i < k->actions.n; i++)
        fprintf(f, i == 0 ? "       vireo %s %s" : "%.0s|%s", k->name, k->actions.v[i]);
    if (k->actions.n)
        fprintf(f, " %s%s [--json]\n", ref, k->action_jobs ? " [--wait [--timeout SECONDS]]" : "");
    if (!strcmp(k->name, "vm"))
        vr_vm_devices_usage(f);
    if (!strcmp(k->name, "host"))
        fprintf(f, "       vireo host create ... --ssh-password-file FILE|- | --ssh-key [--wait [--timeout SECONDS]]\n"
                   "       vireo host remove NAME-or-ID [--clean [--force]] [--wait [--timeout SECONDS]]\n"
                   "       vireo host install|enrollcertificate NAME-or-ID (--ssh-password-file FILE|- | --ssh-key)\n"
                   "              [--ssh-port PORT] [--ssh-fingerprint SHA256:...] [--wait [--timeout SECONDS]]\n"
                   "--ssh-*: install the host over SSH as root (docs/operations.md): root's password from a file\n"
                   "(never the command line), or the engine's key (GET /pki/engine-ssh.pub)\n");
    fprintf(f, "EXPR: FIELD=VALUE clauses joined by ' and ' (name=web*, status=up)\n"
               "--sortby: a member of the list, '-' first for descending (see docs/openapi.json)\n");
}

static bool is_uuid(const char *s)
{
    static const char pat[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    for (size_t i = 0; i < sizeof(pat) - 1; i++)
        if (pat[i] == 'x' ? !isxdigit((unsigned char)s[i]) : s[i] != '-')
            return false;
    return s[sizeof(pat) - 1] == '\0';
}

/* NAME-or-ID to an id: a UUID is taken as is, anything else must be the
 * exact name of one entity (search globs, so compare names ourselves).
 * What has no name (a job) is named by its id, whatever it looks like:
 * the server says whether it exists. */
int vr_resolve(const vr_session *s, const kind *k, const char *ref, char **id)
{
    *id = NULL;
    if (is_uuid(ref) || k->by_id) {
        *id = strdup(ref);
        return 0;
    }
    char *clause = NULL, *esc = NULL, *path = NULL;
    if (asprintf(&clause, "name=%s", ref) < 0 || !(esc = vr_http_escape(clause)) ||
        asprintf(&path, "/api/%s?search=%s&max=1000", k->coll, esc) < 0) {
        free(clause);
        free(esc);
        return 3;
    }
    vr_response r;
    int rc = vr_http(s, "GET", path, NULL, 0, &r);
    free(clause);
    free(esc);
    free(path);
    size_t i;
    json_t *row;
    json_array_foreach(rc ? NULL : json_object_get(r.json, k->coll), i, row) {
        const char *name = json_string_value(json_object_get(row, "name"));
        const char *rid = json_string_value(json_object_get(row, "id"));
        if (name && rid && !strcmp(name, ref)) {
            *id = strdup(rid);
            break;
        }
    }
    vr_response_free(&r);
    if (!rc && !*id) {
        fprintf(stderr, "vireo: no %s named '%s'\n", k->name, ref);
        rc = 1;
    }
    return rc;
}

/* /api/COLL/ID[/ACTION], the id escaped (it may come from the server). */
char *vr_entity_path(const kind *k, const char *id, const char *action)
{
    char *esc = vr_http_escape(id), *path = NULL;
    if (esc && asprintf(&path, "/api/%s/%s%s%s", k->coll, esc, action ? "/" : "", action ? action : "") < 0)
        path = NULL;
    free(esc);
    return path;
}

void vr_print_raw(const vr_response *r)
{
    fwrite(r->body, 1, r->len, stdout);
    if (!r->len || r->body[r->len - 1] != '\n')
        putchar('\n');
}

void vr_print_entity(const vr_response *r, bool json)
{
    if (json)
        vr_print_raw(r);
    else if (json_is_object(r->json))
        vr_show_print(stdout, r->json);
}

/* Show linked entities by name when the rows only carry their ids. One
 * extra request; on any failure the ids are shown instead. */
static void fill_link_names(const vr_session *s, const kind *k, json_t *rows)
{
    size_t i, j;
    json_t *row, *other, *names = NULL;
    vr_response r = {0};
    json_array_foreach(rows, i, row) {
        json_t *link = json_object_get(row, k->link);
        const char *id = json_string_value(json_object_get(row, k->link_id));
        if (json_is_object(link) && !json_is_string(json_object_get(link, "name")))
            id = json_string_value(json_object_get(link, "id"));
        else if (json_is_string(link) || json_is_object(link))
            continue;
        if (!id)
            continue;
        if (!names) {
            char path[128];
            snprintf(path, sizeof(path), "/api/%s?max=1000", k->link_coll);
            if (vr_http(s, "GET", path, NULL, 0, &r) != 0)
                break;
            names = json_object_get(r.json, k->link_coll);
        }
        json_array_foreach(names, j, other) {
            const char *oid = json_string_value(json_object_get(other, "id"));
            if (oid && !strcmp(oid, id))
                json_object_set(row, k->link, json_object_get(other, "name"));
        }
    }
    vr_response_free(&r);
}

static int do_list(const vr_session *s, const kind *k, const args *a)
{
    vr_response r;
    int rc = vr_http_list(s, k->coll, a->search, a->sortby, a->max > 0 ? a->max : 100, a->page > 0 ? a->page : 1,
                          &r);
    json_t *rows = json_object_get(r.json, k->coll);
    if (rc == 0 && !json_is_array(rows)) {
        fprintf(stderr, "vireo: the answer has no '%s' list\n", k->coll);
        rc = 3;
    } else if (rc == 0 && a->json) {
        vr_print_raw(&r);
    } else if (rc == 0) {
        if (k->link)
            fill_link_names(s, k, rows);
        vr_table_print(stdout, k->cols, k->ncols, rows);
        json_int_t total = json_integer_value(json_object_get(r.json, "total"));
        if (total > (json_int_t)json_array_size(rows))
            fprintf(stderr, "(%zu of %lld shown; see --max and --page)\n", json_array_size(rows),
                    (long long)total);
    }
    vr_response_free(&r);
    return rc;
}

/* Look up `ref` and call METHOD on /api/COLL/ID[/ACTION]. */
static int on_entity(const vr_session *s, const kind *k, const char *ref, const char *method,
                     const char *action, json_t *body, vr_response *r, char **id)
{
    memset(r, 0, sizeof(*r));
    int rc = vr_resolve(s, k, ref, id);
    char *path = rc ? NULL : vr_entity_path(k, *id, action);
    if (!rc)
        rc = path ? vr_http(s, method, path, body, 0, r) : 3;
    free(path);
    return rc;
}

int vr_entity_change(const vr_session *s, const kind *k, const char *ref, const char *method, const char *sub,
                     json_t *body, const args *a)
{
    vr_response r;
    char *id = NULL, *path = NULL;
    bool waited = false;
    int rc = on_entity(s, k, ref, method, sub, body, &r, &id);
    if (rc == 0)
        rc = vr_job_answer(s, &r, a, &waited);
    if (rc == 0 && waited)
        rc = (path = vr_entity_path(k, id, NULL)) ? vr_get_print(s, path, a->json) : 3;
    vr_response_free(&r);
    free(path);
    free(id);
    return rc;
}

int vr_entity_make(const vr_session *s, const kind *k, const char *ref, const char *sub, json_t *body,
                   const kind *made, const args *a)
{
    vr_response r, jr = {0};
    char *id = NULL, *jpath = NULL, *path = NULL;
    bool waited = false;
    int rc = on_entity(s, k, ref, "POST", sub, body, &r, &id);
    if (rc == 0)
        rc = vr_job_answer(s, &r, a, &waited);
    if (rc == 0 && waited) {
        const char *job = json_string_value(json_object_get(json_object_get(r.json, "job"), "id"));
        rc = job && (jpath = vr_entity_path(vr_kind_find("job"), job, NULL)) ? vr_http(s, "GET", jpath, NULL, 0, &jr)
                                                                             : 3;
        const char *oid = rc ? NULL : json_string_value(json_object_get(jr.json, "object_id"));
        if (!rc)
            rc = oid && (path = vr_entity_path(made, oid, NULL)) ? vr_get_print(s, path, a->json) : 3;
        vr_response_free(&jr);
    }
    vr_response_free(&r);
    free(jpath);
    free(path);
    free(id);
    return rc;
}

static int kind_cmd(const kind *k, int argc, char **argv)
{
    const char *verb = argc > 1 ? argv[1] : "";
    if (!strcmp(verb, "--help") || !strcmp(verb, "-h")) {
        kind_usage(stdout, k);
        return 0;
    }
    int rc = !strcmp(k->name, "vm") ? vr_vm_devices_cmd(k, argc, argv) : -1;
    if (rc >= 0)
        return rc;
    /* Where the engine may answer with a job, --wait waits for it. */
    unsigned jobs = k->action_jobs ? VR_JOB_OPTS : BIT(O_JSON);
    unsigned allowed = !strcmp(verb, "list")     ? VR_LIST_OPTS
                       : !strcmp(verb, "show")   ? BIT(O_JSON)
                       : !strcmp(verb, "create") ? BIT(O_NAME) | BIT(O_JSON) | BIT(O_EXTRA) |
                                                       (!strcmp(k->name, "host") ? VR_JOB_OPTS : 0)
                       : !strcmp(verb, "update") ? BIT(O_NAME) | BIT(O_EXTRA) | jobs
                       : !strcmp(verb, "delete") ? 0
                       : vr_str_in(verb, k->actions) ? jobs | (vr_deploy_verb(k, verb) ? BIT(O_EXTRA) : 0)
                                                : ~0u;
    if (allowed == ~0u || (!k->create && vr_str_in(verb, VR_NAMES(((const char *const[]){"create", "update", "delete"}))))) {
        if (*verb)
            fprintf(stderr, "vireo: %s has no command '%s'\n", k->name, verb);
        kind_usage(stderr, k);
        return 2;
    }
    args a;
    const char *operands = !strcmp(verb, "list") || !strcmp(verb, "create") ? "" : k->by_id ? "ID" : "NAME-or-ID";
    rc = vr_parse_args(argc, argv, 2, allowed, vr_create_opts, N(vr_create_opts), operands, &a);
    if (rc == 0 && (!strcmp(verb, "create") || !strcmp(verb, "update")))
        rc = vr_create_check(k, verb, &a);
    if (rc < 0)
        kind_usage(stdout, k);
    else if (rc)
        fprintf(stderr, "vireo: see 'vireo %s --help'\n", k->name);
    if (rc)
        return rc < 0 ? 0 : rc;
    vr_session s;
    if ((rc = vr_session_load(&s, 0)) != 0)
        return rc;
    vr_response r = {0};
    json_t *body = NULL;
    char *id = NULL;
    if (!strcmp(verb, "list")) {
        rc = do_list(&s, k, &a);
    } else if (!strcmp(verb, "show")) {
        if ((rc = on_entity(&s, k, a.pos[0], "GET", NULL, NULL, &r, &id)) == 0)
            vr_print_entity(&r, a.json);
    } else if (!strcmp(verb, "delete")) {
        rc = on_entity(&s, k, a.pos[0], "DELETE", NULL, NULL, &r, &id);
    } else if (!strcmp(verb, "update")) {
        /* PUT: members given replace the stored ones (--disk/--nic: the
         * whole list); boot options change only the boot fields given. */
        if ((rc = vr_create_body(&s, k, &a, &body)) == 0 && json_is_object(json_object_get(body, "boot")) &&
            (rc = on_entity(&s, k, a.pos[0], "GET", NULL, NULL, &r, &id)) == 0) {
            json_t *boot = json_deep_copy(json_object_get(r.json, "boot"));
            if (!json_is_object(boot)) {
                json_decref(boot);
                boot = json_object();
            }
            json_object_update(boot, json_object_get(body, "boot"));
            json_object_set_new(body, "boot", boot);
        }
        /* A running VM's raised vcpus is a job (202); the rest is stored. */
        if (rc == 0)
            rc = vr_entity_change(&s, k, id ? id : a.pos[0], "PUT", NULL, body, &a);
    } else if (!strcmp(verb, "create")) {
        char path[64];
        snprintf(path, sizeof(path), "/api/%s", k->coll);
        if ((rc = vr_create_body(&s, k, &a, &body)) == 0 && (rc = vr_http(&s, "POST", path, body, 0, &r)) == 0) {
            if (a.wait && r.status == 202) /* a host installed over SSH */
                rc = vr_host_create_wait(&s, &r, &a);
            else
                vr_print_entity(&r, a.json);
        }
    } else if (vr_deploy_verb(k, verb)) {
        /* {"ssh": {...}} from the --ssh-* options */
        if ((rc = vr_deploy_check(k, verb, &a)) == 0 && (rc = vr_create_body(&s, k, &a, &body)) == 0)
            rc = vr_entity_change(&s, k, a.pos[0], "POST", verb, body, &a);
    } else {
        body = json_object(); /* "{}": a valid body for a strict parser */
        rc = vr_entity_change(&s, k, a.pos[0], "POST", verb, body, &a);
    }
    json_decref(body);
    vr_response_free(&r);
    free(id);
    vr_session_clear(&s);
    return rc;
}

static int events_cmd(int argc, char **argv)
{
    args a;
    int rc = vr_parse_args(argc, argv, 1, VR_LIST_OPTS | BIT(O_FOLLOW), NULL, 0, "", &a);
    /* --follow goes by event id, oldest first: no other order or page. */
    if (rc == 0 && a.follow && (a.page > 0 || a.sortby)) {
        fprintf(stderr, "vireo: --follow does not go with --%s\n", a.sortby ? "sortby" : "page");
        rc = 2;
    }
    if (rc) {
        fprintf(rc < 0 ? stdout : stderr,
                "usage: vireo events [--max N] [--page N] [--search EXPR] [--sortby [-]FIELD] [--json]\n"
                "       vireo events --follow [--max N] [--search EXPR] [--json]\n");
        return rc < 0 ? 0 : rc;
    }
    vr_session s;
    if ((rc = vr_session_load(&s, 0)) == 0)
        rc = a.follow ? vr_events_follow(&s, a.search, a.max, a.json) : do_list(&s, &vr_kind_events, &a);
    vr_session_clear(&s);
    return rc;
}

int vr_cli_engine(int argc, char **argv)
{
    if (!strcmp(argv[0], "login"))
        return vr_cli_login(argc, argv);
    if (!strcmp(argv[0], "logout"))
        return vr_cli_logout(argc, argv);
    if (!strcmp(argv[0], "events"))
        return events_cmd(argc, argv);
    if (!strcmp(argv[0], "disk") && argc > 1 && (!strcmp(argv[1], "upload") || !strcmp(argv[1], "download")))
        return vr_transfer_cmd(argc, argv);
    int rc = vr_storage_cmd(argc, argv); /* sd, disk, snapshot, template, pool */
    if (rc >= 0)
        return rc;
    const kind *k = vr_kind_find(argv[0]);
    return k ? kind_cmd(k, argc, argv) : -1;
}
