/* `vireo user|group|role|permission ...`: internal users, groups and
 * their members, roles and permissions (docs/permissions.md, docs/cli.md).
 * A new password comes from --password-file (never the command line).
 * Bodies are built with jansson only. Exit codes as cli.h says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "people_cmd.h"
#include "table.h"
#include "verb_cmd.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const vr_column user_cols[] = {{"NAME", "name", 0}, {"ENABLED", "enabled", 0},
                                      {"DESCRIPTION", "description", 0}, {"ID", "id", 0}};
static const vr_column group_cols[] = {{"NAME", "name", 0}, {"DESCRIPTION", "description", 0}, {"ID", "id", 0}};
static const vr_column member_cols[] = {{"NAME", "name", 0}, {"ID", "id", 0}};
static const vr_column role_cols[] = {{"NAME", "name", 0}, {"ADMIN", "administrative", 0},
                                      {"PREDEFINED", "predefined", 0}, {"ID", "id", 0}};
static const vr_column perm_cols[] = {{"ROLE", "role", 0}, {"USER", "user_id", 0}, {"GROUP", "group_id", 0},
                                      {"OBJECT-TYPE", "object_type", 0}, {"OBJECT", "object_id", 0},
                                      {"ID", "id", 0}};

static const kind kinds[] = {
    {"user", "users", user_cols, N(user_cols), NULL, VR_NO_NAMES, false, false, NULL, NULL, NULL},
    {"group", "groups", group_cols, N(group_cols), NULL, VR_NO_NAMES, false, false, NULL, NULL, NULL},
    {"role", "roles", role_cols, N(role_cols), NULL, VR_NO_NAMES, false, false, NULL, NULL, NULL},
    {"permission", "permissions", perm_cols, N(perm_cols), NULL, VR_NO_NAMES, false, true, NULL, NULL, NULL},
};

/* The objects a permission can be on, looked up by name (disks by id). */
static const kind objects[] = {
    {"datacenter", "datacenters", NULL, 0, NULL, VR_NO_NAMES, false, false, NULL, NULL, NULL},
    {"cluster", "clusters", NULL, 0, NULL, VR_NO_NAMES, false, false, NULL, NULL, NULL},
    {"host", "hosts", NULL, 0, NULL, VR_NO_NAMES, false, false, NULL, NULL, NULL},
    {"vm", "vms", NULL, 0, NULL, VR_NO_NAMES, false, false, NULL, NULL, NULL},
    {"storagedomain", "storagedomains", NULL, 0, NULL, VR_NO_NAMES, false, false, NULL, NULL, NULL},
    {"disk", "disks", NULL, 0, NULL, VR_NO_NAMES, false, true, NULL, NULL, NULL},
    {"template", "templates", NULL, 0, NULL, VR_NO_NAMES, false, false, NULL, NULL, NULL},
    {"vmpool", "vmpools", NULL, 0, NULL, VR_NO_NAMES, false, false, NULL, NULL, NULL},
    {"network", "networks", NULL, 0, NULL, VR_NO_NAMES, false, false, NULL, NULL, NULL},
};

static const vr_xopt xopts[] = {
    {"description", false}, {"password-file", false}, {"disable", true}, {"enable", true},
    {"user", false},        {"group", false},         {"role", false},   {"on", false},
    {"action-group", false}, {"admin", true},
};

typedef vr_verb verb;

