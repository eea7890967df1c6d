/* Shared state of one vireo-engine process. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <jansson.h>

#include "db.h"
#include "error.h"
#include "tls.h"

typedef struct vr_hostmon vr_hostmon;
typedef struct vr_hostview vr_hostview;
typedef struct vr_vmstats vr_vmstats;
typedef struct vr_statshist vr_statshist;

typedef struct vr_engine {
    vr_db *db;
    vr_tls_creds *agent_creds;  /* the engine's client certificate for agents */
    int poll_ms;                /* host monitoring interval */
    int grace_s;                /* Connecting -> NonResponsive */
    int token_ttl_s;
    int agent_timeout_s;        /* one agent call */
    int autorecovery_s;         /* retry of inactive storage domains (ch. 2.7) */
    int orphan_grace_s;         /* age before a leftover volume is swept (orphans.h) */
    int balance_period_s;       /* load balancing round (ch. 5.2; 0: off) */
    char kdump_listen[80];      /* fence_kdump listener "ADDR:PORT"; "" off (jobs/kdump.h) */
    int kdump_started_s;        /* how long a fence waits for a host's first kdump message */
    int kdump_finished_s;       /* a dump is over after this long without a message */
    int fence_agent_timeout_s;  /* one fence agent run on its proxy (jobs/fencejob.c) */
    unsigned long long mac_first, mac_last; /* the MAC pool (macpool.h) */
    vr_hostmon *mon;
    vr_hostview *view;          /* the scheduler's copy of host numbers (hostview.h) */
    vr_vmstats *vmstats;        /* running VMs' last statistics, for /metrics (vmstats.h) */
    vr_statshist *statshist;    /* the last hour of hosts' and VMs' statistics (statshistory.h) */
    char *ssh_pubkey;           /* the engine's SSH public key line (deploy/sshkey.h) */
    char ssh_key_file[1024];    /* its private key */
    const char *portal_dir;     /* the built portal's files (api/portal.h); not owned */
    char ca_cert_file[1024];    /* the CA that signs host certificates (--pki DIR/ca.crt) */
    char ca_key_file[1024];     /* its key (--ca-key; default DIR/ca.key): host enrollment */
    char host_packages[1024];   /* where vireo-agent_*.deb for hosts is (--host-packages); "" none */
    int host_cert_days;         /* validity of the host certificates it signs (--host-cert-days) */
    int crl_generation;         /* bumped by each revocation: monitors send agents the CRL (revoke.h) */
    pthread_mutex_t sched_lock; /* one placement at a time: no double booking */
    volatile int stopping;
    int threads;                /* registered threads still running (vr_engine_thread_enter) */
} vr_engine;

/* Record an event (also logged). object_type/object_id may be "". */
void vr_event(vr_engine *e, const char *severity, const char *user, const char *object_type,
              const char *object_id, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Threads that use the engine's state (database, host view, agent
 * credentials) and are not joined by their creator - job threads, host
 * monitors - register, so that shutdown can wait for them before it closes
 * the database. enter is called by the creator before pthread_create (a
 * wait starting right after then sees the thread), or undone with leave if
 * the thread could not be created; leave is the thread's last use of e. */
void vr_engine_thread_enter(vr_engine *e);
void vr_engine_thread_leave(vr_engine *e);

/* Start a registered, detached thread running fn(e) (fn calls
 * vr_engine_thread_leave last); VR_ERR_INTERNAL naming `what` when it
 * cannot be created. */
int vr_engine_thread_start(vr_engine *e, void *(*fn)(void *), const char *what, vr_error *err);

/* Wait until every registered thread has left, at most timeout_s seconds.
 * Returns how many are still running (0: all ended). */
int vr_engine_wait_threads(vr_engine *e, int timeout_s);

/* A new random UUID string. */
void vr_uuid_new(char out[37]);

/* Seconds / milliseconds since the epoch. */
long long vr_now(void);
long long vr_now_ms(void);
