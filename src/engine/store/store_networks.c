/* Logical networks, vNIC profiles and host NICs: their SQL. A network's
 * roles are kept as a comma list and its vlan as NULL when untagged; the
 * API's JSON shapes are made in api/kinds_networks.c. Host NICs are only
 * written by the host monitor (net/hostnet.c); the API reads them. */
#include "store_networks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str(json_t *b, const char *k)
{
    return json_string_value(json_object_get(b, k)) ?: "";
}

static long long num(json_t *b, const char *k)
{
    json_t *v = json_object_get(b, k);
    return json_is_boolean(v) ? json_is_true(v) : json_integer_value(v);
}

void vr_net_roles_text(json_t *roles, char *out, size_t len)
{
    size_t i, o = 0;
    json_t *r;
    out[0] = '\0';
    json_array_foreach(roles, i, r)
        if (o < len)
            o += (size_t)snprintf(out + o, len - o, "%s%s", o ? "," : "", json_string_value(r) ?: "");
}

/* ---- networks ---- */

static const vr_search net_search[] = {
    {"name", "lower(name) LIKE ? ESCAPE '\\'", true, true, false, "name, * as wildcard"},
    {"datacenter", "datacenter IN (SELECT id FROM datacenters WHERE lower(name) LIKE ? ESCAPE '\\')", true, true,
     false, "data center name, * as wildcard"},
    {"vlan", "vlan = ?", false, false, true, "VLAN tag"},
};

int vr_net_insert(vr_engine *e, const char *id, const char *dc, const char *name, const char *desc, bool vm,
                  long long vlan, long long mtu, const char *roles, const char *label, vr_error *err)
{
    if (vr_db_exec(e->db, "INSERT INTO networks (id, datacenter_id, name, description, vm_network, vlan, mtu, roles,"
                   " label, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                   DB_ARGS(DB_TEXT(id), DB_TEXT(dc), DB_TEXT(name), DB_TEXT(desc), DB_INT(vm),
                           vlan > 0 ? DB_INT(vlan) : DB_NULL, DB_INT(mtu), DB_TEXT(roles), DB_TEXT(label),
                           DB_INT(vr_now())), err) < 0)
        return -1;
    if (!vm) /* VMs plug into VM networks only: no profile */
        return 0;
    char pid[37];
    vr_uuid_new(pid);
    return vr_db_exec(e->db, "INSERT INTO vnic_profiles (id, network_id, name, description, created_at)"
                      " VALUES (?,?,?,?,?)", DB_ARGS(DB_TEXT(pid), DB_TEXT(id), DB_TEXT(name),
                                                     DB_TEXT("the network's default profile"), DB_INT(vr_now())),
                      err) < 0 ? -1 : 0;
}

int vr_net_attach_mgmt(vr_engine *e, const char *cluster_id, vr_error *err)
{
    return vr_db_exec(e->db, "INSERT INTO cluster_networks (cluster_id, network_id, required)"
                      " SELECT c.id, n.id, 1 FROM clusters c JOIN networks n ON n.datacenter_id = c.datacenter_id"
                      " WHERE c.id = ? AND n.roles LIKE '%management%' AND NOT EXISTS (SELECT 1 FROM"
                      " cluster_networks x WHERE x.cluster_id = c.id AND x.network_id = n.id)",
                      DB_ARGS(DB_TEXT(cluster_id)), err) < 0 ? -1 : 0;
}

static int net_insert(vr_engine *e, const char *id, json_t *b, vr_error *err)
{
    char roles[128];
    vr_net_roles_text(json_object_get(b, "roles"), roles, sizeof(roles));
    if (vr_db_begin(e->db, err) < 0)
        return -1;
    if (vr_net_insert(e, id, str(b, "datacenter"), str(b, "name"), str(b, "description"), num(b, "vm"),
                      num(b, "vlan"), num(b, "mtu"), roles, str(b, "label"), err) < 0) {
        vr_db_rollback(e->db);
        if (err->code == VR_ERR_CONFLICT)
            vr_error_set(err, VR_ERR_CONFLICT, "the data center already has a network named '%s'", str(b, "name"));
        return -1;
    }
    return vr_db_commit(e->db, err);
}

