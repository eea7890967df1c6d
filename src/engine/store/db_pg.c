/* PostgreSQL backend (libpq): one connection, schema version in table
 * schema_version. Statements are written in the dialect shared with
 * SQLite; '?' placeholders become $1..$n and every parameter goes as text,
 * its type inferred by the server from where it is used. */
#include <ctype.h>
#include <poll.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libpq-fe.h>

#include "db_backend.h"
#include "migrations.h"
#include "log.h"

#define C(db) ((PGconn *)(db)->impl)

/* Type OIDs (server/catalog/pg_type_d.h is not part of libpq's headers). */
#define OID_BOOL 16
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_NUMERIC 1700

/* Serializes engines migrating the same database ("vireo" in ASCII). */
#define MIGRATION_LOCK "118455888488047"

/* Text compares bytewise, like SQLite's BINARY collation, so "ORDER BY
 * name, id" gives the same order on both backends whatever the database
 * locale. Integers are 64-bit (epochs, sizes). */
#define T "TEXT COLLATE \"C\""


/* Length of msg without the trailing newline libpq puts on messages. */
static int trimmed(const char *msg)
{
    int n = (int)strlen(msg);
    while (n > 0 && isspace((unsigned char)msg[n - 1]))
        n--;
    return n;
}

/* libpq's messages may span lines ("...failed: Connection refused\n\tIs
 * the server running..."): keep the error on one line. Returns -1. */
static int one_line(vr_error *err)
{
    if (err) {
        char *o = err->message;
        for (const char *p = err->message; *p; p++) {
            if (*p != '\n' && *p != '\t')
                *o++ = *p;
            else if (o > err->message && o[-1] != ' ')
                *o++ = ' ';
        }
        *o = '\0';
    }
    return -1;
}

/* "what: message (detail)" with the code the callers expect. */
static int pg_error(vr_db *db, const PGresult *res, const char *what, vr_error *err)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
    int code = VR_ERR_INTERNAL;
    if (state && !strcmp(state, "23505"))
        code = VR_ERR_CONFLICT;
    else if (state && !strcmp(state, "23503"))
        code = VR_ERR_BAD_STATE;
    else if (PQstatus(C(db)) != CONNECTION_OK || (state && !strncmp(state, "08", 2)))
        code = VR_ERR_UNAVAILABLE;
    if (!msg || !*msg)
        msg = PQerrorMessage(C(db));
    int n = trimmed(msg);
    if (!n)
        msg = "unknown error", n = (int)strlen(msg);
    vr_error_set(err, code, "%s: %.*s%s%s%s", what, n, msg, detail ? " (" : "",
                 detail ? detail : "", detail ? ")" : "");
    return one_line(err);
}

/* Before a statement: a connection found broken is reset, once, unless a
 * transaction was open on it (that transaction is gone: fail). */
/* Any 64-bit key unlikely to clash with other users of the database. */
#define CLAIM_KEY "7596112310510111" /* "vireo" */

/* The advisory lock is per session: a reconnect must take it again. If
 * another engine holds it by then, this one stops using the database. */
static int pg_claim(vr_db *db, vr_error *err)
{
    PGresult *res = PQexec(C(db), "SELECT pg_try_advisory_lock(" CLAIM_KEY ")");
    bool ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
              !strcmp(PQgetvalue(res, 0, 0), "t");
    bool answered = PQresultStatus(res) == PGRES_TUPLES_OK;
    PQclear(res);
    if (ok)
        return 0;
    if (!answered)
        return vr_error_set(err, VR_ERR_UNAVAILABLE, "cannot take the engine's database lock: %s",
                            PQerrorMessage(C(db)));
    if (db->claimed) {
        db->claim_lost = true;
        VR_ERROR("database: another vireo-engine took the database while the connection was "
                 "down; this engine no longer uses it");
    }
    return vr_error_set(err, db->claimed ? VR_ERR_UNAVAILABLE : VR_ERR_CONFLICT,
                        "another vireo-engine uses this PostgreSQL database");
}

/* After a reconnect nothing runs until the claim is back: a failed attempt
 * (other than another engine holding it) is retried before every later
 * statement, which fail meanwhile. */
static int reclaim_if_pending(vr_db *db, vr_error *err)
{
    if (!db->claim_pending)
        return 0;
    if (pg_claim(db, err) < 0)
        return -1;
    db->claim_pending = false;
    return 0;
}

