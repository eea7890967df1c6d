/* Hosts: added by the API, then watched by their monitors (monitor/). The
 * scheduler's host view follows every write. */
#include <string.h>

#include "deployjob.h"
#include "fault.h"
#include "host_pm.h"
#include "host_ssh.h"
#include "hostmon.h"
#include "hoststatus.h"
#include "hostview.h"
#include "kind.h"
#include "maintenance.h"
#include "removejob.h"
#include "setupnet.h"

static int host_check_update(vr_call *c, json_t *row, json_t *b, vr_error *err)
{
    const char *id = json_string_value(json_object_get(row, "id"));
    return vr_host_pm_check(c, b, id, err) < 0 || vr_host_ssh_check(c, b, id, err) < 0 ? -1 : 0;
}

static int host_check_create(vr_call *c, json_t *b, vr_error *err)
{
    /* ssh with a password or use_engine_key: install the host (a job);
     * without: only how to reach it over SSH (soft fencing). */
    json_t *ssh = json_object_get(b, "ssh");
    bool deploy = vr_deploy_wanted(ssh);
    if (vr_host_pm_check(c, b, NULL, err) < 0 || (!deploy && vr_host_ssh_check(c, b, NULL, err) < 0))
        return -1;
    const char *a = json_string_value(json_object_get(b, "address"));
    size_t n = strlen(a);
    if (!(n > 0 && n < 254 && strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:") == n))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "address must be an IP address or DNS name");
    if (deploy && vr_deploy_check_ssh(ssh, NULL, err) < 0)
        return -1;
    /* Installed twice: the second would install over the first's agent. */
    json_t *dup = !deploy ? NULL : vr_db_query_one(c->e->db, "SELECT name FROM hosts WHERE lower(address) = lower(?)"
                                                   " AND port = ?", DB_ARGS(DB_TEXT(a),
                                                   DB_INT(json_integer_value(json_object_get(b, "port")))), NULL);
    if (dup) {
        vr_error_set(err, VR_ERR_CONFLICT, "host '%s' is already at %s:%lld",
                     json_string_value(json_object_get(dup, "name")) ?: "?", a,
                     (long long)json_integer_value(json_object_get(b, "port")));
        json_decref(dup);
        return -1;
    }
    return 0;
}

/* A host with an ssh member is installed by a job (deploy/deployjob.h);
 * one without joins as before: its agent is already there. */
static int host_create_job(vr_call *c, const char *id, json_t *body, char job_id[37], vr_error *err)
{
    json_t *ssh = json_object_get(body, "ssh");
    bool deploy = vr_deploy_wanted(ssh);
    json_t *row = json_deep_copy(body);
    if (deploy) /* never the password */
        json_object_set_new(row, "ssh", vr_deploy_stored_ssh(ssh));
    int rc = vr_store_hosts.insert(c->e, id, row, err);
    json_decref(row);
    if (rc < 0 || !deploy)
        return rc;
    if (vr_deploy_submit(c->e, id, "install", ssh, c->user, job_id, err) < 0) {
        vr_db_exec(c->e->db, "DELETE FROM hosts WHERE id = ?", DB_ARGS(DB_TEXT(id)), NULL);
        return -1;
    }
    return 0;
}

static void host_after_write(vr_call *c, const char *id, const char *what)
{
    /* Status, name or existence changed: the scheduler's copy follows. */
    vr_hostview_refresh(c->e->view, c->e->db, id);
    if (!strcmp(what, "created")) {
        vr_error err = {0};
        /* Installed by a job: this is its one creation event. Without one
         * (answered 201) the dispatcher's "was created by" is (audit.c). */
        json_t *row = vr_db_query_one(c->e->db, "SELECT name, address, port FROM hosts WHERE id = ? AND EXISTS"
                                      " (SELECT 1 FROM jobs WHERE object_id = hosts.id)", DB_ARGS(DB_TEXT(id)), NULL);
        if (row)
            vr_event(c->e, "normal", c->user, "host", id, "host '%s' (%s:%lld) added",
                     json_string_value(json_object_get(row, "name")) ?: "?",
                     json_string_value(json_object_get(row, "address")) ?: "?",
                     (long long)json_integer_value(json_object_get(row, "port")));
        json_decref(row);
        vr_hostmon_add(c->e, id, &err);
    } /* the update and removal events are the dispatcher's (audit.c) */
}

/* From maintenance, or after a failed install (nothing runs on it). */
static int host_check_delete(vr_call *c, json_t *row, vr_error *err)
{
    const char *st = json_string_value(json_object_get(row, "status")) ?: "";
    if (strcmp(st, "maintenance") && strcmp(st, "installfailed"))
        return vr_error_set(err, VR_ERR_BAD_STATE, "host '%s' must be in maintenance (or installfailed) to be"
                            " removed", json_string_value(json_object_get(row, "name")));
    return 0;
}

/* DELETE ?clean=true[&force=true]: a job cleans the host over SSH, then
 * removes it (deploy/removejob.h); without clean the row goes at once. */
static int host_remove_job(vr_call *c, json_t *row, char job[37], vr_error *err)
{
    const char *clean = vr_http_arg(c->req, "clean"), *force = vr_http_arg(c->req, "force");
    if ((clean && strcmp(clean, "true") && strcmp(clean, "false")) ||
        (force && strcmp(force, "true") && strcmp(force, "false")))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "clean and force must be true or false");
    bool wipe = clean && !strcmp(clean, "true");
    if (force && !wipe)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "force is for clean=true only");
    if (wipe)
        return vr_host_remove_submit(c->e, row, force && !strcmp(force, "true"), c->user, job, err);
    return vr_store_hosts.remove(c->e, row, err);
}

