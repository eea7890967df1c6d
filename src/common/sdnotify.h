/* systemd's readiness protocol (sd_notify(3)) without libsystemd: a
 * datagram to $NOTIFY_SOCKET. The daemons' units are Type=notify, so
 * "started" means serving, not merely forked. */
#pragma once

/* Send state ("READY=1", "STOPPING=1", "STATUS=..."; several separated by
 * newlines). 0 when sent or when not run by systemd (no NOTIFY_SOCKET),
 * -errno when the socket refused it. */
int vr_sd_notify(const char *state);
