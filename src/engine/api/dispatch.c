/* The one dispatcher of every kind: routing of /api/COLL[/ID[/SUB[/ID]]][/ACTION],
 * the object looked up before the authorization gate, then list, get,
 * create, update, delete or an action - each through the kind's table and
 * store. Every failure is a vr_error answered by vr_fault (fault.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dispatch.h"
#include "fault.h"
#include "quota.h"
#include "i18n.h"

const vr_kind *const vr_kinds[] = {&vr_kind_datacenters, &vr_kind_clusters, &vr_kind_hosts,
                                   &vr_kind_vms, &vr_kind_vm_nics, &vr_kind_vm_disks,
                                   &vr_kind_storagedomains, &vr_kind_disks, &vr_kind_snapshots, &vr_kind_templates, &vr_kind_pools,
                                   &vr_kind_networks, &vr_kind_vnicprofiles, &vr_kind_cluster_networks,
                                   &vr_kind_host_nics, &vr_kind_macpools, &vr_kind_affinity_groups,
                                   &vr_kind_quotas,
                                   &vr_kind_events, &vr_kind_jobs,
                                   &vr_kind_users, &vr_kind_groups, &vr_kind_group_members, &vr_kind_roles,
                                   &vr_kind_permissions, &vr_kind_domains};
const size_t vr_nkinds = VR_ARRAY_SIZE(vr_kinds);

const vr_kind *vr_kind_find(const char *collection)
{
    for (size_t i = 0; i < vr_nkinds; i++)
        if (!strcmp(vr_kinds[i]->collection, collection) && !vr_kinds[i]->children)
            return vr_kinds[i];
    return NULL;
}

/* A kind nested under parent by its collection name (children kinds have
 * no top-level home, so their names may repeat under other parents). */
static const vr_kind *vr_kind_find_under(const char *parent, const char *collection)
{
    for (size_t i = 0; i < vr_nkinds; i++)
        if (!strcmp(vr_kinds[i]->collection, collection) && vr_kinds[i]->parent &&
            !strcmp(vr_kinds[i]->parent, parent))
            return vr_kinds[i];
    return NULL;
}

const vr_field *vr_kind_field(const vr_kind *k, const char *name)
{
    for (size_t i = 0; i < k->nfields; i++)
        if (!strcmp(k->fields[i].name, name))
            return &k->fields[i];
    return NULL;
}

void vr_kind_present(vr_engine *e, const vr_kind *k, json_t *row)
{
    if (k->present)
        k->present(e, row);
    if (!k->no_href) {
        char href[256];
        snprintf(href, sizeof(href), "/api/%s/%s", k->collection,
                 json_string_value(json_object_get(row, "id")) ?: "");
        json_object_set_new(row, "href", json_string(href));
    }
}

json_t *vr_kind_get(vr_engine *e, const vr_kind *k, const char *id, vr_error *err)
{
    char sql[2048];
    snprintf(sql, sizeof(sql), "%s WHERE %s = ?", k->store->select, k->store->id_expr);
    vr_error local = {0};
    json_t *row = vr_db_query_one(e->db, sql, DB_ARGS(DB_TEXT(id)), &local);
    if (!row) {
        if (!local.code)
            vr_error_set(&local, VR_ERR_NOT_FOUND, "no %s with id '%.64s'", k->title, id);
        if (err)
            *err = local;
        return NULL;
    }
    vr_kind_present(e, k, row);
    return row;
}

void vr_reply_job(vr_call *c, const char *job_id)
{
    char href[128];
    snprintf(href, sizeof(href), "/api/jobs/%s", job_id);
    c->resp->status = 202;
    c->resp->body = json_pack("{s:{s:s, s:s}}", "job", "id", job_id, "href", href);
    snprintf(c->resp->location, sizeof(c->resp->location), "%s", href);
}

static void reply_row(vr_call *c, const char *id, int status)
{
    vr_error err = {0};
    json_t *row = vr_kind_get(c->e, c->kind, id, &err);
    if (!row)
        return (void)vr_fault(c->resp, &err);
    c->resp->status = status;
    c->resp->body = row;
    if (status == 201)
        snprintf(c->resp->location, sizeof(c->resp->location), "%s",
                 json_string_value(json_object_get(row, "href")));
}

