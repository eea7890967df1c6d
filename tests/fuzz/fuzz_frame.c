/* Frame decoding (src/common/frame.c): the first bytes of every agent
 * connection, straight from the network. Input: one control byte (read
 * chunk size, when the stream reports a timeout, the size limit), then the
 * byte stream. Every frame read must be exactly what the stream held, and
 * written back it must read the same. */
#include <errno.h>
#include <string.h>

#include "frame.h"
#include "fuzz.h"

typedef struct stream {
    const uint8_t *data;
    size_t len, pos;
    size_t chunk;   /* at most this many bytes per read */
    unsigned every; /* every Nth read times out once (-EAGAIN); 0 = never */
    unsigned reads;
    uint8_t *out; /* for writes */
    size_t out_len, out_cap;
} stream;

static ssize_t s_read(void *ctx, void *buf, size_t n)
{
    stream *s = ctx;
    if (s->every && ++s->reads % s->every == 0)
        return -EAGAIN; /* a read timeout: idle, or a slow peer */
    size_t left = s->len - s->pos;
    if (n > left)
        n = left;
    if (n > s->chunk)
        n = s->chunk;
    memcpy(buf, s->data + s->pos, n);
    s->pos += n;
    return (ssize_t)n;
}

static ssize_t s_write(void *ctx, const void *buf, size_t n)
{
    stream *s = ctx;
    if (n > s->chunk)
        n = s->chunk; /* short writes must be continued */
    if (s->out_len + n > s->out_cap)
        return -ENOSPC;
    memcpy(s->out + s->out_len, buf, n);
    s->out_len += n;
    return (ssize_t)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t ctl = data[0];
    stream s = {.data = data + 1, .len = size - 1, .chunk = 1 + (ctl & 7) * 3,
                .every = (ctl >> 3) & 3 ? 2 + ((ctl >> 3) & 3) : 0};
    size_t max = (ctl & 0x80) ? 64 : VR_FRAME_DEFAULT_MAX;
    vr_io io = {.ctx = &s, .read = s_read, .write = s_write};
    for (;;) {
        size_t start = s.pos;
        char *buf = NULL;
        size_t len = 0;
        int rc = vr_frame_read(&io, max, 0, &buf, &len);
        if (rc < 0) {
            FUZZ_ASSERT(buf == NULL);
            FUZZ_ASSERT(rc == -EPIPE || rc == -ECONNRESET || rc == -EMSGSIZE || rc == -EBADMSG);
            FUZZ_ASSERT(rc != -EPIPE || start == s.len);
            break;
        }
        FUZZ_ASSERT(len > 0 && len <= max && buf[len] == '\0');
        FUZZ_ASSERT(s.pos == start + VR_FRAME_HEADER + len);
        FUZZ_ASSERT(vr_frame_decode_header(s.data + start) == len);
        FUZZ_ASSERT(memcmp(buf, s.data + start + VR_FRAME_HEADER, len) == 0);
        /* Round trip through the writer, with short writes. */
        stream w = {.chunk = s.chunk, .out = malloc(len + VR_FRAME_HEADER),
                    .out_cap = len + VR_FRAME_HEADER};
        vr_io wio = {.ctx = &w, .read = s_read, .write = s_write};
        FUZZ_ASSERT(w.out && vr_frame_write(&wio, buf, len) == 0);
        FUZZ_ASSERT(w.out_len == len + VR_FRAME_HEADER);
        FUZZ_ASSERT(memcmp(w.out, s.data + start, w.out_len) == 0);
        free(w.out);
        free(buf);
    }
    return 0;
}
