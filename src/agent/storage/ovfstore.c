/* Ovf.* verbs: the OVF descriptions of VMs and templates kept on an export
 * domain (docs/storage.md "Export domains"), in VDSM's layout
 * <domain>/master/vms/<vm-uuid>/<vm-uuid>.ovf (templates, params.template
 * true: master/templates/), and the OVF store of a data
 * domain (docs/storage.md "The OVF store of data domains"),
 * <domain>/dom_md/ovf/<uuid>/<uuid>.ovf for its VMs and templates. The
 * agent stores and hands back the text as it is: the engine writes it
 * (libxml2's writer) and parses it (no network, no entities). Only the SPM
 * writes; any host that has the domain connected reads. */
#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devspec.h"
#include "jsonx.h"
#include "log.h"
#include "mdfile.h"
#include "sdpath.h"
#include "spm_state.h"
#include "verbs.h"
#include "volume.h"

#define OVF_MAX (256 * 1024) /* bytes of one OVF: far above any real VM's */
#define OVF_LIST_MAX 1000    /* VMs listed from one domain */

/* <domain dir>/master/vms (templates: master/templates) of an export
 * domain (Backup), <domain dir>/dom_md/ovf of a data domain (VMs and
 * templates together); no other class has OVFs. */
static int vms_dir(vr_agent *a, const char *domain, bool template, char *out, size_t size, vr_error *err)
{
    char dir[PATH_MAX];
    vr_md md = {0};
    if (!vr_valid_uuid(domain))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "params.domain must be a UUID");
    if (vr_sd_metadata(a, domain, dir, sizeof(dir), &md, err) < 0)
        return -1;
    const char *cls = vr_md_get(&md, "CLASS");
    bool data = cls && !strcmp(cls, "Data");
    int rc = data || (cls && !strcmp(cls, "Backup")) ? 0
        : vr_error_set(err, VR_ERR_INVALID_PARAMS, "storage domain %s is neither an export nor a data domain"
                       " (class %s)", domain, cls ? cls : "unknown");
    vr_md_clear(&md);
    const char *sub = data ? "dom_md/ovf" : template ? "master/templates" : "master/vms";
    if (rc == 0 && (size_t)snprintf(out, size, "%s/%s", dir, sub) >= size)
        rc = vr_error_set(err, VR_ERR_STORAGE, "path of domain %s too long", domain);
    return rc;
}

static int mkdir_one(const char *path, vr_error *err)
{
    if (mkdir(path, 0755) < 0 && errno != EEXIST)
        return vr_error_set(err, VR_ERR_STORAGE, "cannot make directory %s: %s", path, strerror(errno));
    return 0;
}

static int fsync_path(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

/* Write text to path atomically (path.tmp, fsync, rename, fsync dir). */
static int write_atomic(const char *dir, const char *path, const char *text, size_t len, vr_error *err)
{
    char tmp[PATH_MAX + 200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return vr_error_set(err, VR_ERR_STORAGE, "cannot write %s: %s", tmp, strerror(errno));
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            close(fd);
            unlink(tmp);
            return vr_error_set(err, VR_ERR_STORAGE, "cannot write %s: %s", tmp, strerror(e));
        }
        off += (size_t)n;
    }
    int rc = fsync(fd) < 0 ? errno : 0;
    close(fd);
    if (rc == 0 && rename(tmp, path) < 0)
        rc = errno;
    if (rc) {
        unlink(tmp);
        return vr_error_set(err, VR_ERR_STORAGE, "cannot write %s: %s", path, strerror(rc));
    }
    fsync_path(dir, O_RDONLY | O_DIRECTORY);
    return 0;
}

/* Ovf.put {domain, vm, ovf}: SPM only. */
static int ovf_put(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    static const char *const keys[] = {"domain", "vm", "ovf", "template"};
    const char *domain, *vm, *ovf;
    char dir[PATH_MAX], vdir[PATH_MAX + 40], path[PATH_MAX + 90], pool[37];
    bool template = false;
    if (vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0 ||
        vr_json_bool(params, "params", "template", false, &template, err) < 0 ||
        vr_json_str(params, "params", "domain", true, &domain, err) < 0 ||
        vr_json_str(params, "params", "vm", true, &vm, err) < 0 ||
        vr_json_str(params, "params", "ovf", true, &ovf, err) < 0)
        return -1;
    if (!vr_valid_uuid(vm))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "params.vm must be a UUID");
    size_t len = strlen(ovf);
    if (len > OVF_MAX)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "params.ovf is %zu bytes; at most %d", len, OVF_MAX);
    if (vms_dir(a, domain, template, dir, sizeof(dir), err) < 0 ||
        vr_volume_spm_begin(a, domain, "write an OVF", pool, err) < 0)
        return -1;
    snprintf(vdir, sizeof(vdir), "%s/%s", dir, vm);
    snprintf(path, sizeof(path), "%s/%s.ovf", vdir, vm);
    char master[PATH_MAX]; /* master/ or dom_md/ (there already) */
    snprintf(master, sizeof(master), "%.*s", (int)(strrchr(dir, '/') - dir), dir);
    int rc = mkdir_one(master, err) < 0 || mkdir_one(dir, err) < 0 || mkdir_one(vdir, err) < 0 ? -1
        : write_atomic(vdir, path, ovf, len, err);
    vr_spm_job_end(pool);
    if (rc == 0) {
        VR_INFO("OVF of VM %s written on domain %s (%zu bytes)", vm, domain, len);
        *result = json_pack("{s:s, s:I}", "vm", vm, "size", (json_int_t)len);
    }
    return rc;
}

/* The params {domain, vm, template?} of Ovf.get and Ovf.remove, and the
 * domain's OVF directory (dir, PATH_MAX bytes). */
