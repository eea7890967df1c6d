/* systemd's service watchdog (WatchdogSec= in a unit, sd_watchdog_enabled(3))
 * without libsystemd.
 *
 * A daemon names the loops whose progress proves it alive (slots 0..n-1)
 * and each loop calls vr_watchdog_beat() at least every second or so. A
 * thread sends WATCHDOG=1 every half period, but only while every slot
 * has beaten within the last period: a loop stuck in a deadlock or a call
 * that never returns stops the pings, and systemd kills and restarts the
 * daemon (Restart=on-failure). Without WATCHDOG_USEC, or when WATCHDOG_PID
 * names another process, nothing runs and beats cost one atomic store. */
#pragma once

#include "error.h"

#define VR_WATCHDOG_MAX_LOOPS 8

/* Start pinging if systemd asked for it, watching nloops slots (their
 * names for the log). 0 also when not asked (*period_ms then 0). */
int vr_watchdog_start(int nloops, const char *const names[], long long *period_ms, vr_error *err);

/* Loop `slot` made progress now. Safe from any thread. */
void vr_watchdog_beat(int slot);

/* Stop the pinging thread (before exit). */
void vr_watchdog_stop(void);
