/* Quota checks and usage (quota.h). The rule per resource, as RHV has
 * it: under threshold% of the limit nothing is said; above it an event;
 * over the limit but within limit * (100 + grace)% a warning and the
 * request passes; beyond that audit mode warns and lets it pass, enforced
 * mode refuses. A limit of -1 is unlimited. */
#include "quota.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "perm.h"

#define GIB (1LL << 30)

static pthread_mutex_t quota_mu = PTHREAD_MUTEX_INITIALIZER;

void vr_quota_lock(void)
{
    pthread_mutex_lock(&quota_mu);
}

void vr_quota_unlock(void)
{
    pthread_mutex_unlock(&quota_mu);
}

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

static long long num(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static void dc_of(vr_engine *e, const char *sql, const char *id, char out[37])
{
    json_t *r = id && *id ? vr_db_query_one(e->db, sql, DB_ARGS(DB_TEXT(id)), NULL) : NULL;
    snprintf(out, 37, "%s", str(r, "dc"));
    json_decref(r);
}

void vr_quota_dc_of_cluster(vr_engine *e, const char *cluster_id, char out[37])
{
    dc_of(e, "SELECT datacenter_id AS dc FROM clusters WHERE id = ?", cluster_id, out);
}

void vr_quota_dc_of_domain(vr_engine *e, const char *sd_id, char out[37])
{
    dc_of(e, "SELECT datacenter_id AS dc FROM storage_domains WHERE id = ?", sd_id, out);
}

/* One sum over a quota's consumers (cond: an extra condition on one id, or ""). */
static long long sum(vr_engine *e, const char *sql, const char *quota_id, const char *extra)
{
    json_t *r = extra ? vr_db_query_one(e->db, sql, DB_ARGS(DB_TEXT(quota_id), DB_TEXT(extra)), NULL)
                      : vr_db_query_one(e->db, sql, DB_ARGS(DB_TEXT(quota_id)), NULL);
    long long n = num(r, "n");
    json_decref(r);
    return n;
}

#define VM_SUM(col, cond) "SELECT CAST(coalesce(sum(" col "), 0) AS BIGINT) AS n FROM vms WHERE quota_id = ?" cond
#define DISK_SUM(cond) "SELECT CAST(coalesce(sum(provisioned_size), 0) AS BIGINT) AS n FROM disks WHERE quota_id = ?" \
    cond

/* One resource under one limit. */
typedef struct {
    const char *resource;   /* "vcpus", "memory_mib", "storage" */
    char scope[120];        /* "" (the whole quota) or " in cluster 'c1'" */
    long long used, add, limit; /* limit in the resource's unit (storage: bytes) */
    long long grace, threshold;
} check;

static void amount(const check *k, long long v, char *out, size_t len)
{
    if (!strcmp(k->resource, "storage"))
        snprintf(out, len, "%.2f GiB", (double)v / GIB);
    else if (!strcmp(k->resource, "memory_mib"))
        snprintf(out, len, "%lld MiB", v);
    else
        snprintf(out, len, "%lld", v);
}

/* 0: admitted (events written), -1: refused. */
static int judge(vr_engine *e, const char *user, json_t *q, const char *mode, const vr_quota_ask *ask, const check *k,
                 vr_error *err)
{
    if (k->limit < 0 || k->add <= 0)
        return 0;
    long long after = k->used + k->add;
    char a[40], u[40], l[40], d[40];
    amount(k, after, a, sizeof(a));
    amount(k, k->used, u, sizeof(u));
    amount(k, k->add, d, sizeof(d));
    amount(k, k->limit, l, sizeof(l));
    const char *label = !strcmp(k->resource, "storage") ? "storage" : !strcmp(k->resource, "vcpus") ? "vCPUs"
                                                                                                   : "memory";
    char text[600];
    snprintf(text, sizeof(text), "quota '%s': %s %s%s would be %s (%s in use + %s asked), limit %s", str(q, "name"),
             ask->what, label, k->scope, a, u, d, l);
    /* Compared in hundredths so that percentages of small limits stay exact. */
    if (after * 100 > k->limit * (100 + k->grace)) {
        if (!strcmp(mode, "enforced"))
            return vr_error_set(err, VR_ERR_CONFLICT, "%s plus %lld%% grace: refused (quota mode enforced)", text,
                                k->grace);
        vr_event(e, "warning", user, "quota", str(q, "id"), "quota exceeded (audit mode, let through): %s plus %lld%%"
                 " grace", text, k->grace);
    } else if (after > k->limit) {
        vr_event(e, "warning", user, "quota", str(q, "id"), "quota exceeded within its %lld%% grace: %s", k->grace,
                 text);
    } else if (after * 100 > k->limit * k->threshold) {
        vr_event(e, "normal", user, "quota", str(q, "id"), "quota above its %lld%% threshold: %s", k->threshold, text);
    }
    return 0;
}

/* The limit object of `list` (cluster_limits / storage_limits) for id. */
static json_t *limit_for(json_t *list, const char *member, const char *id)
{
    size_t i;
    json_t *l;
    json_array_foreach(list, i, l) if (!strcmp(str(l, member), id)) return l;
    return NULL;
}

static void name_of(vr_engine *e, const char *table, const char *id, const char *title, char *out, size_t len)
{
    char sql[120];
    snprintf(sql, sizeof(sql), "SELECT name FROM %s WHERE id = ?", table); /* table: a fixed name, never input */
    json_t *r = vr_db_query_one(e->db, sql, DB_ARGS(DB_TEXT(id)), NULL);
    snprintf(out, len, " in %s '%.64s'", title, r ? str(r, "name") : id);
    json_decref(r);
}

static int judge_all(vr_engine *e, const char *user, json_t *q, const char *mode, const vr_quota_ask *ask,
                     vr_error *err)
{
    const char *qid = str(q, "id");
    long long cgrace = num(q, "cluster_grace_pct"), sgrace = num(q, "storage_grace_pct");
    long long cth = num(q, "cluster_threshold_pct"), sth = num(q, "storage_threshold_pct");
    if (ask->cluster_id && *ask->cluster_id) {
        check k[4] = {
            {"vcpus", "", sum(e, VM_SUM("vcpus", ""), qid, NULL), ask->vcpus, num(q, "vcpus"), cgrace, cth},
            {"memory_mib", "", sum(e, VM_SUM("memory_mib", ""), qid, NULL), ask->memory_mib, num(q, "memory_mib"),
             cgrace, cth},
            {"vcpus", "", 0, ask->vcpus, -1, cgrace, cth},
            {"memory_mib", "", 0, ask->memory_mib, -1, cgrace, cth},
        };
        json_t *cl = limit_for(json_object_get(q, "cluster_limits"), "cluster_id", ask->cluster_id);
        if (cl) {
            name_of(e, "clusters", ask->cluster_id, "cluster", k[2].scope, sizeof(k[2].scope));
            memcpy(k[3].scope, k[2].scope, sizeof(k[3].scope));
            k[2].used = sum(e, VM_SUM("vcpus", " AND cluster_id = ?"), qid, ask->cluster_id);
            k[3].used = sum(e, VM_SUM("memory_mib", " AND cluster_id = ?"), qid, ask->cluster_id);
            k[2].limit = num(cl, "vcpus");
            k[3].limit = num(cl, "memory_mib");
        }
        for (int i = 0; i < 4; i++)
            if (judge(e, user, q, mode, ask, &k[i], err) < 0)
                return -1;
    }
    long long total = 0;
    const char *sd;
    json_t *v;
    json_object_foreach(ask->storage, sd, v) total += json_integer_value(v);
    if (total) {
        check k = {"storage", "", sum(e, DISK_SUM(""), qid, NULL), total,
                   num(q, "storage_gib") < 0 ? -1 : num(q, "storage_gib") * GIB, sgrace, sth};
        if (judge(e, user, q, mode, ask, &k, err) < 0)
            return -1;
    }
    json_object_foreach(ask->storage, sd, v) {
        json_t *sl = limit_for(json_object_get(q, "storage_limits"), "storage_domain_id", sd);
        if (!sl || num(sl, "storage_gib") < 0)
            continue;
        check k = {"storage", "", sum(e, DISK_SUM(" AND storage_domain_id = ?"), qid, sd), json_integer_value(v),
                   num(sl, "storage_gib") * GIB, sgrace, sth};
        name_of(e, "storage_domains", sd, "storage domain", k.scope, sizeof(k.scope));
        if (judge(e, user, q, mode, ask, &k, err) < 0)
            return -1;
    }
    return 0;
}

#define QUOTA_COLS "id, name, datacenter_id, vcpus, memory_mib, storage_gib, cluster_grace_pct, storage_grace_pct," \
    " cluster_threshold_pct, storage_threshold_pct, cluster_limits_json, storage_limits_json"

int vr_quota_take(vr_engine *e, const char *user, const char *given, const vr_quota_ask *ask, char out[37],
                  vr_error *err)
{
    out[0] = '\0';
    if (!ask->dc_id || !*ask->dc_id) {
        if (given && *given)
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s belongs to no data center: it can have no quota",
                                ask->what);
        return 0;
    }
    json_t *dc = vr_db_query_one(e->db, "SELECT name, quota_mode FROM datacenters WHERE id = ?",
                                 DB_ARGS(DB_TEXT(ask->dc_id)), err);
    if (!dc)
        return err->code ? -1 : 0;
    const char *mode = str(dc, "quota_mode");
    json_t *q = NULL;
    int rc = 0;
    if (given && *given) {
        q = vr_db_query_one(e->db, "SELECT " QUOTA_COLS " FROM quotas WHERE id = ?", DB_ARGS(DB_TEXT(given)), err);
        if (!q && !err->code)
            rc = vr_error_set(err, VR_ERR_INVALID_PARAMS, "no quota with id '%.64s'", given);
        else if (q && strcmp(str(q, "datacenter_id"), ask->dc_id))
            rc = vr_error_set(err, VR_ERR_INVALID_PARAMS, "quota '%s' is of another data center than %s (data center"
                              " '%s')", str(q, "name"), ask->what, str(dc, "name"));
        else if (!q)
            rc = -1;
    } else {
        json_t *rows = NULL;
        if (vr_db_query(e->db, "SELECT " QUOTA_COLS " FROM quotas WHERE datacenter_id = ? ORDER BY name LIMIT 2",
                        DB_ARGS(DB_TEXT(ask->dc_id)), &rows, err) < 0)
            rc = -1;
        else if (json_array_size(rows) == 1)
            q = json_incref(json_array_get(rows, 0));
        else if (!strcmp(mode, "enforced"))
            rc = vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s needs a quota: data center '%s' enforces quotas and"
                              " has %s; name one in 'quota'", ask->what, str(dc, "name"),
                              json_array_size(rows) ? "several" : "none");
        json_decref(rows);
    }
    if (rc == 0 && q) {
        snprintf(out, 37, "%s", str(q, "id"));
        if (strcmp(mode, "disabled")) {
            bool admin = !user || !strcmp(user, VR_ADMIN_USER);
            int ok = admin ? 1 : vr_perm_allows(e, user, str(q, "id"), "consume_quota", err);
            if (ok == 0) {
                rc = vr_error_set(err, VR_ERR_FORBIDDEN, "user '%s' may not consume quota '%s' (for %s): that needs"
                                  " action group 'consume_quota' from a role on the quota or above it (QuotaConsumer)",
                                  user, str(q, "name"), ask->what);
                vr_event(e, "warning", user, "quota", str(q, "id"), "permission denied: %s", err->message);
            } else if (ok < 0) {
                rc = -1;
            } else {
                rc = judge_all(e, user, q, mode, ask, err);
            }
        }
    }
    json_decref(q);
    json_decref(dc);
    return rc;
}

