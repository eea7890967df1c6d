/* A storage domain as this host sees it: its directory, checked to be a
 * real directory inside its connection's mount (a symlink pointing out of
 * the mount is refused), its metadata, and the info object Storage.info,
 * format, find, attach and detach answer with. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "agent.h"
#include "error.h"
#include "mdfile.h"

/* snprintf into a path or message buffer where truncation is handled by
 * the caller (or harmless, for messages): -ENAMETOOLONG when out was too
 * small, else 0. */
int vr_sd_fmt(char *out, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Check that mount/name is a real directory directly below mount, and its
 * dom_md one below it (no symlink leads elsewhere). VR_ERR_STORAGE naming
 * the path if not. */
int vr_sd_dir_check(const char *mount, const char *name, vr_error *err);

/* Directory of connected domain sd_uuid (vr_sd_dir) after vr_sd_dir_check. */
int vr_sd_domain_dir(const vr_agent *a, const char *sd_uuid, char *out, size_t size, vr_error *err);

/* Read and verify dir's dom_md/metadata, which must name sd_uuid as its
 * SDUUID. VR_ERR_STORAGE with the reason otherwise; md is left empty. */
int vr_sd_md_load(const char *dir, const char *sd_uuid, vr_md *md, vr_error *err);

/* Replace dir's dom_md/metadata atomically. */
int vr_sd_md_store(const char *dir, const vr_md *md, vr_error *err);

/* Info object of the domain at dir (new reference): valid true with its
 * metadata, name, class, type, pool, role, space; or valid false and why. */
json_t *vr_sd_info_json(const char *dir, const char *sd_uuid);

/* Info objects of every valid domain directly below mount (new array). */
json_t *vr_sd_find_domains(const char *mount);

/* Info objects of every valid domain on every connection (new array). */
json_t *vr_sd_all_domains(const vr_agent *a);

/* Engine words for metadata values: "Data" <-> "data", "Backup" <->
 * "export"; NULL if unknown. */
const char *vr_sd_class_md(const char *engine_class);
const char *vr_sd_class_engine(const char *md_class);
