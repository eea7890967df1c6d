/* Volumes of a file storage domain (see volume.h). */
#include "volume.h"
#include "wipe.h"
#include "sanlk.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <stdint.h>
#include <sanlock.h>
#include <sanlock_admin.h>

#include "devspec.h"
#include "jsonx.h"
#include "log.h"
#include "qemuimg.h"
#include "sdpath.h"
#include "spm_state.h"

#define ZERO_UUID VR_VOLUME_NO_PARENT

static int copy_uuid(const char *s, char out[37], const char *what, vr_error *err)
{
    if (!vr_valid_uuid(s))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s '%s' is not a UUID", what, s);
    for (int i = 0; i < 37; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    return 0;
}

static int ref_from(json_t *obj, const char *where, vr_volume_ref *r, vr_error *err)
{
    const char *d, *i, *v;
    char w[3][96];
    snprintf(w[0], sizeof(w[0]), "%s.domain", where);
    snprintf(w[1], sizeof(w[1]), "%s.image", where);
    snprintf(w[2], sizeof(w[2]), "%s.volume", where);
    if (vr_json_str(obj, where, "domain", true, &d, err) < 0 ||
        vr_json_str(obj, where, "image", true, &i, err) < 0 ||
        vr_json_str(obj, where, "volume", true, &v, err) < 0 ||
        copy_uuid(d, r->domain, w[0], err) < 0 || copy_uuid(i, r->image, w[1], err) < 0 ||
        copy_uuid(v, r->volume, w[2], err) < 0)
        return -1;
    return 0;
}

int vr_volume_ref_parse(json_t *obj, const char *where, vr_volume_ref *r, vr_error *err)
{
    static const char *const keys[] = {"domain", "image", "volume"};
    if (!json_is_object(obj))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s must be an object", where);
    if (vr_json_check_keys(obj, where, VR_NAMES(keys), err) < 0)
        return -1;
    return ref_from(obj, where, r, err);
}

int vr_volume_ref_members(json_t *params, vr_volume_ref *r, vr_error *err)
{
    return ref_from(params, "params", r, err);
}

int vr_volume_ref_params(json_t *params, const char *const *extra, size_t nextra, vr_volume_ref *r,
                         vr_error *err)
{
    const char *keys[16] = {"domain", "image", "volume"};
    size_t n = 3;
    for (size_t i = 0; i < nextra && n < 16; i++)
        keys[n++] = extra[i];
    if (vr_json_check_keys(params, "params", (vr_names){keys, n}, err) < 0)
        return -1;
    return vr_volume_ref_members(params, r, err);
}

int vr_volume_spec_check(const vr_volume_spec *s, vr_error *err)
{
    if (!s->format || (strcmp(s->format, "raw") && strcmp(s->format, "qcow2")))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "format must be raw or qcow2");
    if (s->size <= 0 || s->size > VR_VOLUME_MAX_SIZE || s->size % 512)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                            "size %lld must be a multiple of 512 bytes, above 0 and at most 64 TiB",
                            s->size);
    if (s->description &&
        (strlen(s->description) > VR_VOLUME_MAX_DESC || !vr_valid_text(s->description)))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                            "description must be at most %d bytes of text without control characters",
                            VR_VOLUME_MAX_DESC);
    if (s->parent && !vr_valid_uuid(s->parent))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "parent must be a volume UUID");
    if (s->parent && strcmp(s->parent, ZERO_UUID) && strcmp(s->format, "qcow2"))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                            "a volume with a parent (a snapshot layer) must be qcow2");
    return 0;
}

int vr_volume_spm_begin(vr_agent *a, const char *domain, const char *what, char pool[37],
                        vr_error *err)
{
    char dir[PATH_MAX];
    vr_md md = {0};
    if (vr_sd_metadata(a, domain, dir, sizeof(dir), &md, err) < 0)
        return -1;
    const char *p = vr_md_get(&md, "POOL_UUID");
    snprintf(pool, 37, "%s", p ? p : "");
    vr_md_clear(&md);
    return vr_spm_job_begin(*pool ? pool : NULL, what, err);
}

int vr_volume_path(vr_agent *a, const vr_volume_ref *r, const char *suffix, char *out,
                   size_t size, vr_error *err)
{
    return vr_sd_volume_path(a, r->domain, r->image, r->volume, suffix, out, size, err);
}

