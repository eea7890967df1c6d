/* Zeroing a file's blocks in place (wipe.h). Real writes of zeros, not
 * fallocate(FALLOC_FL_ZERO_RANGE) or PUNCH_HOLE: on ext4 and XFS those
 * only mark the extents unwritten or free them, and the old bytes stay on
 * the device for the next owner of those blocks to read - exactly what
 * wipe_after_delete is asked to prevent. O_DIRECT keeps gigabytes of zeros
 * out of the page cache. */
#include "wipe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define CHUNK (1 << 20)
#define ALIGN 4096 /* covers 512- and 4096-byte logical blocks */

/* How far one wipe has come, for its progress callback. */
typedef struct wipe_run {
    vr_wipe_progress progress;
    void *opaque;
    long long done, total;
} wipe_run;

/* Write len zeros at off: through dfd (O_DIRECT) when aligned, else (or
 * when the file system refuses direct I/O after all) through bfd. */
static int zero_range(int *dfd, int bfd, const char *zeros, off_t off, off_t len, wipe_run *run)
{
    while (len > 0) {
        size_t n = len > CHUNK ? CHUNK : (size_t)len;
        bool direct = *dfd >= 0 && off % ALIGN == 0 && n % ALIGN == 0;
        ssize_t w = pwrite(direct ? *dfd : bfd, zeros, n, off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && direct && errno == EINVAL) { /* no direct I/O here after all */
            close(*dfd);
            *dfd = -1;
            continue;
        }
        if (w <= 0)
            return w < 0 ? -errno : -EIO;
        off += w;
        len -= w;
        run->done += w;
        if (run->progress && run->progress(run->opaque, run->done, run->total))
            return -ECANCELED;
    }
    return 0;
}

int vr_wipe_file(const char *path, long long *wiped, vr_wipe_progress progress, void *opaque, vr_error *err)
{
    if (wiped)
        *wiped = 0;
    int bfd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (bfd < 0 && errno == ENOENT)
        return 0;
    if (bfd < 0)
        return vr_error_set(err, VR_ERR_STORAGE, "cannot open %s to wipe it: %s", path, strerror(errno));
    struct stat st;
    char *zeros = NULL;
    int rc = fstat(bfd, &st) < 0 ? -errno : !S_ISREG(st.st_mode) ? -EINVAL : 0;
    if (rc == 0 && posix_memalign((void **)&zeros, ALIGN, CHUNK) != 0)
        rc = -ENOMEM;
    if (rc < 0) {
        close(bfd);
        return vr_error_set(err, VR_ERR_STORAGE, "cannot wipe %s: %s", path,
                            rc == -EINVAL ? "not a regular file" : strerror(-rc));
    }
    memset(zeros, 0, CHUNK);
    int dfd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_DIRECT); /* -1 (EINVAL) on tmpfs */
    long long total = 0;
    off_t end = st.st_size, off = 0;
    /* what there is to do: the allocated bytes (a file system may allocate
     * past the end; never more than the size) */
    wipe_run run = {progress, opaque, 0, (long long)st.st_blocks * 512 < (long long)end
                                             ? (long long)st.st_blocks * 512 : (long long)end};
    while (rc == 0 && off < end) {
        off_t data = lseek(bfd, off, SEEK_DATA);
        if (data < 0 && errno == ENXIO) /* only a hole is left */
            break;
        if (data < 0 && errno == EINVAL) /* no SEEK_DATA: the whole file */
            data = off;
        if (data < 0) {
            rc = -errno;
            break;
        }
        off_t hole = lseek(bfd, data, SEEK_HOLE);
        if (hole < 0)
            hole = end;
        if (hole > end)
            hole = end;
        rc = zero_range(&dfd, bfd, zeros, data, hole - data, &run);
        total += hole - data;
        off = hole;
    }
    if (rc == 0 && (fdatasync(bfd) < 0 || (dfd >= 0 && fdatasync(dfd) < 0)))
        rc = -errno;
    if (dfd >= 0)
        close(dfd);
    if (close(bfd) < 0 && rc == 0)
        rc = -errno;
    free(zeros);
    if (rc == -ECANCELED)
        return vr_error_set(err, VR_ERR_UNAVAILABLE, "wiping %s stopped after %lld bytes", path, run.done);
    if (rc < 0)
        return vr_error_set(err, VR_ERR_STORAGE, "cannot wipe %s: %s", path, strerror(-rc));
    if (wiped)
        *wiped = total;
    VR_DEBUG("wiped %lld bytes of %s", total, path);
    return 0;
}
