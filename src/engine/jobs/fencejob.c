#include "fencejob.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentcall.h"
#include "hoststatus.h"
#include "hostview.h"
#include "jobs.h"
#include "kdump.h"
#include "log.h"
#include "sdjobs.h"
#include "softfence.h"
#include "vmexit.h"
#include "i18n.h"

/* How long a fence agent may take on its proxy is e->fence_agent_timeout_s
 * (--fence-agent-timeout-s, 50 s); the call waits a little longer
 * (core/timeouts.c), so the agent reports the timeout itself. */

/* The proxy (RHV TR ch. 4.2): another host of the fenced host's cluster,
 * else of its data center, that is up or in maintenance (its agent runs
 * there too); up ones first, then by name. The first that answers a ping
 * is taken: a host recorded up may be down with the one being fenced (two
 * lost at once) before its monitor noticed. Each that did not answer gets
 * a warning event and is named in *tried. NULL when none answered (*tried
 * empty: there was none). */
static json_t *pick_proxy(vr_engine *e, json_t *host, const char *user, char *tried, size_t len)
{
    const char *id = json_string_value(json_object_get(host, "id"));
    const char *hname = json_string_value(json_object_get(host, "name"));
    const char *cl = json_string_value(json_object_get(host, "cluster_id"));
    json_t *rows = NULL;
    tried[0] = '\0';
    if (vr_db_query(e->db, "SELECT h.id AS id, h.name AS name, h.address AS address, h.port AS port FROM hosts h"
                    " JOIN clusters c ON c.id = h.cluster_id WHERE h.status IN ('up', 'maintenance') AND h.id != ?"
                    " AND c.datacenter_id = ? ORDER BY CASE WHEN h.cluster_id = ? THEN 0 ELSE 1 END,"
                    " CASE WHEN h.status = 'up' THEN 0 ELSE 1 END, h.name",
                    DB_ARGS(DB_TEXT(id), DB_TEXT(json_string_value(json_object_get(host, "dc"))), DB_TEXT(cl)),
                    &rows, NULL) < 0)
        return NULL;
    json_t *r, *chosen = NULL;
    size_t i, o = 0;
    json_array_foreach(rows, i, r) {
        vr_error err = {0};
        json_t *res = NULL;
        int rc = vr_agent_call_host(e, r, "Host.ping", json_object(), &res, &err);
        json_decref(res);
        if (rc == 0) {
            chosen = json_incref(r);
            break;
        }
        const char *pname = json_string_value(json_object_get(r, "name"));
        vr_event(e, "warning", user, "host", id, "proxy host '%s' did not answer to fence host '%s' (%s); trying"
                 " another", pname, hname, err.message);
        if (o < len)
            o += (size_t)snprintf(tried + o, len - o, "%s%s (%s)", o ? ", " : "", pname, err.message);
    }
    json_decref(rows);
    return chosen;
}

/* One fence agent through the proxy: 0 with power set, -1 with err. */
static int one_agent(vr_engine *e, json_t *proxy, json_t *agent, const char *action, char power[8], vr_error *err)
{
    json_t *spec = json_deep_copy(agent);
    json_object_del(spec, "order");
    json_object_del(spec, "concurrent");
    if (!*json_string_value(json_object_get(spec, "username")))
        json_object_del(spec, "username");
    if (!*json_string_value(json_object_get(spec, "password")))
        json_object_del(spec, "password");
    json_t *res = NULL;
    int rc = vr_agent_call(e, json_string_value(json_object_get(proxy, "address")),
                           (int)json_integer_value(json_object_get(proxy, "port")), "Host.fence",
                           json_pack("{s:o, s:s, s:i}", "agent", spec, "action", action, "timeout_s",
                                     e->fence_agent_timeout_s), &res, err);
    if (rc == 0)
        snprintf(power, 8, "%s", json_string_value(json_object_get(res, "power")) ?: "?");
    json_decref(res);
    return rc;
}

/* The agents of one order: a lone agent does the action; concurrent ones
 * (two power supplies) are all switched off before any is switched on. */
static int one_group(vr_engine *e, json_t *proxy, json_t *group, const char *type, char power[8], vr_error *err)
{
    static const struct { const char *type, *first, *second; } plan[] = {
        {"status", "status", NULL}, {"start", "on", NULL}, {"stop", "off", NULL}, {"restart", "reboot", NULL}};
    const char *first = "status", *second = NULL;
    for (size_t i = 0; i < sizeof(plan) / sizeof(plan[0]); i++)
        if (!strcmp(plan[i].type, type))
            first = plan[i].first;
    if (json_array_size(group) > 1 && !strcmp(type, "restart")) {
        first = "off";
        second = "on";
    }
    bool any_on = false;
    for (const char *act = first; act; act = act == first ? second : NULL) {
        size_t i;
        json_t *a;
        json_array_foreach(group, i, a) {
            if (one_agent(e, proxy, a, act, power, err) < 0)
                return -1;
            any_on |= !strcmp(power, "on");
        }
    }
    if (!strcmp(type, "status") && any_on)
        snprintf(power, 8, "on");
    return 0;
}