int vr_volume_read_meta(vr_agent *a, const vr_volume_ref *r, vr_md *md, vr_error *err)
{
    char path[PATH_MAX];
    if (vr_volume_path(a, r, ".meta", path, sizeof(path), err) < 0)
        return -1;
    int rc = vr_md_read(path, md, err);
    if (rc == -ENOENT)
        return vr_error_set(err, VR_ERR_NOT_FOUND, "volume %s (image %s) does not exist in domain %s",
                            r->volume, r->image, r->domain);
    if (rc < 0) {
        err->code = VR_ERR_STORAGE;
        return -1;
    }
    return 0;
}

int vr_volume_update_meta(vr_agent *a, const vr_volume_ref *r, const char *key, const char *value,
                          vr_error *err)
{
    char path[PATH_MAX];
    vr_md md = {0};
    if (vr_volume_read_meta(a, r, &md, err) < 0 ||
        vr_volume_path(a, r, ".meta", path, sizeof(path), err) < 0) {
        vr_md_clear(&md);
        return -1;
    }
    int rc = vr_md_set(&md, key, value) < 0 ? -1 : vr_md_write(path, &md, err);
    vr_md_clear(&md);
    if (rc < 0 && err)
        err->code = VR_ERR_STORAGE;
    return rc < 0 ? -1 : 0;
}

int vr_volume_begin(vr_agent *a, const vr_volume_ref *r, const vr_volume_spec *s, vr_error *err)
{
    char data[PATH_MAX], meta[PATH_MAX], dir[PATH_MAX];
    if (vr_volume_spec_check(s, err) < 0 || vr_volume_path(a, r, "", data, sizeof(data), err) < 0 ||
        vr_volume_path(a, r, ".meta", meta, sizeof(meta), err) < 0)
        return -1;
    snprintf(dir, sizeof(dir), "%s", data);
    *strrchr(dir, '/') = 0;
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        return vr_error_set(err, VR_ERR_STORAGE, "cannot create image directory %s: %s", dir,
                            strerror(errno));
    /* images/ and images/<image> must be directories of the domain, not
     * symlinks that would put the volume somewhere else */
    struct stat st;
    char images[PATH_MAX];
    snprintf(images, sizeof(images), "%s", dir);
    *strrchr(images, '/') = 0;
    if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || lstat(images, &st) < 0 ||
        !S_ISDIR(st.st_mode))
        return vr_error_set(err, VR_ERR_STORAGE, "%s is not a directory of domain %s", dir,
                            r->domain);
    if (lstat(data, &st) == 0)
        return vr_error_set(err, VR_ERR_CONFLICT, "volume %s already exists (%s)", r->volume, data);
    /* An empty .meta claims the name: a second create of the same volume
     * fails here, not after overwriting the first one's data. */
    int fd = open(meta, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return errno == EEXIST
                   ? vr_error_set(err, VR_ERR_CONFLICT, "volume %s already exists (%s)", r->volume, meta)
                   : vr_error_set(err, VR_ERR_STORAGE, "cannot create %s: %s", meta, strerror(errno));
    close(fd);
    vr_md md = {0};
    int rc = 0;
    rc |= vr_md_set_ll(&md, "VERSION", 1);
    rc |= vr_md_set(&md, "DOMAIN", r->domain);
    rc |= vr_md_set(&md, "IMAGE", r->image);
    rc |= vr_md_set(&md, "VOLUME", r->volume);
    rc |= vr_md_set(&md, "FORMAT", strcmp(s->format, "qcow2") ? "RAW" : "COW");
    rc |= vr_md_set(&md, "TYPE", s->preallocated ? "PREALLOCATED" : "SPARSE");
    rc |= vr_md_set(&md, "VOLTYPE", "LEAF");
    rc |= vr_md_set(&md, "PUUID", s->parent ? s->parent : ZERO_UUID);
    rc |= vr_md_set(&md, "LEGALITY", "ILLEGAL");
    rc |= vr_md_set_ll(&md, "CAPACITY", s->size);
    rc |= vr_md_set(&md, "DESCRIPTION", s->description ? s->description : "");
    rc |= vr_md_set_ll(&md, "CTIME", (long long)time(NULL));
    if (rc < 0)
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "volume %s: metadata values refused", r->volume);
    else if (vr_md_write(meta, &md, err) < 0)
        err->code = VR_ERR_STORAGE, rc = -1;
    vr_md_clear(&md);
    if (rc < 0)
        vr_volume_discard(a, r);
    return rc < 0 ? -1 : 0;
}

