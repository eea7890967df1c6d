/* The data-access layer on both backends, through the public API only:
 * migrations, round trips, constraint error codes, "_json" columns, the
 * SQL dialect the engine uses (LIKE ... ESCAPE, ON CONFLICT upserts, count
 * subqueries, paging), transactions and threads. SQLite always runs (a
 * temporary file); PostgreSQL runs when VIREO_TEST_PG_URI names a database,
 * in a schema of its own that is dropped afterwards. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libpq-fe.h>

#include "check.h"
#include "db.h"

#define DC1 "11111111-1111-4111-8111-111111111111"
#define DC2 "22222222-2222-4222-8222-222222222222"
#define CL1 "33333333-3333-4333-8333-333333333333"
#define H1 "44444444-4444-4444-8444-444444444444"
#define VM1 "55555555-5555-4555-8555-555555555555"
#define NOPE "99999999-9999-4999-8999-999999999999"

#define CHECK_STR(row, key, want)                                                            \
    do {                                                                                     \
        const char *got_ = json_string_value(json_object_get((row), (key)));                 \
        if (!got_ || strcmp(got_, (want))) {                                                 \
            fprintf(stderr, "%s:%d: %s is '%s', want '%s'\n", __FILE__, __LINE__, (key),     \
                    got_ ? got_ : "(not a string)", (want));                                 \
            check_failures++;                                                                \
        }                                                                                    \
    } while (0)

#define CHECK_INT(row, key, want)                                                            \
    do {                                                                                     \
        json_t *v_ = json_object_get((row), (key));                                          \
        if (!json_is_integer(v_) || json_integer_value(v_) != (want)) {                      \
            char *d_ = v_ ? json_dumps(v_, JSON_ENCODE_ANY) : NULL;                          \
            fprintf(stderr, "%s:%d: %s is %s, want integer %lld\n", __FILE__, __LINE__, (key), \
                    d_ ? d_ : "(missing)", (long long)(want));                               \
            free(d_);                                                                        \
            check_failures++;                                                                \
        }                                                                                    \
    } while (0)

static long long count_of(vr_db *db, const char *sql, const char *arg)
{
    vr_error err = {0};
    json_t *row = arg ? vr_db_query_one(db, sql, DB_ARGS(DB_TEXT(arg)), &err)
                      : vr_db_query_one(db, sql, DB_NOARGS, &err);
    if (!row) {
        fprintf(stderr, "count query failed: %s\n", err.message);
        return -1;
    }
    long long n = json_integer_value(json_object_get(row, "n"));
    json_decref(row);
    return n;
}

static int add_dc(vr_db *db, const char *id, const char *name, vr_error *err)
{
    return vr_db_exec(db, "INSERT INTO datacenters (id, name, description, created_at) VALUES (?,?,?,?)",
                      DB_ARGS(DB_TEXT(id), DB_TEXT(name), DB_TEXT(""), DB_INT(1700000000)), err);
}

static void test_round_trip_and_constraints(vr_db *db)
{
    vr_error err = {0};
    const char *desc = "it's a \"dc\" ? with 'quotes', \\ and \xc3\xa9";
    CHECK(vr_db_exec(db, "INSERT INTO datacenters (id, name, description, created_at) VALUES (?,?,?,?)",
                     DB_ARGS(DB_TEXT(DC1), DB_TEXT("dc1"), DB_TEXT(desc), DB_INT(5000000000123LL)),
                     &err) == 1);
    json_t *row = vr_db_query_one(db, "SELECT id, name, description, created_at FROM datacenters"
                                  " WHERE id = ?", DB_ARGS(DB_TEXT(DC1)), &err);
    CHECK(row != NULL);
    CHECK_STR(row, "id", DC1);
    CHECK_STR(row, "name", "dc1");
    CHECK_STR(row, "description", desc);
    CHECK_INT(row, "created_at", 5000000000123LL); /* beyond 32 bits */
    CHECK(json_object_size(row) == 4);
    json_decref(row);
    /* No row: NULL without an error. */
    vr_error_clear(&err);
    CHECK(vr_db_query_one(db, "SELECT id FROM datacenters WHERE id = ?", DB_ARGS(DB_TEXT(NOPE)),
                          &err) == NULL);
    CHECK(err.code == 0);

    /* UNIQUE (name) and PRIMARY KEY (id) violations: conflicts. */
    vr_error_clear(&err);
    CHECK(add_dc(db, DC2, "dc1", &err) == -1);
    CHECK(err.code == VR_ERR_CONFLICT);
    CHECK_STR_CONTAINS(err.message, "datacenters");
    vr_error_clear(&err);
    CHECK(add_dc(db, DC1, "other", &err) == -1);
    CHECK(err.code == VR_ERR_CONFLICT);
    CHECK(count_of(db, "SELECT count(*) AS n FROM datacenters", NULL) == 1);

    /* FOREIGN KEY: a cluster in a missing data center, deleting a data
     * center that still has a cluster. */
    vr_error_clear(&err);
    CHECK(vr_db_exec(db, "INSERT INTO clusters (id, name, description, datacenter_id, cpu_type,"
                     " virt_mode, created_at) VALUES (?,?,?,?,?,?,?)",
                     DB_ARGS(DB_TEXT(CL1), DB_TEXT("cl1"), DB_TEXT(""), DB_TEXT(NOPE),
                             DB_TEXT("qemu64"), DB_TEXT("any"), DB_INT(1)), &err) == -1);
    CHECK(err.code == VR_ERR_BAD_STATE);
    vr_error_clear(&err);
    CHECK(vr_db_exec(db, "INSERT INTO clusters (id, name, description, datacenter_id, cpu_type,"
                     " virt_mode, created_at) VALUES (?,?,?,?,?,?,?)",
                     DB_ARGS(DB_TEXT(CL1), DB_TEXT("cl1"), DB_TEXT(""), DB_TEXT(DC1),
                             DB_TEXT("qemu64"), DB_TEXT("any"), DB_INT(1)), &err) == 1);
    CHECK(vr_db_exec(db, "DELETE FROM datacenters WHERE id = ?", DB_ARGS(DB_TEXT(DC1)), &err) == -1);
    CHECK(err.code == VR_ERR_BAD_STATE);
    /* coalesce with a NULL parameter keeps the column (api_inventory.c) */
    vr_error_clear(&err);
    CHECK(vr_db_exec(db, "UPDATE clusters SET name = ?, description = ?,"
                     " cpu_type = coalesce(?, cpu_type), virt_mode = coalesce(?, virt_mode) WHERE id = ?",
                     DB_ARGS(DB_TEXT("cl1"), DB_TEXT("d"), DB_NULL, DB_TEXT("kvm"), DB_TEXT(CL1)),
                     &err) == 1);
    row = vr_db_query_one(db, "SELECT cpu_type, virt_mode FROM clusters WHERE id = ?",
                          DB_ARGS(DB_TEXT(CL1)), &err);
    CHECK_STR(row, "cpu_type", "qemu64");
    CHECK_STR(row, "virt_mode", "kvm");
    json_decref(row);
    /* rows changed: 0 when nothing matches */
    CHECK(vr_db_exec(db, "UPDATE clusters SET description = ? WHERE id = ?",
                     DB_ARGS(DB_TEXT("x"), DB_TEXT(NOPE)), &err) == 0);
}

