/* Wiping a volume's data before it is removed (a disk's wipe_after_delete,
 * docs/storage.md "Wipe after delete"). */
#pragma once

#include <stdbool.h>

#include "error.h"

/* Overwrite every allocated extent of the regular file at path with zeros
 * (found with SEEK_DATA/SEEK_HOLE: holes already read as zeros and are left
 * holes), in 1 MiB writes through O_DIRECT where the file system takes it
 * (buffered otherwise, and for an unaligned tail), then fdatasync. The
 * file's size is unchanged. *wiped (may be NULL) gets the bytes written.
 * A missing file is 0 (nothing to wipe); a symlink is refused.
 * progress (may be NULL) is called after each write with the bytes done
 * and the allocated bytes to do; returning true stops the wipe (-1 with
 * VR_ERR_UNAVAILABLE, the file partly zeroed). */
typedef bool (*vr_wipe_progress)(void *opaque, long long done, long long total);
int vr_wipe_file(const char *path, long long *wiped, vr_wipe_progress progress, void *opaque, vr_error *err);
