/* Shared sanlock helpers (see sanlk.h). */
#include "sanlk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sanlock_admin.h>
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

int vr_sanlk_format_lease(const char *path, const char *lockspace, const char *name, const char *what,
                          vr_error *err)
{
    vr_sanlk_res res;
    if (vr_sanlk_resource(&res, lockspace, name, path, 0) < 0 || strlen(path) >= SANLK_PATH_LEN)
        return vr_error_set(err, VR_ERR_STORAGE, "lease path %s is too long for sanlock", path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0 || ftruncate(fd, 1024 * 1024) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return vr_error_set(err, VR_ERR_STORAGE, "cannot create lease file %s: %s", path, strerror(e));
    }
    close(fd);
    res.r.flags = SANLK_RES_ALIGN1M | SANLK_RES_SECTOR512;
    int rc = sanlock_write_resource(&res.r, 0, 0, 0);
    if (rc < 0)
        return vr_error_set(err, VR_ERR_STORAGE, "sanlock cannot write the lease of %s in %s: %s", what, path,
                            vr_sanlk_strerror(rc));
    return 0;
}

int vr_sanlk_read_owner(const vr_sanlk_res *res, long long *owner, long long *lver, vr_error *err)
{
    return vr_sanlk_read_owner_gen(res, owner, NULL, lver, err);
}

int vr_sanlk_read_owner_gen(const vr_sanlk_res *res, long long *owner, unsigned long long *gen, long long *lver,
                            vr_error *err)
{
    struct sanlk_host *hss = NULL;
    int n = 0;
    vr_sanlk_res copy = *res;
    int rv = sanlock_read_resource_owners(&copy.r, 0, &hss, &n);
    if (rv < 0) {
        free(hss);
        return vr_sanlk_error(err, VR_ERR_STORAGE, rv, "read a lease's owner");
    }
    *owner = n > 0 ? (long long)hss[0].host_id : -1;
    if (gen)
        *gen = n > 0 ? (unsigned long long)hss[0].generation : 0;
    *lver = (long long)copy.r.lver;
    free(hss);
    return 0;
}
