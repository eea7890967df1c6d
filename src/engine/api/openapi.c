/* The OpenAPI 3.0 document, generated from the kinds' tables: one path per
 * collection, object, nested collection and action, one entity / create /
 * update / list schema per kind, enums from the status tables. The shared
 * pieces no table describes (the token endpoint, fault shape, the JSON
 * documents agents report such as host capabilities) come from
 * openapi_parts.json, embedded at build time. */
#include <stdio.h>
#include <string.h>

#include "dispatch.h"
#include "fault.h"
#include "log.h"

extern const char vr_openapi_parts[];

static json_t *ref(const char *kind, const char *name)
{
    char r[160];
    snprintf(r, sizeof(r), "#/components/%s/%s", kind, name);
    return json_pack("{s:s}", "$ref", r);
}

/* The JSON type of a shared schema (for nullable wrappers). */
static json_t *shared_schemas;

static const char *schema_type(const char *name)
{
    const char *t = json_string_value(json_object_get(json_object_get(shared_schemas, name), "type"));
    return t ? t : !strcmp(name, "Timestamp") ? "integer" : "string";
}

static json_t *field_schema(const vr_kind *k, const vr_field *f, bool request)
{
    json_t *s;
    switch (f->type) {
    case VR_FT_ID: s = ref("schemas", "Uuid"); break;
    case VR_FT_NAME: s = ref("schemas", "Name"); break;
    case VR_FT_STR:
        if (!strcmp(f->name, "description") && f->max == 4096) {
            s = ref("schemas", "Description");
            break;
        }
        s = json_pack("{s:s}", "type", "string");
        if (f->max)
            json_object_set_new(s, "maxLength", json_integer(f->max));
        if (f->min)
            json_object_set_new(s, "minLength", json_integer(f->min));
        if (f->schema)
            json_object_set_new(s, "pattern", json_string(f->schema));
        break;
    case VR_FT_INT: s = json_pack("{s:s, s:I, s:I}", "type", "integer", "minimum", (json_int_t)f->min,
                                  "maximum", (json_int_t)f->max); break;
    case VR_FT_REAL: s = json_pack("{s:s}", "type", "number"); break;
    case VR_FT_BOOL: s = json_pack("{s:s}", "type", "boolean"); break;
    case VR_FT_TIME: s = ref("schemas", "Timestamp"); break;
    case VR_FT_ENUM: {
        if (!strcmp(f->name, "status")) { /* status machines are named schemas */
            char name[64];
            snprintf(name, sizeof(name), "%sStatus", k->schema);
            s = ref("schemas", name);
            break;
        }
        json_t *vals = json_array();
        for (size_t i = 0; i < f->values.n; i++)
            json_array_append_new(vals, json_string(f->values.v[i]));
        s = json_pack("{s:s, s:o}", "type", "string", "enum", vals);
        break;
    }
    case VR_FT_REF: s = json_pack("{s:s, s:s}", "type", "string", "format", "uuid"); break;
    default:
        s = ref("schemas", request && !strcmp(f->schema, "VmNics") ? "VmNicsRequest" : f->schema);
        break;
    }
    /* $ref siblings are ignored by OpenAPI 3.0: wrap to say more. */
    bool is_ref = json_object_get(s, "$ref") != NULL;
    if ((f->flags & VR_F_NULL) && !request) {
        if (is_ref) /* nullable needs a type beside it */
            s = json_pack("{s:s, s:[o], s:b}", "type",
                          schema_type(strrchr(json_string_value(json_object_get(s, "$ref")), '/') + 1), "allOf", s,
                          "nullable", 1);
        else
            json_object_set_new(s, "nullable", json_true());
        is_ref = false;
    }
    if (f->doc || (request && f->dflt)) {
        if (is_ref)
            s = json_pack("{s:[o]}", "allOf", s);
        if (f->doc)
            json_object_set_new(s, "description", json_string(f->doc));
        if (request && f->dflt)
            json_object_set_new(s, "default", json_loads(f->dflt, JSON_DECODE_ANY, NULL));
    }
    (void)k;
    return s;
}

