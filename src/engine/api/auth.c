#include "auth.h"

#include <crypt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <gnutls/crypto.h>
#include <microhttpd.h>

#include "directory.h"
#include "jsonx.h"
#include "log.h"

#define ADMIN "admin@internal"
#define LOCKOUT_AFTER 3
#define LOCKOUT_MAX_S 60

static int hash_password(const char *pw, char out[CRYPT_OUTPUT_SIZE], vr_error *err)
{
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    struct crypt_data cd;
    memset(&cd, 0, sizeof(cd));
    if (!crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)))
        return vr_error_set(err, VR_ERR_INTERNAL, "cannot make a password salt");
    char *h = crypt_r(pw, salt, &cd);
    if (!h || h[0] == '*')
        return vr_error_set(err, VR_ERR_INTERNAL, "cannot hash the password");
    snprintf(out, CRYPT_OUTPUT_SIZE, "%s", h);
    return 0;
}

int vr_auth_hash(const char *pw, char *out, size_t len, vr_error *err)
{
    char h[CRYPT_OUTPUT_SIZE];
    if (hash_password(pw, h, err) < 0)
        return -1;
    if (strlen(h) >= len)
        return vr_error_set(err, VR_ERR_INTERNAL, "password hash too long");
    memcpy(out, h, strlen(h) + 1);
    explicit_bzero(h, sizeof(h));
    return 0;
}

static bool password_ok(const char *pw, const char *hash)
{
    struct crypt_data cd;
    memset(&cd, 0, sizeof(cd));
    char *h = crypt_r(pw, hash, &cd);
    return h && h[0] != '*' && strcmp(h, hash) == 0;
}

int vr_auth_bootstrap(vr_engine *e, const char *password_file, vr_error *err)
{
    json_t *row = vr_db_query_one(e->db, "SELECT id FROM users WHERE name = ?",
                                  DB_ARGS(DB_TEXT(ADMIN)), err);
    if (row) {
        json_decref(row);
        return 0;
    }
    char pw[512] = "";
    FILE *f = password_file ? fopen(password_file, "r") : NULL;
    if (!f || !fgets(pw, sizeof(pw), f)) {
        if (f)
            fclose(f);
        return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                            "no admin password: give --admin-password-file at first start");
    }
    fclose(f);
    pw[strcspn(pw, "\r\n")] = '\0';
    if (strlen(pw) < 8)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "the admin password must have 8+ characters");
    char hash[CRYPT_OUTPUT_SIZE], id[37];
    if (hash_password(pw, hash, err) < 0)
        return -1;
    explicit_bzero(pw, sizeof(pw));
    vr_uuid_new(id);
    if (vr_db_exec(e->db, "INSERT INTO users (id, name, password_hash, created_at) VALUES (?,?,?,?)",
                   DB_ARGS(DB_TEXT(id), DB_TEXT(ADMIN), DB_TEXT(hash), DB_INT(vr_now())), err) < 0)
        return -1;
    VR_INFO("created user %s", ADMIN);
    return 0;
}

