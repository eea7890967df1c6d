#include "db.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "log.h"

struct vr_db {
    sqlite3 *h;
    /* Recursive: a transaction holds it across the statements it runs. */
    pthread_mutex_t lock;
};

/* Each migration moves the schema one version up; never edit a released
 * one, append a new one. */
static const char *const migrations[] = {
    /* 1: core inventory, auth, events, jobs */
    "CREATE TABLE datacenters (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " description TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL);"
    "CREATE TABLE clusters (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " description TEXT NOT NULL DEFAULT '', datacenter_id TEXT NOT NULL REFERENCES datacenters(id),"
    " cpu_type TEXT NOT NULL DEFAULT 'qemu64', virt_mode TEXT NOT NULL DEFAULT 'any',"
    " created_at INTEGER NOT NULL);"
    "CREATE TABLE hosts (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " description TEXT NOT NULL DEFAULT '', cluster_id TEXT NOT NULL REFERENCES clusters(id),"
    " address TEXT NOT NULL, port INTEGER NOT NULL, status TEXT NOT NULL,"
    " status_detail TEXT NOT NULL DEFAULT '', last_seen INTEGER NOT NULL DEFAULT 0,"
    " capabilities_json TEXT, stats_json TEXT, created_at INTEGER NOT NULL);"
    "CREATE TABLE vms (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " description TEXT NOT NULL DEFAULT '', cluster_id TEXT NOT NULL REFERENCES clusters(id),"
    " host_id TEXT REFERENCES hosts(id), status TEXT NOT NULL, memory_mib INTEGER NOT NULL,"
    " vcpus INTEGER NOT NULL, spec_json TEXT NOT NULL, devices_json TEXT,"
    " created_at INTEGER NOT NULL);"
    "CREATE TABLE macs (mac TEXT PRIMARY KEY, vm_id TEXT NOT NULL REFERENCES vms(id) ON DELETE CASCADE);"
    "CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " password_hash TEXT NOT NULL, created_at INTEGER NOT NULL);"
    "CREATE TABLE tokens (hash TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id),"
    " expires_at INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE login_failures (name TEXT PRIMARY KEY, count INTEGER NOT NULL,"
    " last_at INTEGER NOT NULL);"
    "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL,"
    " severity TEXT NOT NULL, user_name TEXT NOT NULL DEFAULT '', object_type TEXT NOT NULL DEFAULT '',"
    " object_id TEXT NOT NULL DEFAULT '', message TEXT NOT NULL);"
    "CREATE TABLE jobs (id TEXT PRIMARY KEY, action TEXT NOT NULL, object_type TEXT NOT NULL,"
    " object_id TEXT NOT NULL, status TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '',"
    " user_name TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE INDEX vms_host ON vms(host_id); CREATE INDEX hosts_cluster ON hosts(cluster_id);",
};

static int sql_error(vr_db *db, vr_error *err, const char *what)
{
    int ext = sqlite3_extended_errcode(db->h);
    int code = ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY ? VR_ERR_CONFLICT
               : ext == SQLITE_CONSTRAINT_FOREIGNKEY ? VR_ERR_BAD_STATE : VR_ERR_INTERNAL;
    return vr_error_set(err, code, "%s: %s", what, sqlite3_errmsg(db->h));
}

static int simple(vr_db *db, const char *sql, vr_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
        vr_error_set(err, VR_ERR_INTERNAL, "database: %s", msg ? msg : "error");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int vr_db_version(vr_db *db)
{
    json_t *row = vr_db_query_one(db, "PRAGMA user_version", DB_NOARGS, NULL);
    int v = row ? (int)json_integer_value(json_object_get(row, "user_version")) : -1;
    json_decref(row);
    return v;
}

static int migrate(vr_db *db, vr_error *err)
{
    int have = vr_db_version(db);
    int want = (int)(sizeof(migrations) / sizeof(migrations[0]));
    if (have > want)
        return vr_error_set(err, VR_ERR_INTERNAL,
                            "database schema version %d is newer than this engine (%d)", have, want);
    for (int v = have; v < want; v++) {
        char pragma[64];
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
        if (vr_db_begin(db, err) < 0)
            return -1;
        if (simple(db, migrations[v], err) < 0 || simple(db, pragma, err) < 0) {
            vr_db_rollback(db);
            return -1;
        }
        if (vr_db_commit(db, err) < 0)
            return -1;
        VR_INFO("database migrated to schema version %d", v + 1);
    }
    return 0;
}

int vr_db_open(const char *path, vr_db **out, vr_error *err)
{
    vr_db *db = calloc(1, sizeof(*db));
    if (!db)
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory");
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&db->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
        vr_error_set(err, VR_ERR_IO, "cannot open database '%s': %s", path,
                     db->h ? sqlite3_errmsg(db->h) : "out of memory");
        vr_db_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db->h, 5000);
    /* WAL: readers never block the writer; synchronous=FULL: an accepted
     * request survives a power cut. */
    if (simple(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
               err) < 0 || migrate(db, err) < 0) {
        vr_db_close(db);
        return -1;
    }
    *out = db;
    return 0;
}

