/* The migration network's address of a destination host (migrnet.h). */
#include "migrnet.h"

#include <stdio.h>
#include <string.h>

#include "agentcall.h"
#include "i18n.h"

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

int vr_migrnet_address(vr_engine *e, const char *vm_id, json_t *dst, char *addr, size_t addr_len, char *why,
                       size_t why_len)
{
    snprintf(addr, addr_len, "%s", str(dst, "address"));
    if (why_len)
        why[0] = '\0';
    /* roles is a comma list: ',' || roles || ',' finds a whole word. */
    json_t *net = vr_db_query_one(e->db, "SELECT n.name AS name, n.roles AS roles FROM vms v JOIN cluster_networks x"
                                  " ON x.cluster_id = v.cluster_id JOIN networks n ON n.id = x.network_id WHERE"
                                  " v.id = ? AND (',' || n.roles || ',') LIKE '%,migration,%' ORDER BY n.name LIMIT 1",
                                  DB_ARGS(DB_TEXT(vm_id)), NULL);
    if (!net)
        return 0;
    const char *name = str(net, "name");
    int used = 0;
    if (strstr(str(net, "roles"), "management")) {
        json_decref(net); /* the management network: where the engine reaches the host */
        return 0;
    }
    json_t *report = NULL;
    vr_error err = {0};
    if (vr_agent_call_host(e, dst, "Host.getNetworks", json_object(), &report, &err) < 0) {
        if (why_len)
            vr_i18n_format(why, why_len, "cannot ask host '%s' for its address on migration network '%s' (%s)",
                           str(dst, "name"), name, err.message);
    } else {
        json_t *addrs = json_object_get(json_object_get(json_object_get(report, "networks"), name), "addresses");
        const char *first = json_string_value(json_array_get(addrs, 0));
        size_t n = first ? strcspn(first, "/") : 0; /* 10.1.0.5/24: the address */
        if (n && n < addr_len && !strchr(first, ':')) {
            snprintf(addr, addr_len, "%.*s", (int)n, first);
            used = 1;
        } else if (why_len) {
            vr_i18n_format(why, why_len, "host '%s' has no address on migration network '%s'", str(dst, "name"),
                           name);
        }
    }
    json_decref(report);
    json_decref(net);
    return used;
}
