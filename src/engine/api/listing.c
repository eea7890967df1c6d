/* GET of a collection, for every kind: search=, sortby=, max=, page= and
 * the total. The filter is built from the store's fixed search expressions
 * with bound values; only the choice among them comes from the client.
 *
 * The total is a count(*) of the same filter. Counting every row for every
 * page costs PostgreSQL a scan per request, so totals are kept in a small
 * cache keyed by the filter and invalidated by any write to the kind's
 * table (vr_db_table_generation): a list repeated while nothing changed
 * counts once. A caller's filtered view (permissions) is counted afresh. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "fault.h"

#define MAX_CLAUSES 8
#define VALUE_LEN 256

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

int vr_search_parse(const vr_kind *k, const char *search, char *where, size_t wlen,
                    char values[][VALUE_LEN], vr_dbv *args, int *nargs, vr_error *err)
{
    *nargs = 0;
    where[0] = '\0';
    if (!search || !*search)
        return 0;
    if (strlen(search) > 1000)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "search expression too long");
    char *copy = strdup(search), *rest = copy;
    if (!copy)
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory");
    int rc = 0;
    for (;;) {
        char *and = strstr(rest, " and ");
        if (and)
            *and = '\0';
        char *eq = strchr(rest, '=');
        const vr_search *f = NULL;
        if (eq) {
            *eq = '\0';
            while (*rest == ' ')
                rest++;
            for (size_t i = 0; i < k->store->nsearch; i++)
                if (!strcmp(k->store->search[i].key, rest))
                    f = &k->store->search[i];
        }
        if (!f || *nargs >= MAX_CLAUSES) {
            rc = vr_error_set(err, VR_ERR_INVALID_PARAMS,
                              "cannot understand search clause '%.200s' (use FIELD=VALUE joined by ' and ')",
                              rest);
            break;
        }
        char *v = values[*nargs];
        if (strlen(eq + 1) >= VALUE_LEN / 2) { /* never matched cut short: refused */
            rc = vr_error_set(err, VR_ERR_INVALID_PARAMS, "search value for '%s' is longer than %d bytes", f->key,
                              VALUE_LEN / 2 - 1);
            break;
        }
        if (f->integer) {
            char *end;
            errno = 0;
            long long n = strtoll(eq + 1, &end, 10);
            if (errno || end == eq + 1 || *end) {
                rc = vr_error_set(err, VR_ERR_INVALID_PARAMS, "search field '%s' takes an integer", f->key);
                break;
            }
            args[*nargs] = DB_INT(n);
        } else {
            if (f->glob)
                glob_to_like(eq + 1, v, VALUE_LEN);
            else
                snprintf(v, VALUE_LEN, "%s", eq + 1);
            if (f->lower)
                for (char *p = v; *p; p++)
                    *p = (char)tolower((unsigned char)*p);
            args[*nargs] = DB_TEXT(v);
        }
        size_t used = strlen(where);
        snprintf(where + used, wlen - used, "%s(%s)", *nargs ? " AND " : "", f->expr);
        (*nargs)++;
        if (!and)
            break;
        rest = and + 5;
    }
    free(copy);
    return rc;
}

/* ---- the totals' cache ---- */

#define TOTALS 64
static struct {
    char key[1200];
    unsigned long long gen;
    long long total;
} totals[TOTALS];
static unsigned next_total;
static pthread_mutex_t totals_lock = PTHREAD_MUTEX_INITIALIZER;

static void total_key(char *key, size_t len, const char *sql, const vr_dbv *args, int nargs)
{
    int o = snprintf(key, len, "%s", sql);
    for (int i = 0; i < nargs && o > 0 && (size_t)o < len; i++)
        o += args[i].type == VR_DBV_INT    ? snprintf(key + o, len - (size_t)o, "\x1f%lld", args[i].i)
             : args[i].type == VR_DBV_REAL ? snprintf(key + o, len - (size_t)o, "\x1f%.17g", args[i].d)
                                           : snprintf(key + o, len - (size_t)o, "\x1f%s", args[i].s ?: "");
}

