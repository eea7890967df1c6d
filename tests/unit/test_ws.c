/* WebSocket framing of the console proxy (src/common/ws.c): RFC 6455's
 * accept-key example, frames written and parsed back at each length
 * encoding, masking, incomplete input, and refusal of what a peer must not
 * send (reserved bits, oversized or fragmented control frames). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ws.h"

static void check_accept_key(void)
{
    char out[29];
    CHECK(vr_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out) == 0); /* RFC 6455, 1.3 */
    CHECK(!strcmp(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    CHECK(vr_ws_accept_key("short", out) == -1);
    CHECK(vr_ws_accept_key(NULL, out) == -1);
    CHECK(vr_ws_accept_key("!!!!!!!!!!!!!!!!!!!!!!!!", out) == -1);
}

static void check_round_trip(size_t len, bool masked)
{
    static const uint8_t mask[4] = {0x12, 0x34, 0x56, 0x78};
    uint8_t *frame = malloc(len + 14), *payload = malloc(len + 1);
    for (size_t i = 0; i < len; i++)
        payload[i] = (uint8_t)(i * 7 + 3);
    size_t h = vr_ws_header(frame, VR_WS_BINARY, len, masked, mask);
    CHECK(h == 2u + (len >= 126 ? (len > 0xffff ? 8u : 2u) : 0u) + (masked ? 4u : 0u));
    memcpy(frame + h, payload, len);
    if (masked)
        vr_ws_mask(frame + h, len, mask, 0);
    vr_ws_frame f;
    CHECK(vr_ws_parse(frame, h + len - (len ? 1 : 0), &f) == (len ? 0 : (long)h)); /* one byte short */
    CHECK(vr_ws_parse(frame, h + len, &f) == (long)(h + len));
    CHECK(f.opcode == VR_WS_BINARY && f.fin && f.masked == masked && f.len == len);
    CHECK(!memcmp(f.payload, payload, len));
    free(frame);
    free(payload);
}

static void check_refusals(void)
{
    uint8_t rsv[] = {0xC2, 0x00};           /* RSV1 set */
    uint8_t big_ping[] = {0x89, 126, 0, 200}; /* a control frame over 125 bytes */
    uint8_t frag_close[] = {0x08, 0x00};    /* a control frame without FIN */
    uint8_t huge[10] = {0x82, 127, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff};
    vr_ws_frame f;
    CHECK(vr_ws_parse(rsv, sizeof(rsv), &f) == -1);
    CHECK(vr_ws_parse(big_ping, sizeof(big_ping), &f) == -1);
    CHECK(vr_ws_parse(frag_close, sizeof(frag_close), &f) == -1);
    CHECK(vr_ws_parse(huge, sizeof(huge), &f) == -1);
    CHECK(vr_ws_parse(huge, 1, &f) == 0);
}

int main(void)
{
    check_accept_key();
    size_t lens[] = {0, 1, 125, 126, 65535, 65536, 100000};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        check_round_trip(lens[i], false);
        check_round_trip(lens[i], true);
    }
    check_refusals();
    return CHECK_DONE();
}
