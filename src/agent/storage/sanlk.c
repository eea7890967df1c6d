/* Shared sanlock helpers (see sanlk.h). */
#include "sanlk.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <sanlock_rv.h>

int vr_sanlk_lockspace(struct sanlk_lockspace *ls, const char *dir, const char *sd_uuid,
                       int host_id)
{
    memset(ls, 0, sizeof(*ls));
    snprintf(ls->name, sizeof(ls->name), "%s", sd_uuid);
    ls->host_id = (uint64_t)host_id;
    if (snprintf(ls->host_id_disk.path, sizeof(ls->host_id_disk.path), "%s/dom_md/ids", dir) >=
        (int)sizeof(ls->host_id_disk.path))
        return -ENAMETOOLONG;
    return 0;
}

int vr_sanlk_resource(vr_sanlk_res *res, const char *sd_uuid, const char *name,
                      const char *path, long long offset)
{
    memset(res, 0, sizeof(*res));
    snprintf(res->r.lockspace_name, sizeof(res->r.lockspace_name), "%s", sd_uuid);
    snprintf(res->r.name, sizeof(res->r.name), "%s", name);
    res->r.num_disks = 1;
    res->r.disks[0].offset = (uint64_t)offset;
    if (snprintf(res->r.disks[0].path, sizeof(res->r.disks[0].path), "%s", path) >=
        (int)sizeof(res->r.disks[0].path))
        return -ENAMETOOLONG;
    return 0;
}

const char *vr_sanlk_strerror(int rv)
{
    if (rv <= -200)
        return sanlock_strerror(rv);
    return strerror(rv < 0 ? -rv : rv);
}

int vr_sanlk_error(vr_error *err, int code, int rv, const char *what)
{
    if (rv == -ECONNREFUSED || rv == -ENOENT || rv == -EPIPE || rv == -ECONNRESET)
        return vr_error_set(err, VR_ERR_UNAVAILABLE, "cannot %s: the sanlock daemon is not "
                            "reachable (%s)", what, strerror(-rv));
    return vr_error_set(err, code, "cannot %s: sanlock says %s (%d)", what, vr_sanlk_strerror(rv), rv);
}
