#include "utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* At s (len > 0 bytes left): n > 0 for a valid character of n bytes, or
 * -n for the n bytes of an invalid or incomplete sequence that one U+FFFD
 * replaces. Ranges from RFC 3629's table, which also excludes overlong
 * forms (C0, C1, E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and code
 * points above U+10FFFF (F4 90.., F5..FF). */
static int scan(const unsigned char *s, size_t len)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    int need;
    if (c >= 0x01 && c <= 0x7F)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return -1; /* NUL, a stray continuation byte, or a byte never used */
    }
    for (int i = 1; i <= need; i++) {
        if ((size_t)i >= len || s[i] < lo || s[i] > hi)
            return -i;
        lo = 0x80;
        hi = 0xBF;
    }
    return need + 1;
}

bool vr_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        int n = scan(p + i, len - i);
        if (n < 0)
            return false;
        i += (size_t)n;
    }
    return true;
}

size_t vr_utf8_sanitize(char *dst, size_t size, const char *src, size_t len)
{
    const unsigned char *p = (const unsigned char *)src;
    size_t need = 0, out = 0;
    bool full = size == 0;
    for (size_t i = 0; i < len;) {
        int n = scan(p + i, len - i);
        const char *piece = n > 0 ? src + i : VR_UTF8_REPLACEMENT;
        size_t plen = n > 0 ? (size_t)n : sizeof(VR_UTF8_REPLACEMENT) - 1;
        i += (size_t)(n > 0 ? n : -n);
        /* Once one character is left out, so is everything after it: a
         * shorter later one must not close the gap. */
        if (!full && out + plen < size) {
            memcpy(dst + out, piece, plen);
            out += plen;
        } else {
            full = true;
        }
        need += plen;
    }
    if (size)
        dst[out] = '\0';
    return need;
}

#define ELLIPSIS "..."

size_t vr_utf8_fit(char *dst, size_t size, const char *src, size_t len)
{
    if (size == 0)
        return 0;
    size_t need = vr_utf8_sanitize(dst, size, src, len);
    if (need < size)
        return need;
    size_t room = size - 1;
    /* Too small to show both ends usefully: keep the start. */
    if (room < 4 * (sizeof(ELLIPSIS) - 1) + 8)
        return strlen(dst);
    char *all = malloc(need + 1);
    if (!all)
        return strlen(dst); /* out of memory: the start is still valid text */
    vr_utf8_sanitize(all, need + 1, src, len);
    size_t keep = room - (sizeof(ELLIPSIS) - 1);
    size_t head = keep / 2, tail_start = need - (keep - head);
    /* Cut only where a character starts (not on a continuation byte). */
    while (head > 0 && ((unsigned char)all[head] & 0xC0) == 0x80)
        head--;
    while (tail_start < need && ((unsigned char)all[tail_start] & 0xC0) == 0x80)
        tail_start++;
    size_t out = 0;
    memcpy(dst, all, head);
    out += head;
    memcpy(dst + out, ELLIPSIS, sizeof(ELLIPSIS) - 1);
    out += sizeof(ELLIPSIS) - 1;
    memcpy(dst + out, all + tail_start, need - tail_start);
    out += need - tail_start;
    dst[out] = '\0';
    free(all);
    return out;
}

size_t vr_utf8_vformat(char *dst, size_t size, const char *fmt, va_list ap)
{
    char small[1024];
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    size_t written;
    if (n < 0) {
        written = vr_utf8_fit(dst, size, "(message could not be formatted)", 32);
    } else if ((size_t)n < sizeof(small)) {
        written = vr_utf8_fit(dst, size, small, (size_t)n);
    } else {
        /* Format it whole so vr_utf8_fit can keep its end. */
        char *big = malloc((size_t)n + 1);
        if (big && vsnprintf(big, (size_t)n + 1, fmt, again) == n)
            written = vr_utf8_fit(dst, size, big, (size_t)n);
        else /* out of memory: the start; a character cut there becomes U+FFFD */
            written = vr_utf8_fit(dst, size, small, sizeof(small) - 1);
        free(big);
    }
    va_end(again);
    return written;
}

size_t vr_utf8_format(char *dst, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = vr_utf8_vformat(dst, size, fmt, ap);
    va_end(ap);
    return n;
}
