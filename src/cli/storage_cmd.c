/* `vireo sd list|show|create|attach|activate|maintenance|detach|remove`,
 * `vireo disk list|show|create|delete|copy|move|extend|resolve`, `vireo snapshot
 * list|show|create|delete|preview|commit|undo|restore` and `vireo template
 * list|show|create|delete|createvm`: storage domains, disks, VM snapshots
 * and templates (docs/storage.md, docs/rest-api.md "Storage"). Creation,
 * removal of disks and most actions are engine jobs: --wait waits for
 * them and then prints the object. Bodies are built with jansson only:
 * user text is never pasted into JSON. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_cmd.h"
#include "storage_cmd.h"
#include "table.h"

/* One --OPTION of a verb and the body member it sets. Types: s string,
 * i integer, f flag (true), F flag (member false), r NAME-or-ID of `ref`. */
typedef struct st_opt {
    const char *opt, *member, *meta;
    char type;
    const char *ref;
} st_opt;

typedef struct st_verb {
    const char *verb, *operands;
    const char *opts;    /* the options it takes, " a b " */
    const char *needs;   /* required options, " a b " */
    const char *method;  /* NULL: list / show */
    const char *action;  /* POST /ID/ACTION; NULL: the collection or the object */
    unsigned allowed;
} st_verb;

typedef struct st_obj {
    const char *name, *coll, *title;
    const st_opt *opts;
    size_t nopts;
    const st_verb *verbs;
    size_t nverbs;
    const vr_column *cols;
    size_t ncols;
} st_obj;

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const st_opt sd_opts[] = {
    {"type", "type", "data|iso|export", 's', NULL},
    {"storage-type", "storage_type", "nfs|posixfs|localfs", 's', NULL},
    {"path", "storage_path", "PATH", 's', NULL},
    {"address", "storage_address", "SERVER", 's', NULL},
    {"vfs-type", "vfs_type", "TYPE", 's', NULL},
    {"mount-options", "mount_options", "OPT[,OPT...]", 's', NULL},
    {"nfs-version", "nfs_version", "3|4|4.1|4.2", 's', NULL},
    {"host", "host", "HOST", 'r', "host"},
    {"import", "import", NULL, 'f', NULL},
    {"description", "description", "TEXT", 's', NULL},
    {"warning-low-space-pct", "warning_low_space_pct", "PCT", 'i', NULL},
    {"critical-space-gib", "critical_space_gib", "GIB", 'i', NULL},
    {"datacenter", "datacenter", "DATACENTER", 'r', "datacenter"},
    {"format", "format", NULL, 'f', NULL},
};

static const st_verb sd_verbs[] = {
    {"list", "", "", "", NULL, NULL, VR_LIST_OPTS},
    {"show", "NAME-or-ID", "", "", NULL, NULL, BIT(O_JSON)},
    {"create", "", " type storage-type path address vfs-type mount-options nfs-version host import description"
     " warning-low-space-pct critical-space-gib ", " type storage-type path host ", "POST", NULL,
     BIT(O_NAME) | VR_JOB_OPTS},
    {"attach", "NAME-or-ID", " datacenter ", " datacenter ", "POST", "attach", VR_JOB_OPTS},
    {"activate", "NAME-or-ID", "", "", "POST", "activate", BIT(O_JSON)},
    {"maintenance", "NAME-or-ID", "", "", "POST", "maintenance", BIT(O_JSON)},
    {"detach", "NAME-or-ID", "", "", "POST", "detach", VR_JOB_OPTS},
    {"remove", "NAME-or-ID", " format host ", "", "DELETE", NULL, VR_JOB_OPTS},
};

static const vr_column sd_cols[] = {{"NAME", "name", 0}, {"TYPE", "type", 0}, {"STORAGE", "storage_type", 0},
                                    {"STATUS", "status", 0}, {"MASTER", "master", 0}, {"FREE", "free_bytes", 0},
                                    {"TOTAL", "total_bytes", 0}, {"ID", "id", 0}};

