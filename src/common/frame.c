#include "frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void vr_frame_encode_header(uint8_t hdr[VR_FRAME_HEADER], uint32_t len)
{
    hdr[0] = (uint8_t)(len >> 24);
    hdr[1] = (uint8_t)(len >> 16);
    hdr[2] = (uint8_t)(len >> 8);
    hdr[3] = (uint8_t)len;
}

uint32_t vr_frame_decode_header(const uint8_t hdr[VR_FRAME_HEADER])
{
    return ((uint32_t)hdr[0] << 24) | ((uint32_t)hdr[1] << 16) |
           ((uint32_t)hdr[2] << 8) | (uint32_t)hdr[3];
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Read exactly len bytes. -EAGAIN from the io (a read timeout) is waited
 * through while idle_ok and nothing has arrived yet; once a frame has begun
 * (*start set) it must be complete within budget_s seconds, so a peer
 * trickling bytes cannot pin a connection. Returns 0, or -EPIPE if EOF came
 * before the first byte, -ECONNRESET if EOF came after some bytes,
 * -ETIMEDOUT for a too slow peer, or the io's error. */
static int read_full(const vr_io *io, void *buf, size_t len, int idle_ok, double *start,
                     unsigned budget_s)
{
    size_t got = 0;
    while (got < len) {
        if (*start > 0 && budget_s && now_s() - *start > budget_s)
            return -ETIMEDOUT;
        ssize_t n = io->read(io->ctx, (char *)buf + got, len - got);
        if (n == -EAGAIN)
            continue;
        if (n == 0)
            return got == 0 && idle_ok ? -EPIPE : -ECONNRESET;
        if (n < 0)
            return (int)n;
        if (*start == 0)
            *start = now_s();
        got += (size_t)n;
    }
    return 0;
}

int vr_frame_read(const vr_io *io, size_t max, unsigned budget_s, char **out, size_t *len)
{
    uint8_t hdr[VR_FRAME_HEADER];
    double start = 0;
    int rc = read_full(io, hdr, sizeof(hdr), 1, &start, budget_s);
    if (rc < 0)
        return rc;
    uint32_t n = vr_frame_decode_header(hdr);
    if (n == 0)
        return -EBADMSG;
    if (n > max)
        return -EMSGSIZE;
    char *buf = malloc((size_t)n + 1);
    if (!buf)
        return -ENOMEM;
    rc = read_full(io, buf, n, 0, &start, budget_s);
    if (rc < 0) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

int vr_frame_write(const vr_io *io, const char *buf, size_t len)
{
    if (len == 0 || len > UINT32_MAX)
        return -EINVAL;
    /* One buffer so header and payload leave in a single TLS record. */
    char *msg = malloc(len + VR_FRAME_HEADER);
    if (!msg)
        return -ENOMEM;
    vr_frame_encode_header((uint8_t *)msg, (uint32_t)len);
    memcpy(msg + VR_FRAME_HEADER, buf, len);
    size_t total = len + VR_FRAME_HEADER, done = 0;
    int rc = 0;
    while (done < total) {
        ssize_t n = io->write(io->ctx, msg + done, total - done);
        if (n <= 0) {
            rc = n < 0 ? (int)n : -EPIPE;
            break;
        }
        done += (size_t)n;
    }
    free(msg);
    return rc;
}
