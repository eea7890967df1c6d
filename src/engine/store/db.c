/* The data-access layer's front: picks the backend from the open spec and
 * applies the locking discipline shared by both backends (one connection,
 * a recursive mutex held from begin to commit/rollback). */
#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db_backend.h"
#include "hist.h"
#include "log.h"
#include "utf8.h"

static bool is_pg_spec(const char *spec)
{
    return !strncmp(spec, "postgresql://", 13) || !strncmp(spec, "postgres://", 11);
}

bool vr_db_json_column(const char *name, char *key, size_t len)
{
    size_t n = strlen(name);
    if (n <= 5 || strcmp(name + n - 5, "_json"))
        return false;
    snprintf(key, len, "%.*s", (int)(n - 5), name);
    return true;
}

json_t *vr_db_string(const char *text, size_t len)
{
    json_t *v = json_stringn(text, len);
    if (v || !text)
        return v ? v : json_null();
    /* Text stored by something else (or an older engine) that is not valid
     * UTF-8: served with replacement characters rather than dropped. */
    size_t need = vr_utf8_sanitize(NULL, 0, text, len) + 1;
    char *clean = malloc(need);
    if (!clean)
        return json_null();
    vr_utf8_sanitize(clean, need, text, len);
    v = json_string(clean);
    free(clean);
    return v ? v : json_null();
}

json_t *vr_db_json_text(const char *text)
{
    json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    return v ? v : json_null();
}

static int open_db(const char *spec, bool claim, vr_db **out, vr_error *err)
{
    if (!spec || !*spec)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "no database given (a file path or a "
                            "postgresql:// URI)");
    vr_db *db = calloc(1, sizeof(*db));
    if (!db)
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory");
    db->ops = is_pg_spec(spec) ? &vr_db_pg_ops : &vr_db_sqlite_ops;
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&db->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    db->claim_fd = -1;
    /* The claim comes before the migrations: an engine refused because
     * another one runs must not upgrade the schema under it. */
    if (db->ops->open(db, spec, err) < 0 || (claim && vr_db_claim(db, err) < 0) ||
        db->ops->migrate(db, err) < 0) {
        vr_db_close(db);
        return -1;
    }
    /* Readers open after the migrations: they see the final schema. */
    for (int i = 0; i < db->ops->readers && i < VR_DB_MAX_READERS; i++) {
        vr_db *r = calloc(1, sizeof(*r));
        if (!r || (r->ops = db->ops, r->claim_fd = -1, pthread_mutex_init(&r->lock, NULL),
                   db->ops->open(r, spec, err) < 0)) {
            if (r && r->impl)
                r->ops->close(r);
            free(r);
            vr_db_close(db);
            return -1;
        }
        db->reader[db->nreaders++] = r;
    }
    *out = db;
    return 0;
}

int vr_db_claim(vr_db *db, vr_error *err)
{
    pthread_mutex_lock(&db->lock);
    int rc = db->claimed ? 0 : db->ops->claim(db, err);
    if (rc == 0)
        db->claimed = true;
    pthread_mutex_unlock(&db->lock);
    return rc;
}

int vr_db_open(const char *spec, vr_db **out, vr_error *err)
{
    return open_db(spec, false, out, err);
}

int vr_db_open_claimed(const char *spec, vr_db **out, vr_error *err)
{
    return open_db(spec, true, out, err);
}

void vr_db_close(vr_db *db)
{
    if (!db)
        return;
    for (int i = 0; i < db->nreaders; i++) {
        db->ops->close(db->reader[i]);
        pthread_mutex_destroy(&db->reader[i]->lock);
        free(db->reader[i]);
    }
    if (db->impl)
        db->ops->close(db);
    pthread_mutex_destroy(&db->lock);
    free(db);
}

const char *vr_db_backend(vr_db *db)
{
    return db->ops->name;
}

int vr_db_version(vr_db *db)
{
    pthread_mutex_lock(&db->lock);
    int v = db->ops->version(db);
    pthread_mutex_unlock(&db->lock);
    return v;
}

/* A failure the caller does not look at (err == NULL) is still logged:
 * it would otherwise vanish without a trace. */
static __thread bool prefers_readers;

void vr_db_thread_prefers_readers(bool on)
{
    prefers_readers = on;
}

/* The connection a statement runs on: queries of threads that prefer
 * readers go to a free reader unless the thread has a transaction open;
 * everything else to the main connection. Returned locked. */
static vr_db *pick(vr_db *db, bool query)
{
    bool own_tx = __atomic_load_n(&db->in_tx, __ATOMIC_ACQUIRE) &&
                  pthread_equal(__atomic_load_n(&db->tx_owner, __ATOMIC_ACQUIRE), pthread_self());
    /* An engine that lost its claim serves nothing, reads included. */
    if (!query || !prefers_readers || !db->nreaders || own_tx ||
        __atomic_load_n(&db->claim_lost, __ATOMIC_RELAXED)) {
        pthread_mutex_lock(&db->lock);
        return db;
    }
    unsigned start = __atomic_fetch_add(&db->next_reader, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < db->nreaders; i++) {
        vr_db *r = db->reader[(start + (unsigned)i) % (unsigned)db->nreaders];
        if (pthread_mutex_trylock(&r->lock) == 0)
            return r;
    }
    vr_db *r = db->reader[start % (unsigned)db->nreaders];
    pthread_mutex_lock(&r->lock);
    return r;
}

/* Write generations per table, found from the statement's text: every
 * writing statement of the engine starts with INSERT INTO t, UPDATE t or
 * DELETE FROM t. Anything else that does not start with SELECT bumps
 * every table. Tables are few; a fixed array is enough. */
