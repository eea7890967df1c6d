/* Logical networks, vNIC profiles, a cluster's networks and a host's NICs
 * (docs/networks.md "Engine"), described by their tables like every kind.
 * Nothing here talks to an agent: host network setup is a job
 * (net/setupnet.c), what hosts report is stored by their monitors
 * (net/hostnet.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devspec.h"
#include "dispatch.h"
#include "i18n.h"
#include "log.h"
#include "netlabel.h"
#include "netrules.h"
#include "store_networks.h"

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

/* Integer columns that are booleans in the API. */
static void bools(json_t *row, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (json_is_integer(json_object_get(row, names[i])))
            json_object_set_new(row, names[i], json_boolean(json_integer_value(json_object_get(row, names[i]))));
}

/* A 409 naming the first VM of users (a new array), or 0 when empty;
 * users NULL is a database error already in err. */
static int refuse_users(json_t *users, const char *what, vr_error *err)
{
    int rc = !users ? -1 : json_array_size(users) ? vr_error_set(err, VR_ERR_CONFLICT, json_array_size(users) > 1
                                                                    ? N_("%s is used by VM '%s' and others")
                                                                    : N_("%s is used by VM '%s'"), what,
                                                                  str(json_array_get(users, 0), "name"))
                                                  : 0;
    json_decref(users);
    return rc;
}

/* ---- networks ---- */

static int net_check_create(vr_call *c, json_t *b, vr_error *err)
{
    if (vr_net_check_name(str(b, "name"), err) < 0 || vr_net_check_roles(json_object_get(b, "roles"), err) < 0 ||
        vr_net_check_label(str(b, "label"), err) < 0)
        return -1;
    if (!vr_valid_text(str(b, "description")))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "description must be text without control characters");
    return 0;
}

/* A larger MTU than a NIC carrying the network takes (its max_mtu as its
 * host reported it): the host would refuse the network at its next setup,
 * so the change is refused now, naming the first such NIC. */
static int net_check_max_mtu(vr_call *c, json_t *row, json_t *b, vr_error *err)
{
    json_int_t mtu = json_integer_value(json_object_get(b, "mtu"));
    if (mtu <= json_integer_value(json_object_get(row, "mtu")))
        return 0;
    json_t *nic = vr_db_query_one(c->e->db, "SELECT h.name AS host, n.name AS nic, n.max_mtu AS max_mtu FROM"
                                  " host_network_attachments a JOIN hosts h ON h.id = a.host_id JOIN host_nics n ON"
                                  " n.host_id = a.host_id AND n.name = a.nic WHERE a.network_id = ? AND n.max_mtu < ?"
                                  " ORDER BY h.name, n.name LIMIT 1", DB_ARGS(DB_TEXT(str(row, "id")), DB_INT(mtu)),
                                  err);
    int rc = nic ? vr_error_set(err, VR_ERR_CONFLICT, "network '%s' cannot have MTU %lld: NIC %s of host '%s'"
                                " carries it and its maximum MTU is %lld", str(row, "name"), (long long)mtu,
                                str(nic, "nic"), str(nic, "host"),
                                (long long)json_integer_value(json_object_get(nic, "max_mtu")))
                 : err->code ? -1 : 0;
    json_decref(nic);
    return rc;
}

static int net_check_update(vr_call *c, json_t *row, json_t *b, vr_error *err)
{
    if (vr_net_check_roles(json_object_get(b, "roles"), err) < 0 || vr_net_check_label(str(b, "label"), err) < 0)
        return -1;
    if (!vr_valid_text(str(b, "description")))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "description must be text without control characters");
    bool wire = !json_equal(json_object_get(b, "vlan"), json_object_get(row, "vlan")) ||
                !json_equal(json_object_get(b, "mtu"), json_object_get(row, "mtu"));
    if (!wire)
        return 0;
    /* Running VMs' NICs sit on the bridge as it is: VLAN and MTU change
     * only while none runs on it. */
    json_t *users = vr_net_profile_users(c->e, str(row, "id"), NULL, err), *running = json_array(), *u;
    size_t i;
    json_array_foreach(users, i, u)
        if (strcmp(str(u, "status"), "down"))
            json_array_append(running, u);
    json_decref(users);
    char what[64];
    vr_i18n_format(what, sizeof(what), "network '%s'", str(row, "name"));
    if (!users) {
        json_decref(running);
        return -1;
    }
    int rc = refuse_users(running, what, err);
    if (rc < 0)
        snprintf(err->message + strlen(err->message), sizeof(err->message) - strlen(err->message),
                 " that is running: its VLAN and MTU change while no VM on it runs");
    return rc < 0 ? rc : net_check_max_mtu(c, row, b, err);
}

