/* Checksummed key=value metadata files kept on shared storage: a domain's
 * dom_md/metadata and each volume's .meta (docs/storage.md, "Metadata
 * files"). Another host, or another engine, reads them back, so a file is
 * believed only when its closing _SHA_CKSUM line matches every byte before
 * it; a torn or hand-edited file is reported, never half-used.
 *
 * A vr_md owns copies of its keys and values (vr_md_clear frees them).
 * Order is kept as inserted so rewritten files diff cleanly. */
#pragma once

#include <stddef.h>

#include "error.h"

#define VR_MD_MAX_KEYS 48
#define VR_MD_MAX_BYTES 4096 /* whole file, checksum line included */
#define VR_MD_CKSUM_KEY "_SHA_CKSUM"

typedef struct vr_md {
    int n;
    char *key[VR_MD_MAX_KEYS];
    char *val[VR_MD_MAX_KEYS];
} vr_md;

/* Value of key, or NULL. Borrowed from md. */
const char *vr_md_get(const vr_md *md, const char *key);

/* Set (add or replace) key to val. -EINVAL for a key outside [A-Z0-9_]+, a
 * value with control characters or invalid UTF-8; -E2BIG when full. */
int vr_md_set(vr_md *md, const char *key, const char *val);

/* Set key to a decimal integer. */
int vr_md_set_ll(vr_md *md, const char *key, long long v);

/* Integer value of key; -ENOENT if absent, -EINVAL if not a number. */
int vr_md_get_ll(const vr_md *md, const char *key, long long *out);

/* Free all keys and values; md is empty (and reusable) afterwards. */
void vr_md_clear(vr_md *md);

/* Parse buf (len bytes) into md (which must be empty). -EBADMSG when the
 * checksum line is missing or wrong, or a line is malformed; err says which
 * path (label) and why. */
int vr_md_parse(const char *buf, size_t len, const char *label, vr_md *md, vr_error *err);

/* Serialize md with its checksum line into a malloc'ed string (caller
 * frees); *len gets its length. -E2BIG above VR_MD_MAX_BYTES. */
int vr_md_format(const vr_md *md, char **out, size_t *len);

/* Read and verify path. -ENOENT if it does not exist, -EBADMSG if torn or
 * corrupt, other -errno on I/O failure; err names the path. */
int vr_md_read(const char *path, vr_md *md, vr_error *err);

/* Replace path atomically: write path.tmp, fsync, rename, fsync the
 * directory. A reader sees the old file or the new one, never a mix. */
int vr_md_write(const char *path, const vr_md *md, vr_error *err);
