/* POST /api/hosts/ID/setupnetworks (setupnet.h). The whole request is
 * checked against the database and the host's last report before a job
 * is recorded, so a bad request is a 400/409 that changes nothing and
 * never reaches the host. The job sends the networks as the engine
 * defines them (VLAN, MTU, VM or not): the client names networks and
 * NICs, never their wiring. */
#include "setupnet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentcall.h"
#include "hostnet.h"
#include "jobs.h"
#include "log.h"
#include "netlabel.h"
#include "netrules.h"
#include "sdjobs.h"
#include "i18n.h"

#define MAX_ATTACH 64

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

const vr_field vr_setupnet_params[VR_SETUPNET_NPARAMS] = {
    {"attachments", VR_FT_JSON, VR_F_CREATE, .schema = "NetworkAttachments", .dflt = "[]",
     .doc = "Networks to add or replace on the host: [{network (id or name), nic, boot_protocol?, address?,"
            " gateway?}]."},
    {"removed", VR_FT_JSON, VR_F_CREATE, .schema = "NetworkNames", .dflt = "[]",
     .doc = "Networks (ids or names) to remove from the host."},
    {"bonds", VR_FT_JSON, VR_F_CREATE, .schema = "HostBonds", .dflt = "{}",
     .doc = "Bonds to make: {\"bond0\": {\"nics\": [\"eth1\", \"eth2\"], \"mode\": 1}} (modes 0-6; 0, 5, 6 not"
            " for VM networks)."},
    {"check_connectivity", VR_FT_BOOL, VR_F_CREATE, .dflt = "true",
     .doc = "The host rolls the change back unless the engine confirms it over a new connection."},
    {"connectivity_timeout", VR_FT_INT, VR_F_CREATE, 1, 3600, .dflt = "120",
     .doc = "Seconds the host waits for the confirmation."},
    {"labels", VR_FT_JSON, VR_F_CREATE, .schema = "NicLabels", .dflt = "{}",
     .doc = "NIC labels to set ({\"eth1\": \"lab\"} or {\"eth1\": [\"lab\", \"lab2\"]}: the NIC's labels become"
            " those) or take away (\"\" or []): the networks of the host's cluster with a label the NIC gains are"
            " attached to it, those with a label it loses leave it (docs/networks.md \"Labels\")."},
};

/* A dotted IPv4 address, with a /prefix when cidr. */
static bool ipv4(const char *s, bool cidr)
{
    unsigned a, b, c, d, p = 0;
    char end = 0;
    int n = cidr ? sscanf(s, "%3u.%3u.%3u.%3u/%2u%c", &a, &b, &c, &d, &p, &end)
                 : sscanf(s, "%3u.%3u.%3u.%3u%c", &a, &b, &c, &d, &end);
    return n == (cidr ? 5 : 4) && a < 256 && b < 256 && c < 256 && d < 256 && p <= 32 &&
           strspn(s, "0123456789./") == strlen(s);
}

/* A network of the host's data center, by id or name: a new row. */
static json_t *find_network(vr_engine *e, json_t *ctx, json_t *ref, const char *where, vr_error *err)
{
    const char *s = json_string_value(ref);
    if (!s || !*s || strlen(s) > 64)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s must be a network id or name", where), NULL;
    json_t *n = vr_db_query_one(e->db, "SELECT id, name, datacenter_id, vm_network, vlan, mtu FROM networks WHERE"
                                " id = ? OR (name = ? AND datacenter_id = ?) ORDER BY (datacenter_id = ?) DESC LIMIT 1",
                                DB_ARGS(DB_TEXT(s), DB_TEXT(s), DB_TEXT(str(ctx, "dc")), DB_TEXT(str(ctx, "dc"))),
                                err);
    if (!n && !err->code)
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s: no network '%.64s' in data center '%s'", where, s,
                     str(ctx, "dc_name"));
    else if (n && strcmp(str(n, "datacenter_id"), str(ctx, "dc"))) {
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s: network '%s' belongs to another data center than host '%s'",
                     where, str(n, "name"), str(ctx, "host"));
        json_decref(n);
        n = NULL;
    }
    return n;
}