/* The VMs using it are named first: they are what the user must change
 * before the network's cluster attachments and host setups can go. */
static int net_check_delete(vr_call *c, json_t *row, vr_error *err)
{
    const char *id = str(row, "id"), *name = str(row, "name");
    char what[64];
    vr_i18n_format(what, sizeof(what), "network '%s'", name);
    if (refuse_users(vr_net_profile_users(c->e, id, NULL, err), what, err) < 0)
        return -1;
    json_t *cl = vr_db_query_one(c->e->db, "SELECT c.name AS name FROM cluster_networks x JOIN clusters c ON"
                                 " c.id = x.cluster_id WHERE x.network_id = ? ORDER BY c.name LIMIT 1",
                                 DB_ARGS(DB_TEXT(id)), err);
    if (cl || err->code) {
        if (cl)
            vr_error_set(err, VR_ERR_CONFLICT, "network '%s' is attached to cluster '%s': detach it first", name,
                         str(cl, "name"));
        json_decref(cl);
        return -1;
    }
    json_t *h = vr_db_query_one(c->e->db, "SELECT h.name AS name FROM host_network_attachments a JOIN hosts h ON"
                                " h.id = a.host_id WHERE a.network_id = ? ORDER BY h.name LIMIT 1",
                                DB_ARGS(DB_TEXT(id)), err);
    if (h || err->code) {
        if (h)
            vr_error_set(err, VR_ERR_CONFLICT, "network '%s' is set up on host '%s': remove it there first"
                         " (POST /api/hosts/ID/setupnetworks with removed)", name, str(h, "name"));
        json_decref(h);
        return -1;
    }
    return 0;
}

/* A changed label moves the network onto the NICs with the new label and
 * off those with the old one: a job (202). */
static int net_live_update(vr_call *c, json_t *before, json_t *b, char job[37], vr_error *err)
{
    if (!strcmp(str(before, "label"), str(b, "label")))
        return 0;
    return vr_netlabel_start(c->e, str(before, "id"), str(before, "label"), NULL, c->user, job, err);
}

static void net_present(vr_engine *e, json_t *row)
{
    static const char *const b[] = {"vm"};
    bools(row, b, VR_ARRAY_SIZE(b));
    json_t *roles = json_array();
    const char *r = str(row, "roles");
    while (*r) {
        size_t n = strcspn(r, ",");
        json_array_append_new(roles, json_stringn(r, n));
        r += n + (r[n] == ',');
    }
    json_object_set_new(row, "roles", roles);
    (void)e;
}

static const vr_field net_fields[] = {
    {"id", VR_FT_ID, 0, .doc = "Assigned by the engine."},
    {"name", VR_FT_STR, VR_F_REQ | VR_F_CREATE | VR_F_FIXED | VR_F_SORT, 1, 15, .schema = "^[A-Za-z0-9_-]{1,15}$",
     .doc = "Unique in its data center; names the network's bridge on hosts, so 1-15 of [A-Za-z0-9_-], not"
            " starting with vrt- or vrv (the agent's own devices). Cannot change."},
    {"datacenter", VR_FT_REF, VR_F_REQ | VR_F_CREATE | VR_F_FIXED, .ref = "datacenters",
     .doc = "Its data center (cannot change)."},
    {"description", VR_FT_STR, VR_F_CREATE | VR_F_UPDATE, 0, 4096, .dflt = "\"\""},
    {"vm", VR_FT_BOOL, VR_F_CREATE | VR_F_FIXED, .dflt = "true",
     .doc = "A VM network: VMs plug into its bridge (it gets a default vNIC profile of its name)."},
    {"vlan", VR_FT_INT, VR_F_CREATE | VR_F_UPDATE | VR_F_NULL | VR_F_SORT, 1, 4094,
     .doc = "VLAN tag (1-4094); null: untagged (one untagged network per host NIC)."},
    {"mtu", VR_FT_INT, VR_F_CREATE | VR_F_UPDATE, 68, 65535, .dflt = "1500", .doc = "MTU of its bridge."},
    {"roles", VR_FT_JSON, VR_F_CREATE | VR_F_UPDATE, .schema = "NetworkRoles", .dflt = "[]",
     .doc = "management, display, migration."},
    {"label", VR_FT_STR, VR_F_CREATE | VR_F_UPDATE, 0, 32, .schema = "^[A-Za-z0-9_-]*$", .dflt = "\"\"",
     .doc = "A label: the network is attached to the host NICs of its clusters that carry the same label, and"
            " follows when the label changes (a change answers 202 with the job; docs/networks.md \"Labels\")."},
    {"created_at", VR_FT_TIME, VR_F_SORT, .doc = NULL},
};