static const st_opt disk_opts[] = {
    {"alias", "alias", "ALIAS", 's', NULL},
    {"storage-domain", "storage_domain", "SD", 'r', "sd"},
    {"size", "provisioned_size", "BYTES", 'i', NULL},
    {"format", "format", "raw|cow", 's', NULL},
    {"preallocated", "sparse", NULL, 'F', NULL},
    {"interface", "interface", "virtio|virtio_scsi|sata|ide", 's', NULL},
    {"bootable", "bootable", NULL, 'f', NULL},
    {"shareable", "shareable", NULL, 'f', NULL},
    {"read-only", "read_only", NULL, 'f', NULL},
    {"wipe-after-delete", "wipe_after_delete", NULL, 'f', NULL},
    {"description", "description", "TEXT", 's', NULL},
    {"sd", "storage_domain", "SD", 'r', "sd"}, /* resolve: the domain of the copy to keep */
};

static const st_verb disk_verbs[] = {
    {"list", "", "", "", NULL, NULL, VR_LIST_OPTS},
    {"show", "ALIAS-or-ID", "", "", NULL, NULL, BIT(O_JSON)},
    {"create", "", " alias storage-domain size format preallocated interface bootable shareable read-only"
     " wipe-after-delete description ", " alias storage-domain size ", "POST", NULL, VR_JOB_OPTS},
    {"delete", "ALIAS-or-ID", "", "", "DELETE", NULL, VR_JOB_OPTS},
    {"copy", "ALIAS-or-ID", " storage-domain ", " storage-domain ", "POST", "copy", VR_JOB_OPTS},
    {"move", "ALIAS-or-ID", " storage-domain ", " storage-domain ", "POST", "move", VR_JOB_OPTS},
    {"extend", "ALIAS-or-ID", " size ", " size ", "POST", "extend", VR_JOB_OPTS},
    {"resolve", "ALIAS-or-ID", " sd ", " sd ", "POST", "resolve", VR_JOB_OPTS},
};

static const vr_column disk_cols[] = {{"ALIAS", "alias", 0},   {"SIZE", "provisioned_size", 0},
                                      {"ACTUAL", "actual_size", 0}, {"FORMAT", "format", 0},
                                      {"STATUS", "status", 0}, {"DOMAIN", "storage_domain", 0},
                                      {"ID", "id", 0}};

static const st_opt snap_opts[] = {
    {"vm", "vm_id", "VM", 'r', "vm"},
    {"description", "description", "TEXT", 's', NULL},
    {"persist-memorystate", "persist_memorystate", NULL, 'f', NULL},
};

static const st_verb snap_verbs[] = {
    {"list", "", "", "", NULL, NULL, VR_LIST_OPTS},
    {"show", "ID", "", "", NULL, NULL, BIT(O_JSON)},
    {"create", "", " vm description persist-memorystate ", " vm ", "POST", NULL, VR_JOB_OPTS},
    {"delete", "ID", "", "", "DELETE", NULL, VR_JOB_OPTS},
    {"preview", "ID", "", "", "POST", "preview", VR_JOB_OPTS},
    {"commit", "ID", "", "", "POST", "commit", VR_JOB_OPTS},
    {"undo", "ID", "", "", "POST", "undo", VR_JOB_OPTS},
    {"restore", "ID", "", "", "POST", "restore", VR_JOB_OPTS},
};

static const vr_column snap_cols[] = {{"CREATED", "created_at", VR_FMT_TIME}, {"DESCRIPTION", "description", 0},
                                      {"TYPE", "type", 0}, {"STATUS", "status", 0}, {"QUIESCED", "quiesced", 0},
                                      {"ID", "id", 0}};

static const st_opt tmpl_opts[] = {
    {"vm", "vm", "VM", 'r', "vm"},
    {"description", "description", "TEXT", 's', NULL},
    {"base-template", "base_template", "TEMPLATE", 'r', "template"},
    {"version-name", "version_name", "TEXT", 's', NULL},
    {"cluster", "cluster_id", "CLUSTER", 'r', "cluster"},
    {"clone", "clone", NULL, 'f', NULL},
    {"version", "version", "latest", 's', NULL},
};

