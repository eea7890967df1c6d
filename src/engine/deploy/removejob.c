#include "removejob.h"

#include <stdio.h>
#include <string.h>

#include "host_ssh.h"
#include "hostsetup.h"
#include "hostview.h"
#include "i18n.h"
#include "jobs.h"
#include "log.h"
#include "sshconn.h"
#include "store.h"

/* The removal job's description (a phrase of the catalog). */
#define REMOVE_DESC N_("clean the host over SSH and remove it")

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

bool vr_host_remove_busy(vr_engine *e, const char *host_id)
{
    json_t *busy = vr_db_query_one(e->db, "SELECT id FROM jobs WHERE object_type = 'host' AND object_id = ? AND"
                                   " action = 'remove' AND status IN ('pending', 'running')",
                                   DB_ARGS(DB_TEXT(host_id)), NULL);
    json_decref(busy);
    return busy != NULL;
}

/* Log in with the engine's key and clean the host; note says what was done. */
static int clean(vr_engine *e, const char *job_id, json_t *host, const char *user, char *note, size_t len,
                 vr_error *err)
{
    json_t *ssh = vr_host_ssh_of(json_object_get(host, "ssh"));
    const char *name = str(host, "name"), *addr = str(host, "address");
    int port = (int)json_integer_value(json_object_get(ssh, "port"));
    char msg[300];
    snprintf(msg, sizeof(msg), "connecting to %s:%d over SSH with the engine's key", addr, port);
    vr_job_update(e, job_id, "running", msg);
    vr_job_progress(e, job_id, 10);
    vr_ssh_target t = {.address = addr, .port = port, .key_file = e->ssh_key_file,
                       .fingerprint = str(ssh, "fingerprint"), .timeout_s = 30};
    char fp[128];
    vr_ssh *s = NULL;
    int rc = vr_ssh_open(&t, &s, fp, err);
    if (rc == 0) {
        vr_host_ssh_pin(e, str(host, "id"), fp, user);
        vr_job_update(e, job_id, "running", "stopping and purging vireo-agent, removing its key, certificate and"
                      " configuration");
        vr_job_progress(e, job_id, 30);
        rc = vr_setup_clean(s, name, note, len, err);
    }
    vr_ssh_close(s);
    json_decref(ssh);
    return rc;
}

static void run_remove(vr_engine *e, const char *job_id, const char *host_id, const char *user)
{
    json_t *job = vr_db_query_one(e->db, "SELECT params_json FROM jobs WHERE id = ?", DB_ARGS(DB_TEXT(job_id)), NULL);
    bool force = json_is_true(json_object_get(json_object_get(job, "params"), "force"));
    json_decref(job);
    json_t *host = vr_db_query_one(e->db, "SELECT id, name, address, status, ssh_json FROM hosts WHERE id = ?",
                                   DB_ARGS(DB_TEXT(host_id)), NULL);
    if (!host) { /* removed before an engine restart cut the job short */
        vr_job_update(e, job_id, "finished", "the host is removed");
        return;
    }
    const char *name = str(host, "name");
    vr_error err = {0};
    char note[600] = "", msg[900];
    if (clean(e, job_id, host, user, note, sizeof(note), &err) < 0) {
        if (!force) {
            snprintf(msg, sizeof(msg), "cleaning host '%s' failed, the host is kept (remove it with force=true to"
                     " forget it without cleaning): %s", name, err.message);
            vr_event(e, "error", user, "host", host_id, "%s", msg);
            vr_job_update(e, job_id, "failed", msg);
            VR_WARN("job %s: %s", job_id, msg);
            json_decref(host);
            return;
        }
        snprintf(note, sizeof(note), "not cleaned (force): %s", err.message);
        vr_event(e, "warning", user, "host", host_id, "host '%s' could not be cleaned and is removed anyway (force):"
                 " %s; vireo-agent and its certificate may still be on it (the certificate is revoked)", name,
                 err.message);
    } else {
        vr_event(e, "normal", user, "host", host_id, "host '%s': %s", name, note);
    }
    vr_job_update(e, job_id, "running", "removing the host from the engine and revoking its certificate");
    vr_job_progress(e, job_id, 90);
    vr_error_clear(&err);
    if (vr_store_hosts.remove(e, host, &err) < 0) {
        snprintf(msg, sizeof(msg), "host '%s' could not be removed: %s", name, err.message);
        vr_event(e, "error", user, "host", host_id, "%s", msg);
        vr_job_update(e, job_id, "failed", msg);
    } else {
        vr_hostview_refresh(e->view, e->db, host_id);
        vr_event(e, "normal", user, "host", host_id, "host removed");
        snprintf(msg, sizeof(msg), "host '%s' removed; %s", name, note);
        vr_job_update(e, job_id, "finished", msg);
    }
    VR_INFO("job %s (removal of host %s): %s", job_id, name, msg);
    json_decref(host);
}

int vr_host_remove_submit(vr_engine *e, json_t *row, bool force, const char *user, char job_id[37], vr_error *err)
{
    const char *id = str(row, "id"), *name = str(row, "name");
    json_t *h = vr_db_query_one(e->db, "SELECT ssh_json FROM hosts WHERE id = ?", DB_ARGS(DB_TEXT(id)), NULL);
    bool known = h && json_is_object(json_object_get(h, "ssh"));
    json_decref(h);
    if (!known)
        return vr_error_set(err, VR_ERR_BAD_STATE, "host '%s' has no SSH access recorded (its ssh member): set it"
                            " (PUT ssh {port, fingerprint}) or remove the host without clean", name);
    json_t *busy = vr_db_query_one(e->db, "SELECT id, action FROM jobs WHERE object_type = 'host' AND object_id = ?"
                                   " AND action IN ('install', 'enrollcertificate', 'remove') AND status IN"
                                   " ('pending', 'running')", DB_ARGS(DB_TEXT(id)), NULL);
    if (busy) {
        vr_error_set(err, VR_ERR_BAD_STATE, "job %s (%s) is already under way for host '%s'", str(busy, "id"),
                     str(busy, "action"), name);
        json_decref(busy);
        return -1;
    }
    vr_uuid_new(job_id);
    long long now = vr_now();
    char params[64];
    snprintf(params, sizeof(params), "{\"clean\": true, \"force\": %s}", force ? "true" : "false");
    if (vr_db_exec(e->db, "INSERT INTO jobs (id, action, object_type, object_id, status, user_name, description,"
                   " params_json, created_at, updated_at) VALUES (?, 'remove', 'host', ?, 'pending', ?, ?, ?, ?, ?)",
                   DB_ARGS(DB_TEXT(job_id), DB_TEXT(id), DB_TEXT(user), DB_TEXT(REMOVE_DESC), DB_TEXT(params),
                           DB_INT(now), DB_INT(now)), err) < 0 ||
        vr_job_describe(e, job_id, REMOVE_DESC, err) < 0)
        return -1;
    vr_job_spawn(e, job_id, id, user, run_remove);
    return 0;
}

bool vr_host_remove_resume(vr_engine *e, json_t *r)
{
    if (strcmp(str(r, "action"), "remove") || strcmp(str(r, "object_type"), "host"))
        return false;
    VR_INFO("resuming job %s (removal of host %s)", str(r, "id"), str(r, "object_id"));
    vr_job_update(e, str(r, "id"), "pending", "resumed after an engine restart");
    vr_job_spawn(e, str(r, "id"), str(r, "object_id"), str(r, "user_name"), run_remove);
    return true;
}