const vr_kind vr_kind_networks = {
    .collection = "networks", .type = "network", .title = "network", .schema = "Network", .tag = "Networks",
    .store = &vr_store_networks, .fields = net_fields, .nfields = VR_ARRAY_SIZE(net_fields),
    .parent = "datacenters", .parent_field = "datacenter",
    .delete_in_use = "it is still in use",
    .check_create = net_check_create, .check_update = net_check_update, .check_delete = net_check_delete,
    .present = net_present, .live_update = net_live_update,
};

/* ---- vNIC profiles ---- */

static int prof_check(vr_call *c, json_t *b, vr_error *err)
{
    if (!vr_valid_text(str(b, "description")))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "description must be text without control characters");
    json_t *qos = json_object_get(b, "qos");
    if (qos && vr_net_check_qos(qos, "qos", err) < 0)
        return -1;
    if (json_is_true(json_object_get(b, "passthrough")) &&
        ((qos && !json_is_null(qos)) || json_is_true(json_object_get(b, "port_mirroring"))))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "a passthrough (SR-IOV) profile has no qos or port"
                            " mirroring: the device bypasses the host's bridge");
    return 0;
}

static int prof_check_create(vr_call *c, json_t *b, vr_error *err)
{
    json_t *net = vr_db_query_one(c->e->db, "SELECT name, vm_network FROM networks WHERE id = ?",
                                  DB_ARGS(DB_TEXT(str(b, "network"))), err);
    int rc = !net ? -1 : !json_integer_value(json_object_get(net, "vm_network"))
        ? vr_error_set(err, VR_ERR_INVALID_PARAMS, "network '%s' is not a VM network: it has no vNIC profiles",
                       str(net, "name")) : 0;
    json_decref(net);
    return rc < 0 ? -1 : prof_check(c, b, err);
}

static int prof_check_update(vr_call *c, json_t *row, json_t *b, vr_error *err)
{
    return prof_check(c, b, err);
}

static int prof_check_delete(vr_call *c, json_t *row, vr_error *err)
{
    char what[100];
    snprintf(what, sizeof(what), "vNIC profile '%s'", str(row, "name"));
    return refuse_users(vr_net_profile_users(c->e, NULL, str(row, "id"), err), what, err);
}

static void prof_present(vr_engine *e, json_t *row)
{
    static const char *const b[] = {"port_mirroring", "network_filter", "passthrough"};
    bools(row, b, VR_ARRAY_SIZE(b));
    if (!json_object_get(row, "qos"))
        json_object_set_new(row, "qos", json_null());
    (void)e;
}

