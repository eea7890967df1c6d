/* The default management network of data centers and clusters. Created
 * by the data center and cluster create hooks (api/kinds_inventory.c) and,
 * for rows older than the networks schema, once at start-up. */
#include "mgmtnet.h"

#include <string.h>

#include "log.h"
#include "store_networks.h"

int vr_mgmtnet_datacenter(vr_engine *e, const char *dc_id, vr_error *err)
{
    json_t *have = vr_db_query_one(e->db, "SELECT id FROM networks WHERE datacenter_id = ? AND"
                                   " (roles LIKE '%management%' OR name = ?)",
                                   DB_ARGS(DB_TEXT(dc_id), DB_TEXT(VR_MGMT_NETWORK)), err);
    if (have || err->code) {
        json_decref(have);
        return have ? 0 : -1;
    }
    char id[37];
    vr_uuid_new(id);
    if (vr_db_begin(e->db, err) < 0)
        return -1;
    if (vr_net_insert(e, id, dc_id, VR_MGMT_NETWORK, "management network (engine to agents)", true, 0, 1500,
                      "management", "", err) < 0) {
        vr_db_rollback(e->db);
        return -1;
    }
    if (vr_db_commit(e->db, err) < 0)
        return -1;
    vr_event(e, "normal", "", "network", id, "network '%s' created for the data center", VR_MGMT_NETWORK);
    return 0;
}

int vr_mgmtnet_cluster(vr_engine *e, const char *cluster_id, vr_error *err)
{
    return vr_net_attach_mgmt(e, cluster_id, err);
}

int vr_mgmtnet_ensure_all(vr_engine *e, vr_error *err)
{
    json_t *rows = NULL;
    if (vr_db_query(e->db, "SELECT id FROM datacenters", DB_NOARGS, &rows, err) < 0)
        return -1;
    size_t i;
    json_t *r;
    int rc = 0;
    json_array_foreach(rows, i, r)
        if (rc == 0)
            rc = vr_mgmtnet_datacenter(e, json_string_value(json_object_get(r, "id")), err);
    json_decref(rows);
    if (rc < 0 || vr_db_query(e->db, "SELECT c.id AS id FROM clusters c WHERE NOT EXISTS (SELECT 1 FROM"
                              " cluster_networks x JOIN networks n ON n.id = x.network_id WHERE x.cluster_id = c.id"
                              " AND n.roles LIKE '%management%')", DB_NOARGS, &rows, err) < 0)
        return -1;
    json_array_foreach(rows, i, r)
        if (rc == 0)
            rc = vr_mgmtnet_cluster(e, json_string_value(json_object_get(r, "id")), err);
    if (json_array_size(rows))
        VR_INFO("management network attached to %zu cluster(s) made before networks existed", json_array_size(rows));
    json_decref(rows);
    return rc;
}