static const char *row_name(json_t *row)
{
    return json_string_value(json_object_get(row, "name")) ?: json_string_value(json_object_get(row, "id")) ?: "";
}

static int create(vr_call *c, const char *parent_id, vr_error *err)
{
    const vr_kind *k = c->kind;
    json_t *body = vr_body_parse(c, false, err);
    if (!body)
        return -1;
    if (parent_id) { /* POST /api/PARENT/ID/COLL: the path names the parent */
        json_t *given = json_object_get(body, k->parent_field);
        if (given && (!json_is_string(given) || strcmp(json_string_value(given), parent_id))) {
            json_decref(body);
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "body.%s differs from the path's", k->parent_field);
        }
        json_object_set_new(body, k->parent_field, json_string(parent_id));
    }
    char id[37], job[37] = "";
    vr_uuid_new(id);
    int rc = -1;
    if (k->quota)
        vr_quota_lock();
    if (vr_authorize(c, k, body, "create", err) == 0 && vr_kind_check_body(c, body, NULL, err) == 0 &&
        vr_authorize_refs(c, k, k->fields, k->nfields, body, "create", err) == 0 &&
        (!k->check_create || k->check_create(c, body, err) == 0) && (!k->quota || k->quota(c, NULL, body, err) == 0) &&
        (k->create_job ? k->create_job(c, id, body, job, err) : k->store->insert(c->e, id, body, err)) == 0) {
        rc = 0;
        if (k->quota)
            vr_quota_unlock();
        if (k->after_write)
            k->after_write(c, id, "created");
        if (!*job) /* answered 201: the audit event names who (audit.c) */
            vr_audit_created(c, id);
        else if (!k->after_write) /* a job's kinds keep their wording; the job's events follow */
            vr_event(c->e, "normal", c->user, k->type, id, "%s '%s' created", k->title, row_name(body));
        if (*job) {
            /* the client learns the new object's id at once, as with a 201 */
            vr_reply_job(c, job);
            char href[200];
            snprintf(href, sizeof(href), "/api/%s/%s", k->collection, id);
            json_object_set_new(c->resp->body, "id", json_string(id));
            json_object_set_new(c->resp->body, "href", json_string(href));
        } else {
            reply_row(c, id, 201);
        }
    } else if (k->quota) {
        vr_quota_unlock();
    }
    json_decref(body);
    return rc;
}

static int update(vr_call *c, json_t *row, vr_error *err)
{
    const vr_kind *k = c->kind;
    json_t *body = vr_authorize(c, k, row, "update", err) == 0 ? vr_body_parse(c, true, err) : NULL;
    if (!body)
        return -1;
    const char *id = json_string_value(json_object_get(row, "id"));
    json_t *given = vr_audit_given(k, body); /* before the row's values fill it */
    int rc = -1;
    if (k->quota)
        vr_quota_lock();
    bool ok = vr_kind_check_body(c, body, row, err) == 0 &&
              (!k->check_update || k->check_update(c, row, body, err) == 0) &&
              (!k->quota || k->quota(c, row, body, err) == 0) && k->store->update(c->e, row, body, err) == 0;
    if (k->quota)
        vr_quota_unlock();
    if (ok) {
        rc = 0;
        if (k->after_write)
            k->after_write(c, id, "updated");
        vr_audit_updated(c, row, given);
        char job[37] = "";
        vr_error live = {0};
        /* The change is stored: a live part that cannot start leaves it
         * for the next start (the hook records that) - still a 200. */
        if (k->live_update && k->live_update(c, row, body, job, &live) == 0 && *job)
            vr_reply_job(c, job);
        else
            reply_row(c, id, 200);
    }
    json_decref(given);
    json_decref(body);
    return rc;
}

