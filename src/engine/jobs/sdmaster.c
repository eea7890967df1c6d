/* Moving the master role (docs/storage.md "Moving the master role"): the
 * master data domain put into maintenance (or lost: inactive) while its
 * data center has another active data domain. The SPM moves its SDM lease and the pool's
 * master keys to the new master (SPM.moveMaster); then one transaction
 * swaps the rows and the old master is in maintenance. The storage decides
 * what happened when the answer was lost (agent killed, engine restarted):
 * the new master's metadata says Master with a higher MASTER_VERSION than
 * the old one's once the SPM has moved. */
#include "sdmaster.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agentcall.h"
#include "i18n.h"
#include "log.h"
#include "sdjobs.h"
#include "sdreconstruct.h"
#include "store_spm.h"
#include "store_storage.h"

/* How long a move waits for an SPM that can move the role, in all. */
#define MOVE_LIMIT_S 300
/* How long a reconstructed master's job waits for the election to name
 * the new SPM (for its event only: the rows are switched already). */
#define RECONSTRUCT_SPM_S 120

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

static json_t *job_params(vr_engine *e, const char *job_id)
{
    json_t *row = vr_db_query_one(e->db, "SELECT params_json FROM jobs WHERE id = ?", DB_ARGS(DB_TEXT(job_id)), NULL);
    json_t *p = json_incref(json_object_get(row, "params"));
    json_decref(row);
    return p ? p : json_object();
}

/* Whether storage says the move is done: `from` readable and Regular,
 * `to` Master, both of this pool, `to`'s master version not below
 * `from`'s (SPM.moveMaster writes both alike, `to` first). Asked of one Up
 * host of the data center that answers. An unreadable old master proves
 * nothing (a former master put back may say Master with any version):
 * then only the SPM's own answer counts. */
static bool moved_on_storage(vr_engine *e, json_t *p)
{
    json_t *hosts = NULL;
    const char *pool = str(p, "datacenter");
    if (vr_db_query(e->db, "SELECT h.id, h.name, h.address, h.port FROM hosts h JOIN clusters c ON c.id ="
                    " h.cluster_id WHERE c.datacenter_id = ? AND h.status = 'up' ORDER BY h.name",
                    DB_ARGS(DB_TEXT(pool)), &hosts, NULL) < 0)
        return false;
    bool moved = false;
    size_t i;
    json_t *h;
    json_array_foreach(hosts, i, h) {
        json_t *to = NULL, *from = NULL;
        vr_error err = {0};
        if (vr_agent_call_host(e, h, "Storage.info", json_pack("{s:s}", "domain", str(p, "to")), &to, &err) < 0 ||
            vr_agent_call_host(e, h, "Storage.info", json_pack("{s:s}", "domain", str(p, "from")), &from, &err) < 0) {
            json_decref(to);
            json_decref(from);
            continue;
        }
        json_t *tm = json_object_get(to, "metadata"), *fm = json_object_get(from, "metadata");
        long long tv = -1, fv = 0;
        sscanf(str(tm, "MASTER_VERSION"), "%lld", &tv);
        sscanf(str(fm, "MASTER_VERSION"), "%lld", &fv);
        moved = json_is_true(json_object_get(from, "valid")) && json_is_true(json_object_get(to, "valid")) &&
                !strcmp(str(tm, "ROLE"), "Master") && !strcmp(str(fm, "ROLE"), "Regular") &&
                !strcmp(str(tm, "POOL_UUID"), pool) && !strcmp(str(fm, "POOL_UUID"), pool) && tv >= fv;
        json_decref(to);
        json_decref(from);
        break;
    }
    json_decref(hosts);
    return moved;
}

