/* Small shared pieces for talking to the sanlock daemon: the structs that
 * name a domain's lockspace and a lease, and readable error text. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sanlock.h>

#include "error.h"

#define VR_SDM_OFFSET (1024 * 1024) /* slot 1 of dom_md/leases */

/* A resource with room for its one disk. */
typedef union vr_sanlk_res {
    struct sanlk_resource r;
    char room[sizeof(struct sanlk_resource) + sizeof(struct sanlk_disk)];
} vr_sanlk_res;

/* Fill ls for lockspace sd_uuid at <dir>/dom_md/ids. -ENAMETOOLONG if the
 * path does not fit sanlock's limit. */
int vr_sanlk_lockspace(struct sanlk_lockspace *ls, const char *dir, const char *sd_uuid,
                       int host_id);

/* Fill res for resource name of lockspace sd_uuid at path, offset. */
int vr_sanlk_resource(vr_sanlk_res *res, const char *sd_uuid, const char *name,
                      const char *path, long long offset);

/* Text of a sanlock return value: its sanlock name or strerror. */
const char *vr_sanlk_strerror(int rv);

/* Fill err for a failed sanlock call (what = what was attempted, with the
 * object): VR_ERR_UNAVAILABLE when the daemon is not reachable, else code.
 * Returns -1. */
int vr_sanlk_error(vr_error *err, int code, int rv, const char *what);

/* Create (or truncate) path as a 1 MiB file and have sanlock write the
 * resource `name` of lockspace `lockspace` at offset 0 (align 1 MiB,
 * 512-byte sectors): a volume's or a VM's lease. `what` names it in errors. */
int vr_sanlk_format_lease(const char *path, const char *lockspace, const char *name, const char *what,
                          vr_error *err);

/* Owner host id of res on storage (-1 when free) and its version. */
int vr_sanlk_read_owner(const vr_sanlk_res *res, long long *owner, long long *lver, vr_error *err);

/* The same, with the generation of the owner's host id when it took res
 * (gen may be NULL). */
int vr_sanlk_read_owner_gen(const vr_sanlk_res *res, long long *owner, unsigned long long *gen, long long *lver,
                            vr_error *err);