static const st_verb tmpl_verbs[] = {
    {"list", "", "", "", NULL, NULL, VR_LIST_OPTS},
    {"show", "NAME-or-ID", "", "", NULL, NULL, BIT(O_JSON)},
    {"create", "", " vm description base-template version-name ", " vm ", "POST", NULL, BIT(O_NAME) | VR_JOB_OPTS},
    {"delete", "NAME-or-ID", "", "", "DELETE", NULL, VR_JOB_OPTS},
    {"createvm", "NAME-or-ID", " cluster description clone version ", "", "POST", "createvm",
     BIT(O_NAME) | VR_JOB_OPTS},
};

static const vr_column tmpl_cols[] = {{"NAME", "name", 0}, {"VERSION", "version_number", 0},
                                      {"STATUS", "status", 0}, {"MEMORY", "memory_mib", VR_FMT_MIB},
                                      {"VCPUS", "vcpus", 0}, {"ID", "id", 0}};

static const st_opt pool_opts[] = {
    {"cluster", "cluster_id", "CLUSTER", 'r', "cluster"},
    {"template", "template_id", "TEMPLATE", 'r', "template"},
    {"type", "type", "automatic|manual", 's', NULL},
    {"size", "size", "N", 'i', NULL},
    {"prestarted", "prestarted", "N", 'i', NULL},
    {"max-user-vms", "max_user_vms", "N", 'i', NULL},
    {"stateless", "stateless", NULL, 'f', NULL},
    {"description", "description", "TEXT", 's', NULL},
    {"vm", "vm", "VM", 'r', "vm"},
};

static const st_verb pool_verbs[] = {
    {"list", "", "", "", NULL, NULL, VR_LIST_OPTS},
    {"show", "NAME-or-ID", "", "", NULL, NULL, BIT(O_JSON)},
    {"create", "", " cluster template type size prestarted max-user-vms stateless description ",
     " cluster template ", "POST", NULL, BIT(O_NAME) | BIT(O_JSON)},
    {"update", "NAME-or-ID", " size prestarted max-user-vms description ", "", "PUT", NULL, BIT(O_JSON)},
    {"delete", "NAME-or-ID", "", "", "DELETE", NULL, BIT(O_JSON)},
    {"allocate", "NAME-or-ID", "", "", "POST", "allocatevm", BIT(O_JSON)},
    {"release", "NAME-or-ID", " vm ", " vm ", "POST", "releasevm", BIT(O_JSON)},
};

static const vr_column pool_cols[] = {{"NAME", "name", 0}, {"TYPE", "type", 0}, {"SIZE", "size", 0},
                                      {"VMS", "vm_count", 0}, {"IN-USE", "allocated", 0},
                                      {"PRESTARTED", "prestarted", 0}, {"ID", "id", 0}};

static const st_obj objs[] = {
    {"sd", "storagedomains", "storage domain", sd_opts, N(sd_opts), sd_verbs, N(sd_verbs), sd_cols, N(sd_cols)},
    {"disk", "disks", "disk", disk_opts, N(disk_opts), disk_verbs, N(disk_verbs), disk_cols, N(disk_cols)},
    {"snapshot", "snapshots", "snapshot", snap_opts, N(snap_opts), snap_verbs, N(snap_verbs), snap_cols,
     N(snap_cols)},
    {"template", "templates", "template", tmpl_opts, N(tmpl_opts), tmpl_verbs, N(tmpl_verbs), tmpl_cols,
     N(tmpl_cols)},
    {"pool", "vmpools", "VM pool", pool_opts, N(pool_opts), pool_verbs, N(pool_verbs), pool_cols, N(pool_cols)},
};

/* The CLI kind of an object, for name lookup and paths. */
static const kind sd_kind = {"sd", "storagedomains", sd_cols, N(sd_cols), NULL, VR_NO_NAMES, true, false,
                             NULL, NULL, NULL};
static const kind disk_kind = {"disk", "disks", disk_cols, N(disk_cols), NULL, VR_NO_NAMES, true, true,
                               NULL, NULL, NULL};
