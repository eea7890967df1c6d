/* A host's connections, lockspaces and view of its domains (see
 * hoststorage.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agentcall.h"
#include "hoststorage.h"
#include "log.h"
#include "store_spm.h"
#include "store_storage.h"
#include "timeouts.h"

/* The agent checks each domain every 10 s; a report older than this is
 * not believed (its monitor thread may be stuck on dead storage). */
#define REPORT_STALE_S 35

struct vr_host_storage {
    json_t *joined;    /* domain id -> "joining" | "joined" */
    json_t *last_try;  /* domain id -> when a connect of an inactive domain was last tried */
    bool left;         /* a host in maintenance let go of all its storage */
};

vr_host_storage *vr_host_storage_new(void)
{
    vr_host_storage *hs = calloc(1, sizeof(*hs));
    if (hs) {
        hs->joined = json_object();
        hs->last_try = json_object();
    }
    return hs;
}

void vr_host_storage_free(vr_host_storage *hs)
{
    if (!hs)
        return;
    json_decref(hs->joined);
    json_decref(hs->last_try);
    free(hs);
}

void vr_host_storage_reset(vr_host_storage *hs)
{
    json_object_clear(hs->joined);
    json_object_clear(hs->last_try);
    hs->left = false;
}

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

/* Over the monitor's connection c, or a one-shot call when c is NULL (a
 * job). params is stolen. */
static int call(vr_engine *e, vr_rpc_client *c, json_t *host, const char *verb, json_t *params, json_t **r,
                vr_error *err)
{
    return c ? vr_rpc_call(c, verb, params, r, err) : vr_agent_call_host(e, host, verb, params, r, err);
}

/* When the agent last checked a domain: UTC "YYYY-MM-DDTHH:MM:SSZ" (or
 * seconds since the epoch); 0 if unknown. */
static long long checked_at(json_t *rep)
{
    json_t *v = json_object_get(rep, "checked_at");
    if (json_is_integer(v))
        return json_integer_value(v);
    struct tm tm = {0};
    const char *end = json_is_string(v) ? strptime(json_string_value(v), "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
    return end && !*end ? (long long)timegm(&tm) : 0;
}

/* Connect to a domain the host does not report. Inactive domains are
 * tried once per autorecovery period only: their storage is likely down,
 * and a mount that hangs would stall this host's monitor every poll. */
static void connect_domain(vr_engine *e, vr_rpc_client *c, json_t *host, vr_host_storage *hs,
                           json_t *sd, long long now)
{
    const char *id = str(sd, "id");
    if (!strcmp(str(sd, "status"), "inactive")) {
        long long last = json_integer_value(json_object_get(hs->last_try, id));
        if (last && now - last < e->autorecovery_s)
            return;
        json_object_set_new(hs->last_try, id, json_integer(now));
    }
    json_t *r = NULL;
    vr_error err = {0};
    /* a mount may take longer than the monitor's usual calls */
    vr_rpc_client_set_timeout(c, vr_timeout_agent_call_s(e, "Storage.connect"));
    int rc = vr_rpc_call(c, "Storage.connect", json_pack("{s:o}", "conn", vr_storage_conn(sd)), &r, &err);
    vr_rpc_client_set_timeout(c, vr_timeout_agent_call_s(e, NULL));
    if (rc < 0) {
        VR_DEBUG("host %s cannot connect storage domain %s: %s", str(host, "name"), str(sd, "name"),
                 err.message);
        vr_store_host_domain_seen(e->db, str(host, "id"), id, false, 0, 0, 0, err.message, now);
    }
    json_decref(r);
}

static void join_lockspace(vr_rpc_client *c, json_t *host, vr_host_storage *hs, const char *domain,
                           int spm_id)
{
    json_t *r = NULL;
    vr_error err = {0};
    if (vr_rpc_call(c, "Lockspace.join", json_pack("{s:s, s:i}", "domain", domain, "host_id", spm_id),
                    &r, &err) < 0) {
        VR_DEBUG("host %s cannot join the lockspace of %s: %s", str(host, "name"), domain, err.message);
        json_object_del(hs->joined, domain);
    } else {
        json_object_set_new(hs->joined, domain, json_string(str(r, "state")[0] ? str(r, "state") : "joining"));
    }
    json_decref(r);
}

/* Leave lockspaces of domains that are no longer attached and active. */
static void leave_others(vr_rpc_client *c, json_t *host, vr_host_storage *hs, json_t *want)
{
    const char *dom;
    json_t *v, *tmp;
    json_object_foreach_safe(hs->joined, tmp, dom, v) {
        bool keep = false;
        size_t i;
        json_t *sd;
        json_array_foreach(want, i, sd) keep |= !strcmp(str(sd, "id"), dom);
        if (keep)
            continue;
        json_t *r = NULL;
        vr_error err = {0};
        /* refused (the SPM lease is still held there, a join is still
         * running): kept, so the next poll asks again */
        if (vr_rpc_call(c, "Lockspace.leave", json_pack("{s:s}", "domain", dom), &r, &err) < 0 &&
            err.code == VR_ERR_BAD_STATE) {
            VR_DEBUG("host %s cannot leave the lockspace of %s yet: %s", str(host, "name"), dom, err.message);
        } else {
            json_object_del(hs->joined, dom);
        }
        json_decref(r);
    }
}

/* What the agent says of its lockspaces (Storage.status asks sanlock)
 * overrides this memory: a lockspace lost behind the engine's back (agent
 * or sanlock restarted) is joined again, one joined before an engine
 * restart is known, and so left when its domain is no longer wanted. */
static void sync_joined(vr_host_storage *hs, json_t *status)
{
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(status, "domains"), i, d) {
        const char *ls = str(d, "lockspace");
        if (!strcmp(ls, "joined") || !strcmp(ls, "joining"))
            json_object_set_new(hs->joined, str(d, "domain"), json_string(ls));
        else if (*ls)
            json_object_del(hs->joined, str(d, "domain"));
    }
}