/* The rows follow storage: `to` the master, `from` in maintenance. */
static int commit_move(vr_engine *e, json_t *p, vr_error *err)
{
    if (vr_db_begin(e->db, err) < 0)
        return -1;
    int n = vr_db_exec(e->db, "UPDATE datacenters SET master_domain_id = ? WHERE id = ? AND master_domain_id = ?",
                       DB_ARGS(DB_TEXT(str(p, "to")), DB_TEXT(str(p, "datacenter")), DB_TEXT(str(p, "from"))), err);
    /* a lost master stays inactive: autorecovery brings it back, regular */
    bool lost = json_is_true(json_object_get(p, "lost"));
    if (n >= 0)
        n = vr_db_exec(e->db, "UPDATE storage_domains SET master = 0, status = ? WHERE id = ?",
                       DB_ARGS(DB_TEXT(lost ? "inactive" : "maintenance"), DB_TEXT(str(p, "from"))), err);
    if (n >= 0)
        n = vr_db_exec(e->db, "UPDATE storage_domains SET master = 1 WHERE id = ?", DB_ARGS(DB_TEXT(str(p, "to"))),
                       err);
    if (n < 0) {
        vr_db_rollback(e->db);
        return -1;
    }
    return vr_db_commit(e->db, err);
}

/* After a reconstruction: the election makes an SPM on the new master
 * (the storage thread's next rounds); the event names it, or says none
 * is yet. */
static void reconstructed(vr_engine *e, const char *job_id, json_t *p, long long version, const char *user)
{
    const char *dc = str(p, "datacenter");
    json_t *d = NULL;
    for (long long start = vr_now(); !e->stopping && vr_now() - start < RECONSTRUCT_SPM_S; sleep(2)) {
        d = vr_db_query_one(e->db, "SELECT h.name AS spm FROM datacenters d JOIN hosts h ON h.id = d.spm_host_id"
                            " WHERE d.id = ? AND d.storage_status = 'up' AND d.master_domain_id = ?",
                            DB_ARGS(DB_TEXT(dc), DB_TEXT(str(p, "to"))), NULL);
        if (d)
            break;
    }
    if (d)
        vr_event(e, "warning", user, "datacenter", dc, "the master of data center '%s' was reconstructed on storage"
                 " domain '%s' (master version %lld): '%s' was lost with its SPM; host '%s' is the new SPM",
                 str(p, "dc_name"), str(p, "to_name"), version, str(p, "from_name"), str(d, "spm"));
    else
        vr_event(e, "warning", user, "datacenter", dc, "the master of data center '%s' was reconstructed on storage"
                 " domain '%s' (master version %lld): '%s' was lost with its SPM; no host is SPM yet",
                 str(p, "dc_name"), str(p, "to_name"), version, str(p, "from_name"));
    vr_job_update(e, job_id, "finished", "");
    json_decref(d);
}

