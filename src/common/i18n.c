#include "i18n.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mo.h"
#include "utf8.h"

#define ARG_MAX_BYTES 512   /* one argument's text (an error message fits whole) */
#define RENDER_BYTES 4096   /* a rendering before it is fitted to its buffer */
#define NEST_MAX 4          /* causes within causes */
#define RECENT 8            /* messages a thread remembers for nesting */

static vr_mo *catalog_ja;   /* set once at startup, read-only afterwards */
static __thread const char *thread_lang;
static bool enabled;
static const char *const *terms;
static size_t nterms;

void vr_i18n_set_terms(const char *const *t, size_t n)
{
    terms = t;
    nterms = n;
}

void vr_i18n_enable(void)
{
    enabled = true;
}

int vr_i18n_load(const char *localedir, vr_error *err)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/ja/LC_MESSAGES/vireo.mo", localedir ? localedir : ".");
    vr_mo_free(catalog_ja);
    catalog_ja = vr_mo_open(path, err);
    return catalog_ja ? 0 : -1;
}

void vr_i18n_unload(void)
{
    vr_mo_free(catalog_ja);
    catalog_ja = NULL;
}

const char *vr_i18n_negotiate(const char *al)
{
    /* Each range is "tag[;q=value]"; the highest q wins, the first among
     * equals. Only the primary subtag matters: ja-JP is Japanese. */
    double best_q = -1;
    const char *best = VR_LANG_EN;
    for (const char *p = al; p && *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *tag = p;
        while (*p && *p != ',' && *p != ';' && *p != ' ' && *p != '\t')
            p++;
        size_t taglen = (size_t)(p - tag);
        double q = 1;
        while (*p && *p != ',') {
            if (*p == ';') {
                p++;
                while (*p == ' ' || *p == '\t')
                    p++;
                if ((*p == 'q' || *p == 'Q') && p[1] == '=')
                    q = strtod(p + 2, NULL);
            }
            if (*p && *p != ',')
                p++;
        }
        if (!taglen || q <= 0)
            continue;
        size_t primary = strcspn(tag, "-_,; \t");
        if (primary > taglen)
            primary = taglen;
        const char *lang = NULL;
        if (primary == 2 && !strncasecmp(tag, "ja", 2))
            lang = catalog_ja ? VR_LANG_JA : NULL;
        else if (primary == 2 && !strncasecmp(tag, "en", 2))
            lang = VR_LANG_EN;
        if (lang && q > best_q) {
            best_q = q;
            best = lang;
        }
    }
    return best;
}

void vr_i18n_thread_set(const char *lang)
{
    thread_lang = lang;
}

const char *vr_i18n_thread(void)
{
    return thread_lang ? thread_lang : VR_LANG_EN;
}

const char *vr_i18n_translate(const char *msgid, const char *lang)
{
    const char *t = NULL;
    if (lang && !strcmp(lang, VR_LANG_JA))
        t = vr_mo_lookup(catalog_ja, msgid);
    return t ? t : msgid;
}

/* One printf conversion, from its '%'. */
typedef struct {
    unsigned pos;      /* n of %n$; 0 when sequential */
    bool wstar, pstar; /* width / precision taken from an argument */
    char conv;         /* the conversion letter; '%' for %% */
    char lenmod[3];
    size_t len;        /* bytes of the whole conversion */
} spec;

/* Past a width or precision: digits, or '*' (sets *star) with an
 * optional argument number "n$". */
static const char *skip_amount(const char *p, bool *star)
{
    if (*p == '*') {
        *star = true;
        p++;
    }
    while (*p >= '0' && *p <= '9')
        p++;
    if (*star && *p == '$')
        p++;
    return p;
}

static bool parse_spec(const char *s, spec *sp)
{
    memset(sp, 0, sizeof(*sp));
    const char *p = s + 1;
    if (*p == '%') {
        sp->conv = '%';
        sp->len = 2;
        return true;
    }
    const char *d = p;
    unsigned n = 0;
    while (*d >= '0' && *d <= '9')
        n = n * 10 + (unsigned)(*d++ - '0');
    if (d > p && *d == '$' && n > 0) {
        sp->pos = n;
        p = d + 1;
    }
    while (*p && strchr("-+ #0'I", *p))
        p++;
    p = skip_amount(p, &sp->wstar);
    if (*p == '.')
        p = skip_amount(p + 1, &sp->pstar);
    size_t l = 0;
    while (l < 2 && *p && strchr("hlLqjzZt", *p))
        sp->lenmod[l++] = *p++;
    if (!*p || !strchr("diouxXeEfFgGaAcspnm", *p))
        return false;
    sp->conv = *p;
    sp->len = (size_t)(p + 1 - s);
    return true;
}

/* ---------------------------------------------------------------- capture */

/* A thread's last messages, on the heap (made at its first message, freed
 * when it ends): threads of processes that never enable capture, and
 * engine threads that set no error, carry none. */
typedef struct {
    unsigned next;
    struct {
        char en[512];
        char captured[1536];
    } m[RECENT];
} recent_ring;

