/* Both database backends end up with the same schema after the shared
 * migrations (src/engine/store/migrations.c): the same tables, the same
 * columns with the same kind of type (text, integer, real), the same
 * explicit indexes on the same tables. PostgreSQL runs when
 * VIREO_TEST_PG_URI names a server (scripts/test always sets it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libpq-fe.h>

#include "check.h"
#include "db.h"

/* Lowercased type class of a declared column type. */
static const char *type_class(const char *t)
{
    if (strcasestr(t, "int"))
        return "integer";
    if (strcasestr(t, "real") || strcasestr(t, "double") || strcasestr(t, "float") || strcasestr(t, "numeric"))
        return "real";
    return "text";
}

static int strcmp_ptr(const char **a, const char **b)
{
    return strcmp(*a, *b);
}

/* One sorted list of "table.column:class" and "index@table" lines. */
static char *describe(vr_db *db, bool pg)
{
    vr_error err = {0};
    json_t *rows = NULL;
    const char *sql = pg
        ? "SELECT table_name AS t, column_name AS c, data_type AS ty FROM information_schema.columns"
          " WHERE table_schema = current_schema() AND table_name != 'schema_version'"
          " AND table_name NOT IN (SELECT table_name FROM information_schema.views"
          " WHERE table_schema = current_schema())" /* views: SQLite's side lists tables only */
          " UNION ALL SELECT tablename, '@' || indexname, '' FROM pg_indexes WHERE schemaname = current_schema()"
          " AND indexname NOT LIKE '%\\_pkey' ESCAPE '\\' AND indexname NOT LIKE '%\\_key' ESCAPE '\\'"
          " AND tablename != 'schema_version'"
        : "SELECT m.name AS t, p.name AS c, p.type AS ty FROM sqlite_master m, pragma_table_info(m.name) p"
          " WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'"
          " UNION ALL SELECT tbl_name, '@' || name, '' FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL";
    if (vr_db_query(db, sql, DB_NOARGS, &rows, &err) < 0) {
        fprintf(stderr, "%s: %s\n", pg ? "postgresql" : "sqlite", err.message);
        return NULL;
    }
    size_t n = json_array_size(rows), i;
    char **lines = calloc(n ? n : 1, sizeof(char *));
    json_t *r;
    json_array_foreach(rows, i, r) {
        const char *c = json_string_value(json_object_get(r, "c"));
        if (asprintf(&lines[i], "%s.%s%s%s", json_string_value(json_object_get(r, "t")), c, *c == '@' ? "" : ":",
                     *c == '@' ? "" : type_class(json_string_value(json_object_get(r, "ty")))) < 0)
            abort();
    }
    qsort(lines, n, sizeof(char *), (int (*)(const void *, const void *))strcmp_ptr);
    size_t len = 1;
    for (i = 0; i < n; i++)
        len += strlen(lines[i]) + 1;
    char *out = calloc(1, len);
    for (i = 0; i < n; i++) {
        strcat(out, lines[i]);
        strcat(out, "\n");
        free(lines[i]);
    }
    free(lines);
    json_decref(rows);
    return out;
}

/* Typed numbers: a REAL parameter comes back as the same double. */
static void check_real(vr_db *db)
{
    vr_error err = {0};
    CHECK(vr_db_exec(db, "CREATE TABLE real_check (x DOUBLE PRECISION)", DB_NOARGS, &err) >= 0);
    CHECK(vr_db_exec(db, "INSERT INTO real_check (x) VALUES (?)", DB_ARGS(DB_REAL(12.625)), &err) == 1);
    CHECK(vr_db_exec(db, "INSERT INTO real_check (x) VALUES (?)", DB_ARGS(DB_REAL(0.1)), &err) == 1);
    json_t *rows = NULL;
    CHECK(vr_db_query(db, "SELECT x FROM real_check ORDER BY x", DB_NOARGS, &rows, &err) == 0);
    CHECK(json_is_real(json_object_get(json_array_get(rows, 0), "x")) &&
          json_real_value(json_object_get(json_array_get(rows, 0), "x")) == 0.1);
    CHECK(json_real_value(json_object_get(json_array_get(rows, 1), "x")) == 12.625);
    json_decref(rows);
    CHECK(vr_db_exec(db, "DROP TABLE real_check", DB_NOARGS, &err) >= 0);
}

static PGconn *admin_exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "postgres: %s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    return ok ? c : NULL;
}

int main(void)
{
    char path[] = "/tmp/vireo-schema-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    unlink(path);
    vr_db *lite = NULL;
    vr_error err = {0};
    CHECK(vr_db_open(path, &lite, &err) == 0);
    char *want = lite ? describe(lite, false) : NULL;
    CHECK(want && strstr(want, "vms.pending_json:text") && strstr(want, "hosts.cpu_percent:real") &&
          strstr(want, "jobs.@jobs_object"));
    if (lite)
        check_real(lite);
    vr_db_close(lite);
    char side[4200];
    unlink(path);
    snprintf(side, sizeof(side), "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-engine.lock", path);
    unlink(side);

    const char *uri = getenv("VIREO_TEST_PG_URI");
    if (!uri || !*uri) {
        printf("postgresql: skipped (VIREO_TEST_PG_URI unset)\n");
        free(want);
        return CHECK_DONE();
    }
    PGconn *c = PQconnectdb(uri);
    CHECK(PQstatus(c) == CONNECTION_OK);
    char schema[64], sql[256], *spec = NULL;
    snprintf(schema, sizeof(schema), "vireo_schema_%d", (int)getpid());
    snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", schema, schema);
    CHECK(admin_exec(c, "SET client_min_messages = warning") && admin_exec(c, sql));
    if (asprintf(&spec, "%s%coptions=-csearch_path%%3D%s", uri, strchr(uri, '?') ? '&' : '?', schema) < 0)
        abort();
    vr_db *pg = NULL;
    CHECK(vr_db_open(spec, &pg, &err) == 0);
    char *got = pg ? describe(pg, true) : NULL;
    if (want && got && strcmp(want, got))
        fprintf(stderr, "schemas differ:\n--- sqlite\n%s--- postgresql\n%s", want, got);
    CHECK(want && got && !strcmp(want, got));
    if (pg)
        check_real(pg);
    CHECK(vr_db_version(pg) == (int)vr_db_version(pg) && vr_db_version(pg) > 0);
    vr_db_close(pg);
    snprintf(sql, sizeof(sql), "DROP SCHEMA %s CASCADE", schema);
    CHECK(admin_exec(c, sql) != NULL);
    PQfinish(c);
    free(spec);
    free(want);
    free(got);
    return CHECK_DONE();
}
