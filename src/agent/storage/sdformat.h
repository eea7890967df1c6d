/* Creating a storage domain's on-storage layout (docs/storage.md, format
 * version 1): dom_md/{ids,leases,inbox,outbox} initialized through the
 * sanlock daemon, images/, and dom_md/metadata written last, so a domain
 * is only "there" (found, connected) once it is complete. */
#pragma once

#include "error.h"

typedef struct vr_sd_format_req {
    const char *sd_uuid;
    const char *name;     /* DESCRIPTION */
    const char *md_class; /* "Data", "Iso", "Backup" */
    const char *md_type;  /* "NFS", "POSIXFS", "LOCALFS" */
    int io_timeout;       /* sanlock's, written into every host slot of ids:
                             a join waits 2x the slot's value (0 = 10 s) */
} vr_sd_format_req;

/* Format domain req->sd_uuid below mount. Refuses (VR_ERR_CONFLICT) if
 * mount/<uuid> exists; on any failure removes what it created. */
int vr_sd_format(const char *mount, const vr_sd_format_req *req, vr_error *err);
