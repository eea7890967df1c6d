/* VM leases on a domain's storage (see vmlease.h). */
#include "vmlease.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sanlock.h>
#include <sanlock_admin.h>
#include <sanlock_rv.h>

#include "devspec.h"
#include "jsonx.h"
#include "lockspace.h"
#include "log.h"
#include "sanlk.h"
#include "sdinfo.h"
#include "sdpath.h"
#include "spm_state.h"
#include "verbs.h"
#include "volume.h"


static int check_ids(const char *domain, const char *key, vr_error *err)
{
    if (!vr_valid_uuid(domain))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "domain '%s' is not a UUID", domain);
    if (!vr_valid_uuid(key))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "lease '%s' is not a UUID (the VM's id)", key);
    return 0;
}

static int lease_dir(const vr_agent *a, const char *domain, char *out, size_t size, vr_error *err)
{
    char dir[PATH_MAX];
    if (vr_sd_dir(a, domain, dir, sizeof(dir), err) < 0)
        return -1;
    if (vr_sd_fmt(out, size, "%s/%s", dir, VR_VMLEASE_DIR) < 0)
        return vr_error_set(err, VR_ERR_STORAGE, "path of domain %s is too long", domain);
    return 0;
}

int vr_vmlease_path(const vr_agent *a, const char *domain, const char *key, char *out, size_t size,
                    vr_error *err)
{
    char dir[PATH_MAX];
    if (check_ids(domain, key, err) < 0 || lease_dir(a, domain, dir, sizeof(dir), err) < 0)
        return -1;
    if (vr_sd_fmt(out, size, "%s/%s.lease", dir, key) < 0 || strlen(out) >= SANLK_PATH_LEN)
        return vr_error_set(err, VR_ERR_STORAGE, "lease path of VM %s in domain %s is too long for sanlock",
                            key, domain);
    return 0;
}

/* The resource as it should be on storage (names, path, offset 0). */
static void resource(vr_sanlk_res *res, const char *domain, const char *key, const char *path)
{
    vr_sanlk_resource(res, domain, key, path, 0); /* path length checked by vr_vmlease_path */
}

/* 1: path holds the lease of key in domain; 0: not (missing, blank or
 * another); -1: unreadable. */
static int lease_there(const char *domain, const char *key, const char *path, vr_error *err)
{
    if (access(path, F_OK) < 0)
        return errno == ENOENT ? 0 : vr_error_set(err, VR_ERR_STORAGE, "cannot reach %s: %s", path, strerror(errno));
    vr_sanlk_res res;
    resource(&res, "", "", path);
    int rv = sanlock_read_resource(&res.r, 0);
    if (rv < 0)
        return 0; /* torn or foreign: rewritten */
    return !strncmp(res.r.lockspace_name, domain, SANLK_NAME_LEN) && !strncmp(res.r.name, key, SANLK_NAME_LEN);
}

static int write_lease(const char *domain, const char *key, const char *dir, const char *path, vr_error *err)
{
    char tmp[PATH_MAX];
    if (vr_sd_fmt(tmp, sizeof(tmp), "%s.tmp", path) < 0 || strlen(tmp) >= SANLK_PATH_LEN)
        return vr_error_set(err, VR_ERR_STORAGE, "lease path %s is too long for sanlock", path);
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        return vr_error_set(err, VR_ERR_STORAGE, "cannot create %s: %s", dir, strerror(errno));
    if (vr_sanlk_format_lease(tmp, domain, key, "a VM", err) < 0) {
        unlink(tmp);
        return -1;
    }
    /* sanlock wrote with O_DIRECT: the data is on storage; the name next. */
    if (rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return vr_error_set(err, VR_ERR_STORAGE, "cannot rename %s: %s", tmp, strerror(e));
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

int vr_vmlease_create(vr_agent *a, const char *domain, const char *key, json_t **out, vr_error *err)
{
    char path[PATH_MAX], dir[PATH_MAX], pool[37];
    if (vr_vmlease_path(a, domain, key, path, sizeof(path), err) < 0 ||
        lease_dir(a, domain, dir, sizeof(dir), err) < 0 ||
        vr_volume_spm_begin(a, domain, "create a VM lease", pool, err) < 0)
        return -1;
    int there = lease_there(domain, key, path, err);
    int rc = there < 0 ? -1 : there ? 0 : write_lease(domain, key, dir, path, err);
    vr_spm_job_end(pool);
    if (rc < 0)
        return -1;
    if (!there)
        VR_INFO("created the lease of VM %s in domain %s", key, domain);
    return vr_vmlease_info(a, domain, key, out, err);
}

/* Owner host id of the lease on storage (-1: free) and its version. */
/* The lease's owner host id (-1: none), the generation it took it in
 * (gen may be NULL) and the lease's version. */
static int owner_gen_of(const char *domain, const char *key, const char *path, long long *owner,
                        unsigned long long *gen, long long *lver, vr_error *err)
{
    vr_sanlk_res res;
    resource(&res, domain, key, path);
    return vr_sanlk_read_owner_gen(&res, owner, gen, lver, err);
}

static int owner_of(const char *domain, const char *key, const char *path, long long *owner, long long *lver,
                    vr_error *err)
{
    return owner_gen_of(domain, key, path, owner, NULL, lver, err);
}

int vr_vmlease_delete(vr_agent *a, const char *domain, const char *key, vr_error *err)
{
    char path[PATH_MAX], pool[37];
    if (vr_vmlease_path(a, domain, key, path, sizeof(path), err) < 0 ||
        vr_volume_spm_begin(a, domain, "delete a VM lease", pool, err) < 0)
        return -1;
    int rc = 0;
    long long owner = -1, lver = 0;
    vr_error ignored = {0};
    if (access(path, F_OK) == 0 && owner_of(domain, key, path, &owner, &lver, &ignored) == 0 && owner > 0)
        rc = vr_error_set(err, VR_ERR_LEASE_HELD, "the lease of VM %s in domain %s is held by host id %lld: "
                          "stop the VM first", key, domain, owner);
    else if (unlink(path) < 0 && errno != ENOENT)
        rc = vr_error_set(err, VR_ERR_STORAGE, "cannot remove %s: %s", path, strerror(errno));
    vr_spm_job_end(pool);
    if (!rc)
        VR_INFO("removed the lease of VM %s in domain %s", key, domain);
    return rc;
}

int vr_vmlease_info(const vr_agent *a, const char *domain, const char *key, json_t **out, vr_error *err)
{
    char path[PATH_MAX];
    long long owner, lver;
    unsigned long long gen = 0;
    if (vr_vmlease_path(a, domain, key, path, sizeof(path), err) < 0)
        return -1;
    int there = lease_there(domain, key, path, err);
    if (there <= 0)
        return there < 0 ? -1 : vr_error_set(err, VR_ERR_NOT_FOUND, "VM %s has no lease in domain %s", key, domain);
    if (owner_gen_of(domain, key, path, &owner, &gen, &lver, err) < 0)
        return -1;
    *out = json_pack("{s:s, s:s, s:s, s:i, s:o, s:I, s:s}", "domain", domain, "lease", key, "path", path, "offset",
                     0, "owner", owner > 0 ? json_integer(owner) : json_null(), "lver", (json_int_t)lver,
                     "owner_state", owner > 0 ? vr_ls_host_state(domain, owner, gen) : "free");
    return 0;
}

int vr_vmlease_list(const vr_agent *a, const char *domain, json_t **out, vr_error *err)
{
    char dir[PATH_MAX];
    if (!vr_valid_uuid(domain))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "domain '%s' is not a UUID", domain);
    if (lease_dir(a, domain, dir, sizeof(dir), err) < 0)
        return -1;
    json_t *list = json_array();
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        size_t n = strlen(de->d_name);
        char uuid[37];
        if (n != 36 + 6 || strcmp(de->d_name + 36, ".lease"))
            continue;
        memcpy(uuid, de->d_name, 36);
        uuid[36] = 0;
        if (vr_valid_uuid(uuid))
            json_array_append_new(list, json_string(uuid));
    }
    if (d)
        closedir(d);
    else if (errno != ENOENT) {
        json_decref(list);
        return vr_error_set(err, VR_ERR_STORAGE, "cannot list %s: %s", dir, strerror(errno));
    }
    *out = json_pack("{s:o}", "leases", list);
    return 0;
}

