/* Volumes of a file storage domain (docs/storage.md, "On-storage layout"):
 * images/<image>/<volume> (raw or qcow2 data), <volume>.meta (checksummed
 * key=value) and <volume>.lease (a sanlock resource). A volume is written
 * ILLEGAL first and marked LEGAL only once its data and lease are complete,
 * so a crash or a failed copy never leaves a half-written LEGAL volume. */
#pragma once

#include <stdbool.h>
#include <jansson.h>

#include "agent.h"
#include "error.h"
#include "mdfile.h"

#define VR_VOLUME_MAX_SIZE (64LL << 40) /* 64 TiB */
#define VR_VOLUME_MAX_DESC 210          /* bytes of UTF-8 */
#define VR_VOLUME_NO_PARENT "00000000-0000-0000-0000-000000000000" /* PUUID of a base */

/* A volume by name: domain, image and volume UUIDs (lowercase). */
typedef struct vr_volume_ref {
    char domain[37], image[37], volume[37];
} vr_volume_ref;

/* What a new volume is. format "raw" or "qcow2"; size in bytes, a
 * multiple of 512; description (may be NULL) at most 210 bytes. */
typedef struct vr_volume_spec {
    const char *format;
    bool preallocated;
    long long size;
    const char *description;
    const char *parent; /* NULL: a base volume */
    const char *parent_image; /* the parent's image when not this one (a template's) */
} vr_volume_spec;

/* Parse {"domain","image","volume"} (exactly those members, UUIDs) at
 * obj, named `where` in errors. */
int vr_volume_ref_parse(json_t *obj, const char *where, vr_volume_ref *r, vr_error *err);

/* Take domain/image/volume members of a verb's params (the caller checks
 * which other members are allowed). */
int vr_volume_ref_members(json_t *params, vr_volume_ref *r, vr_error *err);

/* A verb's params holding exactly domain/image/volume plus the `nextra`
 * members named in extra (at most 13). */
int vr_volume_ref_params(json_t *params, const char *const *extra, size_t nextra, vr_volume_ref *r,
                         vr_error *err);

/* Check a spec's values (format, size range and alignment, description).
 * Fails with VR_ERR_INVALID_PARAMS naming the member. */
int vr_volume_spec_check(const vr_volume_spec *s, vr_error *err);

/* Begin an SPM job (vr_spm_job_begin) on the pool the domain is attached
 * to (its dom_md/metadata POOL_UUID, copied to pool); VR_ERR_NOT_SPM if
 * this host is not its SPM. The caller ends it with vr_spm_job_end(pool). */
int vr_volume_spm_begin(vr_agent *a, const char *domain, const char *what, char pool[37],
                        vr_error *err);

/* Path of the volume's data file (suffix "") or .meta/.lease. */
int vr_volume_path(vr_agent *a, const vr_volume_ref *r, const char *suffix, char *out,
                   size_t size, vr_error *err);

/* Start a volume: refuse an existing one (VR_ERR_CONFLICT), make the image
 * directory, write its .meta with LEGALITY=ILLEGAL. The data file is the
 * caller's to write next. */
int vr_volume_begin(vr_agent *a, const vr_volume_ref *r, const vr_volume_spec *s, vr_error *err);

/* Finish a begun volume whose data is written: format its .lease with
 * sanlock, then mark it LEGAL. */
int vr_volume_commit(vr_agent *a, const vr_volume_ref *r, vr_error *err);

/* Create a whole volume (begin, data, commit); on failure nothing is left. */
int vr_volume_create(vr_agent *a, const vr_volume_ref *r, const vr_volume_spec *s, vr_error *err);

/* Mark ILLEGAL, with wipe overwrite the data with zeros (wipe.h), remove
 * data, .lease and .meta, and the image directory if it is empty then.
 * Missing files are not an error; a missing volume is. A shared template
 * volume linked into r's image loses only its links (never wiped). */
int vr_volume_delete(vr_agent *a, const vr_volume_ref *r, bool wipe, vr_error *err);

/* vr_volume_delete in two halves, for a wipe in between (volume_wipe.c):
 * begin checks (missing: VR_ERR_NOT_FOUND; a parent of others:
 * VR_ERR_CONFLICT), says whether r is a template's link (*link: nothing
 * else is done) or else gives its parent and marks it ILLEGAL; end removes
 * the files and relabels the parent. */
int vr_volume_delete_begin(vr_agent *a, const vr_volume_ref *r, char parent[37], bool *link, vr_error *err);
int vr_volume_delete_end(vr_agent *a, const vr_volume_ref *r, const char *parent, bool link, vr_error *err);

/* Volume.delete with wipe (volume_wipe.c): begin, then, as a long job
 * ("Volume.delete", *result {"job": id}, progress by bytes zeroed), wipe and
 * end; the SPM job pool (begun by the caller) ends with it. A template's
 * link is removed at once (*result {}). Asked again while a wipe of r runs:
 * that job's id. */
int vr_volume_wipe_delete_start(vr_agent *a, const vr_volume_ref *r, const char *pool, json_t **result,
                                vr_error *err);