/* Entity (mode 0), create body (1) or update body (2). */
static json_t *kind_schema(const vr_kind *k, int mode)
{
    json_t *props = json_object(), *req = json_array();
    for (size_t i = 0; i < k->nfields; i++) {
        const vr_field *f = &k->fields[i];
        if ((mode == 1 && !(f->flags & VR_F_CREATE)) || (mode == 2 && !(f->flags & (VR_F_UPDATE | VR_F_FIXED))))
            continue;
        json_object_set_new(props, f->name, field_schema(k, f, mode != 0));
        if ((mode == 0 && !(f->flags & VR_F_OPT)) || (mode == 1 && (f->flags & VR_F_REQ)))
            json_array_append_new(req, json_string(f->name));
    }
    if (mode == 0 && !k->no_href) {
        char pat[128];
        if (k->children)
            snprintf(pat, sizeof(pat), "^/api/%s/[^/]+/%s/[^/]+$", k->parent, k->collection);
        else
            snprintf(pat, sizeof(pat), "^/api/%s/[^/]+$", k->collection);
        json_object_set_new(props, "href", json_pack("{s:s, s:s}", "type", "string", "pattern", pat));
        json_array_append_new(req, json_string("href"));
    }
    json_t *s = json_pack("{s:s, s:o, s:b}", "type", "object", "properties", props, "additionalProperties", 0);
    if (json_array_size(req))
        json_object_set_new(s, "required", req);
    else
        json_decref(req);
    return s;
}

static json_t *content(json_t *schema)
{
    return json_pack("{s:{s:o}}", "application/json", "schema", schema);
}

static json_t *ok(const char *desc, json_t *schema)
{
    return schema ? json_pack("{s:s, s:o}", "description", desc, "content", content(schema))
                  : json_pack("{s:s}", "description", desc);
}

/* The error responses of an operation, by the statuses it can give. */
static void faults(json_t *resp, const char *codes)
{
    static const struct { const char *code, *name; } all[] = {
        {"400", "BadRequest"}, {"401", "Unauthorized"}, {"403", "Forbidden"}, {"404", "NotFound"},
        {"405", "MethodNotAllowed"}, {"409", "Conflict"}, {"413", "PayloadTooLarge"},
        {"422", "UnprocessableEntity"}, {"500", "InternalError"}, {"502", "BadGateway"},
        {"503", "Unavailable"}};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if (strstr(codes, all[i].code))
            json_object_set_new(resp, all[i].code, ref("responses", all[i].name));
}

static json_t *op(const vr_kind *k, const char *id, const char *summary, json_t *responses, const char *codes)
{
    faults(responses, codes);
    return json_pack("{s:[s], s:s, s:s, s:o}", "tags", k->tag, "operationId", id, "summary", summary,
                     "responses", responses);
}

static void add_body(json_t *o, const char *schema)
{
    json_object_set_new(o, "requestBody", json_pack("{s:b, s:o}", "required", 1, "content",
                                                     content(ref("schemas", schema))));
}

static json_t *id_param(const char *name, const char *desc)
{
    return json_pack("{s:s, s:s, s:b, s:s, s:{s:s}}", "name", name, "in", "path", "required", 1, "description",
                     desc, "schema", "type", "string");
}

static json_t *list_params(const vr_kind *k)
{
    if (!k->store) /* children: the whole list, in their order */
        return json_array();
    char doc[1024];
    int o = snprintf(doc, sizeof(doc), "Clauses FIELD=VALUE joined by ' and ' (all must match). Fields:");
    for (size_t i = 0; i < k->store->nsearch && o < (int)sizeof(doc); i++)
        o += snprintf(doc + o, sizeof(doc) - (size_t)o, "%s %s (%s)", i ? "," : "", k->store->search[i].key,
                      k->store->search[i].doc ?: "");
    char sorts[512];
    int s = snprintf(sorts, sizeof(sorts), "A member to sort by, '-' first for descending:");
    for (size_t i = 0; i < k->nfields && s < (int)sizeof(sorts); i++)
        if (k->fields[i].flags & VR_F_SORT)
            s += snprintf(sorts + s, sizeof(sorts) - (size_t)s, " %s", k->fields[i].name);
    json_t *ps = json_pack("[{s:s, s:s, s:b, s:s, s:{s:s, s:i}}, {s:s, s:s, s:b, s:s, s:{s:s}}, o, o]", "name",
                           "search", "in", "query", "required", 0, "description", doc, "schema", "type", "string",
                           "maxLength", 1000, "name", "sortby", "in", "query", "required", 0, "description", sorts,
                           "schema", "type", "string", ref("parameters", "Max"), ref("parameters", "Page"));
    if (k == &vr_kind_events) /* the long poll (events_view.c) */
        json_array_append_new(ps, json_pack("{s:s, s:s, s:b, s:s, s:{s:s, s:i, s:i}}", "name", "wait", "in", "query",
                                            "required", 0, "description",
                                            "Seconds to hold an empty answer until a new event the caller may see"
                                            " (use with search=after=ID): answered at once when there are some,"
                                            " else when one arrives or the wait ends (then empty).",
                                            "schema", "type", "integer", "minimum", 0, "maximum",
                                            VR_EVENTS_MAX_WAIT_S));
    return ps;
}

