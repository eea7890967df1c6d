/* POST /api/vms/ID/ticket (docs/rest-api.md "Consoles"). */
#include "console.h"

#include <stdio.h>
#include <string.h>

#include "agentcall.h"
#include "names.h"
#include "ticket.h"
#include "i18n.h"

const vr_field vr_console_ticket_params[] = {
    {"console", VR_FT_ENUM, VR_F_CREATE, .values = VR_STRS("serial", "graphics"),
     .doc = "Which console: the serial console (default) or the graphical one (VNC)."},
    {"seconds", VR_FT_INT, VR_F_CREATE, 1, 300, .doc = "How long the ticket may wait for its one use; default 30."},
};
const size_t vr_console_ticket_nparams = VR_ARRAY_SIZE(vr_console_ticket_params);

/* A spec member of the VM row (kept in its spec document). */
static bool spec_flag(json_t *vm, const char *key, bool dflt)
{
    json_t *v = json_object_get(vm, key);
    if (!v)
        v = json_object_get(json_object_get(vm, "spec"), key);
    return v ? json_is_true(v) : dflt;
}

int vr_console_ticket(vr_call *c, json_t *vm, json_t *body, json_t **reply, vr_error *err)
{
    const char *id = json_string_value(json_object_get(vm, "id"));
    const char *name = json_string_value(json_object_get(vm, "name"));
    const char *status = json_string_value(json_object_get(vm, "status")) ?: "down";
    const char *console = json_string_value(json_object_get(body, "console")) ?: "serial";
    int seconds = (int)json_integer_value(json_object_get(body, "seconds")) ?: 30;
    bool graphics = !strcmp(console, "graphics");
    if (!json_string_value(json_object_get(vm, "host_id")) || !strcmp(status, "down") ||
        !strcmp(status, "waitforlaunch"))
        return vr_error_set(err, VR_ERR_BAD_STATE, "VM '%s' is %s; it has a console only while it runs", name,
                            status);
    if (graphics ? !spec_flag(vm, "vnc", false) : !spec_flag(vm, "serial_console", true))
        return vr_error_set(err, VR_ERR_BAD_STATE, "VM '%s' has no %s console (its %s is false)", name, console,
                            graphics ? "vnc" : "serial_console");
    vr_ticket t = {0};
    char ticket[VR_TICKET_LEN + 1];
    snprintf(t.vm_id, sizeof(t.vm_id), "%s", id);
    snprintf(t.user, sizeof(t.user), "%s", c->user);
    snprintf(t.console, sizeof(t.console), "%s", console);
    if (graphics) {
        /* The VNC password is the ticket itself, expiring with it; a ticket
         * the host did not take is voided at once. */
        if (vr_ticket_issue(&t, seconds, ticket) < 0)
            return vr_error_set(err, VR_ERR_INTERNAL, "no randomness for a console ticket");
        json_t *host = vr_db_query_one(c->e->db, "SELECT h.name AS name, h.address AS address, h.port AS port"
                                       " FROM hosts h JOIN vms v ON v.host_id = h.id WHERE v.id = ?",
                                       DB_ARGS(DB_TEXT(id)), err);
        json_t *res = NULL;
        int rc = host ? vr_agent_call_host(c->e, host, "VM.setTicket",
                                           json_pack("{s:s, s:s, s:i}", "uuid", id, "ticket", ticket,
                                                     "seconds", seconds), &res, err)
                      : -1;
        if (!host && !err->code)
            vr_error_set(err, VR_ERR_BAD_STATE, "VM '%s' no longer runs on a host", name);
        if (rc < 0) {
            char why[512];
            vr_i18n_format(why, sizeof(why), "%s", err->message);
            vr_error_set(err, err->code == VR_ERR_UNSUPPORTED ? VR_ERR_BAD_STATE : err->code,
                         "cannot set the console ticket of VM '%s' on host '%s': %s", name,
                         json_string_value(json_object_get(host, "name")) ?: "?", why);
        }
        json_decref(host);
        /* VNC on the display network (an address that is not loopback):
         * the proxy connects there, the ticket still its password. */
        const char *listen = json_string_value(json_object_get(res, "listen"));
        json_int_t port = json_integer_value(json_object_get(res, "port"));
        if (rc == 0 && listen && port > 0 && port < 65536 && strncmp(listen, "127.", 4) && strcmp(listen, "::1"))
            vr_ticket_set_display(ticket, listen, (int)port);
        json_decref(res);
        if (rc < 0) {
            vr_ticket dummy;
            vr_ticket_take(ticket, id, NULL, &dummy); /* void the ticket the host did not take */
            return -1;
        }
    } else if (vr_ticket_issue(&t, seconds, ticket) < 0) {
        return vr_error_set(err, VR_ERR_INTERNAL, "no randomness for a console ticket");
    }
    char url[160];
    snprintf(url, sizeof(url), "/api/vms/%s/console?ticket=%s", id, ticket);
    vr_event(c->e, "normal", c->user, "vm", id, "%s console ticket for VM '%s' issued (valid %d s)",
             graphics ? "graphics" : "serial", name, seconds);
    *reply = json_pack("{s:s, s:s, s:I, s:i, s:s}", "ticket", ticket, "console", console, "expires_at",
                       (json_int_t)(t.expires_ms / 1000), "seconds", seconds, "url", url);
    return *reply ? 0 : vr_error_set(err, VR_ERR_INTERNAL, "out of memory");
}