static void test_json_columns(vr_db *db)
{
    vr_error err = {0};
    CHECK(vr_db_exec(db, "INSERT INTO hosts (id, name, description, cluster_id, address, port,"
                     " status, created_at) VALUES (?,?,?,?,?,?, 'installing', ?)",
                     DB_ARGS(DB_TEXT(H1), DB_TEXT("h1"), DB_TEXT(""), DB_TEXT(CL1),
                             DB_TEXT("127.0.0.1"), DB_INT(16514), DB_INT(2)), &err) == 1);
    CHECK(vr_db_exec(db, "UPDATE hosts SET capabilities_json = ? WHERE id = ?",
                     DB_ARGS(DB_TEXT("{\"virt_mode\":\"kvm\",\"cpus\":8,\"models\":[\"a\"]}"),
                             DB_TEXT(H1)), &err) == 1);
    json_t *row = vr_db_query_one(db, "SELECT id, name, address, port, status, status_detail, last_seen,"
                                  " capabilities_json, stats_json, created_at FROM hosts WHERE id = ?",
                                  DB_ARGS(DB_TEXT(H1)), &err);
    CHECK(row != NULL);
    json_t *caps = json_object_get(row, "capabilities");
    CHECK(json_is_object(caps));
    CHECK_STR(caps, "virt_mode", "kvm");
    CHECK_INT(caps, "cpus", 8);
    CHECK(json_is_array(json_object_get(caps, "models")));
    CHECK(json_object_get(row, "capabilities_json") == NULL);
    CHECK(json_is_null(json_object_get(row, "stats"))); /* SQL NULL */
    CHECK_INT(row, "port", 16514);
    CHECK_INT(row, "last_seen", 0); /* column default */
    CHECK_STR(row, "status_detail", "");
    json_decref(row);
    /* Aliased (scheduler.c) and unparsable JSON. */
    CHECK(vr_db_exec(db, "UPDATE hosts SET stats_json = ? WHERE id = ?",
                     DB_ARGS(DB_TEXT("{not json"), DB_TEXT(H1)), &err) == 1);
    row = vr_db_query_one(db, "SELECT h.capabilities_json AS capabilities_json, h.stats_json AS stats_json"
                          " FROM hosts h WHERE h.id = ?", DB_ARGS(DB_TEXT(H1)), &err);
    CHECK(json_is_object(json_object_get(row, "capabilities")));
    CHECK(json_is_null(json_object_get(row, "stats")));
    json_decref(row);
}

