/* The qcow2 overlay header (qcow2hdr.h). The layout is qemu-img's own for
 * an empty image (checked against qemu-img info and check by
 * tests/unit/test_volume.c):
 *   cluster 0: header, the backing format extension, the backing file name
 *   cluster 1: refcount table, one entry: cluster 2
 *   cluster 2: refcount block, a 16-bit count of 1 for each used cluster
 *   cluster 3..: L1 table, all zero (nothing allocated: every read falls
 *                through to the backing file)
 * Only the non-zero bytes are written; the rest are holes, read as zeros. */
#include "qcow2hdr.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define CLUSTER_BITS 16
#define CLUSTER ((int64_t)1 << CLUSTER_BITS)
#define L2_COVERS (CLUSTER * (CLUSTER / 8)) /* bytes one L1 entry maps: 512 MiB */
#define MAX_SIZE (64LL << 40)                /* the agent's volume limit */
#define HEADER_LEN 112                       /* version 3 with the compression type byte */
#define EXT_BACKING_FORMAT 0xE2792ACAu

static void be32(uint8_t *p, uint32_t v)
{
    v = htobe32(v);
    memcpy(p, &v, 4);
}

static void be64(uint8_t *p, uint64_t v)
{
    v = htobe64(v);
    memcpy(p, &v, 8);
}

static int pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = pwrite(fd, p, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        p += n, len -= (size_t)n, off += n;
    }
    return 0;
}

int vr_qcow2_create_overlay(const char *path, const char *backing, const char *backing_fmt,
                            long long size, vr_error *err)
{
    size_t blen = strlen(backing), flen = strlen(backing_fmt);
    if (size <= 0 || size > MAX_SIZE || size % 512)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                            "cannot create overlay %s: size %lld must be a multiple of 512 bytes,"
                            " above 0 and at most 64 TiB", path, size);
    if (!blen || blen > 1023 || (strcmp(backing_fmt, "raw") && strcmp(backing_fmt, "qcow2")))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                            "cannot create overlay %s: backing file '%s' of format '%s' refused", path,
                            backing, backing_fmt);
    uint64_t l1_size = (uint64_t)((size + L2_COVERS - 1) / L2_COVERS);
    uint64_t l1_clusters = (l1_size * 8 + CLUSTER - 1) / CLUSTER, used = 3 + l1_clusters;
    uint8_t hdr[HEADER_LEN + 8 + 8 + 8 + 1024] = {0}, rt[8], rb[2 * 32] = {0};
    memcpy(hdr, "QFI\xfb", 4);
    be32(hdr + 4, 3);                               /* version */
    size_t ext = HEADER_LEN, name_at = ext + 8 + 8 + 8; /* format extension (8 + "raw"/"qcow2" padded), end */
    be64(hdr + 8, name_at);                          /* backing_file_offset */
    be32(hdr + 16, (uint32_t)blen);                  /* backing_file_size */
    be32(hdr + 20, CLUSTER_BITS);
    be64(hdr + 24, (uint64_t)size);
    be32(hdr + 32, 0);                               /* crypt_method */
    be32(hdr + 36, (uint32_t)l1_size);
    be64(hdr + 40, (uint64_t)(3 * CLUSTER));         /* l1_table_offset */
    be64(hdr + 48, (uint64_t)CLUSTER);               /* refcount_table_offset */
    be32(hdr + 56, 1);                               /* refcount_table_clusters */
    /* nb_snapshots, snapshots_offset, the three feature bitmaps: 0 */
    be32(hdr + 96, 4);                               /* refcount_order: 16 bits */
    be32(hdr + 100, HEADER_LEN);
    /* 104: compression type 0 (zlib), then padding to 112 */
    be32(hdr + ext, EXT_BACKING_FORMAT);
    be32(hdr + ext + 4, (uint32_t)flen);
    memcpy(hdr + ext + 8, backing_fmt, flen);       /* at most 8 bytes: padded by the zeros */
    /* ext + 16: the end-of-extensions marker (type 0, length 0) */
    memcpy(hdr + name_at, backing, blen);
    be64(rt, (uint64_t)(2 * CLUSTER));
    for (uint64_t c = 0; c < used; c++) {
        rb[2 * c] = 0;
        rb[2 * c + 1] = 1;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return vr_error_set(err, VR_ERR_STORAGE, "cannot create %s: %s", path, strerror(errno));
    int rc = pwrite_all(fd, hdr, name_at + blen, 0);
    if (rc == 0)
        rc = pwrite_all(fd, rt, sizeof(rt), CLUSTER);
    if (rc == 0)
        rc = pwrite_all(fd, rb, 2 * used, 2 * CLUSTER);
    /* the L1 table: zeros up to its end, as a hole */
    if (rc == 0 && ftruncate(fd, (off_t)(3 * CLUSTER + l1_size * 8)) < 0)
        rc = -errno;
    /* qemu-img flushes at close too: a layer marked LEGAL next must be on
     * the storage, whatever host reads it. */
    if (rc == 0 && fdatasync(fd) < 0)
        rc = -errno;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc < 0) {
        unlink(path);
        return vr_error_set(err, VR_ERR_STORAGE, "cannot write overlay %s: %s", path, strerror(-rc));
    }
    return 0;
}