/* The network must be attached to the host's cluster. */
static int in_cluster(vr_engine *e, json_t *ctx, json_t *net, vr_error *err)
{
    json_t *x = vr_db_query_one(e->db, "SELECT required FROM cluster_networks WHERE cluster_id = ? AND network_id = ?",
                                DB_ARGS(DB_TEXT(str(ctx, "cluster")), DB_TEXT(str(net, "id"))), err);
    json_decref(x);
    return x ? 0 : err->code ? -1 : vr_error_set(err, VR_ERR_CONFLICT, "network '%s' is not attached to cluster '%s'"
                                                 " of host '%s'", str(net, "name"), str(ctx, "cluster_name"),
                                                 str(ctx, "host"));
}

static bool listed(json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
        if (!strcmp(json_string_value(v) ?: "", s))
            return true;
    return false;
}

/* The network's MTU within the largest the NIC takes (IFLA_MAX_MTU, as
 * the host reported it; ctx.max_mtu {NIC: max}), or within each member's
 * for a bond: the host would refuse it, so it is a 409 here instead of a
 * failed job. A NIC whose maximum is unknown is not checked. */
static int check_mtu(json_t *ctx, const char *nic, json_t *net, json_t *bonds, vr_error *err)
{
    json_t *members = json_object_get(json_object_get(bonds, nic), "nics"), *m;
    json_t *one = members ? NULL : json_pack("[s]", nic);
    json_int_t mtu = json_integer_value(json_object_get(net, "mtu"));
    size_t i;
    int rc = 0;
    json_array_foreach(members ? members : one, i, m) {
        json_t *max = json_object_get(json_object_get(ctx, "max_mtu"), json_string_value(m) ?: "");
        if (rc == 0 && json_is_integer(max) && mtu > json_integer_value(max))
            rc = vr_error_set(err, VR_ERR_CONFLICT, "NIC %s of host '%s' cannot carry network '%s' with MTU %lld:"
                              " its maximum MTU is %lld", json_string_value(m), str(ctx, "host"),
                              str(net, "name"), (long long)mtu, (long long)json_integer_value(max));
    }
    json_decref(one);
    return rc;
}

/* One attachment: its agent entry into plan.request.networks, its record
 * into plan.attach, its wiring into wires (nic, vlan, name). */
