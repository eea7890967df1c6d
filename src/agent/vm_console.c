/* VM.setTicket and VM.attachConsole (docs/agent-api.md "Console verbs"):
 * the agent's side of the engine's console proxy. VNC keeps listening on
 * the host's loopback only; the engine reaches it, and the serial console,
 * through this mutually authenticated TLS connection. */
#include "vm_console.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

#include "dominfo.h"
#include "hyp.h"
#include "jsonx.h"
#include "log.h"

/* How much of the console log a serial attach replays first (the screen
 * the user would have seen had they been attached since boot). */
#define REPLAY_BYTES (16 * 1024)

struct vr_console {
    bool serial;
    virDomainPtr dom;
    virStreamPtr st;   /* serial */
    int gfd;           /* graphics: a connection to QEMU's VNC server */
    char *replay;      /* serial: the log's tail */
    size_t replay_len;
    char name[128];
};

void vr_console_free(vr_console *c)
{
    if (!c)
        return;
    if (c->st) {
        virStreamAbort(c->st);
        virStreamFree(c->st);
    }
    if (c->gfd >= 0)
        close(c->gfd);
    if (c->dom)
        virDomainFree(c->dom);
    virResetLastError();
    free(c->replay);
    free(c);
}

void vr_console_log_path(const vr_agent *a, const char *uuid, char *path, size_t len)
{
    char lower[37] = {0};
    for (int i = 0; i < 36 && uuid[i]; i++)
        lower[i] = (char)tolower((unsigned char)uuid[i]);
    snprintf(path, len, "%s/vireo-%s-console.log", a->console_log_dir, lower);
}

/* The last REPLAY_BYTES of the VM's console log (none when unreadable). */
static void read_replay(vr_agent *a, const char *uuid, vr_console *c)
{
    char path[512];
    vr_console_log_path(a, uuid, path, sizeof(path));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return;
    if (fstat(fd, &st) == 0 && (c->replay = malloc(REPLAY_BYTES))) {
        off_t off = st.st_size > REPLAY_BYTES ? st.st_size - REPLAY_BYTES : 0;
        ssize_t n = pread(fd, c->replay, REPLAY_BYTES, off);
        c->replay_len = n > 0 ? (size_t)n : 0;
    }
    close(fd);
}

int vr_console_open(vr_agent *a, json_t *params, vr_console **out, vr_error *err)
{
    static const char *const keys[] = {"uuid", "console", NULL};
    const char *kind = "serial", *uuid;
    if (vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0 ||
        vr_json_str(params, "params", "uuid", true, &uuid, err) < 0 ||
        vr_json_str(params, "params", "console", false, &kind, err) < 0)
        return -1;
    if (strcmp(kind, "serial") && strcmp(kind, "graphics"))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "params.console must be serial or graphics");
    vr_console *c = calloc(1, sizeof(*c));
    if (!c)
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory");
    c->gfd = -1;
    c->serial = !strcmp(kind, "serial");
    if (vr_dom_lookup(a, params, &c->dom, err) < 0) {
        free(c);
        return -1;
    }
    snprintf(c->name, sizeof(c->name), "%s", virDomainGetName(c->dom));
    if (c->serial) {
        c->st = virStreamNew(a->conn, 0);
        /* Force: an earlier session (another browser, VM.sendConsole) is
         * taken over, as virsh console --force does. */
        if (!c->st || virDomainOpenConsole(c->dom, NULL, c->st, VIR_DOMAIN_CONSOLE_FORCE) < 0) {
            vr_libvirt_error(err, "cannot open the serial console of VM %s", c->name);
            vr_console_free(c);
            return -1;
        }
        read_replay(a, uuid, c);
    } else {
        /* libvirt hands over a socket connected to QEMU's VNC server, whose
         * password (VM.setTicket) is still asked for: no skipauth. */
        c->gfd = virDomainOpenGraphicsFD(c->dom, 0, 0);
        if (c->gfd < 0) {
            vr_libvirt_error(err, "cannot open the graphical console of VM %s", c->name);
            vr_console_free(c);
            return -1;
        }
    }
    *out = c;
    return 0;
}

typedef struct relay {
    vr_console *c;
    vr_tls_conn *tls;
    int fd;
    pthread_mutex_t lock; /* the TLS session's sending side */
} relay;

static int tls_send_all(relay *r, const char *buf, size_t len)
{
    pthread_mutex_lock(&r->lock);
    int rc = 0;
    for (size_t done = 0; done < len;) {
        ssize_t n = gnutls_record_send(r->tls->session, buf + done, len - done);
        if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
            continue;
        if (n <= 0) {
            rc = -1;
            break;
        }
        done += (size_t)n;
    }
    pthread_mutex_unlock(&r->lock);
    return rc;
}

