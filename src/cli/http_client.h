/* HTTPS client for the vireo-engine REST API (docs/rest-api.md), and the
 * login session that remembers which engine to talk to and which bearer
 * token to present. Functions that can fail print their own "vireo: ..."
 * message and return the CLI exit code (see cli.h). */
#pragma once

#include <curl/curl.h>
#include <signal.h>

#include <stddef.h>
#include <jansson.h>

typedef struct vr_session {
    char *url;   /* https://HOST[:PORT], no trailing slash */
    char *token; /* bearer token; NULL while logging in */
    char *ca;    /* absolute path of the CA bundle, or NULL for the system store */
    char *user;  /* who logged in, for messages only; may be NULL */
} vr_session;

/* The session file: $VIREO_CONFIG_DIR/session.json, else
 * $XDG_CONFIG_HOME/vireo/session.json, else ~/.config/vireo/session.json.
 * Returns -1 if no directory can be determined. */
int vr_session_path(char *buf, size_t len);

/* Load the session. Returns 0; 1 with a message when there is none or it
 * is unreadable ("not logged in"); with quiet_missing, a missing file
 * returns 1 without a message. */
int vr_session_load(vr_session *s, int quiet_missing);

/* Write the session atomically with mode 0600 (directory 0700).
 * Returns 0 or 1 with a message. */
int vr_session_save(const vr_session *s);

/* Remove the session file; a missing file is not an error. Returns 0 or 1. */
int vr_session_remove(void);

void vr_session_clear(vr_session *s);

typedef struct vr_response {
    long status;  /* HTTP status, 0 if the server was not reached */
    char *body;   /* raw body, NUL-terminated; never NULL after vr_http */
    size_t len;
    json_t *json; /* parsed body; NULL when the body is empty */
} vr_response;

/* Do not print a 401 (logout: an already dead token is fine). */
#define VR_HTTP_QUIET_401 1u

/* Point curl at url the way every request of the client goes: HTTPS only,
 * TLS 1.2 or later, trusting just the session's CA, 10 s to connect. */
void vr_http_secure(CURL *curl, const vr_session *s, const char *url);

/* hdrs plus Accept-Language from the user's locale (LC_ALL, LC_MESSAGES,
 * LANG), so the engine's messages come in the user's language. */
struct curl_slist *vr_http_add_language(struct curl_slist *hdrs);

/* METHOD s->url + path (path starts with /api and is already escaped),
 * with an optional JSON body. Returns 0 on a 2xx answer (resp filled; a
 * non-empty body must be JSON); 1 on an HTTP error, after printing
 * "vireo: HTTP STATUS: REASON: DETAIL" (see VR_HTTP_QUIET_401); 3 when the
 * server cannot be reached or answers something that is not the API; 4
 * when the flag of vr_http_abort_on was raised. resp is filled in every case and must be freed. */
int vr_http(const vr_session *s, const char *method, const char *path, json_t *body,
            unsigned flags, vr_response *resp);

/* From now on a request in flight ends (vr_http returns 4, printing
 * nothing) within a second of *flag becoming non-zero: a long poll stops
 * at a signal. NULL: requests run to their end. */
void vr_http_abort_on(volatile sig_atomic_t *flag);
void vr_response_free(vr_response *r);

/* GET /api/COLL?max=&page=[&search=][&sortby=] (escaped here; NULL or ""
 * leaves a parameter out); as vr_http. */
int vr_http_list(const vr_session *s, const char *coll, const char *search, const char *sortby, long max,
                 long page, vr_response *resp);

/* Percent-encode s for a URL path segment or query value (free with free()). */
char *vr_http_escape(const char *s);

/* A password: from file (first line; "-" is stdin), else $VIREO_PASSWORD,
 * else asked on the terminal without echo ("Password for USER at URL").
 * NULL after a message; free with free() after explicit_bzero. */
char *vr_read_password(const char *file, const char *user, const char *url);

/* body[member] = the first line of file ("-": stdin), the copy in memory
 * wiped; who names the account in messages. 0, or 2 after a message. */
int vr_body_password(json_t *body, const char *member, const char *file, const char *who);
