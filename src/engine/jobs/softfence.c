#include "softfence.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentcall.h"
#include "host_ssh.h"
#include "log.h"
#include "sshconn.h"

/* The agent's systemd unit (packaging/systemd/vireo-agent.service). */
#define SOFT_FENCE_COMMAND "systemctl restart vireo-agent.service"
/* The SSH connection and the restart (systemd waits for the old agent to
 * stop) may take this long each. */
#define SOFT_FENCE_SSH_TIMEOUT_S 30
/* How long a restarted agent has to answer before the host is hard-fenced. */
#define SOFT_FENCE_ANSWER_S 30

bool vr_soft_fence_enabled(vr_engine *e, const char *host_id)
{
    json_t *row = vr_db_query_one(e->db, "SELECT ssh_json FROM hosts WHERE id = ?", DB_ARGS(DB_TEXT(host_id)), NULL);
    bool on = json_is_true(json_object_get(json_object_get(row, "ssh"), "soft_fencing"));
    json_decref(row);
    return on;
}

static bool agent_answers(vr_engine *e, const char *address, int port)
{
    json_t *res = NULL;
    vr_error err = {0};
    int rc = vr_agent_call(e, address, port, "Host.ping", NULL, &res, &err);
    json_decref(res);
    return rc == 0;
}

int vr_soft_fence_run(vr_engine *e, const char *host_id, const char *user, char *detail, size_t len, vr_error *err)
{
    json_t *h = vr_db_query_one(e->db, "SELECT name, address, port, ssh_json FROM hosts WHERE id = ?",
                                DB_ARGS(DB_TEXT(host_id)), err);
    if (!h)
        return err->code ? -1 : vr_error_set(err, VR_ERR_NOT_FOUND, "no host with id '%s'", host_id);
    const char *hname = json_string_value(json_object_get(h, "name"));
    const char *address = json_string_value(json_object_get(h, "address"));
    json_t *ssh = vr_host_ssh_of(json_object_get(h, "ssh"));
    int rc = -1;
    if (!json_is_true(json_object_get(ssh, "soft_fencing"))) {
        vr_error_set(err, VR_ERR_BAD_STATE, "soft fencing of host '%s' is off (its ssh.soft_fencing)", hname);
        goto out;
    }
    vr_ssh_target t = {.address = address, .port = (int)json_integer_value(json_object_get(ssh, "port")),
                       .key_file = e->ssh_key_file,
                       .fingerprint = json_string_value(json_object_get(ssh, "fingerprint")),
                       .timeout_s = SOFT_FENCE_SSH_TIMEOUT_S};
    vr_event(e, "warning", user, "host", host_id, "soft fencing of host '%s': restarting its agent over SSH (%s:%d)",
             hname, address, t.port);
    vr_ssh *s = NULL;
    char fp[128] = "", *out = NULL;
    int status = -1;
    if (vr_ssh_open(&t, &s, fp, err) < 0)
        goto failed;
    if (!*t.fingerprint)
        vr_host_ssh_pin(e, host_id, fp, "");
    if (vr_ssh_run(s, SOFT_FENCE_COMMAND, &out, &status, err) < 0)
        goto failed;
    if (status != 0) {
        size_t n = out ? strlen(out) : 0;
        vr_error_set(err, VR_ERR_IO, "`%s` on host '%s' exited with %d: %s", SOFT_FENCE_COMMAND, hname, status,
                     n > 300 ? out + n - 300 : out ? out : "");
        goto failed;
    }
    vr_event(e, "normal", user, "host", host_id, "soft fencing of host '%s': its agent was restarted (%s); waiting"
             " up to %d s for it to answer", hname, SOFT_FENCE_COMMAND, SOFT_FENCE_ANSWER_S);
    int port = (int)json_integer_value(json_object_get(h, "port"));
    for (int i = 0; i < SOFT_FENCE_ANSWER_S && !e->stopping; i++) {
        if (agent_answers(e, address, port)) {
            snprintf(detail, len, "soft fencing of host '%s': its agent was restarted over SSH and answers again",
                     hname);
            vr_event(e, "normal", user, "host", host_id, "%s; not fenced", detail);
            rc = 0;
            goto close;
        }
        sleep(1);
    }
    vr_error_set(err, VR_ERR_UNAVAILABLE, "the agent of host '%s' was restarted over SSH but does not answer after"
                 " %d s", hname, SOFT_FENCE_ANSWER_S);
failed:
    vr_event(e, "warning", user, "host", host_id, "soft fencing of host '%s' failed: %s", hname, err->message);
close:
    free(out);
    vr_ssh_close(s);
out:
    json_decref(ssh);
    json_decref(h);
    return rc;
}