static void op_id(char *out, size_t len, const char *verb, const vr_kind *k, const vr_kind *parent, const char *tail)
{
    snprintf(out, len, "%s%s%s%s", verb, parent ? parent->schema : "", parent ? "" : "", k->schema);
    if (tail)
        snprintf(out + strlen(out), len - strlen(out), "%s", tail);
}

static json_t *job_response(void)
{
    json_t *acc = ok("Accepted: the VM runs, so a job makes the change through its host.", ref("schemas", "JobRef"));
    json_object_set_new(acc, "headers", json_pack("{s:o}", "Location", ref("headers", "Location")));
    return acc;
}

/* Children kept in their parent (a VM's NICs and disks). */
static void add_child_paths(json_t *paths, const vr_kind *k, const vr_kind *parent)
{
    char coll[256], item[300], id[128], name[64], summary[160];
    snprintf(coll, sizeof(coll), "/api/%s/{id}/%s", parent->collection, k->collection);
    snprintf(item, sizeof(item), "%s/{child_id}", coll);
    json_t *params = json_pack("[o]", ref("parameters", "Id"));
    json_t *c = json_pack("{s:o}", "parameters", json_deep_copy(params));
    snprintf(name, sizeof(name), "%sList", k->schema);
    snprintf(id, sizeof(id), "list%s", k->schema);
    snprintf(summary, sizeof(summary), "List a %s's %ss", parent->title, k->title);
    json_object_set_new(c, "get", op(k, id, summary, json_pack("{s:o}", "200", ok("All of them.", ref("schemas", name))),
                                     "401 403 404 500 503"));
    json_t *created = ok("Stored (the VM is down).", ref("schemas", k->schema));
    json_object_set_new(created, "headers", json_pack("{s:o}", "Location", ref("headers", "Location")));
    snprintf(id, sizeof(id), "add%s", k->schema);
    snprintf(summary, sizeof(summary), "Add a %s (hot plug when the VM runs)", k->title);
    json_t *post = op(k, id, summary, json_pack("{s:o, s:o}", "201", created, "202", job_response()),
                      "400 401 403 404 409 413 422 500 503");
    snprintf(name, sizeof(name), "%sCreate", k->schema);
    add_body(post, name);
    json_object_set_new(c, "post", post);
    json_object_set_new(paths, coll, c);
    json_t *it = json_object();
    json_array_append_new(params, id_param("child_id", "The child's name (a NIC's MAC, a disk's target)."));
    json_object_set(it, "parameters", params);
    snprintf(id, sizeof(id), "get%s", k->schema);
    snprintf(summary, sizeof(summary), "Get a %s of a %s", k->title, parent->title);
    json_object_set_new(it, "get", op(k, id, summary, json_pack("{s:o}", "200", ok("It.", ref("schemas", k->schema))),
                                      "401 403 404 500 503"));
    if (k->change_child) {
        snprintf(id, sizeof(id), "update%s", k->schema);
        snprintf(summary, sizeof(summary), "Change a %s (live when the VM runs)", k->title);
        json_t *put = op(k, id, summary, json_pack("{s:o, s:o}", "200", ok("Stored.", ref("schemas", k->schema)), "202",
                                                   job_response()), "400 401 403 404 409 413 500 503");
        snprintf(name, sizeof(name), "%sUpdate", k->schema);
        add_body(put, name);
        json_object_set_new(it, "put", put);
    }
    snprintf(id, sizeof(id), "remove%s", k->schema);
    snprintf(summary, sizeof(summary), "Remove a %s (hot unplug when the VM runs)", k->title);
    json_object_set_new(it, "delete", op(k, id, summary, json_pack("{s:o, s:o}", "204", ok("Removed.", NULL), "202",
                                                                    job_response()), "401 403 404 409 500 503"));
    json_object_set_new(paths, item, it);
    json_decref(params);
}

