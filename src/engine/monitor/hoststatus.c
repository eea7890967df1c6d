#include "hoststatus.h"

#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "i18n.h"

const char *const vr_host_status_names[VR_HOST_NSTATUS] = {
    [VR_HOST_INSTALLING] = "installing", [VR_HOST_UP] = "up", [VR_HOST_CONNECTING] = "connecting",
    [VR_HOST_NONRESPONSIVE] = "nonresponsive", [VR_HOST_MAINTENANCE] = "maintenance",
    [VR_HOST_NONOPERATIONAL] = "nonoperational", [VR_HOST_PREPARING] = "preparingformaintenance",
    [VR_HOST_INITIALIZING] = "initializing", [VR_HOST_INSTALLFAILED] = "installfailed",
    [VR_HOST_KDUMPING] = "kdumping"};

int vr_host_status_parse(const char *s)
{
    for (int i = 0; s && i < VR_HOST_NSTATUS; i++)
        if (!strcmp(s, vr_host_status_names[i]))
            return i;
    return -1;
}

/* The UPDATE for each target: its WHERE holds the allowed from-states. */
#define MONITORED " AND status NOT IN ('maintenance', 'preparingformaintenance', 'installfailed')" \
                  " AND NOT " VR_HOST_DEPLOYING_SQL
static const char *const transition_sql[VR_HOST_NSTATUS] = {
    [VR_HOST_INSTALLING] = "UPDATE hosts SET status = 'installing', status_detail = ? WHERE id = ?"
                           " AND status IN ('maintenance', 'preparingformaintenance')",
    [VR_HOST_UP] = "UPDATE hosts SET status = 'up', status_detail = ? WHERE id = ?" MONITORED,
    [VR_HOST_CONNECTING] = "UPDATE hosts SET status = 'connecting', status_detail = ? WHERE id = ?" MONITORED,
    [VR_HOST_NONRESPONSIVE] = "UPDATE hosts SET status = 'nonresponsive', status_detail = ? WHERE id = ?"
                              " AND status != 'maintenance'",
    /* No VM may be left on a host in maintenance: checked in the same
     * statement, so a start or migration racing the maintenance job
     * cannot slip in between. */
    [VR_HOST_MAINTENANCE] = "UPDATE hosts SET status = 'maintenance', status_detail = ? WHERE id = ?"
                            " AND status = 'preparingformaintenance'"
                            " AND NOT EXISTS (SELECT 1 FROM vms WHERE host_id = hosts.id AND status != 'down')",
    [VR_HOST_NONOPERATIONAL] = "UPDATE hosts SET status = 'nonoperational', status_detail = ? WHERE id = ?"
                               MONITORED,
    [VR_HOST_PREPARING] = "UPDATE hosts SET status = 'preparingformaintenance', status_detail = ? WHERE id = ?"
                          " AND status NOT IN ('maintenance', 'preparingformaintenance')",
    /* Only the deploy job moves a host out of installing this way. */
    [VR_HOST_INITIALIZING] = "UPDATE hosts SET status = 'initializing', status_detail = ? WHERE id = ?"
                             " AND status = 'installing'",
    [VR_HOST_INSTALLFAILED] = "UPDATE hosts SET status = 'installfailed', status_detail = ? WHERE id = ?"
                              " AND status = 'installing'",
    [VR_HOST_KDUMPING] = "UPDATE hosts SET status = 'kdumping', status_detail = ? WHERE id = ?"
                         " AND status IN ('nonresponsive', 'connecting')",
};

/* The detail also as a message id and arguments, rendered per reader
 * (api/kinds_hosts.c): as this thread's vr_i18n_format or error wrote it,
 * else the text is its own id (a phrase of the catalog, or English). */
static void detail_ids(vr_engine *e, const char *host_id, const char *detail)
{
    json_t *m = *detail ? vr_i18n_recall(detail) : NULL;
    const char *id = m ? json_string_value(json_object_get(m, "id")) : *detail ? detail : NULL;
    char *args = m ? json_dumps(json_object_get(m, "args"), JSON_COMPACT) : *detail ? strdup("[]") : NULL;
    vr_db_exec(e->db, "UPDATE hosts SET status_detail_id = ?, status_detail_args = ? WHERE id = ?",
               DB_ARGS(id ? DB_TEXT(id) : DB_NULL, args ? DB_TEXT(args) : DB_NULL, DB_TEXT(host_id)), NULL);
    free(args);
    json_decref(m);
}

