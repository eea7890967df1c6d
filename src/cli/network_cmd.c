/* `vireo network ...` and `vireo vnicprofile ...`: logical networks,
 * their attachment to clusters, host network setup and vNIC profiles
 * (docs/networks.md, docs/cli.md). Bodies are built with jansson only:
 * user text is never pasted into JSON. Exit codes as cli.h says. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_cmd.h"
#include "network_cmd.h"
#include "table.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const vr_column net_cols[] = {{"NAME", "name", 0}, {"VLAN", "vlan", 0}, {"MTU", "mtu", 0}, {"VM", "vm", 0},
                                     {"DATACENTER", "datacenter", 0}, {"ID", "id", 0}};
static const vr_column prof_cols[] = {{"NAME", "name", 0}, {"NETWORK", "network", 0},
                                      {"FILTER", "network_filter", 0}, {"MIRROR", "port_mirroring", 0},
                                      {"ID", "id", 0}};
static const vr_column cn_cols[] = {{"NAME", "name", 0}, {"REQUIRED", "required", 0}, {"VLAN", "vlan", 0},
                                    {"ID", "id", 0}};
static const vr_column nic_cols[] = {{"NAME", "name", 0}, {"MAC", "mac", 0}, {"MTU", "mtu", 0},
                                     {"STATE", "operstate", 0}, {"MASTER", "master", 0}, {"ID", "id", 0}};

static const kind net_kind = {"network", "networks", net_cols, N(net_cols), NULL, VR_NO_NAMES, false, false,
                              NULL, NULL, NULL};
static const kind prof_kind = {"vnicprofile", "vnicprofiles", prof_cols, N(prof_cols), NULL, VR_NO_NAMES, false,
                               false, NULL, NULL, NULL};

/* Every --OPTION of these commands (flags: no value). */
static const vr_xopt xopts[] = {
    {"datacenter", false}, {"vlan", false}, {"mtu", false}, {"description", false}, {"role", false},
    {"non-vm", true},      {"cluster", false}, {"optional", true}, {"attach", false}, {"remove", false},
    {"no-check", true},    {"network", false}, {"qos-in", false}, {"qos-out", false}, {"port-mirroring", true},
    {"no-filter", true},   {"label", false},
};

typedef struct verb {
    const char *obj, *verb, *operands, *opts, *usage;
    unsigned allowed;
} verb;

static const verb verbs[] = {
    {"network", "list", "", " datacenter ", "[--datacenter DC]", VR_LIST_OPTS},
    {"network", "show", "NAME-or-ID", "", "", BIT(O_JSON)},
    {"network", "create", "", " datacenter vlan mtu description role non-vm label ",
     "--name NAME --datacenter DC [--vlan 1-4094] [--mtu N] [--non-vm] [--role R]... [--description T]",
     BIT(O_NAME) | BIT(O_JSON)},
    {"network", "update", "NAME-or-ID", " vlan mtu description role label ",
     "[--vlan 1-4094] [--mtu N] [--role R]... [--description T]", BIT(O_JSON)},
    {"network", "delete", "NAME-or-ID", "", "", 0},
    {"network", "attach", "NAME-or-ID", " cluster optional ", "--cluster CLUSTER [--optional]", BIT(O_JSON)},
    {"network", "detach", "NAME-or-ID", " cluster ", "--cluster CLUSTER", 0},
    {"network", "cluster-list", "CLUSTER", "", "", BIT(O_JSON)},
    {"network", "host-nics", "HOST", "", "", BIT(O_JSON)},
    {"network", "setup", "HOST", " attach remove no-check ",
     "[--attach NETWORK:NIC]... [--remove NETWORK]... [--no-check]", VR_JOB_OPTS},
    {"vnicprofile", "list", "", "", "", VR_LIST_OPTS},
    {"vnicprofile", "show", "NAME-or-ID", "", "", BIT(O_JSON)},
    {"vnicprofile", "create", "", " network description qos-in qos-out port-mirroring no-filter ",
     "--name NAME --network NETWORK [--qos-in AVG[,PEAK[,BURST]]] [--qos-out ...] [--port-mirroring] [--no-filter]",
     BIT(O_NAME) | BIT(O_JSON)},
    {"vnicprofile", "delete", "NAME-or-ID", "", "", 0},
};

