/* `vireo network ...`, `vireo vnicprofile ...` and `vireo macpool ...`:
 * logical networks, their attachment to clusters, host network setup
 * (NIC labels too), vNIC profiles and MAC pools (docs/networks.md,
 * docs/cli.md). Bodies are built with jansson only:
 * user text is never pasted into JSON. Exit codes as cli.h says. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "network_cmd.h"
#include "table.h"
#include "verb_cmd.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const vr_column net_cols[] = {{"NAME", "name", 0}, {"VLAN", "vlan", 0}, {"MTU", "mtu", 0}, {"VM", "vm", 0},
                                     {"DATACENTER", "datacenter", 0}, {"ID", "id", 0}};
static const vr_column prof_cols[] = {{"NAME", "name", 0}, {"NETWORK", "network", 0},
                                      {"FILTER", "network_filter", 0}, {"MIRROR", "port_mirroring", 0},
                                      {"ID", "id", 0}};
static const vr_column cn_cols[] = {{"NAME", "name", 0}, {"REQUIRED", "required", 0}, {"VLAN", "vlan", 0},
                                    {"ID", "id", 0}};
static const vr_column nic_cols[] = {{"NAME", "name", 0}, {"MAC", "mac", 0}, {"MTU", "mtu", 0},
                                     {"MAX MTU", "max_mtu", 0}, {"STATE", "operstate", 0}, {"MASTER", "master", 0},
                                     {"LABEL", "label", 0}, {"ID", "id", 0}};

static const kind net_kind = {"network", "networks", net_cols, N(net_cols), NULL, VR_NO_NAMES, false, false,
                              NULL, NULL, NULL};
static const kind prof_kind = {"vnicprofile", "vnicprofiles", prof_cols, N(prof_cols), NULL, VR_NO_NAMES, false,
                               false, NULL, NULL, NULL};
static const vr_column mp_cols[] = {{"NAME", "name", 0}, {"DUPLICATES", "allow_duplicates", 0},
                                    {"IN USE", "macs_in_use", 0}, {"ID", "id", 0}};
static const kind mp_kind = {"macpool", "macpools", mp_cols, N(mp_cols), NULL, VR_NO_NAMES, false, false,
                             NULL, NULL, NULL};

/* Every --OPTION of these commands (flags: no value). */
static const vr_xopt xopts[] = {
    {"datacenter", false}, {"vlan", false}, {"mtu", false}, {"description", false}, {"role", false},
    {"non-vm", true},      {"cluster", false}, {"optional", true}, {"attach", false}, {"remove", false},
    {"no-check", true},    {"network", false}, {"qos-in", false}, {"qos-out", false}, {"port-mirroring", true},
    {"no-filter", true},   {"label", false},      {"nic-label", false}, {"range", false},
    {"allow-duplicates", true}, {"no-duplicates", true},
};