static int remove_row(vr_call *c, json_t *row, vr_error *err)
{
    const vr_kind *k = c->kind;
    const char *id = json_string_value(json_object_get(row, "id"));
    if (vr_authorize(c, k, row, "delete", err) < 0 || (k->check_delete && k->check_delete(c, row, err) < 0))
        return -1;
    char job[37] = "", parent[64];
    vr_audit_parent(c, row, parent); /* while it is still in the tree */
    if ((k->remove_job ? k->remove_job(c, row, job, err) : k->store->remove(c->e, row, err)) < 0) {
        /* A row that others still refer to (a foreign key) cannot go. */
        if (err->code == VR_ERR_BAD_STATE && k->delete_in_use && !strstr(err->message, "changed"))
            vr_error_set(err, VR_ERR_CONFLICT, "cannot remove %s '%s': %s", k->title, row_name(row),
                         k->delete_in_use);
        return -1;
    }
    if (*job) { /* the job removes it */
        vr_reply_job(c, job);
        return 0;
    }
    if (k->after_write)
        k->after_write(c, id, "removed");
    vr_audit_removed(c, row, parent);
    c->resp->status = 204;
    return 0;
}

static bool is(vr_call *c, const char *m)
{
    return !strcmp(c->req->method, m);
}

static int method_error(vr_error *err, const char *what)
{
    return vr_error_set(err, VR_ERR_METHOD, "%s", what);
}

/* GET / POST on a collection (children of parent_id when given). */
static int on_collection(vr_call *c, const char *parent_id, json_t *parent, vr_error *err)
{
    if (is(c, "GET")) {
        json_t *out;
        bool events = c->kind == &vr_kind_events;
        long long mark = events ? vr_events_mark(c) : 0; /* before the listing */
        /* a nested list shows that its parent exists: as much as a GET of it */
        if ((parent && vr_authorize(c, vr_kind_find(c->kind->parent), parent, "get", err) < 0) ||
            vr_authorize(c, c->kind, NULL, "list", err) < 0 || vr_list(c, parent_id, &out, err) < 0)
            return -1;
        if (events && vr_events_hold(c, out, mark, err) < 0) { /* a long poll */
            json_decref(out);
            return -1;
        }
        c->resp->status = 200;
        c->resp->body = out;
        return 0;
    }
    if (is(c, "POST") && !c->kind->read_only)
        return create(c, parent_id, err);
    return method_error(err, c->kind->read_only ? N_("this collection is read with GET") : N_("use GET or POST"));
}

static int on_object(vr_call *c, json_t *row, vr_error *err)
{
    if (is(c, "GET")) {
        if (vr_authorize(c, c->kind, row, "get", err) < 0)
            return -1;
        c->resp->status = 200;
        c->resp->body = json_incref(row);
        return 0;
    }
    if (is(c, "PUT") && !c->kind->read_only && !c->kind->no_update)
        return update(c, row, err);
    if (is(c, "DELETE") && !c->kind->read_only && !c->kind->no_delete)
        return remove_row(c, row, err);
    return method_error(err, N_("method not allowed on this resource"));
}

static int on_action(vr_call *c, json_t *row, const char *name, vr_error *err)
{
    for (size_t i = 0; i < c->kind->nactions; i++) {
        const vr_action *a = &c->kind->actions[i];
        if (strcmp(a->name, name))
            continue;
        if (!is(c, "POST"))
            return method_error(err, N_("actions are POSTed"));
        if (vr_authorize(c, c->kind, row, name, err) < 0) /* before the body: no hints to the refused */
            return -1;
        json_t *body = NULL;
        bool given = c->req->body_len && strspn(c->req->body, " \t\r\n") != c->req->body_len;
        if (a->nparams || given) {
            /* The action's members are checked like a kind's create body. */
            vr_kind pk = {.fields = a->params, .nfields = a->nparams, .title = a->name, .collection = a->name};
            vr_call pc = *c;
            pc.kind = &pk;
            vr_http_req none = *c->req; /* no body: {} (an action whose members are all optional) */
            none.body = "{}";
            none.body_len = 2;
            if (!given)
                pc.req = &none;
            if (!(body = vr_body_parse(&pc, false, err)) || vr_kind_check_body(&pc, body, NULL, err) < 0 ||
                vr_authorize_refs(c, c->kind, a->params, a->nparams, body, name, err) < 0) {
                json_decref(body);
                if (!a->nparams && given && err->code == VR_ERR_INVALID_PARAMS)
                    vr_error_set(err, VR_ERR_INVALID_PARAMS, "action '%s' takes no body (or {})", name);
                return -1;
            }
        }
        json_t *reply = NULL;
        int rc = a->run(c, row, body, &reply, err);
        json_decref(body);
        if (rc < 0)
            return -1;
        if (a->job) {
            vr_reply_job(c, json_string_value(json_object_get(reply, "job_id")));
            json_decref(reply);
        } else {
            c->resp->status = 200;
            c->resp->body = reply;
        }
        return 0;
    }
    return vr_error_set(err, VR_ERR_NOT_FOUND, "no %s action '%.64s'", c->kind->title, name);
}