static void sha256_hex(const char *s, char out[65])
{
    unsigned char d[32];
    gnutls_hash_fast(GNUTLS_DIG_SHA256, s, strlen(s), d);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* Seconds a name whose login_failures row is `row` must still wait
 * (0 = none). login_failures.last_at and tokens.expires_at are in
 * milliseconds. */
static long long lockout_left(json_t *row)
{
    long long count = json_integer_value(json_object_get(row, "count"));
    long long last = json_integer_value(json_object_get(row, "last_at"));
    if (!row || count < LOCKOUT_AFTER)
        return 0;
    long long wait = 1LL << (count - LOCKOUT_AFTER < 6 ? count - LOCKOUT_AFTER : 6);
    if (wait > LOCKOUT_MAX_S)
        wait = LOCKOUT_MAX_S;
    /* Milliseconds: a lockout of 1 s must last 1 s, not "until the next
     * second starts". */
    long long left_ms = last + wait * 1000 - vr_now_ms();
    return left_ms > 0 ? (left_ms + 999) / 1000 : 0;
}

/* Login attempts whose password is being checked, per user name. The
 * lockout check, this count and the recording of each outcome happen under
 * one lock (one engine per database, so the process is the whole world):
 * a read, a slow hash and a separate write used to let a burst of
 * concurrent guesses all through. An attempt is evaluated only while fewer
 * are in flight than the failures still allowed; the others wait for an
 * outcome and look again - so exactly the allowed number of wrong
 * passwords is ever checked, and concurrent right ones are not refused. */
typedef struct in_flight {
    struct in_flight *next;
    int n;
    char name[];
} in_flight;

static pthread_mutex_t attempts_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t attempt_done = PTHREAD_COND_INITIALIZER;
static in_flight *attempts;

#define ATTEMPT_WAIT_S 10 /* many password checks at once are slow, not stuck */

static in_flight **attempt_slot(const char *name)
{
    in_flight **p = &attempts;
    while (*p && strcmp((*p)->name, name))
        p = &(*p)->next;
    return p;
}

/* Wait until this attempt may be evaluated. Returns 0 (it is then in
 * flight: call end_attempt), the seconds a lockout still lasts (> 0), or
 * -1 with err set. */
static long long begin_attempt(vr_engine *e, const char *name, vr_error *err)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += ATTEMPT_WAIT_S;
    pthread_mutex_lock(&attempts_lock);
    for (;;) {
        json_t *row = vr_db_query_one(e->db, "SELECT count, last_at FROM login_failures WHERE name = ?",
                                      DB_ARGS(DB_TEXT(name)), err);
        if (!row && err->code)
            break;
        long long wait = lockout_left(row);
        long long failures = json_integer_value(json_object_get(row, "count"));
        json_decref(row);
        if (wait > 0) {
            pthread_mutex_unlock(&attempts_lock);
            return wait;
        }
        /* Once a lockout has run out, one more failure starts the next. */
        long long allowed = failures < LOCKOUT_AFTER ? LOCKOUT_AFTER - failures : 1;
        in_flight **slot = attempt_slot(name);
        if (!*slot || (*slot)->n < allowed) {
            if (!*slot && (*slot = calloc(1, sizeof(**slot) + strlen(name) + 1)))
                strcpy((*slot)->name, name);
            if (!*slot) {
                vr_error_set(err, VR_ERR_INTERNAL, "out of memory");
                break;
            }
            (*slot)->n++;
            pthread_mutex_unlock(&attempts_lock);
            return 0;
        }
        if (pthread_cond_timedwait(&attempt_done, &attempts_lock, &deadline) != 0) {
            pthread_mutex_unlock(&attempts_lock);
            return 1; /* still busy: as good as locked out for now */
        }
    }
    pthread_mutex_unlock(&attempts_lock);
    return -1;
}

enum attempt_outcome { ATTEMPT_FAILED, ATTEMPT_OK, ATTEMPT_UNDECIDED /* the database failed */ };

/* Record the outcome of an attempt begun with begin_attempt. */
static void end_attempt(vr_engine *e, const char *name, enum attempt_outcome outcome)
{
    pthread_mutex_lock(&attempts_lock);
    if (outcome == ATTEMPT_OK)
        vr_db_exec(e->db, "DELETE FROM login_failures WHERE name = ?", DB_ARGS(DB_TEXT(name)), NULL);
    else if (outcome == ATTEMPT_FAILED)
        vr_db_exec(e->db, "INSERT INTO login_failures (name, count, last_at) VALUES (?, 1, ?) "
                          "ON CONFLICT(name) DO UPDATE SET count = login_failures.count + 1,"
                          " last_at = excluded.last_at",
                   DB_ARGS(DB_TEXT(name), DB_INT(vr_now_ms())), NULL);
    in_flight **slot = attempt_slot(name);
    if (*slot && --(*slot)->n == 0) {
        in_flight *gone = *slot;
        *slot = gone->next;
        free(gone);
    }
    pthread_cond_broadcast(&attempt_done);
    pthread_mutex_unlock(&attempts_lock);
}