static void test_like_and_paging(vr_db *db)
{
    vr_error err = {0};
    static const char *const names[] = {"web_1", "webX1", "a%b", "aXb", "Zed", "alpha"};
    char id[40];
    for (int i = 0; i < 6; i++) {
        snprintf(id, sizeof(id), "d%d", i);
        CHECK(add_dc(db, id, names[i], &err) == 1);
    }
    /* '_' and '%' escaped as api.c's glob_to_like does */
    CHECK(count_of(db, "SELECT count(*) AS n FROM datacenters WHERE name LIKE ? ESCAPE '\\'",
                   "web\\_%") == 1);
    CHECK(count_of(db, "SELECT count(*) AS n FROM datacenters WHERE name LIKE ? ESCAPE '\\'",
                   "web%") == 2);
    CHECK(count_of(db, "SELECT count(*) AS n FROM datacenters WHERE name LIKE ? ESCAPE '\\'",
                   "a\\%b") == 1);
    CHECK(count_of(db, "SELECT count(*) AS n FROM datacenters WHERE name LIKE ? ESCAPE '\\'",
                   "a_b") == 2);
    /* api_list: count over a subquery, then a page in stable order. */
    const char *sel = "SELECT id, name, description, created_at FROM datacenters WHERE (name LIKE ? ESCAPE '\\')";
    char sql[512];
    snprintf(sql, sizeof(sql), "SELECT count(*) AS n FROM (%s) AS q", sel);
    json_t *cnt = vr_db_query_one(db, sql, DB_ARGS(DB_TEXT("%")), &err);
    CHECK_INT(cnt, "n", 7);
    json_decref(cnt);
    snprintf(sql, sizeof(sql), "%s ORDER BY name, id LIMIT ? OFFSET ?", sel);
    json_t *rows = NULL;
    CHECK(vr_db_query(db, sql, DB_ARGS(DB_TEXT("%"), DB_INT(3), DB_INT(2)), &rows, &err) == 0);
    /* bytewise order: Zed a%b aXb alpha dc1 webX1 web_1 */
    CHECK(json_array_size(rows) == 3);
    CHECK_STR(json_array_get(rows, 0), "name", "aXb");
    CHECK_STR(json_array_get(rows, 1), "name", "alpha");
    CHECK_STR(json_array_get(rows, 2), "name", "dc1");
    json_decref(rows);
    rows = NULL;
    CHECK(vr_db_query(db, "SELECT name FROM datacenters ORDER BY name, id LIMIT ?",
                      DB_ARGS(DB_INT(1)), &rows, &err) == 0);
    CHECK_STR(json_array_get(rows, 0), "name", "Zed");
    json_decref(rows);
    /* '?' inside literals is not a placeholder; too many arguments fail */
    json_t *row = vr_db_query_one(db, "SELECT '?' AS q, 'it''s ?' AS r, ? AS p FROM datacenters"
                                  " WHERE id = ? /* ? */", DB_ARGS(DB_TEXT("x"), DB_TEXT(DC1)), &err);
    CHECK_STR(row, "q", "?");
    CHECK_STR(row, "r", "it's ?");
    CHECK_STR(row, "p", "x");
    json_decref(row);
    vr_error_clear(&err);
    CHECK(vr_db_exec(db, "DELETE FROM datacenters WHERE id = ?", DB_ARGS(DB_TEXT("x"), DB_TEXT("y")),
                     &err) == -1);
    CHECK(err.code != 0);
    vr_error_clear(&err);
    CHECK(vr_db_exec(db, "SELEKT 1", DB_NOARGS, &err) == -1);
    CHECK(err.code == VR_ERR_INTERNAL);
    CHECK_STR_CONTAINS(err.message, "database");
}