static int count_rows(vr_engine *e, const vr_kind *k, const char *sql, const vr_dbv *args, int nargs,
                      bool may_cache, long long *total, vr_error *err)
{
    char key[sizeof(totals[0].key)];
    total_key(key, sizeof(key), sql, args, nargs);
    /* Read the generation before counting: a write racing the count makes
     * the entry stale at once instead of hiding the write. */
    unsigned long long gen = vr_db_table_generation(e->db, k->store->table);
    /* a filtered count also depends on permissions: not kept */
    bool cacheable = may_cache && strlen(key) < sizeof(key) - 1;
    pthread_mutex_lock(&totals_lock);
    for (int i = 0; cacheable && i < TOTALS; i++)
        if (totals[i].gen == gen && gen && !strcmp(totals[i].key, key)) {
            *total = totals[i].total;
            pthread_mutex_unlock(&totals_lock);
            return 0;
        }
    pthread_mutex_unlock(&totals_lock);
    char count_sql[4400];
    snprintf(count_sql, sizeof(count_sql), "SELECT count(*) AS n FROM (%s) AS q", sql);
    json_t *cnt = vr_db_query_one(e->db, count_sql, args, nargs, err);
    if (!cnt)
        return err->code ? -1 : vr_error_set(err, VR_ERR_INTERNAL, "count returned no row");
    *total = json_integer_value(json_object_get(cnt, "n"));
    json_decref(cnt);
    if (cacheable && gen) {
        pthread_mutex_lock(&totals_lock);
        unsigned slot = next_total++ % TOTALS;
        snprintf(totals[slot].key, sizeof(totals[slot].key), "%s", key);
        totals[slot].gen = gen;
        totals[slot].total = *total;
        pthread_mutex_unlock(&totals_lock);
    }
    return 0;
}

/* sortby=FIELD or -FIELD (descending) among the kind's sortable fields. */
static int sort_order(const vr_kind *k, const char *sortby, char *order, size_t len, vr_error *err)
{
    if (!sortby) {
        snprintf(order, len, "%s", k->store->order);
        return 0;
    }
    bool desc = *sortby == '-';
    const vr_field *f = vr_kind_field(k, sortby + desc);
    if (!f || !(f->flags & VR_F_SORT))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "cannot sort %s by '%.64s'", k->collection, sortby);
    /* The field names are fixed strings of the table, never client text. */
    snprintf(order, len, "%s%s, %s", f->name, desc ? " DESC" : "", k->store->order);
    return 0;
}

int vr_list(vr_call *c, const char *parent_id, json_t **out, vr_error *err)
{
    const vr_kind *k = c->kind;
    const char *search = vr_http_arg(c->req, "search"), *smax = vr_http_arg(c->req, "max"),
               *spage = vr_http_arg(c->req, "page"), *sortby = vr_http_arg(c->req, "sortby");
    long max = 100, page = 1;
    char *end;
    if (smax && ((max = strtol(smax, &end, 10)) < 1 || max > 1000 || *end))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "max must be an integer from 1 to 1000");
    if (spage && ((page = strtol(spage, &end, 10)) < 1 || page > 1000000 || *end))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "page must be a positive integer");
    char where[1200], values[MAX_CLAUSES + 1][VALUE_LEN], order[256];
    vr_dbv args[MAX_CLAUSES + 6];
    int nargs;
    if (vr_search_parse(k, search, where, sizeof(where), values, args, &nargs, err) < 0 ||
        sort_order(k, sortby, order, sizeof(order), err) < 0)
        return -1;
    char sql[4096];
    /* Rows are wrapped in a subquery so search expressions name the
     * rendering's columns whatever the store's joins. */
    int n = snprintf(sql, sizeof(sql), "SELECT * FROM (%s) AS r", k->store->select);
    if (parent_id) {
        n += snprintf(sql + n, sizeof(sql) - (size_t)n, " WHERE %s = ?%s", k->parent_field, *where ? " AND " : "");
        memmove(&args[1], &args[0], sizeof(args[0]) * (size_t)nargs);
        snprintf(values[MAX_CLAUSES], VALUE_LEN, "%s", parent_id);
        args[0] = DB_TEXT(values[MAX_CLAUSES]);
        nargs++;
    } else if (*where) {
        n += snprintf(sql + n, sizeof(sql) - (size_t)n, " WHERE ");
    }
    n += snprintf(sql + n, sizeof(sql) - (size_t)n, "%s", where);
    /* Only what the caller may see (docs/permissions.md), in the total too. */
    char visible[1000];
    int nuser = vr_authz_filter(c, k, visible, sizeof(visible));
    bool filtered = nuser > 0;
    if (filtered)
        n += snprintf(sql + n, sizeof(sql) - (size_t)n, "%s%s", nargs ? " AND " : " WHERE ", visible);
    for (int i = 0; i < nuser; i++)
        args[nargs++] = DB_TEXT(c->user);
    if ((size_t)n >= sizeof(sql))
        return vr_error_set(err, VR_ERR_INTERNAL, "listing query too long (a defect)");
    long long total = 0;
    if (count_rows(c->e, k, sql, args, nargs, !filtered, &total, err) < 0)
        return -1;
    size_t used = strlen(sql);
    snprintf(sql + used, sizeof(sql) - used, " ORDER BY %s LIMIT ? OFFSET ?", order);
    args[nargs] = DB_INT(max);
    args[nargs + 1] = DB_INT((page - 1) * max);
    json_t *rows;
    if (vr_db_query(c->e->db, sql, args, nargs + 2, &rows, err) < 0)
        return -1;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) vr_kind_present(c->e, k, row);
    *out = json_pack("{s:o, s:I}", k->collection, rows, "total", (json_int_t)total);
    return 0;
}