static void run_move(vr_engine *e, const char *job_id, const char *sd_id, const char *user)
{
    vr_error err = {0};
    json_t *p = job_params(e, job_id);
    const char *dc = str(p, "datacenter");
    char step[300];
    vr_i18n_format(step, sizeof(step), "moving the master role to storage domain '%s'", str(p, "to_name"));
    vr_job_update(e, job_id, "running", step);
    vr_job_progress(e, job_id, 10);
    bool done = false, lost = json_is_true(json_object_get(p, "lost"));
    long long version = 0;
    char blocked[600] = "";
    for (long long start = vr_now(); !done; sleep(2)) {
        vr_error_clear(&err);
        json_t *spm = vr_storage_spm_host(e, dc, &err);
        json_t *d = vr_db_query_one(e->db, "SELECT spm_id, storage_status FROM datacenters WHERE id = ?",
                                    DB_ARGS(DB_TEXT(dc)), NULL);
        if (spm && !strcmp(str(d, "storage_status"), "up") && !strcmp(str(spm, "status"), "up")) {
            json_t *r = NULL;
            if (vr_agent_call_host(e, spm, "SPM.moveMaster",
                                   json_pack("{s:s, s:s, s:s, s:I}", "pool", dc, "from", str(p, "from"), "to",
                                             str(p, "to"), "host_id",
                                             json_integer_value(json_object_get(d, "spm_id"))), &r, &err) == 0) {
                done = true;
                vr_store_dc_raise_master_version(e->db, dc, json_integer_value(json_object_get(r, "master_version")));
            }
            else
                VR_DEBUG("data center %s: SPM.moveMaster on %s: %s", dc, str(spm, "name"), err.message);
            json_decref(r);
        }
        json_decref(d);
        json_decref(spm);
        /* The SPM lost on the way (its agent killed after it moved the
         * role: the old master is Regular on storage and no host may be SPM
         * there any more): storage tells. */
        if (!done && moved_on_storage(e, p))
            done = true;
        /* No SPM to move it: the lost master is reconstructed on `to`
         * once no host can be SPM on it any more. */
        if (!done && lost && !e->stopping &&
            (version = vr_sd_master_reconstruct(e, p, blocked, sizeof(blocked))) > 0)
            break;
        if (!done && lost && blocked[0])
            VR_DEBUG("data center %s: no master reconstruction yet: %s", dc, blocked);
        if (done || e->stopping)
            break;
        /* A bad state may pass (the new master's lockspace still being
         * joined after its activation): retried for a minute. */
        bool refused = err.code && err.code != VR_ERR_IO && err.code != VR_ERR_NOT_SPM &&
                       err.code != VR_ERR_LEASE_HELD && err.code != VR_ERR_STORAGE &&
                       (err.code != VR_ERR_BAD_STATE || vr_now() - start >= 60);
        if (refused || vr_now() - start >= MOVE_LIMIT_S || vr_job_cancel_requested(e, job_id)) {
            if (!err.code && blocked[0])
                vr_error_set(&err, VR_ERR_BAD_STATE, "the data center has no SPM after %d s and its master cannot"
                             " be reconstructed: %s", MOVE_LIMIT_S, blocked);
            else if (!err.code)
                vr_error_set(&err, VR_ERR_BAD_STATE, "the data center has no SPM after %d s (no up host could take"
                             " the SPM role; see its hosts and events)", MOVE_LIMIT_S);
            break;
        }
    }
    if (version > 0) {
        reconstructed(e, job_id, p, version, user);
        json_decref(p);
        return;
    }
    if (e->stopping && !done) { /* the next start resumes it */
        json_decref(p);
        return;
    }
    if (done && commit_move(e, p, &err) == 0) {
        vr_event(e, "normal", user, "datacenter", dc,
                 "the master role of data center '%s' moved from storage domain '%s' to '%s'",
                 str(p, "dc_name"), str(p, "from_name"), str(p, "to_name"));
        if (!json_is_true(json_object_get(p, "lost")))
            vr_event(e, "normal", user, "storagedomain", sd_id, "storage domain '%s' moved to maintenance",
                     str(p, "from_name"));
        vr_job_update(e, job_id, "finished", "");
    } else {
        vr_db_exec(e->db, "UPDATE storage_domains SET status = ? WHERE id = ? AND status = 'locked'",
                   DB_ARGS(DB_TEXT(json_is_true(json_object_get(p, "lost")) ? "inactive" : "active"),
                           DB_TEXT(sd_id)), NULL);
        vr_event(e, "error", user, "storagedomain", sd_id, "moving the master role of data center '%s' to storage"
                 " domain '%s' failed: %s", str(p, "dc_name"), str(p, "to_name"), err.message);
        vr_job_update(e, job_id, vr_job_cancel_requested(e, job_id) ? "cancelled" : "failed", err.message);
    }
    json_decref(p);
}