static int reply_host(vr_call *c, const char *id, json_t **reply, vr_error *err)
{
    vr_hostview_refresh(c->e->view, c->e->db, id);
    *reply = vr_kind_get(c->e, c->kind, id, err);
    return *reply ? 0 : -1;
}

/* Maintenance is a job (docs/availability.md): the host prepares for it
 * while its VMs migrate away. */
static int host_deactivate(vr_call *c, json_t *row, json_t *body, json_t **reply, vr_error *err)
{
    char job[37];
    if (vr_maint_submit(c->e, row, c->user, job, err) < 0)
        return -1;
    *reply = json_pack("{s:s}", "job_id", job);
    return 0;
}

static int host_activate(vr_call *c, json_t *row, json_t *body, json_t **reply, vr_error *err)
{
    const char *id = json_string_value(json_object_get(row, "id"));
    if (vr_host_remove_busy(c->e, id))
        return vr_error_set(err, VR_ERR_BAD_STATE, "host '%s' is being cleaned and removed (a job)",
                            json_string_value(json_object_get(row, "name")));
    /* The monitor decides what comes next (up, nonoperational...); a
     * maintenance job under way sees the host leave preparingformaintenance
     * and stops. */
    if (vr_host_set_status(c->e, id, VR_HOST_INSTALLING, "activating", c->user, err) < 0)
        return -1;
    return reply_host(c, id, reply, err);
}

/* Reinstall or enroll: body.ssh says how to log in this time; the port
 * and the pinned host key are the stored ones unless given. */
static int host_deploy_action(vr_call *c, json_t *row, json_t *body, const char *action, json_t **reply,
                              vr_error *err)
{
    json_t *ssh = json_object_get(body, "ssh");
    json_t *stored = json_object_get(row, "ssh");
    if (!ssh || vr_deploy_check_ssh(ssh, json_is_object(stored) ? stored : NULL, err) < 0)
        return ssh ? -1 : vr_error_set(err, VR_ERR_INVALID_PARAMS, "body.ssh is required");
    char job[37];
    if (vr_deploy_submit(c->e, json_string_value(json_object_get(row, "id")), action, ssh, c->user, job, err) < 0)
        return -1;
    *reply = json_pack("{s:s}", "job_id", job);
    return 0;
}

static int host_install(vr_call *c, json_t *row, json_t *body, json_t **reply, vr_error *err)
{
    const char *st = json_string_value(json_object_get(row, "status")) ?: "";
    if (strcmp(st, "maintenance") && strcmp(st, "installfailed"))
        return vr_error_set(err, VR_ERR_BAD_STATE, "host '%s' is %s; only a host in maintenance or installfailed can"
                            " be reinstalled", json_string_value(json_object_get(row, "name")), st);
    return host_deploy_action(c, row, body, "install", reply, err);
}

static int host_enroll(vr_call *c, json_t *row, json_t *body, json_t **reply, vr_error *err)
{
    return host_deploy_action(c, row, body, "enrollcertificate", reply, err);
}

static const vr_field host_deploy_params[] = {
    {"ssh", VR_FT_JSON, VR_F_REQ | VR_F_CREATE, .schema = "HostSsh",
     .doc = "How to log in: root's password or use_engine_key; port and fingerprint default to the stored ones."},
};

/* Passwords out; the SSH access with its defaults when never set. */
static void host_present(vr_engine *e, json_t *row)
{
    vr_host_pm_present(e, row);
    json_object_set_new(row, "ssh", vr_host_ssh_of(json_object_get(row, "ssh")));
    vr_kind_render(row, "status_detail", "status_detail_id", "status_detail_args");
    /* Its OS as its agent last reported it (null: not yet, or an agent too
     * old to say); the InClusterUpgrade policy compares them. */
    json_t *os = json_object_get(json_object_get(row, "capabilities"), "os");
    json_object_set_new(row, "os", json_is_object(os) ? json_deep_copy(os) : json_null());
}