/* The volume's sanlock resource: lockspace = domain, name = volume, at
 * offset 0 of <volume>.lease. sanlock's daemon writes it (O_DIRECT). */
static int write_lease(vr_agent *a, const vr_volume_ref *r, vr_error *err)
{
    char path[PATH_MAX], what[64];
    if (vr_volume_path(a, r, ".lease", path, sizeof(path), err) < 0)
        return -1;
    snprintf(what, sizeof(what), "volume %s", r->volume);
    return vr_sanlk_format_lease(path, r->domain, r->volume, what, err);
}

int vr_volume_commit(vr_agent *a, const vr_volume_ref *r, vr_error *err)
{
    if (write_lease(a, r, err) < 0 || vr_volume_update_meta(a, r, "LEGALITY", "LEGAL", err) < 0)
        return -1;
    return 0;
}

/* The data of a begun raw sparse volume: a sparse file, no qemu-img. */
static int make_sparse(const char *path, long long size, vr_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0660);
    if (fd < 0)
        return vr_error_set(err, VR_ERR_STORAGE, "cannot create %s: %s", path, strerror(errno));
    int rc = ftruncate(fd, (off_t)size) < 0 ? -errno : 0;
    if (close(fd) < 0 && !rc)
        rc = -errno;
    if (rc)
        return vr_error_set(err, VR_ERR_STORAGE, "cannot size %s to %lld bytes: %s", path, size,
                            strerror(-rc));
    return 0;
}

int vr_volume_create(vr_agent *a, const vr_volume_ref *r, const vr_volume_spec *s, vr_error *err)
{
    char data[PATH_MAX];
    if (s->parent && strcmp(s->parent, ZERO_UUID))
        return vr_volume_create_layer(a, r, s, err);
    if (vr_volume_begin(a, r, s, err) < 0)
        return -1;
    int rc = vr_volume_path(a, r, "", data, sizeof(data), err);
    if (rc == 0)
        rc = !strcmp(s->format, "raw") && !s->preallocated
                 ? make_sparse(data, s->size, err)
                 : vr_qemuimg_create(data, s->format, s->size, s->preallocated, err);
    if (rc == 0)
        rc = vr_volume_commit(a, r, err);
    if (rc < 0) {
        vr_volume_discard(a, r);
        return -1;
    }
    VR_INFO("volume %s/%s/%s created (%s, %s, %lld bytes)", r->domain, r->image, r->volume,
            s->format, s->preallocated ? "preallocated" : "sparse", s->size);
    return 0;
}

/* The volume's image directory, if it exists, is a real directory: never
 * write or remove through a symlink out of the domain. */
static int image_dir_check(vr_agent *a, const vr_volume_ref *r, vr_error *err)
{
    char path[PATH_MAX];
    struct stat st;
    if (vr_volume_path(a, r, "", path, sizeof(path), err) < 0)
        return -1;
    *strrchr(path, '/') = 0;
    if (lstat(path, &st) == 0 && !S_ISDIR(st.st_mode))
        return vr_error_set(err, VR_ERR_STORAGE, "%s is not a directory of domain %s", path,
                            r->domain);
    return 0;
}

/* Remove the volume's files and, if now empty, its image directory. */
static int remove_files(vr_agent *a, const vr_volume_ref *r, vr_error *err)
{
    static const char *const suffixes[] = {"", ".lease", ".meta.tmp", ".meta"};
    char path[PATH_MAX];
    if (image_dir_check(a, r, err) < 0)
        return -1;
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        if (vr_volume_path(a, r, suffixes[i], path, sizeof(path), err) < 0)
            return -1;
        if (unlink(path) < 0 && errno != ENOENT)
            return vr_error_set(err, VR_ERR_STORAGE, "cannot remove %s: %s", path, strerror(errno));
    }
    *strrchr(path, '/') = 0;
    if (rmdir(path) < 0 && errno != ENOTEMPTY && errno != EEXIST && errno != ENOENT)
        VR_WARN("cannot remove image directory %s: %s", path, strerror(errno));
    return 0;
}

