/* VM power actions (stop, shutdown, reboot, pause, resume) as jobs: the
 * API answers 202 at once and a job thread talks to the VM's host, so no
 * API thread ever waits on an agent. Each action is one row of the table
 * below: the agent verb, the status the VM takes when the host accepted
 * it, and the rule after an engine restart. */
#include "vmaction.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentcall.h"
#include "agentjob.h"
#include "jobs.h"
#include "log.h"
#include "vmmigrate.h"
#include "vmsuspend.h"
#include "i18n.h"

typedef struct vm_action {
    const char *action, *verb, *title; /* title: the job's description, of the VM's name */
    const char *new_status; /* after the host accepted it (NULL: unchanged) */
    bool rerun;             /* resumed after a restart by running it again (idempotent) */
} vm_action;

static const vm_action actions[] = {
    {"stop", "VM.destroy", N_("Stop VM '%s'"), "down", true},
    {"shutdown", "VM.shutdown", N_("Shut down VM '%s'"), "poweringdown", false},
    {"reboot", "VM.reboot", N_("Reboot VM '%s'"), NULL, false},
    {"pause", "VM.pause", N_("Pause VM '%s'"), "paused", false},
    {"resume", "VM.cont", N_("Resume VM '%s'"), "up", false},
};

static const vm_action *find(const char *name)
{
    for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
        if (!strcmp(actions[i].action, name))
            return &actions[i];
    return NULL;
}

static void run_action(vr_engine *e, const char *job_id, const char *vm_id, const char *user)
{
    json_t *job = vr_db_query_one(e->db, "SELECT action FROM jobs WHERE id = ?", DB_ARGS(DB_TEXT(job_id)), NULL);
    const vm_action *a = find(json_string_value(json_object_get(job, "action")) ?: "");
    json_decref(job);
    if (!a)
        return;
    if (vr_job_cancel_requested(e, job_id)) {
        vr_job_update(e, job_id, "cancelled", "cancelled before it was sent to the host");
        return;
    }
    vr_error err = {0};
    json_t *vm = vr_db_query_one(e->db, "SELECT v.name AS name, v.host_id AS host_id, h.name AS host,"
                                 " h.address AS address, h.port AS port FROM vms v"
                                 " LEFT JOIN hosts h ON h.id = v.host_id WHERE v.id = ?",
                                 DB_ARGS(DB_TEXT(vm_id)), &err);
    const char *name = json_string_value(json_object_get(vm, "name")) ?: vm_id;
    const char *host = json_string_value(json_object_get(vm, "host"));
    if (!vm || !host) {
        vr_job_update(e, job_id, "failed", vm ? N_("the VM no longer runs on a host") : err.code ? err.message
                                                                                        : N_("the VM is gone"));
        json_decref(vm);
        return;
    }
    char step[160];
    vr_i18n_format(step, sizeof(step), "asking host '%s'", host);
    vr_job_update(e, job_id, "running", step);
    vr_job_progress(e, job_id, 10);
    /* A stop asked for is the user's, whatever the host reports when the
     * VM ends (a highly available VM is not restarted after it). */
    bool stopping = !strcmp(a->action, "stop") || !strcmp(a->action, "shutdown");
    if (stopping)
        vr_db_exec(e->db, "UPDATE vms SET stop_requested = 1 WHERE id = ?", DB_ARGS(DB_TEXT(vm_id)), NULL);
    json_t *res = NULL;
    int rc = vr_agent_call_host(e, vm, a->verb, json_pack("{s:s}", "uuid", vm_id), &res, &err);
    if (rc < 0 && stopping && err.code != VR_ERR_NO_VM && err.code != VR_ERR_IO) /* surely not stopping */
        vr_db_exec(e->db, "UPDATE vms SET stop_requested = 0 WHERE id = ?", DB_ARGS(DB_TEXT(vm_id)), NULL);
    /* A shutdown's wait for the guest is the agent's own job: followed. */
    const char *agent_job = json_string_value(json_object_get(res, "job"));
    char follow[64] = "";
    if (rc == 0 && agent_job) {
        snprintf(follow, sizeof(follow), "%s", agent_job);
        json_t *p = json_pack("{s:s}", "agent_job", follow);
        vr_job_params_store(e, job_id, p);
        json_decref(p);
    }
    long long timeout_s = json_integer_value(json_object_get(res, "timeout_s"));
    json_decref(res);
    if (rc < 0 && !(err.code == VR_ERR_NO_VM && !strcmp(a->action, "stop"))) {
        vr_event(e, "error", user, "vm", vm_id, "%s of VM '%s' failed on host '%s': %s", a->action, name, host,
                 err.message);
        vr_job_update(e, job_id, "failed", err.message);
        json_decref(vm);
        return;
    }
    /* Only while the VM is still where the job found it: a monitor that
     * saw it go meanwhile has the newer truth. */
    if (a->new_status)
        vr_db_exec(e->db, !strcmp(a->new_status, "down")
                              ? "UPDATE vms SET status = ?, host_id = NULL, stop_reason = 'user', stop_requested = 0"
                                " WHERE id = ? AND host_id = ?"
                              : "UPDATE vms SET status = ? WHERE id = ? AND host_id = ? AND status != 'down'",
                   DB_ARGS(DB_TEXT(a->new_status), DB_TEXT(vm_id),
                           DB_TEXT(json_string_value(json_object_get(vm, "host_id")))), NULL);
    vr_event(e, "normal", user, "vm", vm_id, "VM '%s': %s requested on host '%s'", name, a->action, host);
    if (*follow) {
        json_t *h = json_pack("{s:s, s:O, s:O}", "name", host, "address", json_object_get(vm, "address"), "port",
                              json_object_get(vm, "port"));
        vr_agent_job_follow(e, job_id, h, follow, (int)(timeout_s > 0 ? timeout_s : 60) + 60);
        json_decref(h);
    }
    else
        vr_job_update(e, job_id, "finished", "");
    json_decref(vm);
}

