/* The HTTPS client (libcurl), the session file, and `vireo login|logout`,
 * which exist to manage that session. See http_client.h. */
#include "http_client.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#include <curl/curl.h>

#include "cli.h"
#include "table.h"

/* A hostile or broken server must not make the CLI eat all memory. */
#define MAX_BODY (64u << 20)

int vr_session_path(char *buf, size_t len)
{
    const char *dir = getenv("VIREO_CONFIG_DIR"), *xdg = getenv("XDG_CONFIG_HOME"),
               *home = getenv("HOME");
    int n;
    if (dir && *dir)
        n = snprintf(buf, len, "%s/session.json", dir);
    else if (xdg && *xdg)
        n = snprintf(buf, len, "%s/vireo/session.json", xdg);
    else if (home && *home)
        n = snprintf(buf, len, "%s/.config/vireo/session.json", home);
    else
        return -1;
    return n > 0 && (size_t)n < len ? 0 : -1;
}

static char *dup_member(json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));
    return v ? strdup(v) : NULL;
}

/* The token goes into an HTTP header: nothing but visible ASCII. */
static bool token_ok(const char *tok)
{
    bool ok = tok && *tok && strlen(tok) < 4096;
    for (const char *p = tok; ok && *p; p++)
        ok = *p > 0x20 && *p < 0x7f;
    return ok;
}

int vr_session_load(vr_session *s, int quiet_missing)
{
    char path[4096];
    memset(s, 0, sizeof(*s));
    if (vr_session_path(path, sizeof(path)) < 0) {
        fprintf(stderr, "vireo: cannot locate the session file (set HOME or VIREO_CONFIG_DIR)\n");
        return 1;
    }
    FILE *f = fopen(path, "re");
    if (!f) {
        if (errno != ENOENT)
            fprintf(stderr, "vireo: %s: %s\n", path, strerror(errno));
        else if (!quiet_missing)
            fprintf(stderr, "vireo: not logged in (run 'vireo login')\n");
        return 1;
    }
    struct stat st;
    /* The token is a password equivalent: say so if others can read it. */
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077))
        fprintf(stderr, "vireo: warning: %s is readable by other users\n", path);
    json_error_t jerr;
    json_t *j = json_loadf(f, 0, &jerr);
    fclose(f);
    if (j) {
        s->url = dup_member(j, "url");
        s->token = dup_member(j, "token");
        s->ca = dup_member(j, "ca");
        s->user = dup_member(j, "user");
    }
    json_decref(j);
    if (!s->url || !s->token || !token_ok(s->token)) {
        fprintf(stderr, "vireo: %s is not a valid session (run 'vireo login')\n", path);
        vr_session_clear(s);
        return 1;
    }
    return 0;
}

/* mkdir -p with mode 0700 for the components we create. */
static int make_dirs(const char *file)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", file);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    for (char *p = dir + 1;; p++) {
        if (*p == '/' || !*p) {
            char c = *p;
            *p = '\0';
            if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return -1;
            *p = c;
            if (!c)
                return 0;
        }
    }
}

int vr_session_save(const vr_session *s)
{
    char path[4096], tmp[4200];
    if (vr_session_path(path, sizeof(path)) < 0) {
        fprintf(stderr, "vireo: cannot locate the session file (set HOME or VIREO_CONFIG_DIR)\n");
        return 1;
    }
    json_t *j = json_object();
    json_object_set_new(j, "url", json_string(s->url));
    json_object_set_new(j, "token", json_string(s->token));
    json_object_set_new(j, "ca", s->ca ? json_string(s->ca) : json_null());
    json_object_set_new(j, "user", s->user ? json_string(s->user) : json_null());
    char *text = json_dumps(j, JSON_INDENT(2));
    json_decref(j);
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    int fd = -1, ok = text && make_dirs(path) == 0;
    /* Created 0600 from the start (no window where the token is readable),
     * then renamed over the old file so a crash never leaves half a file. */
    if (ok)
        ok = (fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600)) >= 0;
    if (ok) {
        size_t len = strlen(text);
        ok = fchmod(fd, 0600) == 0 && write(fd, text, len) == (ssize_t)len &&
             write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    }
    if (fd >= 0 && close(fd) < 0)
        ok = 0;
    if (ok)
        ok = rename(tmp, path) == 0;
    if (!ok) {
        fprintf(stderr, "vireo: cannot write %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            unlink(tmp);
    }
    free(text);
    return ok ? 0 : 1;
}

int vr_session_remove(void)
{
    char path[4096];
    if (vr_session_path(path, sizeof(path)) < 0)
        return 1;
    if (unlink(path) < 0 && errno != ENOENT) {
        fprintf(stderr, "vireo: cannot remove %s: %s\n", path, strerror(errno));
        return 1;
    }
    return 0;
}