/* Paths of kind k at prefix (/api or /api/PARENT/{parent_id}). */
/* The few actions that answer something other than their object. */
static const char *reply_schema(const vr_kind *k, const vr_action *a)
{
    static const struct {
        const char *collection, *action, *schema;
    } replies[] = {
        {"vms", "ticket", "ConsoleTicket"},
    };
    for (size_t i = 0; i < VR_ARRAY_SIZE(replies); i++)
        if (!strcmp(replies[i].collection, k->collection) && !strcmp(replies[i].action, a->name))
            return replies[i].schema;
    return NULL;
}

static void add_paths(json_t *paths, const vr_kind *k, const vr_kind *parent)
{
    char coll[256], item[400], id[128], list_schema[64], idname[64];
    if (parent)
        snprintf(coll, sizeof(coll), "/api/%s/{id}/%s", parent->collection, k->collection);
    else
        snprintf(coll, sizeof(coll), "/api/%s", k->collection);
    snprintf(idname, sizeof(idname), "id");
    snprintf(item, sizeof(item), "%s/{%s}", coll, idname);
    snprintf(list_schema, sizeof(list_schema), "%sList", k->schema);
    json_t *c = json_object(), *params = json_array();
    if (parent)
        json_array_append_new(params, id_param("id", "The parent's id (404 when it does not exist)."));
    char summary[160];
    op_id(id, sizeof(id), "list", k, parent, NULL);
    snprintf(summary, sizeof(summary), "List %s", k->collection);
    json_t *get = op(k, id, summary, json_pack("{s:o}", "200", ok("One page.", ref("schemas", list_schema))),
                     parent ? "400 401 403 404 500 503" : "400 401 403 500 503");
    json_object_set_new(get, "parameters", list_params(k));
    json_object_set_new(c, "get", get);
    if (!k->read_only) {
        op_id(id, sizeof(id), "create", k, parent, NULL);
        snprintf(summary, sizeof(summary), "Create a %s", k->title);
        json_t *created = ok("Created.", ref("schemas", k->schema));
        json_object_set_new(created, "headers", json_pack("{s:o}", "Location", ref("headers", "Location")));
        json_t *post;
        if (k->create_job) { /* made by a job (storage) */
            json_decref(created);
            created = ok("Accepted: the row exists (locked) and a job completes it; the reply names both.",
                         ref("schemas", "CreatedJobRef"));
            json_object_set_new(created, "headers", json_pack("{s:o}", "Location", ref("headers", "Location")));
            json_t *codes = json_pack("{s:o}", "202", created);
            if (k->create_job_maybe) {
                json_t *plain = ok("Created (no job was needed).", ref("schemas", k->schema));
                json_object_set_new(plain, "headers", json_pack("{s:o}", "Location", ref("headers", "Location")));
                json_object_set_new(codes, "201", plain);
            }
            post = op(k, id, summary, codes, "400 401 403 404 409 413 422 500 503");
        } else {
            post = op(k, id, summary, json_pack("{s:o}", "201", created), "400 401 403 404 409 413 422 500 503");
        }
        char create_schema[64];
        snprintf(create_schema, sizeof(create_schema), "%sCreate", k->schema);
        add_body(post, create_schema);
        json_object_set_new(c, "post", post);
    }
    if (json_array_size(params))
        json_object_set(c, "parameters", params);
    json_object_set_new(paths, coll, c);
    /* A kind with a home of its own is addressed there (its href); under
     * its parent it is a filtered collection. */
    if (k->no_href || parent) {
        json_decref(params);
        return;
    }
    json_t *it = json_object();
    json_array_append_new(params, ref("parameters", "Id"));
    json_object_set(it, "parameters", params);
    op_id(id, sizeof(id), "get", k, parent, NULL);
    snprintf(summary, sizeof(summary), "Get a %s", k->title);
    json_object_set_new(it, "get", op(k, id, summary, json_pack("{s:o}", "200", ok("The object.", ref("schemas", k->schema))),
                                      "401 403 404 500 503"));
    if (!k->read_only && !k->no_update) {
        op_id(id, sizeof(id), "update", k, parent, NULL);
        snprintf(summary, sizeof(summary), "Change a %s", k->title);
        json_t *put_ok = json_pack("{s:o}", "200", ok("The changed object.", ref("schemas", k->schema)));
        if (k->live_update) /* a running object's change made live by a job */
            json_object_set_new(put_ok, "202", job_response());
        json_t *put = op(k, id, summary, put_ok, "400 401 403 404 409 413 500 503");
        char update_schema[64];
        snprintf(update_schema, sizeof(update_schema), "%sUpdate", k->schema);
        add_body(put, update_schema);
        json_object_set_new(it, "put", put);
    }
    if (!k->read_only && !k->no_delete) {
        op_id(id, sizeof(id), "delete", k, parent, NULL);
        snprintf(summary, sizeof(summary), "Remove a %s", k->title);
        json_t *removed = json_pack("{s:o}", "204", ok("Removed.", NULL));
        if (k->remove_job) { /* removed by a job when it needs a host (storage) */
            json_t *acc = ok("Accepted: the job that removes it.", ref("schemas", "JobRef"));
            json_object_set_new(acc, "headers", json_pack("{s:o}", "Location", ref("headers", "Location")));
            json_object_set_new(removed, "202", acc);
        }
        json_object_set_new(it, "delete", op(k, id, summary, removed,
                                             k->remove_job ? "400 401 403 404 409 500 502 503" : "401 403 404 409 500 503"));
    }
    json_object_set_new(paths, item, it);
    for (size_t i = 0; i < k->nactions; i++) {
        const vr_action *a = &k->actions[i];
        char path[512], tail[64];
        snprintf(path, sizeof(path), "%s/%s", item, a->name);
        snprintf(tail, sizeof(tail), "%c%s", a->name[0] - 32, a->name + 1);
        op_id(id, sizeof(id), "", k, parent, tail);
        json_t *r;
        if (a->job) {
            json_t *acc = ok("Accepted: the job that does it.", ref("schemas", "JobRef"));
            json_object_set_new(acc, "headers", json_pack("{s:o}", "Location", ref("headers", "Location")));
            r = json_pack("{s:o}", "202", acc);
        } else {
            const char *answer = reply_schema(k, a);
            r = json_pack("{s:o}", "200", answer ? ok("The answer.", ref("schemas", answer))
                                                 : ok("The object after the action.", ref("schemas", k->schema)));
        }
        json_t *post = op(k, id, a->summary, r, "400 401 403 404 405 409 413 422 500 502 503");
        if (a->nparams) {
            vr_kind pk = {.fields = a->params, .nfields = a->nparams, .collection = "", .schema = ""};
            json_object_set_new(post, "requestBody", json_pack("{s:b, s:o}", "required", 1, "content",
                                                               content(kind_schema(&pk, 1))));
        }
        json_object_set_new(paths, path, json_pack("{s:O, s:o}", "parameters", params, "post", post));
    }
    json_decref(params);
}