static const vr_field prof_fields[] = {
    {"id", VR_FT_ID, 0, .doc = "Assigned by the engine; VM NICs name it."},
    {"name", VR_FT_NAME, VR_F_REQ | VR_F_CREATE | VR_F_UPDATE | VR_F_SORT,
     .doc = "Unique among its network's profiles."},
    {"network", VR_FT_REF, VR_F_REQ | VR_F_CREATE | VR_F_FIXED, .ref = "networks",
     .doc = "Its network (a VM network; cannot change)."},
    {"description", VR_FT_STR, VR_F_CREATE | VR_F_UPDATE, 0, 4096, .dflt = "\"\""},
    {"qos", VR_FT_JSON, VR_F_CREATE | VR_F_UPDATE | VR_F_NULL, .schema = "VnicQos",
     .doc = "Bandwidth limits of its NICs (libvirt <bandwidth>); null: none."},
    {"port_mirroring", VR_FT_BOOL, VR_F_CREATE | VR_F_UPDATE, .dflt = "false",
     .doc = "Its NICs receive a copy of all the traffic of the network's bridge."},
    {"network_filter", VR_FT_BOOL, VR_F_CREATE | VR_F_UPDATE, .dflt = "true",
     .doc = "libvirt's clean-traffic filter against MAC and IP spoofing."},
    {"passthrough", VR_FT_BOOL, VR_F_CREATE | VR_F_UPDATE, .dflt = "false",
     .doc = "SR-IOV passthrough; hosts without such a device refuse to start the VM."},
    {"created_at", VR_FT_TIME, VR_F_SORT, .doc = NULL},
};

const vr_kind vr_kind_vnicprofiles = {
    .collection = "vnicprofiles", .type = "vnicprofile", .title = "vNIC profile", .schema = "VnicProfile",
    .tag = "vNIC profiles", .store = &vr_store_vnicprofiles, .fields = prof_fields,
    .nfields = VR_ARRAY_SIZE(prof_fields), .parent = "networks", .parent_field = "network",
    .check_create = prof_check_create, .check_update = prof_check_update, .check_delete = prof_check_delete,
    .present = prof_present,
};

/* ---- a cluster's networks (rows of cluster_networks, named by network id) ---- */

#define CN_SELECT "SELECT n.id AS id, x.cluster_id AS cluster_id, n.id AS network, n.name AS name," \
                  " x.required AS required, n.vlan AS vlan, n.vm_network AS vm, n.roles AS roles" \
                  " FROM cluster_networks x JOIN networks n ON n.id = x.network_id WHERE x.cluster_id = ?"

static void cn_present(json_t *rows)
{
    static const char *const b[] = {"required", "vm"};
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) {
        bools(r, b, VR_ARRAY_SIZE(b));
        json_object_set_new(r, "management", json_boolean(strstr(str(r, "roles"), "management") != NULL));
        json_object_del(r, "roles");
    }
}

static int cn_rows(vr_engine *e, json_t *cl, json_t **rows, vr_error *err)
{
    if (vr_db_query(e->db, CN_SELECT " ORDER BY n.name", DB_ARGS(DB_TEXT(str(cl, "id"))), rows, err) < 0)
        return -1;
    cn_present(*rows);
    return 0;
}

static json_t *cn_one(vr_engine *e, const char *cluster_id, const char *net_id, vr_error *err)
{
    json_t *rows = NULL;
    if (vr_db_query(e->db, CN_SELECT " AND x.network_id = ?", DB_ARGS(DB_TEXT(cluster_id), DB_TEXT(net_id)), &rows,
                    err) < 0)
        return NULL;
    cn_present(rows);
    json_t *r = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return r;
}

static int cn_add(vr_call *c, json_t *cl, json_t *body, json_t **reply, char job[37], vr_error *err)
{
    const char *net_id = str(body, "network");
    json_t *net = vr_db_query_one(c->e->db, "SELECT name, datacenter_id, label FROM networks WHERE id = ?",
                                  DB_ARGS(DB_TEXT(net_id)), err);
    if (!net)
        return err->code ? -1 : vr_error_set(err, VR_ERR_INVALID_PARAMS, "no network with id '%.64s'", net_id);
    int rc = 0;
    if (strcmp(str(net, "datacenter_id"), str(cl, "datacenter_id")))
        rc = vr_error_set(err, VR_ERR_INVALID_PARAMS, "network '%s' belongs to another data center than cluster '%s'",
                          str(net, "name"), str(cl, "name"));
    else if (vr_db_exec(c->e->db, "INSERT INTO cluster_networks (cluster_id, network_id, required) VALUES (?,?,?)",
                        DB_ARGS(DB_TEXT(str(cl, "id")), DB_TEXT(net_id),
                                DB_INT(json_is_true(json_object_get(body, "required")))), err) < 0)
        rc = err->code == VR_ERR_CONFLICT ? vr_error_set(err, VR_ERR_CONFLICT, "network '%s' is already attached to"
                                                         " cluster '%s'", str(net, "name"), str(cl, "name")) : -1;
    if (rc == 0) {
        vr_event(c->e, "normal", c->user, "cluster", str(cl, "id"), "network '%s' attached to cluster '%s' (%s)",
                 str(net, "name"), str(cl, "name"),
                 json_is_true(json_object_get(body, "required")) ? "required" : "optional");
        rc = (*reply = cn_one(c->e, str(cl, "id"), net_id, err)) ? 0 : -1;
    }
    /* A labelled network goes to the cluster's labelled NICs at once: the
     * answer is the job (the attachment is made either way). */
    vr_error lerr = {0};
    if (rc == 0 && *str(net, "label") && vr_netlabel_start(c->e, net_id, "", NULL, c->user, job, &lerr) < 0) {
        VR_WARN("network %s: cannot start its label job: %s", str(net, "name"), lerr.message);
        job[0] = '\0';
    }
    json_decref(net);
    return rc;
}

