/* `vireo quota ...`: quotas of a data center (docs/permissions.md
 * "Quotas", docs/cli.md). Quota names are unique within a data center
 * only: --datacenter says which when two use one. Limits are integers, -1
 * for unlimited; per-cluster and per-domain limits go through the REST
 * API; the data center's mode is `vireo datacenter update DC --quota-mode
 * MODE`. Exit codes as cli.h says. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quota_cmd.h"
#include "table.h"
#include "verb_cmd.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const vr_column q_cols[] = {{"NAME", "name", 0}, {"VCPUS", "vcpus", 0}, {"MEMORY_MIB", "memory_mib", 0},
                                   {"STORAGE_GIB", "storage_gib", 0}, {"DATACENTER", "datacenter_id", 0},
                                   {"ID", "id", 0}};

static const kind q_kind = {"quota", "quotas", q_cols, N(q_cols), NULL, VR_NO_NAMES, false, false, NULL, NULL, NULL};

static const vr_nested q_nested = {&q_kind, "datacenters", "datacenter", "quota"};

/* --OPTION and the integer member it sets. */
static const char *const int_opts[][2] = {
    {"vcpus", "vcpus"}, {"memory-mib", "memory_mib"}, {"storage-gib", "storage_gib"},
    {"cluster-grace", "cluster_grace_pct"}, {"storage-grace", "storage_grace_pct"},
};

static const vr_xopt xopts[] = {
    {"datacenter", false}, {"description", false}, {"vcpus", false}, {"memory-mib", false},
    {"storage-gib", false}, {"cluster-grace", false}, {"storage-grace", false},
};

#define LIMITS "[--vcpus N] [--memory-mib N] [--storage-gib N] [--cluster-grace PCT] [--storage-grace PCT]" \
    " [--description TEXT]"
#define LIMIT_OPTS " datacenter description vcpus memory-mib storage-gib cluster-grace storage-grace "

static const vr_verb verbs[] = {
    {"quota", "list", "", " datacenter ", "[--datacenter DC]", VR_LIST_OPTS},
    {"quota", "show", "NAME-or-ID", " datacenter ", "[--datacenter DC]", BIT(O_JSON)},
    {"quota", "create", "", LIMIT_OPTS, "--name NAME --datacenter DC " LIMITS, BIT(O_NAME) | BIT(O_JSON)},
    {"quota", "update", "NAME-or-ID", LIMIT_OPTS, "[--datacenter DC] [--name NEW] " LIMITS,
     BIT(O_NAME) | BIT(O_JSON)},
    {"quota", "delete", "NAME-or-ID", " datacenter ", "[--datacenter DC]", 0},
};

static const char *int_member(const char *opt)
{
    for (size_t i = 0; i < N(int_opts); i++)
        if (!strcmp(int_opts[i][0], opt))
            return int_opts[i][1];
    return NULL;
}

/* The body from the options; *dc gets --datacenter's id. */
static int build(const vr_session *s, const vr_verb *v, const args *a, json_t *body, char **dc)
{
    int rc = 0;
    for (int i = 0; i < a->nx && !rc; i++) {
        const char *o = a->xopt[i], *val = a->xval[i], *member = int_member(o);
        if (!vr_verb_has(v, o)) {
            fprintf(stderr, "vireo: --%s does not apply to '%s %s'\n", o, v->obj, v->verb);
            rc = 2;
        } else if (!strcmp(o, "datacenter")) {
            free(*dc);
            *dc = NULL;
            rc = vr_resolve(s, vr_kind_find("datacenter"), val, dc);
        } else if (member) { /* the engine checks the range (-1: unlimited) */
            char *end;
            errno = 0;
            long long n = strtoll(val, &end, 10);
            if (errno || end == val || *end)
                rc = vr_bad_value(o, val);
            else
                json_object_set_new(body, member, json_integer(n));
        } else { /* description */
            json_t *t = json_string(val);
            rc = t ? 0 : vr_bad_value(o, val);
            json_object_set_new(body, o, t);
        }
    }
    if (!rc && a->name)
        json_object_set_new(body, "name", json_string(a->name));
    return rc;
}

static int run(const vr_session *s, const vr_verb *v, const args *a, json_t *body, const char *dc)
{
    return vr_nested_run(s, &q_nested, v, a, body, dc);
}

int vr_quota_cmd(int argc, char **argv)
{
    if (strcmp(argv[0], "quota"))
        return -1;
    return vr_verb_main(argc, argv, verbs, N(verbs), xopts, N(xopts), build, run);
}