void vr_host_vms_fenced(vr_engine *e, const char *host_id, const char *hname)
{
    json_t *rows = NULL;
    if (vr_db_query(e->db, "SELECT id, status FROM vms WHERE host_id = ? AND status NOT IN ('down', 'waitforlaunch')"
                    " ORDER BY ha_priority DESC, name", DB_ARGS(DB_TEXT(host_id)), &rows, NULL) < 0)
        return;
    char why[300];
    snprintf(why, sizeof(why), " (its host '%s' was fenced)", hname);
    size_t i;
    json_t *v;
    json_array_foreach(rows, i, v) {
        vr_vm_ended(e, json_string_value(json_object_get(v, "id")), host_id,
                    vr_vm_status_parse(json_string_value(json_object_get(v, "status"))), "host_fenced", why);
    }
    json_decref(rows);
}

int vr_host_fence_run(vr_engine *e, const char *host_id, const char *fence_type, const char *user,
                      char power[8], char *detail, size_t len, vr_error *err)
{
    json_t *host = vr_db_query_one(e->db, "SELECT h.id AS id, h.name AS name, h.cluster_id AS cluster_id,"
                                   " c.datacenter_id AS dc, h.pm_json AS pm_json FROM hosts h"
                                   " JOIN clusters c ON c.id = h.cluster_id WHERE h.id = ?",
                                   DB_ARGS(DB_TEXT(host_id)), err);
    if (!host)
        return err->code ? -1 : vr_error_set(err, VR_ERR_NOT_FOUND, "no host with id '%s'", host_id);
    const char *hname = json_string_value(json_object_get(host, "name"));
    json_t *pm = json_object_get(host, "pm"), *agents = json_object_get(pm, "agents");
    json_t *proxy = NULL;
    int rc = -1;
    if (!json_is_true(json_object_get(pm, "enabled")) || !json_array_size(agents)) {
        vr_error_set(err, VR_ERR_BAD_STATE, "host '%s' has no power management enabled", hname);
        goto out;
    }
    char tried[512];
    proxy = pick_proxy(e, host, user, tried, sizeof(tried));
    if (!proxy && tried[0]) {
        vr_error_set(err, VR_ERR_UNAVAILABLE, "no proxy host to fence host '%s' answered: %s", hname, tried);
        goto out;
    }
    if (!proxy) {
        vr_error_set(err, VR_ERR_UNAVAILABLE, "no proxy host to fence host '%s': no other host of its cluster or"
                     " data center is up or in maintenance", hname);
        goto out;
    }
    const char *pname = json_string_value(json_object_get(proxy, "name"));
    bool power_change = strcmp(fence_type, "status") != 0;
    if (power_change) {
        char d[128];
        vr_i18n_format(d, sizeof(d), "being fenced (%s) through proxy '%s'", fence_type, pname);
        vr_host_set_status(e, host_id, VR_HOST_NONRESPONSIVE, d, user, NULL);
        vr_hostview_refresh(e->view, e->db, host_id);
    }
    /* Primary agents first (lowest order); the next order only when they fail. */
    vr_error last = {0};
    for (long long order = 1; order <= 10 && rc < 0; order++) {
        json_t *group = json_array();
        size_t i;
        json_t *a;
        json_array_foreach(agents, i, a) {
            if (json_integer_value(json_object_get(a, "order")) == order)
                json_array_append(group, a);
        }
        if (json_array_size(group)) {
            json_t *a0 = json_array_get(group, 0);
            vr_error_clear(&last);
            rc = one_group(e, proxy, group, fence_type, power, &last);
            snprintf(detail, len, "%s of host '%s': power %s (fence agent %s at %s:%lld%s, through proxy '%s')",
                     fence_type, hname, rc == 0 ? power : "unknown", json_string_value(json_object_get(a0, "type")),
                     json_string_value(json_object_get(a0, "address")),
                     (long long)json_integer_value(json_object_get(a0, "port")),
                     json_array_size(group) > 1 ? " and concurrent ones" : "", pname);
            if (rc < 0)
                vr_event(e, "warning", user, "host", host_id, "%s failed: %s", detail, last.message);
        }
        json_decref(group);
    }
    if (rc < 0) {
        *err = last;
        goto out;
    }
    vr_event(e, power_change ? "warning" : "normal", user, "host", host_id, "%s", detail);
    if (power_change && strcmp(fence_type, "start")) {
        /* Off at least once: nothing it ran survives. Its monitor finds it
         * up again (restart, start) at its next good poll. */
        vr_host_set_status(e, host_id, VR_HOST_NONRESPONSIVE, "fenced", user, NULL);
        vr_hostview_refresh(e->view, e->db, host_id);
        vr_host_vms_fenced(e, host_id, hname);
    }
out:
    json_decref(proxy);
    json_decref(host);
    return rc;
}