static const vr_action host_actions[] = {
    {"deactivate", "Move a host to maintenance (a job: it is preparingformaintenance while its VMs migrate away and"
     " it gives up the SPM role; refused when a VM on it cannot migrate)", true, host_deactivate, NULL, 0},
    {"activate", "Bring a host back from maintenance, or end a maintenance in progress", false, host_activate, NULL,
     0},
    {"setupnetworks", "Attach networks to the host's NICs, remove them, make bonds (a job: the host confirms over a"
     " new connection or rolls back; docs/networks.md)", true, vr_setupnet_action, vr_setupnet_params,
     VR_SETUPNET_NPARAMS},
    {"fence", "Ask the host's power state, or power it on, off or off and on, through its fence agents run by a"
     " proxy host (a job; docs/fencing.md)", true, vr_host_fence_action, vr_host_fence_params, VR_HOST_FENCE_NPARAMS},
    {"install", "Reinstall a host in maintenance or installfailed over SSH (a job: packages, a new key made on the"
     " host and its certificate, the agent; docs/operations.md)", true, host_install, host_deploy_params, 1},
    {"enrollcertificate", "Make a new key on the host and sign its certificate, then restart its agent; the host"
     " stays up (a job; docs/pki.md)", true, host_enroll, host_deploy_params, 1},
};

static const vr_field host_fields[] = {
    {"id", VR_FT_ID, 0, .doc = NULL},
    {"name", VR_FT_NAME, VR_F_REQ | VR_F_CREATE | VR_F_UPDATE | VR_F_SORT, .doc = NULL},
    {"description", VR_FT_STR, VR_F_CREATE | VR_F_UPDATE, 0, 4096, .dflt = "\"\""},
    {"cluster_id", VR_FT_REF, VR_F_REQ | VR_F_CREATE, .ref = "clusters"},
    {"address", VR_FT_STR, VR_F_REQ | VR_F_CREATE, 1, 253, .schema = "^[A-Za-z0-9.:-]+$",
     .doc = "IP address or DNS name of the host's agent."},
    {"port", VR_FT_INT, VR_F_CREATE, 1, 65535, .dflt = "54321", .doc = "The agent's TCP port."},
    {"status", VR_FT_ENUM, VR_F_SORT, .values = {vr_host_status_names, VR_HOST_NSTATUS}},
    {"status_detail", VR_FT_STR, 0, .doc = "Why the host is in its status; empty when there is nothing to say."},
    {"last_seen", VR_FT_TIME, 0, .doc = "Time of the last successful poll (epoch seconds); 0 = never."},
    {"spm_priority", VR_FT_INT, VR_F_CREATE | VR_F_UPDATE, -1, 10, .dflt = "5",
     .doc = "Preference for the SPM role of its data center: higher first; -1 never."},
    {"spm", VR_FT_ENUM, 0, .values = VR_STRS("none", "spm"), .doc = "'spm' while it is its data center's SPM."},
    {"capabilities", VR_FT_JSON, VR_F_NULL, .schema = "HostCapabilities"},
    {"os", VR_FT_JSON, VR_F_NULL, .schema = "HostOs",
     .doc = "Its operating system as its agent reports it (capabilities.os); null until it has answered a poll."},
    {"stats", VR_FT_JSON, VR_F_NULL, .schema = "HostStats"},
    {"created_at", VR_FT_TIME, VR_F_SORT, .doc = NULL},
    {"power_management", VR_FT_JSON, VR_F_CREATE | VR_F_UPDATE, .schema = "HostPowerManagement",
     .dflt = "{\"enabled\": false, \"kdump_detection\": true, \"agents\": []}",
     .doc = "Its fence agents, run by a proxy host to fence it (docs/fencing.md); passwords are never shown."},
    {"ssh", VR_FT_JSON, VR_F_CREATE | VR_F_UPDATE, .schema = "HostSsh",
     .dflt = "{\"port\": 22, \"fingerprint\": \"\", \"soft_fencing\": false}",
     .doc = "SSH access as root. At create, with root's password or use_engine_key: install the host over SSH (a"
            " job; docs/operations.md; the password is never stored). The pinned host key, and soft_fencing: the"
            " engine's key may restart the agent of a host that stops answering (docs/fencing.md). Shown as {port,"
            " fingerprint, soft_fencing} and auth for an installed host."},
};

const vr_kind vr_kind_hosts = {
    .collection = "hosts", .type = "host", .title = "host", .schema = "Host", .tag = "Hosts",
    .store = &vr_store_hosts, .fields = host_fields, .nfields = VR_ARRAY_SIZE(host_fields),
    .actions = host_actions, .nactions = VR_ARRAY_SIZE(host_actions), .parent = "clusters", .parent_field = "cluster_id",
    .delete_in_use = "it is still referenced by VMs",
    .check_create = host_check_create, .check_delete = host_check_delete, .remove_job = host_remove_job, .after_write = host_after_write,
    .check_update = host_check_update, .present = host_present, .create_job = host_create_job,
    .create_job_maybe = true,
};
