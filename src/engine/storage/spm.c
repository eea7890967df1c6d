/* SPM election (see spm.h). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "agentcall.h"
#include "fencejob.h"
#include "log.h"
#include "softfence.h"
#include "spm.h"
#include "store_spm.h"
#include "i18n.h"

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

/* Set the data center's storage status, with an event when it changes. */
static void set_status(vr_engine *e, json_t *dc, const char *host_id, long long spm_id, long long lver,
                       const char *status, const char *why)
{
    bool changed = strcmp(str(dc, "storage_status"), status) != 0;
    vr_store_dc_set_spm(e->db, str(dc, "id"), host_id, spm_id, lver, status);
    if (changed && why)
        vr_event(e, !strcmp(status, "up") ? "normal" : "warning", "", "datacenter", str(dc, "id"),
                 "storage of data center '%s' is %s: %s", str(dc, "name"), status, why);
    json_object_set_new(dc, "storage_status", json_string(status));
}

/* How long after its last good poll a lost SPM host with power management
 * or soft fencing is waited for when no fence job of it has appeared (the
 * monitor skipped it: a network split, a fence a moment ago): past the
 * grace and this, the election goes on and sanlock alone decides. */
#define FENCE_EXPECTED_S 30

/* The SPM host is lost (connecting, nonresponsive, kdumping): RHV elects
 * no new SPM before the old one is fenced (TR ch. 2.9 and 4). True, with
 * why, while the election must wait: within the grace, while a fence job
 * owns the host (kdump included), and while one is still to come. */
static bool fence_pending(vr_engine *e, json_t *host, char *why, size_t len)
{
    const char *st = str(host, "status"), *id = str(host, "id");
    if (!strcmp(st, "connecting")) {
        snprintf(why, len, "SPM host '%s' is not answering (within the grace)", str(host, "name"));
        return true;
    }
    if (!strcmp(st, "kdumping") || vr_host_being_fenced(e, id)) {
        snprintf(why, len, "SPM host '%s' is being fenced%s; a new SPM is elected once it is fenced",
                 str(host, "name"), !strcmp(st, "kdumping") ? " (it is dumping a crash: kdump)" : "");
        return true;
    }
    if (strcmp(st, "nonresponsive"))
        return false;
    json_t *r = vr_db_query_one(e->db, "SELECT pm_json, last_seen, (SELECT count(*) FROM jobs WHERE object_id ="
                                " hosts.id AND action = 'fence' AND created_at >= hosts.last_seen) AS fences"
                                " FROM hosts WHERE id = ?", DB_ARGS(DB_TEXT(id)), NULL);
    bool fencing = json_is_true(json_object_get(json_object_get(r, "pm"), "enabled")) || vr_soft_fence_enabled(e, id);
    bool wait = fencing && !json_integer_value(json_object_get(r, "fences")) &&
                vr_now() - json_integer_value(json_object_get(r, "last_seen")) < e->grace_s + FENCE_EXPECTED_S;
    json_decref(r);
    if (wait)
        snprintf(why, len, "SPM host '%s' is non-responsive and about to be fenced; a new SPM is elected once it"
                 " is fenced", str(host, "name"));
    return wait;
}