static void usage(FILE *f, const char *obj)
{
    bool first = true;
    for (size_t i = 0; i < N(verbs); i++) {
        if (strcmp(verbs[i].obj, obj))
            continue;
        fprintf(f, "%s vireo %s %s%s%s%s%s%s\n", first ? "usage:" : "      ", obj, verbs[i].verb,
                *verbs[i].operands ? " " : "", verbs[i].operands, *verbs[i].usage ? " " : "", verbs[i].usage,
                verbs[i].allowed & BIT(O_WAIT) ? " [--wait [--timeout S]]" : "");
        first = false;
    }
}

static bool has(const char *list, const char *opt)
{
    char word[64];
    snprintf(word, sizeof(word), " %s ", opt);
    return strstr(list, word) != NULL;
}

/* "AVG[,PEAK[,BURST]]" to a libvirt bandwidth direction, or NULL. */
static json_t *qos_dir(const char *s)
{
    long v[3] = {0, 0, 0};
    int n = 0;
    char *copy = strdup(s), *save = NULL;
    for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t && n < 3; t = strtok_r(NULL, ",", &save))
        if (!vr_parse_long(t, 1, 4294967295L, &v[n++]))
            n = 4;
    free(copy);
    if (n < 1 || n > 3)
        return NULL;
    json_t *d = json_pack("{s:I}", "average", (json_int_t)v[0]);
    if (n > 1)
        json_object_set_new(d, "peak", json_integer(v[1]));
    if (n > 2)
        json_object_set_new(d, "burst", json_integer(v[2]));
    return d;
}

/* The body from the options, references looked up: 0 or an exit code. */
static int build(const vr_session *s, const verb *v, const args *a, json_t *body, char **cluster)
{
    int rc = 0;
    for (int i = 0; i < a->nx && !rc; i++) {
        const char *o = a->xopt[i], *val = a->xval[i];
        char *id = NULL;
        long n;
        if (!has(v->opts, o)) {
            fprintf(stderr, "vireo: --%s does not apply to '%s %s'\n", o, v->obj, v->verb);
            rc = 2;
        } else if (!strcmp(o, "vlan") || !strcmp(o, "mtu")) {
            if (!vr_parse_long(val, 0, INT_MAX, &n))
                rc = vr_bad_value(o, val);
            else
                json_object_set_new(body, o, json_integer(n));
        } else if (!strcmp(o, "description") || !strcmp(o, "label")) {
            json_t *t = json_string(val);
            if (!t)
                rc = vr_bad_value(o, val);
            json_object_set_new(body, o, t);
        } else if (!strcmp(o, "role")) {
            json_t *roles = json_object_get(body, "roles"), *t = json_string(val);
            if (!roles)
                json_object_set_new(body, "roles", roles = json_array());
            if (!t)
                rc = vr_bad_value(o, val);
            json_array_append_new(roles, t);
        } else if (!strcmp(o, "non-vm")) {
            json_object_set_new(body, "vm", json_false());
        } else if (!strcmp(o, "optional")) {
            json_object_set_new(body, "required", json_false());
        } else if (!strcmp(o, "port-mirroring")) {
            json_object_set_new(body, "port_mirroring", json_true());
        } else if (!strcmp(o, "no-filter")) {
            json_object_set_new(body, "network_filter", json_false());
        } else if (!strcmp(o, "no-check")) {
            json_object_set_new(body, "check_connectivity", json_false());
        } else if (!strcmp(o, "qos-in") || !strcmp(o, "qos-out")) {
            json_t *qos = json_object_get(body, "qos"), *d = qos_dir(val);
            if (!qos)
                json_object_set_new(body, "qos", qos = json_object());
            if (!d)
                rc = vr_bad_value(o, val);
            json_object_set_new(qos, !strcmp(o, "qos-in") ? "inbound" : "outbound", d);
        } else if (!strcmp(o, "attach")) {
            const char *colon = strchr(val, ':');
            json_t *att = json_object_get(body, "attachments");
            if (!att)
                json_object_set_new(body, "attachments", att = json_array());
            json_t *net = colon ? json_stringn(val, (size_t)(colon - val)) : NULL, *nic = colon ? json_string(colon + 1)
                                                                                                 : NULL;
            if (!net || !nic) {
                json_decref(net);
                json_decref(nic);
                rc = vr_bad_value(o, val);
            } else {
                json_array_append_new(att, json_pack("{s:o, s:o}", "network", net, "nic", nic));
            }
        } else if (!strcmp(o, "remove")) {
            json_t *rem = json_object_get(body, "removed"), *t = json_string(val);
            if (!rem)
                json_object_set_new(body, "removed", rem = json_array());
            if (!t)
                rc = vr_bad_value(o, val);
            json_array_append_new(rem, t);
        } else if (!strcmp(o, "datacenter")) {
            if ((rc = vr_resolve(s, vr_kind_find("datacenter"), val, &id)) == 0)
                json_object_set_new(body, "datacenter", json_string(id));
        } else if (!strcmp(o, "network")) {
            if ((rc = vr_resolve(s, &net_kind, val, &id)) == 0)
                json_object_set_new(body, "network", json_string(id));
        } else if (!strcmp(o, "cluster")) {
            rc = vr_resolve(s, vr_kind_find("cluster"), val, cluster);
        }
        free(id);
    }
    return rc;
}

