/* Mutual TLS over a connected socket with GnuTLS. Both sides present a
 * certificate signed by the same CA; a peer without one gets nothing. */
#pragma once

#include <stdbool.h>
#include <gnutls/gnutls.h>

#include "error.h"
#include "frame.h"

typedef struct vr_tls_creds vr_tls_creds;

typedef struct vr_tls_conn {
    vr_tls_creds *creds;
    gnutls_session_t session;
    int fd;               /* owned: closed by vr_tls_conn_free */
    char peer_name[256];  /* CN of the verified peer certificate */
} vr_tls_conn;

/* Load CA, certificate and key (PEM files). Call once per process role. */
int vr_tls_creds_new(const char *ca_file, const char *cert_file,
                     const char *key_file, vr_tls_creds **out, vr_error *err);
void vr_tls_creds_free(vr_tls_creds *creds);

/* Refuse peers whose certificate serial (lowercase hex) revoked(arg,
 * serial) says was revoked (the engine: docs/pki.md "Revocation"); called
 * after the chain verified. */
typedef bool (*vr_tls_revoked_fn)(void *arg, const char *serial_hex);
void vr_tls_creds_set_revoked(vr_tls_creds *creds, vr_tls_revoked_fn revoked, void *arg);

/* Limit for a whole TLS handshake (default 10 s). */
void vr_tls_creds_set_timeout(vr_tls_creds *creds, unsigned ms);

/* Server side: handshake on fd, require and verify a client certificate.
 * On failure fd is closed. */
int vr_tls_accept(vr_tls_creds *creds, int fd, vr_tls_conn **out, vr_error *err);

/* Client side: handshake on fd and verify the server certificate against
 * the CA and `host` (an IP or DNS name in its SAN). On failure fd is closed. */
int vr_tls_connect(vr_tls_creds *creds, int fd, const char *host,
                   vr_tls_conn **out, vr_error *err);

/* Connect TCP to host:port (each address of host, 10 s each, TCP_NODELAY):
 * the socket, or -1 with err. */
int vr_tcp_dial(const char *host, int port, vr_error *err);

/* Connect TCP to host:port then vr_tls_connect. */
int vr_tls_dial(vr_tls_creds *creds, const char *host, int port,
                vr_tls_conn **out, vr_error *err);

/* A vr_io reading/writing through the session (for vr_frame_*). */
vr_io vr_tls_io(vr_tls_conn *conn);

/* Send close_notify (best effort), close the socket, free. NULL-safe. */
void vr_tls_conn_free(vr_tls_conn *conn);
