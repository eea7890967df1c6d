/* Base64 (RFC 4648, standard alphabet, padded) for byte payloads carried in
 * JSON-RPC strings: disk image chunks between the engine and the agents
 * (Volume.write / Volume.read). */
#pragma once

#include <stddef.h>

/* Length of the encoding of n bytes (without a NUL). */
size_t vr_base64_len(size_t n);

/* Encode in[0..n) into out, which holds vr_base64_len(n) + 1 bytes;
 * NUL-terminated. Returns the encoded length. */
size_t vr_base64_encode(const unsigned char *in, size_t n, char *out);

/* Decode s[0..len) into out (room for len / 4 * 3 bytes). Returns the
 * number of bytes, or -EINVAL when s is not canonical padded base64. */
long vr_base64_decode(const char *s, size_t len, unsigned char *out);
