/* vireo vm console NAME-or-ID (docs/cli.md): the VM's serial console in
 * the terminal, the way the portals reach it: a one-time ticket
 * (POST /api/vms/ID/ticket), then the engine's WebSocket proxy
 * (GET /api/vms/ID/console?ticket=T) over the same TLS settings as every
 * request (curl's connection, taken over after the handshake). The
 * terminal is raw meanwhile; Ctrl-] ends the session, as does the end of
 * standard input when it is not a terminal. */
#include "vm_console_cmd.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <gnutls/crypto.h>

#include "engine_cmd.h"
#include "base64.h"
#include "ws.h"

#define ESCAPE_KEY 0x1d /* Ctrl-] */

static int sock_wait(curl_socket_t fd, short events, int ms)
{
    struct pollfd p = {.fd = fd, .events = events};
    return poll(&p, 1, ms);
}

static int send_all(CURL *c, curl_socket_t fd, const void *buf, size_t len)
{
    for (size_t done = 0; done < len;) {
        size_t n = 0;
        CURLcode rc = curl_easy_send(c, (const char *)buf + done, len - done, &n);
        if (rc == CURLE_AGAIN) {
            if (sock_wait(fd, POLLOUT, 30000) <= 0)
                return -1;
            continue;
        }
        if (rc != CURLE_OK)
            return -1;
        done += n;
    }
    return 0;
}

/* One masked client frame. */
static int ws_send(CURL *c, curl_socket_t fd, int opcode, const void *data, size_t len)
{
    uint8_t hdr[14], mask[4], *buf = malloc(len ? len : 1);
    if (!buf || gnutls_rnd(GNUTLS_RND_NONCE, mask, sizeof(mask)) < 0) {
        free(buf);
        return -1;
    }
    memcpy(buf, data, len);
    vr_ws_mask(buf, len, mask, 0);
    size_t h = vr_ws_header(hdr, opcode, len, true, mask);
    int rc = send_all(c, fd, hdr, h) < 0 || send_all(c, fd, buf, len) < 0 ? -1 : 0;
    free(buf);
    return rc;
}

/* Read what is there (after poll said so): appended to buf; 0 at the end
 * of the connection, -1 on an error, else the bytes read. */
static long recv_some(CURL *c, uint8_t *buf, size_t *len, size_t cap)
{
    long total = 0;
    while (*len < cap) {
        size_t n = 0;
        CURLcode rc = curl_easy_recv(c, buf + *len, cap - *len, &n);
        if (rc == CURLE_AGAIN)
            break;
        if (rc != CURLE_OK)
            return -1;
        if (n == 0)
            return total ? total : 0;
        *len += n;
        total += (long)n;
    }
    return total ? total : -2; /* -2: nothing now */
}

/* The upgrade: request, then the answer's head; leftover bytes stay in buf. */
static int handshake(CURL *c, curl_socket_t fd, const vr_session *s, const char *url_path, uint8_t *buf,
                     size_t *len, size_t cap)
{
    unsigned char rnd[16];
    char key[25], accept[29], req[2048];
    const char *host = strstr(s->url, "://") ? strstr(s->url, "://") + 3 : s->url;
    if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd)) < 0)
        return 3;
    vr_base64_encode(rnd, sizeof(rnd), key);
    vr_ws_accept_key(key, accept);
    int n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer %s\r\n"
                     "User-Agent: vireo-cli/0.1\r\n\r\n",
                     url_path, host, key, s->token ? s->token : "");
    if (n < 0 || (size_t)n >= sizeof(req) || send_all(c, fd, req, (size_t)n) < 0) {
        fprintf(stderr, "vireo: cannot send the console request to %s\n", s->url);
        return 3;
    }
    explicit_bzero(req, sizeof(req));
    char *end = NULL;
    while (!end) {
        if (sock_wait(fd, POLLIN, 30000) <= 0) {
            fprintf(stderr, "vireo: no answer from %s to the console request\n", s->url);
            return 3;
        }
        long got = recv_some(c, buf, len, cap - 1);
        if (got == 0 || got == -1) {
            fprintf(stderr, "vireo: %s closed the connection\n", s->url);
            return 3;
        }
        buf[*len] = '\0';
        end = strstr((char *)buf, "\r\n\r\n");
    }
    size_t head = (size_t)(end - (char *)buf) + 4;
    int status = 0;
    sscanf((char *)buf, "HTTP/1.1 %d", &status);
    if (status != 101) {
        /* The fault's detail is the JSON body after the head. */
        json_t *j = json_loadb((char *)buf + head, *len - head, 0, NULL);
        const char *detail = json_string_value(json_object_get(json_object_get(j, "fault"), "detail"));
        fprintf(stderr, "vireo: HTTP %d: %s\n", status, detail ? detail : "the console was refused");
        json_decref(j);
        return status ? 1 : 3;
    }
    char want[64];
    snprintf(want, sizeof(want), "Sec-WebSocket-Accept: %s\r\n", accept);
    buf[head - 2] = '\0';
    if (!strcasestr((char *)buf, want)) {
        fprintf(stderr, "vireo: %s answered the console request with a wrong WebSocket accept key\n", s->url);
        return 3;
    }
    memmove(buf, buf + head, *len - head);
    *len -= head;
    return 0;
}

/* Frames from the engine: payload to stdout. Returns 1 to go on, 0 at a
 * close frame, -1 on a protocol error. */