/* Is the recorded SPM still it? On "no", clears the role in the database. */
static bool current_spm_holds(vr_engine *e, json_t *dc)
{
    const char *host_id = str(dc, "spm_host_id");
    json_t *host = vr_store_host_brief(e->db, host_id);
    char why[800];
    /* A host preparing for maintenance still serves: its maintenance job
     * gives the role up once its VMs are gone (jobs/maintenance.c). */
    if (host && (!strcmp(str(host, "status"), "up") || !strcmp(str(host, "status"), "preparingformaintenance"))) {
        json_t *r = NULL;
        vr_error err = {0};
        if (vr_agent_call_host(e, host, "SPM.status",
                               json_pack("{s:s, s:s}", "pool", str(dc, "id"), "master",
                                         str(dc, "master_domain_id")), &r, &err) == 0 &&
            !strcmp(str(r, "status"), "SPM")) {
            long long lver = json_integer_value(json_object_get(r, "lver"));
            if (lver != json_integer_value(json_object_get(dc, "spm_lver")) ||
                strcmp(str(dc, "storage_status"), "up"))
                set_status(e, dc, host_id, json_integer_value(json_object_get(dc, "spm_id")), lver, "up",
                           "SPM confirmed");
            json_decref(r);
            json_decref(host);
            return true;
        }
        if (err.code == VR_ERR_IO) {
            /* No answer from a host still counted up: it may have just
             * died, before its monitor noticed. Its monitor decides (then
             * fence_pending); electing now could outrun the fence. */
            json_decref(r);
            vr_i18n_format(why, sizeof(why), "SPM host '%s' does not answer (%s); its monitor decides",
                           str(host, "name"), err.message);
            set_status(e, dc, host_id, json_integer_value(json_object_get(dc, "spm_id")),
                       json_integer_value(json_object_get(dc, "spm_lver")), "nonresponsive", why);
            json_decref(host);
            return true;
        }
        vr_i18n_format(why, sizeof(why), "host '%s' is no longer the SPM (%s)", str(host, "name"),
                 err.code ? err.message : str(r, "status"));
        json_decref(r);
    } else if (host && fence_pending(e, host, why, sizeof(why))) {
        /* The role stays where it is; no host is asked to take it yet. */
        set_status(e, dc, host_id, json_integer_value(json_object_get(dc, "spm_id")),
                   json_integer_value(json_object_get(dc, "spm_lver")), "nonresponsive", why);
        VR_DEBUG("data center %s: %s", str(dc, "name"), why);
        json_decref(host);
        return true;
    } else {
        vr_i18n_format(why, sizeof(why), "SPM host '%s' is %s; a new SPM is elected once its lease is free",
                 host ? str(host, "name") : "?", host ? str(host, "status") : "gone");
        /* an administrator's maintenance: the host still answers and must
         * give the lease back, or nobody else could ever take it */
        if (host && !strcmp(str(host, "status"), "maintenance")) {
            json_t *r = NULL;
            vr_error err = {0};
            if (vr_agent_call_host(e, host, "SPM.stop", json_pack("{s:s}", "pool", str(dc, "id")), &r, &err) < 0)
                VR_DEBUG("data center %s: SPM.stop on host %s: %s", str(dc, "name"), str(host, "name"), err.message);
            json_decref(r);
        }
    }
    vr_event(e, "warning", "", "datacenter", str(dc, "id"), "data center '%s': %s", str(dc, "name"), why);
    /* keep spm_id and lver: they tell the next round who held it last */
    set_status(e, dc, NULL, json_integer_value(json_object_get(dc, "spm_id")),
               json_integer_value(json_object_get(dc, "spm_lver")), "contend", NULL);
    json_object_set_new(dc, "spm_host_id", json_null());
    json_decref(host);
    return false;
}

static bool try_host(vr_engine *e, json_t *dc, json_t *host, char *why, size_t len)
{
    json_t *r = NULL;
    vr_error err = {0};
    long long spm_id = json_integer_value(json_object_get(host, "spm_id"));
    if (vr_agent_call_host(e, host, "SPM.start",
                           json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "pool", str(dc, "id"), "master",
                                     str(dc, "master_domain_id"), "host_id", spm_id, "prev_id",
                                     json_integer_value(json_object_get(dc, "spm_id")), "prev_lver",
                                     json_integer_value(json_object_get(dc, "spm_lver")), "master_version",
                                     json_integer_value(json_object_get(dc, "master_version"))),
                           &r, &err) < 0) {
        snprintf(why, len, "host '%s': %s", str(host, "name"), err.message);
        return false;
    }
    long long lver = json_integer_value(json_object_get(r, "lver"));
    vr_store_dc_raise_master_version(e->db, str(dc, "id"), json_integer_value(json_object_get(r, "master_version")));
    json_decref(r);
    char msg[300];
    snprintf(msg, sizeof(msg), "host '%s' is the SPM (host id %lld, lease version %lld)", str(host, "name"),
             spm_id, lver);
    set_status(e, dc, str(host, "id"), spm_id, lver, "up", msg);
    vr_event(e, "normal", "", "host", str(host, "id"), "host '%s' became the SPM of data center '%s'",
             str(host, "name"), str(dc, "name"));
    return true;
}