static void test_upsert(vr_db *db)
{
    vr_error err = {0};
    /* auth.c's upsert in the portable form: PostgreSQL refuses a bare
     * "count + 1" (ambiguous between the row and "excluded"). */
    const char *sql = "INSERT INTO login_failures (name, count, last_at) VALUES (?, 1, ?) "
                      "ON CONFLICT(name) DO UPDATE SET count = login_failures.count + 1,"
                      " last_at = excluded.last_at";
    CHECK(vr_db_exec(db, sql, DB_ARGS(DB_TEXT("bob"), DB_INT(100)), &err) == 1);
    CHECK(vr_db_exec(db, sql, DB_ARGS(DB_TEXT("bob"), DB_INT(200)), &err) == 1);
    CHECK(vr_db_exec(db, sql, DB_ARGS(DB_TEXT("bob"), DB_INT(300)), &err) == 1);
    CHECK(vr_db_exec(db, sql, DB_ARGS(DB_TEXT("eve"), DB_INT(400)), &err) == 1);
    json_t *row = vr_db_query_one(db, "SELECT count, last_at FROM login_failures WHERE name = ?",
                                  DB_ARGS(DB_TEXT("bob")), &err);
    CHECK_INT(row, "count", 3);
    CHECK_INT(row, "last_at", 300);
    json_decref(row);
    CHECK(vr_db_exec(db, "DELETE FROM login_failures WHERE name = ?", DB_ARGS(DB_TEXT("bob")), &err) == 1);
}

static void test_transactions(vr_db *db)
{
    vr_error err = {0};
    CHECK(vr_db_begin(db, &err) == 0);
    CHECK(add_dc(db, "t1", "tx-rolled-back", &err) == 1);
    CHECK(count_of(db, "SELECT count(*) AS n FROM datacenters WHERE name = ?", "tx-rolled-back") == 1);
    vr_db_rollback(db);
    CHECK(count_of(db, "SELECT count(*) AS n FROM datacenters WHERE name = ?", "tx-rolled-back") == 0);

    /* A failed statement leaves the transaction usable (api_vms.c retries
     * a MAC after a conflict inside its transaction). */
    CHECK(vr_db_begin(db, &err) == 0);
    CHECK(add_dc(db, "t2", "tx-kept", &err) == 1);
    vr_error_clear(&err);
    CHECK(add_dc(db, "t3", "tx-kept", &err) == -1);
    CHECK(err.code == VR_ERR_CONFLICT);
    vr_error_clear(&err);
    CHECK(add_dc(db, "t3", "tx-kept-too", &err) == 1);
    CHECK(vr_db_begin(db, &err) == -1); /* no nesting */
    vr_error_clear(&err);
    CHECK(vr_db_commit(db, &err) == 0);
    CHECK(count_of(db, "SELECT count(*) AS n FROM datacenters WHERE name LIKE ?", "tx-kept%") == 2);
}

