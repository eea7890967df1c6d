/* Data centers and clusters: plain CRUD. */
#include <string.h>

#include "api.h"
#include "jsonx.h"

static const char *const dc_keys[] = {"name", "description", NULL};
static const char *const cl_keys[] = {"name", "description", "datacenter_id", "cpu_type",
                                      "virt_mode", NULL};

#define DC_SELECT "SELECT id, name, description, created_at FROM datacenters"
#define CL_SELECT "SELECT id, name, description, datacenter_id, cpu_type, virt_mode, created_at FROM clusters"

static const api_field name_fields[] = {
    {"name", "lower(name) LIKE ? ESCAPE '\\'", true, true, false}, {NULL, NULL, false, false, false}};
static const api_field cl_fields[] = {
    {"name", "lower(name) LIKE ? ESCAPE '\\'", true, true, false},
    {"datacenter", "datacenter_id IN (SELECT id FROM datacenters WHERE lower(name) LIKE ? ESCAPE '\\')", true, true, false},
    {NULL, NULL, false, false, false}};

/* A cluster links to its data center. */
static void cluster_present(vr_engine *e, json_t *row)
{
    const char *dc = json_string_value(json_object_get(row, "datacenter_id"));
    char href[128];
    snprintf(href, sizeof(href), "/api/datacenters/%s", dc ? dc : "");
    json_object_set_new(row, "datacenter", json_pack("{s:s, s:s}", "id", dc ? dc : "", "href", href));
}

/* GET one row by id or answer 404. */
static json_t *get_one(vr_engine *e, vr_http_resp *resp, const char *select, const char *what,
                       const char *id)
{
    char sql[512];
    snprintf(sql, sizeof(sql), "%s WHERE id = ?", select);
    vr_error err = {0};
    json_t *row = vr_db_query_one(e->db, sql, DB_ARGS(DB_TEXT(id)), &err);
    if (!row) {
        if (err.code)
            api_error(resp, &err);
        else
            vr_http_fault(resp, 404, "Not Found", "no %s with id '%s'", what, id);
    } else if (!strcmp(select, CL_SELECT)) {
        cluster_present(e, row);
    }
    return row;
}

/* DELETE one row (freed here): 204, 409 when other rows still refer to it
 * (a foreign key), or the database's error. */
static void delete_row(vr_engine *e, vr_http_req *r, vr_http_resp *resp, const char *sql,
                       const char *type, const char *what, const char *in_use, json_t *row)
{
    vr_error err = {0};
    const char *id = json_string_value(json_object_get(row, "id"));
    const char *name = json_string_value(json_object_get(row, "name"));
    if (vr_db_exec(e->db, sql, DB_ARGS(DB_TEXT(id)), &err) >= 0) {
        vr_event(e, "normal", r->user, type, id, "%s '%s' removed", what, name);
        resp->status = 204;
    } else if (err.code == VR_ERR_BAD_STATE) {
        vr_http_fault(resp, 409, "Conflict", "cannot remove %s '%s': %s", what, name, in_use);
    } else {
        api_error(resp, &err);
    }
    json_decref(row);
}

static bool method_is(vr_http_req *r, const char *m) { return !strcmp(r->method, m); }

/* The name and description of a create body (row NULL: name required,
 * description "") or an update body (defaults from row). Answers 400 and
 * returns -1 when they are bad. */
static int name_desc(json_t *b, json_t *row, vr_http_resp *resp, const char **name, const char **desc)
{
    vr_error err = {0};
    *name = row ? json_string_value(json_object_get(row, "name")) : NULL;
    *desc = row ? json_string_value(json_object_get(row, "description")) : "";
    if (vr_json_str(b, "body", "name", !row, name, &err) < 0 ||
        vr_json_str(b, "body", "description", false, desc, &err) < 0)
        return api_error(resp, &err);
    return api_check_name(resp, *name);
}

/* Answer with the entity as it is stored now. */
static void reply_row(vr_engine *e, vr_http_resp *resp, const char *select, const char *what,
                      const char *id, const char *coll, bool created)
{
    json_t *row = get_one(e, resp, select, what, id);
    if (row)
        api_entity(resp, row, coll, created);
}

static void not_allowed(vr_http_resp *resp)
{
    vr_http_fault(resp, 405, "Method Not Allowed", "method not allowed on this resource");
}

void api_datacenters(vr_engine *e, vr_http_req *r, vr_http_resp *resp, const char *id, const char *action)
{
    vr_error err = {0};
    if (action)
        return (void)vr_http_fault(resp, 404, "Not Found", "data centers have no actions");
    if (!id && method_is(r, "GET"))
        return api_list(e, r, resp, "datacenters", DC_SELECT, name_fields, NULL);
    if (!id && method_is(r, "POST")) {
        json_t *b = api_body(r, resp, dc_keys);
        const char *name, *desc;
        char nid[37];
        if (!b)
            return;
        if (name_desc(b, NULL, resp, &name, &desc) == 0) {
            vr_uuid_new(nid);
            if (vr_db_exec(e->db, "INSERT INTO datacenters (id, name, description, created_at) VALUES (?,?,?,?)",
                           DB_ARGS(DB_TEXT(nid), DB_TEXT(name), DB_TEXT(desc), DB_INT(vr_now())), &err) < 0)
                api_error(resp, &err);
            else {
                vr_event(e, "normal", r->user, "datacenter", nid, "data center '%s' created", name);
                reply_row(e, resp, DC_SELECT, "data center", nid, "datacenters", true);
            }
        }
        json_decref(b);
        return;
    }
    if (!id)
        return not_allowed(resp);
    json_t *row = get_one(e, resp, DC_SELECT, "data center", id);
    if (!row)
        return;
    if (method_is(r, "GET"))
        return api_entity(resp, row, "datacenters", false);
    if (method_is(r, "PUT")) {
        json_t *b = api_body(r, resp, dc_keys);
        const char *name, *desc;
        if (b && name_desc(b, row, resp, &name, &desc) == 0) {
            if (vr_db_exec(e->db, "UPDATE datacenters SET name = ?, description = ? WHERE id = ?",
                           DB_ARGS(DB_TEXT(name), DB_TEXT(desc), DB_TEXT(id)), &err) < 0)
                api_error(resp, &err);
            else
                reply_row(e, resp, DC_SELECT, "data center", id, "datacenters", false);
        }
        json_decref(b);
        json_decref(row);
        return;
    }
    if (method_is(r, "DELETE")) {
        delete_row(e, r, resp, "DELETE FROM datacenters WHERE id = ?", "datacenter", "data center",
                   "it still has clusters", row);
        return;
    }
    json_decref(row);
    not_allowed(resp);
}

