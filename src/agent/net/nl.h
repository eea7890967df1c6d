/* The agent's netlink primitives (libnl-3 / libnl-route-3): links,
 * bridges, veth pairs, IPv4 addresses and the default route (trunk.h adds
 * the VLAN tagging programs). Never `ip` or `bridge` by argv.
 * Every function returns 0 or fills err (naming the device) and returns -1. */
#pragma once

#include <stdbool.h>
#include <jansson.h>

#include "error.h"

typedef struct vr_nl vr_nl;

/* A link as the agent needs to know it. */
typedef struct vr_nl_link {
    int index, master, mtu, max_mtu;
    char name[16], kind[16], mac[18], operstate[16];
    bool up, carrier;
} vr_nl_link;

int vr_nl_open(vr_nl **out, vr_error *err);
void vr_nl_close(vr_nl *nl);

/* Re-read links and addresses (after changes). */
int vr_nl_refresh(vr_nl *nl, vr_error *err);

/* All links (borrowed array valid until the next refresh). */
int vr_nl_links(vr_nl *nl, const vr_nl_link **links);
/* A link by name, NULL if none. */
const vr_nl_link *vr_nl_link_get(vr_nl *nl, const char *name);
/* Name of a link by index, "" if none. */
const char *vr_nl_link_name(vr_nl *nl, int index);

int vr_nl_bridge_add(vr_nl *nl, const char *name, vr_error *err);
/* Send a request built with libnl's message API (consumed) and wait for
 * the kernel's answer: 0 or a negative libnl error. */
struct nl_msg;
int vr_nl_request(vr_nl *nl, struct nl_msg *m);
/* The socket, for libnl-route object calls (rtnl_qdisc_add...). */
struct nl_sock;
struct nl_sock *vr_nl_sock(vr_nl *nl);
int vr_nl_veth_add(vr_nl *nl, const char *a, const char *b, vr_error *err);
int vr_nl_link_del(vr_nl *nl, const char *name, vr_error *err);
/* mtu 0 = leave; master NULL = leave, "" = release from its bridge. */
int vr_nl_link_set(vr_nl *nl, const char *name, int mtu, const char *master, bool up,
                   vr_error *err);
/* IPv4 global addresses of a link as "a.b.c.d/len" strings (new array). */
json_t *vr_nl_addrs(vr_nl *nl, const char *name);
int vr_nl_addr(vr_nl *nl, const char *name, const char *cidr, bool add, vr_error *err);
/* Gateway of the IPv4 default route through `name`, or "" if none. */
void vr_nl_default_gw(vr_nl *nl, const char *name, char gw[16]);
/* Add (or replace) the IPv4 default route via gw out of `name`. */
int vr_nl_default_route(vr_nl *nl, const char *name, const char *gw, vr_error *err);
