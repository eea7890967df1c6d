/* VM NICs on vNIC profiles (vnic.h). */
#include "vnic.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "agentcall.h"

#define PROFILE_SELECT "SELECT p.id AS id, p.name AS name, p.qos_json, p.port_mirroring AS port_mirroring," \
                       " p.network_filter AS network_filter, p.passthrough AS passthrough, n.id AS network_id," \
                       " n.name AS network, n.vm_network AS vm FROM vnic_profiles p JOIN networks n ON" \
                       " n.id = p.network_id"

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

int vr_vnic_resolve(vr_engine *e, json_t *vm, json_t *nic, vr_error *err)
{
    json_t *net = json_object_get(nic, "network"), *prof = json_object_get(nic, "profile");
    if (!net && !prof)
        return 0;
    if (net && prof)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "a NIC names a profile or a network, not both");
    if (json_object_get(nic, "bridge"))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "a NIC on a %s has no bridge (the network's bridge is"
                            " used)", net ? "network" : "profile");
    const char *cluster = str(vm, "cluster_id");
    json_t *row;
    if (net) {
        if (!json_is_string(net))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "body.network must be a network name");
        /* The network's default profile: the one of its own name. */
        row = vr_db_query_one(e->db, PROFILE_SELECT " JOIN clusters c ON c.datacenter_id = n.datacenter_id"
                              " WHERE c.id = ? AND n.name = ? ORDER BY (p.name = n.name) DESC, p.created_at LIMIT 1",
                              DB_ARGS(DB_TEXT(cluster), DB_TEXT(json_string_value(net))), err);
        if (!row)
            return err->code ? -1 : vr_error_set(err, VR_ERR_INVALID_PARAMS, "no VM network '%.64s' with a vNIC"
                                                 " profile in the data center of VM '%s'", json_string_value(net),
                                                 str(vm, "name"));
    } else {
        row = vr_db_query_one(e->db, PROFILE_SELECT " WHERE p.id = ?", DB_ARGS(DB_TEXT(str(nic, "profile"))), err);
        if (!row)
            return err->code ? -1 : vr_error_set(err, VR_ERR_INVALID_PARAMS, "no vNIC profile with id '%.64s'",
                                                 str(nic, "profile"));
    }
    json_t *att = vr_db_query_one(e->db, "SELECT required FROM cluster_networks WHERE cluster_id = ? AND"
                                  " network_id = ?", DB_ARGS(DB_TEXT(cluster), DB_TEXT(str(row, "network_id"))), err);
    int rc = 0;
    if (!att)
        rc = err->code ? -1 : vr_error_set(err, VR_ERR_CONFLICT, "network '%s' is not attached to the cluster of VM"
                                           " '%s'", str(row, "network"), str(vm, "name"));
    else {
        json_object_del(nic, "network");
        json_object_set(nic, "profile", json_object_get(row, "id"));
    }
    json_decref(att);
    json_decref(row);
    return rc;
}

json_t *vr_vnic_vm_networks(vr_engine *e, json_t *vm, const char **names, vr_error *err)
{
    json_t *out = json_array(), *n;
    size_t i;
    json_array_foreach(json_object_get(json_object_get(vm, "spec"), "nics"), i, n) {
        const char *p = json_string_value(json_object_get(n, "profile"));
        if (!p)
            continue;
        json_t *row = vr_db_query_one(e->db, "SELECT n.name AS name FROM vnic_profiles p JOIN networks n ON"
                                      " n.id = p.network_id WHERE p.id = ?", DB_ARGS(DB_TEXT(p)), err);
        if (!row && err->code) {
            json_decref(out);
            return NULL;
        }
        /* A profile removed meanwhile is the start's error to report. */
        bool dup = false;
        for (size_t k = 0; row && k < json_array_size(out); k++)
            dup |= !strcmp(json_string_value(json_array_get(out, k)), str(row, "name"));
        if (row && !dup && json_array_size(out) < VR_VNIC_MAX_NETS)
            json_array_append(out, json_object_get(row, "name"));
        json_decref(row);
    }
    for (i = 0; i < json_array_size(out); i++)
        names[i] = json_string_value(json_array_get(out, i));
    return out;
}

