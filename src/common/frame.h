/* Message framing for the agent protocol: each message is a 4-byte
 * big-endian payload length followed by that many bytes of UTF-8 JSON.
 * Length-prefixing lets the reader refuse an oversized message before
 * buffering it. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VR_FRAME_HEADER 4
#define VR_FRAME_DEFAULT_MAX (1024 * 1024)

/* A byte stream: read/write return bytes moved, 0 on EOF, negative errno. */
typedef struct vr_io {
    void *ctx;
    ssize_t (*read)(void *ctx, void *buf, size_t len);
    ssize_t (*write)(void *ctx, const void *buf, size_t len);
} vr_io;

/* Read one frame. On success *out is a NUL-terminated malloc'd buffer the
 * caller frees, *len its payload length. Idle time before a frame is
 * unlimited; once its first byte arrived the frame must be complete within
 * budget_s seconds (0 = no limit). Returns 0, -EPIPE on clean EOF at a
 * frame boundary, -EMSGSIZE if the announced length exceeds max (nothing of
 * the payload is read), -EBADMSG on a zero length, -ETIMEDOUT for a too
 * slow peer, other negative errno on I/O errors or EOF mid-frame
 * (-ECONNRESET). */
int vr_frame_read(const vr_io *io, size_t max, unsigned budget_s, char **out, size_t *len);

/* Write one frame (header + payload). Returns 0 or negative errno. */
int vr_frame_write(const vr_io *io, const char *buf, size_t len);

/* Encode/decode the header; exposed for tests and non-blocking readers. */
void vr_frame_encode_header(uint8_t hdr[VR_FRAME_HEADER], uint32_t len);
uint32_t vr_frame_decode_header(const uint8_t hdr[VR_FRAME_HEADER]);
