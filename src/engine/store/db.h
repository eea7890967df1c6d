/* The engine's data-access layer: one database opened once - SQLite (WAL)
 * or PostgreSQL (libpq) - versioned migrations applied at start, every
 * statement with bound parameters. Rows come back as JSON objects keyed by
 * column name, which is what the REST layer serves. Thread-safe (one
 * connection, serialized).
 *
 * Statements use the dialect both backends understand: '?' placeholders
 * (rewritten to $1..$n for PostgreSQL), ON CONFLICT ... DO UPDATE,
 * LIKE ... ESCAPE, subqueries with an alias. Integer columns come back as
 * JSON integers (PostgreSQL: int2/4/8 and integral numeric), floats as
 * reals, NULL as null, everything else as strings. */
#pragma once

#include <stdbool.h>
#include <jansson.h>

#include "error.h"
#include "hist.h"

typedef struct vr_db vr_db;

/* A bound parameter. Build with DB_TEXT / DB_INT / DB_REAL / DB_NULL. */
typedef struct vr_dbv {
    enum { VR_DBV_NULL, VR_DBV_TEXT, VR_DBV_INT, VR_DBV_REAL } type;
    const char *s;
    long long i;
    double d;
} vr_dbv;
#define DB_TEXT(x) ((vr_dbv){.type = VR_DBV_TEXT, .s = (x)})
#define DB_INT(x) ((vr_dbv){.type = VR_DBV_INT, .i = (x)})
#define DB_REAL(x) ((vr_dbv){.type = VR_DBV_REAL, .d = (x)})
#define DB_NULL ((vr_dbv){.type = VR_DBV_NULL})
#define DB_ARGS(...) ((const vr_dbv[]){__VA_ARGS__}), (int)(sizeof((const vr_dbv[]){__VA_ARGS__}) / sizeof(vr_dbv))
#define DB_NOARGS NULL, 0

/* Open and migrate a database. spec is a libpq connection URI starting
 * with "postgresql://" or "postgres://" (the database must exist), or
 * otherwise the path of an SQLite file (created if needed). */
int vr_db_open(const char *spec, vr_db **out, vr_error *err);
void vr_db_close(vr_db *db);

/* vr_db_open for the engine: takes the one-engine claim (vr_db_claim)
 * before migrating, so a refused engine changes nothing. */
int vr_db_open_claimed(const char *spec, vr_db **out, vr_error *err);

/* Make this process the only engine using the database: fails with
 * VR_ERR_CONFLICT while another holds the claim. It lasts until close
 * (SQLite: a lock file next to the database; PostgreSQL: a session advisory
 * lock, taken again after a reconnect - if another engine got it meanwhile,
 * every later statement fails rather than two engines writing). */
int vr_db_claim(vr_db *db, vr_error *err);

/* Send the calling thread's queries (outside its own transactions) to the
 * reader connections where the backend has them (SQLite). For the API's
 * threads: their reads then never queue behind the host monitors' writes
 * and checkpoints. Other threads use the main connection. */
void vr_db_thread_prefers_readers(bool on);

/* "sqlite" or "postgresql". */
const char *vr_db_backend(vr_db *db);

/* Schema version after migrations (-1 if it cannot be read). */
int vr_db_version(vr_db *db);

/* Run one statement; returns rows changed (>= 0) or -1. A UNIQUE violation
 * is reported as VR_ERR_CONFLICT, a FOREIGN KEY violation as
 * VR_ERR_BAD_STATE, a lost PostgreSQL connection as VR_ERR_UNAVAILABLE (a
 * write is not resent after the connection broke under it). A failed
 * statement inside a transaction leaves the transaction usable (as in
 * SQLite; PostgreSQL runs each statement under a savepoint). */
int vr_db_exec(vr_db *db, const char *sql, const vr_dbv *args, int nargs, vr_error *err);

/* Run a query; *rows is a new JSON array of objects. Columns whose name ends
 * in "_json" are parsed and stored under the name without the suffix. */
int vr_db_query(vr_db *db, const char *sql, const vr_dbv *args, int nargs, json_t **rows,
                vr_error *err);

/* First row of a query (new reference) or NULL when there is none. */
json_t *vr_db_query_one(vr_db *db, const char *sql, const vr_dbv *args, int nargs, vr_error *err);

/* A counter that grows with every statement that may have written table
 * (INSERT INTO / UPDATE / DELETE FROM it, or a schema change). Readers
 * cache what they computed from a table (list totals) under it. Never 0. */
unsigned long long vr_db_table_generation(vr_db *db, const char *table);

/* Transactions: the lock is held from begin to commit/rollback, so a
 * check-then-write sequence is atomic against other threads of this
 * process. (SQLite: BEGIN IMMEDIATE, atomic against other processes too;
 * PostgreSQL: BEGIN, read committed.) They do not nest. */
int vr_db_begin(vr_db *db, vr_error *err);
int vr_db_commit(vr_db *db, vr_error *err);
void vr_db_rollback(vr_db *db);

/* Where the time goes, since the process started (for GET /metrics):
 * index 0 = queries (reads), 1 = other statements (writes). run: on the
 * connection; wait: for a free connection (the lock, held by another
 * statement or a transaction); transaction: begin to commit/rollback;
 * errors: statements that failed. */
typedef struct vr_db_timings {
    const vr_hist *run[2], *wait[2], *transaction;
    unsigned long long errors[2];
} vr_db_timings;
void vr_db_get_timings(vr_db_timings *out);
