/* The agent's RPC server: a TCP listener speaking mutual TLS, one thread
 * per client connection, JSON-RPC requests dispatched to the verb tables
 * and event notifications pushed to subscribed clients. */
#pragma once

#include <stddef.h>

#include "agent.h"
#include "tls.h"

typedef struct vr_server_opts {
    const char *listen;  /* "ADDR:PORT", e.g. "0.0.0.0:54321" or "[::]:54321" */
    size_t max_frame;    /* largest accepted request, bytes */
    int max_clients;     /* further connections are closed at once */
    int io_timeout_s;    /* handshake / mid-frame / send timeout */
} vr_server_opts;

/* Bind and listen. creds are borrowed. */
int vr_server_new(vr_agent *a, vr_tls_creds *creds, const vr_server_opts *opts,
                  vr_server **out, vr_error *err);

/* Accept connections until vr_server_stop() (async-signal-safe) is called. */
int vr_server_run(vr_server *srv);
void vr_server_stop(vr_server *srv);

/* After vr_server_run returned: close the listener, stop notifications,
 * cut every connection (which ends idle, reading, writing and handshaking
 * clients at once) and wait up to grace_ms for the client threads to end.
 * Returns how many are still running: each is inside a verb that has not
 * returned, typically a libvirt call on a VM that does not answer. */
int vr_server_shutdown(vr_server *srv, int grace_ms);

/* Free the server once no client thread runs. If some still do (see
 * vr_server_shutdown), nothing is freed: their threads still use it, and
 * the process is about to exit anyway. */
void vr_server_free(vr_server *srv);