static int domain_vm(vr_agent *a, json_t *params, const char **domain, const char **vm, char *dir, vr_error *err)
{
    static const char *const keys[] = {"domain", "vm", "template"};
    bool template = false;
    if (vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0 ||
        vr_json_bool(params, "params", "template", false, &template, err) < 0 ||
        vr_json_str(params, "params", "domain", true, domain, err) < 0 ||
        vr_json_str(params, "params", "vm", true, vm, err) < 0)
        return -1;
    if (!vr_valid_uuid(*vm))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "params.vm must be a UUID");
    return vms_dir(a, *domain, template, dir, PATH_MAX, err);
}

/* Ovf.get {domain, vm} -> {vm, ovf}: any host. An OVF above OVF_MAX, or
 * not a regular file, is refused (never read whole). */
static int ovf_get(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    const char *domain, *vm;
    char dir[PATH_MAX], path[PATH_MAX + 90];
    if (domain_vm(a, params, &domain, &vm, dir, err) < 0)
        return -1;
    snprintf(path, sizeof(path), "%s/%s/%s.ovf", dir, vm, vm);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? vr_error_set(err, VR_ERR_NOT_FOUND, "no OVF of VM %s on domain %s", vm, domain)
                               : vr_error_set(err, VR_ERR_STORAGE, "cannot read %s: %s", path, strerror(errno));
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        rc = vr_error_set(err, VR_ERR_STORAGE, "%s is not a regular file", path);
    else if (st.st_size > OVF_MAX)
        rc = vr_error_set(err, VR_ERR_STORAGE, "the OVF of VM %s is %lld bytes; at most %d are read", vm,
                          (long long)st.st_size, OVF_MAX);
    char *buf = rc == 0 ? malloc((size_t)st.st_size + 1) : NULL;
    size_t got = 0;
    if (rc == 0 && !buf)
        rc = vr_error_set(err, VR_ERR_INTERNAL, "out of memory");
    while (rc == 0 && got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* shorter than it was: what was read */
        got += (size_t)n;
    }
    close(fd);
    if (rc == 0) {
        buf[got] = '\0';
        json_t *text = json_stringn(buf, got); /* NULL: not UTF-8, or a NUL inside */
        if (!text)
            rc = vr_error_set(err, VR_ERR_STORAGE, "the OVF of VM %s is not UTF-8 text", vm);
        else
            *result = json_pack("{s:s, s:o}", "vm", vm, "ovf", text);
    }
    free(buf);
    return rc;
}

/* Ovf.list {domain, template?} -> {vms: [uuid]}: those with an OVF file. */
static int ovf_list(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    static const char *const keys[] = {"domain", "template"};
    const char *domain;
    char dir[PATH_MAX];
    bool template = false;
    if (vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0 ||
        vr_json_str(params, "params", "domain", true, &domain, err) < 0 ||
        vr_json_bool(params, "params", "template", false, &template, err) < 0 ||
        vms_dir(a, domain, template, dir, sizeof(dir), err) < 0)
        return -1;
    json_t *vms = json_array();
    DIR *d = opendir(dir);
    if (!d && errno != ENOENT) {
        json_decref(vms);
        return vr_error_set(err, VR_ERR_STORAGE, "cannot list %s: %s", dir, strerror(errno));
    }
    struct dirent *de;
    while (d && (de = readdir(d)) && json_array_size(vms) < OVF_LIST_MAX) {
        char path[PATH_MAX + 600];
        struct stat st;
        if (!vr_valid_uuid(de->d_name))
            continue;
        snprintf(path, sizeof(path), "%s/%s/%s.ovf", dir, de->d_name, de->d_name);
        if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
            json_array_append_new(vms, json_string(de->d_name));
    }
    if (d)
        closedir(d);
    *result = json_pack("{s:o}", "vms", vms);
    return 0;
}

/* Ovf.remove {domain, vm}: SPM only; an OVF already gone is success. */
static int ovf_remove(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    const char *domain, *vm;
    char dir[PATH_MAX], vdir[PATH_MAX + 40], path[PATH_MAX + 90], pool[37];
    if (domain_vm(a, params, &domain, &vm, dir, err) < 0 ||
        vr_volume_spm_begin(a, domain, "remove an OVF", pool, err) < 0)
        return -1;
    snprintf(vdir, sizeof(vdir), "%s/%s", dir, vm);
    snprintf(path, sizeof(path), "%s/%s.ovf", vdir, vm);
    int rc = 0;
    bool gone = unlink(path) < 0 && errno == ENOENT;
    if (!gone && access(path, F_OK) == 0)
        rc = vr_error_set(err, VR_ERR_STORAGE, "cannot remove %s: %s", path, strerror(errno));
    char tmp[PATH_MAX + 100];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path); /* a cut-off put's */
    unlink(tmp);
    if (rc == 0 && rmdir(vdir) < 0 && errno != ENOENT)
        rc = vr_error_set(err, VR_ERR_STORAGE, "cannot remove %s: %s", vdir, strerror(errno));
    if (rc == 0)
        fsync_path(dir, O_RDONLY | O_DIRECTORY);
    vr_spm_job_end(pool);
    if (rc == 0) {
        if (!gone)
            VR_INFO("OVF of %s removed from domain %s", vm, domain);
        *result = json_pack("{s:s, s:b}", "vm", vm, "removed", !gone);
    }
    return rc;
}

const vr_verb vr_ovf_verbs[] = {
    {"Ovf.remove", ovf_remove},
    {"Ovf.put", ovf_put},
    {"Ovf.get", ovf_get},
    {"Ovf.list", ovf_list},
    {NULL, NULL},
};