int vr_host_set_status(vr_engine *e, const char *host_id, vr_host_status to, const char *detail,
                       const char *user, vr_error *err)
{
    vr_error local = {0};
    if (!err)
        err = &local;
    json_t *before = vr_db_query_one(e->db, "SELECT name, status, status_detail FROM hosts WHERE id = ?",
                                     DB_ARGS(DB_TEXT(host_id)), err);
    if (!before)
        return err->code ? -1 : vr_error_set(err, VR_ERR_NOT_FOUND, "no host with id '%s'", host_id);
    const char *name = json_string_value(json_object_get(before, "name")) ?: "?";
    const char *from = json_string_value(json_object_get(before, "status")) ?: "?";
    int n = vr_db_exec(e->db, transition_sql[to], DB_ARGS(DB_TEXT(detail), DB_TEXT(host_id)), err);
    if (n > 0)
        detail_ids(e, host_id, detail);
    int rc = 0;
    if (n < 0) {
        rc = -1;
    } else if (n == 0) {
        if (to == VR_HOST_MAINTENANCE && !strcmp(from, "preparingformaintenance")) {
            json_t *cnt = vr_db_query_one(e->db, "SELECT count(*) AS n FROM vms WHERE host_id = ?"
                                          " AND status != 'down'", DB_ARGS(DB_TEXT(host_id)), NULL);
            rc = vr_error_set(err, VR_ERR_BAD_STATE, "host '%s' still runs %lld VM(s)", name,
                              (long long)json_integer_value(json_object_get(cnt, "n")));
            json_decref(cnt);
        } else {
            rc = vr_error_set(err, VR_ERR_BAD_STATE,
                              to == VR_HOST_INSTALLING
                                  ? N_("host '%s' is %s; only a host in or preparing for maintenance can be activated")
                              : to == VR_HOST_PREPARING ? N_("host '%s' is %s; it is already in or preparing for maintenance")
                                                        : N_("host '%s' is %s; its status is kept"),
                              name, from);
        }
    } else if (strcmp(from, vr_host_status_names[to])) {
        const char *sev = to == VR_HOST_UP || to == VR_HOST_MAINTENANCE || to == VR_HOST_INSTALLING ||
                          to == VR_HOST_PREPARING || to == VR_HOST_INITIALIZING ? "normal"
                          : to == VR_HOST_INSTALLFAILED ? "error" : "warning";
        if (to == VR_HOST_MAINTENANCE)
            vr_event(e, sev, user ? user : "", "host", host_id, "host '%s' moved to maintenance", name);
        else if (to == VR_HOST_PREPARING)
            vr_event(e, sev, user ? user : "", "host", host_id,
                     *detail ? N_("host '%s' is preparing for maintenance: %s") : N_("host '%s' is preparing for maintenance"),
                     name, detail);
        else if (user && *user && to == VR_HOST_INSTALLING)
            vr_event(e, sev, user, "host", host_id, "host '%s' activated", name);
        else
            vr_event(e, sev, user ? user : "", "host", host_id, *detail ? N_("host '%s' is %s: %s") : N_("host '%s' is %s"),
                     name, vr_host_status_names[to], detail);
    }
    json_decref(before);
    return rc;
}

int vr_host_set_reinstalling(vr_engine *e, const char *host_id, const char *user, vr_error *err)
{
    const char *detail = N_("reinstalling");
    int n = vr_db_exec(e->db, "UPDATE hosts SET status = 'installing', status_detail = ?, status_detail_id = ?,"
                       " status_detail_args = '[]' WHERE id = ? AND status IN ('maintenance', 'installfailed')",
                       DB_ARGS(DB_TEXT(detail), DB_TEXT(detail), DB_TEXT(host_id)), err);
    json_t *row = vr_db_query_one(e->db, "SELECT name, status FROM hosts WHERE id = ?", DB_ARGS(DB_TEXT(host_id)),
                                  NULL);
    const char *name = json_string_value(json_object_get(row, "name")) ?: "?";
    int rc = n < 0 ? -1 : 0;
    if (n == 0 && !row)
        rc = vr_error_set(err, VR_ERR_NOT_FOUND, "no host with id '%s'", host_id);
    else if (n == 0)
        rc = vr_error_set(err, VR_ERR_BAD_STATE, "host '%s' is %s; only a host in maintenance or installfailed can"
                          " be reinstalled", name, json_string_value(json_object_get(row, "status")) ?: "?");
    else if (n > 0)
        vr_event(e, "normal", user ? user : "", "host", host_id, "host '%s' is being reinstalled", name);
    json_decref(row);
    return rc;
}