static const kind snap_kind = {"snapshot", "snapshots", snap_cols, N(snap_cols), NULL, VR_NO_NAMES, true, true,
                               NULL, NULL, NULL};

static const kind tmpl_kind = {"template", "templates", tmpl_cols, N(tmpl_cols), NULL, VR_NO_NAMES, true, false,
                               NULL, NULL, NULL};

static const kind pool_kind = {"pool", "vmpools", pool_cols, N(pool_cols), NULL, VR_NO_NAMES, false, false,
                               NULL, NULL, NULL};

static const kind *kind_of(const char *name)
{
    return !strcmp(name, "sd") ? &sd_kind : !strcmp(name, "disk") ? &disk_kind
         : !strcmp(name, "template") ? &tmpl_kind : !strcmp(name, "pool") ? &pool_kind : &snap_kind;
}

static bool has(const char *list, const char *opt)
{
    char word[64];
    snprintf(word, sizeof(word), " %s ", opt);
    return strstr(list, word) != NULL;
}

static void usage(FILE *f, const st_obj *o)
{
    for (size_t i = 0; i < o->nverbs; i++) {
        const st_verb *v = &o->verbs[i];
        fprintf(f, "%s vireo %s %s%s%s", i ? "      " : "usage:", o->name, v->verb, *v->operands ? " " : "",
                v->operands);
        if ((!strcmp(v->verb, "create") && (!strcmp(o->name, "sd") || !strcmp(o->name, "pool"))) ||
            !strcmp(v->verb, "createvm"))
            fprintf(f, " --name NAME");
        else if (!strcmp(v->verb, "create") && !strcmp(o->name, "template"))
            fprintf(f, " [--name NAME]");
        for (size_t j = 0; j < o->nopts; j++) {
            const st_opt *p = &o->opts[j];
            if (has(v->opts, p->opt))
                fprintf(f, has(v->needs, p->opt) ? " --%s%s%s" : " [--%s%s%s]", p->opt, p->meta ? " " : "",
                        p->meta ? p->meta : "");
        }
        if (v->allowed & BIT(O_WAIT))
            fprintf(f, " [--wait [--timeout S]]");
        if (!strcmp(v->verb, "list"))
            fprintf(f, " [--search EXPR] [--sortby [-]FIELD] [--max N] [--page N]");
        fprintf(f, "%s\n", v->allowed & BIT(O_JSON) ? " [--json]" : "");
    }
    if (!strcmp(o->name, "disk")) /* transfer_cmd.c */
        fprintf(f, "       vireo disk upload FILE --storage-domain SD [--alias ALIAS] [--format raw|cow] [--json]\n"
                   "       vireo disk download ALIAS-or-ID FILE\n");
}

/* An alias or id of a disk to its id: the alias must name one disk. */
int vr_cli_resolve_disk(const vr_session *s, const char *ref, char **id)
{
    *id = NULL;
    if (strlen(ref) == 36 && strspn(ref, "0123456789abcdefABCDEF-") == 36) {
        *id = strdup(ref);
        return *id ? 0 : 3;
    }
    char *clause = NULL;
    vr_response r;
    if (asprintf(&clause, "alias=%s", ref) < 0)
        return 3;
    int rc = vr_http_list(s, "disks", clause, NULL, 1000, 1, &r);
    free(clause);
    size_t i, n = 0;
    json_t *row;
    json_array_foreach(rc ? NULL : json_object_get(r.json, "disks"), i, row)
        if (!strcmp(json_string_value(json_object_get(row, "alias")) ?: "", ref) && n++ == 0)
            *id = strdup(json_string_value(json_object_get(row, "id")) ?: "");
    vr_response_free(&r);
    if (!rc && n != 1) {
        if (n)
            fprintf(stderr, "vireo: %zu disks have the alias '%s'; name one by its id\n", n, ref);
        else
            fprintf(stderr, "vireo: no disk with the alias '%s'\n", ref);
        free(*id);
        *id = NULL;
        rc = 1;
    }
    return rc;
}