json_t *vr_openapi_build(void)
{
    json_error_t jerr;
    json_t *parts = json_loads(vr_openapi_parts, 0, &jerr);
    if (!parts) {
        VR_ERROR("openapi_parts.json: %s", jerr.text);
        return NULL;
    }
    json_t *schemas = json_deep_copy(json_object_get(parts, "schemas"));
    shared_schemas = json_object_get(parts, "schemas");
    json_t *paths = json_deep_copy(json_object_get(parts, "special_paths"));
    json_t *tags = json_array(), *colls = json_array();
    json_array_append_new(tags, json_pack("{s:s, s:s}", "name", "Authentication", "description",
                                          "Bearer tokens for admin@internal."));
    json_array_append_new(tags, json_pack("{s:s, s:s}", "name", "API", "description", "The API's own description."));
    for (size_t i = 0; i < vr_nkinds; i++) {
        const vr_kind *k = vr_kinds[i];
        char name[64];
        char tagdoc[128];
        snprintf(tagdoc, sizeof(tagdoc), "The %s collection (/api/%s).", k->title, k->collection);
        if (!k->children)
            json_array_append_new(tags, json_pack("{s:s, s:s}", "name", k->tag, "description", tagdoc));
        if (!k->children)
            json_array_append_new(colls, json_string(k->collection));
        json_object_set_new(schemas, k->schema, kind_schema(k, 0));
        if (!k->read_only) {
            snprintf(name, sizeof(name), "%sCreate", k->schema);
            json_object_set_new(schemas, name, kind_schema(k, 1));
            if (!k->no_update && (!k->children || k->change_child)) {
                snprintf(name, sizeof(name), "%sUpdate", k->schema);
                json_object_set_new(schemas, name, kind_schema(k, 2));
            }
        }
        const vr_field *st = vr_kind_field(k, "status");
        if (st && st->type == VR_FT_ENUM) {
            json_t *vals = json_array();
            for (size_t v = 0; v < st->values.n; v++)
                json_array_append_new(vals, json_string(st->values.v[v]));
            snprintf(name, sizeof(name), "%sStatus", k->schema);
            json_object_set_new(schemas, name, json_pack("{s:s, s:o}", "type", "string", "enum", vals));
        }
        snprintf(name, sizeof(name), "%sList", k->schema);
        json_object_set_new(schemas, name, json_pack("{s:s, s:[s,s], s:{s:{s:s, s:o}, s:{s:s, s:i}}, s:b}", "type",
                                                     "object", "required", k->collection, "total", "properties",
                                                     k->collection, "type", "array", "items", ref("schemas", k->schema),
                                                     "total", "type", "integer", "minimum", 0,
                                                     "additionalProperties", 0));
        if (k->children) {
            add_child_paths(paths, k, vr_kind_find(k->parent));
        } else {
            add_paths(paths, k, NULL);
            if (k->parent)
                add_paths(paths, k, vr_kind_find(k->parent));
        }
    }
    json_object_set_new(schemas, "ApiRoot", json_pack("{s:s, s:[s,s], s:{s:{s:s, s:[s]}, s:{s:s, s:{s:s, s:O}}}, s:b}",
                                                      "type", "object", "required", "product", "collections",
                                                      "properties", "product", "type", "string", "enum", "vireo",
                                                      "collections", "type", "array", "items", "type", "string",
                                                      "enum", colls, "additionalProperties", 0));
    json_decref(colls);
    json_object_set_new(schemas, "JobRef", json_pack("{s:s, s:[s], s:{s:o}, s:b}", "type", "object", "required", "job",
                                                     "properties", "job", ref("schemas", "Link"),
                                                     "additionalProperties", 0));
    json_object_set_new(schemas, "CreatedJobRef",
                        json_pack("{s:s, s:[s,s,s], s:{s:o, s:{s:s, s:s}, s:{s:s}}, s:b}", "type", "object",
                                  "required", "job", "id", "href", "properties", "job", ref("schemas", "Link"),
                                  "id", "type", "string", "format", "uuid", "href", "type", "string",
                                  "additionalProperties", 0));
    json_t *nicreq = json_pack("{s:s, s:i, s:o}", "type", "array", "maxItems", 16, "items", ref("schemas", "VmNicRequest"));
    json_object_set_new(schemas, "VmNicsRequest", nicreq);
    json_t *responses = json_deep_copy(json_object_get(parts, "responses"));
    json_object_set_new(responses, "Forbidden", json_pack("{s:s, s:o}", "description", "Not allowed for this user.",
                                                          "content", content(ref("schemas", "Fault"))));
    json_object_set_new(responses, "MethodNotAllowed", json_pack("{s:s, s:o}", "description",
                                                                 "The resource does not take this method.",
                                                                 "content", content(ref("schemas", "Fault"))));
    json_t *params = json_pack("{s:o, s:{s:s, s:s, s:b, s:s, s:{s:s, s:i, s:i, s:i}},"
                               " s:{s:s, s:s, s:b, s:s, s:{s:s, s:i, s:i, s:i}}}",
                               "Id", id_param("id", "The object's id."),
                               "Max", "name", "max", "in", "query", "required", 0, "description",
                               "Page size (400 outside 1-1000).", "schema", "type", "integer", "minimum", 1,
                               "maximum", 1000, "default", 100,
                               "Page", "name", "page", "in", "query", "required", 0, "description",
                               "1-based page number (400 if not a positive integer).", "schema", "type", "integer",
                               "minimum", 1, "maximum", 1000000, "default", 1);
    json_t *doc = json_pack("{s:s, s:O, s:O, s:O, s:o, s:o, s:{s:O, s:O, s:o, s:o, s:o}}", "openapi", "3.0.3",
                            "info", json_object_get(parts, "info"), "servers", json_object_get(parts, "servers"),
                            "security", json_object_get(parts, "security"), "tags", tags, "paths", paths,
                            "components", "securitySchemes", json_object_get(parts, "securitySchemes"), "headers",
                            json_object_get(parts, "headers"), "parameters", params, "responses", responses,
                            "schemas", schemas);
    shared_schemas = NULL;
    json_decref(parts);
    return doc;
}