static int drain_frames(CURL *c, curl_socket_t fd, uint8_t *buf, size_t *len)
{
    size_t at = 0;
    int go = 1;
    while (go == 1) {
        vr_ws_frame f;
        long n = vr_ws_parse(buf + at, *len - at, &f);
        if (n == 0)
            break;
        if (n < 0)
            return -1;
        at += (size_t)n;
        if (f.opcode <= VR_WS_BINARY) {
            for (size_t done = 0; done < f.len;) {
                ssize_t w = write(STDOUT_FILENO, f.payload + done, f.len - done);
                if (w < 0 && errno == EINTR)
                    continue;
                if (w <= 0)
                    return -1;
                done += (size_t)w;
            }
        } else if (f.opcode == VR_WS_PING) {
            ws_send(c, fd, VR_WS_PONG, f.payload, f.len);
        } else if (f.opcode == VR_WS_CLOSE) {
            if (f.len > 2)
                fprintf(stderr, "\r\nvireo: %.*s\r\n", (int)(f.len - 2), (const char *)f.payload + 2);
            go = 0;
        }
    }
    memmove(buf, buf + at, *len - at);
    *len -= at;
    return go;
}

static int relay(CURL *c, curl_socket_t fd, uint8_t *buf, size_t *len, size_t cap, bool tty)
{
    int go = drain_frames(c, fd, buf, len);
    bool input = true;
    struct timespec closing = {0};
    while (go == 1) {
        struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = STDIN_FILENO, .events = input ? POLLIN : 0}};
        if (poll(p, 2, input ? -1 : 200) < 0) {
            if (errno == EINTR)
                continue;
            return 3;
        }
        if (!input) { /* input ended: a moment for the last output, then out */
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (now.tv_sec - closing.tv_sec >= 2)
                break;
        }
        if (p[1].revents & (POLLIN | POLLHUP)) {
            char in[4096];
            ssize_t n = read(STDIN_FILENO, in, sizeof(in));
            char *esc = tty && n > 0 ? memchr(in, ESCAPE_KEY, (size_t)n) : NULL;
            if (esc)
                n = esc - in;
            if (n > 0 && ws_send(c, fd, VR_WS_BINARY, in, (size_t)n) < 0)
                return 3;
            if (esc || n == 0 || (n < 0 && errno != EINTR)) {
                ws_send(c, fd, VR_WS_CLOSE, "\x03\xe8", 2); /* 1000: done */
                if (esc)
                    break;
                input = false;
                clock_gettime(CLOCK_MONOTONIC, &closing);
            }
        }
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            long got = recv_some(c, buf, len, cap);
            if (got == 0)
                break;
            if (got == -1) {
                fprintf(stderr, "\r\nvireo: the console connection failed\r\n");
                return 3;
            }
            if ((go = drain_frames(c, fd, buf, len)) < 0) {
                fprintf(stderr, "\r\nvireo: the engine sent a malformed WebSocket frame\r\n");
                return 3;
            }
        }
    }
    return 0;
}

static int console(const vr_session *s, const char *ref)
{
    char *id = NULL;
    int rc = vr_resolve(s, vr_kind_find("vm"), ref, &id);
    if (rc)
        return rc;
    char path[128];
    snprintf(path, sizeof(path), "/api/vms/%s/ticket", id);
    free(id);
    vr_response r;
    json_t *body = json_pack("{s:s}", "console", "serial");
    rc = vr_http(s, "POST", path, body, 0, &r);
    json_decref(body);
    const char *url_path = json_string_value(json_object_get(r.json, "url"));
    if (rc || !url_path) {
        vr_response_free(&r);
        return rc ? rc : 3;
    }
    size_t cap = VR_WS_MAX_PAYLOAD + 64, len = 0;
    uint8_t *buf = malloc(cap);
    CURL *c = curl_easy_init();
    curl_socket_t fd = CURL_SOCKET_BAD;
    if (!buf || !c) {
        rc = 3;
        goto out;
    }
    vr_http_secure(c, s, s->url);
    curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
    CURLcode cr = curl_easy_perform(c);
    if (cr != CURLE_OK || curl_easy_getinfo(c, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK || fd == CURL_SOCKET_BAD) {
        fprintf(stderr, "vireo: cannot reach %s: %s\n", s->url, curl_easy_strerror(cr));
        rc = 3;
        goto out;
    }
    if ((rc = handshake(c, fd, s, url_path, buf, &len, cap)) != 0)
        goto out;
    bool tty = isatty(STDIN_FILENO);
    struct termios saved, raw;
    if (tty && tcgetattr(STDIN_FILENO, &saved) == 0) {
        fprintf(stderr, "Connected to the serial console of VM %s (Ctrl-] ends it)\r\n", ref);
        raw = saved;
        cfmakeraw(&raw);
        tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    } else {
        tty = false;
    }
    rc = relay(c, fd, buf, &len, cap, tty);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        fprintf(stderr, "\nDisconnected from VM %s\n", ref);
    }
out:
    vr_response_free(&r);
    if (c)
        curl_easy_cleanup(c);
    free(buf);
    return rc;
}

int vr_vm_console_cmd(int argc, char **argv)
{
    args a;
    int rc = vr_parse_args(argc, argv, 2, 0, NULL, 0, "NAME-or-ID", &a);
    if (rc) {
        FILE *f = rc < 0 ? stdout : stderr;
        fprintf(f, "usage: vireo vm console NAME-or-ID\n"
                   "  the VM's serial console in this terminal (a one-time ticket, then the engine's\n"
                   "  WebSocket proxy); Ctrl-] ends it, as does the end of input when it is not a terminal\n");
        return rc < 0 ? 0 : rc;
    }
    vr_session s;
    if ((rc = vr_session_load(&s, 0)) == 0)
        rc = console(&s, a.pos[0]);
    vr_session_clear(&s);
    return rc;
}