static int list(const vr_session *s, const char *path, const char *coll, const vr_column *cols, size_t ncols,
                const args *a)
{
    vr_response r;
    int rc = vr_http(s, "GET", path, NULL, 0, &r);
    if (rc == 0 && a->json)
        vr_print_raw(&r);
    else if (rc == 0)
        vr_table_print(stdout, cols, ncols, json_object_get(r.json, coll));
    vr_response_free(&r);
    return rc;
}

/* METHOD path with body; prints the answer's entity (or nothing). */
static int send_req(const vr_session *s, const char *method, const char *path, json_t *body, const args *a)
{
    vr_response r;
    int rc = vr_http(s, method, path, body, 0, &r);
    if (rc == 0 && r.json)
        vr_print_entity(&r, a->json);
    vr_response_free(&r);
    return rc;
}

static int run(const vr_session *s, const verb *v, const args *a, json_t *body, const char *cluster)
{
    bool net = !strcmp(v->obj, "network");
    const kind *k = net ? &net_kind : &prof_kind;
    const char *w = v->verb;
    char *id = NULL, *path = NULL;
    int rc = 0;
    if (!strcmp(w, "list")) {
        const char *dc = json_string_value(json_object_get(body, "datacenter"));
        if (dc ? asprintf(&path, "/api/datacenters/%s/networks?max=%ld&page=%ld", dc, a->max > 0 ? a->max : 100,
                          a->page > 0 ? a->page : 1) < 0 : 0)
            return 3;
        if (path) {
            rc = list(s, path, "networks", net_cols, N(net_cols), a);
        } else {
            vr_response r;
            rc = vr_http_list(s, k->coll, a->search, a->sortby, a->max > 0 ? a->max : 100, a->page > 0 ? a->page : 1,
                              &r);
            if (rc == 0 && a->json)
                vr_print_raw(&r);
            else if (rc == 0)
                vr_table_print(stdout, k->cols, k->ncols, json_object_get(r.json, k->coll));
            vr_response_free(&r);
        }
        free(path);
        return rc;
    }
    if (!strcmp(w, "create")) {
        json_object_set_new(body, "name", json_string(a->name));
        return asprintf(&path, "/api/%s", k->coll) < 0 ? 3 : (rc = send_req(s, "POST", path, body, a), free(path), rc);
    }
    const kind *target = !strcmp(w, "host-nics") || !strcmp(w, "setup") ? vr_kind_find("host")
                       : !strcmp(w, "cluster-list") ? vr_kind_find("cluster") : k;
    if ((rc = vr_resolve(s, target, a->pos[0], &id)) != 0)
        return rc;
    if (!strcmp(w, "show") || !strcmp(w, "update") || !strcmp(w, "delete")) {
        if (!(path = vr_entity_path(k, id, NULL)))
            rc = 3;
        else if (!strcmp(w, "show"))
            rc = vr_get_print(s, path, a->json);
        else
            rc = send_req(s, !strcmp(w, "update") ? "PUT" : "DELETE", path, !strcmp(w, "update") ? body : NULL, a);
    } else if (!strcmp(w, "attach") || !strcmp(w, "detach")) {
        if (!cluster) {
            fprintf(stderr, "vireo: network %s needs --cluster CLUSTER\n", w);
            rc = 2;
        } else if (!strcmp(w, "attach")) {
            json_object_set_new(body, "network", json_string(id));
            rc = asprintf(&path, "/api/clusters/%s/networks", cluster) < 0 ? 3 : send_req(s, "POST", path, body, a);
        } else {
            rc = asprintf(&path, "/api/clusters/%s/networks/%s", cluster, id) < 0
                     ? 3 : send_req(s, "DELETE", path, NULL, a);
        }
    } else if (!strcmp(w, "cluster-list") || !strcmp(w, "host-nics")) {
        bool cl = !strcmp(w, "cluster-list");
        rc = asprintf(&path, "/api/%s/%s/%s", cl ? "clusters" : "hosts", id, cl ? "networks" : "nics") < 0 ? 3
             : list(s, path, cl ? "networks" : "nics", cl ? cn_cols : nic_cols, cl ? N(cn_cols) : N(nic_cols), a);
    } else if (!strcmp(w, "setup")) {
        rc = vr_entity_change(s, vr_kind_find("host"), id, "POST", "setupnetworks", body, a);
    }
    free(path);
    free(id);
    return rc;
}

