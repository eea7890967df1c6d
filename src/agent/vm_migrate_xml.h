/* The destination's domain XML of a migration, when the destination's
 * storage root (--storage-root, where it mounts storage domains) is not
 * this host's: a VM's lease and its disks on storage domains then have
 * other paths there (docs/agent-api.md VM.migrate, dest.storage_root);
 * and when its consoles listen on another address there (its address on
 * the display network, dest.display_address). */
#pragma once

#include <libvirt/libvirt.h>

#include "error.h"

/* Rewrite the lease target paths and disk source files of dom under root/
 * to dest_root/ (dest_root "": none) and the listen addresses of its
 * graphics to display (NULL or "": kept): 0 with *out the new XML
 * (malloc'd), or NULL when nothing changes (no destination XML needed);
 * -1 with err (a path too long). */
int vr_migrate_dest_xml(virDomainPtr dom, const char *root, const char *dest_root, const char *display, char **out,
                        vr_error *err);