static int plan_attachment(vr_engine *e, json_t *ctx, json_t *a, size_t i, json_t *plan, json_t *wires,
                           json_t *bonds, vr_error *err)
{
    char w[48];
    snprintf(w, sizeof(w), "attachments[%zu]", i);
    if (!json_is_object(a))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s must be an object {network, nic, ...}", w);
    const char *k;
    json_t *v;
    json_object_foreach(a, k, v)
        if (strcmp(k, "network") && strcmp(k, "nic") && strcmp(k, "boot_protocol") && strcmp(k, "address") &&
            strcmp(k, "gateway"))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s: unknown member '%.40s'", w, k);
    char wn[64];
    snprintf(wn, sizeof(wn), "%s.nic", w);
    const char *nic = json_string_value(json_object_get(a, "nic"));
    if (vr_net_check_nic(nic, wn, err) < 0)
        return -1;
    if (!json_object_get(bonds, nic) && json_array_size(json_object_get(ctx, "nics")) &&
        !listed(json_object_get(ctx, "nics"), nic))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s: host '%s' has no NIC '%s'", w, str(ctx, "host"), nic);
    snprintf(wn, sizeof(wn), "%s.network", w);
    json_t *net = find_network(e, ctx, json_object_get(a, "network"), wn, err);
    if (!net)
        return -1;
    const char *name = str(net, "name");
    int rc = in_cluster(e, ctx, net, err);
    if (rc == 0 && json_object_get(json_object_get(plan, "networks"), name))
        rc = vr_error_set(err, VR_ERR_INVALID_PARAMS, "network '%s' is named twice", name);
    if (rc == 0)
        rc = check_mtu(ctx, nic, net, bonds, err);
    const char *proto = json_object_get(a, "boot_protocol") ? json_string_value(json_object_get(a, "boot_protocol"))
                                                             : "none";
    const char *addr = json_string_value(json_object_get(a, "address"));
    const char *gw = json_string_value(json_object_get(a, "gateway"));
    if (rc == 0 && (!proto || (strcmp(proto, "none") && strcmp(proto, "static") && strcmp(proto, "dhcp"))))
        rc = vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.boot_protocol must be none, static or dhcp", w);
    else if (rc == 0 && !strcmp(proto, "static") != (json_object_get(a, "address") != NULL))
        rc = vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s: address (CIDR) is given with boot_protocol static, and"
                          " only then", w);
    else if (rc == 0 && ((json_object_get(a, "address") && (!addr || !ipv4(addr, true))) ||
                         (json_object_get(a, "gateway") && (!gw || !ipv4(gw, false) || !addr))))
        rc = vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s: address must be an IPv4 CIDR (10.1.0.5/24) and gateway"
                          " an IPv4 address, with static addressing", w);
    if (rc < 0) {
        json_decref(net);
        return -1;
    }
    json_t *vlan = json_object_get(net, "vlan");
    json_t *entry = json_pack("{s:s, s:O, s:b}", "nic", nic, "mtu", json_object_get(net, "mtu"), "vm",
                              (int)json_integer_value(json_object_get(net, "vm_network")));
    if (json_is_integer(vlan))
        json_object_set(entry, "vlan", vlan);
    if (strcmp(proto, "none")) {
        json_object_set_new(entry, "boot_protocol", json_string(proto));
        if (addr) /* dhcp: the host's DHCP client gets one */
            json_object_set_new(entry, "address", json_string(addr));
        if (gw)
            json_object_set_new(entry, "gateway", json_string(gw));
    }
    json_object_set_new(json_object_get(plan, "networks"), name, entry);
    json_array_append_new(json_object_get(plan, "attach"),
                          json_pack("{s:O, s:s, s:s, s:s, s:s}", "network_id", json_object_get(net, "id"), "nic", nic,
                                    "boot_protocol", proto, "address", addr ?: "", "gateway", gw ?: ""));
    json_array_append_new(wires, json_pack("{s:s, s:O, s:s, s:b}", "nic", nic, "vlan", vlan ?: json_null(), "name",
                                           name, "vm", (int)json_integer_value(json_object_get(net, "vm_network"))));
    json_decref(net);
    return 0;
}

/* A NIC carries one untagged network and each VLAN once: wires holds the
 * host's networks after the change. */
static int check_wires(json_t *wires, vr_error *err)
{
    for (size_t i = 0; i < json_array_size(wires); i++)
        for (size_t j = 0; j < i; j++) {
            json_t *a = json_array_get(wires, i), *b = json_array_get(wires, j);
            if (strcmp(str(a, "nic"), str(b, "nic")) ||
                !json_equal(json_object_get(a, "vlan"), json_object_get(b, "vlan")))
                continue;
            if (json_is_null(json_object_get(a, "vlan")))
                return vr_error_set(err, VR_ERR_INVALID_PARAMS, "NIC %s would carry two untagged networks: %s and %s",
                                    str(a, "nic"), str(b, "name"), str(a, "name"));
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "NIC %s would carry VLAN %lld twice: networks %s and %s",
                                str(a, "nic"), (long long)json_integer_value(json_object_get(a, "vlan")),
                                str(b, "name"), str(a, "name"));
        }
    return 0;
}

