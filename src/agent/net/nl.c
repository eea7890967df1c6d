/* Netlink through libnl: requests are built with libnl's message API (the
 * bridge attributes libnl-route 3.7 has no setter for) or its route
 * objects (veth pairs, addresses); dumps are parsed here so that every
 * attribute the agent reports (max MTU, operstate, carrier) is at hand. */
#include "nl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>

#include "i18n.h"

#define NL_MAX_LINKS 1024
#ifndef IFF_LOWER_UP /* <linux/if.h> has it but clashes with <net/if.h> */
#define IFF_LOWER_UP 0x10000
#endif
#define NL_MAX_ADDRS 1024

typedef struct nl_addr4 {
    int index;
    char cidr[20];
} nl_addr4;

struct vr_nl {
    struct nl_sock *sk;
    vr_nl_link links[NL_MAX_LINKS];
    int nlinks;
    nl_addr4 addrs[NL_MAX_ADDRS];
    int naddrs;
    struct { int oif; char gw[16]; } defroutes[16];
    int ndef;
};

/* Send a request and wait for the kernel's acknowledgement. */
int vr_nl_request(vr_nl *nl, struct nl_msg *m)
{
    int rc = nl_send_auto(nl->sk, m);
    nlmsg_free(m);
    if (rc < 0)
        return rc;
    return nl_wait_for_ack(nl->sk);
}

int vr_nl_open(vr_nl **out, vr_error *err)
{
    vr_nl *nl = calloc(1, sizeof(*nl));
    if (!nl)
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory opening netlink");
    nl->sk = nl_socket_alloc();
    int rc = nl->sk ? nl_connect(nl->sk, NETLINK_ROUTE) : -NLE_NOMEM;
    if (rc < 0) {
        if (nl->sk)
            nl_socket_free(nl->sk);
        free(nl);
        return vr_error_set(err, VR_ERR_NETWORK, "cannot open a netlink socket: %s", nl_geterror(rc));
    }
    if (vr_nl_refresh(nl, err) < 0) {
        vr_nl_close(nl);
        return -1;
    }
    *out = nl;
    return 0;
}

struct nl_sock *vr_nl_sock(vr_nl *nl)
{
    return nl->sk;
}

void vr_nl_close(vr_nl *nl)
{
    if (!nl)
        return;
    nl_socket_free(nl->sk);
    free(nl);
}

static void copy_str(char *dst, size_t n, struct nlattr *a)
{
    if (a)
        snprintf(dst, n, "%s", (const char *)nla_data(a));
}