/* The token request as JSON, or as an OAuth2 form body. */
static json_t *token_request(vr_http_req *req)
{
    const char *ct = vr_http_header(req, "Content-Type");
    /* Form encoding as OAuth2 specifies; JSON too (and for bodies that
     * are JSON whatever the client's default content type says). */
    if (ct && !strncasecmp(ct, "application/x-www-form-urlencoded", 33) &&
        req->body[strspn(req->body, " \t\r\n")] != '{') {
        json_t *o = json_object();
        char *copy = strdup(req->body), *save = NULL;
        for (char *kv = strtok_r(copy, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
            char *eq = strchr(kv, '=');
            if (!eq)
                continue;
            *eq = '\0';
            for (char *p = eq + 1; *p; p++)
                if (*p == '+')
                    *p = ' ';
            MHD_http_unescape(eq + 1);
            MHD_http_unescape(kv);
            json_object_set_new(o, kv, json_string(eq + 1));
        }
        free(copy);
        return o;
    }
    return json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, NULL);
}

void vr_auth_token(vr_engine *e, vr_http_req *req, vr_http_resp *resp)
{
    static const char *const keys[] = {"grant_type", "username", "password", "scope", NULL};
    json_t *body = token_request(req);
    const char *grant = NULL, *user = NULL, *pw = NULL;
    vr_error err = {0};
    if (!json_is_object(body)) {
        vr_http_fault(resp, 400, "Bad Request", "the token request must be a JSON object or a form");
        goto out;
    }
    if (vr_json_check_keys(body, "token request", VR_NAMES(keys), &err) < 0 ||
        vr_json_str(body, "token request", "grant_type", true, &grant, &err) < 0 ||
        vr_json_str(body, "token request", "username", true, &user, &err) < 0 ||
        vr_json_str(body, "token request", "password", true, &pw, &err) < 0) {
        vr_http_fault(resp, 400, "Bad Request", "%s", err.message);
        goto out;
    }
    if (strcmp(grant, "password")) {
        vr_http_fault(resp, 400, "Bad Request", "unsupported grant_type '%s' (use 'password')", grant);
        goto out;
    }
    long long wait = begin_attempt(e, user, &err);
    if (wait < 0) {
        int st = vr_http_status_for(&err);
        vr_http_fault(resp, st, st == 503 ? "Service Unavailable" : "Internal Server Error",
                      "cannot check the failed logins of this user: %s", err.message);
        goto out;
    }
    if (wait > 0) {
        vr_http_fault(resp, 429, "Too Many Requests",
                      "too many failed logins for this user; retry in %lld s", wait);
        goto out;
    }
    /* uid@profile: the profile's directory decides (directory.c) */
    char dname[400] = "";
    int dir = vr_directory_login(e, user, pw, dname, sizeof(dname), &err);
    if (dir < 0) {
        end_attempt(e, user, ATTEMPT_UNDECIDED);
        vr_event(e, "warning", user, "user", "", "login of '%s' not checked: %s", user, err.message);
        vr_http_fault(resp, 503, "Service Unavailable", "cannot log in '%s' now: %s", user, err.message);
        goto out;
    }
    const char *attempt = user; /* the failed-login count goes by what was typed */
    if (dir == VR_DIR_OK)
        user = dname;
    json_t *row = vr_db_query_one(e->db, "SELECT id, password_hash, enabled FROM users WHERE name = ?",
                                  DB_ARGS(DB_TEXT(user)), &err);
    if (!row && err.code) {
        end_attempt(e, attempt, ATTEMPT_UNDECIDED);
        int st = vr_http_status_for(&err);
        vr_http_fault(resp, st, st == 503 ? "Service Unavailable" : "Internal Server Error",
                      "cannot check the password: %s", err.message);
        goto out;
    }
    /* Hash even for unknown users so timing does not reveal which exist. */
    const char *hash = row ? json_string_value(json_object_get(row, "password_hash"))
                           : "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7";
    bool ok = dir == VR_DIR_NOT_MINE ? password_ok(pw, hash) && row : dir == VR_DIR_OK && row;
    end_attempt(e, attempt, ok ? ATTEMPT_OK : ATTEMPT_FAILED);
    if (!ok) {
        vr_event(e, "warning", user, "user", "", "failed login for '%s'", user);
        vr_http_fault(resp, 401, "Unauthorized", "wrong user name or password");
        json_decref(row);
        goto out;
    }
    if (!json_integer_value(json_object_get(row, "enabled"))) { /* the password was right: say why */
        vr_event(e, "warning", user, "user", "", "login refused for disabled user '%s'", user);
        vr_http_fault(resp, 401, "Unauthorized", "user '%s' is disabled", user);
        json_decref(row);
        goto out;
    }
    unsigned char rnd[32];
    char token[65], th[65];
    if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
        vr_http_fault(resp, 500, "Internal Server Error", "no randomness for a token");
        json_decref(row);
        goto out;
    }
    for (int i = 0; i < 32; i++)
        snprintf(token + 2 * i, 3, "%02x", rnd[i]);
    sha256_hex(token, th); /* only the hash is stored */
    vr_db_exec(e->db, "INSERT INTO tokens (hash, user_id, expires_at) VALUES (?,?,?)",
               DB_ARGS(DB_TEXT(th), DB_TEXT(json_string_value(json_object_get(row, "id"))),
                       DB_INT(vr_now_ms() + (long long)e->token_ttl_s * 1000)), NULL);
    json_decref(row);
    vr_event(e, "normal", user, "user", "", "user '%s' logged in", user);
    resp->status = 200;
    resp->body = json_pack("{s:s, s:s, s:i}", "access_token", token, "token_type", "bearer",
                           "expires_in", e->token_ttl_s);