/* Removals: known networks, not also attached, no VM of this host on them. */
static int plan_removed(vr_engine *e, json_t *ctx, json_t *removed, json_t *plan, vr_error *err)
{
    size_t i;
    json_t *r;
    json_array_foreach(removed, i, r) {
        char w[48];
        snprintf(w, sizeof(w), "removed[%zu]", i);
        json_t *net = find_network(e, ctx, r, w, err);
        if (!net)
            return -1;
        const char *name = str(net, "name");
        json_t *vm = vr_db_query_one(e->db, "SELECT v.name AS name FROM vms v WHERE v.host_id = ? AND v.status !="
                                     " 'down' AND EXISTS (SELECT 1 FROM vnic_profiles p WHERE p.network_id = ? AND"
                                     " v.spec_json LIKE '%\"profile\":\"' || p.id || '\"%') LIMIT 1",
                                     DB_ARGS(DB_TEXT(str(ctx, "host_id")), DB_TEXT(str(net, "id"))), err);
        int rc = err->code ? -1 : 0;
        if (json_object_get(json_object_get(plan, "networks"), name))
            rc = vr_error_set(err, VR_ERR_INVALID_PARAMS, "network '%s' is both attached and removed", name);
        else if (vm)
            rc = vr_error_set(err, VR_ERR_CONFLICT, "network '%s' is used by VM '%s' running on host '%s'", name,
                              str(vm, "name"), str(ctx, "host"));
        if (rc == 0) {
            json_object_set_new(json_object_get(plan, "networks"), name, json_pack("{s:b}", "remove", 1));
            json_array_append(json_object_get(plan, "removed"), json_object_get(net, "id"));
        }
        json_decref(vm);
        json_decref(net);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int plan_bonds(json_t *ctx, json_t *bonds, json_t *wires, vr_error *err)
{
    const char *name;
    json_t *b;
    json_object_foreach(bonds, name, b) {
        bool vm = false;
        size_t i;
        json_t *w, *nic;
        json_array_foreach(wires, i, w)
            vm |= !strcmp(str(w, "nic"), name) && json_is_true(json_object_get(w, "vm"));
        if (vr_net_check_bond(name, b, vm, err) < 0)
            return -1;
        json_array_foreach(json_object_get(b, "nics"), i, nic) {
            const char *n = json_string_value(nic);
            if (json_array_size(json_object_get(ctx, "nics")) && !listed(json_object_get(ctx, "nics"), n))
                return vr_error_set(err, VR_ERR_INVALID_PARAMS, "bond %s: host '%s' has no NIC '%s'", name,
                                    str(ctx, "host"), n);
            size_t j;
            json_array_foreach(wires, j, w)
                if (!strcmp(str(w, "nic"), n))
                    return vr_error_set(err, VR_ERR_INVALID_PARAMS, "NIC %s is in bond %s and carries network %s"
                                        " itself", n, name, str(w, "name"));
        }
    }
    return 0;
}

/* What the host runs now and keeps (not replaced, not removed). */
static int kept_wires(vr_engine *e, json_t *ctx, json_t *plan, json_t *wires, vr_error *err)
{
    json_t *rows = NULL, *r;
    if (vr_db_query(e->db, "SELECT a.nic AS nic, n.vlan AS vlan, n.name AS name, n.vm_network AS vm FROM"
                    " host_network_attachments a JOIN networks n ON n.id = a.network_id WHERE a.host_id = ?",
                    DB_ARGS(DB_TEXT(str(ctx, "host_id"))), &rows, err) < 0)
        return -1;
    size_t i;
    json_array_foreach(rows, i, r)
        if (!json_object_get(json_object_get(plan, "networks"), str(r, "name")))
            json_array_append(wires, r);
    json_decref(rows);
    return 0;
}

/* The whole request checked: a new plan {networks, bonds, attach, removed,
 * labels}; b has its labels expanded already (netlabel.h). */
static json_t *make_plan(vr_engine *e, json_t *host, json_t *b, vr_error *err)
{
    json_t *att = json_object_get(b, "attachments"), *rem = json_object_get(b, "removed");
    json_t *bonds = json_object_get(b, "bonds");
    if (!json_is_array(att) || json_array_size(att) > MAX_ATTACH)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "attachments must be an array of at most %d", MAX_ATTACH), NULL;
    if (!json_is_array(rem) || json_array_size(rem) > MAX_ATTACH)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "removed must be an array of at most %d network ids or"
                            " names", MAX_ATTACH), NULL;
    if (!json_is_object(bonds) || json_object_size(bonds) > 16)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "bonds must be an object of at most 16 bonds"), NULL;
    if (!json_array_size(att) && !json_array_size(rem) && !json_object_size(bonds) &&
        !json_object_size(json_object_get(b, "labels")))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "nothing to set up: give attachments, removed, bonds or"
                            " labels"), NULL;
    json_t *ctx = vr_db_query_one(e->db, "SELECT h.id AS host_id, h.name AS host, c.id AS cluster, c.name AS"
                                  " cluster_name, d.id AS dc, d.name AS dc_name FROM hosts h JOIN clusters c ON"
                                  " c.id = h.cluster_id JOIN datacenters d ON d.id = c.datacenter_id WHERE h.id = ?",
                                  DB_ARGS(DB_TEXT(str(host, "id"))), err);
    json_t *nics = NULL, *n;
    if (!ctx || vr_db_query(e->db, "SELECT name, max_mtu FROM host_nics WHERE host_id = ?",
                            DB_ARGS(DB_TEXT(str(host, "id"))), &nics, err) < 0) {
        if (ctx && !err->code)
            vr_error_set(err, VR_ERR_NOT_FOUND, "host '%s' was removed meanwhile", str(host, "name"));
        json_decref(ctx);
        return NULL;
    }
    json_t *names = json_array(), *max = json_object();
    size_t i;
    json_array_foreach(nics, i, n) {
        json_array_append(names, json_object_get(n, "name"));
        if (json_is_integer(json_object_get(n, "max_mtu")))
            json_object_set(max, str(n, "name"), json_object_get(n, "max_mtu"));
    }
    json_decref(nics);
    json_object_set_new(ctx, "nics", names);
    json_object_set_new(ctx, "max_mtu", max);
    json_t *plan = json_pack("{s:{}, s:[], s:[], s:O}", "networks", "attach", "removed", "labels",
                             json_object_get(b, "labels")), *wires = json_array();
    int rc = 0;
    for (i = 0; rc == 0 && i < json_array_size(att); i++)
        rc = plan_attachment(e, ctx, json_array_get(att, i), i, plan, wires, bonds, err);
    if (rc == 0)
        rc = plan_removed(e, ctx, rem, plan, err);
    if (rc == 0)
        rc = kept_wires(e, ctx, plan, wires, err);
    if (rc == 0)
        rc = check_wires(wires, err);
    if (rc == 0)
        rc = plan_bonds(ctx, bonds, wires, err);
    if (rc == 0 && json_object_size(bonds))
        json_object_set(plan, "bonds", bonds);
    json_decref(wires);
    json_decref(ctx);
    if (rc < 0) {
        json_decref(plan);
        return NULL;
    }
    return plan;
}

