/* Host.setupNetworks validation: everything is checked before anything is
 * applied, against the configuration as it will be (VDSM semantics:
 * networks not named stay), so one bad network refuses the whole call. */
#include "netconf.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "jsonx.h"

bool vr_netconf_valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 15 || !strncmp(s, "vrv", 3))
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

bool vr_netconf_veth_name(const char *nic, int vlan, char side, char out[16])
{
    char buf[64];
    int n = snprintf(buf, sizeof(buf), "vrv%d-%s%c", vlan, nic, side);
    snprintf(out, 16, "%.15s", buf);
    return n <= 15;
}

int vr_netconf_vlan(json_t *net)
{
    json_t *v = json_object_get(net, "vlan");
    return json_is_integer(v) ? (int)json_integer_value(v) : 0;
}

static bool valid_ipv4(const char *s)
{
    struct in_addr a;
    return strlen(s) <= 15 && inet_pton(AF_INET, s, &a) == 1;
}

static bool valid_cidr(const char *s)
{
    char ip[20];
    const char *slash = strchr(s, '/');
    if (!slash || slash - s > 15 || !slash[1] || strlen(slash + 1) > 2 ||
        strspn(slash + 1, "0123456789") != strlen(slash + 1))
        return false;
    int pfx = atoi(slash + 1);
    snprintf(ip, sizeof(ip), "%.*s", (int)(slash - s), s);
    return pfx >= 1 && pfx <= 32 && valid_ipv4(ip);
}

/* One network of the request, normalized into *out (new object). */
static int parse_network(const char *name, json_t *in, json_t **out, vr_error *err)
{
    static const char *const keys[] = {"nic", "vlan", "mtu", "vm", "boot_protocol", "address",
                                       "gateway", "remove"};
    char where[64];
    snprintf(where, sizeof(where), "networks.%s", name);
    const char *nic = NULL, *proto = "none", *address = NULL, *gateway = NULL;
    long long vlan = 0, mtu = 1500;
    bool vm = true, remove = false;
    *out = NULL;
    if (!json_is_object(in))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s must be an object", where);
    if (vr_json_check_keys(in, where, VR_NAMES(keys), err) < 0 ||
        vr_json_bool(in, where, "remove", false, &remove, err) < 0)
        return -1;
    if (remove) {
        if (json_object_size(in) != 1)
            return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                                "%s: remove takes no other member", where);
        return 0;
    }
    if (vr_json_str(in, where, "nic", true, &nic, err) < 0 ||
        vr_json_int(in, where, "vlan", false, 1, 4094, &vlan, err) < 0 ||
        vr_json_int(in, where, "mtu", false, 68, 65535, &mtu, err) < 0 ||
        vr_json_bool(in, where, "vm", false, &vm, err) < 0 ||
        vr_json_str(in, where, "boot_protocol", false, &proto, err) < 0 ||
        vr_json_str(in, where, "address", false, &address, err) < 0 ||
        vr_json_str(in, where, "gateway", false, &gateway, err) < 0)
        return -1;
    if (!vr_netconf_valid_name(nic))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                            "%s.nic is not a valid interface name (1-15 of A-Z a-z 0-9 _ -)", where);
    char dev[16];
    if (!vr_netconf_veth_name(nic, (int)vlan, 'a', dev))
        return vr_error_set(err, VR_ERR_NETWORK,
                            "%s: NIC name '%s' is too long for VLAN %lld: its veth vrv%lld-%sa "
                            "would exceed the kernel's 15 bytes", where, nic, vlan, vlan, nic);
    if (strcmp(proto, "none") && strcmp(proto, "static") && strcmp(proto, "dhcp"))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                            "%s.boot_protocol must be none, static or dhcp", where);
    if (!strcmp(proto, "static") != !!address)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                            "%s: address is required with boot_protocol static, and only then",
                            where);
    if (address && !valid_cidr(address))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                            "%s.address must be an IPv4 address with a prefix, like 10.1.0.5/24",
                            where);
    if (gateway && (!address || !valid_ipv4(gateway)))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                            "%s.gateway must be an IPv4 address, with a static address", where);
    *out = json_pack("{s:s, s:o, s:I, s:b, s:s, s:o, s:o}", "nic", nic, "vlan",
                     vlan ? json_integer(vlan) : json_null(), "mtu", (json_int_t)mtu, "vm", vm,
                     "boot_protocol", proto, "address", address ? json_string(address) : json_null(),
                     "gateway", gateway ? json_string(gateway) : json_null());
    return *out ? 0 : vr_error_set(err, VR_ERR_INTERNAL, "out of memory parsing %s", where);
}