static void test_cascade_sum_events(vr_db *db)
{
    vr_error err = {0};
    CHECK(vr_db_exec(db, "INSERT INTO vms (id, name, description, cluster_id, status, memory_mib,"
                     " vcpus, spec_json, created_at) VALUES (?,?,?,?, 'down', ?,?,?,?)",
                     DB_ARGS(DB_TEXT(VM1), DB_TEXT("vm1"), DB_TEXT(""), DB_TEXT(CL1), DB_INT(512),
                             DB_INT(2), DB_TEXT("{\"nics\":[]}"), DB_INT(3)), &err) == 1);
    CHECK(vr_db_exec(db, "UPDATE vms SET status = 'up', host_id = ? WHERE id = ?",
                     DB_ARGS(DB_TEXT(H1), DB_TEXT(VM1)), &err) == 1);
    CHECK(vr_db_exec(db, "INSERT INTO macs (mac, vm_id) VALUES (?, ?)",
                     DB_ARGS(DB_TEXT("56:6f:00:00:00:01"), DB_TEXT(VM1)), &err) == 1);
    vr_error_clear(&err);
    CHECK(vr_db_exec(db, "INSERT INTO macs (mac, vm_id) VALUES (?, ?)",
                     DB_ARGS(DB_TEXT("56:6f:00:00:00:01"), DB_TEXT(VM1)), &err) == -1);
    CHECK(err.code == VR_ERR_CONFLICT);
    /* scheduler.c: sum() of integers is an integer on both backends */
    json_t *rows = NULL;
    CHECK(vr_db_query(db, "SELECT h.id AS id, (SELECT coalesce(sum(v.memory_mib), 0) FROM vms v"
                      " WHERE v.host_id = h.id AND v.status != 'down') AS committed_mib"
                      " FROM hosts h WHERE h.cluster_id = ? ORDER BY h.name, h.id",
                      DB_ARGS(DB_TEXT(CL1)), &rows, &err) == 0);
    CHECK_INT(json_array_get(rows, 0), "committed_mib", 512);
    json_decref(rows);
    /* VM_SELECT of api_vms.c: a scalar subquery column */
    json_t *row = vr_db_query_one(db, "SELECT v.id AS id, (SELECT name FROM hosts WHERE id = v.host_id)"
                                  " AS host, v.spec_json AS spec_json FROM vms v WHERE v.id = ?",
                                  DB_ARGS(DB_TEXT(VM1)), &err);
    CHECK_STR(row, "host", "h1");
    CHECK(json_is_array(json_object_get(json_object_get(row, "spec"), "nics")));
    json_decref(row);
    CHECK(vr_db_exec(db, "UPDATE vms SET status = 'down', host_id = NULL WHERE id = ?",
                     DB_ARGS(DB_TEXT(VM1)), &err) == 1);
    CHECK(vr_db_exec(db, "DELETE FROM vms WHERE id = ? AND status = 'down'", DB_ARGS(DB_TEXT(VM1)),
                     &err) == 1);
    CHECK(count_of(db, "SELECT count(*) AS n FROM macs", NULL) == 0); /* ON DELETE CASCADE */

    /* events: generated ids, the api_events.c query verbatim */
    for (int i = 0; i < 3; i++)
        CHECK(vr_db_exec(db, "INSERT INTO events (time, severity, user_name, object_type, object_id, message)"
                         " VALUES (?,?,?,?,?,?)", DB_ARGS(DB_INT(10 + i), DB_TEXT("normal"), DB_TEXT("u"),
                                                          DB_TEXT("vm"), DB_TEXT(VM1), DB_TEXT("m")),
                         &err) == 1);
    rows = NULL;
    CHECK(vr_db_query(db, "SELECT id, time, severity, user_name AS user, object_type, object_id,"
                      " message FROM events ORDER BY id DESC LIMIT ?", DB_ARGS(DB_INT(2)), &rows,
                      &err) == 0);
    CHECK(json_array_size(rows) == 2);
    json_t *e0 = json_array_get(rows, 0), *e1 = json_array_get(rows, 1);
    CHECK_INT(e0, "time", 12);
    CHECK_STR(e0, "user", "u");
    CHECK(json_is_integer(json_object_get(e0, "id")) &&
          json_integer_value(json_object_get(e0, "id")) > json_integer_value(json_object_get(e1, "id")));
    json_decref(rows);
}

struct worker {
    vr_db *db;
    int n, failures;
};

static void *worker(void *p)
{
    struct worker *w = p;
    for (int i = 0; i < 25; i++) {
        vr_error err = {0};
        bool tx = i % 2 == 0;
        if (tx && vr_db_begin(w->db, &err) < 0) {
            w->failures++;
            continue;
        }
        if (vr_db_exec(w->db, "INSERT INTO events (time, severity, message) VALUES (?, 'normal', ?)",
                       DB_ARGS(DB_INT(w->n), DB_TEXT("threaded")), &err) != 1)
            w->failures++;
        if (tx && vr_db_commit(w->db, &err) < 0)
            w->failures++;
    }
    return NULL;
}