void vr_session_clear(vr_session *s)
{
    free(s->url);
    free(s->token);
    free(s->ca);
    free(s->user);
    memset(s, 0, sizeof(*s));
}

static size_t on_data(char *data, size_t size, size_t n, void *userp)
{
    vr_response *r = userp;
    size_t add = size * n;
    if (r->len + add > MAX_BODY)
        return 0; /* makes curl fail with CURLE_WRITE_ERROR */
    char *nb = realloc(r->body, r->len + add + 1);
    if (!nb)
        return 0;
    memcpy(nb + r->len, data, add);
    r->body = nb;
    r->len += add;
    r->body[r->len] = '\0';
    return add;
}

static const char *reason_for(long status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Error";
    }
}

static void print_fault(const vr_session *s, const vr_response *r)
{
    json_t *fault = json_object_get(r->json, "fault");
    const char *reason = json_string_value(json_object_get(fault, "reason"));
    const char *detail = json_string_value(json_object_get(fault, "detail"));
    /* Server text goes to a terminal: strip control characters. */
    char *cr = vr_text_clean(reason ? reason : reason_for(r->status));
    char *cd = detail ? vr_text_clean(detail) : NULL;
    fprintf(stderr, "vireo: HTTP %ld: %s%s%s\n", r->status, cr, cd ? ": " : "", cd ? cd : "");
    if (r->status == 401 && s->token)
        fprintf(stderr, "vireo: run 'vireo login' to get a new token\n");
    free(cr);
    free(cd);
}

static CURL *handle(void)
{
    /* One handle for the whole run, so successive calls (name lookup, then
     * the real request, then job polling) reuse the TLS connection. */
    static CURL *curl;
    if (!curl) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return NULL;
        curl = curl_easy_init();
    } else {
        curl_easy_reset(curl);
    }
    return curl;
}

void vr_http_secure(CURL *curl, const vr_session *s, const char *url)
{
    curl_easy_setopt(curl, CURLOPT_URL, url);
    /* HTTPS only: credentials and tokens never travel in clear, and a
     * redirect cannot downgrade (redirects are not followed anyway). */
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (s->ca) {
        /* Trust exactly the engine's CA, not the system store as well. */
        curl_easy_setopt(curl, CURLOPT_CAINFO, s->ca);
        curl_easy_setopt(curl, CURLOPT_CAPATH, NULL);
    }
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
}

struct curl_slist *vr_http_add_language(struct curl_slist *hdrs)
{
    /* The user's language as POSIX says (LC_ALL, then LC_MESSAGES, then
     * LANG): "ja_JP.UTF-8@x" asks for ja-JP. C and POSIX ask for nothing,
     * so the engine answers in English (docs/rest-api.md "Languages"). */
    const char *v = NULL;
    const char *vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
    for (size_t i = 0; i < 3 && !(v && *v); i++)
        v = getenv(vars[i]);
    if (!v || !*v || !strcmp(v, "C") || !strncmp(v, "C.", 2) || !strcmp(v, "POSIX"))
        return hdrs;
    char h[64] = "Accept-Language: ";
    size_t n = strlen(h);
    for (; *v && *v != '.' && *v != '@' && n < sizeof(h) - 1; v++) {
        char c = *v == '_' ? '-' : *v;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
            return hdrs; /* not a language tag: ask for nothing */
        h[n++] = c;
    }
    h[n] = '\0';
    return n > 17 ? curl_slist_append(hdrs, h) : hdrs;
}

static volatile sig_atomic_t *abort_flag;

void vr_http_abort_on(volatile sig_atomic_t *flag)
{
    abort_flag = flag;
}

