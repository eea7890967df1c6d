#include "promtext.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

static bool grow(vr_prom *p, size_t more)
{
    if (p->failed)
        return false;
    if (p->len + more + 1 <= p->cap)
        return true;
    size_t cap = p->cap ? p->cap : 16384;
    while (cap < p->len + more + 1)
        cap *= 2;
    char *nb = realloc(p->buf, cap);
    if (!nb) {
        p->failed = true;
        return false;
    }
    p->buf = nb;
    p->cap = cap;
    return true;
}

static void put(vr_prom *p, const char *s, size_t n)
{
    if (!grow(p, n))
        return;
    memcpy(p->buf + p->len, s, n);
    p->len += n;
    p->buf[p->len] = '\0';
}

static void puts_(vr_prom *p, const char *s)
{
    put(p, s, strlen(s));
}

static void printf_(vr_prom *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void printf_(vr_prom *p, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > 0)
        put(p, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* s escaped: \ -> \\, newline -> \n, and in label values " -> \". */
static void escaped(vr_prom *p, const char *s, bool quote)
{
    size_t need = vr_utf8_sanitize(NULL, 0, s, strlen(s)) + 1;
    char stack[256], *clean = need <= sizeof(stack) ? stack : malloc(need);
    if (!clean) {
        p->failed = true;
        return;
    }
    vr_utf8_sanitize(clean, need, s, strlen(s));
    for (const char *c = clean; *c; c++) {
        if (*c == '\\')
            puts_(p, "\\\\");
        else if (*c == '\n')
            puts_(p, "\\n");
        else if (*c == '"' && quote)
            puts_(p, "\\\"");
        else
            put(p, c, 1);
    }
    if (clean != stack)
        free(clean);
}

void vr_prom_family(vr_prom *p, const char *name, const char *type, const char *help)
{
    printf_(p, "# HELP %s ", name);
    escaped(p, help, false);
    printf_(p, "\n# TYPE %s %s\n", name, type);
}

static void labels_(vr_prom *p, const char *const *labels, const char *le)
{
    if (!labels[0] && !le)
        return;
    puts_(p, "{");
    bool first = true;
    for (int i = 0; labels[i]; i += 2) {
        printf_(p, "%s%s=\"", first ? "" : ",", labels[i]);
        escaped(p, labels[i + 1] ? labels[i + 1] : "", true);
        puts_(p, "\"");
        first = false;
    }
    if (le)
        printf_(p, "%sle=\"%s\"", first ? "" : ",", le);
    puts_(p, "}");
}

static void value_(vr_prom *p, double v)
{
    if (isnan(v))
        puts_(p, " NaN\n");
    else if (isinf(v))
        puts_(p, v > 0 ? " +Inf\n" : " -Inf\n");
    else if (v == (double)(long long)v && fabs(v) < 9e15)
        printf_(p, " %lld\n", (long long)v);
    else {
        /* The shortest text that reads back as v (0.1, not 0.1000000000000000055). */
        char t[40];
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(t, sizeof(t), "%.*g", prec, v);
            if (strtod(t, NULL) == v)
                break;
        }
        printf_(p, " %s\n", t);
    }
}

void vr_prom_sample(vr_prom *p, const char *name, const char *const *labels, double value)
{
    puts_(p, name);
    labels_(p, labels, NULL);
    value_(p, value);
}

void vr_prom_histogram(vr_prom *p, const char *name, const char *const *labels, const vr_hist *h)
{
    vr_hist_view v;
    vr_hist_read(h, &v);
    for (int i = 0; i <= h->nbounds; i++) {
        char le[32];
        if (i < h->nbounds)
            snprintf(le, sizeof(le), "%g", h->bounds[i]);
        else
            snprintf(le, sizeof(le), "+Inf");
        printf_(p, "%s_bucket", name);
        labels_(p, labels, le);
        value_(p, (double)v.cumulative[i]);
    }
    printf_(p, "%s_sum", name);
    labels_(p, labels, NULL);
    value_(p, v.sum_s);
    printf_(p, "%s_count", name);
    labels_(p, labels, NULL);
    value_(p, (double)v.count);
}

char *vr_prom_take(vr_prom *p)
{
    char *out = p->failed ? NULL : p->buf;
    if (p->failed)
        free(p->buf);
    else if (!out)
        out = calloc(1, 1);
    p->buf = NULL;
    p->len = p->cap = 0;
    return out;
}