static pthread_key_t recent_key;
static pthread_once_t recent_once = PTHREAD_ONCE_INIT;
static bool recent_ok;

static void recent_key_make(void)
{
    recent_ok = pthread_key_create(&recent_key, free) == 0;
}

static recent_ring *recent_get(bool make)
{
    pthread_once(&recent_once, recent_key_make);
    if (!recent_ok)
        return NULL;
    recent_ring *r = pthread_getspecific(recent_key);
    if (!r && make && (r = calloc(1, sizeof(*r))) && pthread_setspecific(recent_key, r) != 0) {
        free(r);
        r = NULL;
    }
    return r;
}

void vr_i18n_remember(const char *english, const char *captured)
{
    if (!enabled || !english || !captured || !*captured)
        return;
    recent_ring *r = recent_get(true);
    if (!r || strlen(english) >= sizeof(r->m[0].en) || strlen(captured) >= sizeof(r->m[0].captured))
        return;
    unsigned i = r->next++ % RECENT;
    strcpy(r->m[i].en, english);
    strcpy(r->m[i].captured, captured);
}

json_t *vr_i18n_recall(const char *text)
{
    recent_ring *r = enabled && text ? recent_get(false) : NULL;
    for (unsigned i = 0; r && i < RECENT; i++) {
        unsigned k = (r->next - 1 - i) % RECENT;
        if (r->m[k].captured[0] && !strcmp(r->m[k].en, text))
            return json_loads(r->m[k].captured, 0, NULL);
    }
    return NULL;
}

