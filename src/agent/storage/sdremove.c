/* Removing a domain's tree from storage (see sdremove.h). */
#include "sdremove.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

/* nftw's callback cannot take a context, so the first failure is kept
 * here; each connection runs its verbs on a thread of its own, so one
 * walk at a time (walk_lock). */
static pthread_mutex_t walk_lock = PTHREAD_MUTEX_INITIALIZER;
static char failed_path[PATH_MAX];
static int failed_errno;

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    /* FTW_DEPTH: a directory comes after its contents (FTW_DP). FTW_PHYS:
     * a symlink is reported as FTW_SL/FTW_SLN and only unlinked, so a link
     * inside the domain pointing elsewhere never lets the removal out. */
    int rc = type == FTW_DP ? rmdir(path) : unlink(path);
    if (rc < 0 && errno != ENOENT) {
        failed_errno = errno;
        snprintf(failed_path, sizeof(failed_path), "%s", path);
        return 1; /* stop the walk: what is left stays for the next try */
    }
    return 0;
}

int vr_sd_remove_tree(const char *path, vr_error *err)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        return vr_error_set(err, VR_ERR_STORAGE, "%s: %s", path, strerror(errno));
    }
    pthread_mutex_lock(&walk_lock);
    failed_path[0] = 0;
    failed_errno = 0;
    /* FTW_MOUNT: something mounted inside the tree is not ours to delete;
     * its mount point's rmdir then fails and says so. */
    int rc = nftw(path, remove_entry, 32, FTW_PHYS | FTW_DEPTH | FTW_MOUNT), walk_errno = errno;
    if (rc == 1)
        vr_error_set(err, VR_ERR_STORAGE, "cannot remove %s: %s", failed_path, strerror(failed_errno));
    else if (rc != 0)
        vr_error_set(err, VR_ERR_STORAGE, "cannot walk %s: %s", path, strerror(walk_errno));
    pthread_mutex_unlock(&walk_lock);
    return rc ? -1 : 0;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

int vr_sd_remove_domain(const char *mount, const char *uuid, vr_error *err)
{
    char dir[PATH_MAX], hidden[PATH_MAX];
    if (snprintf(dir, sizeof(dir), "%s/%s", mount, uuid) >= (int)sizeof(dir) ||
        snprintf(hidden, sizeof(hidden), "%s/" VR_SD_REMOVING_PREFIX "%s", mount, uuid) >=
            (int)sizeof(hidden))
        return vr_error_set(err, VR_ERR_STORAGE, "path of domain %s under %s is too long", uuid,
                            mount);
    /* a leftover of an earlier crashed removal of the same uuid would make
     * the rename fail (ENOTEMPTY): it goes first */
    if (vr_sd_remove_tree(hidden, err) < 0)
        return -1;
    if (rename(dir, hidden) < 0)
        return vr_error_set(err, VR_ERR_STORAGE, "cannot rename %s to %s: %s", dir, hidden,
                            strerror(errno));
    int rc = fsync_dir(mount);
    if (rc < 0)
        VR_WARN("fsync of %s after hiding domain %s: %s", mount, uuid, strerror(-rc));
    if (vr_sd_remove_tree(hidden, err) < 0)
        return -1;
    fsync_dir(mount);
    VR_INFO("storage domain %s removed from %s", uuid, mount);
    return 0;
}

int vr_sd_remove_leftovers(const char *mount)
{
    DIR *d = opendir(mount);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    size_t plen = strlen(VR_SD_REMOVING_PREFIX);
    while ((e = readdir(d))) {
        char path[PATH_MAX];
        if (strncmp(e->d_name, VR_SD_REMOVING_PREFIX, plen) || !e->d_name[plen] ||
            snprintf(path, sizeof(path), "%s/%s", mount, e->d_name) >= (int)sizeof(path))
            continue;
        vr_error err = {0};
        if (vr_sd_remove_tree(path, &err) < 0) {
            VR_WARN("leftover of a domain removal: %s", err.message);
            continue;
        }
        VR_INFO("removed %s, left over by an interrupted domain removal", path);
        n++;
    }
    closedir(d);
    return n;
}
