/* The destination's domain XML of a migration, when the destination's
 * storage root (--storage-root, where it mounts storage domains) is not
 * this host's: a VM's lease and its disks on storage domains then have
 * other paths there (docs/agent-api.md VM.migrate, dest.storage_root). */
#pragma once

#include <libvirt/libvirt.h>

#include "error.h"

/* Rewrite the lease target paths and disk source files of dom under root/
 * to dest_root/: 0 with *out the new XML (malloc'd), or NULL when nothing
 * is under root (no destination XML needed); -1 with err. */
int vr_migrate_dest_xml(virDomainPtr dom, const char *root, const char *dest_root, char **out, vr_error *err);