static int resolve(const vr_session *s, const char *ref_kind, const char *ref, char **id)
{
    if (!strcmp(ref_kind, "disk"))
        return vr_cli_resolve_disk(s, ref, id);
    const kind *k = vr_kind_find(ref_kind);
    return vr_resolve(s, k ? k : kind_of(ref_kind), ref, id);
}

/* Checks that need no server: required options given, others apply. */
static int check_usage(const st_obj *o, const st_verb *v, const args *a)
{
    int rc = 0;
    for (const char *p = v->needs; *p && !rc; p += strspn(p, " ")) {
        size_t len = strcspn(p, " ");
        bool given = false;
        for (int i = 0; i < a->nx; i++)
            given |= strlen(a->xopt[i]) == len && !strncmp(a->xopt[i], p, len);
        if (len && !given) {
            fprintf(stderr, "vireo: %s %s needs --%.*s\n", o->name, v->verb, (int)len, p);
            rc = 2;
        }
        p += len;
    }
    if (!rc && !a->name && (((!strcmp(o->name, "sd") || !strcmp(o->name, "pool")) && !strcmp(v->verb, "create")) ||
                            !strcmp(v->verb, "createvm"))) {
        fprintf(stderr, "vireo: %s %s needs --name NAME\n", o->name, v->verb);
        rc = 2;
    }
    for (int i = 0; i < a->nx && !rc; i++)
        if (!has(v->opts, a->xopt[i])) {
            fprintf(stderr, "vireo: --%s does not apply to '%s %s'\n", a->xopt[i], o->name, v->verb);
            rc = 2;
        }
    return rc;
}

/* The body from the options (references looked up): 0, 2 or the
 * lookup's code. */
static int build_body(const vr_session *s, const st_obj *o, const st_verb *v, const args *a, json_t **out)
{
    json_t *body = json_object();
    int rc = 0;
    if (a->name)
        json_object_set_new(body, "name", json_string(a->name));
    for (int i = 0; i < a->nx && !rc; i++) {
        const st_opt *p = NULL;
        for (size_t j = 0; j < o->nopts; j++)
            if (!strcmp(o->opts[j].opt, a->xopt[i]))
                p = &o->opts[j];
        json_t *val = NULL;
        long n;
        char *id = NULL;
        if (!p || !has(v->opts, p->opt)) {
            fprintf(stderr, "vireo: --%s does not apply to '%s %s'\n", a->xopt[i], o->name, v->verb);
            rc = 2;
        } else if (p->type == 'f' || p->type == 'F') {
            val = json_boolean(p->type == 'f');
        } else if (p->type == 'i') {
            if (!vr_parse_long(a->xval[i], 0, LONG_MAX, &n))
                rc = vr_bad_value(p->opt, a->xval[i]);
            else
                val = json_integer(n);
        } else if (p->type == 'r') {
            if ((rc = resolve(s, p->ref, a->xval[i], &id)) == 0)
                val = json_string(id);
            free(id);
        } else if (!(val = json_string(a->xval[i]))) { /* jansson refuses text that is not UTF-8 */
            rc = vr_bad_value(p->opt, a->xval[i]);
        }
        if (val)
            json_object_set_new(body, p->member, val);
    }
    if (rc)
        json_decref(body);
    else
        *out = body;
    return rc;
}

/* After a create job: the object the job made (an import changes its id). */
static int print_job_object(const vr_session *s, const st_obj *o, const char *job_id, bool json)
{
    char *path = vr_entity_path(vr_kind_find("job"), job_id, NULL), *obj = NULL;
    vr_response r;
    int rc = path ? vr_http(s, "GET", path, NULL, 0, &r) : 3;
    const char *oid = rc ? NULL : json_string_value(json_object_get(r.json, "object_id"));
    if (oid && asprintf(&obj, "/api/%s/%s", o->coll, oid) < 0)
        obj = NULL;
    if (!rc)
        rc = obj ? vr_get_print(s, obj, json) : 3;
    if (path)
        vr_response_free(&r);
    free(obj);
    free(path);
    return rc;
}

