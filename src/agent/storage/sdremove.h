/* Removing a storage domain from storage (Storage.remove, docs/storage.md).
 *
 * Crash-safe in two steps: the domain directory <mount>/<uuid> is first
 * renamed to <mount>/.removing-<uuid> (one atomic rename: the domain is
 * whole or gone from every scan, which skips names starting with '.'),
 * then that tree is deleted. A crash in between leaves only a hidden
 * leftover, which the next Storage.remove or Storage.connect deletes. */
#pragma once

#include "error.h"

#define VR_SD_REMOVING_PREFIX ".removing-"

/* Delete the tree at path without ever following a symlink (a link is
 * unlinked, never entered) and without crossing into another file system.
 * A missing path is fine. VR_ERR_STORAGE naming the entry that failed. */
int vr_sd_remove_tree(const char *path, vr_error *err);

/* Rename mount/uuid to mount/.removing-uuid (fsyncing mount), then delete
 * it with vr_sd_remove_tree. The caller has checked the domain may go. */
int vr_sd_remove_domain(const char *mount, const char *uuid, vr_error *err);

/* Delete every .removing-* leftover directly below mount; returns how many
 * are gone (failures are logged and left for the next try). */
int vr_sd_remove_leftovers(const char *mount);