/* Note in the job's parameters which step begins ("hard": the power
 * change; "kdump": waiting for kdump): after an engine restart a soft fence
 * or the kdump wait may run again, a power change not. */
static void mark(vr_engine *e, const char *job_id, json_t *params, const char *step)
{
    json_object_set_new(params, step, json_true());
    vr_job_params_store(e, job_id, params);
}

static void run_fence(vr_engine *e, const char *job_id, const char *host_id, const char *user)
{
    json_t *job = vr_db_query_one(e->db, "SELECT params_json FROM jobs WHERE id = ?", DB_ARGS(DB_TEXT(job_id)), NULL);
    json_t *params = json_incref(json_object_get(job, "params"));
    json_decref(job);
    if (!json_is_object(params)) {
        json_decref(params);
        params = json_object();
    }
    char type[16];
    snprintf(type, sizeof(type), "%s", json_string_value(json_object_get(params, "fence_type")) ?: "status");
    bool hard = json_is_true(json_object_get(params, "hard"));
    bool soft = json_is_true(json_object_get(params, "soft")) && !hard && !json_is_true(json_object_get(params, "kdump"));
    char power[8] = "", detail[512] = "";
    vr_error err = {0};
    if (vr_job_cancel_requested(e, job_id)) {
        vr_job_update(e, job_id, "cancelled", "cancelled before the proxy was asked");
        goto out;
    }
    if (soft) {
        vr_job_update(e, job_id, "running", "soft fencing: restarting the agent over SSH");
        if (vr_soft_fence_run(e, host_id, user, detail, sizeof(detail), &err) == 0) {
            vr_job_update(e, job_id, "finished", detail);
            goto out;
        }
        if (!strcmp(type, "soft")) { /* no power fence to go further */
            char why[700];
            vr_i18n_format(why, sizeof(why), "soft fencing failed: %s; no power fence follows (the host has no power"
                           " management, or its cluster's fencing policy keeps a host that renews its storage lease"
                           " powered on): its VMs stay unknown", err.message);
            vr_job_update(e, job_id, "failed", why);
            goto out;
        }
        vr_event(e, "warning", user, "host", host_id, "soft fencing did not bring the host back (%s); fencing it (%s)",
                 err.message, type);
        vr_error_clear(&err);
    }
    /* An automatic fence asks first whether the host is dumping a crash
     * (kdump.h): then it is not powered off, and counts as fenced once the
     * dump is over (RHV's kdump integration). */
    if (!*user && !hard && !strcmp(type, "restart")) {
        mark(e, job_id, params, "kdump");
        int k = vr_kdump_step(e, job_id, host_id, user, detail, sizeof(detail));
        if (k != 0) {
            if (k > 0 || !e->stopping) /* a stopping engine resumes the job at its next start */
                vr_job_update(e, job_id, k > 0 ? "finished" : "cancelled", detail);
            goto out;
        }
    }
    if (strcmp(type, "status"))
        mark(e, job_id, params, "hard");
    vr_job_update(e, job_id, "running", "asking a proxy host");
    if (vr_host_fence_run(e, host_id, type, user, power, detail, sizeof(detail), &err) < 0) {
        if (*user) {
            vr_event(e, "error", user, "host", host_id, "fencing (%s) failed: %s", type, err.message);
        } else {
            /* Not fenced: its VMs may still run there; starting its HA VMs
             * elsewhere could run them twice. */
            json_t *h = vr_db_query_one(e->db, "SELECT name FROM hosts WHERE id = ?", DB_ARGS(DB_TEXT(host_id)), NULL);
            vr_event(e, "error", user, "host", host_id, "automatic fencing (%s) of host '%s' failed: %s; its VMs stay"
                     " unknown and are not started elsewhere", type,
                     json_string_value(json_object_get(h, "name")) ?: host_id, err.message);
            json_decref(h);
        }
        vr_job_update(e, job_id, "failed", err.message);
        goto out;
    }
    vr_job_update(e, job_id, "finished", detail);
out:
    json_decref(params);
}

/* Record a fence job of host_id; soft: restart its agent over SSH first
 * (fence_type "soft": nothing more). */
