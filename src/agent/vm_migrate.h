/* VM.migrate: live migration of a VM to another host's libvirtd, peer to
 * peer, as a long job of this (the source) agent with progress, cancel and
 * the migration policies of docs/migration.md. */
#pragma once

#include "agent.h"

extern const vr_verb vr_vm_migrate_verbs[];

/* The policy's decision at one check, from the job's numbers: a pure
 * function, so every rule of docs/migration.md "Policies" is in one place
 * (tests/unit/test_migwatch.c drives each policy). */
enum vr_mig_policy { VR_MIG_MINIMAL_DOWNTIME, VR_MIG_SUSPEND_WORKLOAD, VR_MIG_POST_COPY };
enum vr_mig_step { VR_MIG_WAIT, VR_MIG_RAISE_DOWNTIME, VR_MIG_SUSPEND, VR_MIG_START_POSTCOPY,
                   VR_MIG_ABORT_STALLED, VR_MIG_ABORT_TIMEOUT, VR_MIG_ABORT_NOSTREAM };

typedef struct vr_mig_watch {
    enum vr_mig_policy policy;
    long long timeout_ms, stall_timeout_ms;
    long long step_ms; /* stalling this long takes the next step; 0: VR_MIG_STALL_STEP_MS */
    unsigned long long base_downtime_ms, downtime_ms;
    unsigned long long lowest_remaining; /* ULLONG_MAX before the first sample */
    long long last_progress_ms, last_step_ms; /* times since the start */
    bool suspended, postcopy;
} vr_mig_watch;

/* Every this long without progress, the policy takes its next step (the
 * default of VM.migrate's convergence_step_s, RHV's convergence schedule
 * step). */
#define VR_MIG_STALL_STEP_MS 15000
/* minimal_downtime and suspend_workload raise the limit up to this many
 * times the starting one. */
#define VR_MIG_DOWNTIME_CEILING 16
/* An abort or cancel libvirt took but the migration did not end within
 * this long: the agent cuts the stream (vm_migrate_cut.h), and again each
 * this long while it goes on. (One libvirt could not even deliver, its
 * QEMU stuck, is cut at once.) */
#define VR_MIG_CUT_GRACE_MS 10000

/* Feed one sample (remaining bytes, ms since the start); returns what to
 * do now and updates w (the caller then does it). */
enum vr_mig_step vr_mig_watch_step(vr_mig_watch *w, unsigned long long remaining, long long now_ms);

/* Connecting longer than this (or the stall limit, if longer) is a stream
 * that will not start (a handshake whose peer went away): aborted. */
#define VR_MIG_CONNECT_MIN_MS 60000

/* A sample before libvirt knows the data to send (the stream still
 * connecting): not a stall for the policy's steps (its zero "remaining"
 * would pass for the lowest ever, and every later sample for no
 * progress). The total time limit applies, and a stream still connecting
 * after the stall limit (at least VR_MIG_CONNECT_MIN_MS) is aborted.
 * Returns VR_MIG_WAIT, VR_MIG_ABORT_TIMEOUT or VR_MIG_ABORT_NOSTREAM. */
enum vr_mig_step vr_mig_watch_connecting(vr_mig_watch *w, long long now_ms);

/* How long the stream may connect before VR_MIG_ABORT_NOSTREAM. */
long long vr_mig_connect_limit_ms(const vr_mig_watch *w);

/* A check at which libvirt could not say how the migration goes (its job
 * statistics failed: typically its 30 s wait for a QEMU whose main loop is
 * stuck, as in a TLS handshake reading a stream that no longer answers):
 * no progress, so the stall clock runs on from the last sample that
 * showed progress or a stream still connecting; the total limit applies.
 * Never an abort after a post-copy switch. */
enum vr_mig_step vr_mig_watch_unknown(const vr_mig_watch *w, long long now_ms);