void vr_db_close(vr_db *db)
{
    if (!db)
        return;
    sqlite3_close(db->h);
    pthread_mutex_destroy(&db->lock);
    free(db);
}

static sqlite3_stmt *prepare(vr_db *db, const char *sql, const vr_dbv *args, int nargs,
                             vr_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK) {
        sql_error(db, err, "database statement");
        return NULL;
    }
    for (int i = 0; i < nargs; i++) {
        int rc = args[i].type == VR_DBV_TEXT
                     ? sqlite3_bind_text(st, i + 1, args[i].s, -1, SQLITE_TRANSIENT)
                 : args[i].type == VR_DBV_INT ? sqlite3_bind_int64(st, i + 1, args[i].i)
                                              : sqlite3_bind_null(st, i + 1);
        if (rc != SQLITE_OK) {
            sql_error(db, err, "database bind");
            sqlite3_finalize(st);
            return NULL;
        }
    }
    return st;
}

int vr_db_exec(vr_db *db, const char *sql, const vr_dbv *args, int nargs, vr_error *err)
{
    pthread_mutex_lock(&db->lock);
    int rc = -1;
    sqlite3_stmt *st = prepare(db, sql, args, nargs, err);
    if (st) {
        int s = sqlite3_step(st);
        if (s == SQLITE_DONE || s == SQLITE_ROW)
            rc = sqlite3_changes(db->h);
        else
            sql_error(db, err, "database write");
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&db->lock);
    return rc;
}

static json_t *column_value(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER: return json_integer(sqlite3_column_int64(st, i));
    case SQLITE_FLOAT: return json_real(sqlite3_column_double(st, i));
    case SQLITE_TEXT: return json_string((const char *)sqlite3_column_text(st, i));
    default: return json_null();
    }
}

int vr_db_query(vr_db *db, const char *sql, const vr_dbv *args, int nargs, json_t **rows,
                vr_error *err)
{
    pthread_mutex_lock(&db->lock);
    sqlite3_stmt *st = prepare(db, sql, args, nargs, err);
    if (!st) {
        pthread_mutex_unlock(&db->lock);
        return -1;
    }
    json_t *out = json_array();
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *row = json_object();
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            const char *name = sqlite3_column_name(st, i);
            size_t n = strlen(name);
            if (n > 5 && !strcmp(name + n - 5, "_json")) {
                char key[128];
                snprintf(key, sizeof(key), "%.*s", (int)(n - 5), name);
                const char *text = (const char *)sqlite3_column_text(st, i);
                json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
                json_object_set_new(row, key, v ? v : json_null());
            } else {
                json_object_set_new(row, name, column_value(st, i));
            }
        }
        json_array_append_new(out, row);
    }
    int rc = 0;
    if (s != SQLITE_DONE) {
        rc = sql_error(db, err, "database read");
        json_decref(out);
    } else {
        *rows = out;
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&db->lock);
    return rc;
}

json_t *vr_db_query_one(vr_db *db, const char *sql, const vr_dbv *args, int nargs, vr_error *err)
{
    json_t *rows;
    if (vr_db_query(db, sql, args, nargs, &rows, err) < 0)
        return NULL;
    json_t *row = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return row;
}

int vr_db_begin(vr_db *db, vr_error *err)
{
    pthread_mutex_lock(&db->lock);
    if (simple(db, "BEGIN IMMEDIATE", err) < 0) {
        pthread_mutex_unlock(&db->lock);
        return -1;
    }
    return 0;
}

int vr_db_commit(vr_db *db, vr_error *err)
{
    int rc = simple(db, "COMMIT", err);
    if (rc < 0)
        simple(db, "ROLLBACK", NULL);
    pthread_mutex_unlock(&db->lock);
    return rc;
}

void vr_db_rollback(vr_db *db)
{
    simple(db, "ROLLBACK", NULL);
    pthread_mutex_unlock(&db->lock);
}
