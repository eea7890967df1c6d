/* The converge step (netapply.h). Order matters for a host that must stay
 * reachable: unwanted devices go first (so names are free), then network
 * bridges and veths with their tagging programs, then each NIC's program,
 * and last the addresses land on their bridges with the default route, so
 * the management address is away for a few netlink round trips only. */
#include "netapply.h"

#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "dhcp.h"
#include "log.h"
#include "netconf.h"
#include "trunk.h"

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static bool in_array(json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) if (json_is_string(v) && !strcmp(json_string_value(v), s)) return true;
    return false;
}

/* Network bridges the agent owns now: named in known, or master of a
 * network-side veth (vrv*b) - found on the host itself, so an agent killed
 * mid-setup still knows what it made. */
static json_t *owned_bridges(vr_nl *nl, json_t *known)
{
    json_t *out = json_deep_copy(known);
    const vr_nl_link *links;
    int n = vr_nl_links(nl, &links);
    for (int i = 0; i < n; i++) {
        size_t len = strlen(links[i].name);
        if (!strncmp(links[i].name, "vrv", 3) && len && links[i].name[len - 1] == 'b' &&
            links[i].master) {
            const char *m = vr_nl_link_name(nl, links[i].master);
            if (*m && !in_array(out, m))
                json_array_append_new(out, json_string(m));
        }
    }
    return out;
}

static int vlans_on(json_t *target, const char *nic)
{
    const char *name;
    json_t *net;
    int n = 0;
    json_object_foreach(target, name, net) n += !strcmp(jstr(net, "nic"), nic) && vr_netconf_vlan(net);
    return n;
}

int vr_net_precheck(vr_nl *nl, json_t *target, json_t *known_bridges, vr_error *err)
{
    json_t *owned = owned_bridges(nl, known_bridges);
    const char *name;
    json_t *net;
    int rc = 0;
    json_object_foreach(target, name, net) {
        const char *nic = jstr(net, "nic");
        const vr_nl_link *l = vr_nl_link_get(nl, nic), *dev = vr_nl_link_get(nl, name);
        int mtu = (int)json_integer_value(json_object_get(net, "mtu"));
        if (!l)
            rc = vr_error_set(err, VR_ERR_NETWORK, "network %s: no NIC %s on this host", name, nic);
        else if (!strcmp(l->kind, "bridge") || json_object_get(target, nic) || in_array(owned, nic))
            rc = vr_error_set(err, VR_ERR_NETWORK, "network %s: %s is a bridge, not a NIC", name, nic);
        else if (!strcmp(nic, "lo") || (*l->kind && strcmp(l->kind, "veth")))
            rc = vr_error_set(err, VR_ERR_NETWORK, "network %s: %s is not a NIC (%s)", name, nic,
                              *l->kind ? l->kind : "loopback");
        else if (l->master)
            rc = vr_error_set(err, VR_ERR_NETWORK,
                              "network %s: NIC %s is a port of bridge %s, which the agent does not own",
                              name, nic, vr_nl_link_name(nl, l->master));
        else if (mtu > l->max_mtu)
            rc = vr_error_set(err, VR_ERR_NETWORK,
                              "network %s: MTU %d is above what NIC %s accepts (%d)", name, mtu,
                              nic, l->max_mtu);
        else if (dev && !in_array(owned, name))
            rc = vr_error_set(err, VR_ERR_NETWORK,
                              "network %s: a device named %s exists and the agent does not own it",
                              name, name);
        else if (vlans_on(target, nic) > VR_TRUNK_MAX_VLANS)
            rc = vr_error_set(err, VR_ERR_NETWORK, "NIC %s would carry more than %d VLANs", nic,
                              VR_TRUNK_MAX_VLANS);
        if (rc < 0)
            break;
    }
    json_decref(owned);
    return rc;
}

/* Put a NIC's own addresses (and default route) back on it. */
static void give_back(vr_nl *nl, const char *nic, json_t *saved)
{
    vr_error e = {0};
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(saved, "addresses"), i, a)
        if (vr_nl_addr(nl, nic, json_string_value(a), true, &e) < 0)
            VR_WARN("%s", e.message);
    if (jstr(saved, "gateway") && vr_nl_default_route(nl, nic, jstr(saved, "gateway"), &e) < 0)
        VR_WARN("%s", e.message);
}

/* The untagged network of a NIC in the target, or NULL. */
static const char *untagged_of(json_t *target, const char *nic)
{
    const char *name;
    json_t *net;
    json_object_foreach(target, name, net)
        if (!strcmp(jstr(net, "nic"), nic) && vr_netconf_vlan(net) == 0)
            return name;
    return NULL;
}

