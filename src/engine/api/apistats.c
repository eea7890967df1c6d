#include "apistats.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "history.h"
#include "placement_api.h"
#include "kind.h"
#include "portal.h"

/* ---- route classes ---- */

static const vr_kind *child_kind(const vr_kind *parent, const char *name)
{
    for (size_t i = 0; i < vr_nkinds; i++)
        if (vr_kinds[i]->parent && !strcmp(vr_kinds[i]->parent, parent->collection) &&
            !strcmp(vr_kinds[i]->collection, name))
            return vr_kinds[i];
    return NULL;
}

static bool is_action(const vr_kind *k, const char *name)
{
    for (size_t i = 0; i < k->nactions; i++)
        if (!strcmp(k->actions[i].name, name))
            return true;
    /* Disk content (transfer.c) is no kind's action but a route of its own. */
    return !strcmp(k->collection, "disks") && !strcmp(name, "content");
}

static void add(char *out, size_t len, const char *seg)
{
    size_t n = strlen(out);
    if (n < len)
        snprintf(out + n, len - n, "/%s", seg);
}

/* The routes no kind's table describes, as the OpenAPI document lists
 * them (openapi_parts.json "special_paths": /api/users/me,
 * /api/storagedomains/{id}/vms, ...), parsed once. */
extern const char vr_openapi_parts[];
static json_t *special_paths;
static pthread_once_t special_once = PTHREAD_ONCE_INIT;

static void load_special(void)
{
    json_t *parts = json_loads(vr_openapi_parts, 0, NULL);
    special_paths = json_incref(json_object_get(parts, "special_paths"));
    json_decref(parts);
}

/* Does path fit template, a "{...}" segment standing for any one segment? */
static bool fits(const char *tpl, const char *path)
{
    while (*tpl && *path) {
        size_t tl = strcspn(tpl, "/"), pl = strcspn(path, "/");
        if (!(tpl[0] == '{' && tpl[tl - 1] == '}' && pl) && (tl != pl || strncmp(tpl, path, tl)))
            return false;
        tpl += tl;
        path += pl;
        if (*tpl != *path)
            return false;
        if (*tpl == '/')
            tpl++, path++;
    }
    return !*tpl && !*path;
}

/* The documented special route path fits, its ids as {id}; false if none. */
static bool special_class(const char *path, char *out, size_t len)
{
    pthread_once(&special_once, load_special);
    const char *tpl;
    json_t *v;
    json_object_foreach(special_paths, tpl, v) {
        if (!fits(tpl, path))
            continue;
        out[0] = '\0';
        for (const char *p = tpl + 1; *p;) {
            size_t l = strcspn(p, "/");
            char seg[128];
            snprintf(seg, sizeof(seg), "%.*s", (int)(l < 127 ? l : 127), p);
            add(out, len, seg[0] == '{' ? "{id}" : seg);
            p += l + (p[l] == '/');
        }
        return true;
    }
    return false;
}

void vr_route_class(const char *path, char *out, size_t len)
{
    static const char *const fixed[] = {"/metrics", "/pki/engine-ssh.pub", "/pki/crl.pem", "/api", "/api/sso/token",
                                        "/api/openapi.json"};
    for (size_t i = 0; i < VR_ARRAY_SIZE(fixed); i++)
        if (!strcmp(path, fixed[i])) {
            snprintf(out, len, "%s", fixed[i]);
            return;
        }
    if (strncmp(path, "/api/", 5)) {
        snprintf(out, len, "%s", vr_portal_path(path) ? "{portal}" : "{other}");
        return;
    }
    if (special_class(path, out, len))
        return;
    /* The segments after /api, as the dispatcher splits them. */
    char segs[8][128];
    int n = 0;
    for (const char *p = path + 5; *p && n < 8;) {
        size_t l = strcspn(p, "/");
        snprintf(segs[n++], sizeof(segs[0]), "%.*s", (int)(l < 127 ? l : 127), p);
        p += l;
        if (*p == '/')
            p++;
    }
    snprintf(out, len, "/api");
    const vr_kind *k = n ? vr_kind_find(segs[0]) : NULL;
    if (!k) {
        add(out, len, "{unknown}");
        return;
    }
    add(out, len, k->collection);
    for (int i = 1; i < n; i += 2) {
        add(out, len, "{id}");
        if (i + 1 >= n)
            return;
        const vr_kind *sub = k->children ? NULL : child_kind(k, segs[i + 1]);
        if (sub) {
            add(out, len, sub->collection);
            k = sub;
            continue;
        }
        if (i + 3 == n && vr_history_path(path)) { /* history.c: a route of its own */
            add(out, len, "statistics/history");
            return;
        }
        if (i + 2 == n && vr_placement_api_path(path)) { /* placement_api.c */
            add(out, len, "placement");
            return;
        }
        add(out, len, i + 2 == n && is_action(k, segs[i + 1]) ? segs[i + 1] : "{unknown}");
        return;
    }
}

/* ---- counts ---- */

#define SLOTS 512
#define CODES 12

typedef struct entry {
    char method[8];
    char route[120];
    vr_hist latency;
    int codes[CODES];
    uint64_t counts[CODES];
} entry;

static entry table[SLOTS];
static int used;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static const char *method_class(const char *m)
{
    static const char *const known[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};
    for (size_t i = 0; i < VR_ARRAY_SIZE(known); i++)
        if (!strcmp(m, known[i]))
            return known[i];
    return "other";
}

/* The entry of (method, route), made on first use; NULL when the table is
 * full (it holds every route class times every method several times). */
static entry *find(const char *method, const char *route)
{
    unsigned h = 5381;
    for (const char *p = method; *p; p++)
        h = h * 33 + (unsigned char)*p;
    for (const char *p = route; *p; p++)
        h = h * 33 + (unsigned char)*p;
    for (int i = 0; i < SLOTS; i++) {
        entry *e = &table[(h + (unsigned)i) % SLOTS];
        if (!e->method[0]) {
            if (used >= SLOTS - 1)
                return NULL;
            snprintf(e->method, sizeof(e->method), "%s", method);
            snprintf(e->route, sizeof(e->route), "%s", route);
            e->latency = (vr_hist)VR_HIST_INIT(vr_hist_api_bounds);
            used++;
            return e;
        }
        if (!strcmp(e->method, method) && !strcmp(e->route, route))
            return e;
    }
    return NULL;
}

void vr_apistats_observe(void *ctx, const char *method, const char *path, int status, double seconds)
{
    (void)ctx;
    char route[120];
    vr_route_class(path, route, sizeof(route));
    pthread_mutex_lock(&lock);
    entry *e = find(method_class(method), route);
    if (e) {
        vr_hist_observe_ns(&e->latency, (uint64_t)(seconds * 1e9));
        for (int i = 0; i < CODES; i++)
            if (e->codes[i] == status || !e->codes[i]) {
                e->codes[i] = status;
                e->counts[i]++;
                break;
            }
    }
    pthread_mutex_unlock(&lock);
}

void vr_apistats_each(vr_apistats_visit visit, void *cls)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < SLOTS; i++) {
        entry *e = &table[i];
        if (!e->method[0])
            continue;
        int n = 0;
        while (n < CODES && e->codes[n])
            n++;
        visit(cls, e->method, e->route, &e->latency, e->codes, e->counts, n);
    }
    pthread_mutex_unlock(&lock);
}
