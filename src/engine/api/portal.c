/* Static files of the portals (portal.h). Only names made of letters,
 * digits, '-', '_' and '.' (not first) are looked up, so no request can
 * leave the directory; files are opened without following symlinks. */
#include "portal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE (16 << 20) /* the largest built file is the CSS, about 1 MiB */

/* Every portal answer: the page may run its own scripts and styles and
 * talk to this origin only; nothing may frame it, and no form may post
 * anywhere (the forms are handled by the scripts). The token lives in the
 * page, so there are no cookies to steal or ride on. */
#define CSP "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " \
            "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
#define COMMON_HEADERS                                                                          \
    "Content-Security-Policy", CSP, "X-Content-Type-Options", "nosniff", "X-Frame-Options", "DENY", \
        "Referrer-Policy", "no-referrer", "Cross-Origin-Opener-Policy", "same-origin",            \
        "Cross-Origin-Resource-Policy", "same-origin"

static const char *const plain_headers[] = {COMMON_HEADERS, "Cache-Control", "no-cache", "Vary", "Accept-Encoding",
                                            NULL};
static const char *const gzip_headers[] = {COMMON_HEADERS, "Cache-Control", "no-cache", "Vary", "Accept-Encoding",
                                           "Content-Encoding", "gzip", NULL};
static const char *const page_headers[] = {COMMON_HEADERS, "Cache-Control", "no-store", NULL};

static const struct {
    const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},   {".svg", "image/svg+xml"},
    {".woff2", "font/woff2"},              {".woff", "font/woff"},
    {".png", "image/png"},                 {".json", "application/json"},
    {".txt", "text/plain; charset=utf-8"}, {".ico", "image/x-icon"},
};

static const char *type_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (!strcmp(dot, types[i].ext))
            return types[i].type;
    return "application/octet-stream";
}

/* A file name under the directory: segments of [A-Za-z0-9._-], none
 * starting with '.', so neither ".." nor hidden files. */
static bool name_ok(const char *rel)
{
    size_t n = strlen(rel);
    if (n == 0 || n > 255)
        return false;
    bool seg_start = true;
    for (const char *p = rel; *p; p++) {
        char c = *p;
        if (c == '/') {
            if (seg_start)
                return false;
            seg_start = true;
            continue;
        }
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                  c == '_' || (c == '.' && !seg_start);
        if (!ok)
            return false;
        seg_start = false;
    }
    return !seg_start;
}

/* Read dir/rel whole: a malloc'd buffer (NUL-terminated) and its length,
 * or -errno (-ENOENT for anything that is not a regular file). */
static int read_file(const char *dir, const char *rel, char **out, size_t *len)
{
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/%s", dir, rel) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ELOOP ? -ENOENT : -errno;
    struct stat st;
    int rc = 0;
    char *buf = NULL;
    if (fstat(fd, &st) < 0)
        rc = -errno;
    else if (!S_ISREG(st.st_mode))
        rc = -ENOENT;
    else if (st.st_size > MAX_FILE)
        rc = -EFBIG;
    else if (!(buf = malloc((size_t)st.st_size + 1)))
        rc = -ENOMEM;
    size_t got = 0;
    while (rc == 0 && got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -errno : -EIO;
            break;
        }
        got += (size_t)n;
    }
    close(fd);
    if (rc < 0) {
        free(buf);
        return rc;
    }
    buf[got] = '\0';
    *out = buf;
    *len = got;
    return 0;
}

/* Whether Accept-Encoding allows gzip (a "gzip" token, any case, without
 * q=0). Anything else, "*" included, gets the plain file, which every
 * client accepts. */
static bool accepts_gzip(vr_http_req *req)
{
    const char *ae = vr_http_header(req, "Accept-Encoding");
    for (const char *p = ae; p && (p = strcasestr(p, "gzip")); p += 4) {
        if ((p != ae && p[-1] != ' ' && p[-1] != ',') || (p[4] && p[4] != ',' && p[4] != ';' && p[4] != ' '))
            continue;
        const char *q = p + 4;
        while (*q == ' ')
            q++;
        if (*q != ';')
            return true;
        q++;
        while (*q == ' ')
            q++;
        return !(q[0] == 'q' && q[1] == '=' && strtod(q + 2, NULL) == 0.0);
    }
    return false;
}

/* The page shown instead of the portal while it is not built. */
static void not_built(const char *dir, vr_http_resp *resp)
{
    char *page = NULL;
    if (asprintf(&page,
                 "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Vireo portal not "
                 "installed</title></head><body><h1>The Vireo portal is not installed</h1><p>The engine runs "
                 "and its REST API is at /api, but the portal's files are not in the directory it serves "
                 "them from. Build them with <code>scripts/build-portal DIR</code> (Node.js and npm; "
                 "<code>scripts/setup</code> installs them) and start the engine with "
                 "<code>--portal-dir DIR</code>. Packages install them into %s.</p></body></html>\n",
                 VR_PORTAL_DIR) < 0) {
        vr_http_fault(resp, 503, "Service Unavailable", "the portal is not installed (scripts/build-portal DIR)");
        return;
    }
    (void)dir; /* never shown: a server path is no business of a visitor */
    resp->status = 503;
    resp->raw = true;
    resp->text = page;
    resp->content_type = "text/html; charset=utf-8";
    resp->headers = page_headers;
}

static bool is_page(const char *path, const char *top)
{
    size_t n = strlen(top);
    return !strncmp(path, top, n) && (path[n] == '\0' || path[n] == '/');
}

bool vr_portal_path(const char *path)
{
    return !strcmp(path, "/") || is_page(path, "/admin") || is_page(path, "/vm") || !strncmp(path, "/portal/", 8);
}

bool vr_portal_handle(const char *dir, vr_http_req *req, vr_http_resp *resp)
{
    const char *path = req->path;
    if (!vr_portal_path(path))
        return false;
    bool page = strncmp(path, "/portal/", 8) != 0;
    const char *rel = page ? "index.html" : path + 8;
    if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
        vr_http_fault(resp, 405, "Method Not Allowed", "the portal's files are read with GET");
        return true;
    }
    if (!name_ok(rel)) {
        vr_http_fault(resp, 404, "Not Found", "no such portal file");
        return true;
    }
    char *data = NULL, gzname[300];
    size_t len = 0;
    bool gz = false;
    int rc = -ENOENT;
    if (dir && accepts_gzip(req) && snprintf(gzname, sizeof(gzname), "%s.gz", rel) < (int)sizeof(gzname))
        gz = (rc = read_file(dir, gzname, &data, &len)) == 0;
    if (dir && !gz)
        rc = read_file(dir, rel, &data, &len);
    if (rc < 0) {
        if (page)
            not_built(dir, resp);
        else if (rc == -ENOENT)
            vr_http_fault(resp, 404, "Not Found", "no such portal file");
        else
            vr_http_fault(resp, 500, "Internal Server Error", "a portal file cannot be read: %s", strerror(-rc));
        return true;
    }
    if (len == 0) { /* an empty file: text_len 0 would mean strlen, which agrees */
        free(data);
        data = strdup("");
    }
    resp->status = 200;
    resp->raw = true;
    resp->text = data;
    resp->text_len = len;
    resp->content_type = type_of(rel);
    resp->headers = gz ? gzip_headers : plain_headers;
    return true;
}
