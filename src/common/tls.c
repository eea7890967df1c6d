#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <gnutls/x509.h>

struct vr_tls_creds {
    gnutls_certificate_credentials_t xcred;
    unsigned handshake_ms;
    vr_tls_revoked_fn revoked;
    void *revoked_arg;
};

void vr_tls_creds_set_revoked(vr_tls_creds *creds, vr_tls_revoked_fn revoked, void *arg)
{
    creds->revoked = revoked;
    creds->revoked_arg = arg;
}

void vr_tls_creds_set_timeout(vr_tls_creds *creds, unsigned ms)
{
    creds->handshake_ms = ms;
}

int vr_tls_creds_new(const char *ca_file, const char *cert_file,
                     const char *key_file, vr_tls_creds **out, vr_error *err)
{
    vr_tls_creds *c = calloc(1, sizeof(*c));
    if (!c)
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory");
    int rc = gnutls_certificate_allocate_credentials(&c->xcred);
    if (rc < 0) {
        free(c);
        return vr_error_set(err, VR_ERR_INTERNAL, "gnutls: %s", gnutls_strerror(rc));
    }
    rc = gnutls_certificate_set_x509_trust_file(c->xcred, ca_file, GNUTLS_X509_FMT_PEM);
    if (rc <= 0) {
        vr_error_set(err, VR_ERR_IO, "cannot load CA certificate '%s': %s", ca_file,
                     rc == 0 ? "no certificate found" : gnutls_strerror(rc));
        goto fail;
    }
    rc = gnutls_certificate_set_x509_key_file(c->xcred, cert_file, key_file,
                                              GNUTLS_X509_FMT_PEM);
    if (rc < 0) {
        vr_error_set(err, VR_ERR_IO, "cannot load certificate '%s' / key '%s': %s",
                     cert_file, key_file, gnutls_strerror(rc));
        goto fail;
    }
    c->handshake_ms = 10000;
    *out = c;
    return 0;
fail:
    gnutls_certificate_free_credentials(c->xcred);
    free(c);
    return -1;
}

void vr_tls_creds_free(vr_tls_creds *creds)
{
    if (!creds)
        return;
    gnutls_certificate_free_credentials(creds->xcred);
    free(creds);
}

/* Verify the peer chain against our CA; fill peer_name with its CN. */
static int verify_peer(vr_tls_conn *conn, const char *host, vr_error *err)
{
    unsigned status = 0;
    int rc;
    if (host) {
        gnutls_typed_vdata_st data = {.type = GNUTLS_DT_DNS_HOSTNAME,
                                      .data = (unsigned char *)host};
        rc = gnutls_certificate_verify_peers(conn->session, &data, 1, &status);
    } else {
        rc = gnutls_certificate_verify_peers2(conn->session, &status);
    }
    if (rc < 0)
        return vr_error_set(err, VR_ERR_IO, "peer certificate check failed: %s",
                            gnutls_strerror(rc));
    if (status != 0) {
        gnutls_datum_t msg = {0};
        gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &msg, 0);
        vr_error_set(err, VR_ERR_IO, "peer certificate rejected: %s",
                     msg.data ? (char *)msg.data : "unknown reason");
        gnutls_free(msg.data);
        return -1;
    }
    unsigned n = 0;
    const gnutls_datum_t *certs = gnutls_certificate_get_peers(conn->session, &n);
    if (!certs || n == 0)
        return vr_error_set(err, VR_ERR_IO, "peer presented no certificate");
    gnutls_x509_crt_t crt;
    char serial[2 * 20 + 1] = "";
    if (gnutls_x509_crt_init(&crt) == 0) {
        size_t sz = sizeof(conn->peer_name);
        unsigned char raw[20];
        size_t rawlen = sizeof(raw);
        if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) == 0) {
            gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0,
                                          conn->peer_name, &sz);
            if (gnutls_x509_crt_get_serial(crt, raw, &rawlen) == 0)
                for (size_t i = 0; i < rawlen; i++)
                    snprintf(serial + 2 * i, 3, "%02x", raw[i]);
        }
        gnutls_x509_crt_deinit(crt);
    }
    if (conn->creds->revoked && *serial && conn->creds->revoked(conn->creds->revoked_arg, serial))
        return vr_error_set(err, VR_ERR_IO, "peer certificate rejected: certificate %s of '%s' was revoked",
                            serial, conn->peer_name);
    return 0;
}

