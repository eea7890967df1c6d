/* Fencing skipped while a host dumps a crash (kdump; docs/fencing.md
 * "Kdump"). The engine listens on UDP for the messages fence_kdump_send
 * (Debian's fence-agents) sends from a host's kdump kernel, and remembers
 * per sender address when it heard the first and the last one (in memory
 * only: a dumping host repeats its message every few seconds, so an engine
 * restart learns it again within one interval). The automatic fence job
 * asks before it powers a host off: a host that is dumping is not fenced;
 * once its messages stop (the dump is over, the crashed kernel and all it
 * ran are long gone) it counts as fenced and its HA VMs restart elsewhere,
 * as RHV does after "Kdump flow finished". */
#pragma once

#include "engine.h"

/* The fence_kdump message (fence-agents' fence_kdump.h): two 32-bit words
 * in the sender's byte order (x86: little endian), magic then version. */
#define VR_KDUMP_MAGIC 0x1B302A40u
#define VR_KDUMP_VERSION 1u

/* Whether buf (n bytes, as received) is a fence_kdump message: 0, or -1
 * with why in err. Pure; also the fuzz-free unit test's entry point. */
int vr_kdump_parse(const void *buf, size_t n, vr_error *err);

/* Start the listener thread on e->kdump_listen ("ADDR:PORT"; "" = off).
 * A port that cannot be bound is logged and raises an event; the engine
 * runs on without kdump detection (returns 0 then too). */
int vr_kdump_start(vr_engine *e, vr_error *err);

/* When the last and first message from one of the addresses addr (a host's
 * address: an IP or a DNS name, resolved) arrived, epoch seconds; 0 when
 * never (or the listener is off). */
long long vr_kdump_last(vr_engine *e, const char *addr, long long *first);

/* The fence job's kdump step for host_id, run before a hard fence: when
 * the listener is on and the host's power management has kdump_detection,
 * wait up to --kdump-started-timeout-s for its first message. None: 0 (go
 * on fencing). Heard: the host becomes kdumping (an event says fencing is
 * skipped), the step waits until no message came for
 * --kdump-finished-timeout-s, then the host counts as fenced (its VMs down
 * as host_fenced, the HA ones restarted): 1 with what happened in detail.
 * -1 when the job was cancelled (detail says so) or the engine stops (the
 * job is resumed at the next start). */
int vr_kdump_step(vr_engine *e, const char *job_id, const char *host_id, const char *user, char *detail,
                  size_t len);
