/* Statistics history (see statshistory.h; docs/rest-api.md "Statistics
 * history"). Rings live in one array indexed through a jansson object
 * (id -> slot number); a freed slot is reused by the next new object. */
#include "statshistory.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define UNKNOWN (-1.0)

typedef struct {
    long long t;          /* epoch seconds */
    double cpu;           /* percent, UNKNOWN */
    double mem_used, mem_total; /* bytes, UNKNOWN */
    double rx, tx;        /* bytes per second, UNKNOWN */
} sample;

typedef struct {
    char id[40];          /* "" for a free slot */
    sample s[VR_STATSHIST_SLOTS];
    int head, count;      /* s[head] is the oldest of count */
    long long kept_ms;    /* when the newest sample was kept */
    long long seen_ms;    /* the last reading */
    /* Counters of the last reading, for rates (VMs). */
    bool have_raw;
    long long raw_ms;
    double raw_cpu_ns, raw_rx, raw_tx;
} ring;

struct vr_statshist {
    pthread_mutex_t lock;
    int step_s;
    json_t *index;        /* id -> slot */
    ring *rings;
    size_t n, cap;
    long long swept_ms;
};

vr_statshist *vr_statshist_new(int step_s)
{
    vr_statshist *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->step_s = step_s > 0 ? step_s : VR_STATSHIST_STEP_S;
    h->index = json_object();
    if (!h->index) {
        free(h);
        return NULL;
    }
    pthread_mutex_init(&h->lock, NULL);
    return h;
}

