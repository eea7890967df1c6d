/* Valid, bounded UTF-8 for text that leaves the process: error messages,
 * JSON-RPC replies, HTTP faults, events, log lines.
 *
 * Jansson refuses a string that is not valid UTF-8, so a message cut by
 * snprintf in the middle of a multi-byte character, or one quoting raw
 * bytes from a client, used to make its whole reply disappear. Everything
 * here writes valid UTF-8 (without NUL bytes) that fits its buffer. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* U+FFFD, which stands in for every invalid sequence. */
#define VR_UTF8_REPLACEMENT "\xEF\xBF\xBD"

/* True if s[0..len) is valid UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF) without NUL bytes. */
bool vr_utf8_valid(const char *s, size_t len);

/* Copy src[0..len) to dst (size bytes; NUL-terminated whenever size > 0),
 * replacing each invalid or incomplete sequence (its maximal subpart, as
 * Unicode 3.9 says) and each NUL byte by U+FFFD. A character that does not
 * fit is left out whole, never cut. Returns the length the whole sanitized
 * text needs (NUL excluded), like snprintf: a result >= size means dst
 * holds only its beginning. */
size_t vr_utf8_sanitize(char *dst, size_t size, const char *src, size_t len);

/* Like vr_utf8_sanitize, but a text too long for dst loses its middle,
 * replaced by "...", so that both its start (which names the object) and
 * its end (usually the reason: libvirt's message, errno text) survive.
 * Returns the length written (NUL excluded). */
size_t vr_utf8_fit(char *dst, size_t size, const char *src, size_t len);

/* printf into dst through vr_utf8_fit. Returns the length written. */
size_t vr_utf8_vformat(char *dst, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
size_t vr_utf8_format(char *dst, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