typedef vr_verb verb;

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
    {"network", "setup", "HOST", " attach remove no-check nic-label ",
     "[--attach NETWORK:NIC]... [--remove NETWORK]... [--nic-label NIC=LABEL[,LABEL]]... [--no-check]", VR_JOB_OPTS},
    {"vnicprofile", "list", "", "", "", VR_LIST_OPTS},
    {"vnicprofile", "show", "NAME-or-ID", "", "", BIT(O_JSON)},
    {"vnicprofile", "create", "", " network description qos-in qos-out port-mirroring no-filter ",
     "--name NAME --network NETWORK [--qos-in AVG[,PEAK[,BURST]]] [--qos-out ...] [--port-mirroring] [--no-filter]",
     BIT(O_NAME) | BIT(O_JSON)},
    {"vnicprofile", "delete", "NAME-or-ID", "", "", 0},
    {"macpool", "list", "", "", "", VR_LIST_OPTS},
    {"macpool", "show", "NAME-or-ID", "", "", BIT(O_JSON)},
    {"macpool", "create", "", " range allow-duplicates description ",
     "--name NAME --range FROM-TO... [--allow-duplicates] [--description TEXT]", BIT(O_NAME) | BIT(O_JSON)},
    {"macpool", "update", "NAME-or-ID", " range allow-duplicates no-duplicates description ",
     "[--range FROM-TO]... [--allow-duplicates|--no-duplicates] [--description TEXT]", BIT(O_JSON)},
    {"macpool", "delete", "NAME-or-ID", "", "", 0},
};

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
        if (!vr_verb_has(v, o)) {
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
        } else if (!strcmp(o, "allow-duplicates") || !strcmp(o, "no-duplicates")) {
            json_object_set_new(body, "allow_duplicates", json_boolean(!strcmp(o, "allow-duplicates")));
        } else if (!strcmp(o, "range")) { /* FROM-TO: two MACs, the engine checks them */
            json_t *r = json_object_get(body, "ranges");
            if (!r)
                json_object_set_new(body, "ranges", r = json_array());
            const char *dash = strchr(val, '-');
            json_t *from = dash ? json_stringn(val, (size_t)(dash - val)) : NULL, *to = dash ? json_string(dash + 1)
                                                                                              : NULL;
            if (!from || !to) {
                json_decref(from);
                json_decref(to);
                rc = vr_bad_value(o, val);
            } else {
                json_array_append_new(r, json_pack("{s:o, s:o}", "from", from, "to", to));
            }
        } else if (!strcmp(o, "nic-label")) { /* NIC=LABEL[,LABEL...]; NIC= takes them away */
            json_t *l = json_object_get(body, "labels");
            if (!l)
                json_object_set_new(body, "labels", l = json_object());
            const char *eq = strchr(val, '=');
            json_t *label = eq ? json_string(eq + 1) : NULL;
            if (label && strchr(eq + 1, ',')) { /* several: a list */
                json_decref(label);
                label = json_array();
                for (const char *p = eq + 1; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
                    json_array_append_new(label, json_stringn(p, strcspn(p, ",")));
            }
            char nic[64];
            if (!label || (size_t)(eq - val) >= sizeof(nic) || eq == val) {
                json_decref(label);
                rc = vr_bad_value(o, val);
            } else {
                snprintf(nic, sizeof(nic), "%.*s", (int)(eq - val), val);
                json_object_set_new(l, nic, label);
            }
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

static int run(const vr_session *s, const verb *v, const args *a, json_t *body, const char *cluster)
{
    bool net = !strcmp(v->obj, "network");
    const kind *k = net ? &net_kind : !strcmp(v->obj, "macpool") ? &mp_kind : &prof_kind;
    const char *w = v->verb;
    char *id = NULL, *path = NULL;
    int rc = 0;
    if (!strcmp(w, "list")) {
        const char *dc = json_string_value(json_object_get(body, "datacenter"));
        if (dc ? asprintf(&path, "/api/datacenters/%s/networks?max=%ld&page=%ld", dc, a->max > 0 ? a->max : 100,
                          a->page > 0 ? a->page : 1) < 0 : 0)
            return 3;
        rc = path ? vr_list_print(s, path, "networks", net_cols, N(net_cols), a) : vr_kind_list_print(s, k, a);
        free(path);
        return rc;
    }
    if (!strcmp(w, "create")) {
        json_object_set_new(body, "name", json_string(a->name));
        return asprintf(&path, "/api/%s", k->coll) < 0 ? 3 : (rc = vr_send_print(s, "POST", path, body, a), free(path), rc);
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
            rc = vr_send_print(s, !strcmp(w, "update") ? "PUT" : "DELETE", path, !strcmp(w, "update") ? body : NULL, a);
    } else if (!strcmp(w, "attach") || !strcmp(w, "detach")) {
        if (!cluster) {
            fprintf(stderr, "vireo: network %s needs --cluster CLUSTER\n", w);
            rc = 2;
        } else if (!strcmp(w, "attach")) {
            json_object_set_new(body, "network", json_string(id));
            rc = asprintf(&path, "/api/clusters/%s/networks", cluster) < 0 ? 3 : vr_send_print(s, "POST", path, body, a);
        } else {
            rc = asprintf(&path, "/api/clusters/%s/networks/%s", cluster, id) < 0
                     ? 3 : vr_send_print(s, "DELETE", path, NULL, a);
        }
    } else if (!strcmp(w, "cluster-list") || !strcmp(w, "host-nics")) {
        bool cl = !strcmp(w, "cluster-list");
        rc = asprintf(&path, "/api/%s/%s/%s", cl ? "clusters" : "hosts", id, cl ? "networks" : "nics") < 0 ? 3
             : vr_list_print(s, path, cl ? "networks" : "nics", cl ? cn_cols : nic_cols, cl ? N(cn_cols) : N(nic_cols), a);
    } else if (!strcmp(w, "setup")) {
        rc = vr_entity_change(s, vr_kind_find("host"), id, "POST", "setupnetworks", body, a);
    }
    free(path);
    free(id);
    return rc;
}

int vr_network_cmd(int argc, char **argv)
{
    if (strcmp(argv[0], "network") && strcmp(argv[0], "vnicprofile") && strcmp(argv[0], "macpool"))
        return -1;
    return vr_verb_main(argc, argv, verbs, N(verbs), xopts, N(xopts), build, run);
}
