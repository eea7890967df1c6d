/* Volume.startUpload / write / commitUpload / read (docs/agent-api.md,
 * "Volume transfer"): the bytes of a volume's data file, moved in chunks
 * small enough for one JSON-RPC frame.
 *
 * An upload is explicit on storage: the volume's .meta says
 * LEGALITY=ILLEGAL and carries UPLOAD=<bytes announced>. Volume.write only
 * writes to such a volume (never to a LEGAL one, nor to one a create or a
 * copy is filling), and Volume.commitUpload makes it LEGAL only after
 * qemu-img agrees with the declared format; until then a broken upload
 * leaves an ILLEGAL volume, which a new Volume.startUpload may fill again. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base64.h"
#include "jsonx.h"
#include "log.h"
#include "qemuimg.h"
#include "runcmd.h"
#include "spm_state.h"
#include "verbs.h"
#include "volume.h"

#define CHUNK_MAX (512 * 1024) /* bytes per Volume.write / Volume.read */
#define UPLOAD_KEY "UPLOAD"
#define CHECK_TIMEOUT_S 600

/* What an upload volume's .meta says: format, capacity and the bytes
 * announced. Fails with VR_ERR_BAD_STATE for a volume not being uploaded. */
typedef struct upload_meta {
    bool cow, prealloc;
    long long capacity, length;
} upload_meta;

static int read_upload(vr_agent *a, const vr_volume_ref *r, vr_md *md, upload_meta *u, vr_error *err)
{
    if (vr_volume_read_meta(a, r, md, err) < 0)
        return -1;
    const char *leg = vr_md_get(md, "LEGALITY"), *fmt = vr_md_get(md, "FORMAT"),
               *type = vr_md_get(md, "TYPE");
    u->cow = fmt && !strcmp(fmt, "COW");
    u->prealloc = type && !strcmp(type, "PREALLOCATED");
    u->capacity = u->length = -1;
    vr_md_get_ll(md, "CAPACITY", &u->capacity);
    if (!leg || strcmp(leg, "ILLEGAL") || vr_md_get_ll(md, UPLOAD_KEY, &u->length) < 0 || u->length < 0)
        return vr_error_set(err, VR_ERR_BAD_STATE,
                            "volume %s (image %s, domain %s) is not being uploaded (%s)", r->volume,
                            r->image, r->domain,
                            leg && !strcmp(leg, "LEGAL") ? "it is LEGAL: complete volumes are never"
                                                           " overwritten"
                                                         : "it was not made by Volume.startUpload");
    return 0;
}

/* Empty the data file for a new upload: raw files have the volume's size
 * (sparse, or allocated when preallocated), qcow2 files start empty. */
static int reset_data(const char *path, const upload_meta *u, vr_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0660);
    int rc = fd < 0 ? -errno : 0;
    if (!rc && ftruncate(fd, 0) < 0)
        rc = -errno;
    if (!rc && !u->cow && ftruncate(fd, (off_t)u->capacity) < 0)
        rc = -errno;
    if (!rc && !u->cow && u->prealloc)
        rc = -posix_fallocate(fd, 0, (off_t)u->capacity);
    if (fd >= 0 && close(fd) < 0 && !rc)
        rc = -errno;
    if (rc)
        return vr_error_set(err, VR_ERR_STORAGE, "cannot prepare %s for an upload: %s", path,
                            strerror(-rc));
    return 0;
}

/* The most a qcow2 file of `capacity` guest bytes can sensibly take:
 * its data, an eighth for metadata and internal snapshots, and 64 MiB. */
static long long cow_limit(long long capacity)
{
    return capacity + capacity / 8 + (64LL << 20);
}