/* The kind nested under k as /api/K/ID/name, or NULL. */
static const vr_kind *sub_kind(const vr_kind *k, const char *name)
{
    return vr_kind_find_under(k->collection, name);
}

/* ---- children kept inside their parent's row ---- */

static void present_children(vr_call *c, json_t *parent, json_t *rows);

static int child_reply(vr_call *c, json_t *parent, int rc, json_t *reply, const char *job, int status)
{
    if (rc < 0) {
        json_decref(reply);
        return -1;
    }
    if (*job) {
        json_decref(reply);
        vr_reply_job(c, job);
    } else if (reply) {
        json_t *one = json_pack("[o]", reply);
        present_children(c, parent, one);
        c->resp->status = status;
        c->resp->body = json_incref(reply);
        json_decref(one);
        if (status == 201)
            snprintf(c->resp->location, sizeof(c->resp->location), "%s",
                     json_string_value(json_object_get(reply, "href")));
    } else {
        c->resp->status = 204;
    }
    return 0;
}

static void present_children(vr_call *c, json_t *parent, json_t *rows)
{
    char base[256];
    snprintf(base, sizeof(base), "/api/%s/%s/%s", c->kind->parent,
             json_string_value(json_object_get(parent, "id")) ?: "", c->kind->collection);
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) {
        char href[400];
        snprintf(href, sizeof(href), "%s/%s", base, json_string_value(json_object_get(r, "id")) ?: "");
        json_object_set_new(r, "href", json_string(href));
    }
}

static int on_children(vr_call *c, json_t *parent, const char *child_id, vr_error *err)
{
    json_t *rows = NULL, *reply = NULL, *child = NULL, *body = NULL;
    char job[37] = "";
    int rc = -1;
    /* Children are their parent's business: authorized before a lookup
     * could tell a refused caller which children exist. */
    const char *m = c->req->method;
    const char *action = !strcmp(m, "POST") ? "create" : !strcmp(m, "PUT") ? "update"
                       : !strcmp(m, "DELETE") ? "delete" : "get";
    if (vr_authorize(c, c->kind, parent, action, err) < 0 || c->kind->children(c->e, parent, &rows, err) < 0)
        return -1;
    present_children(c, parent, rows);
    if (child_id) {
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r)
            if (!strcasecmp(json_string_value(json_object_get(r, "id")) ?: "", child_id))
                child = r;
        if (!child) {
            vr_error_set(err, VR_ERR_NOT_FOUND, "no %s '%.64s' in this %s", c->kind->title, child_id,
                         vr_kind_find(c->kind->parent)->title);
            goto out;
        }
    }
    if (!strcmp(c->req->method, "GET")) {
        c->resp->status = 200;
        c->resp->body = child ? json_incref(child)
                              : json_pack("{s:O, s:I}", c->kind->collection, rows, "total",
                                          (json_int_t)json_array_size(rows));
        rc = 0;
    } else if (!child && !strcmp(c->req->method, "POST")) {
        if ((body = vr_body_parse(c, false, err)) && vr_kind_check_body(c, body, NULL, err) == 0 &&
            vr_authorize_refs(c, c->kind, c->kind->fields, c->kind->nfields, body, "create", err) == 0) {
            int r = c->kind->add_child(c, parent, body, &reply, job, err); /* before reading reply */
            rc = child_reply(c, parent, r, reply, job, 201);
        }
    } else if (child && !strcmp(c->req->method, "PUT") && c->kind->change_child) {
        if ((body = vr_body_parse(c, true, err)) &&
            vr_kind_check_body(c, body, child, err) == 0) {
            int r = c->kind->change_child(c, parent, child, body, &reply, job, err);
            rc = child_reply(c, parent, r, reply, job, 200);
        }
    } else if (child && !strcmp(c->req->method, "DELETE")) {
        int r = c->kind->remove_child(c, parent, child, job, err);
        rc = child_reply(c, parent, r, NULL, job, 204);
    } else {
        vr_error_set(err, VR_ERR_METHOD, "%s", child ? "use GET, PUT or DELETE" : "use GET or POST");
    }