/* Whether the comma-ended list "a,b," holds name. */
static bool in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && !strncmp(p, name, n))
            return true;
        p += len + (end ? 1 : 0);
    }
    return false;
}

int vr_vnic_check_host(vr_engine *e, json_t *vm, json_t *nic, vr_error *err)
{
    const char *p = json_string_value(json_object_get(nic, "profile"));
    if (!p)
        return 0;
    json_t *row = vr_db_query_one(e->db, "SELECT h.name AS host, h.net_names AS nets, n.name AS network FROM vms v"
                                  " JOIN hosts h ON h.id = v.host_id, vnic_profiles pr JOIN networks n ON"
                                  " n.id = pr.network_id WHERE v.id = ? AND pr.id = ?",
                                  DB_ARGS(DB_TEXT(str(vm, "id")), DB_TEXT(p)), err);
    if (!row)
        return err->code ? -1 : vr_error_set(err, VR_ERR_BAD_STATE, "VM '%s' no longer runs on a host",
                                             str(vm, "name"));
    int rc = 0;
    if (!in_list(str(row, "nets"), str(row, "network")))
        rc = vr_error_set(err, VR_ERR_CONFLICT, "host '%s' of VM '%s' does not run network '%s' (set it up there,"
                          " or plug the NIC in while the VM is down)", str(row, "host"), str(vm, "name"),
                          str(row, "network"));
    json_decref(row);
    return rc;
}

json_t *vr_vnic_agent_nic(vr_engine *e, json_t *nic, vr_error *err)
{
    const char *p = json_string_value(json_object_get(nic, "profile"));
    json_t *out = json_deep_copy(nic);
    /* The engine's "linked" is the agent's "link" (stored only when set). */
    json_t *linked = json_object_get(nic, "linked");
    json_object_del(out, "linked");
    if (json_is_boolean(linked))
        json_object_set_new(out, "link", json_string(json_is_true(linked) ? "up" : "down"));
    if (!p)
        return out;
    json_t *row = vr_db_query_one(e->db, PROFILE_SELECT " WHERE p.id = ?", DB_ARGS(DB_TEXT(p)), err);
    if (!row) {
        if (!err->code)
            vr_error_set(err, VR_ERR_NOT_FOUND, "the vNIC profile %s of NIC %s no longer exists", p,
                         str(nic, "mac"));
        json_decref(out);
        return NULL;
    }
    json_object_del(out, "profile");
    json_object_set(out, "network", json_object_get(row, "network"));
    bool pass = json_integer_value(json_object_get(row, "passthrough"));
    if (pass) {
        json_object_set_new(out, "passthrough", json_true());
    } else {
        json_object_set_new(out, "filter", json_boolean(json_integer_value(json_object_get(row, "network_filter"))));
        json_object_set_new(out, "mirror", json_boolean(json_integer_value(json_object_get(row, "port_mirroring"))));
        json_t *qos = json_object_get(row, "qos");
        if (json_is_object(qos))
            json_object_set(out, "bandwidth", qos);
    }
    json_decref(row);
    return out;
}

int vr_vnic_check_dest(vr_engine *e, json_t *vm, json_t *dst, vr_error *err)
{
    const char *names[VR_VNIC_MAX_NETS];
    json_t *nets = vr_vnic_vm_networks(e, vm, names, err), *report = NULL;
    if (!nets)
        return -1;
    int rc = 0;
    if (json_array_size(nets) && vr_agent_call_host(e, dst, "Host.getNetworks", json_object(), &report, err) < 0) {
        char why[sizeof(err->message)];
        snprintf(why, sizeof(why), "%s", err->message);
        rc = vr_error_set(err, VR_ERR_CONFLICT, "cannot check the networks of host '%s' before migrating VM '%s'"
                          " there: %s", str(dst, "name"), str(vm, "name"), why);
    }
    char missing[256] = "";
    size_t o = 0;
    for (size_t i = 0; rc == 0 && i < json_array_size(nets); i++) {
        json_t *net = json_object_get(json_object_get(report, "networks"), names[i]);
        if (!net || !json_is_true(json_object_get(net, "vm")))
            o += (size_t)snprintf(missing + o, o < sizeof(missing) ? sizeof(missing) - o : 0, "%s%s",
                                  o ? ", " : "", names[i]);
    }
    if (rc == 0 && o)
        rc = vr_error_set(err, VR_ERR_CONFLICT, "host '%s' does not run network(s) %s of VM '%s' (asked before"
                          " migrating)", str(dst, "name"), missing, str(vm, "name"));
    json_decref(report);
    json_decref(nets);
    return rc;
}