static int parse_bonds(json_t *bonds, json_t *target, bool have_bonding, vr_error *err)
{
    static const char *const keys[] = {"nics", "mode", "remove"};
    const char *name;
    json_t *b;
    bool any = false;
    json_object_foreach(bonds, name, b) {
        char where[64];
        snprintf(where, sizeof(where), "bonds.%s", name);
        json_t *nics = NULL;
        long long mode = 1;
        bool remove = false;
        if (!vr_netconf_valid_name(name))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                                "bond name '%.40s' must be 1-15 of A-Z a-z 0-9 _ -", name);
        if (!json_is_object(b))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s must be an object", where);
        if (vr_json_check_keys(b, where, VR_NAMES(keys), err) < 0 ||
            vr_json_bool(b, where, "remove", false, &remove, err) < 0)
            return -1;
        if (remove)
            continue;
        if (vr_json_arr(b, where, "nics", true, &nics, err) < 0 ||
            vr_json_int(b, where, "mode", false, 0, 6, &mode, err) < 0)
            return -1;
        if (json_array_size(nics) < 2)
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s needs at least 2 NICs", where);
        size_t i, j;
        json_t *n;
        json_array_foreach(nics, i, n) {
            if (!json_is_string(n) || !vr_netconf_valid_name(json_string_value(n)))
                return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                                    "%s.nics[%zu] must be an interface name", where, i);
            for (j = 0; j < i; j++)
                if (json_equal(n, json_array_get(nics, j)))
                    return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s names NIC %s twice",
                                        where, json_string_value(n));
        }
        /* ch. 3: balance-rr, balance-tlb and balance-alb confuse the
         * bridge's MAC learning, so they cannot carry VM networks. */
        const char *net;
        json_t *cfg;
        json_object_foreach(target, net, cfg) {
            if ((mode == 0 || mode == 5 || mode == 6) &&
                !strcmp(json_string_value(json_object_get(cfg, "nic")), name) &&
                json_is_true(json_object_get(cfg, "vm")))
                return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                                    "%s: mode %lld cannot carry VM network %s (modes 0, 5 and 6 "
                                    "are refused for VM networks)", where, mode, net);
        }
        any = true;
    }
    if (any)
        return vr_error_set(err, VR_ERR_NETWORK,
                            have_bonding ? N_("this agent does not create bonds yet")
                                         : N_("this kernel has no bonding module"));
    return 0;
}

/* Rules over the whole target: per NIC one untagged network and each VLAN
 * once; at most one default gateway on the host. */
static int check_target(json_t *target, vr_error *err)
{
    const char *a, *b;
    json_t *na, *nb;
    const char *gw_net = NULL;
    json_object_foreach(target, a, na) {
        if (json_is_string(json_object_get(na, "gateway"))) {
            if (gw_net)
                return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                                    "networks %s and %s both have a gateway; a host has one "
                                    "default route", gw_net, a);
            gw_net = a;
        }
        json_object_foreach(target, b, nb) {
            if (strcmp(a, b) >= 0 ||
                !json_equal(json_object_get(na, "nic"), json_object_get(nb, "nic")))
                continue;
            int va = vr_netconf_vlan(na), vb = vr_netconf_vlan(nb);
            if (va == vb) {
                const char *nic = json_string_value(json_object_get(na, "nic"));
                if (va == 0)
                    return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                                        "networks %s and %s would both be untagged on NIC %s",
                                        a, b, nic);
                return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                                    "networks %s and %s would both use VLAN %d on NIC %s", a, b,
                                    va, nic);
            }
        }
    }
    return 0;
}

int vr_netconf_setup_parse(json_t *params, json_t *running, bool have_bonding, vr_netsetup *out,
                           vr_error *err)
{
    static const char *const keys[] = {"networks", "bonds", "check_connectivity",
                                       "connectivity_timeout"};
    json_t *nets = NULL, *bonds = NULL;
    long long timeout = VR_NET_DEFAULT_TIMEOUT;
    bool check = true;
    memset(out, 0, sizeof(*out));
    if (vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0 ||
        vr_json_obj(params, "params", "networks", false, &nets, err) < 0 ||
        vr_json_obj(params, "params", "bonds", false, &bonds, err) < 0 ||
        vr_json_bool(params, "params", "check_connectivity", false, &check, err) < 0 ||
        vr_json_int(params, "params", "connectivity_timeout", false, 1, 3600, &timeout, err) < 0)
        return -1;
    json_t *target = json_deep_copy(running), *removed = json_array(), *changed = json_array();
    if (!target || !removed || !changed) {
        vr_error_set(err, VR_ERR_INTERNAL, "out of memory checking the network setup");
        goto fail;
    }
    const char *name;
    json_t *n;
    json_object_foreach(nets, name, n) {
        if (!vr_netconf_valid_name(name)) {
            vr_error_set(err, VR_ERR_INVALID_PARAMS,
                         "network name '%.40s' must be 1-15 of A-Z a-z 0-9 _ - (not vrv*)",
                         name);
            goto fail;
        }
        json_t *norm;
        if (parse_network(name, n, &norm, err) < 0)
            goto fail;
        if (!norm) {
            if (!json_object_get(target, name)) {
                vr_error_set(err, VR_ERR_NETWORK, "cannot remove network %s: this host does not "
                             "run it", name);
                goto fail;
            }
            json_object_del(target, name);
            json_array_append_new(removed, json_string(name));
        } else {
            json_object_set_new(target, name, norm);
            json_array_append_new(changed, json_string(name));
        }
    }
    if (check_target(target, err) < 0 || (bonds && parse_bonds(bonds, target, have_bonding, err) < 0))
        goto fail;
    out->target = target;
    out->removed = removed;
    out->changed = changed;
    out->check = check;
    out->timeout_s = (int)timeout;
    return 0;
fail:
    json_decref(target);
    json_decref(removed);
    json_decref(changed);
    return -1;
}

void vr_netsetup_free(vr_netsetup *s)
{
    json_decref(s->target);
    json_decref(s->removed);
    json_decref(s->changed);
    memset(s, 0, sizeof(*s));
}