static int run(const vr_session *s, const st_obj *o, const st_verb *v, const args *a, json_t *body)
{
    const kind *k = kind_of(o->name);
    vr_response r = {0};
    char *id = NULL, *path = NULL;
    int rc = 0;
    bool waited = false;
    if (!strcmp(v->verb, "list")) {
        rc = vr_http_list(s, o->coll, a->search, a->sortby, a->max > 0 ? a->max : 100, a->page > 0 ? a->page : 1, &r);
        if (rc == 0 && a->json)
            vr_print_raw(&r);
        else if (rc == 0)
            vr_table_print(stdout, o->cols, o->ncols, json_object_get(r.json, o->coll));
        vr_response_free(&r);
        return rc;
    }
    if (!strcmp(v->verb, "create")) {
        if (asprintf(&path, "/api/%s", o->coll) < 0)
            return 3;
        if ((rc = vr_http(s, "POST", path, body, 0, &r)) == 0 && (rc = vr_job_answer(s, &r, a, &waited)) == 0 &&
            waited)
            rc = print_job_object(s, o, json_string_value(json_object_get(json_object_get(r.json, "job"), "id")),
                                  a->json);
        goto out;
    }
    if ((rc = resolve(s, o->name, a->pos[0], &id)) != 0)
        goto out;
    if (!v->method) {
        rc = (path = vr_entity_path(k, id, NULL)) ? vr_get_print(s, path, a->json) : 3;
    } else if (!strcmp(v->method, "DELETE")) {
        char *base = vr_entity_path(k, id, NULL);
        bool format = json_is_true(json_object_get(body, "format"));
        /* host is an id the engine resolved (a UUID): nothing to escape */
        const char *host = json_string_value(json_object_get(body, "host"));
        if (!base || asprintf(&path, "%s%s%s%s", base,
                              format ? "?format=true" : host ? "?format=false" : "", host ? "&host=" : "",
                              host ? host : "") < 0)
            path = NULL;
        free(base);
        if (!path)
            rc = 3;
        else if ((rc = vr_http(s, "DELETE", path, NULL, 0, &r)) == 0 && r.status == 202)
            rc = vr_job_answer(s, &r, a, &waited);
    } else {
        rc = vr_entity_change(s, k, id, v->method, v->action, body, a);
    }
out:
    vr_response_free(&r);
    free(path);
    free(id);
    return rc;
}

int vr_storage_cmd(int argc, char **argv)
{
    const st_obj *o = NULL;
    for (size_t i = 0; i < N(objs); i++)
        if (!strcmp(argv[0], objs[i].name))
            o = &objs[i];
    if (!o)
        return -1;
    const st_verb *v = NULL;
    for (size_t i = 0; argc > 1 && i < o->nverbs; i++)
        if (!strcmp(argv[1], o->verbs[i].verb))
            v = &o->verbs[i];
    if (!v) {
        bool help = argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
        if (!help && argc > 1)
            fprintf(stderr, "vireo: %s has no command '%s'\n", o->name, argv[1]);
        usage(help ? stdout : stderr, o);
        return help ? 0 : 2;
    }
    vr_xopt xo[16];
    for (size_t i = 0; i < o->nopts; i++)
        xo[i] = (vr_xopt){o->opts[i].opt, strchr("fF", o->opts[i].type) != NULL};
    args a;
    int rc = vr_parse_args(argc, argv, 2, v->allowed | BIT(O_EXTRA), xo, o->nopts, v->operands, &a);
    if (rc == 0)
        rc = check_usage(o, v, &a);
    if (rc) {
        if (rc < 0)
            usage(stdout, o);
        else
            fprintf(stderr, "vireo: see 'vireo %s --help'\n", o->name);
        return rc < 0 ? 0 : rc;
    }
    vr_session s;
    json_t *body = NULL;
    if ((rc = vr_session_load(&s, 0)) == 0 && (rc = build_body(&s, o, v, &a, &body)) == 0)
        rc = run(&s, o, v, &a, body);
    vr_session_clear(&s);
    json_decref(body);
    return rc;
}
