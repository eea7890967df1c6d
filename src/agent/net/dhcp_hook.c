/* vireo-dhcp-hook: udhcpc's event script for the agent's DHCP clients
 * (dhcp.h). udhcpc runs it as `vireo-dhcp-hook EVENT` with the lease in
 * its environment (interface, ip, mask or subnet, router, serverid, lease)
 * and VIREO_DHCP_LEASE, the lease file the agent reads:
 *   bound, renew  the address goes on the interface (through netlink, the
 *                 previous lease's address off when it changed) and the
 *                 lease file is replaced atomically;
 *   deconfig      the recorded address comes off and the file goes;
 *   leasefail, nak  nothing.
 * No default route is taken from the lease: the host's default route
 * belongs to the management network (docs/networks.md). */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "nl.h"

static int prefix_of(const char *mask, const char *subnet)
{
    if (mask && *mask && strspn(mask, "0123456789") == strlen(mask) && atoi(mask) >= 1 &&
        atoi(mask) <= 32)
        return atoi(mask);
    struct in_addr a;
    if (!subnet || inet_pton(AF_INET, subnet, &a) != 1)
        return -1;
    return __builtin_popcount(ntohl(a.s_addr));
}

static const char *recorded(const char *lease_path, json_t **doc)
{
    *doc = json_load_file(lease_path, 0, NULL);
    return json_string_value(json_object_get(*doc, "address"));
}

static int write_lease(const char *path, json_t *doc)
{
    char tmp[1024];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int rc = json_dump_file(doc, tmp, JSON_SORT_KEYS);
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -1;
    if (rc < 0)
        unlink(tmp);
    return rc;
}

int main(int argc, char **argv)
{
    const char *event = argc > 1 ? argv[1] : "", *dev = getenv("interface"),
               *lease_path = getenv("VIREO_DHCP_LEASE");
    if (!dev || !lease_path) {
        fprintf(stderr, "vireo-dhcp-hook: run by udhcpc with interface and VIREO_DHCP_LEASE set\n");
        return 2;
    }
    bool bind = !strcmp(event, "bound") || !strcmp(event, "renew");
    if (!bind && strcmp(event, "deconfig"))
        return 0;
    vr_nl *nl;
    vr_error err = {0};
    if (vr_nl_open(&nl, &err) < 0) {
        fprintf(stderr, "vireo-dhcp-hook: %s\n", err.message);
        return 1;
    }
    json_t *old = NULL;
    const char *old_addr = recorded(lease_path, &old);
    char cidr[32] = "";
    int rc = 0;
    if (bind) {
        const char *ip = getenv("ip");
        int pfx = prefix_of(getenv("mask"), getenv("subnet"));
        struct in_addr a;
        if (!ip || inet_pton(AF_INET, ip, &a) != 1 || pfx < 0) {
            fprintf(stderr, "vireo-dhcp-hook: %s: lease without a usable ip/mask\n", dev);
            rc = 1;
        } else {
            snprintf(cidr, sizeof(cidr), "%s/%d", ip, pfx);
        }
    }
    if (rc == 0 && old_addr && strcmp(old_addr, cidr) && vr_nl_addr(nl, dev, old_addr, false, &err) < 0)
        fprintf(stderr, "vireo-dhcp-hook: %s\n", err.message); /* the device may be gone */
    if (rc == 0 && bind && vr_nl_addr(nl, dev, cidr, true, &err) < 0) {
        fprintf(stderr, "vireo-dhcp-hook: %s\n", err.message);
        rc = 1;
    }
    if (rc == 0 && bind) {
        const char *router = getenv("router"), *server = getenv("serverid"), *lease = getenv("lease");
        char first_router[16] = "";
        if (router)
            sscanf(router, "%15s", first_router);
        json_t *doc = json_pack("{s:s, s:o, s:o, s:I, s:I}", "address", cidr, "router",
                                *first_router ? json_string(first_router) : json_null(), "server",
                                server ? json_string(server) : json_null(), "lease_s",
                                (json_int_t)(lease ? atoll(lease) : 0), "obtained",
                                (json_int_t)time(NULL));
        if (!doc || write_lease(lease_path, doc) < 0) {
            fprintf(stderr, "vireo-dhcp-hook: cannot write %s\n", lease_path);
            rc = 1;
        }
        json_decref(doc);
    } else if (rc == 0) {
        unlink(lease_path);
    }
    json_decref(old);
    vr_nl_close(nl);
    fprintf(stderr, "vireo-dhcp-hook: %s %s %s\n", event, dev, *cidr ? cidr : "");
    return rc;
}