static int submit(vr_engine *e, const char *host_id, const char *fence_type, bool soft, const char *user,
                  char job_id[37], vr_error *err)
{
    json_t *h = vr_db_query_one(e->db, "SELECT name, pm_json FROM hosts WHERE id = ?", DB_ARGS(DB_TEXT(host_id)), err);
    if (!h)
        return err->code ? -1 : vr_error_set(err, VR_ERR_NOT_FOUND, "no host with id '%s'", host_id);
    char desc[160];
    vr_i18n_format(desc, sizeof(desc), soft && strcmp(fence_type, "soft") ? N_("Fence host '%s' (soft, then %s)")
                                                                          : N_("Fence host '%s' (%s)"),
                   json_string_value(json_object_get(h, "name")), fence_type);
    bool enabled = json_is_true(json_object_get(json_object_get(h, "pm"), "enabled"));
    json_decref(h);
    if (!enabled && strcmp(fence_type, "soft"))
        return vr_error_set(err, VR_ERR_BAD_STATE, "host %s has no power management enabled", host_id);
    vr_uuid_new(job_id);
    if (vr_db_begin(e->db, err) < 0)
        return -1;
    json_t *busy = vr_db_query_one(e->db, "SELECT id FROM jobs WHERE object_id = ? AND action = 'fence' AND status"
                                   " IN ('pending', 'running')", DB_ARGS(DB_TEXT(host_id)), err);
    int rc = busy || err->code ? -1 : 0;
    if (busy)
        vr_error_set(err, VR_ERR_BAD_STATE, "host %s is being fenced by job %s", host_id,
                     json_string_value(json_object_get(busy, "id")));
    json_decref(busy);
    json_t *p = json_pack("{s:s}", "fence_type", fence_type);
    if (soft)
        json_object_set_new(p, "soft", json_true());
    return vr_storage_job_submit(e, rc, job_id, "fence", "host", host_id, desc, p, user, run_fence, err);
}

int vr_host_fence_submit(vr_engine *e, const char *host_id, const char *fence_type, const char *user,
                         char job_id[37], vr_error *err)
{
    /* "soft": the agent restarted over SSH (RHV's SSH soft fencing), which
     * needs the host's SSH access with soft_fencing on, not power management */
    bool soft = !strcmp(fence_type, "soft");
    if (soft && !vr_soft_fence_enabled(e, host_id))
        return vr_error_set(err, VR_ERR_BAD_STATE, "host %s has soft fencing off: set its ssh.soft_fencing (and SSH"
                            " access) first", host_id);
    return submit(e, host_id, fence_type, soft, user, job_id, err);
}

int vr_host_fence_auto_submit(vr_engine *e, const char *host_id, bool soft, bool hard, char job_id[37], vr_error *err)
{
    if (!soft && !hard)
        return vr_error_set(err, VR_ERR_BAD_STATE, "host %s has neither soft fencing nor power management", host_id);
    return submit(e, host_id, hard ? "restart" : "soft", soft, "", job_id, err);
}

bool vr_host_being_fenced(vr_engine *e, const char *host_id)
{
    json_t *rows = NULL;
    if (vr_db_query(e->db, "SELECT params_json FROM jobs WHERE object_id = ? AND action = 'fence' AND status IN"
                    " ('pending', 'running')", DB_ARGS(DB_TEXT(host_id)), &rows, NULL) < 0)
        return false;
    bool busy = false;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) busy |= strcmp(json_string_value(json_object_get(json_object_get(r, "params"),
                                                                                    "fence_type")) ?: "", "status") != 0;
    json_decref(rows);
    return busy;
}

bool vr_fence_job_resume(vr_engine *e, json_t *r)
{
    if (strcmp(json_string_value(json_object_get(r, "action")) ?: "", "fence"))
        return false;
    const char *id = json_string_value(json_object_get(r, "id"));
    const char *type = json_string_value(json_object_get(json_object_get(r, "params"), "fence_type")) ?: "";
    json_t *params = json_object_get(r, "params");
    bool sent = !strcmp(json_string_value(json_object_get(r, "status")) ?: "", "running");
    /* A soft fence (an agent restart) or the wait for kdump may be done
     * twice; a power change not. */
    bool soft_only = (json_is_true(json_object_get(params, "soft")) || json_is_true(json_object_get(params, "kdump")))
                     && !json_is_true(json_object_get(params, "hard"));
    if (!sent || !strcmp(type, "status") || soft_only) {
        vr_job_update(e, id, "pending", "resumed after an engine restart");
        vr_job_spawn(e, id, json_string_value(json_object_get(r, "object_id")),
                     json_string_value(json_object_get(r, "user_name")), run_fence);
    } else {
        vr_job_update(e, id, "failed", "interrupted by an engine restart while the proxy fenced the host; ask for"
                      " its status");
    }
    return true;
}