void vr_volume_discard(vr_agent *a, const vr_volume_ref *r)
{
    vr_error e = {0};
    if (remove_files(a, r, &e) < 0)
        VR_WARN("cleaning up volume %s: %s", r->volume, e.message);
}

int vr_volume_delete_begin(vr_agent *a, const vr_volume_ref *r, char parent[37], bool *link, vr_error *err)
{
    char meta[PATH_MAX], data[PATH_MAX];
    struct stat st;
    *parent = 0;
    *link = false;
    if (vr_volume_path(a, r, ".meta", meta, sizeof(meta), err) < 0 ||
        vr_volume_path(a, r, "", data, sizeof(data), err) < 0 || image_dir_check(a, r, err) < 0)
        return -1;
    if (lstat(meta, &st) < 0 && lstat(data, &st) < 0)
        return vr_error_set(err, VR_ERR_NOT_FOUND, "volume %s (image %s) does not exist in domain %s",
                            r->volume, r->image, r->domain);
    /* A layer others are built on is data they read: never pull it away. */
    int nchild = vr_volume_children(a, r, NULL, 0, err);
    if (nchild < 0)
        return -1;
    if (nchild > 0)
        return vr_error_set(err, VR_ERR_CONFLICT,
                            "volume %s is the parent of %d other volume(s) of image %s: delete "
                            "or merge those first", r->volume, nchild, r->image);
    /* A template's volume linked into this image: only its links go; the
     * template keeps its files (and its data). */
    if ((*link = vr_volume_is_link(a, r)))
        return 0;
    vr_md pmd = {0};
    vr_error ignore = {0};
    if (vr_volume_read_meta(a, r, &pmd, &ignore) == 0 && vr_md_get(&pmd, "PUUID"))
        snprintf(parent, 37, "%s", vr_md_get(&pmd, "PUUID"));
    vr_md_clear(&pmd);
    /* ILLEGAL first: a crash halfway leaves a volume nobody will use. A
     * corrupt .meta cannot be rewritten and is simply removed. */
    if (vr_volume_update_meta(a, r, "LEGALITY", "ILLEGAL", &ignore) < 0)
        VR_WARN("volume %s: %s (removing anyway)", r->volume, ignore.message);
    return 0;
}

int vr_volume_delete_end(vr_agent *a, const vr_volume_ref *r, const char *parent, bool link, vr_error *err)
{
    if (remove_files(a, r, err) < 0)
        return -1;
    if (link) {
        VR_INFO("link of shared volume %s removed from image %s", r->volume, r->image);
        return 0;
    }
    VR_INFO("volume %s/%s/%s deleted", r->domain, r->image, r->volume);
    if (*parent && strcmp(parent, ZERO_UUID))
        vr_volume_relabel_parent(a, r, parent);
    return 0;
}

int vr_volume_delete(vr_agent *a, const vr_volume_ref *r, bool wipe, vr_error *err)
{
    char parent[37], data[PATH_MAX];
    bool link;
    if (vr_volume_delete_begin(a, r, parent, &link, err) < 0 ||
        vr_volume_path(a, r, "", data, sizeof(data), err) < 0)
        return -1;
    /* Zeros over the data while its name still exists: a delete cut off
     * mid-wipe leaves the ILLEGAL volume, and asking again wipes it whole. */
    if (wipe && !link && vr_wipe_file(data, NULL, NULL, NULL, err) < 0)
        return -1;
    return vr_volume_delete_end(a, r, parent, link, err);
}

