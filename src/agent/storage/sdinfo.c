/* Domain directories, metadata and info objects (see sdinfo.h). */
#include "sdinfo.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "devspec.h"
#include "names.h"
#include "sdpath.h"

int vr_sd_fmt(char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, size, fmt, ap);
    va_end(ap);
    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static const char *const classes[][2] = {{"data", "Data"}, {"iso", "Iso"}, {"export", "Backup"}};

const char *vr_sd_class_md(const char *engine_class)
{
    for (size_t i = 0; i < VR_ARRAY_SIZE(classes); i++)
        if (!strcmp(classes[i][0], engine_class))
            return classes[i][1];
    return NULL;
}

const char *vr_sd_class_engine(const char *md_class)
{
    for (size_t i = 0; md_class && i < VR_ARRAY_SIZE(classes); i++)
        if (!strcmp(classes[i][1], md_class))
            return classes[i][0];
    return NULL;
}

/* path must resolve to exactly parent_real/name: a real entry, not a
 * symlink to somewhere else. */
static int real_child(const char *parent_real, const char *path, const char *name, vr_error *err)
{
    char real[PATH_MAX], want[PATH_MAX];
    struct stat st;
    if (lstat(path, &st) < 0)
        return vr_error_set(err, VR_ERR_STORAGE, "%s: %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode) || !realpath(path, real) ||
        vr_sd_fmt(want, sizeof(want), "%s/%s", parent_real, name) < 0 ||
        strcmp(real, want))
        return vr_error_set(err, VR_ERR_STORAGE,
                            "%s is not a directory of its own inside %s (symlink refused)", path,
                            parent_real);
    return 0;
}

int vr_sd_dir_check(const char *mount, const char *name, vr_error *err)
{
    char mreal[PATH_MAX], dir[PATH_MAX], dreal[PATH_MAX], md[PATH_MAX];
    if (!realpath(mount, mreal))
        return vr_error_set(err, VR_ERR_STORAGE, "%s: %s", mount, strerror(errno));
    if (snprintf(dir, sizeof(dir), "%s/%s", mount, name) >= (int)sizeof(dir) ||
        vr_sd_fmt(md, sizeof(md), "%s/dom_md", dir) < 0)
        return vr_error_set(err, VR_ERR_STORAGE, "path of domain %s under %s is too long", name, mount);
    if (real_child(mreal, dir, name, err) < 0)
        return -1;
    vr_sd_fmt(dreal, sizeof(dreal), "%s/%s", mreal, name);
    return real_child(dreal, md, "dom_md", err);
}

int vr_sd_domain_dir(const vr_agent *a, const char *sd_uuid, char *out, size_t size, vr_error *err)
{
    if (vr_sd_dir(a, sd_uuid, out, size, err) < 0)
        return -1;
    char mount[PATH_MAX];
    vr_sd_fmt(mount, sizeof(mount), "%s", out);
    char *slash = strrchr(mount, '/');
    *slash = 0;
    return vr_sd_dir_check(mount, sd_uuid, err);
}

int vr_sd_md_load(const char *dir, const char *sd_uuid, vr_md *md, vr_error *err)
{
    char path[PATH_MAX];
    vr_sd_fmt(path, sizeof(path), "%s/dom_md/metadata", dir);
    int rc = vr_md_read(path, md, err);
    if (rc < 0) {
        if (err)
            err->code = VR_ERR_STORAGE;
        return -1;
    }
    const char *id = vr_md_get(md, "SDUUID");
    if (!id || strcmp(id, sd_uuid)) {
        vr_md_clear(md);
        return vr_error_set(err, VR_ERR_STORAGE, "%s names domain %s, not %s", path,
                            id ? id : "(none)", sd_uuid);
    }
    return 0;
}