static void test_threads(vr_db *db)
{
    struct worker w[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){.db = db, .n = i};
        CHECK(pthread_create(&t[i], NULL, worker, &w[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK(w[i].failures == 0);
    }
    CHECK(count_of(db, "SELECT count(*) AS n FROM events WHERE message = ?", "threaded") == 100);
}

/* One engine per database: a second claim fails until the first closes. */
static void test_claim(const char *spec)
{
    vr_db *a = NULL, *b = NULL;
    vr_error err = {0};
    CHECK(vr_db_open(spec, &a, &err) == 0 && vr_db_open(spec, &b, &err) == 0);
    if (!a || !b)
        return;
    CHECK(vr_db_claim(a, &err) == 0);
    CHECK(vr_db_claim(a, &err) == 0); /* idempotent */
    CHECK(vr_db_claim(b, &err) == -1);
    CHECK(err.code == VR_ERR_CONFLICT);
    CHECK_STR_CONTAINS(err.message, "another vireo-engine");
    vr_error_clear(&err);
    vr_db *c = NULL;
    CHECK(vr_db_open_claimed(spec, &c, &err) == -1 && c == NULL); /* the engine's way in */
    CHECK(err.code == VR_ERR_CONFLICT);
    vr_error_clear(&err);
    /* the unclaimed handle still reads; the claim is about engines */
    CHECK(vr_db_version(b) >= 1);
    vr_db_close(a);
    usleep(100 * 1000); /* PostgreSQL drops the session's locks as it goes */
    CHECK(vr_db_claim(b, &err) == 0);
    vr_db_close(b);
}

static void run_suite(const char *spec, const char *backend)
{
    vr_db *db = NULL;
    vr_error err = {0};
    fprintf(stderr, "%s: running\n", backend);
    int before = check_failures;
    if (vr_db_open(spec, &db, &err) < 0) {
        fprintf(stderr, "%s: cannot open: %s\n", backend, err.message);
        check_failures++;
        return;
    }
    CHECK(!strcmp(vr_db_backend(db), backend));
    test_claim(spec);
    int v = vr_db_version(db);
    CHECK(v >= 1);
    vr_db_close(db);
    /* reopening migrates nothing and keeps the version */
    CHECK(vr_db_open(spec, &db, &err) == 0);
    if (!db)
        return;
    CHECK(vr_db_version(db) == v);
    test_round_trip_and_constraints(db);
    test_json_columns(db);
    test_like_and_paging(db);
    test_upsert(db);
    test_transactions(db);
    test_cascade_sum_events(db);
    test_threads(db);
    vr_db_close(db);
    fprintf(stderr, "%s: %s\n", backend, check_failures == before ? "ok" : "FAILED");
}

/* A connection the test uses behind the layer's back. */
static PGconn *admin(const char *uri)
{
    PGconn *c = PQconnectdb(uri);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "postgres: cannot connect to VIREO_TEST_PG_URI: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    return c;
}

static int admin_exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "postgres: %s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    return ok ? 0 : -1;
}

static void kill_backend(PGconn *c, vr_db *db)
{
    vr_error err = {0};
    json_t *row = vr_db_query_one(db, "SELECT pg_backend_pid() AS pid", DB_NOARGS, &err);
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%lld)",
             (long long)json_integer_value(json_object_get(row, "pid")));
    json_decref(row);
    CHECK(admin_exec(c, sql) == 0);
    usleep(200 * 1000); /* let the backend go */
}

struct killer {
    PGconn *admin;
    long long pid;
};

/* Terminate a backend 300 ms from now (while it runs a statement). */
static void *kill_later(void *arg)
{
    struct killer *k = arg;
    char sql[128];
    usleep(300 * 1000);
    snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%lld)", k->pid);
    admin_exec(k->admin, sql);
    return NULL;
}

/* The layer reconnects once after the server dropped its connection, for
 * reads; a write whose connection broke is reported, not resent (it may
 * have been applied), and so is a transaction (VR_ERR_UNAVAILABLE). */
static void test_pg_reconnect(PGconn *c, const char *spec)
{
    vr_db *db = NULL;
    vr_error err = {0};
    CHECK(vr_db_open(spec, &db, &err) == 0);
    if (!db)
        return;
    kill_backend(c, db);
    CHECK(count_of(db, "SELECT count(*) AS n FROM datacenters WHERE name = ?", "dc1") == 1);
    /* an idle connection the server closed is noticed before a write */
    kill_backend(c, db);
    CHECK(add_dc(db, "w1", "write-after-loss", &err) == 1);
    /* a write whose connection breaks under it is not sent again: the
     * retry would succeed (the killer is done), so a row would show it */
    json_t *row = vr_db_query_one(db, "SELECT pg_backend_pid() AS pid", DB_NOARGS, &err);
    struct killer k = {c, json_integer_value(json_object_get(row, "pid"))};
    json_decref(row);
    pthread_t t;
    pthread_create(&t, NULL, kill_later, &k);
    CHECK(vr_db_exec(db, "INSERT INTO datacenters (id, name, description, created_at)"
                     " SELECT ?, ?, '', 1 FROM pg_sleep(1)",
                     DB_ARGS(DB_TEXT("w2"), DB_TEXT("write-cut")), &err) == -1);
    CHECK(err.code == VR_ERR_UNAVAILABLE);
    pthread_join(t, NULL);
    vr_error_clear(&err);
    CHECK(count_of(db, "SELECT count(*) AS n FROM datacenters WHERE name = ?", "write-cut") == 0);
    CHECK(vr_db_begin(db, &err) == 0);
    kill_backend(c, db);
    vr_error_clear(&err);
    CHECK(add_dc(db, "lost", "lost-in-tx", &err) == -1);
    CHECK(err.code == VR_ERR_UNAVAILABLE);
    vr_error_clear(&err);
    CHECK(vr_db_commit(db, &err) == -1);
    CHECK(err.code == VR_ERR_UNAVAILABLE);
    CHECK(count_of(db, "SELECT count(*) AS n FROM datacenters WHERE name = ?", "lost-in-tx") == 0);
    CHECK(vr_db_version(db) >= 1);
    vr_db_close(db);
}