static int ensure_connected(vr_db *db, bool *reset_done, const char *what, vr_error *err)
{
    if (db->claim_lost)
        return vr_error_set(err, VR_ERR_UNAVAILABLE, "%s: another vireo-engine has taken over "
                            "the database", what);
    /* A server that closed an idle connection (restart, terminated
     * backend) has left EOF on the socket: notice it now, without a round
     * trip, so the statement goes to a fresh connection instead of failing. */
    for (int i = 0; i < 4 && PQstatus(C(db)) == CONNECTION_OK && !db->in_tx; i++) {
        struct pollfd pfd = {.fd = PQsocket(C(db)), .events = POLLIN};
        if (poll(&pfd, 1, 0) != 1 || !PQconsumeInput(C(db)))
            break;
    }
    if (PQstatus(C(db)) == CONNECTION_OK)
        return reclaim_if_pending(db, err);
    if (db->in_tx)
        return vr_error_set(err, VR_ERR_UNAVAILABLE, "%s: connection to PostgreSQL lost during a "
                            "transaction", what);
    if (!*reset_done) {
        *reset_done = true;
        VR_WARN("database: connection to PostgreSQL lost; reconnecting");
        PQreset(C(db));
        if (PQstatus(C(db)) == CONNECTION_OK) {
            db->claim_pending = db->claimed; /* the new session holds no lock yet */
            return reclaim_if_pending(db, err);
        }
    }
    const char *msg = PQerrorMessage(C(db));
    vr_error_set(err, VR_ERR_UNAVAILABLE, "%s: cannot reconnect to PostgreSQL: %.*s", what, trimmed(msg),
                 msg);
    return one_line(err);
}

/* Send one statement. Outside a transaction, a read that failed because
 * the connection broke is sent again on a reset connection; a write is
 * not: the server may have applied it before the reply was lost, and
 * running it twice is worse than reporting the failure. */
static PGresult *pg_send(vr_db *db, const char *sql, int n, const char *const *vals, bool resend,
                         const char *what, vr_error *err)
{
    bool reset_done = false;
    for (;;) {
        if (ensure_connected(db, &reset_done, what, err) < 0)
            return NULL;
        PGresult *res = PQexecParams(C(db), sql, n, NULL, vals, NULL, NULL, 0);
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
            return res;
        if (PQstatus(C(db)) != CONNECTION_OK && !db->in_tx && !reset_done && resend) {
            PQclear(res);
            continue;
        }
        pg_error(db, res, what, err);
        PQclear(res);
        return NULL;
    }
}

/* Parameterless SQL, possibly several statements (simple protocol). */
static int command(vr_db *db, const char *sql, const char *what, vr_error *err)
{
    PGresult *res = PQexec(C(db), sql);
    ExecStatusType st = PQresultStatus(res);
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : pg_error(db, res, what, err);
    PQclear(res);
    return rc;
}

static bool ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || (unsigned char)c >= 0x80;
}

/* Length of a dollar-quote tag ($tag$ or $$) at p, or 0. */
static size_t dollar_tag(const char *p)
{
    if (*p != '$' || isdigit((unsigned char)p[1]))
        return 0;
    size_t n = 1;
    while (ident_char(p[n]))
        n++;
    return p[n] == '$' ? n + 1 : 0;
}

/* sql with each '?' outside literals, quoted identifiers and comments
 * replaced by $1, $2... (malloc'd; *count gets the number replaced). */
