/* Shared state of one vireo-agent process and the verb handler contract. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <jansson.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "error.h"

/* XML namespace of the metadata element holding Vireo's state for a VM. A
 * domain carrying it is "owned"; any other domain is external. */
#define VR_META_NS "https://vireo.dev/xmlns/vm/1"
#define VR_META_PREFIX "vireo"

/* How this host can run guests; detected at start (see hyp.c). */
enum vr_virt_mode {
    VR_VIRT_KVM = 0,      /* /dev/kvm backed by VMX/SVM: hardware KVM */
    VR_VIRT_KVM_EMULATED, /* /dev/kvm present, no VMX/SVM: nested, emulated */
    VR_VIRT_TCG,          /* no usable /dev/kvm: QEMU dynamic translation */
};

typedef struct vr_server vr_server;

/* The loops whose progress the systemd watchdog checks (watchdog.h). */
enum { VR_WATCHDOG_ACCEPT_LOOP, VR_WATCHDOG_EVENT_LOOP };

typedef struct vr_agent {
    char *uri;               /* libvirt URI */
    virConnectPtr conn;      /* thread-safe; replaced atomically on reconnect.
                                No agent lock is ever held across a libvirt
                                call: see vm_jobs.h and host_claims.h */
    enum vr_virt_mode mode;
    char default_domain_type[8]; /* "kvm" or "qemu" */
    int max_vcpus;           /* min(240, what libvirt allows for that type) */
    vr_server *server;
    char console_log_dir[256];
    int sanlock_io_timeout;  /* lockspaces joined without one in the call
                                (--sanlock-io-timeout, sanlock's default 10) */
    char storage_root[256];  /* where storage connections are mounted
                                (docs/storage.md); --storage-root */
    bool migration_tcp;      /* --migration-transport tcp: qemu+tcp:// (test
                                harness); default tls: qemu+tls:// (docs/migration.md) */
    int max_outgoing_migrations; /* --max-outgoing-migrations (default min(2, CPUs)) */
} vr_agent;

/* A verb handler: on success sets *result (new reference) and returns 0;
 * on failure fills err and returns -1. params is always an object. */
typedef int (*vr_verb_fn)(vr_agent *a, json_t *params, json_t **result, vr_error *err);

typedef struct vr_verb {
    const char *name;
    vr_verb_fn fn;
} vr_verb;

/* Find the handler for a method name; NULL if unknown. */
const vr_verb *vr_verb_find(const char *name);

/* Report a failed libvirt call: err gets libvirt's reason, prefixed with
 * what was attempted (printf-style), and a code mapped from libvirt's.
 * Returns -1. Use it right after the failing call.
 *
 * A macro so that libvirt's last error is copied aside BEFORE the message
 * arguments are evaluated: most libvirt functions, even virDomainGetName,
 * reset the calling thread's last error on entry, so an argument such as
 * virDomainGetName(dom) used to turn every reason into "unknown libvirt
 * error". The comma operator sequences the copy first. */
#define vr_libvirt_error(err, ...) \
    (vr_libvirt_error_save(), vr_libvirt_error_report((err), __VA_ARGS__))
void vr_libvirt_error_save(void);
int vr_libvirt_error_report(vr_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Broadcast a notification to every subscribed client; params is stolen. */
void vr_server_notify(vr_server *srv, const char *method, json_t *params);
