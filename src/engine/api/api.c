#include "api.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "jsonx.h"

json_t *api_body_keys(vr_http_req *req, vr_http_resp *resp, vr_names allowed)
{
    json_error_t jerr;
    json_t *body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!body) {
        vr_http_fault(resp, 400, "Bad Request", "malformed JSON at line %d column %d: %s", jerr.line,
                      jerr.column, jerr.text);
        return NULL;
    }
    vr_error err = {0};
    if (!json_is_object(body)) {
        vr_http_fault(resp, 400, "Bad Request", "the body must be a JSON object");
    } else if (vr_json_check_keys(body, "body", allowed, &err) < 0) {
        vr_http_fault(resp, 400, "Bad Request", "%s", err.message);
    } else {
        return body;
    }
    json_decref(body);
    return NULL;
}

void api_href(json_t *row, const char *collection)
{
    char href[256];
    snprintf(href, sizeof(href), "/api/%s/%s", collection,
             json_string_value(json_object_get(row, "id")) ?: "");
    json_object_set_new(row, "href", json_string(href));
}

void api_entity(vr_http_resp *resp, json_t *row, const char *collection, bool created)
{
    api_href(row, collection);
    resp->status = created ? 201 : 200;
    if (created)
        snprintf(resp->location, sizeof(resp->location), "%s",
                 json_string_value(json_object_get(row, "href")));
    resp->body = row;
}

int api_error(vr_http_resp *resp, const vr_error *err)
{
    static const char *const reasons[600] = {[400] = "Bad Request", [404] = "Not Found",
        [409] = "Conflict", [422] = "Unprocessable Entity", [500] = "Internal Server Error",
        [502] = "Bad Gateway", [503] = "Service Unavailable"};
    int status = vr_http_status_for(err);
    return vr_http_fault(resp, status, reasons[status] ?: "Error", "%s", err->message);
}

int api_check_name(vr_http_resp *resp, const char *name)
{
    size_t n = strlen(name);
    bool ok = n > 0 && n <= 64 && isalnum((unsigned char)name[0]);
    for (const char *p = name; ok && *p; p++)
        ok = isalnum((unsigned char)*p) || *p == '.' || *p == '-' || *p == '_';
    if (!ok)
        return vr_http_fault(resp, 400, "Bad Request",
                             "name must be 1-64 letters, digits, '.', '-' or '_', starting with a letter or digit");
    return 0;
}

/* Turn a glob into a LIKE pattern: * -> %, and escape LIKE's specials. */
static void glob_to_like(const char *in, char *out, size_t len)
{
    size_t o = 0;
    for (; *in && o + 3 < len; in++) {
        if (*in == '%' || *in == '_' || *in == '\\')
            out[o++] = '\\';
        out[o++] = *in == '*' ? '%' : *in;
    }
    out[o] = '\0';
}

#define MAX_CLAUSES 8

void api_list(vr_engine *e, vr_http_req *req, vr_http_resp *resp, const char *collection,
              const char *select_sql, const api_field *fields,
              void (*decorate)(vr_engine *e, json_t *row))
{
    api_list_ordered(e, req, resp, collection, select_sql, fields, decorate, "name, id", true);
}