void vr_statshist_free(vr_statshist *h)
{
    if (!h)
        return;
    json_decref(h->index);
    free(h->rings);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

static long long span_ms(const vr_statshist *h)
{
    return (long long)VR_STATSHIST_SLOTS * h->step_s * 1000;
}

/* Forget objects with no reading for the history's span (removed, or no
 * longer monitored). Once per step at most. */
static void sweep(vr_statshist *h, long long now_ms)
{
    if (now_ms - h->swept_ms < (long long)h->step_s * 1000)
        return;
    h->swept_ms = now_ms;
    for (size_t i = 0; i < h->n; i++) {
        if (h->rings[i].id[0] && now_ms - h->rings[i].seen_ms > span_ms(h)) {
            json_object_del(h->index, h->rings[i].id);
            h->rings[i].id[0] = '\0';
        }
    }
}

/* The ring of id, made when new; NULL when out of memory. */
static ring *ring_of(vr_statshist *h, const char *id, long long now_ms)
{
    json_t *at = json_object_get(h->index, id);
    if (at)
        return &h->rings[json_integer_value(at)];
    sweep(h, now_ms);
    size_t i = 0;
    while (i < h->n && h->rings[i].id[0])
        i++;
    if (i == h->n) {
        if (h->n == h->cap) {
            size_t cap = h->cap ? h->cap * 2 : 16;
            ring *r = realloc(h->rings, cap * sizeof(*r));
            if (!r)
                return NULL;
            h->rings = r;
            h->cap = cap;
        }
        h->n++;
    }
    ring *r = &h->rings[i];
    memset(r, 0, sizeof(*r));
    snprintf(r->id, sizeof(r->id), "%s", id);
    if (json_object_set_new(h->index, id, json_integer((json_int_t)i)) < 0) {
        r->id[0] = '\0';
        return NULL;
    }
    return r;
}

/* Keep s when a step has passed since the last kept sample. */
static void keep(vr_statshist *h, ring *r, const sample *s, long long now_ms)
{
    r->seen_ms = now_ms;
    if (r->count && now_ms - r->kept_ms < (long long)h->step_s * 1000)
        return;
    r->kept_ms = now_ms;
    if (r->count < VR_STATSHIST_SLOTS) {
        r->s[(r->head + r->count++) % VR_STATSHIST_SLOTS] = *s;
    } else {
        r->s[r->head] = *s;
        r->head = (r->head + 1) % VR_STATSHIST_SLOTS;
    }
}

static double num(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : UNKNOWN;
}

void vr_statshist_host(vr_statshist *h, const char *host_id, json_t *stats, long long now_ms)
{
    if (!h || !host_id || !json_is_object(stats))
        return;
    json_t *mem = json_object_get(stats, "memory");
    double total = num(mem, "total_kib"), avail = num(mem, "available_kib");
    if (avail < 0)
        avail = num(mem, "free_kib");
    sample s = {.t = now_ms / 1000, .cpu = num(stats, "cpu_percent"), .mem_used = UNKNOWN, .mem_total = UNKNOWN,
                .rx = UNKNOWN, .tx = UNKNOWN};
    if (total > 0) {
        s.mem_total = total * 1024;
        if (avail >= 0 && avail <= total)
            s.mem_used = (total - avail) * 1024;
    }
    json_t *nics = json_object_get(stats, "nics"), *n;
    size_t i;
    if (json_is_array(nics)) {
        s.rx = s.tx = 0;
        json_array_foreach(nics, i, n) {
            s.rx += num(n, "rx_bytes_per_s") > 0 ? num(n, "rx_bytes_per_s") : 0;
            s.tx += num(n, "tx_bytes_per_s") > 0 ? num(n, "tx_bytes_per_s") : 0;
        }
    }
    pthread_mutex_lock(&h->lock);
    ring *r = ring_of(h, host_id, now_ms);
    if (r)
        keep(h, r, &s, now_ms);
    pthread_mutex_unlock(&h->lock);
}

void vr_statshist_vm(vr_statshist *h, const char *vm_id, json_t *stats, long long now_ms)
{
    if (!h || !vm_id || !json_is_object(stats))
        return;
    double cpu_ns = num(stats, "cpu_time_ns"), vcpus = num(stats, "vcpus_current");
    json_t *bal = json_object_get(stats, "balloon");
    double used = num(bal, "rss_kib"), total = num(bal, "maximum_kib");
    if (used < 0)
        used = num(bal, "current_kib");
    double rx = 0, tx = 0;
    json_t *nics = json_object_get(stats, "nics"), *n;
    size_t i;
    json_array_foreach(nics, i, n) {
        rx += num(n, "rx.bytes") > 0 ? num(n, "rx.bytes") : 0;
        tx += num(n, "tx.bytes") > 0 ? num(n, "tx.bytes") : 0;
    }
    sample s = {.t = now_ms / 1000, .cpu = UNKNOWN, .mem_used = used >= 0 ? used * 1024 : UNKNOWN,
                .mem_total = total > 0 ? total * 1024 : UNKNOWN, .rx = UNKNOWN, .tx = UNKNOWN};
    pthread_mutex_lock(&h->lock);
    ring *r = ring_of(h, vm_id, now_ms);
    if (r) {
        double dt = (now_ms - r->raw_ms) / 1000.0;
        /* Rates need an earlier reading; counters that went back (a new
         * QEMU after a restart) start over. */
        bool rates = r->have_raw && dt > 0 && cpu_ns >= r->raw_cpu_ns && rx >= r->raw_rx && tx >= r->raw_tx;
        if (rates && cpu_ns >= 0) {
            s.cpu = (cpu_ns - r->raw_cpu_ns) / 1e9 / dt * 100.0 / (vcpus > 0 ? vcpus : 1);
            if (s.cpu > 100)
                s.cpu = 100;
        }
        if (rates && json_is_array(nics)) {
            s.rx = (rx - r->raw_rx) / dt;
            s.tx = (tx - r->raw_tx) / dt;
        }
        r->have_raw = true;
        r->raw_ms = now_ms;
        r->raw_cpu_ns = cpu_ns;
        r->raw_rx = rx;
        r->raw_tx = tx;
        if (rates)
            keep(h, r, &s, now_ms);
        else
            r->seen_ms = now_ms;
    }
    pthread_mutex_unlock(&h->lock);
}

static json_t *value(double v)
{
    return v < 0 ? json_null() : json_real(v);
}

json_t *vr_statshist_get(vr_statshist *h, const char *id, long long now_ms)
{
    json_t *samples = json_array();
    int step = h ? h->step_s : VR_STATSHIST_STEP_S;
    if (h) {
        pthread_mutex_lock(&h->lock);
        json_t *at = json_object_get(h->index, id);
        const ring *r = at ? &h->rings[json_integer_value(at)] : NULL;
        for (int i = 0; r && i < r->count; i++) {
            const sample *s = &r->s[(r->head + i) % VR_STATSHIST_SLOTS];
            if (now_ms / 1000 - s->t > (long long)VR_STATSHIST_SLOTS * step)
                continue; /* older than the span: the object was away */
            json_array_append_new(samples, json_pack("{s:I, s:o, s:o, s:o, s:o, s:o}", "time", (json_int_t)s->t,
                                                     "cpu_percent", value(s->cpu), "memory_used_bytes",
                                                     value(s->mem_used), "memory_total_bytes", value(s->mem_total),
                                                     "net_rx_bytes_per_s", value(s->rx), "net_tx_bytes_per_s",
                                                     value(s->tx)));
        }
        pthread_mutex_unlock(&h->lock);
    }
    return json_pack("{s:i, s:i, s:o}", "step_s", step, "slots", VR_STATSHIST_SLOTS, "samples", samples);
}
