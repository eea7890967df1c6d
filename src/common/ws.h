/* WebSocket (RFC 6455) framing for the console proxy: the engine's server
 * side and the CLI's client side. Only what a byte relay needs: binary
 * and text frames carry payload, ping/pong/close are control frames. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    VR_WS_CONT = 0x0,
    VR_WS_TEXT = 0x1,
    VR_WS_BINARY = 0x2,
    VR_WS_CLOSE = 0x8,
    VR_WS_PING = 0x9,
    VR_WS_PONG = 0xA,
};

/* Largest frame payload accepted from a peer. */
#define VR_WS_MAX_PAYLOAD (1 << 20)

/* Sec-WebSocket-Accept for a client's Sec-WebSocket-Key: base64 of the
 * SHA-1 of key + the RFC's GUID. out holds 29 bytes. Returns 0, or -1
 * when the key is not 24 characters of base64. */
int vr_ws_accept_key(const char *key, char out[29]);

/* Write a frame's header for a payload of len bytes into hdr (room for 14
 * bytes); masked (a client's frame) puts mask after the length and the
 * caller masks the payload with vr_ws_mask. Returns the header length. */
size_t vr_ws_header(uint8_t *hdr, int opcode, size_t len, bool masked, const uint8_t mask[4]);

/* XOR buf with mask, starting at payload offset off. */
void vr_ws_mask(uint8_t *buf, size_t len, const uint8_t mask[4], size_t off);

typedef struct vr_ws_frame {
    int opcode;
    bool fin, masked;
    const uint8_t *payload; /* unmasked in place */
    size_t len;
} vr_ws_frame;

/* Parse one frame at the start of buf[0..n): returns the bytes it takes
 * (its payload unmasked in buf), 0 when more bytes are needed, -1 when
 * the frame is malformed or larger than VR_WS_MAX_PAYLOAD. */
long vr_ws_parse(uint8_t *buf, size_t n, vr_ws_frame *f);
