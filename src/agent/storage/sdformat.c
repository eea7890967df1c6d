/* Storage domain layout creation (see sdformat.h). */
#include "sdformat.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <stdint.h>
#include <sanlock.h>
#include <sanlock_admin.h>

#include "log.h"
#include "mdfile.h"
#include "sanlk.h"
#include "sdinfo.h"

#define MIB (1024LL * 1024)

static const struct {
    const char *name;
    long long size;
} files[] = {{"ids", MIB}, {"leases", 2 * MIB}, {"inbox", MIB}, {"outbox", MIB}};

/* Sanlock's files: 0660 and, where the daemon runs as user sanlock (as it
 * does in production), group sanlock so it can open them. */
static int make_file(const char *path, long long size, gid_t gid, vr_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0660);
    if (fd < 0)
        return vr_error_set(err, VR_ERR_STORAGE, "cannot create %s: %s", path, strerror(errno));
    int rc = ftruncate(fd, size) < 0 || fchmod(fd, 0660) < 0 ||
             (gid != (gid_t)-1 && fchown(fd, (uid_t)-1, gid) < 0) || fsync(fd) < 0;
    int e = errno;
    close(fd);
    if (rc)
        return vr_error_set(err, VR_ERR_STORAGE, "cannot size %s: %s", path, strerror(e));
    return 0;
}

static void remove_layout(const char *dir)
{
    char p[PATH_MAX];
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        vr_sd_fmt(p, sizeof(p), "%s/dom_md/%s", dir, files[i].name);
        unlink(p);
    }
    vr_sd_fmt(p, sizeof(p), "%s/dom_md/metadata.tmp", dir);
    unlink(p);
    vr_sd_fmt(p, sizeof(p), "%s/dom_md", dir);
    rmdir(p);
    vr_sd_fmt(p, sizeof(p), "%s/images", dir);
    rmdir(p);
    rmdir(dir);
}

static int write_leases(const char *dir, const char *sd_uuid, int io_timeout, vr_error *err)
{
    struct sanlk_lockspace ls;
    vr_sanlk_res res;
    char leases[PATH_MAX];
    vr_sd_fmt(leases, sizeof(leases), "%s/dom_md/leases", dir);
    if (vr_sanlk_lockspace(&ls, dir, sd_uuid, 0) < 0 ||
        vr_sanlk_resource(&res, sd_uuid, "SDM", leases, VR_SDM_OFFSET) < 0)
        return vr_error_set(err, VR_ERR_STORAGE, "path %s is too long for sanlock", dir);
    int rv = sanlock_write_lockspace(&ls, 0, 0, (uint32_t)io_timeout);
    if (rv < 0)
        return vr_sanlk_error(err, VR_ERR_STORAGE, rv, "initialize the lockspace in dom_md/ids");
    rv = sanlock_write_resource(&res.r, 0, 0, 0);
    if (rv < 0)
        return vr_sanlk_error(err, VR_ERR_STORAGE, rv, "initialize the SDM lease in dom_md/leases");
    return 0;
}

static int write_metadata(const char *dir, const vr_sd_format_req *req, vr_error *err)
{
    vr_md md = {0};
    int rc = vr_md_set_ll(&md, "VERSION", 1) | vr_md_set(&md, "SDUUID", req->sd_uuid) |
             vr_md_set(&md, "DESCRIPTION", req->name) | vr_md_set(&md, "CLASS", req->md_class) |
             vr_md_set(&md, "TYPE", req->md_type) | vr_md_set(&md, "POOL_UUID", "") |
             vr_md_set(&md, "ROLE", "Regular") | vr_md_set_ll(&md, "MASTER_VERSION", 0) |
             vr_md_set_ll(&md, "SPM_ID", -1) | vr_md_set_ll(&md, "LVER", -1) |
             vr_md_set_ll(&md, "CREATED", (long long)time(NULL));
    if (rc)
        rc = vr_error_set(err, VR_ERR_INVALID_PARAMS, "the domain name is not valid metadata text");
    else
        rc = vr_sd_md_store(dir, &md, err);
    vr_md_clear(&md);
    return rc;
}

int vr_sd_format(const char *mount, const vr_sd_format_req *req, vr_error *err)
{
    char dir[PATH_MAX], p[PATH_MAX];
    if (snprintf(dir, sizeof(dir), "%s/%s", mount, req->sd_uuid) >= (int)sizeof(dir) - 32)
        return vr_error_set(err, VR_ERR_STORAGE, "mount path %s is too long", mount);
    if (mkdir(dir, 0755) < 0) {
        if (errno == EEXIST)
            return vr_error_set(err, VR_ERR_CONFLICT, "%s already exists: domain %s is formatted "
                                "there already (or something else is)", dir, req->sd_uuid);
        return vr_error_set(err, VR_ERR_STORAGE, "cannot create %s: %s", dir, strerror(errno));
    }
    struct group *g = getgrnam("sanlock");
    gid_t gid = g ? g->gr_gid : (gid_t)-1;
    int rc = 0;
    vr_sd_fmt(p, sizeof(p), "%s/dom_md", dir);
    if (mkdir(p, 0755) < 0)
        rc = vr_error_set(err, VR_ERR_STORAGE, "cannot create %s: %s", p, strerror(errno));
    vr_sd_fmt(p, sizeof(p), "%s/images", dir);
    if (!rc && mkdir(p, 0755) < 0)
        rc = vr_error_set(err, VR_ERR_STORAGE, "cannot create %s: %s", p, strerror(errno));
    for (size_t i = 0; !rc && i < sizeof(files) / sizeof(files[0]); i++) {
        vr_sd_fmt(p, sizeof(p), "%s/dom_md/%s", dir, files[i].name);
        rc = make_file(p, files[i].size, gid, err);
    }
    if (!rc)
        rc = write_leases(dir, req->sd_uuid, req->io_timeout, err);
    if (!rc)
        rc = write_metadata(dir, req, err);
    if (rc) {
        remove_layout(dir);
        return -1;
    }
    VR_INFO("storage domain %s (%s) formatted in %s", req->sd_uuid, req->name, dir);
    return 0;
}
