/* A host's reported networks and the required-network check, run by the
 * host's monitor (hostnet.h). The report is re-read every POLL_EVERY polls
 * only: networks change by setup jobs (which store the new report
 * themselves) or by the agent's rollback (announced by an event), so
 * asking on every poll would only cost the hosts. The check itself reads
 * the stored report, so a network attached to the cluster as required
 * takes effect at the next poll. */
#include "hostnet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostview.h"
#include "log.h"
#include "store_networks.h"

#define POLL_EVERY 10

struct vr_host_net {
    int countdown;  /* polls until Host.getNetworks is asked again */
    char *last;     /* the last report stored (compact JSON) */
};

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

vr_host_net *vr_host_net_new(void)
{
    return calloc(1, sizeof(vr_host_net));
}

void vr_host_net_free(vr_host_net *hn)
{
    if (hn)
        free(hn->last);
    free(hn);
}

void vr_host_net_reset(vr_host_net *hn)
{
    hn->countdown = 0;
    free(hn->last);
    hn->last = NULL;
}

void vr_host_net_rolled_back(vr_engine *e, const char *host_id, json_t *params, vr_host_net *hn)
{
    json_t *h = vr_db_query_one(e->db, "SELECT name FROM hosts WHERE id = ?", DB_ARGS(DB_TEXT(host_id)), NULL);
    /* A setup nobody confirmed (the engine cut off or restarted before
     * it could): say so, the job that sent it may be long gone. */
    vr_event(e, "warning", "", "host", host_id, "host '%s' rolled its network setup back by itself (%s); its"
             " networks are read again", h ? str(h, "name") : host_id, str(params, "reason"));
    json_decref(h);
    vr_host_net_reset(hn);
}

/* One host NIC row, inserted or updated in place (its id stays). */
static int store_nic(vr_engine *e, const char *host_id, json_t *nic, json_t *networks, vr_error *err)
{
    json_t *on = json_array(), *v;
    const char *name;
    json_object_foreach(networks, name, v)
        if (!strcmp(str(v, "nic"), str(nic, "name")))
            json_array_append_new(on, json_string(name));
    json_t *addrs = json_is_array(json_object_get(nic, "addresses")) ? json_object_get(nic, "addresses") : NULL;
    char *atext = json_dumps(addrs ? addrs : json_array(), JSON_COMPACT), *ntext = json_dumps(on, JSON_COMPACT);
    json_t *speed = json_object_get(nic, "speed"), *max = json_object_get(nic, "max_mtu");
    /* max_mtu (IFLA_MAX_MTU) is what setups are checked against; an agent
     * that does not report it leaves it unknown (NULL: not checked). */
    vr_dbv args[] = {DB_TEXT(str(nic, "mac")), DB_INT(json_integer_value(json_object_get(nic, "mtu"))),
                     DB_TEXT(str(nic, "operstate")), DB_INT(json_is_true(json_object_get(nic, "carrier"))),
                     json_is_integer(speed) ? DB_INT(json_integer_value(speed)) : DB_NULL, DB_TEXT(atext),
                     DB_TEXT(str(nic, "master")), DB_TEXT(ntext), DB_INT(vr_now()),
                     json_is_integer(max) && json_integer_value(max) > 0 ? DB_INT(json_integer_value(max)) : DB_NULL,
                     DB_TEXT(host_id), DB_TEXT(str(nic, "name"))};
    int n = vr_db_exec(e->db, "UPDATE host_nics SET mac = ?, mtu = ?, operstate = ?, carrier = ?, speed = ?,"
                       " addresses_json = ?, master = ?, networks_json = ?, reported_at = ?, max_mtu = ? WHERE"
                       " host_id = ? AND name = ?", args, (int)(sizeof(args) / sizeof(args[0])), err);
    if (n == 0) {
        char id[37];
        vr_uuid_new(id);
        n = vr_db_exec(e->db, "INSERT INTO host_nics (id, host_id, name, mac, mtu, operstate, carrier, speed,"
                       " addresses_json, master, networks_json, reported_at, max_mtu) VALUES"
                       " (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                       DB_ARGS(DB_TEXT(id), DB_TEXT(host_id), DB_TEXT(str(nic, "name")), args[0], args[1], args[2],
                               args[3], args[4], args[5], args[6], args[7], args[8], args[9]), err);
    }
    free(atext);
    free(ntext);
    json_decref(on);
    return n < 0 ? -1 : 0;
}