static json_t *row_of(json_t *rows, const char *id)
{
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) {
        if (!strcmp(str(r, "id"), id))
            return r;
    }
    return NULL;
}

/* Let go of the domains in go (rows with connection columns) that the host
 * reports (status: its Storage.status): leave each one's lockspace, then
 * disconnect its connection unless a domain in keep (also rows) is on the
 * same one. 0 when nothing of them is left, -1 with why (the next round
 * tries again; a lockspace still holding a lease, the SPM's, is refused). */
static int let_go(vr_engine *e, vr_rpc_client *c, json_t *host, json_t *status, json_t *go, json_t *keep,
                  char *why, size_t len)
{
    int rc = 0;
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(status, "domains"), i, d) {
        json_t *sd = row_of(go, str(d, "domain")), *r = NULL;
        if (!sd)
            continue;
        vr_error err = {0};
        bool in = strcmp(str(d, "lockspace"), "free") != 0; /* missing: sanlock not asked, leave anyway */
        if (in && call(e, c, host, "Lockspace.leave", json_pack("{s:s}", "domain", str(sd, "id")), &r, &err) < 0) {
            json_decref(r);
            snprintf(why, len, "host '%s' cannot leave the lockspace of storage domain '%s' yet: %s",
                     str(host, "name"), str(sd, "name"), err.message);
            rc = -1;
            continue;
        }
        json_decref(r);
        r = NULL;
        const char *spec = str(sd, "storage_spec");
        bool shared = false;
        size_t j;
        json_t *k;
        json_array_foreach(keep, j, k) shared |= !strcmp(str(k, "storage_spec"), spec);
        if (shared)
            continue; /* a domain still in use is on the same connection */
        if (c)
            vr_rpc_client_set_timeout(c, vr_timeout_agent_call_s(e, "Storage.connect"));
        int dr = call(e, c, host, "Storage.disconnect", json_pack("{s:o}", "conn", vr_storage_conn(sd)), &r, &err);
        if (c)
            vr_rpc_client_set_timeout(c, vr_timeout_agent_call_s(e, NULL));
        json_decref(r);
        if (dr < 0) {
            snprintf(why, len, "host '%s' cannot disconnect storage domain '%s' (%s): %s", str(host, "name"),
                     str(sd, "name"), spec, err.message);
            rc = -1;
        } else {
            VR_DEBUG("host %s let go of storage domain %s (%s)", str(host, "name"), str(sd, "name"), spec);
        }
    }
    return rc;
}

int vr_host_storage_leave(vr_engine *e, vr_rpc_client *c, json_t *host, vr_host_storage *hs, char *why,
                          size_t len)
{
    char dc[37], buf[512] = "";
    if (!why) {
        why = buf;
        len = sizeof(buf);
    }
    if (hs && hs->left)
        return 0;
    if (vr_store_host_dc(e->db, str(host, "id"), dc) < 0)
        return 0; /* in no data center (or the database is away): nothing known to leave */
    json_t *all = vr_store_dc_domains_attached(e->db, dc);
    if (!all) {
        snprintf(why, len, "the database is not available");
        return -1;
    }
    if (!json_array_size(all)) {
        json_decref(all);
        return 0; /* the data center has no storage */
    }
    json_t *status = NULL;
    vr_error err = {0};
    int rc = 0;
    if (call(e, c, host, "Storage.status", NULL, &status, &err) < 0) {
        snprintf(why, len, "host '%s' does not report its storage: %s", str(host, "name"), err.message);
        rc = -1;
    } else {
        json_t *keep = json_array();
        rc = let_go(e, c, host, status, all, keep, why, len);
        json_decref(keep);
    }
    if (rc == 0 && hs) {
        json_object_clear(hs->joined);
        hs->left = true;
    }
    json_decref(status);
    json_decref(all);
    return rc;
}

