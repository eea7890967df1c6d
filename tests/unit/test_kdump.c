/* The fence_kdump message (src/engine/jobs/kdump.c): what fence-agents'
 * fence_kdump_send sends is taken, anything else is not. Pure. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "kdump.h"

int main(void)
{
    vr_error err = {0};
    uint32_t msg[2] = {VR_KDUMP_MAGIC, VR_KDUMP_VERSION}; /* fence_kdump_send: host byte order */
    CHECK(vr_kdump_parse(msg, sizeof(msg), &err) == 0);
    uint32_t swapped[2] = {__builtin_bswap32(VR_KDUMP_MAGIC), __builtin_bswap32(VR_KDUMP_VERSION)};
    CHECK(vr_kdump_parse(swapped, sizeof(swapped), &err) == 0);
    uint32_t bad_magic[2] = {0x1B302A41u, 1};
    CHECK(vr_kdump_parse(bad_magic, sizeof(bad_magic), &err) < 0);
    CHECK_STR_CONTAINS(err.message, "bad magic number 0x1b302a41");
    vr_error_clear(&err);
    uint32_t v2[2] = {VR_KDUMP_MAGIC, 2};
    CHECK(vr_kdump_parse(v2, sizeof(v2), &err) < 0);
    CHECK_STR_CONTAINS(err.message, "unknown message version 2");
    vr_error_clear(&err);
    unsigned char longer[12] = {0};
    memcpy(longer, msg, sizeof(msg));
    CHECK(vr_kdump_parse(longer, sizeof(longer), &err) < 0);
    CHECK_STR_CONTAINS(err.message, "12 bytes");
    vr_error_clear(&err);
    CHECK(vr_kdump_parse(msg, 4, &err) < 0);
    return CHECK_DONE();
}