json_t *vr_quota_usage(vr_engine *e, const char *quota_id)
{
    json_t *rows = NULL, *r, *clusters = json_array(), *domains = json_array();
    size_t i;
    vr_db_query(e->db, "SELECT cluster_id, CAST(sum(vcpus) AS BIGINT) AS vcpus, CAST(sum(memory_mib) AS BIGINT) AS"
                " memory_mib FROM vms WHERE quota_id = ? GROUP BY cluster_id ORDER BY cluster_id",
                DB_ARGS(DB_TEXT(quota_id)), &rows, NULL);
    long long vcpus = 0, mem = 0, bytes = 0;
    json_array_foreach(rows, i, r) {
        vcpus += num(r, "vcpus");
        mem += num(r, "memory_mib");
        json_array_append(clusters, r);
    }
    json_decref(rows);
    rows = NULL;
    vr_db_query(e->db, "SELECT storage_domain_id, CAST(sum(provisioned_size) AS BIGINT) AS bytes FROM disks"
                " WHERE quota_id = ? GROUP BY storage_domain_id ORDER BY storage_domain_id",
                DB_ARGS(DB_TEXT(quota_id)), &rows, NULL);
    json_array_foreach(rows, i, r) {
        bytes += num(r, "bytes");
        json_array_append_new(domains, json_pack("{s:s, s:f}", "storage_domain_id", str(r, "storage_domain_id"),
                                                 "storage_gib", (double)num(r, "bytes") / GIB));
    }
    json_decref(rows);
    return json_pack("{s:I, s:I, s:f, s:o, s:o}", "vcpus", (json_int_t)vcpus, "memory_mib", (json_int_t)mem,
                     "storage_gib", (double)bytes / GIB, "clusters", clusters, "storage_domains", domains);
}