int vr_vmlease_for_vm(const vr_agent *a, const char *domain, const char *key, char *out, size_t size,
                      vr_error *err)
{
    const char *state;
    int host_id;
    bool failed;
    if (vr_vmlease_path(a, domain, key, out, size, err) < 0)
        return -1;
    int there = lease_there(domain, key, out, err);
    if (there <= 0)
        return there < 0 ? -1 : vr_error_set(err, VR_ERR_STORAGE, "VM %s has no lease on domain %s (%s): the SPM "
                                             "creates it", key, domain, out);
    if (vr_ls_status(domain, &state, &host_id, &failed, err) < 0)
        return -1;
    if (strcmp(state, "joined"))
        return vr_error_set(err, VR_ERR_BAD_STATE, "the lockspace of domain %s is %s on this host; a VM with a "
                            "lease there cannot start", domain, state);
    return 0;
}

int vr_vmlease_held_here(const vr_agent *a, const char *domain, const char *key, vr_error *err)
{
    char path[PATH_MAX];
    const char *state;
    int host_id;
    bool failed;
    long long owner, lver;
    if (vr_vmlease_path(a, domain, key, path, sizeof(path), err) < 0 ||
        vr_ls_status(domain, &state, &host_id, &failed, err) < 0 ||
        owner_of(domain, key, path, &owner, &lver, err) < 0)
        return -1;
    return owner == host_id;
}

/* --- verbs --- */

static int lease_params(json_t *params, const char **domain, const char **key, vr_error *err)
{
    static const char *const keys[] = {"domain", "lease"};
    return vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0 ||
                   vr_json_str(params, "params", "domain", true, domain, err) < 0 ||
                   vr_json_str(params, "params", "lease", true, key, err) < 0
               ? -1
               : check_ids(*domain, *key, err);
}

static int lease_create(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    const char *domain, *key;
    return lease_params(params, &domain, &key, err) < 0 ? -1 : vr_vmlease_create(a, domain, key, result, err);
}

static int lease_delete(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    const char *domain, *key;
    if (lease_params(params, &domain, &key, err) < 0 || vr_vmlease_delete(a, domain, key, err) < 0)
        return -1;
    *result = json_object();
    return 0;
}

static int lease_info(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    const char *domain, *key;
    return lease_params(params, &domain, &key, err) < 0 ? -1 : vr_vmlease_info(a, domain, key, result, err);
}

static int lease_list(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    static const char *const keys[] = {"domain"};
    const char *domain;
    if (vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0 ||
        vr_json_str(params, "params", "domain", true, &domain, err) < 0)
        return -1;
    return vr_vmlease_list(a, domain, result, err);
}

const vr_verb vr_lease_verbs[] = {
    {"Lease.create", lease_create},
    {"Lease.delete", lease_delete},
    {"Lease.info", lease_info},
    {"Lease.list", lease_list},
    {NULL, NULL},
};
