/* Host.getNetworks' view (netview.h). Speed comes from sysfs (the kernel's
 * ethtool answer; -1 or unreadable = unknown, reported as null). */
#include "netview.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dhcp.h"
#include "nl.h"

static json_t *speed_of(const char *nic)
{
    char path[96], buf[32];
    snprintf(path, sizeof(path), "/sys/class/net/%s/speed", nic);
    FILE *f = fopen(path, "r");
    if (!f)
        return json_null();
    long v = -1;
    if (fgets(buf, sizeof(buf), f))
        v = strtol(buf, NULL, 10);
    fclose(f);
    return v > 0 ? json_integer(v) : json_null();
}

json_t *vr_net_view(json_t *cfg)
{
    vr_nl *nl = NULL;
    vr_error e = {0};
    vr_nl_open(&nl, &e); /* without netlink, addresses are just empty */
    json_t *out = json_object();
    const char *name;
    json_t *net;
    json_object_foreach(cfg, name, net) {
        json_t *v = json_deep_copy(net);
        json_object_set_new(v, "bridge", json_string(name));
        json_object_del(v, "address");
        json_object_set_new(v, "addresses", nl ? vr_nl_addrs(nl, name) : json_array());
        const char *proto = json_string_value(json_object_get(net, "boot_protocol"));
        if (proto && !strcmp(proto, "dhcp")) { /* what the client holds, null before a lease */
            json_t *lease = vr_dhcp_lease(name);
            json_object_set_new(v, "dhcp_lease", lease ? lease : json_null());
        }
        json_object_set_new(out, name, v);
    }
    vr_nl_close(nl);
    return out;
}

int vr_net_nics(json_t **out, vr_error *err)
{
    vr_nl *nl;
    if (vr_nl_open(&nl, err) < 0)
        return -1;
    json_t *nics = json_array();
    const vr_nl_link *links;
    int n = vr_nl_links(nl, &links);
    for (int i = 0; i < n; i++) {
        const vr_nl_link *l = &links[i];
        /* Here NICs are veths (the harness) or devices without a kind. */
        if (!strcmp(l->name, "lo") || !strncmp(l->name, "vrv", 3) ||
            (*l->kind && strcmp(l->kind, "veth")))
            continue;
        const char *master = l->master ? vr_nl_link_name(nl, l->master) : NULL;
        json_array_append_new(
            nics, json_pack("{s:s, s:s, s:i, s:i, s:s, s:b, s:o, s:o, s:o}", "name", l->name, "mac",
                            l->mac, "mtu", l->mtu, "max_mtu", l->max_mtu, "operstate", l->operstate,
                            "carrier", l->carrier, "speed", speed_of(l->name), "addresses",
                            vr_nl_addrs(nl, l->name), "master",
                            master && *master ? json_string(master) : json_null()));
    }
    vr_nl_close(nl);
    *out = nics;
    return 0;
}