/* Validate cluster members present in b; fills the out pointers. */
static int cluster_fields(vr_engine *e, json_t *b, vr_http_resp *resp, const char **dc,
                          const char **cpu, const char **mode)
{
    static const char *const modes[] = {"any", "kvm", NULL};
    vr_error err = {0};
    if (vr_json_str(b, "body", "datacenter_id", false, dc, &err) < 0 ||
        vr_json_str(b, "body", "cpu_type", false, cpu, &err) < 0 ||
        vr_json_str(b, "body", "virt_mode", false, mode, &err) < 0)
        return api_error(resp, &err);
    if (*mode && !vr_str_in(*mode, VR_NAMES(modes)))
        return vr_http_fault(resp, 400, "Bad Request", "virt_mode must be 'any' or 'kvm'");
    if (*cpu && (strlen(*cpu) > 64 || !**cpu ||
                 strspn(*cpu, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != strlen(*cpu)))
        return vr_http_fault(resp, 400, "Bad Request", "cpu_type is not a valid CPU model name");
    if (*dc) {
        json_t *row = vr_db_query_one(e->db, "SELECT id FROM datacenters WHERE id = ?",
                                      DB_ARGS(DB_TEXT(*dc)), NULL);
        if (!row)
            return vr_http_fault(resp, 400, "Bad Request", "no data center with id '%s'", *dc);
        json_decref(row);
    }
    return 0;
}

void api_clusters(vr_engine *e, vr_http_req *r, vr_http_resp *resp, const char *id, const char *action)
{
    vr_error err = {0};
    if (action)
        return (void)vr_http_fault(resp, 404, "Not Found", "clusters have no actions");
    if (!id && method_is(r, "GET"))
        return api_list(e, r, resp, "clusters", CL_SELECT, cl_fields, cluster_present);
    if (!id && method_is(r, "POST")) {
        json_t *b = api_body(r, resp, cl_keys);
        const char *name, *desc, *dc = NULL, *cpu = "qemu64", *mode = "any";
        char nid[37];
        if (!b)
            return;
        if (name_desc(b, NULL, resp, &name, &desc) == 0 && cluster_fields(e, b, resp, &dc, &cpu, &mode) == 0) {
            if (!dc)
                vr_http_fault(resp, 400, "Bad Request", "body: missing required member 'datacenter_id'");
            else {
                vr_uuid_new(nid);
                if (vr_db_exec(e->db, "INSERT INTO clusters (id, name, description, datacenter_id, cpu_type,"
                               " virt_mode, created_at) VALUES (?,?,?,?,?,?,?)",
                               DB_ARGS(DB_TEXT(nid), DB_TEXT(name), DB_TEXT(desc), DB_TEXT(dc),
                                       DB_TEXT(cpu), DB_TEXT(mode), DB_INT(vr_now())), &err) < 0)
                    api_error(resp, &err);
                else {
                    vr_event(e, "normal", r->user, "cluster", nid, "cluster '%s' created", name);
                    reply_row(e, resp, CL_SELECT, "cluster", nid, "clusters", true);
                }
            }
        }
        json_decref(b);
        return;
    }
    if (!id)
        return not_allowed(resp);
    json_t *row = get_one(e, resp, CL_SELECT, "cluster", id);
    if (!row)
        return;
    if (method_is(r, "GET"))
        return api_entity(resp, row, "clusters", false);
    if (method_is(r, "PUT")) {
        json_t *b = api_body(r, resp, cl_keys);
        const char *name, *desc, *dc = NULL, *cpu = NULL, *mode = NULL;
        if (b && name_desc(b, row, resp, &name, &desc) == 0 &&
            cluster_fields(e, b, resp, &dc, &cpu, &mode) == 0) {
            if (dc && strcmp(dc, json_string_value(json_object_get(row, "datacenter_id"))))
                vr_http_fault(resp, 409, "Conflict", "a cluster cannot move to another data center");
            else if (vr_db_exec(e->db, "UPDATE clusters SET name = ?, description = ?,"
                                " cpu_type = coalesce(?, cpu_type), virt_mode = coalesce(?, virt_mode) WHERE id = ?",
                                DB_ARGS(DB_TEXT(name), DB_TEXT(desc), cpu ? DB_TEXT(cpu) : DB_NULL,
                                        mode ? DB_TEXT(mode) : DB_NULL, DB_TEXT(id)), &err) < 0)
                api_error(resp, &err);
            else
                reply_row(e, resp, CL_SELECT, "cluster", id, "clusters", false);
        }
        json_decref(b);
        json_decref(row);
        return;
    }
    if (method_is(r, "DELETE")) {
        delete_row(e, r, resp, "DELETE FROM clusters WHERE id = ?", "cluster", "cluster",
                   "it still has hosts or VMs", row);
        return;
    }
    json_decref(row);
    not_allowed(resp);
}
