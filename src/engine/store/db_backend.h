/* Private to the data-access layer: what db.c shares with its backends
 * (db_sqlite.c, db_pg.c). Callers use db.h only. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "db.h"

typedef struct vr_db_ops {
    const char *name; /* "sqlite" or "postgresql" */
    /* Connect to spec and set db->impl; no migrations yet. */
    int (*open)(vr_db *db, const char *spec, vr_error *err);
    void (*close)(vr_db *db);
    /* Bring the schema up to date (called once, right after open). */
    int (*migrate)(vr_db *db, vr_error *err);
    /* Schema version, or -1. Called with the lock held. */
    int (*version)(vr_db *db);
    /* One statement with '?' parameters. rows == NULL: a write, returns
     * the rows changed; else *rows gets a new array of row objects and 0 is
     * returned. -1 on failure. Called with the lock held. */
    int (*run)(vr_db *db, const char *sql, const vr_dbv *args, int nargs, json_t **rows,
               vr_error *err);
    /* Transaction control, called with the lock held (db->in_tx tells
     * which state the caller is in). commit must leave no transaction
     * open, even when it fails. */
    int (*begin)(vr_db *db, vr_error *err);
    int (*commit)(vr_db *db, vr_error *err);
    void (*rollback)(vr_db *db);
    /* Take the one-engine claim (see vr_db_claim); called with the lock held. */
    int (*claim)(vr_db *db, vr_error *err);
    /* Extra connections for the queries of threads that prefer them (see
     * vr_db_thread_prefers_readers; 0: none). With SQLite's WAL they read
     * while the main connection writes or checkpoints. */
    int readers;
} vr_db_ops;

#define VR_DB_MAX_READERS 4

struct vr_db {
    const vr_db_ops *ops;
    void *impl; /* sqlite3 * or the PostgreSQL connection state */
    /* Recursive: a transaction holds it across the statements it runs. */
    pthread_mutex_t lock;
    bool in_tx; /* between a successful begin and commit/rollback */
    bool claimed;    /* vr_db_claim succeeded */
    bool claim_lost; /* PostgreSQL: another engine claimed it while we reconnected */
    bool claim_pending; /* PostgreSQL: reconnected, the claim not yet taken again */
    int claim_fd;    /* SQLite: the flock'ed lock file, or -1 */
    /* The thread inside begin..commit: its queries must see its own writes,
     * so they stay on this connection. */
    pthread_t tx_owner; /* read and written with __atomic builtins */
    /* Read-only helpers: each a backend handle of its own (ops, impl, lock;
     * never in a transaction). */
    struct vr_db *reader[VR_DB_MAX_READERS];
    int nreaders;
    unsigned next_reader;
};

extern const vr_db_ops vr_db_sqlite_ops;
extern const vr_db_ops vr_db_pg_ops;

/* Column naming shared by the backends: when name ends in "_json", copy
 * the name without the suffix into key and return true. */
bool vr_db_json_column(const char *name, char *key, size_t len);

/* The value stored in a "_json" column: parsed JSON, or null for SQL NULL
 * and for text that does not parse (new reference, never NULL). */
json_t *vr_db_json_text(const char *text);

/* A text column's value as a JSON string: invalid UTF-8 is replaced (U+FFFD),
 * never dropped. */
json_t *vr_db_string(const char *text, size_t len);
