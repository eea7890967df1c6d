/* Base64 of the volume transfer chunks: RFC 4648 vectors, round trips of
 * every length around the padding cases, and refusal of what is not
 * canonical padded base64 (an agent must not write bytes it misread). */
#include <errno.h>
#include <stdlib.h>

#include "base64.h"
#include "check.h"

static void check_vectors(void)
{
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        char enc[16];
        unsigned char dec[16];
        CHECK(vr_base64_encode((const unsigned char *)in[i], strlen(in[i]), enc) == strlen(out[i]));
        CHECK(!strcmp(enc, out[i]));
        CHECK(vr_base64_len(strlen(in[i])) == strlen(out[i]));
        long n = vr_base64_decode(out[i], strlen(out[i]), dec);
        CHECK(n == (long)strlen(in[i]) && !memcmp(dec, in[i], (size_t)n));
    }
}

static void check_round_trips(void)
{
    unsigned char src[300], back[300];
    char enc[401];
    for (size_t i = 0; i < sizeof(src); i++)
        src[i] = (unsigned char)(i * 37 + 11);
    for (size_t n = 0; n <= sizeof(src); n++) {
        size_t e = vr_base64_encode(src, n, enc);
        CHECK(e == vr_base64_len(n) && enc[e] == '\0');
        CHECK(vr_base64_decode(enc, e, back) == (long)n && !memcmp(src, back, n));
    }
}

static void check_refusals(void)
{
    static const char *const bad[] = {"Zg=", "Zg", "Z===", "Zh==", "Zm9=", "Zg==Zg==", "Zm9v\n", "Zm 9",
                                      "Zm9v!A==", "=Zg=", "Zm=v"};
    unsigned char dec[16];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(vr_base64_decode(bad[i], strlen(bad[i]), dec) == -EINVAL);
}

int main(void)
{
    check_vectors();
    check_round_trips();
    check_refusals();
    return CHECK_DONE();
}