/* curl calls it about once a second even while nothing arrives. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)arg, (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return abort_flag && *abort_flag;
}

int vr_http(const vr_session *s, const char *method, const char *path, json_t *body,
            unsigned flags, vr_response *resp)
{
    memset(resp, 0, sizeof(*resp));
    resp->body = calloc(1, 1);
    CURL *curl = handle();
    if (!curl || !resp->body) {
        fprintf(stderr, "vireo: cannot initialize libcurl\n");
        return 3;
    }
    char *payload = NULL, *url = NULL, *auth = NULL, errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdrs = vr_http_add_language(curl_slist_append(NULL, "Accept: application/json"));
    if (body) {
        payload = json_dumps(body, JSON_COMPACT);
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    }
    if (s->token && asprintf(&auth, "Authorization: Bearer %s", s->token) > 0)
        hdrs = curl_slist_append(hdrs, auth);
    if (asprintf(&url, "%s%s", s->url, path) < 0 || (body && !payload) || !hdrs) {
        fprintf(stderr, "vireo: out of memory\n");
        curl_slist_free_all(hdrs);
        free(payload);
        return 3;
    }
    vr_http_secure(curl, s, url);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "vireo-cli/" "0.1");
    if (!strcmp(method, "POST") || !strcmp(method, "PUT")) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload ? payload : "");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)(payload ? strlen(payload) : 0));
    }
    if (strcmp(method, "GET") && strcmp(method, "POST"))
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    if (abort_flag) {
        curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    }
    CURLcode cc = curl_easy_perform(curl);
    curl_slist_free_all(hdrs);
    if (payload) /* may hold a password (login) */
        explicit_bzero(payload, strlen(payload));
    free(payload);
    if (auth)
        explicit_bzero(auth, strlen(auth));
    free(auth);
    int rc = 0;
    if (cc == CURLE_ABORTED_BY_CALLBACK) {
        rc = 4;
        goto out;
    }
    if (cc != CURLE_OK) {
        fprintf(stderr, "vireo: cannot reach %s: %s\n", s->url, *errbuf ? errbuf : curl_easy_strerror(cc));
        rc = 3;
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
    if (resp->len) {
        json_error_t jerr;
        resp->json = json_loadb(resp->body, resp->len, 0, &jerr);
    }
    if (resp->status >= 200 && resp->status < 300) {
        if (resp->len && !resp->json) {
            fprintf(stderr, "vireo: %s %s: the answer is not JSON (is %s a vireo engine?)\n", method,
                    path, s->url);
            rc = 3;
        }
    } else {
        if (!(flags & VR_HTTP_QUIET_401) || resp->status != 401)
            print_fault(s, resp);
        rc = 1;
    }
out:
    free(url);
    return rc;
}