/* The agent is stopping: running wipes stop (their volume stays ILLEGAL,
 * their job interrupted); waits up to wait_ms for them. */
void vr_volume_wipes_stop(int wait_ms);

/* Same, for cleaning up after a failed create or copy: never fails. */
void vr_volume_discard(vr_agent *a, const vr_volume_ref *r);

/* Info of one volume (docs/agent-api.md, Volume.info); a corrupt .meta is
 * reported legality ILLEGAL with a reason. *out is a new reference. */
int vr_volume_info(vr_agent *a, const vr_volume_ref *r, json_t **out, vr_error *err);

/* Every volume of a domain: images/<image>/<volume>.meta; stray files and
 * directories that are not UUIDs are skipped. *out = {"volumes": [...]}. */
int vr_volume_list(vr_agent *a, const char *domain, json_t **out, vr_error *err);

/* Grow a volume to size bytes (qemu-img resize) and record CAPACITY.
 * Refuses a shrink and an ILLEGAL volume. */
int vr_volume_extend(vr_agent *a, const vr_volume_ref *r, long long size, vr_error *err);

/* Record a new CAPACITY (after a live resize grew the file). */
int vr_volume_set_capacity(vr_agent *a, const vr_volume_ref *r, long long size, vr_error *err);

/* For a VM disk: the data file's path (size >= 1025) and format ("raw" or
 * "qcow2", a literal) of a LEGAL volume; a missing or ILLEGAL volume is
 * refused with an error naming it. */
int vr_volume_resolve(vr_agent *a, const vr_volume_ref *r, char *path, size_t size,
                      const char **format, vr_error *err);

/* Read a volume's .meta (its LEGALITY, CAPACITY, FORMAT...). md must be
 * empty; the caller clears it. */
int vr_volume_read_meta(vr_agent *a, const vr_volume_ref *r, vr_md *md, vr_error *err);

/* Set one key of a volume's .meta (atomic rewrite). */
int vr_volume_update_meta(vr_agent *a, const vr_volume_ref *r, const char *key, const char *value,
                          vr_error *err);

/* --- chains (volume_chain.c, docs/storage.md "Volume chains") --- */

/* Volumes of r's image whose PUUID is r->volume: their count, and the
 * first max of their UUIDs in out (may be NULL). */
int vr_volume_children(vr_agent *a, const vr_volume_ref *r, char (*out)[37], int max,
                       vr_error *err);

/* Create a qcow2 layer r over s->parent (a LEGAL volume of the same image,
 * at most s->size bytes): ILLEGAL first, overlay, lease, LEGAL; the parent
 * becomes INTERNAL. On failure nothing is left. */
int vr_volume_create_layer(vr_agent *a, const vr_volume_ref *r, const vr_volume_spec *s,
                           vr_error *err);

/* Make the LEGAL base volume src (a template's) usable as the parent of
 * layers in another image: mark it SHARED, then hard-link its data and
 * .meta into `image` (VDSM's way on file domains). Linking again is fine. */
int vr_volume_link_shared(vr_agent *a, const vr_volume_ref *src, const char *image, vr_error *err);

/* Whether r is such a link (its .meta names another image). */
bool vr_volume_is_link(vr_agent *a, const vr_volume_ref *r);

/* After a child of `parent` was removed: the parent is LEAF again when it
 * has no child left. Best effort (logged). */
void vr_volume_relabel_parent(vr_agent *a, const vr_volume_ref *child, const char *parent);

/* Merge top into its parent base (Volume.merge): with committed=false the
 * data is committed here with qemu-img (the VM is down); with
 * committed=true a VM's host already did it live (block commit). Then
 * top's children point at base, base takes top's place (VOLTYPE) and top
 * is removed. Idempotent: a merge interrupted at any step is finished by
 * asking again; a top already gone is success. *out = base's info. */
int vr_volume_merge(vr_agent *a, const vr_volume_ref *base, const vr_volume_ref *top,
                    bool committed, json_t **out, vr_error *err);

/* The volume whose data file disk `target` of a running domain is now
 * (its live XML), if that file is a volume under this agent's storage root. */
bool vr_dom_disk_volume(vr_agent *a, virDomainPtr dom, const char *target, vr_volume_ref *r);

/* Volume.copy (volume_copy.c): begin dst as an ILLEGAL volume of format
 * with src's capacity and description, then copy src into it with
 * qemu-img convert in a long job (progress, cancel); dst becomes LEGAL at
 * the end, or is removed on failure or cancel. With parent (a LEGAL volume
 * of dst's image, not NULL) dst is a qcow2 layer over it holding only
 * src's own layer, and parent becomes INTERNAL (a chain copied volume by
 * volume, base first). Needs the SPM of dst's pool. *result = {"job": id,
 * "volume": dst info}. */
int vr_volume_copy_start(vr_agent *a, const vr_volume_ref *src, const vr_volume_ref *dst,
                         const char *format, const char *parent, json_t **result, vr_error *err);

/* The agent is stopping: running copies kill their qemu-img and remove
 * their half-written volume; waits up to wait_ms for them. */
void vr_volume_copies_stop(int wait_ms);
