/* The scheduler's in-memory view of every host's placement numbers.
 *
 * The database stays the truth; the view is a copy re-read one host at a
 * time by whoever changes that host's row (its monitor after each poll, a
 * placement booking it, the hosts API). A placement then scans memory
 * instead of reading hundreds of rows. A writer that forgot to refresh is
 * corrected by the host's next poll. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "db.h"
#include "error.h"

/* What placement looks at for one host. */
typedef struct vr_sched_host {
    char id[37];
    char name[65];             /* for verdicts and faults (docs/availability.md "Why a host") */
    char status[24];
    char virt_mode[16];
    double cpu_percent;        /* last sample */
    long long mem_total_mib;
    long long committed_mib;   /* memory of VMs placed there (not down) or migrating to it */
    long long pending_vcpus;   /* vCPUs of VMs still starting there */
    long long max_vcpus, cpus;
    bool lacks_network;        /* does not run a network the VM's NICs use */
    const char *missing_net;   /* the first of those it lacks: points into the caller's nets */
    int affinity_penalty;      /* soft affinity groups it would break (affinity.h); lower wins */
    int ha_penalty;            /* 1: placing the VM here leaves an HA VM without a restart host (haweight.c) */
    int upgrade_penalty;       /* in_cluster_upgrade, a migration: 1 the same OS version as the source, 0 newer */
    int incoming;              /* status "incoming": the migrations arriving there now (incoming.h) */
    char os[48], os_source[48]; /* ... its OS and the source's ("debian 12"), for the filter's reason (osupgrade.h) */
    char affinity_group[65];   /* status "affinity": the enforcing group that filtered it ... */
    char affinity_vm[65];      /* ... and a VM of that group it would run with (negative) or apart from */
    bool affinity_positive;    /* ... (positive: the VM is kept with that VM, elsewhere) */
} vr_sched_host;

typedef struct vr_hostview vr_hostview;

/* Load every host from the database. Free with vr_hostview_free. */
int vr_hostview_new(vr_db *db, vr_hostview **out, vr_error *err);
void vr_hostview_free(vr_hostview *v);

/* Re-read one host's row; drops it from the view if the row is gone. */
void vr_hostview_refresh(vr_hostview *v, vr_db *db, const char *host_id);

/* Recompute a host's booking from the truth (the memory of the VMs placed
 * there and not down, plus that of the VMs migrating to it: RHV's pending
 * memory; the vCPUs of those still starting), then refresh its copy. */
void vr_hostview_recount(vr_hostview *v, vr_db *db, const char *host_id);

/* Copy the hosts of a cluster, ordered by name then id (the order ties are
 * broken in). *out is malloc'd (NULL when *n is 0); the caller frees it. */
int vr_hostview_cluster(vr_hostview *v, const char *cluster_id, vr_sched_host **out, size_t *n);

/* The same, marking lacks_network on hosts that do not run every network
 * named in nets[0..nnets) (as their agents last reported). */
int vr_hostview_cluster_nets(vr_hostview *v, const char *cluster_id, const char *const *nets, size_t nnets,
                             vr_sched_host **out, size_t *n);