static json_t *info_json(const vr_volume_ref *r, const vr_md *md, const char *data,
                         const char *corrupt)
{
    json_t *o = json_pack("{s:s, s:s, s:s}", "domain", r->domain, "image", r->image, "volume",
                          r->volume);
    struct stat st;
    json_object_set_new(o, "actual_size", json_integer(stat(data, &st) == 0
                                                           ? (json_int_t)st.st_blocks * 512
                                                           : 0));
    if (corrupt) {
        json_object_set_new(o, "legality", json_string("ILLEGAL"));
        json_object_set_new(o, "reason", json_string(corrupt));
        return o;
    }
    const char *fmt = vr_md_get(md, "FORMAT"), *type = vr_md_get(md, "TYPE"),
               *leg = vr_md_get(md, "LEGALITY");
    long long cap = 0, ctime_ = 0;
    vr_md_get_ll(md, "CAPACITY", &cap);
    vr_md_get_ll(md, "CTIME", &ctime_);
    json_object_set_new(o, "format", json_string(fmt && !strcmp(fmt, "COW") ? "qcow2" : "raw"));
    json_object_set_new(o, "type", json_string(type && !strcmp(type, "PREALLOCATED")
                                                   ? "preallocated" : "sparse"));
    json_object_set_new(o, "voltype", json_string(vr_md_get(md, "VOLTYPE") ? vr_md_get(md, "VOLTYPE") : "LEAF"));
    json_object_set_new(o, "parent", json_string(vr_md_get(md, "PUUID") ? vr_md_get(md, "PUUID") : ZERO_UUID));
    json_object_set_new(o, "capacity", json_integer(cap));
    json_object_set_new(o, "legality", json_string(leg && !strcmp(leg, "LEGAL") ? "LEGAL" : "ILLEGAL"));
    json_object_set_new(o, "description", json_string(vr_md_get(md, "DESCRIPTION") ? vr_md_get(md, "DESCRIPTION") : ""));
    json_object_set_new(o, "ctime", json_integer(ctime_));
    /* a memory volume (volume_memory.c: CONTENT=MEMORY) holds a saved VM
     * state, not a disk: an import must not list it */
    const char *content = vr_md_get(md, "CONTENT");
    json_object_set_new(o, "content", json_string(content && !strcmp(content, "MEMORY") ? "memory" : "data"));
    if (!leg || strcmp(leg, "LEGAL"))
        json_object_set_new(o, "reason",
                            json_string("not complete: being created or copied, or a create, "
                                        "copy or delete stopped halfway"));
    return o;
}

int vr_volume_info(vr_agent *a, const vr_volume_ref *r, json_t **out, vr_error *err)
{
    char data[PATH_MAX], meta[PATH_MAX];
    if (vr_volume_path(a, r, "", data, sizeof(data), err) < 0 ||
        vr_volume_path(a, r, ".meta", meta, sizeof(meta), err) < 0)
        return -1;
    vr_md md = {0};
    vr_error why = {0};
    int rc = vr_md_read(meta, &md, &why);
    if (rc == -ENOENT)
        return vr_error_set(err, VR_ERR_NOT_FOUND, "volume %s (image %s) does not exist in domain %s",
                            r->volume, r->image, r->domain);
    *out = info_json(r, &md, data, rc < 0 ? why.message : NULL);
    vr_md_clear(&md);
    return 0;
}

int vr_volume_list(vr_agent *a, const char *domain, json_t **out, vr_error *err)
{
    char dir[PATH_MAX], images[PATH_MAX + 16];
    vr_volume_ref r;
    memset(&r, 0, sizeof(r));
    if (copy_uuid(domain, r.domain, "domain", err) < 0 || vr_sd_dir(a, r.domain, dir, sizeof(dir), err) < 0)
        return -1;
    snprintf(images, sizeof(images), "%s/images", dir);
    json_t *list = json_array();
    DIR *d = opendir(images);
    if (!d && errno != ENOENT) {
        json_decref(list);
        return vr_error_set(err, VR_ERR_STORAGE, "cannot read %s: %s", images, strerror(errno));
    }
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!vr_valid_uuid(e->d_name) || copy_uuid(e->d_name, r.image, "image", NULL) < 0 ||
            strcmp(r.image, e->d_name))
            continue; /* stray entries are not volumes (ours are lowercase UUIDs) */
        char idir[PATH_MAX + 64];
        if (snprintf(idir, sizeof(idir), "%s/%s", images, r.image) >= (int)sizeof(idir))
            continue;
        DIR *id = opendir(idir);
        struct dirent *f;
        while (id && (f = readdir(id))) {
            size_t n = strlen(f->d_name);
            if (n != 36 + 5 || strcmp(f->d_name + 36, ".meta"))
                continue;
            char vol[37];
            memcpy(vol, f->d_name, 36);
            vol[36] = 0;
            json_t *info;
            vr_error ignore = {0};
            if (copy_uuid(vol, r.volume, "volume", NULL) == 0 &&
                vr_volume_info(a, &r, &info, &ignore) == 0)
                json_array_append_new(list, info);
        }
        if (id)
            closedir(id);
    }
    if (d)
        closedir(d);
    *out = json_pack("{s:o}", "volumes", list);
    return 0;
}

