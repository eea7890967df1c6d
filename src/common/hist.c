#include "hist.h"

#include <time.h>

const double vr_hist_api_bounds[12] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
const double vr_hist_db_bounds[12] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                      0.5, 1, 2.5};

void vr_hist_observe_ns(vr_hist *h, uint64_t ns)
{
    double s = (double)ns / 1e9;
    int i = 0;
    while (i < h->nbounds && s > h->bounds[i])
        i++;
    __atomic_fetch_add(&h->counts[i], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&h->sum_ns, ns, __ATOMIC_RELAXED);
}

void vr_hist_read(const vr_hist *h, vr_hist_view *out)
{
    uint64_t run = 0;
    for (int i = 0; i <= h->nbounds; i++) {
        run += __atomic_load_n(&h->counts[i], __ATOMIC_RELAXED);
        out->cumulative[i] = run;
    }
    /* The total is the +Inf bucket, so _count and le="+Inf" agree even
     * while observations land during the read. */
    out->count = run;
    out->sum_s = (double)__atomic_load_n(&h->sum_ns, __ATOMIC_RELAXED) / 1e9;
}

uint64_t vr_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
