#include "frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

/* A frame, once begun, must arrive within this many read timeouts: a peer
 * trickling bytes cannot pin a connection forever. */
#define SLOW_READS_MAX 3

/* Read exactly len bytes. -EAGAIN from the io (a read timeout) is waited
 * through only while idle_ok and nothing has arrived yet. Returns 0, or
 * -EPIPE if EOF came before the first byte, -ECONNRESET if EOF came after
 * some bytes, -ETIMEDOUT for a too slow peer, or the io's error. */
static int read_full(const vr_io *io, void *buf, size_t len, int idle_ok)
{
    size_t got = 0;
    int slow = 0;
    while (got < len) {
        ssize_t n = io->read(io->ctx, (char *)buf + got, len - got);
        if (n == -EAGAIN) {
            if (idle_ok && got == 0)
                continue;
            if (++slow >= SLOW_READS_MAX)
                return -ETIMEDOUT;
            continue;
        }
        if (n == 0)
            return got == 0 ? -EPIPE : -ECONNRESET;
        if (n < 0)
            return (int)n;
        got += (size_t)n;
    }
    return 0;
}

int vr_frame_read(const vr_io *io, size_t max, char **out, size_t *len)
{
    uint8_t hdr[VR_FRAME_HEADER];
    int rc = read_full(io, hdr, sizeof(hdr), 1);
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
    rc = read_full(io, buf, n, 0);
    if (rc < 0) {
        free(buf);
        return rc == -EPIPE ? -ECONNRESET : rc;
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
