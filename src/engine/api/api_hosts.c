/* /api/hosts: adding hosts (the engine then monitors their agents),
 * maintenance. */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "hostmon.h"
#include "hostview.h"
#include "jsonx.h"

#define HOST_SELECT                                                                          \
    "SELECT id, name, description, cluster_id, address, port, status, status_detail, last_seen," \
    " capabilities_json, stats_json, created_at FROM hosts"

static const char *const host_keys[] = {"name", "description", "cluster_id", "address", "port", NULL};
static const api_field host_fields[] = {
    {"name", "lower(name) LIKE ? ESCAPE '\\'", true, true, false},
    {"status", "status = ?", false, true, false},
    {"cluster", "cluster_id IN (SELECT id FROM clusters WHERE lower(name) LIKE ? ESCAPE '\\')", true, true, false},
    {NULL, NULL, false, false, false}};

static json_t *get_host(vr_engine *e, vr_http_resp *resp, const char *id)
{
    json_t *row = vr_db_query_one(e->db, HOST_SELECT " WHERE id = ?", DB_ARGS(DB_TEXT(id)), NULL);
    if (!row)
        vr_http_fault(resp, 404, "Not Found", "no host with id '%s'", id);
    return row;
}

static bool valid_address(const char *a)
{
    size_t n = strlen(a);
    return n > 0 && n < 254 && strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:") == n;
}

static void add_host(vr_engine *e, vr_http_req *r, vr_http_resp *resp)
{
    vr_error err = {0};
    json_t *b = api_body(r, resp, host_keys);
    const char *name = NULL, *desc = "", *cluster = NULL, *addr = NULL;
    long long port = 54321;
    char id[37];
    if (!b)
        return;
    if (vr_json_str(b, "body", "name", true, &name, &err) < 0 ||
        vr_json_str(b, "body", "description", false, &desc, &err) < 0 ||
        vr_json_str(b, "body", "cluster_id", true, &cluster, &err) < 0 ||
        vr_json_str(b, "body", "address", true, &addr, &err) < 0 ||
        vr_json_int(b, "body", "port", false, 1, 65535, &port, &err) < 0) {
        api_error(resp, &err);
    } else if (api_check_name(resp, name) < 0) {
    } else if (!valid_address(addr)) {
        vr_http_fault(resp, 400, "Bad Request", "address must be an IP address or DNS name");
    } else {
        json_t *cl = vr_db_query_one(e->db, "SELECT id FROM clusters WHERE id = ?",
                                     DB_ARGS(DB_TEXT(cluster)), NULL);
        vr_uuid_new(id);
        if (!cl)
            vr_http_fault(resp, 400, "Bad Request", "no cluster with id '%s'", cluster);
        else if (vr_db_exec(e->db, "INSERT INTO hosts (id, name, description, cluster_id, address, port,"
                            " status, created_at) VALUES (?,?,?,?,?,?, 'installing', ?)",
                            DB_ARGS(DB_TEXT(id), DB_TEXT(name), DB_TEXT(desc), DB_TEXT(cluster),
                                    DB_TEXT(addr), DB_INT(port), DB_INT(vr_now())), &err) < 0)
            api_error(resp, &err);
        else {
            vr_event(e, "normal", r->user, "host", id, "host '%s' (%s:%lld) added", name, addr, port);
            vr_hostview_refresh(e->view, e->db, id);
            vr_hostmon_add(e, id, &err);
            json_t *row = get_host(e, resp, id);
            if (row)
                api_entity(resp, row, "hosts", true);
        }
        json_decref(cl);
    }
    json_decref(b);
}

static int running_vms(vr_engine *e, const char *host_id)
{
    json_t *row = vr_db_query_one(e->db, "SELECT count(*) AS n FROM vms WHERE host_id = ?"
                                  " AND status != 'down'", DB_ARGS(DB_TEXT(host_id)), NULL);
    int n = row ? (int)json_integer_value(json_object_get(row, "n")) : 0;
    json_decref(row);
    return n;
}

