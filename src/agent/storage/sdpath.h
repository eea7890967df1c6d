/* Where storage lives on this host (docs/storage.md, "On-storage layout").
 *
 * Every connection is mounted (or, for localfs, symlinked) at
 * <storage_root>/<conn-name>, and a domain is the directory <sd-uuid> below
 * one of them. Finding a domain is a scan of the storage root, not a lookup
 * in agent memory, so an agent restarted under running VMs finds the same
 * paths its predecessor used. */
#pragma once

#include <stddef.h>

#include "agent.h"
#include "error.h"
#include "mdfile.h"

/* conn-name of a connection spec: '/' becomes '_' ("server:/a/b" ->
 * "server:_a_b"). -EINVAL for specs that are empty, relative, hold "..",
 * control characters, or do not fit in size. */
int vr_sd_conn_name(const char *spec, char *out, size_t size);

/* <storage_root>/<conn-name> for spec into out. */
int vr_sd_mount_path(const vr_agent *a, const char *spec, char *out, size_t size, vr_error *err);

/* Directory of a connected domain: the <root>/<conn>/<sd_uuid> that has a
 * dom_md/metadata. VR_ERR_STORAGE "domain X is not connected on this host"
 * if none. */
int vr_sd_dir(const vr_agent *a, const char *sd_uuid, char *out, size_t size, vr_error *err);

/* A connected domain's directory (as vr_sd_dir) and its dom_md/metadata
 * read into md (the caller clears it); a metadata file that cannot be read
 * is VR_ERR_STORAGE. */
int vr_sd_metadata(const vr_agent *a, const char *sd_uuid, char *dir, size_t size, vr_md *md, vr_error *err);

/* Path of a file of volume vol_uuid in image img_uuid of a connected
 * domain; suffix is "", ".meta" or ".lease". UUIDs are checked. */
int vr_sd_volume_path(const vr_agent *a, const char *sd_uuid, const char *img_uuid,
                      const char *vol_uuid, const char *suffix, char *out, size_t size,
                      vr_error *err);
