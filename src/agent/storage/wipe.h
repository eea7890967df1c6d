/* Wiping a volume's data before it is removed (a disk's wipe_after_delete,
 * docs/storage.md "Wipe after delete"). */
#pragma once

#include "error.h"

/* Overwrite every allocated extent of the regular file at path with zeros
 * (found with SEEK_DATA/SEEK_HOLE: holes already read as zeros and are left
 * holes), in 1 MiB writes through O_DIRECT where the file system takes it
 * (buffered otherwise, and for an unaligned tail), then fdatasync. The
 * file's size is unchanged. *wiped (may be NULL) gets the bytes written.
 * A missing file is 0 (nothing to wipe); a symlink is refused. */
int vr_wipe_file(const char *path, long long *wiped, vr_error *err);
