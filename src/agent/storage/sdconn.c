/* Storage connections: parsing, mount/umount, localfs links (see sdconn.h). */
#include "sdconn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jsonx.h"
#include "log.h"
#include "runcmd.h"
#include "sdpath.h"

#define MOUNT_TIMEOUT_S 120 /* NFS with timeo=600,retrans=6 may retry long */

static const char *const type_names[] = {"nfs", "posixfs", "localfs"};
static const char *const nfs_keys[] = {"type", "spec", "version", "retrans", "timeo", "options"};
static const char *const posix_keys[] = {"type", "spec", "vfs_type", "options"};
static const char *const local_keys[] = {"type", "spec"};
static const char *const nfs_versions[] = {"3", "4", "4.0", "4.1", "4.2"};

bool vr_sd_valid_options(const char *opts)
{
    size_t item = 0;
    for (const char *p = opts; *p; p++) {
        if (*p == ',') {
            if (!item)
                return false;
            item = 0;
        } else if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
                   *p == '=' || *p == '.') {
            item++;
        } else {
            return false;
        }
    }
    return !*opts || item > 0; /* no trailing comma */
}

bool vr_sd_valid_vfs(const char *s)
{
    size_t n = strlen(s);
    if (!n || n >= 32 || s[0] < 'a' || s[0] > 'z')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '.'))
            return false;
    return true;
}

const char *vr_sd_type_md(enum vr_sd_type t)
{
    return t == VR_SD_NFS ? "NFS" : t == VR_SD_POSIXFS ? "POSIXFS" : "LOCALFS";
}

/* NFS server part of "server:/path": a host name, IPv4 or [IPv6]. */
static bool valid_server(const char *s, size_t n)
{
    if (!n || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
                (s[0] >= '0' && s[0] <= '9') || s[0] == '['))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '[' || c == ']' || c == ':'))
            return false;
    }
    return true;
}

static int parse_spec(const char *spec, const char *where, vr_sd_conn *c, vr_error *err)
{
    size_t n = strlen(spec);
    bool ok = n > 0 && n < sizeof(c->spec) &&
              vr_sd_conn_name(spec, c->name, sizeof(c->name)) == 0 &&
              (n == 1 || spec[n - 1] != '/') && !strchr(spec, ',');
    if (ok && c->type == VR_SD_NFS) {
        const char *path = strstr(spec, ":/");
        ok = path && valid_server(spec, (size_t)(path - spec));
    } else if (ok) {
        ok = spec[0] == '/';
    }
    if (!ok)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                            "%s.spec '%s' must be %s, without '..', commas, spaces, control "
                            "characters or a trailing '/'",
                            where, spec, c->type == VR_SD_NFS ? "server:/absolute/path" : "an absolute path");
    snprintf(c->spec, sizeof(c->spec), "%s", spec);
    return 0;
}

static int parse_options(json_t *obj, const char *where, const char **opts, vr_error *err)
{
    *opts = "";
    if (vr_json_str(obj, where, "options", false, opts, err) < 0)
        return -1;
    if (strlen(*opts) > 200 || !vr_sd_valid_options(*opts))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                            "%s.options must be a comma-separated list of [a-z0-9_=.] items "
                            "(at most 200 bytes)", where);
    return 0;
}

int vr_sd_conn_parse(json_t *obj, const char *where, vr_sd_conn *c, vr_error *err)
{
    memset(c, 0, sizeof(*c));
    if (!json_is_object(obj))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s must be an object", where);
    const char *type, *spec, *opts = "";
    if (vr_json_str(obj, where, "type", true, &type, err) < 0)
        return -1;
    int t = vr_names_find(VR_NAMES(type_names), type);
    if (t < 0)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.type '%s' must be nfs, posixfs or localfs",
                            where, type);
    c->type = (enum vr_sd_type)t;
    vr_names keys = t == VR_SD_NFS ? VR_NAMES(nfs_keys)
                  : t == VR_SD_POSIXFS ? VR_NAMES(posix_keys) : VR_NAMES(local_keys);
    if (vr_json_check_keys(obj, where, keys, err) < 0 ||
        vr_json_str(obj, where, "spec", true, &spec, err) < 0 || parse_spec(spec, where, c, err) < 0)
        return -1;
    if (c->type == VR_SD_LOCALFS)
        return 0;
    if (parse_options(obj, where, &opts, err) < 0)
        return -1;
    if (c->type == VR_SD_POSIXFS) {
        const char *vfs;
        if (vr_json_str(obj, where, "vfs_type", true, &vfs, err) < 0)
            return -1;
        if (!vr_sd_valid_vfs(vfs))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                                "%s.vfs_type '%s' must be a file system type ([a-z0-9_.])", where, vfs);
        snprintf(c->vfs_type, sizeof(c->vfs_type), "%s", vfs);
        snprintf(c->options, sizeof(c->options), "%s", opts);
        return 0;
    }
    const char *version = "4.2";
    long long retrans = 6, timeo = 600; /* VDSM's defaults: 60 s per try, 6 tries */
    if (vr_json_str(obj, where, "version", false, &version, err) < 0 ||
        vr_json_int(obj, where, "retrans", false, 0, 100, &retrans, err) < 0 ||
        vr_json_int(obj, where, "timeo", false, 1, 6000, &timeo, err) < 0)
        return -1;
    if (!vr_str_in(version, VR_NAMES(nfs_versions)))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                            "%s.version '%s' must be 3, 4, 4.0, 4.1 or 4.2", where, version);
    snprintf(c->vfs_type, sizeof(c->vfs_type), "nfs");
    snprintf(c->options, sizeof(c->options), "vers=%s,retrans=%lld,timeo=%lld%s%s", version,
             retrans, timeo, *opts ? "," : "", opts);
    return 0;
}