static int push_text(json_t *args, const char *text)
{
    char fitted[ARG_MAX_BYTES];
    vr_utf8_fit(fitted, sizeof(fitted), text, strlen(text));
    return json_array_append_new(args, json_string(fitted));
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
/* printf one value with the conversion text c (width/precision stars
 * already replaced by the values in w, p). */
#define PUT(T)                                                                                    \
    do {                                                                                          \
        T v_ = va_arg(ap, T);                                                                     \
        if (sp.wstar && sp.pstar)                                                                 \
            snprintf(buf, sizeof(buf), c, w, pr, v_);                                             \
        else if (sp.wstar || sp.pstar)                                                            \
            snprintf(buf, sizeof(buf), c, sp.wstar ? w : pr, v_);                                 \
        else                                                                                      \
            snprintf(buf, sizeof(buf), c, v_);                                                    \
    } while (0)

json_t *vr_i18n_vcapture(const char *fmt, va_list ap)
{
    if (!enabled || !fmt)
        return NULL;
    json_t *args = json_array();
    if (!args)
        return NULL;
    for (const char *s = fmt; (s = strchr(s, '%'));) {
        spec sp;
        if (!parse_spec(s, &sp) || sp.pos || sp.conv == 'n' || sp.conv == 'm')
            goto fail;
        char c[32], buf[1024];
        if (sp.len >= sizeof(c))
            goto fail;
        memcpy(c, s, sp.len);
        c[sp.len] = '\0';
        s += sp.len;
        if (sp.conv == '%')
            continue;
        int w = 0, pr = 0;
        if (sp.wstar) {
            w = va_arg(ap, int);
            snprintf(buf, sizeof(buf), "%d", w);
            if (push_text(args, buf) < 0)
                goto fail;
        }
        if (sp.pstar) {
            pr = va_arg(ap, int);
            snprintf(buf, sizeof(buf), "%d", pr);
            if (push_text(args, buf) < 0)
                goto fail;
        }
        const char *lm = sp.lenmod;
        if (*lm && (sp.conv == 's' || sp.conv == 'c' || sp.conv == 'p'))
            goto fail; /* wide characters: not in our messages */
        bool ll = !strcmp(lm, "ll") || !strcmp(lm, "q") || !strcmp(lm, "L");
        buf[0] = '\0';
        switch (sp.conv) {
        case 'd':
        case 'i':
            if (ll) PUT(long long);
            else if (!strcmp(lm, "l")) PUT(long);
            else if (!strcmp(lm, "z") || !strcmp(lm, "Z")) PUT(ssize_t);
            else if (!strcmp(lm, "j")) PUT(intmax_t);
            else if (!strcmp(lm, "t")) PUT(ptrdiff_t);
            else PUT(int); /* hh and h arrive promoted */
            break;
        case 'o':
        case 'u':
        case 'x':
        case 'X':
            if (ll) PUT(unsigned long long);
            else if (!strcmp(lm, "l")) PUT(unsigned long);
            else if (!strcmp(lm, "z") || !strcmp(lm, "Z")) PUT(size_t);
            else if (!strcmp(lm, "j")) PUT(uintmax_t);
            else if (!strcmp(lm, "t")) PUT(ptrdiff_t);
            else PUT(unsigned);
            break;
        case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': case 'a': case 'A':
            if (!strcmp(lm, "L")) PUT(long double);
            else PUT(double);
            break;
        case 'c':
            PUT(int);
            break;
        case 'p':
            PUT(void *);
            break;
        case 's': {
            const char *str = va_arg(ap, const char *);
            if (!str || sp.wstar || sp.pstar || sp.len > 2) { /* "(null)", widths, precisions: as printf does */
                if (sp.wstar && sp.pstar)
                    snprintf(buf, sizeof(buf), c, w, pr, str);
                else if (sp.wstar || sp.pstar)
                    snprintf(buf, sizeof(buf), c, sp.wstar ? w : pr, str);
                else
                    snprintf(buf, sizeof(buf), c, str);
                str = buf;
            }
            json_t *nested = vr_i18n_recall(str);
            for (size_t i = 0; !nested && i < nterms; i++)
                if (!strcmp(str, terms[i]))
                    nested = json_pack("{s:s, s:[]}", "id", terms[i], "args");
            /* A phrase of the catalog (more than one word: object names
             * have no spaces) is one of the engine's own texts, quoted. */
            if (!nested && strchr(str, ' ') && !strchr(str, '%') && vr_mo_lookup(catalog_ja, str))
                nested = json_pack("{s:s, s:[]}", "id", str, "args");
            if (nested) {
                if (json_array_append_new(args, nested) < 0)
                    goto fail;
                continue;
            }
            if (push_text(args, str) < 0)
                goto fail;
            continue;
        }
        default:
            goto fail;
        }
        if (push_text(args, buf) < 0)
            goto fail;
    }
    json_t *m = json_pack("{s:s, s:o}", "id", fmt, "args", args);
    if (m)
        return m;
    return NULL; /* json_pack took args */
fail:
    json_decref(args);
    return NULL;
}
#pragma GCC diagnostic pop

size_t vr_i18n_format(char *dst, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = vr_i18n_vformat(dst, size, fmt, ap);
    va_end(ap);
    return n;
}

size_t vr_i18n_vformat(char *dst, size_t size, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    json_t *m = vr_i18n_vcapture(fmt, again);
    va_end(again);
    size_t n = vr_utf8_vformat(dst, size, fmt, ap);
    char *text = m ? json_dumps(m, JSON_COMPACT) : NULL;
    if (text)
        vr_i18n_remember(dst, text);
    free(text);
    json_decref(m);
    return n;
}

/* --------------------------------------------------------------- render */

typedef struct {
    char *buf;
    size_t len, cap;
    bool cut;
} out_buf;

static void put(out_buf *o, const char *s, size_t n)
{
    if (o->len + n >= o->cap) {
        n = o->cap - 1 - o->len;
        o->cut = true;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static int render_into(out_buf *o, const char *id, const json_t *args, const char *lang, int depth);

static int put_arg(out_buf *o, const json_t *a, const char *lang, int depth)
{
    if (json_is_string(a)) {
        put(o, json_string_value(a), json_string_length(a));
        return 0;
    }
    const char *id = json_string_value(json_object_get(a, "id"));
    if (!id || depth >= NEST_MAX)
        return -1;
    return render_into(o, id, json_object_get(a, "args"), lang, depth + 1);
}

static int render_into(out_buf *o, const char *id, const json_t *args, const char *lang, int depth)
{
    if (!json_is_array(args))
        return -1;
    const char *f = vr_i18n_translate(id, lang);
    size_t next = 0;
    for (const char *s = f; *s;) {
        const char *pct = strchr(s, '%');
        if (!pct) {
            put(o, s, strlen(s));
            break;
        }
        put(o, s, (size_t)(pct - s));
        spec sp;
        if (!parse_spec(pct, &sp))
            return -1;
        s = pct + sp.len;
        if (sp.conv == '%') {
            put(o, "%", 1);
            continue;
        }
        size_t idx;
        if (sp.pos) {
            idx = sp.pos - 1;
        } else {
            next += sp.wstar + sp.pstar; /* their values are in the rendered argument */
            idx = next++;
        }
        const json_t *a = json_array_get(args, idx);
        if (!a || put_arg(o, a, lang, depth) < 0)
            return -1;
    }
    return 0;
}

int vr_i18n_render(char *dst, size_t size, const char *id, const json_t *args, const char *lang)
{
    if (!size)
        return -1;
    dst[0] = '\0';
    if (!id)
        return -1;
    char big[RENDER_BYTES];
    out_buf o = {big, 0, sizeof(big), false};
    big[0] = '\0';
    if (render_into(&o, id, args, lang, 0) < 0) {
        dst[0] = '\0';
        return -1;
    }
    return (int)vr_utf8_fit(dst, size, big, o.len);
}

int vr_i18n_render_text(char *dst, size_t size, const char *captured, const char *lang)
{
    if (size)
        dst[0] = '\0';
    json_t *m = captured && *captured ? json_loads(captured, 0, NULL) : NULL;
    if (!m)
        return -1;
    int n = vr_i18n_render(dst, size, json_string_value(json_object_get(m, "id")), json_object_get(m, "args"), lang);
    json_decref(m);
    return n;
}