static int move_submit(vr_engine *e, json_t *sd, bool lost, const char *user, char job_id[37], vr_error *err)
{
    const char *id = str(sd, "id"), *name = str(sd, "name"), *dc_id = str(sd, "datacenter_id");
    if (vr_db_begin(e->db, err) < 0)
        return -1;
    /* the new master: the active data domain with the most free space */
    json_t *to = vr_db_query_one(e->db, "SELECT id, name FROM storage_domains WHERE datacenter_id = ? AND id != ?"
                                 " AND sd_type = 'data' AND status = 'active' ORDER BY free_bytes DESC, id LIMIT 1",
                                 DB_ARGS(DB_TEXT(dc_id), DB_TEXT(id)), err);
    json_t *dc = vr_db_query_one(e->db, "SELECT name FROM datacenters WHERE id = ?", DB_ARGS(DB_TEXT(dc_id)), err);
    int rc = to && dc ? 0 : err->code ? -1 : vr_error_set(err, VR_ERR_CONFLICT, "storage domain '%s' is the master"
                                                           " and no other data domain of its data center is active",
                                                           name);
    if (rc == 0 && vr_db_exec(e->db, "UPDATE storage_domains SET status = 'locked' WHERE id = ? AND master = 1 AND"
                              " status IN ('active', 'inactive')", DB_ARGS(DB_TEXT(id)), err) != 1)
        rc = err->code ? -1 : vr_error_set(err, VR_ERR_CONFLICT, "storage domain '%s' changed meanwhile", name);
    vr_uuid_new(job_id);
    char desc[300];
    vr_i18n_format(desc, sizeof(desc), "Move storage domain '%s' to maintenance, the master role to '%s'", name,
             str(to, "name"));
    if (lost)
        vr_i18n_format(desc, sizeof(desc), "Move the master role from lost storage domain '%s' to '%s'", name,
                 str(to, "name"));
    json_t *params = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "datacenter", dc_id, "dc_name",
                               str(dc, "name"), "from", id, "from_name", name, "to", str(to, "id"), "to_name",
                               str(to, "name"), "lost", lost);
    if (rc == 0 && lost)
        vr_event(e, "warning", "", "datacenter", dc_id, "master storage domain '%s' of data center '%s' is lost (no"
                 " host sees it): moving the master role to '%s'", name, str(dc, "name"), str(to, "name"));
    json_decref(to);
    json_decref(dc);
    return vr_storage_job_submit(e, rc, job_id, "movemaster", "storagedomain", id, desc, params, user, run_move,
                                 err);
}

int vr_sd_master_move_submit(vr_engine *e, json_t *sd, const char *user, char job_id[37], vr_error *err)
{
    return move_submit(e, sd, false, user, job_id, err);
}

void vr_sd_master_lost_round(vr_engine *e, json_t *dc)
{
    /* inactive (no Up host has seen it valid for longer than the grace),
     * another data domain active, no move of it under way */
    json_t *sd = vr_db_query_one(e->db, "SELECT s.id AS id, s.name AS name, s.status AS status, s.datacenter_id AS"
                                 " datacenter_id FROM storage_domains s WHERE s.id = ? AND s.status = 'inactive' AND"
                                 " EXISTS (SELECT 1 FROM storage_domains o WHERE o.datacenter_id = s.datacenter_id AND"
                                 " o.id != s.id AND o.sd_type = 'data' AND o.status = 'active') AND NOT EXISTS"
                                 " (SELECT 1 FROM jobs j WHERE j.object_id = s.id AND j.action = 'movemaster' AND"
                                 " j.status IN ('pending', 'running'))",
                                 DB_ARGS(DB_TEXT(str(dc, "master_domain_id"))), NULL);
    char job[37];
    vr_error err = {0};
    if (sd && move_submit(e, sd, true, "", job, &err) < 0)
        VR_DEBUG("data center %s: moving the master role off lost domain %s: %s", str(dc, "name"), str(sd, "name"),
                 err.message);
    json_decref(sd);
}

void vr_sd_master_move_resume(vr_engine *e, json_t *job)
{
    VR_INFO("job %s (master move of storage domain %s) resumed after an engine restart", str(job, "id"),
            str(job, "object_id"));
    vr_job_spawn(e, str(job, "id"), str(job, "object_id"), str(job, "user_name"), run_move);
}