static int cn_change(vr_call *c, json_t *cl, json_t *row, json_t *body, json_t **reply, char job[37], vr_error *err)
{
    bool req = json_is_true(json_object_get(body, "required"));
    int n = vr_db_exec(c->e->db, "UPDATE cluster_networks SET required = ? WHERE cluster_id = ? AND network_id = ?",
                       DB_ARGS(DB_INT(req), DB_TEXT(str(cl, "id")), DB_TEXT(str(row, "network"))), err);
    if (n <= 0)
        return n < 0 ? -1 : vr_error_set(err, VR_ERR_CONFLICT, "network '%s' was detached meanwhile", str(row, "name"));
    vr_event(c->e, "normal", c->user, "cluster", str(cl, "id"), "network '%s' of cluster '%s' is now %s",
             str(row, "name"), str(cl, "name"), req ? "required" : "optional");
    return (*reply = cn_one(c->e, str(cl, "id"), str(row, "network"), err)) ? 0 : -1;
}

static int cn_remove(vr_call *c, json_t *cl, json_t *row, char job[37], vr_error *err)
{
    if (json_is_true(json_object_get(row, "management")))
        return vr_error_set(err, VR_ERR_CONFLICT, "network '%s' is the management network of cluster '%s'; it stays"
                            " attached", str(row, "name"), str(cl, "name"));
    json_t *users = vr_net_profile_users(c->e, str(row, "network"), NULL, err), *mine = json_array(), *u;
    size_t i;
    json_array_foreach(users, i, u) {
        json_t *v = vr_db_query_one(c->e->db, "SELECT id FROM vms WHERE id = ? AND cluster_id = ?",
                                    DB_ARGS(DB_TEXT(str(u, "id")), DB_TEXT(str(cl, "id"))), NULL);
        if (v)
            json_array_append(mine, u);
        json_decref(v);
    }
    json_decref(users);
    char what[64];
    vr_i18n_format(what, sizeof(what), "network '%s'", str(row, "name"));
    if (!users) {
        json_decref(mine);
        return -1;
    }
    if (refuse_users(mine, what, err) < 0)
        return -1;
    int n = vr_db_exec(c->e->db, "DELETE FROM cluster_networks WHERE cluster_id = ? AND network_id = ?",
                       DB_ARGS(DB_TEXT(str(cl, "id")), DB_TEXT(str(row, "network"))), err);
    if (n <= 0)
        return n < 0 ? -1 : vr_error_set(err, VR_ERR_NOT_FOUND, "network '%s' was detached meanwhile",
                                         str(row, "name"));
    vr_event(c->e, "normal", c->user, "cluster", str(cl, "id"), "network '%s' detached from cluster '%s'",
             str(row, "name"), str(cl, "name"));
    /* A labelled network leaves the cluster's hosts' labelled NICs too
     * (ch. 3.9): the answer is that job. */
    json_t *net = vr_db_query_one(c->e->db, "SELECT label FROM networks WHERE id = ?",
                                  DB_ARGS(DB_TEXT(str(row, "network"))), NULL);
    vr_error lerr = {0};
    if (net && *str(net, "label") && vr_netlabel_start(c->e, str(row, "network"), str(net, "label"),
                                                       str(cl, "id"), c->user, job, &lerr) < 0) {
        VR_WARN("network %s: cannot start its label job: %s", str(row, "name"), lerr.message);
        job[0] = '\0';
    }
    json_decref(net);
    return 0;
}

