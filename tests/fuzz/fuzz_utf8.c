/* UTF-8 hygiene (src/common/utf8.c) on arbitrary bytes: validity agrees
 * with jansson's own validator, and sanitized, fitted and formatted text is
 * always valid, bounded and NUL-terminated. Input: one byte choosing the
 * buffer size, then the text. */
#include <string.h>

#include "error.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t cap = 1 + data[0] % 64;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    bool valid = vr_utf8_valid(text, len);
    if (!memchr(text, '\0', len)) {
        json_t *j = json_stringn(text, len); /* jansson accepts only valid UTF-8 */
        FUZZ_ASSERT((j != NULL) == valid);
        json_decref(j);
    }
    char out[64 + 1];
    memset(out, 'Z', sizeof(out));
    size_t need = vr_utf8_sanitize(out, cap, text, len);
    size_t got = strnlen(out, cap);
    FUZZ_ASSERT(got < cap && vr_utf8_valid(out, got));
    FUZZ_ASSERT(need >= cap || got == need);
    if (valid && len < cap)
        FUZZ_ASSERT(got == len && memcmp(out, text, len) == 0);
    memset(out, 'Z', sizeof(out));
    size_t fit = vr_utf8_fit(out, cap, text, len);
    FUZZ_ASSERT(fit == strnlen(out, cap) && fit < cap && vr_utf8_valid(out, fit));
    /* The way error messages are made. */
    char *z = strndup(text, len);
    FUZZ_ASSERT(z != NULL);
    vr_error err;
    vr_error_set(&err, VR_ERR_INVALID_PARAMS, "params.%s: unknown member '%s'", z, z);
    vr_fuzz_check_message(err.message, sizeof(err.message));
    json_t *j = json_string(err.message);
    FUZZ_ASSERT(j != NULL);
    json_decref(j);
    free(z);
    return 0;
}
