/* Reconstructing the master (docs/storage.md "A lost master"; RHV's
 * reconstructMaster): the master lost with its SPM, no host can move the
 * role, so a host that is no SPM writes another data domain Master with a
 * master version above the old one's, and the election then makes an SPM
 * on it. The SDM leases of the two domains are different sanlock
 * resources: sanlock cannot keep two SPMs apart here, these checks do. */
#include "sdreconstruct.h"

#include <stdio.h>
#include <string.h>

#include "agentcall.h"
#include "i18n.h"
#include "log.h"
#include "spm.h"
#include "store_spm.h"

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

static long long num(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

/* MASTER_VERSION of domain sd as host h reads it, or -1 (unreadable, or
 * of another pool). */
static long long version_on(vr_engine *e, json_t *h, const char *pool, const char *sd)
{
    json_t *r = NULL;
    vr_error err = {0};
    long long v = -1;
    if (vr_agent_call_host(e, h, "Storage.info", json_pack("{s:s}", "domain", sd), &r, &err) == 0 &&
        json_is_true(json_object_get(r, "valid")) && !strcmp(str(json_object_get(r, "metadata"), "POOL_UUID"), pool))
        sscanf(str(json_object_get(r, "metadata"), "MASTER_VERSION"), "%lld", &v);
    json_decref(r);
    return v;
}

/* Whether no host can be SPM on the old master `from`, asking every Up
 * host (each must answer): none is SPM or contending in the pool (asked
 * about the new master, readable, whose answer carries the host's role
 * whatever the lease), and `from`'s SDM lease is unreadable, free, or its
 * owner dead in sanlock's eyes; the last SPM (last_id) is one of them
 * saying so, or dead in the new master's lockspace. why says what blocks. */
static bool no_spm_possible(vr_engine *e, json_t *hosts, const char *pool, const char *from, const char *to,
                            long long last_id, char *why, size_t len)
{
    bool last_seen = last_id < 1, last_dead = false;
    size_t i;
    json_t *h;
    json_array_foreach(hosts, i, h) {
        json_t *r = NULL;
        vr_error err = {0};
        if (vr_agent_call_host(e, h, "SPM.status", json_pack("{s:s, s:s}", "pool", pool, "master", to), &r,
                               &err) < 0 || strcmp(str(r, "status"), "Free")) {
            vr_i18n_format(why, len, "host '%s' may be the SPM (%s)", str(h, "name"),
                           err.code ? err.message : str(r, "status"));
            json_decref(r);
            return false;
        }
        json_decref(r);
        r = NULL;
        if (num(h, "spm_id") == last_id)
            last_seen = true;
        long long owner = -1;
        if (vr_agent_call_host(e, h, "SPM.status", json_pack("{s:s, s:s}", "pool", pool, "master", from), &r,
                               &err) == 0)
            owner = num(r, "spm_id");
        json_decref(r);
        r = NULL;
        /* the host's refusal says the lease is unreadable there; no answer
         * says nothing */
        if (err.code == VR_ERR_IO) {
            vr_i18n_format(why, len, "host '%s' does not answer (%s)", str(h, "name"), err.message);
            return false;
        }
        /* a holder of the old master's lease counts only once dead */
        if (owner > 0) {
            if (vr_agent_call_host(e, h, "Lockspace.status", json_pack("{s:s, s:I}", "domain", from, "peer",
                                                                       (json_int_t)owner), &r, &err) < 0 ||
                strcmp(str(json_object_get(r, "peer"), "state"), "dead")) {
                vr_i18n_format(why, len, "host id %lld holds the SPM lease of the old master and is not dead"
                               " in sanlock's eyes", owner);
                json_decref(r);
                return false;
            }
            json_decref(r);
            r = NULL;
        }
        if (!last_seen && !last_dead && vr_agent_call_host(e, h, "Lockspace.status",
                                                           json_pack("{s:s, s:I}", "domain", to, "peer",
                                                                     (json_int_t)last_id), &r, &err) == 0)
            last_dead = !strcmp(str(json_object_get(r, "peer"), "state"), "dead");
        json_decref(r);
    }
    if (!last_seen && !last_dead) {
        vr_i18n_format(why, len, "the last SPM (host id %lld) is not dead in sanlock's eyes yet", last_id);
        return false;
    }
    return true;
}

long long vr_sd_master_reconstruct(vr_engine *e, json_t *p, char *why, size_t len)
{
    const char *pool = str(p, "datacenter"), *from = str(p, "from"), *to = str(p, "to");
    long long version = 0;
    vr_spm_election_lock();
    json_t *dc = vr_db_query_one(e->db, "SELECT d.spm_host_id, d.spm_id, d.master_domain_id, d.master_version,"
                                 " s.status AS to_status FROM datacenters d JOIN storage_domains s ON s.id = ?"
                                 " WHERE d.id = ?", DB_ARGS(DB_TEXT(to), DB_TEXT(pool)), NULL);
    json_t *cands = vr_store_spm_candidates(e->db, pool), *hosts = NULL;
    json_t *h = json_array_get(cands, 0);
    /* every Up host is asked, also those that may never be SPM */
    vr_db_query(e->db, "SELECT h.id, h.name, h.address, h.port, i.spm_id FROM hosts h JOIN clusters c ON c.id ="
                " h.cluster_id LEFT JOIN host_storage_ids i ON i.host_id = h.id AND i.datacenter_id ="
                " c.datacenter_id WHERE c.datacenter_id = ? AND h.status = 'up' ORDER BY h.name",
                DB_ARGS(DB_TEXT(pool)), &hosts, NULL);
    if (!dc || strcmp(str(dc, "master_domain_id"), from)) {
        vr_i18n_format(why, len, "the master of the data center changed meanwhile");
        goto out;
    }
    if (json_is_string(json_object_get(dc, "spm_host_id")) || strcmp(str(dc, "to_status"), "active") || !h ||
        !json_is_integer(json_object_get(h, "spm_id")) || !hosts) {
        vr_i18n_format(why, len, "the last SPM is not given up yet, or no Up host may be SPM on an active '%s'",
                       str(p, "to_name"));
        goto out;
    }
    if (!no_spm_possible(e, hosts, pool, from, to, num(dc, "spm_id"), why, len))
        goto out;
    /* above every version known: the engine's, the new master's and the
     * old one's if this host still reads it */
    long long v = num(dc, "master_version"), tv = version_on(e, h, pool, to), fv = version_on(e, h, pool, from);
    v = tv > v ? tv : v;
    v = (fv > v ? fv : v) + 1;
    json_t *r = NULL;
    vr_error err = {0};
    if (vr_agent_call_host(e, h, "SPM.reconstructMaster", json_pack("{s:s, s:s, s:s, s:I}", "pool", pool, "from",
                                                                    from, "to", to, "master_version", (json_int_t)v),
                           &r, &err) < 0) {
        vr_i18n_format(why, len, "host '%s': %s", str(h, "name"), err.message);
        json_decref(r);
        goto out;
    }
    json_decref(r);
    /* The rows name the new master before the election runs again. */
    if (vr_db_begin(e->db, &err) == 0) {
        int n = vr_db_exec(e->db, "UPDATE datacenters SET master_domain_id = ?, master_version = ? WHERE id = ? AND"
                           " master_domain_id = ?", DB_ARGS(DB_TEXT(to), DB_INT(v), DB_TEXT(pool), DB_TEXT(from)),
                           &err);
        if (n >= 0)
            n = vr_db_exec(e->db, "UPDATE storage_domains SET master = 0, status = 'inactive' WHERE id = ?",
                           DB_ARGS(DB_TEXT(from)), &err);
        if (n >= 0)
            n = vr_db_exec(e->db, "UPDATE storage_domains SET master = 1 WHERE id = ?", DB_ARGS(DB_TEXT(to)), &err);
        if (n >= 0 && vr_db_commit(e->db, &err) == 0)
            version = v;
        else
            vr_db_rollback(e->db);
    }
    if (!version)
        vr_i18n_format(why, len, "the master of data center '%s' was written on '%s', but not recorded: %s",
                       str(p, "dc_name"), str(p, "to_name"), err.message);
    else
        VR_INFO("data center %s: master reconstructed on %s by host %s (master version %lld)", pool, to,
                str(h, "name"), v);
out:
    json_decref(cands);
    json_decref(hosts);
    json_decref(dc);
    vr_spm_election_unlock();
    return version;
}
