/* The scaffold of verb-table commands (verb_cmd.h). */
#include "verb_cmd.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *f, const vr_verb *verbs, size_t n, const char *obj)
{
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(verbs[i].obj, obj))
            continue;
        fprintf(f, "%s vireo %s %s%s%s%s%s%s\n", first ? "usage:" : "      ", obj, verbs[i].verb,
                *verbs[i].operands ? " " : "", verbs[i].operands, *verbs[i].usage ? " " : "", verbs[i].usage,
                verbs[i].allowed & BIT(O_WAIT) ? " [--wait [--timeout S]]" : "");
        first = false;
    }
}

const vr_verb *vr_verb_parse(int argc, char **argv, const vr_verb *verbs, size_t n, const vr_xopt *xo, size_t nxo,
                             args *a, int *rc)
{
    const vr_verb *v = NULL;
    for (size_t i = 0; argc > 1 && i < n; i++)
        if (!strcmp(verbs[i].obj, argv[0]) && !strcmp(argv[1], verbs[i].verb))
            v = &verbs[i];
    if (!v) {
        bool help = argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
        if (!help && argc > 1)
            fprintf(stderr, "vireo: %s has no command '%s'\n", argv[0], argv[1]);
        usage(help ? stdout : stderr, verbs, n, argv[0]);
        *rc = help ? 0 : 2;
        return NULL;
    }
    *rc = vr_parse_args(argc, argv, 2, v->allowed | BIT(O_EXTRA), xo, nxo, v->operands, a);
    if (*rc == 0 && !strcmp(v->verb, "create") && !a->name) {
        fprintf(stderr, "vireo: %s create needs --name NAME\n", v->obj);
        *rc = 2;
    }
    if (*rc == 0)
        return v;
    if (*rc < 0)
        usage(stdout, verbs, n, v->obj);
    else
        fprintf(stderr, "vireo: see 'vireo %s --help'\n", v->obj);
    *rc = *rc < 0 ? 0 : *rc;
    return NULL;
}

bool vr_verb_has(const vr_verb *v, const char *opt)
{
    char word[64];
    snprintf(word, sizeof(word), " %s ", opt);
    return strstr(v->opts, word) != NULL;
}

int vr_send_print(const vr_session *s, const char *method, const char *path, json_t *body, const args *a)
{
    vr_response r;
    int rc = vr_http(s, method, path, body, 0, &r);
    if (rc == 0 && r.json)
        vr_print_entity(&r, a->json);
    vr_response_free(&r);
    return rc;
}

static void print_answer(int rc, vr_response *r, const char *coll, const vr_column *cols, size_t ncols,
                         const args *a)
{
    if (rc == 0 && a->json)
        vr_print_raw(r);
    else if (rc == 0)
        vr_table_print(stdout, cols, ncols, json_object_get(r->json, coll));
    vr_response_free(r);
}

int vr_list_print(const vr_session *s, const char *path, const char *coll, const vr_column *cols, size_t ncols,
                  const args *a)
{
    vr_response r;
    int rc = vr_http(s, "GET", path, NULL, 0, &r);
    print_answer(rc, &r, coll, cols, ncols, a);
    return rc;
}

int vr_kind_list_print(const vr_session *s, const kind *k, const args *a)
{
    vr_response r;
    int rc = vr_http_list(s, k->coll, a->search, a->sortby, a->max > 0 ? a->max : 100, a->page > 0 ? a->page : 1, &r);
    print_answer(rc, &r, k->coll, k->cols, k->ncols, a);
    return rc;
}

int vr_verb_main(int argc, char **argv, const vr_verb *verbs, size_t n, const vr_xopt *xo, size_t nxo,
                 vr_verb_build_fn build, vr_verb_run_fn run)
{
    args a;
    int rc;
    const vr_verb *v = vr_verb_parse(argc, argv, verbs, n, xo, nxo, &a, &rc);
    if (!v)
        return rc;
    vr_session s;
    json_t *body = json_object();
    char *ref = NULL;
    if ((rc = vr_session_load(&s, 0)) == 0 && (rc = build(&s, v, &a, body, &ref)) == 0)
        rc = run(&s, v, &a, body, ref);
    vr_session_clear(&s);
    json_decref(body);
    free(ref);
    return rc;
}

/* An entity of n named ref (or with that id), under parent when given; a
 * name two parents use needs the parent's option. */
static int nested_resolve(const vr_session *s, const vr_nested *n, const char *parent, const char *ref, char **id)
{
    *id = NULL;
    char *path = NULL;
    if (parent ? asprintf(&path, "/api/%s/%s/%s?max=1000", n->parent_coll, parent, n->k->coll) < 0
               : asprintf(&path, "/api/%s?max=1000", n->k->coll) < 0)
        return 3;
    vr_response r;
    int rc = vr_http(s, "GET", path, NULL, 0, &r), found = 0;
    free(path);
    size_t i;
    json_t *row;
    json_array_foreach(rc ? NULL : json_object_get(r.json, n->k->coll), i, row) {
        const char *name = json_string_value(json_object_get(row, "name"));
        const char *rid = json_string_value(json_object_get(row, "id"));
        if (rid && ((name && !strcmp(name, ref)) || !strcmp(rid, ref)) && found++ == 0)
            *id = strdup(rid);
    }
    vr_response_free(&r);
    if (!rc && found != 1) {
        if (found)
            fprintf(stderr, "vireo: %d %ss are named '%s'; say which %s with --%s\n", found, n->title, ref,
                    n->parent_opt, n->parent_opt);
        else
            fprintf(stderr, "vireo: no %s named '%s'\n", n->title, ref);
        free(*id);
        *id = NULL;
        rc = found ? 2 : 1;
    }
    return rc;
}

int vr_nested_run(const vr_session *s, const vr_nested *n, const vr_verb *v, const args *a, json_t *body,
                  const char *parent)
{
    const char *w = v->verb;
    char *id = NULL, *path = NULL;
    int rc = 0;
    if (!strcmp(w, "list")) {
        if (!parent)
            return vr_kind_list_print(s, n->k, a);
        rc = asprintf(&path, "/api/%s/%s/%s?max=%ld&page=%ld", n->parent_coll, parent, n->k->coll,
                      a->max > 0 ? a->max : 100, a->page > 0 ? a->page : 1) < 0
                 ? 3 : vr_list_print(s, path, n->k->coll, n->k->cols, n->k->ncols, a);
        free(path);
        return rc;
    }
    if (!strcmp(w, "create")) {
        if (!parent) {
            fprintf(stderr, "vireo: %s create needs --%s %s\n", v->obj, n->parent_opt, n->parent_opt);
            return 2;
        }
        rc = asprintf(&path, "/api/%s/%s/%s", n->parent_coll, parent, n->k->coll) < 0 ? 3
             : vr_send_print(s, "POST", path, body, a);
        free(path);
        return rc;
    }
    if ((rc = nested_resolve(s, n, parent, a->pos[0], &id)) != 0)
        return rc;
    if (!(path = vr_entity_path(n->k, id, NULL)))
        rc = 3;
    else if (!strcmp(w, "show"))
        rc = vr_get_print(s, path, a->json);
    else if (!strcmp(w, "update"))
        rc = vr_send_print(s, "PUT", path, body, a);
    else
        rc = vr_send_print(s, "DELETE", path, NULL, a);
    free(path);
    free(id);
    return rc;
}