static int on_link(struct nl_msg *m, void *arg)
{
    vr_nl *nl = arg;
    struct nlmsghdr *h = nlmsg_hdr(m);
    struct ifinfomsg *ifi = nlmsg_data(h);
    struct nlattr *tb[IFLA_MAX + 1];
    if (h->nlmsg_type != RTM_NEWLINK || nl->nlinks >= NL_MAX_LINKS ||
        nlmsg_parse(h, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0 || !tb[IFLA_IFNAME])
        return NL_OK;
    vr_nl_link *l = &nl->links[nl->nlinks++];
    memset(l, 0, sizeof(*l));
    l->index = ifi->ifi_index;
    l->up = ifi->ifi_flags & IFF_UP;
    l->carrier = ifi->ifi_flags & IFF_LOWER_UP;
    copy_str(l->name, sizeof(l->name), tb[IFLA_IFNAME]);
    if (tb[IFLA_MTU])
        l->mtu = (int)nla_get_u32(tb[IFLA_MTU]);
    l->max_mtu = tb[IFLA_MAX_MTU] ? (int)nla_get_u32(tb[IFLA_MAX_MTU]) : 65535;
    if (tb[IFLA_MASTER])
        l->master = (int)nla_get_u32(tb[IFLA_MASTER]);
    if (tb[IFLA_ADDRESS] && nla_len(tb[IFLA_ADDRESS]) == 6) {
        const unsigned char *b = nla_data(tb[IFLA_ADDRESS]);
        snprintf(l->mac, sizeof(l->mac), "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3],
                 b[4], b[5]);
    }
    static const char *const states[] = {"unknown", "notpresent", "down", "lowerlayerdown",
                                         "testing", "dormant", "up"};
    unsigned st = tb[IFLA_OPERSTATE] ? nla_get_u8(tb[IFLA_OPERSTATE]) : 0;
    snprintf(l->operstate, sizeof(l->operstate), "%s", st < 7 ? states[st] : "unknown");
    if (tb[IFLA_LINKINFO]) {
        struct nlattr *li[IFLA_INFO_MAX + 1];
        if (nla_parse_nested(li, IFLA_INFO_MAX, tb[IFLA_LINKINFO], NULL) == 0)
            copy_str(l->kind, sizeof(l->kind), li[IFLA_INFO_KIND]);
    }
    return NL_OK;
}

static int on_addr(struct nl_msg *m, void *arg)
{
    vr_nl *nl = arg;
    struct nlmsghdr *h = nlmsg_hdr(m);
    struct ifaddrmsg *ifa = nlmsg_data(h);
    struct nlattr *tb[IFA_MAX + 1];
    if (h->nlmsg_type != RTM_NEWADDR || ifa->ifa_family != AF_INET ||
        ifa->ifa_scope != RT_SCOPE_UNIVERSE || nl->naddrs >= NL_MAX_ADDRS ||
        nlmsg_parse(h, sizeof(*ifa), tb, IFA_MAX, NULL) < 0)
        return NL_OK;
    struct nlattr *a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
    if (!a || nla_len(a) != 4)
        return NL_OK;
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, nla_data(a), ip, sizeof(ip));
    nl_addr4 *o = &nl->addrs[nl->naddrs++];
    o->index = (int)ifa->ifa_index;
    snprintf(o->cidr, sizeof(o->cidr), "%s/%u", ip, ifa->ifa_prefixlen);
    return NL_OK;
}

static int on_route(struct nl_msg *m, void *arg)
{
    vr_nl *nl = arg;
    struct nlmsghdr *h = nlmsg_hdr(m);
    struct rtmsg *rt = nlmsg_data(h);
    struct nlattr *tb[RTA_MAX + 1];
    if (h->nlmsg_type != RTM_NEWROUTE || rt->rtm_family != AF_INET || rt->rtm_dst_len != 0 ||
        rt->rtm_table != RT_TABLE_MAIN || nl->ndef >= 16 ||
        nlmsg_parse(h, sizeof(*rt), tb, RTA_MAX, NULL) < 0 || !tb[RTA_GATEWAY] || !tb[RTA_OIF])
        return NL_OK;
    nl->defroutes[nl->ndef].oif = (int)nla_get_u32(tb[RTA_OIF]);
    inet_ntop(AF_INET, nla_data(tb[RTA_GATEWAY]), nl->defroutes[nl->ndef].gw, 16);
    nl->ndef++;
    return NL_OK;
}

static int dump(vr_nl *nl, int type, int family, nl_recvmsg_msg_cb_t cb)
{
    struct rtgenmsg g = {.rtgen_family = (unsigned char)family};
    int rc = nl_send_simple(nl->sk, type, NLM_F_DUMP, &g, sizeof(g));
    if (rc < 0)
        return rc;
    struct nl_cb *c = nl_cb_alloc(NL_CB_DEFAULT);
    if (!c)
        return -NLE_NOMEM;
    nl_cb_set(c, NL_CB_VALID, NL_CB_CUSTOM, cb, nl);
    rc = nl_recvmsgs(nl->sk, c);
    nl_cb_put(c);
    return rc < 0 ? rc : 0;
}

int vr_nl_refresh(vr_nl *nl, vr_error *err)
{
    nl->nlinks = nl->naddrs = nl->ndef = 0;
    int rc;
    if ((rc = dump(nl, RTM_GETLINK, AF_UNSPEC, on_link)) < 0 ||
        (rc = dump(nl, RTM_GETADDR, AF_INET, on_addr)) < 0 ||
        (rc = dump(nl, RTM_GETROUTE, AF_INET, on_route)) < 0)
        return vr_error_set(err, VR_ERR_NETWORK, "cannot read the host's links, addresses and routes: %s", nl_geterror(rc));
    return 0;
}

