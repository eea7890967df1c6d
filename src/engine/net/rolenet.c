/* The addresses of a host on its cluster's role networks (rolenet.h). */
#include "rolenet.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "agentcall.h"
#include "i18n.h"

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

/* The first network (by name) of vm_id's cluster with role: {name,
 * roles}, or NULL. roles is a comma list: ',' || roles || ',' finds a
 * whole word. */
static json_t *role_network(vr_engine *e, const char *vm_id, const char *role)
{
    char like[40];
    snprintf(like, sizeof(like), "%%,%s,%%", role);
    return vr_db_query_one(e->db, "SELECT n.name AS name, n.roles AS roles FROM vms v JOIN cluster_networks x"
                           " ON x.cluster_id = v.cluster_id JOIN networks n ON n.id = x.network_id WHERE"
                           " v.id = ? AND (',' || n.roles || ',') LIKE ? ORDER BY n.name LIMIT 1",
                           DB_ARGS(DB_TEXT(vm_id), DB_TEXT(like)), NULL);
}

/* host's first IPv4 address on network net, asked of the host: 1, 0 when
 * it has none, -1 when it cannot be asked (err). */
static int host_address(vr_engine *e, json_t *host, const char *net, char *addr, size_t addr_len, vr_error *err)
{
    json_t *report = NULL;
    if (vr_agent_call_host(e, host, "Host.getNetworks", json_object(), &report, err) < 0)
        return -1;
    json_t *addrs = json_object_get(json_object_get(json_object_get(report, "networks"), net), "addresses");
    const char *first = json_string_value(json_array_get(addrs, 0));
    size_t n = first ? strcspn(first, "/") : 0; /* 10.1.0.5/24: the address */
    int found = n && n < addr_len && !strchr(first, ':');
    if (found)
        snprintf(addr, addr_len, "%.*s", (int)n, first);
    json_decref(report);
    return found;
}

int vr_migrnet_address(vr_engine *e, const char *vm_id, json_t *dst, char *addr, size_t addr_len, char *why,
                       size_t why_len)
{
    snprintf(addr, addr_len, "%s", str(dst, "address"));
    if (why_len)
        why[0] = '\0';
    json_t *net = role_network(e, vm_id, "migration");
    if (!net || strstr(str(net, "roles"), "management")) {
        json_decref(net); /* the management network: where the engine reaches the host */
        return 0;
    }
    const char *name = str(net, "name");
    vr_error err = {0};
    int rc = host_address(e, dst, name, addr, addr_len, &err); /* addr kept when none */
    if (rc < 0 && why_len)
        vr_i18n_format(why, why_len, "cannot ask host '%s' for its address on migration network '%s' (%s)",
                       str(dst, "name"), name, err.message);
    else if (rc == 0 && why_len)
        vr_i18n_format(why, why_len, "host '%s' has no address on migration network '%s'", str(dst, "name"), name);
    json_decref(net);
    return rc > 0;
}

int vr_dispnet_address(vr_engine *e, const char *vm_id, json_t *host, char *addr, size_t addr_len, char *why,
                       size_t why_len)
{
    snprintf(addr, addr_len, "127.0.0.1");
    if (why_len)
        why[0] = '\0';
    json_t *net = role_network(e, vm_id, "display");
    if (!net)
        return 0;
    const char *name = str(net, "name");
    vr_error err = {0};
    unsigned char bin[4];
    int rc = host_address(e, host, name, addr, addr_len, &err);
    if (rc == 0 && strstr(str(net, "roles"), "management") && inet_pton(AF_INET, str(host, "address"), bin) == 1) {
        /* The management network not (yet) a bridge of the host: it is
         * where the engine reaches the host. */
        snprintf(addr, addr_len, "%s", str(host, "address"));
        rc = 1;
    }
    if (rc < 0 && why_len)
        vr_i18n_format(why, why_len, "cannot ask host '%s' for its address on display network '%s' (%s)",
                       str(host, "name"), name, err.message);
    else if (rc == 0 && why_len)
        vr_i18n_format(why, why_len, "host '%s' has no address on display network '%s'", str(host, "name"), name);
    json_decref(net);
    return rc > 0;
}
