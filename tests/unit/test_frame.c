/* Framing: round trips, the size limit, EOF handling, slow peers. */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "frame.h"

typedef struct {
    char buf[4096];
    size_t len, pos;
    size_t stall_at; /* from this offset on every read times out; 0 = never */
} mem;

static ssize_t mem_read(void *ctx, void *out, size_t n)
{
    mem *m = ctx;
    if (m->stall_at && m->pos >= m->stall_at)
        return -EAGAIN;
    size_t left = m->len - m->pos;
    if (n > left)
        n = left;
    if (n > 3)
        n = 3; /* dribble: frames must survive short reads */
    memcpy(out, m->buf + m->pos, n);
    m->pos += n;
    return (ssize_t)n;
}

static ssize_t mem_write(void *ctx, const void *in, size_t n)
{
    mem *m = ctx;
    if (m->len + n > sizeof(m->buf))
        return -ENOSPC;
    memcpy(m->buf + m->len, in, n);
    m->len += n;
    return (ssize_t)n;
}

int main(void)
{
    mem m = {0};
    vr_io io = {.ctx = &m, .read = mem_read, .write = mem_write};
    CHECK(vr_frame_write(&io, "{\"a\":1}", 7) == 0);
    CHECK(vr_frame_write(&io, "[]", 2) == 0);
    CHECK(m.len == 4 + 7 + 4 + 2);
    char *out;
    size_t len;
    CHECK(vr_frame_read(&io, 100, 0, &out, &len) == 0 && len == 7 && !strcmp(out, "{\"a\":1}"));
    free(out);
    CHECK(vr_frame_read(&io, 100, 0, &out, &len) == 0 && len == 2 && !strcmp(out, "[]"));
    free(out);
    CHECK(vr_frame_read(&io, 100, 0, &out, &len) == -EPIPE); /* clean EOF */

    /* Oversized: refused from the header alone. */
    mem big = {0};
    io.ctx = &big;
    vr_frame_encode_header((uint8_t *)big.buf, 5000);
    big.len = 4;
    CHECK(vr_frame_read(&io, 4096, 0, &out, &len) == -EMSGSIZE);
    CHECK(vr_frame_decode_header((uint8_t *)big.buf) == 5000);

    /* Zero length and EOF mid-frame. */
    mem z = {.len = 4};
    io.ctx = &z;
    CHECK(vr_frame_read(&io, 100, 0, &out, &len) == -EBADMSG);
    mem t = {0};
    io.ctx = &t;
    vr_frame_encode_header((uint8_t *)t.buf, 10);
    memcpy(t.buf + 4, "abc", 3);
    t.len = 7;
    CHECK(vr_frame_read(&io, 100, 0, &out, &len) == -ECONNRESET);

    /* Idle timeouts between frames are fine; repeated ones mid-frame are not. */
    mem stall = {.stall_at = 6};
    io.ctx = &stall;
    vr_frame_write(&io, "hello", 5);
    CHECK(vr_frame_read(&io, 100, 1, &out, &len) == -ETIMEDOUT);
    mem idle2 = {0};
    io.ctx = &idle2;
    vr_frame_write(&io, "hi", 2);
    CHECK(vr_frame_read(&io, 100, 0, &out, &len) == 0 && len == 2);
    free(out);
    CHECK(vr_frame_write(&io, "", 0) == -EINVAL);
    return CHECK_DONE();
}
