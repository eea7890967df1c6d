/* The migration policies' decisions (src/agent/vm_migrate.c,
 * vr_mig_watch_step; docs/migration.md "Policies"), sample by sample with
 * no libvirt: a stalled migration raises its downtime limit one doubling
 * per 15 s up to 16x, then suspend_workload pauses the guest once and
 * minimal_downtime only waits; post_copy switches at the first step and
 * is then never aborted; progress restarts the stall clock; the stall and
 * the total time limits abort. The harness runs the minimal_downtime
 * ladder for real (test_migration); the suspend and post-copy steps cannot
 * be reached there in reasonable time (or at all: no userfaultfd), so
 * their rules are held here. */
#include <limits.h>
#include <stdbool.h>

#include "check.h"
#include "vm_migrate.h"

#define S 1000LL /* ms in a second */
#define GIB (1ULL << 30)

static vr_mig_watch watch(enum vr_mig_policy p)
{
    return (vr_mig_watch){.policy = p, .timeout_ms = 3600 * S, .stall_timeout_ms = 240 * S,
                          .base_downtime_ms = 300, .downtime_ms = 300, .lowest_remaining = ULLONG_MAX};
}

/* Samples every second from `from` to `to` (s) with `remaining` stuck;
 * counts each step taken and returns the last one that was not a wait. */
static enum vr_mig_step run(vr_mig_watch *w, long long from, long long to, int counts[6])
{
    enum vr_mig_step last = VR_MIG_WAIT;
    for (long long t = from; t <= to; t++) {
        enum vr_mig_step s = vr_mig_watch_step(w, GIB, t * S);
        counts[s]++;
        if (s != VR_MIG_WAIT)
            last = s;
    }
    return last;
}

static void minimal_downtime(void)
{
    vr_mig_watch w = watch(VR_MIG_MINIMAL_DOWNTIME);
    int n[6] = {0};
    CHECK(vr_mig_watch_step(&w, GIB, 0) == VR_MIG_WAIT); /* the first sample is progress */
    CHECK(run(&w, 1, 14, n) == VR_MIG_WAIT && n[VR_MIG_WAIT] == 14);
    CHECK(vr_mig_watch_step(&w, GIB, 15 * S) == VR_MIG_RAISE_DOWNTIME && w.downtime_ms == 600);
    CHECK(run(&w, 16, 29, n) == VR_MIG_WAIT); /* one step per 15 s, not per sample */
    CHECK(vr_mig_watch_step(&w, GIB, 30 * S) == VR_MIG_RAISE_DOWNTIME && w.downtime_ms == 1200);
    /* up to 16x (4800 ms), then nothing more until the stall limit */
    for (int i = 0; i < 6; i++)
        n[i] = 0;
    CHECK(run(&w, 31, 239, n) == VR_MIG_RAISE_DOWNTIME);
    CHECK(n[VR_MIG_RAISE_DOWNTIME] == 2 && w.downtime_ms == 300 * VR_MIG_DOWNTIME_CEILING);
    CHECK(n[VR_MIG_SUSPEND] == 0 && n[VR_MIG_START_POSTCOPY] == 0 && !w.suspended);
    CHECK(vr_mig_watch_step(&w, GIB, 240 * S) == VR_MIG_ABORT_STALLED);

    /* progress restarts the stall clock: 200 s stuck, then one byte less */
    w = watch(VR_MIG_MINIMAL_DOWNTIME);
    vr_mig_watch_step(&w, GIB, 0);
    for (int i = 0; i < 6; i++)
        n[i] = 0;
    run(&w, 1, 200, n);
    CHECK(vr_mig_watch_step(&w, GIB - 1, 201 * S) == VR_MIG_WAIT);
    CHECK(run(&w, 202, 440, n) != VR_MIG_ABORT_STALLED);
    CHECK(vr_mig_watch_step(&w, GIB, 441 * S) == VR_MIG_ABORT_STALLED);

    /* the total time limit, progress or not */
    w = watch(VR_MIG_MINIMAL_DOWNTIME);
    w.timeout_ms = 64 * S;
    CHECK(vr_mig_watch_step(&w, GIB, 63 * S) != VR_MIG_ABORT_TIMEOUT);
    CHECK(vr_mig_watch_step(&w, GIB / 2, 64 * S) == VR_MIG_ABORT_TIMEOUT);
}

