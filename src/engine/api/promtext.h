/* Writing Prometheus' text exposition format (version 0.0.4): metric
 * families (# HELP, # TYPE), samples with labels, histograms. Label values
 * are escaped as the format says (backslash, double quote, line feed);
 * HELP text escapes backslash and line feed. Label values come from
 * anything (names stored by older engines, NIC names reported by agents):
 * invalid UTF-8 is replaced, never passed on. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "hist.h"

typedef struct vr_prom {
    char *buf;
    size_t len, cap;
    bool failed; /* out of memory: the text is incomplete */
} vr_prom;

/* Labels: a NULL-terminated list of name, value, name, value, ..., NULL. */
#define VR_LABELS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define VR_NO_LABELS ((const char *const[]){NULL})

/* Start a family: "# HELP name help" and "# TYPE name type" (counter,
 * gauge, histogram). Each family once, before its samples. */
void vr_prom_family(vr_prom *p, const char *name, const char *type, const char *help);

/* One sample: name{labels} value. NaN and infinities are written as the
 * format spells them. */
void vr_prom_sample(vr_prom *p, const char *name, const char *const *labels, double value);

/* A histogram's samples (_bucket with le, _sum, _count) for one label
 * set; the family was started with type "histogram". */
void vr_prom_histogram(vr_prom *p, const char *name, const char *const *labels, const vr_hist *h);

/* The text, NUL-terminated; the caller owns it (NULL when failed). */
char *vr_prom_take(vr_prom *p);
