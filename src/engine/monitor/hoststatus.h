/* The host status machine: one string table and one function through
 * which every change goes. The allowed from-states are checked in the
 * same UPDATE that writes the new status, so a monitor's poll can never
 * overwrite an administrator's maintenance, and an activation cannot race
 * a deactivation:
 *
 *   installing -> up | nonoperational | connecting      (monitor)
 *   up | nonoperational | connecting -> any of those     (monitor)
 *   connecting | preparingformaintenance -> nonresponsive (monitor, after the grace)
 *   up | nonoperational | connecting | nonresponsive | installing
 *       -> preparingformaintenance   (deactivate: the maintenance job starts;
 *                                     jobs/maintenance.c migrates the VMs away)
 *   preparingformaintenance -> maintenance  (the job; only once no VM is on it)
 *   maintenance | preparingformaintenance -> installing
 *       (activate: ends a maintenance in progress; the monitor takes it on)
 *
 * The monitor never moves a host out of preparingformaintenance except to
 * nonresponsive (then the maintenance job stops: its VMs are unknown).
 */
#pragma once

#include "engine.h"

typedef enum {
    VR_HOST_INSTALLING,
    VR_HOST_UP,
    VR_HOST_CONNECTING,
    VR_HOST_NONRESPONSIVE,
    VR_HOST_MAINTENANCE,
    VR_HOST_NONOPERATIONAL,
    VR_HOST_PREPARING, /* preparingformaintenance: its VMs are migrating away */
    VR_HOST_NSTATUS
} vr_host_status;

extern const char *const vr_host_status_names[VR_HOST_NSTATUS];

/* The status named s, or -1. */
int vr_host_status_parse(const char *s);

/* Move host_id to `to` with detail, if the machine allows it from where it
 * is now; records an event when the status changed (user "" = the engine).
 * VR_ERR_BAD_STATE (naming the host and its status) when not allowed. */
int vr_host_set_status(vr_engine *e, const char *host_id, vr_host_status to, const char *detail,
                       const char *user, vr_error *err);