void vr_spm_release(vr_engine *e, json_t *dc)
{
    json_t *host = vr_store_host_brief(e->db, str(dc, "spm_host_id"));
    json_t *r = NULL;
    vr_error err = {0};
    if (host && vr_agent_call_host(e, host, "SPM.stop", json_pack("{s:s}", "pool", str(dc, "id")), &r, &err) < 0 &&
        err.code != VR_ERR_IO) {
        /* refused (jobs still run there): try again next round */
        VR_DEBUG("data center %s: SPM.stop refused: %s", str(dc, "name"), err.message);
        json_decref(r);
        json_decref(host);
        return;
    }
    /* an unreachable host lost the lease with its process or will when its
     * host id lease expires: nothing left to release from here */
    json_decref(r);
    vr_store_dc_set_spm(e->db, str(dc, "id"), NULL, -1, -1, "uninitialized");
    if (host)
        vr_event(e, "normal", "", "datacenter", str(dc, "id"),
                 "data center '%s' has no master domain any more; host '%s' gave up the SPM role",
                 str(dc, "name"), str(host, "name"));
    json_decref(host);
}

/* The election and a master reconstruction (jobs/sdreconstruct.c) one at
 * a time: no SPM.start on the old master between the reconstruction's
 * checks and its rows naming the new one. */
static pthread_mutex_t election_lock = PTHREAD_MUTEX_INITIALIZER;

void vr_spm_election_lock(void)
{
    pthread_mutex_lock(&election_lock);
}

void vr_spm_election_unlock(void)
{
    pthread_mutex_unlock(&election_lock);
}

static void round_locked(vr_engine *e, json_t *dc);

void vr_spm_round(vr_engine *e, json_t *dc)
{
    vr_spm_election_lock();
    /* the row as it is now: a reconstruction may have moved the master
     * since the storage thread read it */
    json_t *now = vr_db_query_one(e->db, "SELECT master_domain_id, master_version FROM datacenters WHERE id = ?",
                                  DB_ARGS(DB_TEXT(str(dc, "id"))), NULL);
    if (now) {
        json_object_update(dc, now);
        round_locked(e, dc);
    }
    json_decref(now);
    vr_spm_election_unlock();
}

static void round_locked(vr_engine *e, json_t *dc)
{
    if (json_is_string(json_object_get(dc, "spm_host_id")) && current_spm_holds(e, dc))
        return;
    json_t *cands = vr_store_spm_candidates(e->db, str(dc, "id"));
    if (!cands)
        return;
    char why[600] = "no Up host may be SPM";
    long long last = json_integer_value(json_object_get(dc, "spm_id"));
    bool done = false;
    /* the last SPM first (ch. 2.9), then in the candidates' order */
    for (int pass = 0; pass < 2 && !done; pass++) {
        size_t i;
        json_t *h;
        json_array_foreach(cands, i, h) {
            if (!json_is_integer(json_object_get(h, "spm_id")))
                continue; /* no host id yet: its monitor has not connected it */
            bool is_last = json_integer_value(json_object_get(h, "spm_id")) == last;
            if (is_last != (pass == 0))
                continue;
            if ((done = try_host(e, dc, h, why, sizeof(why))))
                break;
            VR_DEBUG("data center %s: SPM.start refused: %s", str(dc, "name"), why);
        }
    }
    if (!done)
        set_status(e, dc, NULL, last, json_integer_value(json_object_get(dc, "spm_lver")),
                   json_array_size(cands) ? "contend" : "nonresponsive", why);
    json_decref(cands);
}
