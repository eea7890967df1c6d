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

/* Close the listener and free; client threads are detached and die with
 * the process. */
void vr_server_free(vr_server *srv);