/* After an engine restart: a shutdown already handed to its host's job is
 * followed again where the VM runs. */
static void follow_again(vr_engine *e, const char *job_id, const char *vm_id, const char *user)
{
    json_t *row = vr_db_query_one(e->db, "SELECT j.params_json AS params_json, h.name AS name, h.address AS address,"
                                  " h.port AS port FROM jobs j, vms v LEFT JOIN hosts h ON h.id = v.host_id"
                                  " WHERE j.id = ? AND v.id = ?", DB_ARGS(DB_TEXT(job_id), DB_TEXT(vm_id)), NULL);
    const char *agent_job = json_string_value(json_object_get(json_object_get(row, "params"), "agent_job"));
    if (agent_job && json_string_value(json_object_get(row, "address")))
        vr_agent_job_follow(e, job_id, row, agent_job, 180);
    else
        vr_job_update(e, job_id, "failed", "interrupted by an engine restart; the VM has left its host");
    json_decref(row);
}

int vr_vm_action_submit(vr_engine *e, json_t *vm, const char *action, const char *user, char job_id[37],
                        vr_error *err)
{
    const vm_action *a = find(action);
    if (!a)
        return vr_error_set(err, VR_ERR_NOT_FOUND, "no VM action '%s'", action);
    const char *id = json_string_value(json_object_get(vm, "id"));
    const char *name = json_string_value(json_object_get(vm, "name"));
    const char *status = json_string_value(json_object_get(vm, "status"));
    if (!strcmp(status, "suspended") && !strcmp(action, "stop"))
        return vr_vm_discard_memory_submit(e, vm, user, job_id, err);
    if (!json_string_value(json_object_get(vm, "host_id")) || !strcmp(status, "down") ||
        !strcmp(status, "waitforlaunch"))
        return vr_error_set(err, VR_ERR_BAD_STATE, "VM '%s' is %s; it is not running on a host", name, status);
    if (!strcmp(status, "notresponding") && strcmp(action, "stop")) /* would wait on the hung QEMU */
        return vr_error_set(err, VR_ERR_BAD_STATE, "VM '%s' is not responding; only stop is possible", name);
    if (!strcmp(status, "migratingfrom") && strcmp(action, "stop")) /* the agent holds the VM's job */
        return vr_error_set(err, VR_ERR_BAD_STATE, "VM '%s' is migrating; cancel the migration or stop the VM", name);
    char desc[160];
    vr_i18n_format(desc, sizeof(desc), a->title, name);
    vr_uuid_new(job_id);
    /* One power action at a time per VM: the second gets 409 with the first's id. */
    if (vr_db_begin(e->db, err) < 0)
        return -1;
    /* Stop is always possible (the way out of a slow shutdown, as
     * libvirt's destroy needs no job either). */
    json_t *busy = !strcmp(action, "stop") ? NULL :
                   vr_db_query_one(e->db, "SELECT id, action FROM jobs WHERE object_id = ? AND status IN"
                                   " ('pending', 'running') AND action IN ('stop', 'shutdown', 'reboot', 'pause', 'resume')",
                                   DB_ARGS(DB_TEXT(id)), err);
    if (busy || err->code) {
        if (busy)
            vr_error_set(err, VR_ERR_BAD_STATE, "VM '%s' is busy with job %s (%s); wait for it or cancel it",
                         name, json_string_value(json_object_get(busy, "id")),
                         json_string_value(json_object_get(busy, "action")));
        json_decref(busy);
        vr_db_rollback(e->db);
        return -1;
    }
    if (vr_db_exec(e->db, "INSERT INTO jobs (id, action, object_type, object_id, status, user_name, description,"
                   " created_at, updated_at) VALUES (?, ?, 'vm', ?, 'pending', ?, ?, ?, ?)",
                   DB_ARGS(DB_TEXT(job_id), DB_TEXT(action), DB_TEXT(id), DB_TEXT(user), DB_TEXT(desc),
                           DB_INT(vr_now()), DB_INT(vr_now())), err) < 0 ||
        vr_job_describe(e, job_id, desc, err) < 0) {
        vr_db_rollback(e->db);
        return -1;
    }
    if (vr_db_commit(e->db, err) < 0)
        return -1;
    vr_job_spawn(e, job_id, id, user, run_action);
    return 0;
}