int vr_nl_links(vr_nl *nl, const vr_nl_link **links)
{
    *links = nl->links;
    return nl->nlinks;
}

const vr_nl_link *vr_nl_link_get(vr_nl *nl, const char *name)
{
    for (int i = 0; i < nl->nlinks; i++)
        if (!strcmp(nl->links[i].name, name))
            return &nl->links[i];
    return NULL;
}

const char *vr_nl_link_name(vr_nl *nl, int index)
{
    for (int i = 0; i < nl->nlinks; i++)
        if (nl->links[i].index == index)
            return nl->links[i].name;
    return "";
}

static int index_of(vr_nl *nl, const char *name, vr_error *err)
{
    /* Asked of the kernel, not the dump: devices come and go while we apply. */
    unsigned idx = if_nametoindex(name);
    if (!idx)
        return vr_error_set(err, VR_ERR_NETWORK, "no network device %s on this host", name);
    return (int)idx;
}

static struct nl_msg *link_msg(int type, int flags, int family, int index)
{
    struct nl_msg *m = nlmsg_alloc_simple(type, NLM_F_REQUEST | NLM_F_ACK | flags);
    struct ifinfomsg ifi = {.ifi_family = (unsigned char)family, .ifi_index = index};
    if (m && nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0) {
        nlmsg_free(m);
        return NULL;
    }
    return m;
}

int vr_nl_bridge_add(vr_nl *nl, const char *name, vr_error *err)
{
    struct nl_msg *m = link_msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, AF_UNSPEC, 0);
    if (!m)
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory creating bridge %s", name);
    struct nlattr *info, *data;
    if (nla_put_string(m, IFLA_IFNAME, name) < 0 || !(info = nla_nest_start(m, IFLA_LINKINFO)) ||
        nla_put_string(m, IFLA_INFO_KIND, "bridge") < 0 ||
        !(data = nla_nest_start(m, IFLA_INFO_DATA)) ||
        /* No STP: these bridges never form loops, and forwarding must
         * start at once, not after two forward delays. */
        nla_put_u32(m, IFLA_BR_STP_STATE, 0) < 0) {
        nlmsg_free(m);
        return vr_error_set(err, VR_ERR_INTERNAL, "cannot build the request creating bridge %s", name);
    }
    nla_nest_end(m, data);
    nla_nest_end(m, info);
    int rc = vr_nl_request(nl, m);
    return rc < 0 ? vr_error_set(err, VR_ERR_NETWORK, "cannot create bridge %s: %s", name, nl_geterror(rc)) : 0;
}

int vr_nl_veth_add(vr_nl *nl, const char *a, const char *b, vr_error *err)
{
    int rc = rtnl_link_veth_add(nl->sk, a, b, getpid());
    return rc < 0 ? vr_error_set(err, VR_ERR_NETWORK, "cannot create veth pair %s: %s", a, nl_geterror(rc)) : 0;
}

int vr_nl_link_del(vr_nl *nl, const char *name, vr_error *err)
{
    unsigned idx = if_nametoindex(name);
    if (!idx)
        return 0; /* gone already (a veth goes with its peer) */
    struct nl_msg *m = link_msg(RTM_DELLINK, 0, AF_UNSPEC, (int)idx);
    if (!m)
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory deleting %s", name);
    int rc = vr_nl_request(nl, m);
    return rc < 0 && rc != -NLE_NODEV && rc != -NLE_OBJ_NOTFOUND
               ? vr_error_set(err, VR_ERR_NETWORK, "cannot delete device %s: %s", name, nl_geterror(rc)) : 0;
}