int vr_vnic_apply_change(json_t *nics, json_t *change, vr_error *err)
{
    const char *mac = str(change, "mac");
    size_t i;
    json_t *n;
    json_array_foreach(nics, i, n) {
        if (strcasecmp(str(n, "mac"), mac))
            continue;
        json_object_set(n, "linked", json_object_get(change, "linked"));
        if (json_object_get(change, "profile")) {
            json_object_set(n, "profile", json_object_get(change, "profile"));
            json_object_del(n, "bridge"); /* a NIC on a profile uses its network's bridge */
        }
        return 0;
    }
    return vr_error_set(err, VR_ERR_NOT_FOUND, "no NIC %s", mac);
}

int vr_vnic_check_live_move(vr_engine *e, json_t *vm, const char *mac, const char *to, vr_error *err)
{
    json_t *neu = vr_db_query_one(e->db, PROFILE_SELECT " WHERE p.id = ?", DB_ARGS(DB_TEXT(to)), err);
    int rc = 0;
    if (!neu)
        rc = err->code ? -1 : vr_error_set(err, VR_ERR_INVALID_PARAMS, "no vNIC profile with id '%.64s'", to);
    else if (json_integer_value(json_object_get(neu, "passthrough")))
        rc = vr_error_set(err, VR_ERR_CONFLICT, "NIC %s of running VM '%s' cannot move to passthrough profile '%s'"
                          " (change it while the VM is down)", mac, str(vm, "name"), str(neu, "name"));
    json_decref(neu);
    return rc;
}

json_t *vr_vnic_agent_change(vr_engine *e, json_t *change, vr_error *err)
{
    json_t *out = vr_vnic_agent_nic(e, change, err);
    /* A profile without QoS takes the NIC's shaping off ("mirror": false
     * already says so for mirroring). */
    if (out && json_object_get(change, "profile") && !json_object_get(out, "bandwidth") &&
        !json_object_get(out, "passthrough"))
        json_object_set_new(out, "bandwidth", json_null());
    return out;
}

void vr_vnic_after_migration(vr_engine *e, json_t *vm, json_t *dst, const char *user)
{
    size_t i;
    json_t *n;
    json_array_foreach(json_object_get(json_object_get(vm, "spec"), "nics"), i, n) {
        if (!json_string_value(json_object_get(n, "profile")))
            continue;
        vr_error err = {0};
        json_t *agent = vr_vnic_agent_nic(e, n, &err), *res = NULL;
        bool wanted = agent && (json_object_get(agent, "bandwidth") || json_is_true(json_object_get(agent, "mirror")));
        if (wanted) {
            /* Only what the host applies itself; the rest came with the domain. */
            json_t *p = json_pack("{s:s, s:s, s:b}", "uuid", str(vm, "id"), "mac", str(n, "mac"), "mirror",
                                  json_is_true(json_object_get(agent, "mirror")));
            if (json_object_get(agent, "bandwidth"))
                json_object_set(p, "bandwidth", json_object_get(agent, "bandwidth"));
            vr_agent_call_host(e, dst, "VM.updateNic", p, &res, &err);
        }
        if (err.code)
            vr_event(e, "warning", user, "vm", str(vm, "id"), "the QoS or mirroring of NIC %s of VM '%s' was not"
                     " applied on host '%s': %s", str(n, "mac"), str(vm, "name"), str(dst, "name"), err.message);
        json_decref(res);
        json_decref(agent);
    }
}