void api_hosts(vr_engine *e, vr_http_req *r, vr_http_resp *resp, const char *id, const char *action)
{
    vr_error err = {0};
    bool post = !strcmp(r->method, "POST");
    if (!id && !strcmp(r->method, "GET"))
        return api_list(e, r, resp, "hosts", HOST_SELECT, host_fields, NULL);
    if (!id && post)
        return add_host(e, r, resp);
    if (!id)
        return (void)vr_http_fault(resp, 405, "Method Not Allowed", "use GET or POST");
    json_t *h = get_host(e, resp, id);
    if (!h)
        return;
    const char *name = json_string_value(json_object_get(h, "name"));
    if (action && post && !strcmp(action, "deactivate")) {
        int n = running_vms(e, id);
        if (n > 0)
            vr_http_fault(resp, 409, "Conflict",
                          "host '%s' still runs %d VM(s); stop them first (no migration yet)", name, n);
        else {
            vr_db_exec(e->db, "UPDATE hosts SET status = 'maintenance', status_detail = '' WHERE id = ?",
                       DB_ARGS(DB_TEXT(id)), NULL);
            vr_event(e, "normal", r->user, "host", id, "host '%s' moved to maintenance", name);
            json_t *row = get_host(e, resp, id);
            if (row)
                api_entity(resp, row, "hosts", false);
        }
    } else if (action && post && !strcmp(action, "activate")) {
        /* The monitor decides what comes next (up, nonoperational...). */
        if (vr_db_exec(e->db, "UPDATE hosts SET status = 'installing', status_detail = 'activating'"
                       " WHERE id = ? AND status = 'maintenance'", DB_ARGS(DB_TEXT(id)), NULL) != 1)
            vr_http_fault(resp, 409, "Conflict", "host '%s' is not in maintenance", name);
        else {
            vr_event(e, "normal", r->user, "host", id, "host '%s' activated", name);
            json_t *row = get_host(e, resp, id);
            if (row)
                api_entity(resp, row, "hosts", false);
        }
    } else if (action) {
        vr_http_fault(resp, 404, "Not Found", "no host action '%s' for %s", action, r->method);
    } else if (!strcmp(r->method, "GET")) {
        api_entity(resp, json_incref(h), "hosts", false);
    } else if (!strcmp(r->method, "DELETE")) {
        if (strcmp(json_string_value(json_object_get(h, "status")), "maintenance"))
            vr_http_fault(resp, 409, "Conflict", "host '%s' must be in maintenance to be removed", name);
        else if (vr_db_exec(e->db, "DELETE FROM hosts WHERE id = ?", DB_ARGS(DB_TEXT(id)), &err) < 0)
            err.code == VR_ERR_BAD_STATE
                ? vr_http_fault(resp, 409, "Conflict", "host '%s' is still referenced by VMs", name)
                : api_error(resp, &err);
        else {
            vr_event(e, "normal", r->user, "host", id, "host '%s' removed", name);
            resp->status = 204;
        }
    } else if (!strcmp(r->method, "PUT")) {
        static const char *const put_keys[] = {"name", "description", NULL};
        json_t *b = api_body(r, resp, put_keys);
        const char *desc = json_string_value(json_object_get(h, "description"));
        if (b && (vr_json_str(b, "body", "name", false, &name, &err) < 0 ||
                  vr_json_str(b, "body", "description", false, &desc, &err) < 0))
            api_error(resp, &err);
        else if (b && api_check_name(resp, name) == 0) {
            if (vr_db_exec(e->db, "UPDATE hosts SET name = ?, description = ? WHERE id = ?",
                           DB_ARGS(DB_TEXT(name), DB_TEXT(desc), DB_TEXT(id)), &err) < 0)
                api_error(resp, &err);
            else {
                json_t *row = get_host(e, resp, id);
                if (row)
                    api_entity(resp, row, "hosts", false);
            }
        }
        json_decref(b);
    } else {
        vr_http_fault(resp, 405, "Method Not Allowed", "method not allowed on a host");
    }
    /* Status, name or existence may have changed: the scheduler's copy follows. */
    if (strcmp(r->method, "GET"))
        vr_hostview_refresh(e->view, e->db, id);
    json_decref(h);
}