bool vr_vm_action_resume(vr_engine *e, json_t *r)
{
    if (vr_vm_migrate_resume(e, r))
        return true;
    const char *id = json_string_value(json_object_get(r, "id"));
    const vm_action *a = find(json_string_value(json_object_get(r, "action")) ?: "");
    if (!a)
        return false;
    bool sent = !strcmp(json_string_value(json_object_get(r, "status")) ?: "", "running");
    const char *vm = json_string_value(json_object_get(r, "object_id"));
    const char *user = json_string_value(json_object_get(r, "user_name"));
    /* Never sent: run it. Sent, outcome unknown: a stop is safe to send
     * again; a shutdown handed to its host's job is followed again; the
     * others are left to the host's monitor, which reports the VM's state. */
    if (sent && json_string_value(json_object_get(json_object_get(r, "params"), "agent_job"))) {
        VR_INFO("following job %s (%s) again", id, a->action);
        vr_job_spawn(e, id, vm, user, follow_again);
    } else if (!sent || a->rerun) {
        VR_INFO("resuming job %s (%s of VM %s)", id, a->action, vm);
        vr_job_update(e, id, "pending", "resumed after an engine restart");
        vr_job_spawn(e, id, vm, user, run_action);
    } else {
        vr_job_update(e, id, "failed", "interrupted by an engine restart after it was sent; the host's monitor"
                      " reports the VM's state");
    }
    return true;
}
