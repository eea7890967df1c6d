/* Storage connections (docs/storage.md, "Agent verbs"): the `conn` object of
 * Storage.connect/disconnect/format/find, checked strictly, and the mount
 * (nfs, posixfs) or symlink (localfs) at <storage_root>/<conn-name> it
 * becomes. mount/umount run as argv arrays, never through a shell, and
 * every piece of their command line is validated first, so a spec or an
 * option cannot smuggle another option in. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "agent.h"
#include "error.h"

enum vr_sd_type { VR_SD_NFS, VR_SD_POSIXFS, VR_SD_LOCALFS };

typedef struct vr_sd_conn {
    enum vr_sd_type type;
    char spec[256];
    char vfs_type[32];  /* "nfs" for NFS, empty for localfs */
    char options[320];  /* the whole -o argument, empty = none */
    char name[NAME_MAX + 1]; /* conn-name: the mount's name under the root */
} vr_sd_conn;

/* Parse and check a `conn` object (named `where` in errors): type, spec,
 * and per type vfs_type, options, version, retrans, timeo. Unknown
 * members, wrong types, relative specs, "..", control characters and
 * option lists that are not comma-separated [a-z0-9_=.] items fail with
 * VR_ERR_INVALID_PARAMS. */
int vr_sd_conn_parse(json_t *obj, const char *where, vr_sd_conn *c, vr_error *err);

/* True if opts is a comma list of [a-z0-9_=.]+ items (empty is fine). */
bool vr_sd_valid_options(const char *opts);

/* True if s is a file system type name: [a-z0-9_.]+, starting with a
 * letter, under 32 bytes. */
bool vr_sd_valid_vfs(const char *s);

/* Name of the connection's storage type as the domain metadata's TYPE
 * ("NFS", "POSIXFS", "LOCALFS"). */
const char *vr_sd_type_md(enum vr_sd_type t);

/* Fill argv (at most max entries with the NULL) with the mount command for
 * c at target. Returns the number of arguments or -E2BIG. argv borrows from
 * c and target. */
int vr_sd_mount_argv(const vr_sd_conn *c, const char *target, const char **argv, int max);

/* True if path is a mount point in this process's mount namespace. */
bool vr_sd_is_mounted(const char *path);

/* Mount (or link, for localfs) c at <root>/<conn-name>; mount gets that
 * path. Idempotent: an existing identical connection is fine. */
int vr_sd_connect(const vr_agent *a, const vr_sd_conn *c, char *mount, size_t size, vr_error *err);

/* True and the mount path in mount if c is connected on this host. */
bool vr_sd_connected(const vr_agent *a, const vr_sd_conn *c, char *mount, size_t size);

/* Unmount (or unlink) c. Idempotent; the caller checks nothing on it is
 * still in use (lockspaces). */
int vr_sd_disconnect(const vr_agent *a, const vr_sd_conn *c, vr_error *err);