static int net_update(vr_engine *e, json_t *row, json_t *b, vr_error *err)
{
    char roles[128];
    vr_net_roles_text(json_object_get(b, "roles"), roles, sizeof(roles));
    int n = vr_db_exec(e->db, "UPDATE networks SET description = ?, vlan = ?, mtu = ?, roles = ?, label = ?"
                       " WHERE id = ?",
                       DB_ARGS(DB_TEXT(str(b, "description")), num(b, "vlan") > 0 ? DB_INT(num(b, "vlan")) : DB_NULL,
                               DB_INT(num(b, "mtu")), DB_TEXT(roles), DB_TEXT(str(b, "label")),
                               DB_TEXT(str(row, "id"))), err);
    return n < 0 ? -1 : n == 0 ? vr_error_set(err, VR_ERR_BAD_STATE, "the network was removed meanwhile") : 0;
}

/* Its profiles go with it (the API refused while a VM NIC uses one). */
static int net_remove(vr_engine *e, json_t *row, vr_error *err)
{
    const char *id = str(row, "id");
    if (vr_db_begin(e->db, err) < 0)
        return -1;
    int n = vr_db_exec(e->db, "DELETE FROM vnic_profiles WHERE network_id = ?", DB_ARGS(DB_TEXT(id)), err);
    if (n >= 0)
        n = vr_db_exec(e->db, "DELETE FROM networks WHERE id = ?", DB_ARGS(DB_TEXT(id)), err);
    if (n <= 0) {
        vr_db_rollback(e->db);
        return n < 0 ? -1 : vr_error_set(err, VR_ERR_NOT_FOUND, "network '%s' was removed meanwhile", str(row, "name"));
    }
    return vr_db_commit(e->db, err);
}

const vr_store vr_store_networks = {
    .select = "SELECT * FROM (SELECT id, name, datacenter_id AS datacenter, description, vm_network AS vm, vlan, mtu,"
              " roles, label, created_at FROM networks) AS nw",
    .id_expr = "id", .order = "name, id", .table = "networks",
    .search = net_search, .nsearch = sizeof(net_search) / sizeof(net_search[0]),
    .insert = net_insert, .update = net_update, .remove = net_remove,
};

/* ---- vNIC profiles ---- */

static const vr_search prof_search[] = {
    {"name", "lower(name) LIKE ? ESCAPE '\\'", true, true, false, "name, * as wildcard"},
    {"network", "network IN (SELECT id FROM networks WHERE lower(name) LIKE ? ESCAPE '\\')", true, true, false,
     "network name, * as wildcard"},
};

static int qos_text(json_t *b, char **out)
{
    json_t *q = json_object_get(b, "qos");
    *out = q && !json_is_null(q) ? json_dumps(q, JSON_COMPACT) : NULL;
    return 0;
}

static int prof_insert(vr_engine *e, const char *id, json_t *b, vr_error *err)
{
    char *qos;
    qos_text(b, &qos);
    int rc = vr_db_exec(e->db, "INSERT INTO vnic_profiles (id, network_id, name, description, qos_json, port_mirroring,"
                        " network_filter, passthrough, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
                        DB_ARGS(DB_TEXT(id), DB_TEXT(str(b, "network")), DB_TEXT(str(b, "name")),
                                DB_TEXT(str(b, "description")), qos ? DB_TEXT(qos) : DB_NULL,
                                DB_INT(num(b, "port_mirroring")), DB_INT(num(b, "network_filter")),
                                DB_INT(num(b, "passthrough")), DB_INT(vr_now())), err);
    free(qos);
    if (rc < 0 && err->code == VR_ERR_CONFLICT)
        vr_error_set(err, VR_ERR_CONFLICT, "the network already has a vNIC profile named '%s'", str(b, "name"));
    return rc < 0 ? -1 : 0;
}