static int read_legal(vr_agent *a, const vr_volume_ref *r, vr_md *md, vr_error *err)
{
    if (vr_volume_read_meta(a, r, md, err) < 0)
        return -1;
    const char *leg = vr_md_get(md, "LEGALITY");
    if (!leg || strcmp(leg, "LEGAL")) {
        vr_md_clear(md);
        return vr_error_set(err, VR_ERR_BAD_STATE, "volume %s (image %s, domain %s) is ILLEGAL",
                            r->volume, r->image, r->domain);
    }
    return 0;
}

int vr_volume_set_capacity(vr_agent *a, const vr_volume_ref *r, long long size, vr_error *err)
{
    char meta[PATH_MAX];
    vr_md md = {0};
    if (vr_volume_read_meta(a, r, &md, err) < 0)
        return -1;
    int rc = vr_volume_path(a, r, ".meta", meta, sizeof(meta), err);
    if (rc == 0 && vr_md_set_ll(&md, "CAPACITY", size) == 0)
        rc = vr_md_write(meta, &md, err);
    vr_md_clear(&md);
    if (rc < 0 && err)
        err->code = VR_ERR_STORAGE;
    return rc < 0 ? -1 : 0;
}

int vr_volume_extend(vr_agent *a, const vr_volume_ref *r, long long size, vr_error *err)
{
    char data[PATH_MAX];
    vr_md md = {0};
    long long cap = 0;
    if (size <= 0 || size > VR_VOLUME_MAX_SIZE || size % 512)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                            "size %lld must be a multiple of 512 bytes, above 0 and at most 64 TiB",
                            size);
    if (vr_volume_path(a, r, "", data, sizeof(data), err) < 0 || read_legal(a, r, &md, err) < 0)
        return -1;
    vr_md_get_ll(&md, "CAPACITY", &cap);
    const char *fmt = vr_md_get(&md, "FORMAT"), *type = vr_md_get(&md, "TYPE");
    bool cow = fmt && !strcmp(fmt, "COW"), pre = type && !strcmp(type, "PREALLOCATED");
    vr_md_clear(&md);
    if (size < cap)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                            "volume %s is %lld bytes; it can only grow (asked %lld)", r->volume, cap,
                            size);
    if (size > cap && (vr_qemuimg_resize(data, cow ? "qcow2" : "raw", size, pre, err) < 0 ||
                       vr_volume_set_capacity(a, r, size, err) < 0))
        return -1;
    VR_INFO("volume %s/%s/%s extended to %lld bytes", r->domain, r->image, r->volume, size);
    return 0;
}

int vr_volume_resolve(vr_agent *a, const vr_volume_ref *r, char *path, size_t size,
                      const char **format, vr_error *err)
{
    vr_md md = {0};
    vr_error why = {0};
    if (vr_volume_path(a, r, "", path, size, err) < 0)
        return -1;
    if (vr_volume_read_meta(a, r, &md, &why) < 0)
        return vr_error_set(err, why.code == VR_ERR_NOT_FOUND ? VR_ERR_NOT_FOUND : VR_ERR_STORAGE,
                            "volume %s (image %s, domain %s) cannot be used: %s", r->volume,
                            r->image, r->domain, why.message);
    const char *leg = vr_md_get(&md, "LEGALITY"), *fmt = vr_md_get(&md, "FORMAT");
    bool legal = leg && !strcmp(leg, "LEGAL");
    *format = fmt && !strcmp(fmt, "COW") ? "qcow2" : "raw";
    vr_md_clear(&md);
    if (!legal)
        return vr_error_set(err, VR_ERR_BAD_STATE,
                            "volume %s (image %s, domain %s) is ILLEGAL and cannot be used by a VM",
                            r->volume, r->image, r->domain);
    struct stat st;
    if (stat(path, &st) < 0)
        return vr_error_set(err, VR_ERR_STORAGE, "volume %s: data file %s: %s", r->volume, path,
                            strerror(errno));
    return 0;
}
