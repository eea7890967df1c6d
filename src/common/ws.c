#include "ws.h"

#include <string.h>
#include <gnutls/crypto.h>

#include "base64.h"

int vr_ws_accept_key(const char *key, char out[29])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    unsigned char raw[16], digest[20];
    char cat[24 + sizeof(guid)];
    /* The key is the base64 of 16 random bytes: exactly 24 characters. */
    if (!key || strlen(key) != 24 || vr_base64_decode(key, 24, raw) != 16)
        return -1;
    memcpy(cat, key, 24);
    memcpy(cat + 24, guid, sizeof(guid));
    if (gnutls_hash_fast(GNUTLS_DIG_SHA1, cat, strlen(cat), digest) < 0)
        return -1;
    vr_base64_encode(digest, sizeof(digest), out);
    return 0;
}

size_t vr_ws_header(uint8_t *hdr, int opcode, size_t len, bool masked, const uint8_t mask[4])
{
    size_t n = 0;
    hdr[n++] = (uint8_t)(0x80 | (opcode & 0x0f));
    uint8_t m = masked ? 0x80 : 0;
    if (len < 126) {
        hdr[n++] = (uint8_t)(m | len);
    } else if (len <= 0xffff) {
        hdr[n++] = m | 126;
        hdr[n++] = (uint8_t)(len >> 8);
        hdr[n++] = (uint8_t)len;
    } else {
        hdr[n++] = m | 127;
        for (int i = 7; i >= 0; i--)
            hdr[n++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    if (masked) {
        memcpy(hdr + n, mask, 4);
        n += 4;
    }
    return n;
}

void vr_ws_mask(uint8_t *buf, size_t len, const uint8_t mask[4], size_t off)
{
    for (size_t i = 0; i < len; i++)
        buf[i] ^= mask[(off + i) & 3];
}

long vr_ws_parse(uint8_t *buf, size_t n, vr_ws_frame *f)
{
    if (n < 2)
        return 0;
    f->fin = buf[0] & 0x80;
    f->opcode = buf[0] & 0x0f;
    f->masked = buf[1] & 0x80;
    if (buf[0] & 0x70) /* no extension was negotiated */
        return -1;
    uint64_t len = buf[1] & 0x7f;
    size_t at = 2;
    if (len == 126) {
        if (n < 4)
            return 0;
        len = (uint64_t)buf[2] << 8 | buf[3];
        at = 4;
    } else if (len == 127) {
        if (n < 10)
            return 0;
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | buf[2 + i];
        at = 10;
    }
    if (len > VR_WS_MAX_PAYLOAD || (f->opcode >= 0x8 && (len > 125 || !f->fin)))
        return -1;
    uint8_t mask[4] = {0};
    if (f->masked) {
        if (n < at + 4)
            return 0;
        memcpy(mask, buf + at, 4);
        at += 4;
    }
    if (n < at + len)
        return 0;
    if (f->masked)
        vr_ws_mask(buf + at, (size_t)len, mask, 0);
    f->payload = buf + at;
    f->len = (size_t)len;
    return (long)(at + len);
}