static int prof_update(vr_engine *e, json_t *row, json_t *b, vr_error *err)
{
    char *qos;
    qos_text(b, &qos);
    int n = vr_db_exec(e->db, "UPDATE vnic_profiles SET name = ?, description = ?, qos_json = ?, port_mirroring = ?,"
                       " network_filter = ?, passthrough = ? WHERE id = ?",
                       DB_ARGS(DB_TEXT(str(b, "name")), DB_TEXT(str(b, "description")), qos ? DB_TEXT(qos) : DB_NULL,
                               DB_INT(num(b, "port_mirroring")), DB_INT(num(b, "network_filter")),
                               DB_INT(num(b, "passthrough")), DB_TEXT(str(row, "id"))), err);
    free(qos);
    if (n < 0 && err->code == VR_ERR_CONFLICT)
        vr_error_set(err, VR_ERR_CONFLICT, "the network already has a vNIC profile named '%s'", str(b, "name"));
    return n < 0 ? -1 : n == 0 ? vr_error_set(err, VR_ERR_BAD_STATE, "the vNIC profile was removed meanwhile") : 0;
}

static int prof_remove(vr_engine *e, json_t *row, vr_error *err)
{
    int n = vr_db_exec(e->db, "DELETE FROM vnic_profiles WHERE id = ?", DB_ARGS(DB_TEXT(str(row, "id"))), err);
    return n < 0 ? -1 : n == 0 ? vr_error_set(err, VR_ERR_NOT_FOUND, "the vNIC profile was removed meanwhile") : 0;
}

const vr_store vr_store_vnicprofiles = {
    .select = "SELECT * FROM (SELECT id, name, network_id AS network, description, qos_json, port_mirroring,"
              " network_filter, passthrough, created_at FROM vnic_profiles) AS vp",
    .id_expr = "id", .order = "name, id", .table = "vnic_profiles",
    .search = prof_search, .nsearch = sizeof(prof_search) / sizeof(prof_search[0]),
    .insert = prof_insert, .update = prof_update, .remove = prof_remove,
};

json_t *vr_net_profile_users(vr_engine *e, const char *network_id, const char *profile_id, vr_error *err)
{
    json_t *rows = NULL;
    /* A VM names a profile in its spec ("profile":"ID", compact JSON). */
    int rc = profile_id
        ? vr_db_query(e->db, "SELECT id, name, status FROM vms WHERE spec_json LIKE"
                      " '%\"profile\":\"' || CAST(? AS TEXT) || '\"%' ORDER BY name", DB_ARGS(DB_TEXT(profile_id)),
                      &rows, err)
        : vr_db_query(e->db, "SELECT v.id AS id, v.name AS name, v.status AS status FROM vms v WHERE EXISTS"
                      " (SELECT 1 FROM vnic_profiles p WHERE p.network_id = ? AND"
                      " v.spec_json LIKE '%\"profile\":\"' || p.id || '\"%') ORDER BY v.name",
                      DB_ARGS(DB_TEXT(network_id)), &rows, err);
    return rc < 0 ? NULL : rows;
}

/* ---- host NICs (as the agents report them) ---- */

static const vr_search nic_search[] = {
    {"name", "lower(name) LIKE ? ESCAPE '\\'", true, true, false, "NIC name, * as wildcard"},
    {"host", "host_id IN (SELECT id FROM hosts WHERE lower(name) LIKE ? ESCAPE '\\')", true, true, false,
     "host name, * as wildcard"},
};

const vr_store vr_store_host_nics = {
    .select = "SELECT * FROM (SELECT id, host_id, name, mac, mtu, max_mtu, operstate, carrier, speed, addresses_json, master,"
              " networks_json, label, CASE WHEN label = '' THEN '[]' ELSE '[\"' || REPLACE(label, ',', '\",\"') ||"
              " '\"]' END AS labels_json, reported_at FROM host_nics) AS hn",
    .id_expr = "id", .order = "name, id", .table = "host_nics",
    .search = nic_search, .nsearch = sizeof(nic_search) / sizeof(nic_search[0]),
};