/* ---- the job ---- */

static void fail(vr_engine *e, const char *user, json_t *host, const char *why)
{
    vr_event(e, "error", user, "host", str(host, "id"), "network setup of host '%s' failed: %s", str(host, "name"),
             why);
}

/* Record what the host confirmed, in one transaction. */
static int record(vr_engine *e, const char *host_id, json_t *p, vr_error *err)
{
    if (vr_db_begin(e->db, err) < 0)
        return -1;
    size_t i;
    json_t *a;
    int rc = 0;
    json_array_foreach(json_object_get(p, "attach"), i, a) {
        if (rc == 0 && vr_db_exec(e->db, "DELETE FROM host_network_attachments WHERE host_id = ? AND network_id = ?",
                                  DB_ARGS(DB_TEXT(host_id), DB_TEXT(str(a, "network_id"))), err) < 0)
            rc = -1;
        if (rc == 0 && vr_db_exec(e->db, "INSERT INTO host_network_attachments (host_id, network_id, nic,"
                                  " boot_protocol, address, gateway, confirmed_at) VALUES (?,?,?,?,?,?,?)",
                                  DB_ARGS(DB_TEXT(host_id), DB_TEXT(str(a, "network_id")), DB_TEXT(str(a, "nic")),
                                          DB_TEXT(str(a, "boot_protocol")), DB_TEXT(str(a, "address")),
                                          DB_TEXT(str(a, "gateway")), DB_INT(vr_now())), err) < 0)
            rc = -1;
    }
    json_array_foreach(json_object_get(p, "removed"), i, a)
        if (rc == 0 && vr_db_exec(e->db, "DELETE FROM host_network_attachments WHERE host_id = ? AND network_id = ?",
                                  DB_ARGS(DB_TEXT(host_id), DB_TEXT(json_string_value(a))), err) < 0)
            rc = -1;
    const char *nic;
    json_object_foreach(json_object_get(p, "labels"), nic, a)
        if (rc == 0 && vr_db_exec(e->db, "UPDATE host_nics SET label = ? WHERE host_id = ? AND name = ?",
                                  DB_ARGS(DB_TEXT(json_string_value(a)), DB_TEXT(host_id), DB_TEXT(nic)), err) < 0)
            rc = -1;
    if (rc < 0) {
        vr_db_rollback(e->db);
        return -1;
    }
    return vr_db_commit(e->db, err);
}