static int volume_start_upload(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    static const char *const extra[] = {"format", "preallocation", "size", "description", "length"};
    vr_volume_ref r;
    vr_volume_spec s = {0};
    const char *prealloc = "sparse";
    long long length;
    char pool[37], data[PATH_MAX], meta[PATH_MAX];
    if (vr_volume_ref_params(params, extra, sizeof(extra) / sizeof(extra[0]), &r, err) < 0 ||
        vr_json_str(params, "params", "format", true, &s.format, err) < 0 ||
        vr_json_str(params, "params", "preallocation", false, &prealloc, err) < 0 ||
        vr_json_int(params, "params", "size", true, 1, VR_VOLUME_MAX_SIZE, &s.size, err) < 0 ||
        vr_json_str(params, "params", "description", false, &s.description, err) < 0 ||
        vr_json_int(params, "params", "length", true, 0, 2 * VR_VOLUME_MAX_SIZE, &length, err) < 0)
        return -1;
    if (strcmp(prealloc, "sparse") && strcmp(prealloc, "preallocated"))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "preallocation must be sparse or preallocated");
    s.preallocated = !strcmp(prealloc, "preallocated");
    if (vr_volume_spec_check(&s, err) < 0)
        return -1;
    bool cow = !strcmp(s.format, "qcow2");
    if (length > (cow ? cow_limit(s.size) : s.size))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                            "length %lld is more than a %s volume of %lld bytes can hold", length,
                            s.format, s.size);
    if (vr_volume_path(a, &r, "", data, sizeof(data), err) < 0 ||
        vr_volume_path(a, &r, ".meta", meta, sizeof(meta), err) < 0 ||
        vr_volume_spm_begin(a, r.domain, "upload to a volume", pool, err) < 0)
        return -1;
    vr_md md = {0};
    upload_meta u;
    struct stat st;
    int rc = 0;
    bool created = false;
    if (lstat(meta, &st) < 0 && lstat(data, &st) < 0) {
        rc = vr_volume_begin(a, &r, &s, err);
        created = rc == 0;
        if (rc == 0)
            rc = vr_volume_read_meta(a, &r, &md, err);
    } else if ((rc = read_upload(a, &r, &md, &u, err)) == 0 &&
               (u.cow != cow || u.capacity != s.size)) {
        /* A new upload of the same volume must describe the same volume. */
        rc = vr_error_set(err, VR_ERR_CONFLICT, "volume %s is being uploaded as %s of %lld bytes",
                          r.volume, u.cow ? "qcow2" : "raw", u.capacity);
    }
    if (rc == 0 && (vr_md_set_ll(&md, UPLOAD_KEY, length) < 0 || vr_md_write(meta, &md, err) < 0))
        rc = err->code ? -1 : vr_error_set(err, VR_ERR_STORAGE, "volume %s: cannot record the upload", r.volume);
    u = (upload_meta){.cow = cow, .prealloc = s.preallocated, .capacity = s.size, .length = length};
    if (rc == 0)
        rc = reset_data(data, &u, err);
    vr_md_clear(&md);
    if (rc < 0 && created)
        vr_volume_discard(a, &r);
    vr_spm_job_end(pool);
    if (rc < 0)
        return -1;
    VR_INFO("volume %s/%s/%s: upload of %lld bytes (%s, %lld bytes) started", r.domain, r.image,
            r.volume, length, s.format, s.size);
    return vr_volume_info(a, &r, result, err);
}