static int console_send_all(vr_console *c, const char *buf, size_t len)
{
    for (size_t done = 0; done < len;) {
        ssize_t n = c->serial ? virStreamSend(c->st, buf + done, len - done)
                              : write(c->gfd, buf + done, len - done);
        if (n < 0 && !c->serial && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

/* The console's output to the engine, on its own thread: GnuTLS lets one
 * thread send while another receives on the same session. */
static void *console_to_engine(void *arg)
{
    relay *r = arg;
    char buf[16384];
    for (;;) {
        ssize_t n;
        if (r->c->serial) {
            n = virStreamRecv(r->c->st, buf, sizeof(buf));
        } else {
            n = read(r->c->gfd, buf, sizeof(buf));
            if (n < 0 && errno == EINTR)
                continue;
        }
        if (n <= 0 || tls_send_all(r, buf, (size_t)n) < 0)
            break;
    }
    virResetLastError();
    /* The console ended (the VM stopped, another session took it over):
     * wake the reading side, which then ends the connection. */
    shutdown(r->fd, SHUT_RDWR);
    return NULL;
}

void vr_console_relay(vr_console *c, vr_tls_conn *tls, int fd)
{
    relay r = {.c = c, .tls = tls, .fd = fd};
    pthread_mutex_init(&r.lock, NULL);
    /* A console may stay silent for hours: no receive timeout from now on
     * (TCP keepalive still finds a vanished engine). */
    struct timeval none = {0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
    VR_INFO("console of VM %s (%s) attached", c->name, c->serial ? "serial" : "graphics");
    if (c->replay_len && tls_send_all(&r, c->replay, c->replay_len) < 0)
        goto out;
    pthread_t t;
    if (pthread_create(&t, NULL, console_to_engine, &r) != 0)
        goto out;
    char buf[16384];
    for (;;) {
        ssize_t n = gnutls_record_recv(tls->session, buf, sizeof(buf));
        if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
            continue;
        if (n <= 0 || console_send_all(c, buf, (size_t)n) < 0)
            break;
    }
    /* Unblock the other thread: an aborted stream ends its receive, a
     * shut-down socket its read. */
    if (c->serial)
        virStreamAbort(c->st);
    else
        shutdown(c->gfd, SHUT_RDWR);
    pthread_join(t, NULL);
out:
    VR_INFO("console of VM %s (%s) detached", c->name, c->serial ? "serial" : "graphics");
    pthread_mutex_destroy(&r.lock);
    if (c->st) {
        virStreamFree(c->st); /* aborted above, or by vr_console_free */
        c->st = NULL;
    }
    vr_console_free(c);
}

/* Set the VNC password of a running VM to the engine's ticket, valid for
 * `seconds`: libvirt's graphics device update with passwd and
 * passwdValidTo (QEMU's set_password and expire_password). */
static int vm_set_ticket(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    static const char *const keys[] = {"uuid", "ticket", "seconds", NULL};
    const char *ticket;
    long long seconds = 30;
    if (vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0 ||
        vr_json_str(params, "params", "ticket", true, &ticket, err) < 0 ||
        vr_json_int(params, "params", "seconds", false, 1, 3600, &seconds, err) < 0)
        return -1;
    size_t tl = strlen(ticket);
    if (tl < 8 || tl > 64 || strspn(ticket, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != tl)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "params.ticket must be 8-64 letters, digits, '-' or '_'");
    virDomainPtr dom;
    if (vr_dom_lookup(a, params, &dom, err) < 0)
        return -1;
    xmlDocPtr doc = NULL;
    xmlXPathContextPtr xc = NULL;
    xmlXPathObjectPtr o = NULL;
    xmlBufferPtr buf = NULL;
    int rc = -1;
    if (vr_dom_doc(dom, &doc, err) < 0)
        goto out;
    xc = xmlXPathNewContext(doc);
    o = xc ? xmlXPathEvalExpression(BAD_CAST "/domain/devices/graphics[@type='vnc']", xc) : NULL;
    if (!o || !o->nodesetval || o->nodesetval->nodeNr < 1) {
        vr_error_set(err, VR_ERR_UNSUPPORTED, "VM %s has no VNC graphics", virDomainGetName(dom));
        goto out;
    }
    xmlNodePtr g = o->nodesetval->nodeTab[0];
    char until[32];
    time_t t = time(NULL) + (time_t)seconds;
    struct tm tm;
    strftime(until, sizeof(until), "%Y-%m-%dT%H:%M:%S", gmtime_r(&t, &tm)); /* libvirt reads UTC */
    /* VNC authentication compares 8 characters, and libvirt refuses a
     * longer VNC password: the ticket's first 8 are what a client's full
     * ticket is checked against. */
    char pw[9];
    snprintf(pw, sizeof(pw), "%s", ticket);
    buf = xmlBufferCreate();
    if (!buf || !xmlSetProp(g, BAD_CAST "passwd", BAD_CAST pw) ||
        !xmlSetProp(g, BAD_CAST "passwdValidTo", BAD_CAST until) || xmlNodeDump(buf, doc, g, 0, 0) < 0) {
        vr_error_set(err, VR_ERR_INTERNAL, "cannot build the graphics XML of VM %s", virDomainGetName(dom));
        goto out;
    }
    if (virDomainUpdateDeviceFlags(dom, (const char *)xmlBufferContent(buf), VIR_DOMAIN_AFFECT_LIVE) < 0) {
        vr_libvirt_error(err, "cannot set the console ticket of VM %s", virDomainGetName(dom));
        goto out;
    }
    *result = json_pack("{s:s, s:I}", "valid_to", until, "seconds", (json_int_t)seconds);
    /* Where QEMU's VNC listens: an address on the display network is
     * where the engine's proxy connects (docs/networks.md "Roles"). */
    xmlChar *listen = xmlGetProp(g, BAD_CAST "listen"), *port = xmlGetProp(g, BAD_CAST "port");
    if (*result && listen && port && atoi((const char *)port) > 0) {
        json_object_set_new(*result, "listen", json_string((const char *)listen));
        json_object_set_new(*result, "port", json_integer(atoi((const char *)port)));
    }
    xmlFree(listen);
    xmlFree(port);
    rc = 0;
out:
    if (buf) /* holds the password: wiped before it is freed */
        memset(buf->content, 0, buf->use);
    explicit_bzero(pw, sizeof(pw));
    xmlBufferFree(buf);
    xmlXPathFreeObject(o);
    xmlXPathFreeContext(xc);
    xmlFreeDoc(doc);
    virResetLastError();
    virDomainFree(dom);
    return rc;
}

const vr_verb vr_vm_console_verbs[] = {
    {"VM.setTicket", vm_set_ticket},
    {NULL, NULL},
};
