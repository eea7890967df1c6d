/* `vireo affinitygroup ...`: affinity groups of a cluster's VMs
 * (docs/availability.md "Affinity groups", docs/cli.md). Group names are
 * unique within a cluster only: --cluster says which when two clusters use
 * one. Bodies are built with jansson only. Exit codes as cli.h says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "affinity_cmd.h"
#include "table.h"
#include "verb_cmd.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const vr_column ag_cols[] = {{"NAME", "name", 0}, {"POSITIVE", "positive", 0}, {"ENFORCING", "enforcing", 0},
                                    {"CLUSTER", "cluster_id", 0}, {"ID", "id", 0}};

static const kind ag_kind = {"affinitygroup", "affinitygroups", ag_cols, N(ag_cols), NULL, VR_NO_NAMES, false,
                             false, NULL, NULL, NULL};

static const vr_xopt xopts[] = {
    {"cluster", false}, {"description", false}, {"vm", false}, {"no-vms", true},
    {"positive", true}, {"negative", true},      {"enforcing", true}, {"soft", true},
};

static const vr_verb verbs[] = {
    {"affinitygroup", "list", "", " cluster ", "[--cluster CLUSTER]", VR_LIST_OPTS},
    {"affinitygroup", "show", "NAME-or-ID", " cluster ", "[--cluster CLUSTER]", BIT(O_JSON)},
    {"affinitygroup", "create", "", " cluster description vm positive negative enforcing soft ",
     "--name NAME --cluster CLUSTER [--negative] [--soft] [--vm VM]... [--description TEXT]",
     BIT(O_NAME) | BIT(O_JSON)},
    {"affinitygroup", "update", "NAME-or-ID", " cluster description vm no-vms positive negative enforcing soft ",
     "[--cluster CLUSTER] [--name NEW] [--positive|--negative] [--enforcing|--soft] [--vm VM]... [--no-vms]"
     " [--description TEXT]", BIT(O_NAME) | BIT(O_JSON)},
    {"affinitygroup", "delete", "NAME-or-ID", " cluster ", "[--cluster CLUSTER]", 0},
};

/* The body from the options (VMs by name or id: the engine resolves them
 * within the group's cluster); *cluster gets --cluster's id. */
static int build(const vr_session *s, const vr_verb *v, const args *a, json_t *body, char **cluster)
{
    int rc = 0;
    for (int i = 0; i < a->nx && !rc; i++) {
        const char *o = a->xopt[i], *val = a->xval[i];
        if (!vr_verb_has(v, o)) {
            fprintf(stderr, "vireo: --%s does not apply to '%s %s'\n", o, v->obj, v->verb);
            rc = 2;
        } else if (!strcmp(o, "cluster")) {
            free(*cluster);
            *cluster = NULL;
            rc = vr_resolve(s, vr_kind_find("cluster"), val, cluster);
        } else if (!strcmp(o, "description")) {
            json_t *t = json_string(val);
            rc = t ? 0 : vr_bad_value(o, val);
            json_object_set_new(body, o, t);
        } else if (!strcmp(o, "vm") || !strcmp(o, "no-vms")) {
            json_t *vms = json_object_get(body, "vms"), *t = val ? json_string(val) : NULL;
            if (!vms)
                json_object_set_new(body, "vms", vms = json_array());
            if (val && !t)
                rc = vr_bad_value(o, val);
            else if (t)
                json_array_append_new(vms, t);
        } else { /* the flags: positive|negative, enforcing|soft */
            bool pos = !strcmp(o, "positive") || !strcmp(o, "negative");
            const char *member = pos ? "positive" : "enforcing";
            bool want = !strcmp(o, "positive") || !strcmp(o, "enforcing");
            json_t *had = json_object_get(body, member);
            if (had && json_is_true(had) != want) {
                fprintf(stderr, "vireo: --%s contradicts an earlier option\n", o);
                rc = 2;
            }
            json_object_set_new(body, member, json_boolean(want));
        }
    }
    if (!rc && a->name)
        json_object_set_new(body, "name", json_string(a->name));
    return rc;
}

static const vr_nested ag_nested = {&ag_kind, "clusters", "cluster", "affinity group"};

static int run(const vr_session *s, const vr_verb *v, const args *a, json_t *body, const char *cluster)
{
    return vr_nested_run(s, &ag_nested, v, a, body, cluster);
}

int vr_affinity_cmd(int argc, char **argv)
{
    if (strcmp(argv[0], "affinitygroup"))
        return -1;
    return vr_verb_main(argc, argv, verbs, N(verbs), xopts, N(xopts), build, run);
}