int vr_sd_md_store(const char *dir, const vr_md *md, vr_error *err)
{
    char path[PATH_MAX];
    vr_sd_fmt(path, sizeof(path), "%s/dom_md/metadata", dir);
    if (vr_md_write(path, md, err) < 0) {
        if (err)
            err->code = VR_ERR_STORAGE;
        return -1;
    }
    return 0;
}

static json_t *ll_or_null(const vr_md *md, const char *key)
{
    long long v;
    return vr_md_get_ll(md, key, &v) == 0 ? json_integer(v) : json_null();
}

json_t *vr_sd_info_json(const char *dir, const char *sd_uuid)
{
    json_t *info = json_pack("{s:s, s:s}", "domain", sd_uuid, "path", dir);
    struct statvfs vfs;
    if (statvfs(dir, &vfs) == 0) {
        long long total = (long long)vfs.f_blocks * (long long)vfs.f_frsize;
        long long avail = (long long)vfs.f_bavail * (long long)vfs.f_frsize;
        long long used = total - (long long)vfs.f_bfree * (long long)vfs.f_frsize;
        json_object_set_new(info, "total", json_integer(total));
        json_object_set_new(info, "free", json_integer(avail));
        json_object_set_new(info, "used", json_integer(used));
    }
    vr_md md = {0};
    vr_error e = {0};
    if (vr_sd_md_load(dir, sd_uuid, &md, &e) < 0) {
        json_object_set_new(info, "valid", json_false());
        json_object_set_new(info, "reason", json_string(e.message));
        return info;
    }
    json_t *keys = json_object();
    for (int i = 0; i < md.n; i++)
        json_object_set_new(keys, md.key[i], json_string(md.val[i]));
    const char *pool = vr_md_get(&md, "POOL_UUID"), *cls = vr_md_get(&md, "CLASS"),
               *type = vr_md_get(&md, "TYPE");
    char type_lc[16] = "";
    for (size_t i = 0; type && type[i] && i + 1 < sizeof(type_lc); i++)
        type_lc[i] = (char)(type[i] | 0x20);
    json_object_update_new(
        info, json_pack("{s:b, s:o, s:s?, s:s?, s:s?, s:s?, s:s?, s:o, s:o, s:o, s:o}", "valid",
                        true, "metadata", keys, "name", vr_md_get(&md, "DESCRIPTION"), "class",
                        vr_sd_class_engine(cls), "type", type ? type_lc : NULL, "pool",
                        pool && *pool ? pool : NULL, "role", vr_md_get(&md, "ROLE"),
                        "master_version", ll_or_null(&md, "MASTER_VERSION"), "spm_id",
                        ll_or_null(&md, "SPM_ID"), "lver", ll_or_null(&md, "LVER"), "created",
                        ll_or_null(&md, "CREATED")));
    vr_md_clear(&md);
    return info;
}

json_t *vr_sd_find_domains(const char *mount)
{
    json_t *out = json_array();
    DIR *d = opendir(mount);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!vr_valid_uuid(e->d_name) || vr_sd_dir_check(mount, e->d_name, NULL) < 0)
            continue;
        char dir[PATH_MAX];
        vr_sd_fmt(dir, sizeof(dir), "%s/%s", mount, e->d_name);
        json_t *info = vr_sd_info_json(dir, e->d_name);
        if (json_is_true(json_object_get(info, "valid")))
            json_array_append_new(out, info);
        else
            json_decref(info);
    }
    if (d)
        closedir(d);
    return out;
}

json_t *vr_sd_all_domains(const vr_agent *a)
{
    json_t *out = json_array();
    DIR *d = opendir(a->storage_root);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char mount[PATH_MAX];
        if (e->d_name[0] == '.' ||
            vr_sd_fmt(mount, sizeof(mount), "%s/%s", a->storage_root, e->d_name) < 0)
            continue;
        json_t *found = vr_sd_find_domains(mount);
        json_array_extend(out, found);
        json_decref(found);
    }
    if (d)
        closedir(d);
    return out;
}