static const vr_field cn_fields[] = {
    {"id", VR_FT_STR, 0, .doc = "The network's id: it names the attachment in its URL."},
    {"cluster_id", VR_FT_ID, 0, .doc = "The cluster."},
    {"network", VR_FT_REF, VR_F_REQ | VR_F_CREATE, .ref = "networks", .doc = "A network of the cluster's data center."},
    {"required", VR_FT_BOOL, VR_F_CREATE | VR_F_UPDATE, .dflt = "true",
     .doc = "A host of the cluster that does not run it is nonoperational (the management network excepted, see"
            " docs/networks.md)."},
    {"name", VR_FT_STR, 0, .doc = "The network's name."},
    {"vlan", VR_FT_INT, VR_F_NULL, 1, 4094, .doc = "The network's VLAN tag."},
    {"vm", VR_FT_BOOL, 0, .doc = "A VM network."},
    {"management", VR_FT_BOOL, 0, .doc = "The management network (cannot be detached)."},
};

const vr_kind vr_kind_cluster_networks = {
    .collection = "networks", .type = "cluster", .title = "cluster network", .schema = "ClusterNetwork",
    .tag = "Networks", .fields = cn_fields, .nfields = VR_ARRAY_SIZE(cn_fields), .parent = "clusters",
    .parent_field = "cluster_id", .children = cn_rows, .add_child = cn_add, .change_child = cn_change,
    .remove_child = cn_remove,
};

/* ---- a host's NICs, as its agent last reported them ---- */

static void hnic_present(vr_engine *e, json_t *row)
{
    static const char *const b[] = {"carrier"};
    bools(row, b, VR_ARRAY_SIZE(b));
    (void)e;
}

static const vr_field hnic_fields[] = {
    {"id", VR_FT_ID, 0, .doc = "Assigned by the engine when the NIC is first reported."},
    {"host_id", VR_FT_ID, 0, .doc = "Its host."},
    {"name", VR_FT_STR, VR_F_SORT, .doc = "The interface's name on the host (eth1)."},
    {"mac", VR_FT_STR, 0, .doc = NULL},
    {"mtu", VR_FT_INT, 0, 0, 65535, .doc = NULL},
    {"max_mtu", VR_FT_INT, VR_F_NULL, 0, 65535, .doc = "The largest MTU the NIC takes (the kernel's IFLA_MAX_MTU):"
     " a network with a larger one is refused on it; null when its host did not report it."},
    {"operstate", VR_FT_STR, 0, .doc = "The kernel's operstate (up, down, ...)."},
    {"carrier", VR_FT_BOOL, 0, .doc = "Link detected."},
    {"speed", VR_FT_INT, VR_F_NULL, 0, 1LL << 40, .doc = "Mb/s; null when unknown."},
    {"addresses", VR_FT_JSON, 0, .schema = "NetworkNames", .doc = "Its addresses (CIDR)."},
    {"master", VR_FT_STR, 0, .doc = "The bridge or bond it is a port of ('' when none)."},
    {"networks", VR_FT_JSON, 0, .schema = "NetworkNames", .doc = "The networks the host runs over it."},
    {"label", VR_FT_STR, 0, .doc = "Its labels joined by commas ('' when none); see labels."},
    {"labels", VR_FT_JSON, 0, .schema = "NetworkNames", .doc = "Its labels, sorted (a NIC may carry several):"
     " set by setupnetworks' labels; the networks of the host's cluster with one of them are attached to it."},
    {"reported_at", VR_FT_TIME, 0, .doc = "When the host last reported it."},
};

const vr_kind vr_kind_host_nics = {
    .collection = "nics", .type = "host", .title = "host NIC", .schema = "HostNic", .tag = "Host NICs",
    .store = &vr_store_host_nics, .fields = hnic_fields, .nfields = VR_ARRAY_SIZE(hnic_fields),
    .parent = "hosts", .parent_field = "host_id", .read_only = true, .present = hnic_present,
};