static void suspend_workload(void)
{
    vr_mig_watch w = watch(VR_MIG_SUSPEND_WORKLOAD);
    int n[6] = {0};
    vr_mig_watch_step(&w, GIB, 0);
    /* four doublings (15, 30, 45, 60 s), the pause at 75 s, once */
    CHECK(run(&w, 1, 74, n) == VR_MIG_RAISE_DOWNTIME && n[VR_MIG_RAISE_DOWNTIME] == 4 && !w.suspended);
    CHECK(vr_mig_watch_step(&w, GIB, 75 * S) == VR_MIG_SUSPEND && w.suspended);
    for (int i = 0; i < 6; i++)
        n[i] = 0;
    CHECK(run(&w, 76, 239, n) == VR_MIG_WAIT && n[VR_MIG_SUSPEND] == 0);
    /* paused and still stuck: the stall limit aborts (the agent resumes the guest) */
    CHECK(vr_mig_watch_step(&w, GIB, 240 * S) == VR_MIG_ABORT_STALLED);

    /* a convergence step of 2 s (the policy's convergence_step_s): the same
     * ladder, four doublings at 2, 4, 6, 8 s and the pause at 10 s */
    w = watch(VR_MIG_SUSPEND_WORKLOAD);
    w.step_ms = 2 * S;
    for (int i = 0; i < 6; i++)
        n[i] = 0;
    vr_mig_watch_step(&w, GIB, 0);
    CHECK(vr_mig_watch_step(&w, GIB, 1 * S) == VR_MIG_WAIT);
    CHECK(vr_mig_watch_step(&w, GIB, 2 * S) == VR_MIG_RAISE_DOWNTIME && w.downtime_ms == 600);
    CHECK(run(&w, 3, 9, n) == VR_MIG_RAISE_DOWNTIME && n[VR_MIG_RAISE_DOWNTIME] == 3 && !w.suspended);
    CHECK(vr_mig_watch_step(&w, GIB, 10 * S) == VR_MIG_SUSPEND && w.suspended);
}

static void post_copy(void)
{
    vr_mig_watch w = watch(VR_MIG_POST_COPY);
    int n[6] = {0};
    vr_mig_watch_step(&w, GIB, 0);
    CHECK(run(&w, 1, 15, n) == VR_MIG_START_POSTCOPY && w.postcopy && n[VR_MIG_RAISE_DOWNTIME] == 0);
    /* once in post-copy the destination runs the guest: never aborted */
    w.timeout_ms = 100 * S;
    for (int i = 0; i < 6; i++)
        n[i] = 0;
    run(&w, 16, 1000, n);
    CHECK(n[VR_MIG_WAIT] == 985 && n[VR_MIG_START_POSTCOPY] == 0);
    CHECK(n[VR_MIG_ABORT_STALLED] == 0 && n[VR_MIG_ABORT_TIMEOUT] == 0);
}

/* While the stream connects libvirt reports nothing to send (remaining 0):
 * that time is no stall, and the first real sample is progress; the total
 * limit still applies. (Fed to vr_mig_watch_step, the zero became the
 * lowest "remaining" ever, so every migration counted as stalled from its
 * start: a 5 s stall limit aborted slow starts before any data moved.) */