/* Step 1: delete what the target does not want. */
static int remove_unwanted(vr_nl *nl, json_t *target, json_t *owned, json_t *nic_saved,
                           vr_error *err)
{
    json_t *veths = json_array();
    const char *name;
    json_t *net;
    json_object_foreach(target, name, net) {
        char dev[16];
        vr_netconf_veth_name(jstr(net, "nic"), vr_netconf_vlan(net), 'a', dev);
        json_array_append_new(veths, json_string(dev));
        vr_netconf_veth_name(jstr(net, "nic"), vr_netconf_vlan(net), 'b', dev);
        json_array_append_new(veths, json_string(dev));
    }
    const vr_nl_link *links;
    int n = vr_nl_links(nl, &links), rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        const vr_nl_link *l = &links[i];
        if ((!strncmp(l->name, "vrv", 3) && !in_array(veths, l->name)) ||
            (!strcmp(l->kind, "bridge") && in_array(owned, l->name) &&
             !json_object_get(target, l->name)))
            rc = vr_nl_link_del(nl, l->name, err);
    }
    json_decref(veths);
    /* NICs no longer carrying networks lose their programs and get their
     * addresses back. */
    const char *nic;
    json_t *saved, *tmp;
    json_object_foreach_safe(nic_saved, tmp, nic, saved) {
        bool used = false;
        json_object_foreach(target, name, net) used |= !strcmp(jstr(net, "nic"), nic);
        if (rc == 0 && !used) {
            rc = vr_trunk_clear(nl, nic, err);
            give_back(nl, nic, saved);
            /* and the MTU it had before its first network (a state file
             * of an older agent has none: the NIC keeps its MTU) */
            vr_error e = {0};
            int mtu = (int)json_integer_value(json_object_get(saved, "mtu"));
            if (mtu > 0 && vr_nl_link_get(nl, nic) && vr_nl_link_set(nl, nic, mtu, NULL, false, &e) < 0)
                VR_WARN("%s", e.message);
            VR_INFO("NIC %s released with its own addresses", nic);
            json_object_del(nic_saved, nic); /* frees nic */
        }
    }
    return rc;
}

/* Step 2: the network's bridge and its veth pair, the trunk end programmed. */
static int make_network(vr_nl *nl, const char *name, json_t *net, vr_error *err)
{
    const char *nic = jstr(net, "nic");
    int vlan = vr_netconf_vlan(net), mtu = (int)json_integer_value(json_object_get(net, "mtu"));
    char a[16], b[16];
    vr_netconf_veth_name(nic, vlan, 'a', a);
    vr_netconf_veth_name(nic, vlan, 'b', b);
    if (!vr_nl_link_get(nl, name) && vr_nl_bridge_add(nl, name, err) < 0)
        return -1;
    if (!vr_nl_link_get(nl, a) && vr_nl_veth_add(nl, a, b, err) < 0)
        return -1;
    if (vr_nl_link_set(nl, b, mtu, name, true, err) < 0 ||
        vr_nl_link_set(nl, a, mtu, NULL, true, err) < 0 ||
        vr_nl_link_set(nl, name, mtu, NULL, true, err) < 0)
        return -1;
    return vr_trunk_port(nl, a, vlan, nic, err);
}

/* Step 3: a NIC carrying networks: MTU, up, its own addresses saved (and
 * moved off it when an untagged network takes its untagged traffic), and
 * its ingress program. */
static int make_nic(vr_nl *nl, const char *nic, int mtu, json_t *target, json_t *nic_saved,
                    vr_error *err)
{
    if (!json_object_get(nic_saved, nic)) {
        char gw[16];
        vr_nl_default_gw(nl, nic, gw);
        const vr_nl_link *l = vr_nl_link_get(nl, nic);
        json_object_set_new(nic_saved, nic,
                            json_pack("{s:o, s:o, s:i}", "addresses", vr_nl_addrs(nl, nic), "gateway",
                                      *gw ? json_string(gw) : json_null(), "mtu", l ? l->mtu : 0));
    }
    json_t *saved = json_object_get(nic_saved, nic);
    const char *untagged = untagged_of(target, nic);
    vr_trunk_vlan vlans[VR_TRUNK_MAX_VLANS + 1]; /* one more: vr_trunk_nic refuses it */
    int n = 0, untagged_idx = 0;
    const char *name;
    json_t *net;
    json_object_foreach(target, name, net) {
        if (strcmp(jstr(net, "nic"), nic) || n > VR_TRUNK_MAX_VLANS)
            continue;
        char a[16];
        int vlan = vr_netconf_vlan(net);
        vr_netconf_veth_name(nic, vlan, 'a', a);
        int idx = (int)if_nametoindex(a);
        if (vlan == 0)
            untagged_idx = idx;
        else
            vlans[n++] = (vr_trunk_vlan){.vid = vlan, .ifindex = idx};
    }
    size_t i;
    json_t *addr;
    if (untagged) {
        json_array_foreach(json_object_get(saved, "addresses"), i, addr)
            if (vr_nl_addr(nl, nic, json_string_value(addr), false, err) < 0)
                return -1;
    }
    if (vr_nl_link_set(nl, nic, mtu, NULL, true, err) < 0 ||
        vr_trunk_nic(nl, nic, vlans, n, untagged_idx, err) < 0)
        return -1;
    if (!untagged) /* back on the NIC if an untagged network had them */
        give_back(nl, nic, saved);
    return 0;
}