int vr_sd_mount_argv(const vr_sd_conn *c, const char *target, const char **argv, int max)
{
    const char *v[] = {"/bin/mount", "-t", c->vfs_type, "-o", c->options, c->spec, target, NULL};
    int n = 0;
    for (size_t i = 0; i < VR_ARRAY_SIZE(v); i++) {
        if (i == 3 && !c->options[0]) {
            i++; /* no -o and no empty option list */
            continue;
        }
        if (n >= max)
            return -E2BIG;
        argv[n++] = v[i];
    }
    return n - 1;
}

bool vr_sd_is_mounted(const char *path)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f)) {
        /* id parent major:minor root MOUNTPOINT ...; our paths hold no
         * spaces, so no octal escapes to undo */
        char *save, *tok = strtok_r(line, " ", &save);
        for (int i = 0; tok && i < 4; i++)
            tok = strtok_r(NULL, " ", &save);
        found = tok && !strcmp(tok, path);
    }
    fclose(f);
    return found;
}

static int link_localfs(const vr_sd_conn *c, const char *target, vr_error *err)
{
    struct stat st;
    if (lstat(c->spec, &st) < 0 || !S_ISDIR(st.st_mode))
        return vr_error_set(err, VR_ERR_STORAGE, "local storage %s is not an existing directory "
                            "(a symlink is not accepted)", c->spec);
    char have[PATH_MAX];
    ssize_t n = readlink(target, have, sizeof(have) - 1);
    if (n >= 0) {
        have[n] = 0;
        if (!strcmp(have, c->spec))
            return 0;
        return vr_error_set(err, VR_ERR_STORAGE, "%s already links to %s", target, have);
    }
    if (symlink(c->spec, target) < 0)
        return vr_error_set(err, VR_ERR_STORAGE, "cannot link %s to %s: %s", target, c->spec,
                            strerror(errno));
    return 0;
}

bool vr_sd_connected(const vr_agent *a, const vr_sd_conn *c, char *mount, size_t size)
{
    if (snprintf(mount, size, "%s/%s", a->storage_root, c->name) >= (int)size)
        return false;
    if (c->type != VR_SD_LOCALFS)
        return vr_sd_is_mounted(mount);
    char have[PATH_MAX];
    ssize_t n = readlink(mount, have, sizeof(have) - 1);
    if (n < 0)
        return false;
    have[n] = 0;
    return !strcmp(have, c->spec);
}

int vr_sd_connect(const vr_agent *a, const vr_sd_conn *c, char *mount, size_t size, vr_error *err)
{
    if (vr_sd_connected(a, c, mount, size))
        return 0;
    if (mkdir(a->storage_root, 0755) < 0 && errno != EEXIST)
        return vr_error_set(err, VR_ERR_STORAGE, "cannot create the storage root %s: %s",
                            a->storage_root, strerror(errno));
    if (c->type == VR_SD_LOCALFS)
        return link_localfs(c, mount, err);
    struct stat st;
    if (lstat(mount, &st) == 0 && !S_ISDIR(st.st_mode))
        return vr_error_set(err, VR_ERR_STORAGE, "%s exists and is not a mount point directory", mount);
    if (mkdir(mount, 0755) < 0 && errno != EEXIST)
        return vr_error_set(err, VR_ERR_STORAGE, "cannot create %s: %s", mount, strerror(errno));
    const char *argv[10];
    vr_sd_mount_argv(c, mount, argv, (int)VR_ARRAY_SIZE(argv));
    char out[400];
    int rc = vr_run_argv(argv, MOUNT_TIMEOUT_S, out, sizeof(out));
    if (rc != 0) {
        rmdir(mount);
        if (rc < 0)
            return vr_error_set(err, VR_ERR_STORAGE, "cannot mount %s on %s: %s", c->spec, mount,
                                rc == -ETIMEDOUT ? "mount timed out" : strerror(-rc));
        return vr_error_set(err, VR_ERR_STORAGE, "cannot mount %s on %s: %s", c->spec, mount,
                            out[0] ? out : "mount failed");
    }
    VR_INFO("storage %s mounted on %s", c->spec, mount);
    return 0;
}

int vr_sd_disconnect(const vr_agent *a, const vr_sd_conn *c, vr_error *err)
{
    char mount[PATH_MAX];
    if (snprintf(mount, sizeof(mount), "%s/%s", a->storage_root, c->name) >= (int)sizeof(mount))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "storage spec %s is too long", c->spec);
    if (c->type == VR_SD_LOCALFS) {
        struct stat st;
        if (lstat(mount, &st) == 0 && S_ISLNK(st.st_mode) && unlink(mount) < 0)
            return vr_error_set(err, VR_ERR_STORAGE, "cannot remove %s: %s", mount, strerror(errno));
        return 0;
    }
    if (vr_sd_is_mounted(mount)) {
        const char *argv[] = {"/bin/umount", mount, NULL};
        char out[400];
        int rc = vr_run_argv(argv, MOUNT_TIMEOUT_S, out, sizeof(out));
        if (rc != 0)
            return vr_error_set(err, VR_ERR_STORAGE, "cannot unmount %s: %s", mount,
                                rc < 0 ? strerror(-rc) : out[0] ? out : "umount failed");
        VR_INFO("storage %s unmounted from %s", c->spec, mount);
    }
    rmdir(mount); /* an empty mount point directory; anything else stays */
    return 0;
}