static void connecting(void)
{
    vr_mig_watch w = watch(VR_MIG_MINIMAL_DOWNTIME);
    w.stall_timeout_ms = 5 * S;
    for (long long t = 0; t <= 20; t++)
        CHECK(vr_mig_watch_connecting(&w, t * S) == VR_MIG_WAIT);
    CHECK(vr_mig_watch_step(&w, GIB, 21 * S) == VR_MIG_WAIT); /* the first data: progress */
    CHECK(vr_mig_watch_step(&w, GIB - 1, 24 * S) == VR_MIG_WAIT);
    CHECK(vr_mig_watch_step(&w, GIB - 1, 29 * S) == VR_MIG_ABORT_STALLED); /* 5 s stuck since 24 s */
    w = watch(VR_MIG_MINIMAL_DOWNTIME);
    w.timeout_ms = 64 * S;
    w.stall_timeout_ms = 240 * S;
    CHECK(vr_mig_watch_connecting(&w, 63 * S) == VR_MIG_WAIT);
    CHECK(vr_mig_watch_connecting(&w, 64 * S) == VR_MIG_ABORT_TIMEOUT);
    /* a stream that never starts: aborted after the stall limit, at least
     * a minute (a loaded host's slow start is no stall) */
    w = watch(VR_MIG_MINIMAL_DOWNTIME);
    w.timeout_ms = 3600 * S;
    w.stall_timeout_ms = 5 * S;
    CHECK(vr_mig_watch_connecting(&w, 59 * S) == VR_MIG_WAIT);
    CHECK(vr_mig_watch_connecting(&w, 60 * S) == VR_MIG_ABORT_NOSTREAM);
    w.stall_timeout_ms = 240 * S;
    CHECK(vr_mig_watch_connecting(&w, 239 * S) == VR_MIG_WAIT);
    CHECK(vr_mig_watch_connecting(&w, 240 * S) == VR_MIG_ABORT_NOSTREAM && vr_mig_connect_limit_ms(&w) == 240 * S);
}

/* Checks at which libvirt could not say how the migration goes (its 30 s
 * wait for a QEMU stuck in the stream's TLS handshake): no progress, so
 * the stall clock runs on from the last connecting sample (or progress);
 * the total limit applies; never after a post-copy switch. */
static void unknown(void)
{
    vr_mig_watch w = watch(VR_MIG_MINIMAL_DOWNTIME);
    w.stall_timeout_ms = 5 * S;
    CHECK(vr_mig_watch_connecting(&w, 1 * S) == VR_MIG_WAIT);
    CHECK(vr_mig_watch_unknown(&w, 5 * S) == VR_MIG_WAIT);
    CHECK(vr_mig_watch_unknown(&w, 6 * S) == VR_MIG_ABORT_STALLED); /* 5 s since the last connecting sample */
    CHECK(vr_mig_watch_connecting(&w, 31 * S) == VR_MIG_WAIT);      /* connecting again: no stall */
    CHECK(vr_mig_watch_unknown(&w, 33 * S) == VR_MIG_WAIT);
    /* streaming: unknown after progress counts from that progress */
    w = watch(VR_MIG_MINIMAL_DOWNTIME);
    w.stall_timeout_ms = 5 * S;
    CHECK(vr_mig_watch_step(&w, GIB, 10 * S) == VR_MIG_WAIT);
    CHECK(vr_mig_watch_unknown(&w, 14 * S) == VR_MIG_WAIT);
    CHECK(vr_mig_watch_unknown(&w, 40 * S) == VR_MIG_ABORT_STALLED);
    w = watch(VR_MIG_MINIMAL_DOWNTIME);
    w.timeout_ms = 64 * S;
    CHECK(vr_mig_watch_connecting(&w, 63 * S) == VR_MIG_WAIT);
    CHECK(vr_mig_watch_unknown(&w, 64 * S) == VR_MIG_ABORT_TIMEOUT);
    w = watch(VR_MIG_POST_COPY);
    w.stall_timeout_ms = 5 * S;
    w.timeout_ms = 64 * S;
    w.postcopy = true;
    CHECK(vr_mig_watch_unknown(&w, 100 * S) == VR_MIG_WAIT);
}

int main(void)
{
    connecting();
    unknown();
    minimal_downtime();
    suspend_workload();
    post_copy();
    return CHECK_DONE();
}
