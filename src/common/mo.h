/* A reader of GNU gettext's compiled catalogs (.mo files, as msgfmt writes
 * them): the whole file in memory, looked up by binary search. Ours rather
 * than glibc's dcgettext because that one only translates for a locale
 * installed on the machine and selected per thread, while the engine picks
 * the language per request from Accept-Language (docs/architecture.md). */
#pragma once

#include "error.h"

typedef struct vr_mo vr_mo;

/* Read and check the catalog at path (either byte order). NULL with err
 * set (VR_ERR_IO naming the path) when it is missing or malformed. */
vr_mo *vr_mo_open(const char *path, vr_error *err);

/* The translation of msgid, or NULL when the catalog has none (or an
 * empty one). Borrowed from mo; thread-safe (the catalog is read-only). */
const char *vr_mo_lookup(const vr_mo *mo, const char *msgid);

/* How many messages the catalog holds (its header entry included). */
unsigned vr_mo_count(const vr_mo *mo);

void vr_mo_free(vr_mo *mo);
