/* The host status machine: one string table and one function through
 * which every change goes. The allowed from-states are checked in the
 * same UPDATE that writes the new status, so a monitor's poll can never
 * overwrite an administrator's maintenance, and an activation cannot race
 * a deactivation:
 *
 *   installing -> up | nonoperational | connecting      (monitor; not while a
 *                                     deploy job installs it: deploy/deployjob.c)
 *   installing -> initializing | installfailed   (the deploy job's end)
 *   initializing -> up | nonoperational | connecting (monitor)
 *   up | nonoperational | connecting -> any of those     (monitor)
 *   connecting | preparingformaintenance -> nonresponsive (monitor, after the grace)
 *   up | nonoperational | connecting | nonresponsive | installing
 *       -> preparingformaintenance   (deactivate: the maintenance job starts;
 *                                     jobs/maintenance.c migrates the VMs away)
 *   preparingformaintenance -> maintenance  (the job; only once no VM is on it)
 *   maintenance | preparingformaintenance -> installing
 *       (activate: ends a maintenance in progress; the monitor takes it on)
 *   maintenance | installfailed -> installing   (reinstall: a deploy job)
 *   nonresponsive | connecting -> kdumping   (the automatic fence job heard
 *                                     fence_kdump messages from it: not fenced)
 *   kdumping -> nonresponsive   (the job: the dump ended, the host counts as
 *                                fenced; the monitor's grace too)
 *
 * The monitor leaves a host in installfailed alone (nothing was started
 * there that it could trust), and one whose deploy job (install or
 * certificate enrollment) is unfinished.
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
    VR_HOST_INITIALIZING, /* installed over SSH: the monitor connects the first time */
    VR_HOST_INSTALLFAILED, /* a deploy step failed; status_detail says which */
    VR_HOST_KDUMPING, /* non-responsive and dumping a crash: its fence job waits (jobs/kdump.h) */
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

/* A reinstall begins: maintenance | installfailed -> installing, with an
 * event; VR_ERR_BAD_STATE (naming the status) from anywhere else. */
int vr_host_set_reinstalling(vr_engine *e, const char *host_id, const char *user, vr_error *err);

/* The SQL condition (on table hosts) true while a deploy job of the host
 * is unfinished: its monitor keeps away meanwhile. */
#define VR_HOST_DEPLOYING_SQL                                                                                  \
    "EXISTS (SELECT 1 FROM jobs WHERE jobs.object_type = 'host' AND jobs.object_id = hosts.id"                \
    " AND jobs.action IN ('install', 'enrollcertificate') AND jobs.status IN ('pending', 'running'))"