int vr_setupnet_apply(vr_engine *e, const char *job_id, const char *user, json_t *host, json_t *p, vr_error *err)
{
    const char *host_id = str(host, "id");
    json_t *res = NULL, *ok = NULL, *report = NULL;
    int rc = -1;
    if (job_id) {
        char step[200];
        vr_i18n_format(step, sizeof(step), "Host.setupNetworks on host '%s'", str(host, "name"));
        vr_job_update(e, job_id, "running", step);
        vr_job_progress(e, job_id, 10);
    }
    if (vr_agent_call_host(e, host, "Host.setupNetworks", json_incref(json_object_get(p, "request")), &res,
                           err) < 0) {
        fail(e, user, host, err->message);
        goto out;
    }
    if (!json_is_null(json_object_get(res, "deadline")) && json_object_get(res, "deadline")) {
        /* A connection made after the change proves the engine still
         * reaches the host; the monitor's older session would not. */
        if (job_id) {
            vr_job_update(e, job_id, "running", "confirming the change over a new connection");
            vr_job_progress(e, job_id, 60);
        }
        if (vr_agent_call_host(e, host, "Host.confirmNetworks", json_object(), &ok, err) < 0) {
            char why[700];
            vr_i18n_format(why, sizeof(why), "the change was made but could not be confirmed (the host rolls it back by"
                     " itself): %s", err->message);
            vr_error_set(err, err->code ? err->code : VR_ERR_IO, "%s", why);
            fail(e, user, host, why);
            goto out;
        }
    }
    if (job_id)
        vr_job_progress(e, job_id, 80);
    vr_error e2 = {0};
    if (record(e, host_id, p, &e2) < 0)
        VR_WARN("host %s confirmed its networks but they cannot be recorded: %s", str(host, "name"), e2.message);
    vr_error_clear(&e2);
    if (vr_agent_call_host(e, host, "Host.getNetworks", json_object(), &report, &e2) < 0 ||
        vr_host_net_store(e, host_id, report, &e2) < 0)
        VR_WARN("cannot read back the networks of host %s: %s", str(host, "name"), e2.message);
    vr_event(e, "normal", user, "host", host_id, "networks of host '%s' set up (%zu attached, %zu removed)",
             str(host, "name"), json_array_size(json_object_get(p, "attach")),
             json_array_size(json_object_get(p, "removed")));
    const char *nic;
    json_t *l;
    json_object_foreach(json_object_get(p, "labels"), nic, l) {
        if (*json_string_value(l))
            vr_event(e, "normal", user, "host", host_id, "NIC %s of host '%s' labelled '%s'", nic,
                     str(host, "name"), json_string_value(l));
        else
            vr_event(e, "normal", user, "host", host_id, "NIC %s of host '%s' has no label now", nic,
                     str(host, "name"));
    }
    rc = 0;
out:
    json_decref(report);
    json_decref(ok);
    json_decref(res);
    return rc;
}