out:
    json_decref(body);
    json_decref(rows);
    return rc;
}

#define MAX_PARTS 6

/* Split /api/... into at most MAX_PARTS parts of < 128 bytes. */
static int split(const char *path, char parts[MAX_PARTS][128], int *n, vr_error *err)
{
    *n = 0;
    for (const char *p = path; *p == '/';) {
        p++;
        size_t len = strcspn(p, "/");
        if (len == 0 && !p[len])
            break; /* trailing slash */
        if (len == 0 || len >= sizeof(parts[0]) || *n == MAX_PARTS)
            return vr_error_set(err, VR_ERR_NOT_FOUND, "no such resource");
        memcpy(parts[*n], p, len);
        parts[*n][len] = '\0';
        (*n)++;
        p += len;
    }
    return 0;
}

static int route(vr_engine *e, vr_http_req *req, vr_http_resp *resp, vr_error *err)
{
    char parts[MAX_PARTS][128];
    int n;
    if (split(req->path + 4, parts, &n, err) < 0)
        return -1;
    if (n == 0) {
        if (strcmp(req->method, "GET"))
            return method_error(err, N_("use GET"));
        json_t *colls = json_array();
        for (size_t i = 0; i < vr_nkinds; i++)
            if (!vr_kinds[i]->children)
                json_array_append_new(colls, json_string(vr_kinds[i]->collection));
        resp->status = 200;
        resp->body = json_pack("{s:s, s:o}", "product", "vireo", "collections", colls);
        return 0;
    }
    vr_call c = {.e = e, .req = req, .resp = resp, .kind = vr_kind_find(parts[0]), .user = req->user};
    if (!c.kind)
        return vr_error_set(err, VR_ERR_NOT_FOUND, "no collection '%s'", parts[0]);
    const char *parent_id = NULL;
    json_t *row = NULL;
    int rc = -1;
    for (int i = 1;; i += 2) {
        if (c.kind->children) { /* kept inside the parent row we hold */
            if (i + 1 < n)
                rc = vr_error_set(err, VR_ERR_NOT_FOUND, "no such resource");
            else
                rc = on_children(&c, row, i < n ? parts[i] : NULL, err);
            break;
        }
        if (i == n) { /* the collection itself */
            rc = on_collection(&c, parent_id, row, err);
            break;
        }
        json_decref(row);
        row = NULL;
        if (c.kind->no_href) {
            vr_error_set(err, VR_ERR_NOT_FOUND, "%s have no URL of their own; list them with GET /api/%s",
                         c.kind->collection, c.kind->collection);
            break;
        }
        if (parent_id) { /* objects live at their own URL (their href) */
            vr_error_set(err, VR_ERR_NOT_FOUND, "a %s is addressed by its own URL, /api/%s/ID", c.kind->title,
                         c.kind->collection);
            break;
        }
        if (!(row = vr_kind_get(e, c.kind, parts[i], err)))
            break;
        if (i + 1 == n) {
            rc = on_object(&c, row, err);
            break;
        }
        const vr_kind *sub = sub_kind(c.kind, parts[i + 1]);
        if (!sub) {
            if (i + 2 == n)
                rc = on_action(&c, row, parts[i + 1], err);
            else
                vr_error_set(err, VR_ERR_NOT_FOUND, "no such resource");
            break;
        }
        parent_id = parts[i];
        c.kind = sub;
    }
    json_decref(row);
    return rc;
}

void vr_dispatch(vr_engine *e, vr_http_req *req, vr_http_resp *resp)
{
    vr_error err = {0};
    if (route(e, req, resp, &err) < 0) {
        if (!err.code)
            vr_error_set(&err, VR_ERR_INTERNAL, "request failed without a reason (a defect)");
        json_decref(resp->body);
        resp->body = NULL;
        resp->location[0] = '\0';
        vr_fault(resp, &err);
    }
}