void vr_response_free(vr_response *r)
{
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

char *vr_http_escape(const char *s)
{
    /* Since curl 7.82 the handle argument is unused. */
    char *e = curl_easy_escape(NULL, s, 0), *copy = e ? strdup(e) : NULL;
    curl_free(e);
    return copy;
}

int vr_http_list(const vr_session *s, const char *coll, const char *search, const char *sortby, long max,
                 long page, vr_response *resp)
{
    memset(resp, 0, sizeof(*resp));
    char *esc = search && *search ? vr_http_escape(search) : NULL, *path = NULL;
    char *sesc = sortby && *sortby ? vr_http_escape(sortby) : NULL;
    int rc = 3;
    if ((search && *search && !esc) || (sortby && *sortby && !sesc) ||
        asprintf(&path, "/api/%s?max=%ld&page=%ld%s%s%s%s", coll, max, page, esc ? "&search=" : "",
                 esc ? esc : "", sesc ? "&sortby=" : "", sesc ? sesc : "") < 0)
        path = NULL;
    if (path)
        rc = vr_http(s, "GET", path, NULL, 0, resp);
    free(esc);
    free(sesc);
    free(path);
    return rc;
}

/* `vireo login` and `vireo logout` live here, next to the session they manage. */

static void login_usage(FILE *f)
{
    fprintf(f, "usage: vireo login [--url https://HOST:8443] [--user USER] [--password-file FILE|-] [--ca FILE]\n"
               "       vireo logout\n"
               "The password comes from --password-file, else $VIREO_PASSWORD, else a prompt on the\n"
               "terminal. --url and --ca default to the previous session's, the user to admin@internal.\n");
}

/* The password: --password-file (first line; "-" is stdin), else
 * $VIREO_PASSWORD, else asked on the terminal without echo. */
char *vr_read_password(const char *file, const char *user, const char *url)
{
    char buf[4096] = "";
    const char *env = getenv("VIREO_PASSWORD");
    if (file) {
        FILE *f = strcmp(file, "-") ? fopen(file, "re") : stdin;
        if (!f || !fgets(buf, sizeof(buf), f))
            fprintf(stderr, "vireo: cannot read the password from %s: %s\n", file,
                    f ? "empty file" : strerror(errno));
        if (f && f != stdin)
            fclose(f);
        if (!*buf)
            return NULL;
    } else if (env) {
        snprintf(buf, sizeof(buf), "%s", env);
    } else {
        int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
        struct termios old, quiet;
        if (fd < 0 || tcgetattr(fd, &old) < 0) {
            fprintf(stderr, "vireo: no password: use --password-file, $VIREO_PASSWORD or a terminal\n");
            if (fd >= 0)
                close(fd);
            return NULL;
        }
        dprintf(fd, "Password for %s at %s: ", user, url);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(fd, TCSAFLUSH, &quiet);
        size_t n = 0;
        for (char c; n + 1 < sizeof(buf) && read(fd, &c, 1) == 1 && c != '\n';)
            buf[n++] = c;
        buf[n] = '\0';
        tcsetattr(fd, TCSAFLUSH, &old);
        dprintf(fd, "\n");
        close(fd);
    }
    buf[strcspn(buf, "\r\n")] = '\0';
    char *pw = strdup(buf);
    explicit_bzero(buf, sizeof(buf));
    return pw;
}

int vr_body_password(json_t *body, const char *member, const char *file, const char *who)
{
    char *pw = vr_read_password(file, who, "");
    if (!pw)
        return 2;
    json_t *t = json_string(pw);
    explicit_bzero(pw, strlen(pw));
    free(pw);
    if (!t) {
        fprintf(stderr, "vireo: the password in %s is not UTF-8\n", file);
        return 2;
    }
    json_object_set_new(body, member, t);
    return 0;
}

int vr_cli_login(int argc, char **argv)
{
    static const struct option opts[] = {
        {"url", required_argument, 0, 'u'}, {"user", required_argument, 0, 'U'},
        {"password-file", required_argument, 0, 'p'}, {"ca", required_argument, 0, 'c'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *url = NULL, *user = "admin@internal", *pwfile = NULL, *ca = NULL;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case 'u': url = optarg; break;
        case 'U': user = optarg; break;
        case 'p': pwfile = optarg; break;
        case 'c': ca = optarg; break;
        case 'h': login_usage(stdout); return 0;
        default:
            fprintf(stderr, "vireo: bad option: %s\n", argv[optind - 1]);
            login_usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        login_usage(stderr);
        return 2;
    }
    vr_session prev, s = {0};
    bool had = vr_session_load(&prev, 1) == 0;
    s.url = strdup(url ? url : had ? prev.url : "https://localhost:8443");
    /* Accept "https://host:8443/" and ".../api": we append /api/... */
    size_t len = strlen(s.url);
    while (len && s.url[len - 1] == '/')
        s.url[--len] = '\0';
    if (len >= 4 && !strcmp(s.url + len - 4, "/api"))
        s.url[len - 4] = '\0';
    int rc = 0;
    if (strncasecmp(s.url, "https://", 8) || !s.url[8]) {
        fprintf(stderr, "vireo: --url must be https://HOST[:PORT]\n");
        rc = 2;
    } else if (ca && !(s.ca = realpath(ca, NULL))) { /* absolute: works from any directory */
        fprintf(stderr, "vireo: --ca %s: %s\n", ca, strerror(errno));
        rc = 2;
    } else if (!ca && had && prev.ca && !strcmp(prev.url, s.url)) {
        s.ca = strdup(prev.ca);
    }
    char *pw = rc ? NULL : vr_read_password(pwfile, user, s.url);
    json_t *body = pw ? json_pack("{s:s, s:s, s:s}", "grant_type", "password", "username", user, "password", pw)
                      : NULL;
    if (!rc && !pw)
        rc = 2;
    else if (!rc && !body) {
        fprintf(stderr, "vireo: the user name and password must be UTF-8\n");
        rc = 2;
    }
    vr_response r = {0};
    if (!rc && (rc = vr_http(&s, "POST", "/api/sso/token", body, 0, &r)) == 0) {
        const char *tok = json_string_value(json_object_get(r.json, "access_token"));
        if (!token_ok(tok)) {
            fprintf(stderr, "vireo: the server sent no usable access_token\n");
            rc = 3;
        } else {
            s.token = strdup(tok);
            s.user = strdup(user);
            if ((rc = vr_session_save(&s)) == 0)
                printf("logged in to %s as %s\n", s.url, user);
        }
    }
    if (pw)
        explicit_bzero(pw, strlen(pw));
    free(pw);
    json_decref(body);
    vr_response_free(&r);
    vr_session_clear(&s);
    if (had)
        vr_session_clear(&prev);
    return rc;
}

int vr_cli_logout(int argc, char **argv)
{
    if (argc > 1) {
        login_usage(strcmp(argv[1], "--help") ? stderr : stdout);
        return strcmp(argv[1], "--help") ? 2 : 0;
    }
    vr_session s;
    int rc = vr_session_load(&s, 0);
    if (rc)
        return rc;
    vr_response r;
    rc = vr_http(&s, "DELETE", "/api/sso/token", NULL, VR_HTTP_QUIET_401, &r);
    /* A 401 means the token is already dead: logged out all the same. */
    if (rc == 0 || r.status == 401) {
        rc = vr_session_remove();
    } else {
        char path[4096];
        vr_session_path(path, sizeof(path));
        fprintf(stderr, "vireo: the token may still be valid; session kept in %s\n", path);
    }
    vr_response_free(&r);
    vr_session_clear(&s);
    return rc;
}