static int volume_write(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    static const char *const extra[] = {"offset", "data"};
    vr_volume_ref r;
    long long offset;
    const char *b64;
    char pool[37], data[PATH_MAX];
    if (vr_volume_ref_params(params, extra, 2, &r, err) < 0 ||
        vr_json_int(params, "params", "offset", true, 0, 2 * VR_VOLUME_MAX_SIZE, &offset, err) < 0 ||
        vr_json_str(params, "params", "data", true, &b64, err) < 0)
        return -1;
    size_t blen = strlen(b64);
    if (blen > vr_base64_len(CHUNK_MAX))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "params.data holds more than %d bytes",
                            CHUNK_MAX);
    unsigned char *buf = malloc(blen / 4 * 3 + 3);
    long n = buf ? vr_base64_decode(b64, blen, buf) : -ENOMEM;
    if (n < 0) {
        free(buf);
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "params.data is not padded base64");
    }
    vr_md md = {0};
    upload_meta u;
    int rc = vr_volume_spm_begin(a, r.domain, "write to a volume", pool, err);
    bool began = rc == 0;
    if (rc == 0)
        rc = read_upload(a, &r, &md, &u, err);
    vr_md_clear(&md);
    if (rc == 0 && offset + n > u.length)
        rc = vr_error_set(err, VR_ERR_INVALID_PARAMS,
                          "%ld bytes at offset %lld go past the %lld bytes of the upload of volume %s",
                          n, offset, u.length, r.volume);
    int fd = -1;
    if (rc == 0 && (rc = vr_volume_path(a, &r, "", data, sizeof(data), err)) == 0 &&
        (fd = open(data, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
        rc = vr_error_set(err, VR_ERR_STORAGE, "cannot open %s: %s", data, strerror(errno));
    for (long done = 0; rc == 0 && done < n;) {
        ssize_t w = pwrite(fd, buf + done, (size_t)(n - done), (off_t)(offset + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            rc = vr_error_set(err, VR_ERR_STORAGE, "cannot write %s at %lld: %s", data,
                              offset + done, w < 0 ? strerror(errno) : "nothing written");
        else
            done += w;
    }
    if (fd >= 0)
        close(fd);
    free(buf);
    if (began)
        vr_spm_job_end(pool);
    if (rc < 0)
        return -1;
    *result = json_pack("{s:I}", "written", (json_int_t)n);
    return 0;
}

/* qemu-img's view of the written file must be what was declared: the same
 * format, no backing or external data file (they would point outside the
 * volume), not encrypted, a virtual size that fits the volume. */
static int validate(const char *path, const vr_volume_ref *r, const upload_meta *u,
                    long long *vsize, vr_error *err)
{
    json_t *info = NULL;
    vr_error why = {0};
    if (vr_qemuimg_info(path, &info, &why) < 0)
        return vr_error_set(err, VR_ERR_UNPROCESSABLE, "the upload to volume %s is not a readable image: %s",
                            r->volume, why.message);
    const char *fmt = json_string_value(json_object_get(info, "format"));
    json_t *spec = json_object_get(json_object_get(info, "format-specific"), "data");
    *vsize = json_integer_value(json_object_get(info, "virtual-size"));
    int rc = 0;
    if (!fmt || strcmp(fmt, u->cow ? "qcow2" : "raw"))
        rc = vr_error_set(err, VR_ERR_UNPROCESSABLE,
                          "the upload to volume %s was declared %s but qemu-img sees %s", r->volume,
                          u->cow ? "qcow2 (cow)" : "raw", fmt ? fmt : "no image format");
    else if (json_object_get(info, "backing-filename") || json_object_get(spec, "data-file"))
        rc = vr_error_set(err, VR_ERR_UNPROCESSABLE, "the qcow2 image uploaded to volume %s names a"
                          " backing or data file; upload a self-contained image", r->volume);
    else if (json_is_true(json_object_get(info, "encrypted")))
        rc = vr_error_set(err, VR_ERR_UNPROCESSABLE, "the image uploaded to volume %s is encrypted",
                          r->volume);
    else if (*vsize <= 0 || *vsize % 512 || *vsize > u->capacity)
        rc = vr_error_set(err, VR_ERR_UNPROCESSABLE, "the image uploaded to volume %s has a virtual size"
                          " of %lld bytes; the disk takes a multiple of 512 up to %lld", r->volume,
                          *vsize, u->capacity);
    json_decref(info);
    if (rc < 0 || !u->cow)
        return rc;
    /* Corrupt qcow2 metadata would fail the guest later; leaked clusters
     * (exit 3) only waste space. */
    const char *argv[] = {vr_qemuimg_program, "check", "-q", "-f", "qcow2", path, NULL};
    char out[512];
    int st = vr_run_argv(argv, CHECK_TIMEOUT_S, out, sizeof(out));
    if (st != 0 && st != 3)
        return vr_error_set(err, VR_ERR_UNPROCESSABLE, "qemu-img check refuses the qcow2 image uploaded to"
                            " volume %s: %s", r->volume, st < 0 ? strerror(-st) : out);
    return 0;
}

static int volume_commit_upload(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    vr_volume_ref r;
    char pool[37], data[PATH_MAX], meta[PATH_MAX];
    if (vr_volume_ref_params(params, NULL, 0, &r, err) < 0 ||
        vr_volume_path(a, &r, "", data, sizeof(data), err) < 0 ||
        vr_volume_path(a, &r, ".meta", meta, sizeof(meta), err) < 0 ||
        vr_volume_spm_begin(a, r.domain, "commit an upload", pool, err) < 0)
        return -1;
    vr_md md = {0}, out = {0};
    upload_meta u;
    long long vsize = 0;
    int rc = read_upload(a, &r, &md, &u, err), fd = -1;
    if (rc == 0 && (fd = open(data, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
        rc = vr_error_set(err, VR_ERR_STORAGE, "cannot open %s: %s", data, strerror(errno));
    /* Zero chunks are not sent (the file was emptied at start), so a qcow2
     * file may end short of its length: give it its full size. */
    struct stat st;
    if (rc == 0 && u.cow && fstat(fd, &st) == 0 && st.st_size < u.length &&
        ftruncate(fd, (off_t)u.length) < 0)
        rc = vr_error_set(err, VR_ERR_STORAGE, "cannot size %s: %s", data, strerror(errno));
    if (rc == 0 && fdatasync(fd) < 0)
        rc = vr_error_set(err, VR_ERR_STORAGE, "cannot flush %s: %s", data, strerror(errno));
    if (fd >= 0)
        close(fd);
    if (rc == 0)
        rc = validate(data, &r, &u, &vsize, err);
    /* The new .meta: the same keys without UPLOAD, the image's capacity. */
    for (int i = 0; rc == 0 && i < md.n; i++)
        if (strcmp(md.key[i], UPLOAD_KEY) && vr_md_set(&out, md.key[i], md.val[i]) < 0)
            rc = vr_error_set(err, VR_ERR_STORAGE, "volume %s: cannot copy its metadata", r.volume);
    if (rc == 0 && vr_md_set_ll(&out, "CAPACITY", vsize) < 0)
        rc = vr_error_set(err, VR_ERR_STORAGE, "volume %s: cannot record its capacity", r.volume);
    if (rc == 0 && vr_md_write(meta, &out, err) < 0)
        rc = -1;
    if (rc == 0)
        rc = vr_volume_commit(a, &r, err);
    vr_md_clear(&md);
    vr_md_clear(&out);
    vr_spm_job_end(pool);
    if (rc < 0) {
        VR_WARN("volume %s/%s/%s: upload not committed: %s", r.domain, r.image, r.volume, err->message);
        return -1;
    }
    VR_INFO("volume %s/%s/%s: upload committed (%s, %lld bytes)", r.domain, r.image, r.volume,
            u.cow ? "qcow2" : "raw", vsize);
    return vr_volume_info(a, &r, result, err);
}

static int volume_read(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    static const char *const extra[] = {"offset", "length"};
    vr_volume_ref r;
    long long offset, length;
    char data[PATH_MAX];
    vr_md md = {0};
    if (vr_volume_ref_params(params, extra, 2, &r, err) < 0 ||
        vr_json_int(params, "params", "offset", true, 0, LLONG_MAX / 2, &offset, err) < 0 ||
        vr_json_int(params, "params", "length", true, 1, CHUNK_MAX, &length, err) < 0 ||
        vr_volume_path(a, &r, "", data, sizeof(data), err) < 0 ||
        vr_volume_read_meta(a, &r, &md, err) < 0)
        return -1;
    const char *leg = vr_md_get(&md, "LEGALITY");
    bool legal = leg && !strcmp(leg, "LEGAL");
    vr_md_clear(&md);
    if (!legal)
        return vr_error_set(err, VR_ERR_BAD_STATE, "volume %s (image %s, domain %s) is ILLEGAL:"
                            " its data is not complete", r.volume, r.image, r.domain);
    int fd = open(data, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return vr_error_set(err, VR_ERR_STORAGE, "cannot open %s: %s", data, strerror(e));
    }
    long long want = offset >= st.st_size ? 0 : st.st_size - offset < length ? st.st_size - offset : length;
    unsigned char *buf = malloc((size_t)want + 1);
    char *text = buf ? malloc(vr_base64_len((size_t)want) + 1) : NULL;
    long long got = 0;
    int rc = text ? 0 : vr_error_set(err, VR_ERR_INTERNAL, "out of memory");
    while (rc == 0 && got < want) {
        ssize_t n = pread(fd, buf + got, (size_t)(want - got), (off_t)(offset + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            rc = vr_error_set(err, VR_ERR_STORAGE, "cannot read %s at %lld: %s", data, offset + got,
                              n < 0 ? strerror(errno) : "unexpected end of file");
        else
            got += n;
    }
    close(fd);
    if (rc == 0) {
        vr_base64_encode(buf, (size_t)got, text);
        *result = json_pack("{s:s, s:I, s:b}", "data", text, "size", (json_int_t)st.st_size, "eof",
                            offset + got >= st.st_size);
    }
    free(text);
    free(buf);
    return rc;
}

const vr_verb vr_volume_io_verbs[] = {
    {"Volume.startUpload", volume_start_upload},
    {"Volume.write", volume_write},
    {"Volume.commitUpload", volume_commit_upload},
    {"Volume.read", volume_read},
    {NULL, NULL},
};