int vr_network_cmd(int argc, char **argv)
{
    if (strcmp(argv[0], "network") && strcmp(argv[0], "vnicprofile"))
        return -1;
    const verb *v = NULL;
    for (size_t i = 0; argc > 1 && i < N(verbs); i++)
        if (!strcmp(verbs[i].obj, argv[0]) && !strcmp(argv[1], verbs[i].verb))
            v = &verbs[i];
    if (!v) {
        bool help = argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
        if (!help && argc > 1)
            fprintf(stderr, "vireo: %s has no command '%s'\n", argv[0], argv[1]);
        usage(help ? stdout : stderr, argv[0]);
        return help ? 0 : 2;
    }
    args a;
    int rc = vr_parse_args(argc, argv, 2, v->allowed | BIT(O_EXTRA), xopts, N(xopts), v->operands, &a);
    if (rc == 0 && !strcmp(v->verb, "create") && !a.name) {
        fprintf(stderr, "vireo: %s create needs --name NAME\n", v->obj);
        rc = 2;
    }
    if (rc) {
        if (rc < 0)
            usage(stdout, v->obj);
        else
            fprintf(stderr, "vireo: see 'vireo %s --help'\n", v->obj);
        return rc < 0 ? 0 : rc;
    }
    vr_session s;
    json_t *body = json_object();
    char *cluster = NULL;
    if ((rc = vr_session_load(&s, 0)) == 0 && (rc = build(&s, v, &a, body, &cluster)) == 0)
        rc = run(&s, v, &a, body, cluster);
    vr_session_clear(&s);
    json_decref(body);
    free(cluster);
    return rc;
}