static void run_setup(vr_engine *e, const char *job_id, const char *host_id, const char *user)
{
    vr_error err = {0};
    json_t *job = vr_db_query_one(e->db, "SELECT params_json FROM jobs WHERE id = ?", DB_ARGS(DB_TEXT(job_id)), NULL);
    json_t *p = json_object_get(job, "params");
    json_t *host = vr_db_query_one(e->db, "SELECT id, name, address, port FROM hosts WHERE id = ?",
                                   DB_ARGS(DB_TEXT(host_id)), NULL);
    if (!host || !json_is_object(p))
        vr_job_update(e, job_id, "failed", host ? N_("the job's parameters are gone") : N_("the host is gone"));
    else if (vr_setupnet_apply(e, job_id, user, host, p, &err) < 0)
        vr_job_update(e, job_id, "failed", err.message);
    else
        vr_job_update(e, job_id, "finished", "");
    json_decref(host);
    json_decref(job);
}

json_t *vr_setupnet_plan(vr_engine *e, json_t *host, json_t *body, vr_error *err)
{
    json_t *expanded = vr_netlabel_expand(e, host, body, err);
    json_t *plan = expanded ? make_plan(e, host, expanded, err) : NULL;
    json_decref(expanded);
    if (!plan)
        return NULL;
    json_t *request = json_pack("{s:O, s:O, s:O}", "networks", json_object_get(plan, "networks"), "check_connectivity",
                                json_object_get(body, "check_connectivity"), "connectivity_timeout",
                                json_object_get(body, "connectivity_timeout"));
    if (json_object_get(plan, "bonds"))
        json_object_set(request, "bonds", json_object_get(plan, "bonds"));
    json_t *params = json_pack("{s:o, s:O, s:O, s:O}", "request", request, "attach", json_object_get(plan, "attach"),
                               "removed", json_object_get(plan, "removed"), "labels", json_object_get(plan, "labels"));
    json_decref(plan);
    return params;
}

int vr_setupnet_busy(vr_engine *e, json_t *host, vr_error *err)
{
    json_t *busy = vr_db_query_one(e->db, "SELECT id FROM jobs WHERE object_id = ? AND action = 'setupnetworks' AND"
                                   " status IN ('pending', 'running')", DB_ARGS(DB_TEXT(str(host, "id"))), err);
    int rc = busy ? vr_error_set(err, VR_ERR_CONFLICT, "host '%s' is already being set up (job %s)",
                                 str(host, "name"), str(busy, "id")) : err->code ? -1 : 0;
    json_decref(busy);
    return rc;
}

int vr_setupnet_action(vr_call *c, json_t *host, json_t *body, json_t **reply, vr_error *err)
{
    vr_engine *e = c->e;
    const char *st = str(host, "status"), *id = str(host, "id");
    if (strcmp(st, "up") && strcmp(st, "nonoperational") && strcmp(st, "maintenance"))
        return vr_error_set(err, VR_ERR_BAD_STATE, "host '%s' is %s; networks are set up on a host that is up,"
                            " nonoperational or in maintenance", str(host, "name"), st);
    json_t *params = vr_setupnet_plan(e, host, body, err);
    if (!params)
        return -1;
    char job[37], desc[160];
    vr_uuid_new(job);
    vr_i18n_format(desc, sizeof(desc), "Set up networks of host '%s'", str(host, "name"));
    if (vr_db_begin(e->db, err) < 0) {
        json_decref(params);
        return -1;
    }
    /* One setup per host at a time: the second would race the first's
     * rollback point on the host. */
    int rc = vr_setupnet_busy(e, host, err);
    if (vr_storage_job_submit(e, rc, job, "setupnetworks", "host", id, desc, params, c->user, run_setup, err) < 0)
        return -1;
    *reply = json_pack("{s:s}", "job_id", job);
    return 0;
}

bool vr_setupnet_resume(vr_engine *e, json_t *job)
{
    if (strcmp(str(job, "action"), "setupnetworks"))
        return false;
    vr_job_update(e, str(job, "id"), "failed", "interrupted by an engine restart; a change the host was not asked to"
                  " confirm is rolled back by the host itself");
    return true;
}