out:
    json_decref(body);
}

/* The bearer token of the request, or NULL. */
static const char *bearer(vr_http_req *req)
{
    const char *h = vr_http_header(req, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7))
        return NULL;
    h += 7;
    return strlen(h) == 64 && strspn(h, "0123456789abcdef") == 64 ? h : NULL;
}

int vr_auth_check(vr_engine *e, vr_http_req *req, vr_http_resp *resp)
{
    const char *tok = bearer(req);
    if (!tok)
        return vr_http_fault(resp, 401, "Unauthorized", "missing or malformed bearer token");
    char th[65];
    vr_error err = {0};
    sha256_hex(tok, th);
    json_t *row = vr_db_query_one(e->db,
        "SELECT u.name AS name, u.enabled AS enabled, t.expires_at AS expires_at, t.revoked AS revoked FROM tokens t "
        "JOIN users u ON u.id = t.user_id WHERE t.hash = ?", DB_ARGS(DB_TEXT(th)), &err);
    int rc = 0;
    if (!row && err.code) /* the database is away: not the client's fault */
        rc = vr_http_fault(resp, err.code == VR_ERR_UNAVAILABLE ? 503 : 500,
                           err.code == VR_ERR_UNAVAILABLE ? "Service Unavailable" : "Internal Server Error",
                           "cannot check the token: %s", err.message);
    else if (!row)
        rc = vr_http_fault(resp, 401, "Unauthorized", "unknown token");
    else if (json_integer_value(json_object_get(row, "revoked")))
        rc = vr_http_fault(resp, 401, "Unauthorized", "token revoked (logged out)");
    else if (!json_integer_value(json_object_get(row, "enabled")))
        rc = vr_http_fault(resp, 401, "Unauthorized", "user disabled");
    else if (json_integer_value(json_object_get(row, "expires_at")) <= vr_now_ms())
        rc = vr_http_fault(resp, 401, "Unauthorized", "token expired; log in again");
    else
        snprintf(req->user, sizeof(req->user), "%s", json_string_value(json_object_get(row, "name")));
    json_decref(row);
    return rc;
}

void vr_auth_logout(vr_engine *e, vr_http_req *req, vr_http_resp *resp)
{
    if (vr_auth_check(e, req, resp) < 0)
        return;
    char th[65];
    sha256_hex(bearer(req), th);
    vr_db_exec(e->db, "UPDATE tokens SET revoked = 1 WHERE hash = ?", DB_ARGS(DB_TEXT(th)), NULL);
    vr_event(e, "normal", req->user, "user", "", "user '%s' logged out", req->user);
    resp->status = 204;
}
