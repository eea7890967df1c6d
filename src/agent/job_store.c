/* Job records on disk (see job_store.h). */
#include "job_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devspec.h"
#include "log.h"

static char store_dir[PATH_MAX];

int vr_job_store_open(const char *dir, vr_error *err)
{
    if (dir[0] != '/' || strlen(dir) >= sizeof(store_dir) - 64)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "job directory %s must be an absolute path under %zu bytes",
                            dir, sizeof(store_dir) - 64);
    /* make the parents too: /var/lib/vireo may not exist on a fresh host */
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
            return vr_error_set(err, VR_ERR_INTERNAL, "cannot make %s: %s", path, strerror(errno));
        *p = '/';
    }
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return vr_error_set(err, VR_ERR_INTERNAL, "cannot make job directory %s: %s", dir, strerror(errno));
    struct stat st;
    if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
        return vr_error_set(err, VR_ERR_INTERNAL, "job directory %s is not a directory", dir);
    snprintf(store_dir, sizeof(store_dir), "%s", dir);
    return 0;
}

static int record_path(const char *id, const char *suffix, char *out, size_t len)
{
    if (!store_dir[0] || !id || !vr_valid_uuid(id))
        return -1;
    return snprintf(out, len, "%s/%s.json%s", store_dir, id, suffix) < (int)len ? 0 : -1;
}

void vr_job_store_save(json_t *rec)
{
    const char *id = json_string_value(json_object_get(rec, "id"));
    char tmp[PATH_MAX], path[PATH_MAX];
    if (record_path(id, ".tmp", tmp, sizeof(tmp)) < 0 || record_path(id, "", path, sizeof(path)) < 0)
        return;
    char *text = json_dumps(rec, JSON_COMPACT);
    int fd = text ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600) : -1;
    size_t len = text ? strlen(text) : 0, off = 0;
    bool ok = fd >= 0;
    while (ok && off < len) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        ok = n > 0;
        off += n > 0 ? (size_t)n : 0;
    }
    ok = ok && fsync(fd) == 0;
    if (fd >= 0)
        close(fd);
    ok = ok && rename(tmp, path) == 0;
    if (ok) {
        int dfd = open(store_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    } else {
        VR_WARN("cannot record job %s in %s: %s", id, store_dir, strerror(errno));
        unlink(tmp);
    }
    free(text);
}

void vr_job_store_remove(const char *id)
{
    char path[PATH_MAX];
    if (record_path(id, "", path, sizeof(path)) == 0 && unlink(path) < 0 && errno != ENOENT)
        VR_WARN("cannot remove job record %s: %s", path, strerror(errno));
}

json_t *vr_job_store_load(void)
{
    json_t *all = json_array();
    DIR *d = store_dir[0] ? opendir(store_dir) : NULL;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        size_t n = strlen(de->d_name);
        char id[37], path[PATH_MAX];
        if (n != 36 + 5 || strcmp(de->d_name + 36, ".json"))
            continue; /* ".", "..", a *.tmp a crash left */
        snprintf(id, sizeof(id), "%.36s", de->d_name);
        if (record_path(id, "", path, sizeof(path)) < 0)
            continue;
        json_error_t jerr;
        json_t *rec = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
        const char *rid = json_string_value(json_object_get(rec, "id"));
        if (!json_is_object(rec) || !rid || strcmp(rid, id) ||
            !json_is_string(json_object_get(rec, "state")) || !json_is_string(json_object_get(rec, "kind"))) {
            VR_WARN("job record %s is not valid (%s); ignored", path, rec ? "members missing" : jerr.text);
            json_decref(rec);
            continue;
        }
        json_array_append_new(all, rec);
    }
    if (d)
        closedir(d);
    return all;
}
