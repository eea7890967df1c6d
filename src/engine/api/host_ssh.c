#include "host_ssh.h"

#include <stdlib.h>
#include <string.h>

#include "jsonx.h"

json_t *vr_host_ssh_of(json_t *stored)
{
    json_t *out = json_pack("{s:i, s:s, s:b}", "port", 22, "fingerprint", "", "soft_fencing", 0);
    if (json_is_object(stored)) /* with auth, for a host the engine installed */
        json_object_update(out, stored);
    return out;
}

/* "" (pin at the first contact) or "SHA256:" and unpadded base64, as
 * ssh-keygen -l prints it. */
static bool valid_fingerprint(const char *f)
{
    if (!*f)
        return true;
    size_t n = strlen(f);
    return n > 7 && n < 100 && !strncmp(f, "SHA256:", 7) &&
           strspn(f + 7, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") == n - 7;
}

int vr_host_ssh_check(vr_call *c, json_t *b, const char *host_id, vr_error *err)
{
    static const char *const members[] = {"port", "fingerprint", "soft_fencing"};
    json_t *given = json_object_get(b, "ssh");
    if (!given)
        return 0;
    if (!json_is_object(given))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "body.ssh must be an object {\"port\", \"fingerprint\","
                            " \"soft_fencing\"}");
    if (vr_json_check_keys(given, "body.ssh", VR_NAMES(members), err) < 0)
        return -1;
    json_t *port = json_object_get(given, "port"), *fp = json_object_get(given, "fingerprint"),
           *soft = json_object_get(given, "soft_fencing");
    if (port && (!json_is_integer(port) || json_integer_value(port) < 1 || json_integer_value(port) > 65535))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "body.ssh.port must be from 1 to 65535");
    if (fp && (!json_is_string(fp) || !valid_fingerprint(json_string_value(fp))))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "body.ssh.fingerprint must be \"\" or \"SHA256:...\" as"
                            " ssh-keygen -l prints it");
    if (soft && !json_is_boolean(soft))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "body.ssh.soft_fencing must be a boolean");
    json_t *row = host_id ? vr_db_query_one(c->e->db, "SELECT ssh_json FROM hosts WHERE id = ?",
                                            DB_ARGS(DB_TEXT(host_id)), NULL) : NULL;
    json_t *out = vr_host_ssh_of(json_object_get(row, "ssh"));
    json_decref(row);
    json_object_update_existing(out, given);
    json_object_set_new(b, "ssh", out);
    return 0;
}

void vr_host_ssh_pin(vr_engine *e, const char *host_id, const char *fingerprint, const char *user)
{
    if (!fingerprint || !*fingerprint)
        return;
    json_t *row = vr_db_query_one(e->db, "SELECT name, ssh_json FROM hosts WHERE id = ?", DB_ARGS(DB_TEXT(host_id)),
                                  NULL);
    json_t *ssh = vr_host_ssh_of(json_object_get(row, "ssh"));
    const char *stored = json_string_value(json_object_get(ssh, "fingerprint"));
    if (row && stored && !*stored) {
        json_object_set_new(ssh, "fingerprint", json_string(fingerprint));
        char *text = json_dumps(ssh, JSON_COMPACT);
        int n = text ? vr_db_exec(e->db, "UPDATE hosts SET ssh_json = ? WHERE id = ?",
                                  DB_ARGS(DB_TEXT(text), DB_TEXT(host_id)), NULL) : -1;
        if (n > 0)
            vr_event(e, "normal", user ? user : "", "host", host_id, "SSH host key of host '%s' pinned at the first"
                     " contact: %s (later logins must show it)", json_string_value(json_object_get(row, "name")) ?: "?",
                     fingerprint);
        free(text);
    }
    json_decref(ssh);
    json_decref(row);
}