/* An engine whose connection dropped while another engine claimed the
 * database stops using it instead of writing alongside. */
static void test_pg_claim_lost(PGconn *c, const char *spec)
{
    vr_db *a = NULL, *b = NULL;
    vr_error err = {0};
    CHECK(vr_db_open(spec, &a, &err) == 0 && vr_db_open(spec, &b, &err) == 0);
    if (!a || !b)
        return;
    CHECK(vr_db_claim(a, &err) == 0);
    kill_backend(c, a);
    CHECK(vr_db_claim(b, &err) == 0);
    CHECK(add_dc(a, "late", "late-writer", &err) == -1);
    CHECK(err.code == VR_ERR_UNAVAILABLE);
    vr_error_clear(&err);
    CHECK(add_dc(a, "late2", "late-writer-2", &err) == -1);
    CHECK_STR_CONTAINS(err.message, "another vireo-engine");
    CHECK(count_of(b, "SELECT count(*) AS n FROM datacenters WHERE name LIKE ?", "late-writer%") == 0);
    vr_db_close(a);
    vr_db_close(b);
}

/* PostgreSQL-only syntax around placeholders, and the type mapping. */
static void test_pg_dialect(const char *spec)
{
    vr_db *db = NULL;
    vr_error err = {0};
    CHECK(vr_db_open(spec, &db, &err) == 0);
    if (!db)
        return;
    json_t *row = vr_db_query_one(db, "SELECT E'\\'?' AS a, $$?$$ AS b, $t$ '? $t$ AS c, 1 AS \"q?\","
                                  " ? AS d -- ?\n, ? AS e", DB_ARGS(DB_TEXT("x"), DB_INT(7)), &err);
    CHECK(row != NULL);
    CHECK_STR(row, "a", "'?");
    CHECK_STR(row, "b", "?");
    CHECK_STR(row, "c", " '? ");
    CHECK_INT(row, "q?", 1);
    CHECK_STR(row, "d", "x");
    CHECK_STR(row, "e", "7"); /* untyped parameters are text */
    json_decref(row);
    row = vr_db_query_one(db, "SELECT 2::numeric AS i, 1.5::numeric AS r, 99999999999999999999::numeric"
                          " AS big, true AS t, false AS f, 1.25::float8 AS d, 3::int2 AS s,"
                          " NULL AS n, '{\"a\":1}'::jsonb AS j", DB_NOARGS, &err);
    CHECK_INT(row, "i", 2);
    CHECK(json_is_real(json_object_get(row, "r")) && json_real_value(json_object_get(row, "r")) == 1.5);
    CHECK(json_is_real(json_object_get(row, "big")));
    CHECK_INT(row, "t", 1);
    CHECK_INT(row, "f", 0);
    CHECK(json_is_real(json_object_get(row, "d")) && json_real_value(json_object_get(row, "d")) == 1.25);
    CHECK_INT(row, "s", 3);
    CHECK(json_is_null(json_object_get(row, "n")));
    CHECK_STR(row, "j", "{\"a\": 1}"); /* other types: their text */
    json_decref(row);
    /* a bad statement inside a transaction does not doom it */
    CHECK(vr_db_begin(db, &err) == 0);
    vr_error_clear(&err);
    CHECK(vr_db_exec(db, "SELEKT", DB_NOARGS, &err) == -1);
    CHECK_STR_CONTAINS(err.message, "syntax error");
    CHECK(add_dc(db, "pg1", "pg-after-error", &err) == 1);
    CHECK(vr_db_commit(db, &err) == 0);
    CHECK(count_of(db, "SELECT count(*) AS n FROM datacenters WHERE name = ?", "pg-after-error") == 1);
    vr_db_close(db);
}

