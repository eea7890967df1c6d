/* Latency histograms with fixed bucket bounds, updated with atomic adds
 * only (no lock), so hot paths - every database statement, every API
 * request - can record into them from any thread. A reader sees each
 * counter whole but not necessarily all of them from the same instant:
 * fine for monitoring, which is what they are for (Prometheus text,
 * api/metrics.c). */
#pragma once

#include <stdint.h>

#define VR_HIST_MAX_BOUNDS 16

typedef struct vr_hist {
    const double *bounds;          /* upper bounds in seconds, ascending */
    int nbounds;                   /* <= VR_HIST_MAX_BOUNDS; +Inf is implied */
    uint64_t counts[VR_HIST_MAX_BOUNDS + 1]; /* per bucket, not cumulative; last = above all */
    uint64_t sum_ns;
} vr_hist;

/* Static initializer: VR_HIST_INIT(bounds_array) with a fixed-size array. */
#define VR_HIST_INIT(b) {.bounds = (b), .nbounds = (int)(sizeof(b) / sizeof((b)[0]))}

/* Bounds for API requests (5 ms .. 10 s) and database work (0.5 ms .. 2.5 s). */
extern const double vr_hist_api_bounds[12];
extern const double vr_hist_db_bounds[12];

/* Record one observation of ns nanoseconds. */
void vr_hist_observe_ns(vr_hist *h, uint64_t ns);

/* A consistent-enough copy for rendering: cumulative[i] counts the
 * observations <= bounds[i]; cumulative[nbounds] is the total. */
typedef struct vr_hist_view {
    uint64_t cumulative[VR_HIST_MAX_BOUNDS + 1];
    uint64_t count;
    double sum_s;
} vr_hist_view;
void vr_hist_read(const vr_hist *h, vr_hist_view *out);

/* Monotonic nanoseconds, for measuring. */
uint64_t vr_mono_ns(void);