int vr_host_storage_poll(vr_engine *e, vr_rpc_client *c, json_t *host, vr_host_storage *hs,
                         char *why, size_t len)
{
    hs->left = false;
    char dc[37];
    const char *host_id = str(host, "id");
    json_t *want = vr_store_host_dc(e->db, host_id, dc) == 0 ? vr_store_dc_domains_to_connect(e->db, dc) : NULL;
    if (!want)
        return 0;
    /* Domains in maintenance are let go of by every host: lockspace left,
     * storage disconnected (unless a domain in use shares it). One being
     * detached stays connected: its detach job needs it on the SPM. */
    json_t *all = vr_store_dc_domains_attached(e->db, dc), *go = json_array(), *sd;
    size_t i;
    json_array_foreach(all, i, sd) {
        if (!strcmp(str(sd, "status"), "maintenance") && !json_integer_value(json_object_get(sd, "detaching")))
            json_array_append(go, sd);
    }
    json_decref(all);
    vr_error err = {0};
    int spm_id = 0;
    json_t *status = NULL;
    if ((!json_array_size(want) && !json_array_size(go)) ||
        (json_array_size(want) && vr_store_host_spm_id(e->db, dc, host_id, &spm_id, &err) < 0) ||
        vr_rpc_call(c, "Storage.status", NULL, &status, &err) < 0) {
        if (err.code)
            VR_DEBUG("host %s: storage round skipped: %s", str(host, "name"), err.message);
        else
            leave_others(c, host, hs, want); /* nothing attached: whatever was joined goes */
        json_decref(go);
        json_decref(want);
        return 0;
    }
    sync_joined(hs, status);
    long long now = vr_now();
    int blind = 0;
    json_array_foreach(want, i, sd) {
        const char *id = str(sd, "id");
        json_t *rep = NULL, *d;
        size_t j;
        json_array_foreach(json_object_get(status, "domains"), j, d) {
            if (!strcmp(str(d, "domain"), id))
                rep = d;
        }
        if (!rep) {
            /* not (or no longer) there: blind until a connect brings it back */
            vr_store_host_domain_seen(e->db, host_id, id, false, 0, 0, 0,
                                      "domain not found on the host's storage", now);
            connect_domain(e, c, host, hs, sd, now);
            continue;
        }
        long long checked = checked_at(rep);
        bool fresh = checked > now - REPORT_STALE_S;
        bool valid = json_is_true(json_object_get(rep, "valid")) && fresh;
        const char *msg = !fresh ? "no recent check of this domain on the host" : str(rep, "error");
        vr_store_host_domain_seen(e->db, host_id, id, valid, json_number_value(json_object_get(rep, "delay_ms")),
                                  json_integer_value(json_object_get(rep, "total")),
                                  json_integer_value(json_object_get(rep, "free")), msg, now);
        if (valid && strcmp(str(hs->joined, id), "joined"))
            join_lockspace(c, host, hs, id, spm_id);
    }
    /* blind to an active domain that others see, for longer than the grace */
    json_array_foreach(want, i, sd) {
        char error[256] = "";
        long long blind_for = strcmp(str(sd, "status"), "active") ? 0
                              : vr_store_host_blind_for(e->db, host_id, str(sd, "id"), now,
                                                        now - 3 * (e->poll_ms / 1000 + 1) - REPORT_STALE_S,
                                                        error, sizeof(error));
        if (!blind && blind_for > e->grace_s) {
            snprintf(why, len, "cannot see storage domain '%s' for %lld s: %s", str(sd, "name"), blind_for,
                     error[0] ? error : "not valid");
            blind = 1;
        }
    }
    leave_others(c, host, hs, want);
    char lwhy[512];
    if (json_array_size(go) && let_go(e, c, host, status, go, want, lwhy, sizeof(lwhy)) < 0)
        VR_DEBUG("%s", lwhy);
    json_decref(go);
    json_decref(status);
    json_decref(want);
    return blind;
}
