/* Monitor health of running VMs: is each QEMU still answering libvirt?
 *
 * A QEMU that is stopped, stuck in the kernel or deadlocked keeps its
 * domain "running" in libvirt, but every call that needs its monitor
 * hangs. The health watcher finds such VMs so that the engine can show
 * them as NotResponding instead of the agent itself looking dead. */
#pragma once

#include <stdbool.h>

#include "agent.h"

/* Start the watcher thread: every interval it probes each owned running
 * VM's monitor from a throwaway thread (a probe may hang for as long as
 * QEMU does) and declares the VM not responding once a probe, or any
 * other monitor command, has been outstanding for timeout_s. Emits
 * VM.event NotResponding / Responding on changes. */
int vr_health_start(vr_agent *a, int timeout_s, vr_error *err);

/* Stop and join the watcher thread (no notification after it returns).
 * Probe threads still inside libvirt are left to end on their own; they
 * only use the watcher's static state, which is never freed. */
void vr_health_stop(void);

/* false if the VM with this UUID is known not to respond; true otherwise
 * (including VMs the watcher has not probed yet). */
bool vr_health_responsive(const char *uuid);