static int handshake(vr_tls_creds *creds, int fd, bool server, const char *host,
                     vr_tls_conn **out, vr_error *err)
{
    vr_tls_conn *conn = calloc(1, sizeof(*conn));
    if (!conn) {
        close(fd);
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory");
    }
    conn->fd = fd;
    conn->creds = creds;
    int rc = gnutls_init(&conn->session, server ? GNUTLS_SERVER : GNUTLS_CLIENT);
    if (rc < 0) {
        close(fd);
        free(conn);
        return vr_error_set(err, VR_ERR_INTERNAL, "gnutls_init: %s", gnutls_strerror(rc));
    }
    gnutls_set_default_priority(conn->session);
    gnutls_credentials_set(conn->session, GNUTLS_CRD_CERTIFICATE, creds->xcred);
    if (server)
        gnutls_certificate_server_set_request(conn->session, GNUTLS_CERT_REQUIRE);
    else if (host && *host)
        gnutls_server_name_set(conn->session, GNUTLS_NAME_DNS, host, strlen(host));
    gnutls_transport_set_int(conn->session, fd);
    gnutls_handshake_set_timeout(conn->session, creds->handshake_ms);
    do {
        rc = gnutls_handshake(conn->session);
    } while (rc < 0 && gnutls_error_is_fatal(rc) == 0);
    if (rc < 0) {
        vr_error_set(err, VR_ERR_IO, "TLS handshake failed: %s", gnutls_strerror(rc));
        goto fail;
    }
    if (verify_peer(conn, server ? NULL : host, err) < 0)
        goto fail;
    *out = conn;
    return 0;
fail:
    gnutls_deinit(conn->session);
    close(fd);
    free(conn);
    return -1;
}

int vr_tls_accept(vr_tls_creds *creds, int fd, vr_tls_conn **out, vr_error *err)
{
    return handshake(creds, fd, true, NULL, out, err);
}

int vr_tls_connect(vr_tls_creds *creds, int fd, const char *host,
                   vr_tls_conn **out, vr_error *err)
{
    return handshake(creds, fd, false, host, out, err);
}

int vr_tcp_dial(const char *host, int port, vr_error *err)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0)
        return vr_error_set(err, VR_ERR_IO, "cannot resolve '%s': %s", host,
                            gai_strerror(rc));
    int fd = -1, saved = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        /* Bounded connect: a host that drops packets must not hang us. */
        int fl = fcntl(fd, F_GETFL);
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
        int rc2 = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc2 < 0 && errno == EINPROGRESS) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int soerr = ETIMEDOUT;
            socklen_t sl = sizeof(soerr);
            if (poll(&p, 1, 10000) == 1)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
            rc2 = soerr ? -1 : 0;
            errno = soerr;
        }
        fcntl(fd, F_SETFL, fl);
        if (rc2 == 0)
            break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return vr_error_set(err, VR_ERR_IO, "cannot connect to %s:%d: %s", host, port,
                            strerror(saved ? saved : ECONNREFUSED));
    /* A request's last partial TLS record must not wait for the ACK of
     * the ones before it (Nagle), which the peer delays ~40 ms: a large
     * request (a disk image chunk) would stall that long each time. */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

int vr_tls_dial(vr_tls_creds *creds, const char *host, int port,
                vr_tls_conn **out, vr_error *err)
{
    int fd = vr_tcp_dial(host, port, err);
    return fd < 0 ? -1 : vr_tls_connect(creds, fd, host, out, err);
}

static ssize_t tls_read(void *ctx, void *buf, size_t len)
{
    vr_tls_conn *conn = ctx;
    ssize_t n;
    do {
        n = gnutls_record_recv(conn->session, buf, len);
    } while (n == GNUTLS_E_INTERRUPTED);
    /* EAGAIN means the socket's SO_RCVTIMEO expired: let the framer decide
     * whether an idle peer is fine (between frames) or too slow (mid-frame). */
    if (n == GNUTLS_E_AGAIN)
        return -EAGAIN;
    if (n == GNUTLS_E_PREMATURE_TERMINATION)
        return 0;
    return n < 0 ? -ECONNRESET : n;
}

static ssize_t tls_write(void *ctx, const void *buf, size_t len)
{
    vr_tls_conn *conn = ctx;
    ssize_t n;
    do {
        n = gnutls_record_send(conn->session, buf, len);
    } while (n == GNUTLS_E_INTERRUPTED);
    /* A peer that does not drain its socket within SO_SNDTIMEO is dropped. */
    if (n == GNUTLS_E_AGAIN)
        return -ETIMEDOUT;
    return n < 0 ? -EPIPE : n;
}

vr_io vr_tls_io(vr_tls_conn *conn)
{
    return (vr_io){.ctx = conn, .read = tls_read, .write = tls_write};
}

void vr_tls_conn_free(vr_tls_conn *conn)
{
    if (!conn)
        return;
    gnutls_bye(conn->session, GNUTLS_SHUT_WR);
    gnutls_deinit(conn->session);
    close(conn->fd);
    free(conn);
}