/* Step 4: each network bridge gets exactly the addresses it should carry. */
static int sync_addrs(vr_nl *nl, const char *dev, json_t *want, vr_error *err)
{
    json_t *have = vr_nl_addrs(nl, dev);
    size_t i;
    json_t *a;
    int rc = 0;
    json_array_foreach(have, i, a) if (rc == 0 && !in_array(want, json_string_value(a)))
        rc = vr_nl_addr(nl, dev, json_string_value(a), false, err);
    json_array_foreach(want, i, a) if (rc == 0 && !in_array(have, json_string_value(a)))
        rc = vr_nl_addr(nl, dev, json_string_value(a), true, err);
    json_decref(have);
    return rc;
}

static int place_addresses(vr_nl *nl, json_t *target, json_t *nic_saved, vr_error *err)
{
    const char *name;
    json_t *net;
    int rc = 0;
    json_object_foreach(target, name, net) {
        json_t *want = json_array(), *saved = json_object_get(nic_saved, jstr(net, "nic"));
        if (jstr(net, "address"))
            json_array_append_new(want, json_string(jstr(net, "address")));
        /* A dhcp network keeps the address its client holds (the hook
         * put it there; a rollback or restart must not take it away). */
        json_t *lease = vr_dhcp_lease(name);
        if (lease)
            json_array_append(want, json_object_get(lease, "address"));
        json_decref(lease);
        /* The untagged network carries its NIC's own addresses
         * (vireomgmt onto the management NIC keeps the host reachable). */
        if (vr_netconf_vlan(net) == 0 && saved)
            json_array_extend(want, json_object_get(saved, "addresses"));
        if (rc == 0)
            rc = sync_addrs(nl, name, want, err);
        if (rc == 0 && jstr(net, "gateway"))
            rc = vr_nl_default_route(nl, name, jstr(net, "gateway"), err);
        else if (rc == 0 && vr_netconf_vlan(net) == 0 && saved && jstr(saved, "gateway"))
            rc = vr_nl_default_route(nl, name, jstr(saved, "gateway"), err);
        json_decref(want);
    }
    return rc;
}

int vr_net_converge(vr_nl *nl, json_t *target, json_t *known_bridges, json_t *nic_saved,
                    vr_error *err)
{
    /* DHCP clients of networks going away (or no longer dhcp) release
     * their leases while their bridges still exist. */
    vr_dhcp_stop_unwanted(target);
    if (vr_nl_refresh(nl, err) < 0)
        return -1;
    json_t *owned = owned_bridges(nl, known_bridges);
    int rc = remove_unwanted(nl, target, owned, nic_saved, err);
    json_decref(owned);
    if (rc < 0 || vr_nl_refresh(nl, err) < 0)
        return -1;
    const char *name;
    json_t *net;
    json_object_foreach(target, name, net) {
        if (rc == 0)
            rc = make_network(nl, name, net, err);
    }
    /* Each NIC with the largest MTU of its networks. */
    json_t *nic_mtu = json_object();
    json_object_foreach(target, name, net) {
        json_int_t m = json_integer_value(json_object_get(net, "mtu"));
        json_t *cur = json_object_get(nic_mtu, jstr(net, "nic"));
        if (!cur || json_integer_value(cur) < m)
            json_object_set_new(nic_mtu, jstr(net, "nic"), json_integer(m));
    }
    const char *nic;
    json_t *m;
    json_object_foreach(nic_mtu, nic, m) {
        if (rc == 0)
            rc = make_nic(nl, nic, (int)json_integer_value(m), target, nic_saved, err);
    }
    json_decref(nic_mtu);
    if (rc < 0 || vr_nl_refresh(nl, err) < 0 || place_addresses(nl, target, nic_saved, err) < 0)
        return -1;
    return vr_dhcp_ensure(target, err);
}
