/* SQLite backend: one file in WAL mode, schema version in PRAGMA
 * user_version. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <sqlite3.h>

#include "db_backend.h"
#include "migrations.h"
#include "log.h"

#define H(db) ((sqlite3 *)(db)->impl)


static int sql_error(vr_db *db, vr_error *err, const char *what)
{
    int ext = sqlite3_extended_errcode(H(db));
    int code = ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY ? VR_ERR_CONFLICT
               : ext == SQLITE_CONSTRAINT_FOREIGNKEY ? VR_ERR_BAD_STATE : VR_ERR_INTERNAL;
    return vr_error_set(err, code, "%s: %s", what, sqlite3_errmsg(H(db)));
}

/* Parameterless SQL, possibly several statements. */
static int simple(vr_db *db, const char *sql, const char *what, vr_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(H(db), sql, NULL, NULL, &msg) != SQLITE_OK) {
        vr_error_set(err, VR_ERR_INTERNAL, "%s: %s", what, msg ? msg : sqlite3_errmsg(H(db)));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static sqlite3_stmt *prepare(vr_db *db, const char *sql, const vr_dbv *args, int nargs,
                             vr_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(H(db), sql, -1, &st, NULL) != SQLITE_OK) {
        sql_error(db, err, "database statement");
        return NULL;
    }
    for (int i = 0; i < nargs; i++) {
        int rc = args[i].type == VR_DBV_TEXT
                     ? sqlite3_bind_text(st, i + 1, args[i].s, -1, SQLITE_TRANSIENT)
                 : args[i].type == VR_DBV_INT ? sqlite3_bind_int64(st, i + 1, args[i].i)
                 : args[i].type == VR_DBV_REAL ? sqlite3_bind_double(st, i + 1, args[i].d)
                                              : sqlite3_bind_null(st, i + 1);
        if (rc != SQLITE_OK) {
            sql_error(db, err, "database bind");
            sqlite3_finalize(st);
            return NULL;
        }
    }
    return st;
}

static json_t *column_value(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER: return json_integer(sqlite3_column_int64(st, i));
    case SQLITE_FLOAT: {
        json_t *v = json_real(sqlite3_column_double(st, i));
        return v ? v : json_null();
    }
    case SQLITE_TEXT:
        return vr_db_string((const char *)sqlite3_column_text(st, i), (size_t)sqlite3_column_bytes(st, i));
    default: return json_null();
    }
}

static json_t *row_object(sqlite3_stmt *st)
{
    json_t *row = json_object();
    for (int i = 0; i < sqlite3_column_count(st); i++) {
        const char *name = sqlite3_column_name(st, i);
        char key[256];
        if (vr_db_json_column(name, key, sizeof(key)))
            json_object_set_new(row, key, vr_db_json_text((const char *)sqlite3_column_text(st, i)));
        else
            json_object_set_new(row, name, column_value(st, i));
    }
    return row;
}

static int sqlite_run(vr_db *db, const char *sql, const vr_dbv *args, int nargs, json_t **rows,
                      vr_error *err)
{
    sqlite3_stmt *st = prepare(db, sql, args, nargs, err);
    if (!st)
        return -1;
    json_t *out = rows ? json_array() : NULL;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW)
        if (out)
            json_array_append_new(out, row_object(st));
    int rc = 0;
    if (s != SQLITE_DONE) {
        rc = sql_error(db, err, rows ? "database read" : "database write");
        json_decref(out);
    } else if (rows) {
        *rows = out;
    } else {
        rc = sqlite3_changes(H(db));
    }
    sqlite3_finalize(st);
    return rc;
}

static int sqlite_version(vr_db *db)
{
    json_t *rows = NULL;
    if (sqlite_run(db, "PRAGMA user_version", DB_NOARGS, &rows, NULL) < 0)
        return -1;
    json_t *v = json_object_get(json_array_get(rows, 0), "user_version");
    int n = json_is_integer(v) ? (int)json_integer_value(v) : -1;
    json_decref(rows);
    return n;
}

static int sqlite_migrate(vr_db *db, vr_error *err)
{
    int have = vr_db_version(db);
    int want = (int)vr_nmigrations;
    if (have < 0)
        return vr_error_set(err, VR_ERR_INTERNAL, "cannot read the database schema version");
    if (have > want)
        return vr_error_set(err, VR_ERR_INTERNAL,
                            "database schema version %d is newer than this engine (%d)", have, want);
    for (int v = have; v < want; v++) {
        char pragma[64], what[64];
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
        snprintf(what, sizeof(what), "database migration to schema version %d", v + 1);
        if (vr_db_begin(db, err) < 0)
            return -1;
        if (simple(db, vr_migrations[v].sqlite, what, err) < 0 ||
            (vr_migrations[v].data_step && vr_migrations[v].data_step(db, err) < 0) ||
            simple(db, pragma, what, err) < 0) {
            vr_db_rollback(db);
            return -1;
        }
        if (vr_db_commit(db, err) < 0)
            return -1;
        VR_INFO("database migrated to schema version %d", v + 1);
    }
    return 0;
}

static int sqlite_open(vr_db *db, const char *path, vr_error *err)
{
    sqlite3 *h = NULL;
    int rc = sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                             SQLITE_OPEN_FULLMUTEX, NULL);
    db->impl = h;
    if (rc != SQLITE_OK)
        return vr_error_set(err, VR_ERR_IO, "cannot open database '%s': %s", path,
                            h ? sqlite3_errmsg(h) : "out of memory");
    sqlite3_busy_timeout(h, 5000);
    /* WAL: readers never block the writer; synchronous=FULL: an accepted
     * request survives a power cut; 1 MiB of page cache per connection (the
     * OS caches the file too, and there are several connections). */
    return simple(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                  " PRAGMA cache_size=-1024;", "database setup", err);
}

static void sqlite_close(vr_db *db)
{
    sqlite3_close(H(db));
    db->impl = NULL;
    if (db->claim_fd >= 0)
        close(db->claim_fd);
    db->claim_fd = -1;
}

/* A lock file beside the database, not the database file itself: closing
 * any descriptor of that file would drop SQLite's own POSIX locks. */
static int sqlite_claim(vr_db *db, vr_error *err)
{
    const char *file = sqlite3_db_filename(H(db), "main");
    char path[4096];
    snprintf(path, sizeof(path), "%s-engine.lock", file && *file ? file : "engine.db");
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return vr_error_set(err, VR_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        close(fd);
        return vr_error_set(err, VR_ERR_CONFLICT, "another vireo-engine uses database '%s'", file);
    }
    db->claim_fd = fd;
    return 0;
}

static int sqlite_begin(vr_db *db, vr_error *err)
{
    return simple(db, "BEGIN IMMEDIATE", "database begin", err);
}

static int sqlite_commit(vr_db *db, vr_error *err)
{
    if (simple(db, "COMMIT", "database commit", err) == 0)
        return 0;
    if (!sqlite3_get_autocommit(H(db)))
        simple(db, "ROLLBACK", "database rollback", NULL);
    return -1;
}

static void sqlite_rollback(vr_db *db)
{
    if (!sqlite3_get_autocommit(H(db)))
        simple(db, "ROLLBACK", "database rollback", NULL);
}

const vr_db_ops vr_db_sqlite_ops = {
    .name = "sqlite",
    .open = sqlite_open,
    .close = sqlite_close,
    .migrate = sqlite_migrate,
    .version = sqlite_version,
    .run = sqlite_run,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .claim = sqlite_claim,
    .readers = 1,
};
