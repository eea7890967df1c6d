/* Paths of storage connections, domains and volumes (see sdpath.h). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "devspec.h"
#include "sdpath.h"

int vr_sd_conn_name(const char *spec, char *out, size_t size)
{
    size_t n = strlen(spec);
    if (!n || n >= size || strstr(spec, ".."))
        return -EINVAL;
    /* absolute path, or NFS "server:/abs" */
    const char *colon = strchr(spec, ':');
    if (spec[0] != '/' && !(colon && colon != spec && colon[1] == '/'))
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)spec[i];
        if (c < 0x21 || c == 0x7f)
            return -EINVAL;
        out[i] = c == '/' ? '_' : (char)c;
    }
    out[n] = 0;
    return 0;
}

int vr_sd_mount_path(const vr_agent *a, const char *spec, char *out, size_t size, vr_error *err)
{
    char name[NAME_MAX + 1];
    if (vr_sd_conn_name(spec, name, sizeof(name)) < 0)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                            "storage spec '%s' must be an absolute path or server:/path, "
                            "without '..', spaces or control characters", spec);
    if (snprintf(out, size, "%s/%s", a->storage_root, name) >= (int)size)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "storage spec '%s' is too long", spec);
    return 0;
}

int vr_sd_dir(const vr_agent *a, const char *sd_uuid, char *out, size_t size, vr_error *err)
{
    if (!vr_valid_uuid(sd_uuid))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "'%s' is not a storage domain UUID", sd_uuid);
    DIR *d = opendir(a->storage_root);
    struct dirent *e;
    int found = 0;
    while (d && !found && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char md[PATH_MAX];
        if (snprintf(md, sizeof(md), "%s/%s/%s/dom_md/metadata", a->storage_root, e->d_name, sd_uuid) >=
            (int)sizeof(md))
            continue;
        if (access(md, F_OK) == 0 &&
            snprintf(out, size, "%s/%s/%s", a->storage_root, e->d_name, sd_uuid) < (int)size)
            found = 1;
    }
    if (d)
        closedir(d);
    if (!found)
        return vr_error_set(err, VR_ERR_STORAGE, "storage domain %s is not connected on this host", sd_uuid);
    return 0;
}

int vr_sd_volume_path(const vr_agent *a, const char *sd_uuid, const char *img_uuid,
                      const char *vol_uuid, const char *suffix, char *out, size_t size,
                      vr_error *err)
{
    if (!vr_valid_uuid(img_uuid) || !vr_valid_uuid(vol_uuid))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "image '%s' and volume '%s' must be UUIDs",
                            img_uuid, vol_uuid);
    char dir[PATH_MAX];
    if (vr_sd_dir(a, sd_uuid, dir, sizeof(dir), err) < 0)
        return -1;
    if (snprintf(out, size, "%s/images/%s/%s%s", dir, img_uuid, vol_uuid, suffix) >= (int)size)
        return vr_error_set(err, VR_ERR_STORAGE, "volume path under %s is too long", dir);
    return 0;
}

int vr_sd_metadata(const vr_agent *a, const char *sd_uuid, char *dir, size_t size, vr_md *md, vr_error *err)
{
    char path[PATH_MAX + 32];
    if (vr_sd_dir(a, sd_uuid, dir, size, err) < 0)
        return -1;
    snprintf(path, sizeof(path), "%s/dom_md/metadata", dir);
    if (vr_md_read(path, md, err) < 0) {
        err->code = VR_ERR_STORAGE;
        return -1;
    }
    return 0;
}