static void test_readers(const char *spec);

static void run_postgres(const char *uri)
{
    PGconn *c = admin(uri);
    if (!c) {
        check_failures++;
        return;
    }
    char schema[64], sql[256], *spec;
    snprintf(schema, sizeof(schema), "vireo_test_%d", (int)getpid());
    snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", schema, schema);
    if (admin_exec(c, "SET client_min_messages = warning") < 0 || admin_exec(c, sql) < 0) {
        check_failures++;
        PQfinish(c);
        return;
    }
    /* the layer's connection works in that schema only */
    if (asprintf(&spec, "%s%coptions=-csearch_path%%3D%s", uri, strchr(uri, '?') ? '&' : '?',
                 schema) < 0)
        abort();
    run_suite(spec, "postgresql");
    test_pg_dialect(spec);
    test_pg_reconnect(c, spec);
    test_pg_claim_lost(c, spec);
    test_readers(spec);
    free(spec);
    snprintf(sql, sizeof(sql), "DROP SCHEMA %s CASCADE", schema);
    CHECK(admin_exec(c, sql) == 0);
    PQfinish(c);
}

static void test_open_errors(void)
{
    vr_db *db = NULL;
    vr_error err = {0};
    CHECK(vr_db_open("/nonexistent-dir/x/engine.db", &db, &err) == -1);
    CHECK(err.code == VR_ERR_IO);
    CHECK_STR_CONTAINS(err.message, "/nonexistent-dir/x/engine.db");
    vr_error_clear(&err);
    /* nothing listens on port 1; the password is not echoed */
    CHECK(vr_db_open("postgresql://vireo:s3cr3tpw@127.0.0.1:1/nodb", &db, &err) == -1);
    CHECK(err.code == VR_ERR_UNAVAILABLE);
    CHECK_STR_CONTAINS(err.message, "cannot connect to PostgreSQL database 'nodb'");
    CHECK(!strstr(err.message, "s3cr3tpw"));
    vr_error_clear(&err);
    CHECK(vr_db_open("postgres://127.0.0.1:1/nodb?connect_timeout=2", &db, &err) == -1);
    CHECK(err.code == VR_ERR_UNAVAILABLE);
}

struct reader_probe {
    vr_db *db;
    long long seen;
};

static void *read_from_other_thread(void *arg)
{
    struct reader_probe *p = arg;
    vr_db_thread_prefers_readers(true);
    p->seen = count_of(p->db, "SELECT count(*) AS n FROM datacenters WHERE name = ?", "in-flight");
    return NULL;
}

/* Queries of API threads go to reader connections, so they neither wait
 * for another thread's open transaction nor see its uncommitted rows; the
 * transaction's own thread does see them. */
static void test_readers(const char *path)
{
    vr_db *db = NULL;
    vr_error err = {0};
    CHECK(vr_db_open(path, &db, &err) == 0);
    if (!db)
        return;
    CHECK(vr_db_begin(db, &err) == 0);
    CHECK(add_dc(db, "inflight", "in-flight", &err) == 1);
    CHECK(count_of(db, "SELECT count(*) AS n FROM datacenters WHERE name = ?", "in-flight") == 1);
    struct reader_probe p = {db, -1};
    pthread_t t;
    pthread_create(&t, NULL, read_from_other_thread, &p);
    pthread_join(t, NULL); /* would deadlock if the reader waited for the commit */
    CHECK(p.seen == 0);
    CHECK(vr_db_commit(db, &err) == 0);
    pthread_create(&t, NULL, read_from_other_thread, &p);
    pthread_join(t, NULL);
    CHECK(p.seen == 1);
    vr_db_close(db);
}

int main(void)
{
    char path[] = "/tmp/vireo-test-db-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        perror("mkstemp");
        return 1;
    }
    close(fd);
    unlink(path); /* let SQLite create it */
    run_suite(path, "sqlite");
    test_readers(path);
    char side[sizeof(path) + 16];
    unlink(path);
    snprintf(side, sizeof(side), "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-engine.lock", path);
    unlink(side);

    test_open_errors();

    const char *uri = getenv("VIREO_TEST_PG_URI");
    if (uri && *uri)
        run_postgres(uri);
    else
        printf("postgres: skipped (VIREO_TEST_PG_URI unset)\n");
    return CHECK_DONE();
}