#define GEN_TABLES 32
static struct {
    char name[32];
    unsigned long long gen;
} gens[GEN_TABLES];
static unsigned long long gen_all = 1;
static pthread_mutex_t gen_lock = PTHREAD_MUTEX_INITIALIZER;

static void note_write(const char *sql)
{
    static const char *const verbs[] = {"INSERT INTO ", "UPDATE ", "DELETE FROM "};
    char table[32] = "";
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
        size_t n = strlen(verbs[i]);
        if (!strncasecmp(sql, verbs[i], n)) {
            size_t len = strcspn(sql + n, " (");
            if (len < sizeof(table))
                snprintf(table, sizeof(table), "%.*s", (int)len, sql + n);
        }
    }
    pthread_mutex_lock(&gen_lock);
    if (!*table) {
        gen_all++;
    } else {
        int slot = -1;
        for (int i = 0; i < GEN_TABLES && slot < 0; i++)
            if (!strcmp(gens[i].name, table) || !gens[i].name[0])
                slot = i;
        if (slot < 0)
            gen_all++;
        else {
            snprintf(gens[slot].name, sizeof(gens[slot].name), "%s", table);
            gens[slot].gen++;
        }
    }
    pthread_mutex_unlock(&gen_lock);
}

unsigned long long vr_db_table_generation(vr_db *db, const char *table)
{
    (void)db;
    unsigned long long g = 0;
    pthread_mutex_lock(&gen_lock);
    for (int i = 0; i < GEN_TABLES; i++)
        if (!strcmp(gens[i].name, table))
            g = gens[i].gen;
    g = (g << 20) + gen_all; /* grows with either counter */
    pthread_mutex_unlock(&gen_lock);
    return g;
}

/* Timings for monitoring (vr_db_get_timings): process-wide, like the
 * generations above; one engine opens one database. */
static vr_hist h_run[2] = {VR_HIST_INIT(vr_hist_db_bounds), VR_HIST_INIT(vr_hist_db_bounds)};
static vr_hist h_wait[2] = {VR_HIST_INIT(vr_hist_db_bounds), VR_HIST_INIT(vr_hist_db_bounds)};
static vr_hist h_tx = VR_HIST_INIT(vr_hist_db_bounds);
static unsigned long long n_errors[2];
static __thread uint64_t tx_started_ns;

void vr_db_get_timings(vr_db_timings *out)
{
    for (int k = 0; k < 2; k++) {
        out->run[k] = &h_run[k];
        out->wait[k] = &h_wait[k];
        out->errors[k] = __atomic_load_n(&n_errors[k], __ATOMIC_RELAXED);
    }
    out->transaction = &h_tx;
}

static int run(vr_db *db, const char *sql, const vr_dbv *args, int nargs, json_t **rows,
               vr_error *err)
{
    vr_error local = {0};
    int kind = rows ? 0 : 1; /* read, write */
    uint64_t t0 = vr_mono_ns();
    vr_db *c = pick(db, rows != NULL);
    uint64_t t1 = vr_mono_ns();
    if (!rows)
        note_write(sql); /* before the write: a racing reader's cache is stale at once */
    int rc = c->ops->run(c, sql, args, nargs, rows, err ? err : &local);
    if (!rows)
        note_write(sql); /* and after: a count taken during the write is stale too */
    pthread_mutex_unlock(&c->lock);
    vr_hist_observe_ns(&h_wait[kind], t1 - t0);
    vr_hist_observe_ns(&h_run[kind], vr_mono_ns() - t1);
    if (rc < 0)
        __atomic_fetch_add(&n_errors[kind], 1, __ATOMIC_RELAXED);
    if (rc < 0 && !err)
        VR_WARN("%s [statement: %.80s]", local.message, sql);
    return rc;
}

int vr_db_exec(vr_db *db, const char *sql, const vr_dbv *args, int nargs, vr_error *err)
{
    return run(db, sql, args, nargs, NULL, err);
}

int vr_db_query(vr_db *db, const char *sql, const vr_dbv *args, int nargs, json_t **rows,
                vr_error *err)
{
    json_t *out = NULL;
    if (run(db, sql, args, nargs, &out, err) < 0)
        return -1;
    *rows = out;
    return 0;
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
    if (db->in_tx) {
        pthread_mutex_unlock(&db->lock);
        return vr_error_set(err, VR_ERR_INTERNAL,
                            "database begin: a transaction is already open on this thread");
    }
    if (db->ops->begin(db, err) < 0) {
        pthread_mutex_unlock(&db->lock);
        return -1;
    }
    __atomic_store_n(&db->tx_owner, pthread_self(), __ATOMIC_RELEASE);
    __atomic_store_n(&db->in_tx, true, __ATOMIC_RELEASE);
    tx_started_ns = vr_mono_ns();
    return 0;
}

int vr_db_commit(vr_db *db, vr_error *err)
{
    int rc = db->ops->commit(db, err);
    /* Readers on other connections see the transaction's rows only now:
     * counts cached meanwhile are stale, whatever table they count. */
    note_write("COMMIT");
    __atomic_store_n(&db->in_tx, false, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&db->lock);
    vr_hist_observe_ns(&h_tx, vr_mono_ns() - tx_started_ns);
    return rc;
}

void vr_db_rollback(vr_db *db)
{
    db->ops->rollback(db);
    __atomic_store_n(&db->in_tx, false, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&db->lock);
    vr_hist_observe_ns(&h_tx, vr_mono_ns() - tx_started_ns);
}