void api_list_ordered(vr_engine *e, vr_http_req *req, vr_http_resp *resp, const char *collection,
                      const char *select_sql, const api_field *fields,
                      void (*decorate)(vr_engine *e, json_t *row), const char *order, bool href)
{
    const char *search = vr_http_arg(req, "search"), *smax = vr_http_arg(req, "max"),
               *spage = vr_http_arg(req, "page");
    long max = 100, page = 1;
    char *end;
    if (smax && ((max = strtol(smax, &end, 10)) < 1 || max > 1000 || *end)) {
        vr_http_fault(resp, 400, "Bad Request", "max must be an integer from 1 to 1000");
        return;
    }
    if (spage && ((page = strtol(spage, &end, 10)) < 1 || page > 1000000 || *end)) {
        vr_http_fault(resp, 400, "Bad Request", "page must be a positive integer");
        return;
    }
    char sql[2048], values[MAX_CLAUSES][256];
    vr_dbv args[MAX_CLAUSES + 2];
    int nargs = 0;
    snprintf(sql, sizeof(sql), "%s", select_sql);
    if (search && *search) {
        if (strlen(search) > 1000) {
            vr_http_fault(resp, 400, "Bad Request", "search expression too long");
            return;
        }
        char *copy = strdup(search), *rest = copy;
        for (;;) {
            char *and = strstr(rest, " and ");
            if (and)
                *and = '\0';
            char *eq = strchr(rest, '=');
            const api_field *f = NULL;
            if (eq) {
                *eq = '\0';
                for (char *k = rest; *k == ' '; k++)
                    rest = k + 1;
                for (const api_field *c = fields; c && c->key; c++)
                    if (!strcmp(c->key, rest))
                        f = c;
            }
            if (!f || nargs >= MAX_CLAUSES) {
                vr_http_fault(resp, 400, "Bad Request",
                              "cannot understand search clause '%s' (use FIELD=VALUE joined by ' and ')",
                              rest);
                free(copy);
                return;
            }
            char *v = values[nargs];
            if (f->integer) {
                char *end;
                errno = 0;
                long long n = strtoll(eq + 1, &end, 10);
                if (errno || end == eq + 1 || *end) {
                    vr_http_fault(resp, 400, "Bad Request", "search field '%s' takes an integer", f->key);
                    free(copy);
                    return;
                }
                args[nargs] = DB_INT(n);
            } else {
                if (f->glob)
                    glob_to_like(eq + 1, v, sizeof(values[0]));
                else
                    snprintf(v, sizeof(values[0]), "%s", eq + 1);
                if (f->lower)
                    for (char *p = v; *p; p++)
                        *p = (char)tolower((unsigned char)*p);
                args[nargs] = DB_TEXT(v);
            }
            size_t used = strlen(sql);
            snprintf(sql + used, sizeof(sql) - used, "%s(%s)", nargs ? " AND " : " WHERE ", f->expr);
            nargs++;
            if (!and)
                break;
            rest = and + 5;
        }
        free(copy);
    }
    /* Count first (same filter), then the page in stable order. */
    char count_sql[2300];
    snprintf(count_sql, sizeof(count_sql), "SELECT count(*) AS n FROM (%s) AS q", sql);
    vr_error err = {0};
    json_t *cnt = vr_db_query_one(e->db, count_sql, args, nargs, &err);
    if (!cnt) {
        api_error(resp, &err);
        return;
    }
    size_t used = strlen(sql);
    snprintf(sql + used, sizeof(sql) - used, " ORDER BY %s LIMIT ? OFFSET ?", order);
    args[nargs] = DB_INT(max);
    args[nargs + 1] = DB_INT((page - 1) * max);
    json_t *rows;
    if (vr_db_query(e->db, sql, args, nargs + 2, &rows, &err) < 0) {
        json_decref(cnt);
        api_error(resp, &err);
        return;
    }
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        if (decorate)
            decorate(e, row);
        if (href)
            api_href(row, collection);
    }
    resp->status = 200;
    resp->body = json_pack("{s:o, s:O}", collection, rows, "total", json_object_get(cnt, "n"));
    json_decref(cnt);
}

typedef void (*collection_fn)(vr_engine *, vr_http_req *, vr_http_resp *, const char *, const char *);

void api_handle(void *engine, vr_http_req *req, vr_http_resp *resp)
{
    vr_engine *e = engine;
    vr_db_thread_prefers_readers(true); /* an API thread: reads must not wait on monitors */
    static const struct {
        const char *name;
        collection_fn fn;
    } routes[] = {{"datacenters", api_datacenters}, {"clusters", api_clusters},
                  {"hosts", api_hosts}, {"vms", api_vms}, {"events", api_events},
                  {"jobs", api_jobs}};
    if (!strcmp(req->path, "/api/sso/token")) {
        if (!strcmp(req->method, "POST"))
            vr_auth_token(e, req, resp);
        else if (!strcmp(req->method, "DELETE"))
            vr_auth_logout(e, req, resp);
        else
            vr_http_fault(resp, 405, "Method Not Allowed", "use POST to log in, DELETE to log out");
        return;
    }
    if (!strcmp(req->path, "/api/openapi.json")) {
        /* The API's own description: public, like the token endpoint. */
        extern const char vr_openapi_doc[];
        json_error_t jerr;
        resp->body = json_loads(vr_openapi_doc, 0, &jerr);
        resp->status = resp->body ? 200 : 500;
        return;
    }
    if (strncmp(req->path, "/api", 4) || (req->path[4] && req->path[4] != '/')) {
        vr_http_fault(resp, 404, "Not Found", "no such resource (the API lives under /api)");
        return;
    }
    if (vr_auth_check(e, req, resp) < 0)
        return;
    /* /api/COLLECTION[/ID[/ACTION]] */
    char parts[3][128] = {"", "", ""};
    int n = 0;
    const char *p = req->path + 4;
    while (*p == '/' && n < 4) {
        p++;
        size_t len = strcspn(p, "/");
        if (len == 0 || len >= sizeof(parts[0]) || n == 3) {
            if (len == 0 && !p[len])
                break; /* trailing slash */
            vr_http_fault(resp, 404, "Not Found", "no such resource");
            return;
        }
        memcpy(parts[n], p, len);
        parts[n][len] = '\0';
        n++;
        p += len;
    }
    if (n == 0) {
        resp->status = 200;
        resp->body = json_pack("{s:s, s:[s,s,s,s,s,s]}", "product", "vireo", "collections",
                               "datacenters", "clusters", "hosts", "vms", "events", "jobs");
        return;
    }
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (!strcmp(parts[0], routes[i].name)) {
            routes[i].fn(e, req, resp, n > 1 ? parts[1] : NULL, n > 2 ? parts[2] : NULL);
            return;
        }
    vr_http_fault(resp, 404, "Not Found", "no collection '%s'", parts[0]);
}