static const verb verbs[] = {
    {"user", "list", "", "", "", VR_LIST_OPTS},
    {"user", "show", "NAME-or-ID", "", "", BIT(O_JSON)},
    {"user", "me", "", "", "", BIT(O_JSON)},
    {"user", "create", "", " password-file description disable ",
     "--name NAME@internal --password-file FILE|- | --name uid@PROFILE (a directory user) [--description T] [--disable]", BIT(O_NAME) | BIT(O_JSON)},
    {"user", "update", "NAME-or-ID", " password-file description disable enable ",
     "[--password-file FILE|-] [--enable|--disable] [--description T]", BIT(O_JSON)},
    {"user", "delete", "NAME-or-ID", "", "", 0},
    {"group", "list", "", "", "", VR_LIST_OPTS},
    {"group", "show", "NAME-or-ID", "", "", BIT(O_JSON)},
    {"group", "create", "", " description ", "--name NAME [--description T]", BIT(O_NAME) | BIT(O_JSON)},
    {"group", "delete", "NAME-or-ID", "", "", 0},
    {"group", "members", "NAME-or-ID", "", "", BIT(O_JSON)},
    {"group", "add-member", "NAME-or-ID", " user ", "--user USER", BIT(O_JSON)},
    {"group", "remove-member", "NAME-or-ID", " user ", "--user USER", 0},
    {"role", "list", "", "", "", VR_LIST_OPTS},
    {"role", "show", "NAME-or-ID", "", "", BIT(O_JSON)},
    {"role", "create", "", " action-group admin description ",
     "--name NAME --action-group G... [--admin] [--description T]", BIT(O_NAME) | BIT(O_JSON)},
    {"role", "update", "NAME-or-ID", " action-group description ", "[--action-group G]... [--description T]",
     BIT(O_JSON)},
    {"role", "delete", "NAME-or-ID", "", "", 0},
    {"permission", "list", "", "", "", VR_LIST_OPTS},
    {"permission", "show", "ID", "", "", BIT(O_JSON)},
    {"permission", "add", "", " role user group on ",
     "--role ROLE (--user USER | --group GROUP) [--on system | --on TYPE:NAME-or-ID]\n"
     "        TYPE: datacenter, cluster, host, vm, storagedomain, disk (by id), template, vmpool, network",
     BIT(O_JSON)},
    {"permission", "delete", "ID", "", "", 0},
};

static const kind *kind_of(const char *name)
{
    for (size_t i = 0; i < N(kinds); i++)
        if (!strcmp(kinds[i].name, name))
            return &kinds[i];
    return NULL;
}

/* --on system | TYPE:NAME-or-ID into object_type / object_id. */
static int target(const vr_session *s, const char *val, json_t *body)
{
    if (!strcmp(val, "system")) {
        json_object_set_new(body, "object_type", json_string("system"));
        return 0;
    }
    const char *colon = strchr(val, ':');
    for (size_t i = 0; colon && i < N(objects); i++) {
        if (strlen(objects[i].name) != (size_t)(colon - val) || strncmp(objects[i].name, val, (size_t)(colon - val)))
            continue;
        char *id = NULL;
        int rc = vr_resolve(s, &objects[i], colon + 1, &id);
        if (rc == 0) {
            json_object_set_new(body, "object_type", json_string(objects[i].name));
            json_object_set_new(body, "object_id", json_string(id));
        }
        free(id);
        return rc;
    }
    return vr_bad_value("on", val);
}

/* The body from the options, references looked up: 0 or an exit code. */
static int build(const vr_session *s, const verb *v, const args *a, json_t *body)
{
    int rc = 0;
    for (int i = 0; i < a->nx && !rc; i++) {
        const char *o = a->xopt[i], *val = a->xval[i];
        char *id = NULL;
        if (!vr_verb_has(v, o)) {
            fprintf(stderr, "vireo: --%s does not apply to '%s %s'\n", o, v->obj, v->verb);
            rc = 2;
        } else if (!strcmp(o, "description")) {
            json_t *t = json_string(val);
            rc = t ? 0 : vr_bad_value(o, val);
            json_object_set_new(body, o, t);
        } else if (!strcmp(o, "password-file")) {
            rc = vr_body_password(body, "password", val, "the new user");
        } else if (!strcmp(o, "disable") || !strcmp(o, "enable")) {
            json_object_set_new(body, "enabled", json_boolean(!strcmp(o, "enable")));
        } else if (!strcmp(o, "admin")) {
            json_object_set_new(body, "administrative", json_true());
        } else if (!strcmp(o, "action-group")) {
            json_t *g = json_object_get(body, "action_groups"), *t = json_string(val);
            if (!g)
                json_object_set_new(body, "action_groups", g = json_array());
            rc = t ? 0 : vr_bad_value(o, val);
            json_array_append_new(g, t);
        } else if (!strcmp(o, "user") || !strcmp(o, "group") || !strcmp(o, "role")) {
            if ((rc = vr_resolve(s, kind_of(o), val, &id)) == 0)
                json_object_set_new(body, !strcmp(o, "user") ? "user_id" : !strcmp(o, "group") ? "group_id"
                                                                                                : "role_id",
                                    json_string(id));
        } else if (!strcmp(o, "on")) {
            rc = target(s, val, body);
        }
        free(id);
    }
    return rc;
}