int vr_host_net_store(vr_engine *e, const char *host_id, json_t *report, vr_error *err)
{
    json_t *nics = json_object_get(report, "nics"), *networks = json_object_get(report, "networks"), *old = NULL, *v;
    if (!json_is_array(nics) || !json_is_object(networks))
        return vr_error_set(err, VR_ERR_IO, "the host's network report is malformed");
    /* ",red,blue,": the host view finds a network by ",NAME," in it. */
    char names[4096] = ",";
    size_t o = 1, i;
    const char *name;
    json_object_foreach(networks, name, v)
        if (o < sizeof(names))
            o += (size_t)snprintf(names + o, sizeof(names) - o, "%s,", name);
    if (o >= sizeof(names))
        VR_WARN("host %s runs more networks than its name list holds; placement sees the first ones", host_id);
    if (vr_db_begin(e->db, err) < 0)
        return -1;
    int rc = vr_db_exec(e->db, "UPDATE hosts SET net_names = ? WHERE id = ?",
                        DB_ARGS(DB_TEXT(json_object_size(networks) ? names : ""), DB_TEXT(host_id)), err) < 0 ? -1 : 0;
    json_array_foreach(nics, i, v)
        if (rc == 0 && json_is_string(json_object_get(v, "name")))
            rc = store_nic(e, host_id, v, networks, err);
    /* NICs no longer reported go. */
    if (rc == 0 && vr_db_query(e->db, "SELECT name FROM host_nics WHERE host_id = ?", DB_ARGS(DB_TEXT(host_id)), &old,
                               err) < 0)
        rc = -1;
    json_array_foreach(old, i, v) {
        bool seen = false;
        size_t j;
        json_t *n;
        json_array_foreach(nics, j, n) seen |= !strcmp(str(n, "name"), str(v, "name"));
        if (!seen && rc == 0 && vr_db_exec(e->db, "DELETE FROM host_nics WHERE host_id = ? AND name = ?",
                                           DB_ARGS(DB_TEXT(host_id), DB_TEXT(str(v, "name"))), err) < 0)
            rc = -1;
    }
    json_decref(old);
    if (rc < 0) {
        vr_db_rollback(e->db);
        return -1;
    }
    if (vr_db_commit(e->db, err) < 0)
        return -1;
    vr_hostview_refresh(e->view, e->db, host_id);
    return 0;
}

/* Ask the agent for its networks and store them when they changed. */
static void refresh(vr_engine *e, vr_rpc_client *c, json_t *host, vr_host_net *hn)
{
    json_t *report = NULL;
    vr_error err = {0};
    if (vr_rpc_call(c, "Host.getNetworks", NULL, &report, &err) < 0) {
        if (err.code == VR_ERR_NO_METHOD) { /* an agent without networks: it runs none */
            report = json_pack("{s:[], s:{}}", "nics", "networks");
            vr_error_clear(&err);
        } else {
            VR_DEBUG("host %s: Host.getNetworks failed: %s", str(host, "name"), err.message);
            return; /* asked again next poll */
        }
    }
    char *text = json_dumps(report, JSON_COMPACT | JSON_SORT_KEYS);
    if (text && (!hn->last || strcmp(text, hn->last))) {
        if (vr_host_net_store(e, str(host, "id"), report, &err) == 0) {
            free(hn->last);
            hn->last = text;
            text = NULL;
        } else {
            VR_WARN("host %s: cannot store its network report: %s", str(host, "name"), err.message);
        }
    }
    free(text);
    json_decref(report);
    hn->countdown = POLL_EVERY;
}

int vr_host_net_poll(vr_engine *e, vr_rpc_client *c, json_t *host, vr_host_net *hn, char *why, size_t len)
{
    if (hn->countdown-- <= 0)
        refresh(e, c, host, hn);
    /* The management network is not checked: the poll that reached the
     * agent proves the host is managed, whichever device carries its
     * address (hosts are not yet moved onto vireomgmt at deploy, as RHV
     * does with ovirtmgmt). docs/networks.md "Rules". */
    json_t *rows = NULL;
    if (vr_db_query(e->db, "SELECT n.name AS name, c.name AS cluster, h.net_names AS have FROM hosts h"
                    " JOIN clusters c ON c.id = h.cluster_id JOIN cluster_networks x ON x.cluster_id = c.id"
                    " JOIN networks n ON n.id = x.network_id WHERE h.id = ? AND x.required = 1"
                    " AND n.roles NOT LIKE '%management%' ORDER BY n.name", DB_ARGS(DB_TEXT(str(host, "id"))),
                    &rows, NULL) < 0)
        return 0; /* the database is away: the status stays as it is */
    size_t i, o = 0;
    json_t *r;
    int missing = 0;
    json_array_foreach(rows, i, r) {
        char key[32];
        snprintf(key, sizeof(key), ",%s,", str(r, "name"));
        if (strstr(str(r, "have"), key))
            continue;
        if (!missing++)
            o = (size_t)snprintf(why, len, "host does not run required network(s) of cluster '%s': ",
                                 str(r, "cluster"));
        if (o < len)
            o += (size_t)snprintf(why + o, len - o, "%s%s", missing > 1 ? ", " : "", str(r, "name"));
    }
    json_decref(rows);
    return missing ? 1 : 0;
}