static char *number_placeholders(const char *sql, int *count)
{
    size_t len = strlen(sql), marks = 0;
    for (const char *p = sql; *p; p++)
        marks += *p == '?';
    char *out = malloc(len + marks * 11 + 1), *o = out;
    if (!out)
        return NULL;
    const char *p = sql;
    int n = 0;
    while (*p) {
        size_t tag;
        if (*p == '\'' || *p == '"') {
            /* E'...' strings also escape with backslashes */
            bool bs = *p == '\'' && p > sql && (p[-1] == 'E' || p[-1] == 'e') &&
                      (p - 1 == sql || !ident_char(p[-2]));
            char q = *p;
            *o++ = *p++;
            while (*p) {
                if (bs && *p == '\\' && p[1]) {
                    *o++ = *p++;
                } else if (*p == q) {
                    if (p[1] != q)
                        break;
                    *o++ = *p++; /* doubled quote */
                }
                *o++ = *p++;
            }
            if (*p)
                *o++ = *p++;
        } else if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                *o++ = *p++;
        } else if (p[0] == '/' && p[1] == '*') {
            int depth = 0; /* PostgreSQL's block comments nest */
            do {
                if (p[0] == '/' && p[1] == '*')
                    depth++, *o++ = *p++;
                else if (p[0] == '*' && p[1] == '/')
                    depth--, *o++ = *p++;
                *o++ = *p++;
            } while (*p && depth > 0);
        } else if ((p == sql || !ident_char(p[-1])) && (tag = dollar_tag(p)) > 0) {
            const char *end = p + tag;
            while (*end && strncmp(end, p, tag))
                end++;
            end = *end ? end + tag : end;
            memcpy(o, p, (size_t)(end - p));
            o += end - p;
            p = end;
        } else if (*p == '?') {
            o += sprintf(o, "$%d", ++n);
            p++;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    *count = n;
    return out;
}

static json_t *pg_value(const PGresult *res, int r, int c)
{
    if (PQgetisnull(res, r, c))
        return json_null();
    const char *s = PQgetvalue(res, r, c);
    json_t *v = NULL;
    switch (PQftype(res, c)) {
    case OID_INT2:
    case OID_INT4:
    case OID_INT8: v = json_integer(strtoll(s, NULL, 10)); break;
    case OID_BOOL: v = json_integer(s[0] == 't'); break; /* SQLite's truth values */
    case OID_NUMERIC: /* sum() and avg() of integers: integral ones as integers */
        if (s[strspn(s, "-0123456789")] == '\0') {
            errno = 0;
            long long i = strtoll(s, NULL, 10);
            if (!errno) {
                v = json_integer(i);
                break;
            }
        }
        /* fall through */
    case OID_FLOAT4:
    case OID_FLOAT8: v = json_real(strtod(s, NULL)); break;
    default: v = vr_db_string(s, strlen(s)); break;
    }
    return v ? v : json_null(); /* NaN, infinities, text that is not UTF-8 */
}

static json_t *pg_rows(const PGresult *res)
{
    json_t *out = json_array();
    int nrows = PQntuples(res), ncols = PQnfields(res);
    for (int r = 0; r < nrows; r++) {
        json_t *row = json_object();
        for (int c = 0; c < ncols; c++) {
            const char *name = PQfname(res, c);
            char key[256];
            if (vr_db_json_column(name, key, sizeof(key)))
                json_object_set_new(row, key, vr_db_json_text(PQgetisnull(res, r, c) ? NULL
                                                              : PQgetvalue(res, r, c)));
            else
                json_object_set_new(row, name, pg_value(res, r, c));
        }
        json_array_append_new(out, row);
    }
    return out;
}

static int pg_run(vr_db *db, const char *sql, const vr_dbv *args, int nargs, json_t **rows,
                  vr_error *err)
{
    const char *what = rows ? "database read" : "database write";
    int marks = 0, rc = -1;
    char *q = number_placeholders(sql, &marks);
    const char **vals = calloc((size_t)nargs + 1, sizeof(*vals));
    char (*ints)[32] = calloc((size_t)nargs + 1, sizeof(*ints));
    if (!q || !vals || !ints) {
        vr_error_set(err, VR_ERR_INTERNAL, "%s: out of memory", what);
        goto out;
    }
    if (marks != nargs) {
        vr_error_set(err, VR_ERR_INTERNAL, "%s: %d placeholder(s) but %d argument(s) in: %.100s",
                     what, marks, nargs, sql);
        goto out;
    }
    for (int i = 0; i < nargs; i++) {
        if (args[i].type == VR_DBV_TEXT) {
            vals[i] = args[i].s;
        } else if (args[i].type == VR_DBV_INT) {
            snprintf(ints[i], sizeof(ints[i]), "%lld", args[i].i);
            vals[i] = ints[i];
        } else if (args[i].type == VR_DBV_REAL) { /* %.17g: the double comes back exactly */
            snprintf(ints[i], sizeof(ints[i]), "%.17g", args[i].d);
            vals[i] = ints[i];
        }
    }
    /* A failed statement must not doom the whole transaction (SQLite
     * semantics, which callers rely on to retry after a conflict). */
    bool sp = db->in_tx;
    if (sp && command(db, "SAVEPOINT vr_stmt", what, err) < 0)
        goto out;
    PGresult *res = pg_send(db, q, nargs, vals, rows != NULL, what, err);
    if (sp)
        command(db, res ? "RELEASE SAVEPOINT vr_stmt"
                        : "ROLLBACK TO SAVEPOINT vr_stmt; RELEASE SAVEPOINT vr_stmt", what, NULL);
    if (res) {
        if (rows)
            *rows = pg_rows(res), rc = 0;
        else
            rc = atoi(PQcmdTuples(res));
        PQclear(res);
    }
out:
    free(q);
    free(vals);
    free(ints);
    return rc;
}

static int pg_version(vr_db *db)
{
    json_t *rows = NULL;
    if (pg_run(db, "SELECT coalesce(max(version), 0) AS v FROM schema_version", DB_NOARGS, &rows,
               NULL) < 0)
        return -1;
    json_t *v = json_object_get(json_array_get(rows, 0), "v");
    int n = json_is_integer(v) ? (int)json_integer_value(v) : -1;
    json_decref(rows);
    return n;
}

static int pg_migrate(vr_db *db, vr_error *err)
{
    int want = (int)vr_nmigrations;
    if (vr_db_begin(db, err) < 0)
        return -1;
    if (command(db, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ")", "database migration lock",
                err) < 0 ||
        command(db, "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY,"
                " applied_at BIGINT NOT NULL)", "database schema_version table", err) < 0)
        goto fail;
    int have = pg_version(db);
    if (have < 0) {
        vr_error_set(err, VR_ERR_INTERNAL, "cannot read the database schema version");
        goto fail;
    }
    if (have > want) {
        vr_error_set(err, VR_ERR_INTERNAL, "database schema version %d is newer than this engine (%d)",
                     have, want);
        goto fail;
    }
    for (int v = have; v < want; v++) {
        char what[64];
        snprintf(what, sizeof(what), "database migration to schema version %d", v + 1);
        if (command(db, vr_migrations[v].pg, what, err) < 0 ||
            (vr_migrations[v].data_step && vr_migrations[v].data_step(db, err) < 0) ||
            pg_run(db, "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                   DB_ARGS(DB_INT(v + 1), DB_INT((long long)time(NULL))), NULL, err) < 0)
            goto fail;
    }
    if (vr_db_commit(db, err) < 0)
        return -1;
    if (have < want)
        VR_INFO("database migrated from schema version %d to %d", have, want);
    return 0;
fail:
    vr_db_rollback(db);
    return -1;
}

static void notice(void *arg, const char *msg)
{
    VR_DEBUG("postgresql: %.*s", trimmed(msg), msg);
}

static int pg_open(vr_db *db, const char *uri, vr_error *err)
{
    /* Pairs before dbname are defaults the URI may override; the ones
     * after it are forced (rows are decoded as UTF-8). */
    static const char *const keys[] = {"connect_timeout", "fallback_application_name", "dbname",
                                       "client_encoding", NULL};
    const char *const vals[] = {"10", "vireo-engine", uri, "UTF8", NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    db->impl = c;
    if (!c)
        return vr_error_set(err, VR_ERR_INTERNAL, "cannot connect to PostgreSQL: out of memory");
    if (PQstatus(c) != CONNECTION_OK) {
        /* Name the target without echoing a password from the URI. */
        const char *msg = PQerrorMessage(c);
        vr_error_set(err, VR_ERR_UNAVAILABLE, "cannot connect to PostgreSQL database '%s' on %s:%s as '%s': "
                     "%.*s", PQdb(c) ? PQdb(c) : "?", PQhost(c) ? PQhost(c) : "?",
                     PQport(c) ? PQport(c) : "?", PQuser(c) ? PQuser(c) : "?", trimmed(msg), msg);
        return one_line(err);
    }
    PQsetNoticeProcessor(c, notice, NULL);
    if (PQserverVersion(c) < 90500)
        return vr_error_set(err, VR_ERR_UNSUPPORTED, "PostgreSQL server version %d is too old "
                            "(vireo needs 9.5 or later)", PQserverVersion(c));
    const char *scs = PQparameterStatus(c, "standard_conforming_strings");
    if (!scs || strcmp(scs, "on"))
        return vr_error_set(err, VR_ERR_UNSUPPORTED, "PostgreSQL has standard_conforming_strings "
                            "off; vireo needs it on");
    return 0;
}

static void pg_close(vr_db *db)
{
    PQfinish(C(db));
    db->impl = NULL;
}

static int pg_begin(vr_db *db, vr_error *err)
{
    PGresult *res = pg_send(db, "BEGIN", 0, NULL, true, "database begin", err);
    PQclear(res);
    return res ? 0 : -1;
}

static int pg_commit(vr_db *db, vr_error *err)
{
    int rc = 0;
    if (PQstatus(C(db)) != CONNECTION_OK)
        return vr_error_set(err, VR_ERR_UNAVAILABLE, "database commit: connection to PostgreSQL lost during "
                            "the transaction");
    PGresult *res = PQexec(C(db), "COMMIT");
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = pg_error(db, res, "database commit", err);
    else if (strcmp(PQcmdStatus(res), "COMMIT")) /* COMMIT of a failed transaction */
        rc = vr_error_set(err, VR_ERR_INTERNAL, "database commit: the transaction had failed and "
                          "was rolled back");
    PQclear(res);
    if (PQstatus(C(db)) == CONNECTION_OK && PQtransactionStatus(C(db)) != PQTRANS_IDLE)
        command(db, "ROLLBACK", "database rollback", NULL);
    return rc;
}

static void pg_rollback(vr_db *db)
{
    if (PQstatus(C(db)) == CONNECTION_OK)
        command(db, "ROLLBACK", "database rollback", NULL);
}

const vr_db_ops vr_db_pg_ops = {
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .migrate = pg_migrate,
    .version = pg_version,
    .run = pg_run,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .claim = pg_claim,
    .readers = 3,
};