int vr_nl_link_set(vr_nl *nl, const char *name, int mtu, const char *master, bool up,
                   vr_error *err)
{
    int idx = index_of(nl, name, err), midx = 0;
    if (idx < 0)
        return -1;
    if (master && *master && (midx = index_of(nl, master, err)) < 0)
        return -1;
    struct nl_msg *m = link_msg(RTM_NEWLINK, 0, AF_UNSPEC, idx);
    if (!m)
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory changing %s", name);
    struct ifinfomsg *ifi = nlmsg_data(nlmsg_hdr(m));
    if (up) {
        ifi->ifi_flags = IFF_UP;
        ifi->ifi_change = IFF_UP;
    }
    if ((mtu > 0 && nla_put_u32(m, IFLA_MTU, (uint32_t)mtu) < 0) ||
        (master && nla_put_u32(m, IFLA_MASTER, (uint32_t)midx) < 0)) {
        nlmsg_free(m);
        return vr_error_set(err, VR_ERR_INTERNAL, "cannot build the request changing %s", name);
    }
    int rc = vr_nl_request(nl, m);
    if (rc < 0) {
        const char *fmt = mtu > 0 && master ? N_("cannot set the MTU and the bridge of %s: %s")
                          : mtu > 0 ? N_("cannot set the MTU of %s: %s")
                          : master ? N_("cannot set the bridge of %s: %s") : N_("cannot set up %s: %s");
        return vr_error_set(err, VR_ERR_NETWORK, fmt, name, nl_geterror(rc));
    }
    return 0;
}

json_t *vr_nl_addrs(vr_nl *nl, const char *name)
{
    json_t *out = json_array();
    const vr_nl_link *l = vr_nl_link_get(nl, name);
    for (int i = 0; l && i < nl->naddrs; i++)
        if (nl->addrs[i].index == l->index)
            json_array_append_new(out, json_string(nl->addrs[i].cidr));
    return out;
}

int vr_nl_addr(vr_nl *nl, const char *name, const char *cidr, bool add, vr_error *err)
{
    int idx = index_of(nl, name, err);
    if (idx < 0)
        return -1;
    struct nl_addr *local = NULL;
    struct rtnl_addr *a = rtnl_addr_alloc();
    int rc = a ? nl_addr_parse(cidr, AF_INET, &local) : -NLE_NOMEM;
    if (rc == 0) {
        rtnl_addr_set_ifindex(a, idx);
        rc = rtnl_addr_set_local(a, local);
    }
    if (rc == 0)
        rc = add ? rtnl_addr_add(nl->sk, a, NLM_F_REPLACE) : rtnl_addr_delete(nl->sk, a, 0);
    nl_addr_put(local);
    rtnl_addr_put(a);
    if (rc < 0 && !(!add && rc == -NLE_NOADDR)) {
        return vr_error_set(err, VR_ERR_NETWORK, add ? N_("cannot add address %s to %s: %s")
                                                     : N_("cannot remove address %s from %s: %s"),
                            cidr, name, nl_geterror(rc));
    }
    return 0;
}

void vr_nl_default_gw(vr_nl *nl, const char *name, char gw[16])
{
    gw[0] = '\0';
    const vr_nl_link *l = vr_nl_link_get(nl, name);
    for (int i = 0; l && i < nl->ndef; i++)
        if (nl->defroutes[i].oif == l->index)
            snprintf(gw, 16, "%s", nl->defroutes[i].gw);
}

int vr_nl_default_route(vr_nl *nl, const char *name, const char *gw, vr_error *err)
{
    int idx = index_of(nl, name, err);
    if (idx < 0)
        return -1;
    struct in_addr in;
    if (inet_pton(AF_INET, gw, &in) != 1)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "gateway %s is not an IPv4 address", gw);
    struct nl_msg *m = nlmsg_alloc_simple(RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE |
                                                            NLM_F_REPLACE);
    struct rtmsg rt = {.rtm_family = AF_INET, .rtm_table = RT_TABLE_MAIN,
                       .rtm_protocol = RTPROT_STATIC, .rtm_scope = RT_SCOPE_UNIVERSE,
                       .rtm_type = RTN_UNICAST};
    if (!m || nlmsg_append(m, &rt, sizeof(rt), NLMSG_ALIGNTO) < 0 ||
        nla_put(m, RTA_GATEWAY, 4, &in) < 0 || nla_put_u32(m, RTA_OIF, (uint32_t)idx) < 0) {
        nlmsg_free(m);
        return vr_error_set(err, VR_ERR_INTERNAL, "cannot build the default route via %s", gw);
    }
    int rc = vr_nl_request(nl, m);
    if (rc < 0) {
        return vr_error_set(err, VR_ERR_NETWORK, "cannot add the default route via %s out of %s: %s", gw, name,
                            nl_geterror(rc));
    }
    return 0;
}