static int run(const vr_session *s, const verb *v, const args *a, json_t *body)
{
    const kind *k = kind_of(v->obj);
    const char *w = v->verb;
    char *id = NULL, *path = NULL;
    int rc = 0;
    if (!strcmp(w, "list"))
        return vr_kind_list_print(s, k, a);
    if (!strcmp(w, "create") || !strcmp(w, "add")) {
        if (a->name)
            json_object_set_new(body, "name", json_string(a->name));
        if (!strcmp(w, "add") && !json_object_get(body, "object_type"))
            json_object_set_new(body, "object_type", json_string("system"));
        return asprintf(&path, "/api/%s", k->coll) < 0 ? 3 : (rc = vr_send_print(s, "POST", path, body, a), free(path), rc);
    }
    if (!strcmp(w, "me")) /* the session's own user, groups, permissions, where it may create */
        return vr_get_print(s, "/api/users/me", a->json);
    if ((rc = vr_resolve(s, k, a->pos[0], &id)) != 0)
        return rc;
    if (!strcmp(w, "show") || !strcmp(w, "update") || !strcmp(w, "delete")) {
        if (!(path = vr_entity_path(k, id, NULL)))
            rc = 3;
        else if (!strcmp(w, "show"))
            rc = vr_get_print(s, path, a->json);
        else
            rc = vr_send_print(s, !strcmp(w, "update") ? "PUT" : "DELETE", path, !strcmp(w, "update") ? body : NULL, a);
    } else if (!strcmp(w, "members")) {
        rc = !(path = vr_entity_path(k, id, "members")) ? 3 : vr_list_print(s, path, "members", member_cols,
                                                                         N(member_cols), a);
    } else if (!json_object_get(body, "user_id")) {
        fprintf(stderr, "vireo: group %s needs --user USER\n", w);
        rc = 2;
    } else if (!strcmp(w, "add-member")) {
        rc = !(path = vr_entity_path(k, id, "members")) ? 3 : vr_send_print(s, "POST", path, body, a);
    } else {
        char *sub = NULL;
        rc = asprintf(&sub, "members/%s", json_string_value(json_object_get(body, "user_id"))) < 0 ||
                     !(path = vr_entity_path(k, id, sub))
                 ? 3 : vr_send_print(s, "DELETE", path, NULL, a);
        free(sub);
    }
    free(path);
    free(id);
    return rc;
}

int vr_people_cmd(int argc, char **argv)
{
    if (!kind_of(argv[0]))
        return -1;
    args a;
    int rc;
    const verb *v = vr_verb_parse(argc, argv, verbs, N(verbs), xopts, N(xopts), &a, &rc);
    if (!v)
        return rc;
    vr_session s;
    json_t *body = json_object();
    if ((rc = vr_session_load(&s, 0)) == 0 && (rc = build(&s, v, &a, body)) == 0)
        rc = run(&s, v, &a, body);
    vr_session_clear(&s);
    json_decref(body);
    return rc;
}
