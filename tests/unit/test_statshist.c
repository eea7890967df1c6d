/* The statistics history (monitor/statshistory.c): one sample per step,
 * at most VR_STATSHIST_SLOTS kept (the oldest dropped), VM rates from two
 * readings (none from one, none across counters that went back), unknown
 * figures as null, objects gone for an hour forgotten. */
#include <jansson.h>

#include "check.h"
#include "statshistory.h"

static json_t *samples(vr_statshist *h, const char *id, long long now_ms)
{
    json_t *r = vr_statshist_get(h, id, now_ms);
    CHECK(json_integer_value(json_object_get(r, "step_s")) == 10);
    CHECK(json_integer_value(json_object_get(r, "slots")) == VR_STATSHIST_SLOTS);
    json_t *s = json_incref(json_object_get(r, "samples"));
    json_decref(r);
    return s;
}

static double num(json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

static void check_host(void)
{
    vr_statshist *h = vr_statshist_new(10);
    long long t0 = 1700000000000LL;
    json_t *st = json_pack("{s:f, s:{s:i, s:i, s:i}, s:[{s:f, s:f}, {s:f, s:f}]}", "cpu_percent", 12.5, "memory",
                           "total_kib", 1024, "free_kib", 100, "available_kib", 256, "nics", "rx_bytes_per_s", 10.0,
                           "tx_bytes_per_s", 1.0, "rx_bytes_per_s", 5.0, "tx_bytes_per_s", 2.0);
    vr_statshist_host(h, "h1", st, t0);
    vr_statshist_host(h, "h1", st, t0 + 5000); /* within the step: not kept */
    json_t *s = samples(h, "h1", t0 + 5000);
    CHECK(json_array_size(s) == 1);
    json_t *a = json_array_get(s, 0);
    CHECK(json_integer_value(json_object_get(a, "time")) == t0 / 1000);
    CHECK(num(a, "cpu_percent") == 12.5);
    CHECK(num(a, "memory_used_bytes") == (1024 - 256) * 1024.0); /* available, not free */
    CHECK(num(a, "memory_total_bytes") == 1024 * 1024.0);
    CHECK(num(a, "net_rx_bytes_per_s") == 15.0 && num(a, "net_tx_bytes_per_s") == 3.0);
    json_decref(s);
    /* The ring: 2 x SLOTS steps keep the last SLOTS samples, oldest first. */
    for (int i = 1; i <= 2 * VR_STATSHIST_SLOTS; i++) {
        json_object_set_new(st, "cpu_percent", json_real(i));
        vr_statshist_host(h, "h1", st, t0 + i * 10000LL);
    }
    long long end = t0 + 2 * VR_STATSHIST_SLOTS * 10000LL;
    s = samples(h, "h1", end);
    CHECK(json_array_size(s) == VR_STATSHIST_SLOTS);
    CHECK(num(json_array_get(s, 0), "cpu_percent") == VR_STATSHIST_SLOTS + 1);
    CHECK(num(json_array_get(s, VR_STATSHIST_SLOTS - 1), "cpu_percent") == 2 * VR_STATSHIST_SLOTS);
    json_decref(s);
    /* A reading without figures: nulls, not zeros. */
    json_t *bare = json_object();
    vr_statshist_host(h, "h2", bare, end);
    s = samples(h, "h2", end);
    CHECK(json_array_size(s) == 1 && json_is_null(json_object_get(json_array_get(s, 0), "memory_used_bytes")));
    CHECK(json_is_null(json_object_get(json_array_get(s, 0), "cpu_percent")));
    json_decref(s);
    /* Gone for longer than the span: its samples are not shown, and the
     * next new object's sweep forgets it. */
    long long later = end + (VR_STATSHIST_SLOTS + 1) * 10000LL;
    s = samples(h, "h2", later);
    CHECK(json_array_size(s) == 0);
    json_decref(s);
    vr_statshist_host(h, "h3", bare, later);
    s = samples(h, "h1", later);
    CHECK(json_array_size(s) == 0);
    json_decref(s);
    s = samples(h, "unknown", later);
    CHECK(json_array_size(s) == 0);
    json_decref(s);
    json_decref(bare);
    json_decref(st);
    vr_statshist_free(h);
}

static json_t *vm_reading(long long cpu_ns, long long rx, long long tx)
{
    return json_pack("{s:I, s:i, s:{s:i, s:i, s:n}, s:[{s:I, s:I}]}", "cpu_time_ns", (json_int_t)cpu_ns,
                     "vcpus_current", 2, "balloon", "maximum_kib", 65536, "current_kib", 65536, "rss_kib", "nics",
                     "rx.bytes", (json_int_t)rx, "tx.bytes", (json_int_t)tx);
}

static void check_vm(void)
{
    vr_statshist *h = vr_statshist_new(10);
    long long t0 = 1700000000000LL;
    json_t *r = vm_reading(1000000000LL, 1000, 100);
    vr_statshist_vm(h, "v1", r, t0); /* one reading: no rates yet */
    json_decref(r);
    json_t *s = samples(h, "v1", t0);
    CHECK(json_array_size(s) == 0);
    json_decref(s);
    r = vm_reading(6000000000LL, 21000, 2100); /* +5 s of CPU over 10 s and 2 vCPUs: 25 % */
    vr_statshist_vm(h, "v1", r, t0 + 10000);
    json_decref(r);
    s = samples(h, "v1", t0 + 10000);
    CHECK(json_array_size(s) == 1);
    json_t *a = json_array_get(s, 0);
    CHECK(num(a, "cpu_percent") > 24.99 && num(a, "cpu_percent") < 25.01);
    CHECK(num(a, "net_rx_bytes_per_s") == 2000.0 && num(a, "net_tx_bytes_per_s") == 200.0);
    CHECK(num(a, "memory_used_bytes") == 65536 * 1024.0); /* rss unknown: the balloon's size */
    json_decref(s);
    /* A new QEMU (counters back to small values): no rate from that pair. */
    r = vm_reading(1000, 0, 0);
    vr_statshist_vm(h, "v1", r, t0 + 20000);
    json_decref(r);
    s = samples(h, "v1", t0 + 20000);
    CHECK(json_array_size(s) == 1);
    json_decref(s);
    vr_statshist_free(h);
}

int main(void)
{
    check_host();
    check_vm();
    return CHECK_DONE();
}
