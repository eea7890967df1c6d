/* Volumes without a sanlock daemon: qemu-img wrappers (create, info,
 * resize, convert with progress and cancel), the ILLEGAL-first layout, info
 * and list of corrupt or half-made volumes, what a VM disk by volume
 * resolves to, input refusals, the ENOSPC free-space rule, wiping a
 * volume's data before it is removed. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "domxml.h"
#include "storage/enospc.h"
#include "storage/mdfile.h"
#include "storage/qemuimg.h"
#include "storage/volume.h"
#include "storage/wipe.h"
#include "vmspec.h"

#define SD "11111111-2222-3333-4444-555555555555"
#define IMG "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
#define VOL "01234567-89ab-cdef-0123-456789abcdef"

static vr_agent agent = {.mode = VR_VIRT_TCG, .default_domain_type = "qemu", .max_vcpus = 240};

static void qemuimg(const char *dir)
{
    char raw[512], cow[512], copy[512];
    vr_error err = {0};
    json_t *info = NULL;
    snprintf(raw, sizeof(raw), "%s/raw", dir);
    snprintf(cow, sizeof(cow), "%s/cow", dir);
    snprintf(copy, sizeof(copy), "%s/copy", dir);
    CHECK(vr_qemuimg_create(raw, "raw", 4 << 20, true, &err) == 0);
    CHECK(vr_qemuimg_info(raw, &info, &err) == 0);
    CHECK(json_integer_value(json_object_get(info, "virtual-size")) == 4 << 20);
    CHECK(json_integer_value(json_object_get(info, "actual-size")) >= 4 << 20); /* falloc */
    json_decref(info);
    CHECK(vr_qemuimg_create(cow, "qcow2", 1 << 30, false, &err) == 0);
    CHECK(vr_qemuimg_info(cow, &info, &err) == 0);
    CHECK(!strcmp(json_string_value(json_object_get(info, "format")), "qcow2"));
    CHECK(!strcmp(json_string_value(json_object_get(
                      json_object_get(json_object_get(info, "format-specific"), "data"), "compat")),
                  "1.1"));
    json_decref(info);
    CHECK(vr_qemuimg_resize(cow, "qcow2", 2LL << 30, false, &err) == 0);
    CHECK(vr_qemuimg_info(cow, &info, &err) == 0);
    CHECK(json_integer_value(json_object_get(info, "virtual-size")) == 2LL << 30);
    json_decref(info);
    /* a file name that looks like an option stays a file name */
    char odd[512];
    snprintf(odd, sizeof(odd), "%s/-o", dir);
    CHECK(vr_qemuimg_info(odd, &info, &err) == -1);
    CHECK(err.code == VR_ERR_STORAGE);
    CHECK_STR_CONTAINS(err.message, "-o");
    /* -t none needs O_DIRECT: the caller picks writeback where there is none */
    CHECK(vr_qemuimg_convert(raw, "raw", copy, "qcow2", "writeback", NULL, NULL, &err) == 0);
    CHECK(vr_qemuimg_info(copy, &info, &err) == 0);
    CHECK(json_integer_value(json_object_get(info, "virtual-size")) == 4 << 20);
    json_decref(info);
    unlink(copy);
    CHECK(vr_qemuimg_convert("/nonexistent/x", "raw", copy, "raw", "writeback", NULL, NULL, &err) == -1);
    CHECK_STR_CONTAINS(err.message, "/nonexistent/x");
}

static bool cancel_at_once(void *opaque, double percent)
{
    (*(int *)opaque)++;
    return true;
}

static void convert_cancel(const char *dir)
{
    char big[512], copy[512];
    vr_error err = {0};
    int calls = 0;
    snprintf(big, sizeof(big), "%s/big", dir);
    snprintf(copy, sizeof(copy), "%s/bigcopy", dir);
    CHECK(vr_qemuimg_create(big, "raw", 512 << 20, true, &err) == 0);
    CHECK(vr_qemuimg_convert(big, "raw", copy, "raw", "writeback", cancel_at_once, &calls, &err) ==
          -ECANCELED);
    CHECK(calls == 1);
    CHECK_STR_CONTAINS(err.message, "cancelled");
    unlink(copy);
    unlink(big);
}

static void progress_parse(void)
{
    const char out[] = "    (0.00/100%)\r    (12.50/100%)\r    (42.17/100%)\r";
    CHECK(vr_qemuimg_parse_progress(out, strlen(out)) > 42.1);
    CHECK(vr_qemuimg_parse_progress(out, strlen(out)) < 42.2);
    CHECK(vr_qemuimg_parse_progress("(12.5/10", 8) < 0);
    CHECK(vr_qemuimg_parse_progress("", 0) < 0);
    CHECK(vr_qemuimg_parse_progress("(200.00/100%)", 13) < 0);
}

/* A connected-looking domain: <root>/_dev_x/<SD>/dom_md/metadata. */
static void make_domain(const char *root)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/_dev_x", root);
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/_dev_x/" SD, root);
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/_dev_x/" SD "/dom_md", root);
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/_dev_x/" SD "/images", root);
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/_dev_x/" SD "/dom_md/metadata", root);
    vr_md md = {0};
    vr_error err = {0};
    vr_md_set(&md, "SDUUID", SD);
    vr_md_set(&md, "POOL_UUID", "99999999-2222-3333-4444-555555555555");
    CHECK(vr_md_write(p, &md, &err) == 0);
    vr_md_clear(&md);
}

/* Write len bytes of c at off of path (created if need be). */
static void fill(const char *path, off_t off, size_t len, int c)
{
    char *b = malloc(len);
    int fd = open(path, O_WRONLY | O_CREAT, 0644);
    CHECK(b && fd >= 0);
    if (b && fd >= 0) {
        memset(b, c, len);
        CHECK(pwrite(fd, b, len, off) == (ssize_t)len);
    }
    if (fd >= 0)
        close(fd);
    free(b);
}

/* path is len bytes long and every one of them is zero. */
static bool zeros(const char *path, size_t len)
{
    struct stat st;
    if (stat(path, &st) < 0 || (size_t)st.st_size != len)
        return false;
    FILE *f = fopen(path, "rb");
    int c = 0;
    while (f && (c = fgetc(f)) == 0)
        ;
    if (f)
        fclose(f);
    return f && c == EOF;
}

/* A wipe's progress callback that stops it after the first write,
 * keeping what it was told. */
static bool stop_at_once(void *opaque, long long done, long long total)
{
    long long *seen = opaque;
    seen[0] = done;
    seen[1] = total;
    return true;
}

/* vr_wipe_file: data extents zeroed through the same inode (an unaligned
 * tail too), a hole stays a hole, the size stays; a missing file is
 * nothing to do; a symlink is refused and its target untouched; a wipe
 * stopped by its progress callback leaves data behind and is done whole
 * when asked again. */
static void wipe(const char *dir)
{
    char p[PATH_MAX], ln[PATH_MAX];
    vr_error err = {0};
    long long n = -1;
    snprintf(p, sizeof(p), "%s/wipe", dir);
    snprintf(ln, sizeof(ln), "%s/wipe-link", dir);
    size_t size = (3 << 20) + 1000;
    fill(p, 0, 1 << 20, 0xa5);               /* data, a 1 MiB hole, data up to an odd end */
    fill(p, 2 << 20, size - (2 << 20), 0x3c);
    CHECK(symlink(p, ln) == 0);
    CHECK(vr_wipe_file(ln, NULL, NULL, NULL, &err) == -1 && err.code == VR_ERR_STORAGE);
    long long seen[2] = {0, 0};
    CHECK(vr_wipe_file(p, &n, stop_at_once, seen, &err) == -1 && err.code == VR_ERR_UNAVAILABLE);
    CHECK(seen[0] == 1 << 20 && seen[1] >= (long long)size - (1 << 20) && !zeros(p, size)); /* one chunk */
    CHECK(vr_wipe_file(p, &n, NULL, NULL, &err) == 0); /* asked again: whole */
    CHECK(zeros(p, size));
    CHECK(n >= (long long)size - (1 << 20) && n <= (long long)size); /* not the hole (if the fs keeps one) */
    struct stat st;
    CHECK(stat(p, &st) == 0 && st.st_blocks * 512 < (long long)size + (1 << 20));
    unlink(ln);
    unlink(p);
    CHECK(vr_wipe_file(p, &n, NULL, NULL, &err) == 0 && n == 0);
}

static void volumes(const char *root)
{
    vr_error err = {0};
    vr_volume_ref r;
    json_t *o = json_pack("{s:s, s:s, s:s}", "domain", SD, "image", IMG, "volume", VOL), *info;
    CHECK(vr_volume_ref_parse(o, "v", &r, &err) == 0);
    json_object_set_new(o, "image", json_string("../../etc"));
    CHECK(vr_volume_ref_parse(o, "v", &r, &err) == -1);
    CHECK_STR_CONTAINS(err.message, "v.image");
    json_object_set_new(o, "image", json_string(IMG));
    json_object_set_new(o, "extra", json_true());
    CHECK(vr_volume_ref_parse(o, "v", &r, &err) == -1);
    CHECK_STR_CONTAINS(err.message, "extra");
    json_decref(o);

    vr_volume_spec s = {.format = "raw", .size = 1 << 20};
    CHECK(vr_volume_spec_check(&s, &err) == 0);
    s.size = 1000;
    CHECK(vr_volume_spec_check(&s, &err) == -1 && err.code == VR_ERR_INVALID_PARAMS);
    s.size = (64LL << 40) + 512;
    CHECK(vr_volume_spec_check(&s, &err) == -1);
    s.size = 1 << 20;
    s.format = "vmdk";
    CHECK(vr_volume_spec_check(&s, &err) == -1);
    s.format = "raw";
    char longdesc[212];
    memset(longdesc, 'x', 211);
    longdesc[211] = 0;
    s.description = longdesc;
    CHECK(vr_volume_spec_check(&s, &err) == -1);
    CHECK_STR_CONTAINS(err.message, "210");
    s.description = "{\"alias\":\"d\"}";

    /* the domain is not connected yet */
    CHECK(vr_volume_begin(&agent, &r, &s, &err) == -1 && err.code == VR_ERR_STORAGE);
    make_domain(root);
    char pool[37];
    CHECK(vr_volume_spm_begin(&agent, SD, "create a volume", pool, &err) == -1);
    CHECK(err.code == VR_ERR_NOT_SPM);
    CHECK_STR_CONTAINS(err.message, "99999999-2222-3333-4444-555555555555");

    /* an image directory that is a symlink out of the domain is refused */
    char out[600], lnk[600];
    snprintf(out, sizeof(out), "%s/outside", root);
    mkdir(out, 0755);
    snprintf(lnk, sizeof(lnk), "%s/_dev_x/" SD "/images/" "bbbbbbbb-bbbb-cccc-dddd-eeeeeeeeeeee", root);
    CHECK(symlink(out, lnk) == 0);
    vr_volume_ref lr = r;
    memcpy(lr.image, "bbbbbbbb", 8);
    CHECK(vr_volume_begin(&agent, &lr, &s, &err) == -1 && err.code == VR_ERR_STORAGE);
    CHECK_STR_CONTAINS(err.message, "not a directory");
    CHECK(rmdir(out) == 0); /* still empty */
    mkdir(out, 0755);
    char victim[700];
    snprintf(victim, sizeof(victim), "%s/" VOL, out);
    close(open(victim, O_WRONLY | O_CREAT, 0644));
    CHECK(vr_volume_delete(&agent, &lr, false, &err) == -1 && err.code == VR_ERR_STORAGE);
    CHECK(access(victim, F_OK) == 0); /* not removed through the symlink */
    unlink(victim);
    rmdir(out);
    unlink(lnk);

    /* begun = ILLEGAL; a second begin of the same volume is refused */
    CHECK(vr_volume_begin(&agent, &r, &s, &err) == 0);
    CHECK(vr_volume_begin(&agent, &r, &s, &err) == -1 && err.code == VR_ERR_CONFLICT);
    CHECK(vr_volume_info(&agent, &r, &info, &err) == 0);
    CHECK(!strcmp(json_string_value(json_object_get(info, "legality")), "ILLEGAL"));
    CHECK(json_integer_value(json_object_get(info, "capacity")) == 1 << 20);
    CHECK(!strcmp(json_string_value(json_object_get(info, "description")), s.description));
    json_decref(info);
    char path[1025];
    const char *fmt;
    CHECK(vr_volume_resolve(&agent, &r, path, sizeof(path), &fmt, &err) == -1);
    CHECK(err.code == VR_ERR_BAD_STATE);
    CHECK_STR_CONTAINS(err.message, VOL);
    CHECK(vr_volume_extend(&agent, &r, 2 << 20, &err) == -1 && err.code == VR_ERR_BAD_STATE);
    /* without a sanlock daemon the lease cannot be written: stays ILLEGAL */
    CHECK(vr_volume_commit(&agent, &r, &err) == -1);
    CHECK_STR_CONTAINS(err.message, "sanlock");

    /* made LEGAL by hand: a VM disk by volume resolves to it */
    vr_md md = {0};
    CHECK(vr_volume_read_meta(&agent, &r, &md, &err) == 0);
    vr_md_set(&md, "LEGALITY", "LEGAL");
    vr_md_set(&md, "FORMAT", "COW");
    char meta[1100];
    CHECK(vr_volume_path(&agent, &r, ".meta", meta, sizeof(meta), &err) == 0);
    CHECK(vr_md_write(meta, &md, &err) == 0);
    vr_md_clear(&md);
    CHECK(vr_volume_path(&agent, &r, "", path, sizeof(path), &err) == 0);
    CHECK(vr_qemuimg_create(path, "qcow2", 1 << 20, false, &err) == 0);
    json_t *spec = json_loads("{\"name\":\"v\",\"memory_mib\":128,\"boot\":{\"kernel\":\"/k\"},"
                              "\"disks\":[{\"volume\":{\"domain\":\"" SD "\",\"image\":\"" IMG
                              "\",\"volume\":\"" VOL "\"}}]}", 0, NULL);
    vr_vm_spec *vs = calloc(1, sizeof(*vs));
    CHECK(vr_vm_spec_parse(&agent, spec, vs, &err) == 0);
    CHECK(vs->ndisks == 1 && !strcmp(vs->disks[0].path, path) && !strcmp(vs->disks[0].format, "qcow2"));
    char *xml = NULL;
    char log[] = "/tmp/x.log";
    CHECK(vr_domxml_domain(vs, log, &xml, &err) == 0);
    CHECK_STR_CONTAINS(xml, "error_policy=\"stop\"");
    CHECK_STR_CONTAINS(xml, "rerror_policy=\"stop\"");
    CHECK_STR_CONTAINS(xml, path);
    free(xml);
    /* the reference survives in the spec stored with the VM */
    CHECK(json_object_get(json_array_get(json_object_get(spec, "disks"), 0), "volume") != NULL);
    CHECK(json_object_get(json_array_get(json_object_get(spec, "disks"), 0), "path") == NULL);
    json_decref(spec);
    /* a disk's format must agree with the volume's; path and volume exclude each other */
    spec = json_loads("{\"name\":\"v\",\"memory_mib\":128,\"boot\":{\"kernel\":\"/k\"},"
                      "\"disks\":[{\"format\":\"raw\",\"volume\":{\"domain\":\"" SD "\",\"image\":\"" IMG
                      "\",\"volume\":\"" VOL "\"}}]}", 0, NULL);
    CHECK(vr_vm_spec_parse(&agent, spec, vs, &err) == -1);
    CHECK_STR_CONTAINS(err.message, "qcow2");
    json_decref(spec);
    spec = json_loads("{\"name\":\"v\",\"memory_mib\":128,\"boot\":{\"kernel\":\"/k\"},"
                      "\"disks\":[{\"path\":\"/a\",\"volume\":{\"domain\":\"" SD "\",\"image\":\"" IMG
                      "\",\"volume\":\"" VOL "\"}}]}", 0, NULL);
    CHECK(vr_vm_spec_parse(&agent, spec, vs, &err) == -1);
    CHECK_STR_CONTAINS(err.message, "not both");
    json_decref(spec);

    /* extend: only grow; CAPACITY and the file follow */
    CHECK(vr_volume_extend(&agent, &r, 512, &err) == -1 && err.code == VR_ERR_INVALID_PARAMS);
    CHECK(vr_volume_extend(&agent, &r, 4 << 20, &err) == 0);
    CHECK(vr_volume_info(&agent, &r, &info, &err) == 0);
    CHECK(json_integer_value(json_object_get(info, "capacity")) == 4 << 20);
    CHECK(!strcmp(json_string_value(json_object_get(info, "format")), "qcow2"));
    json_decref(info);

    /* a second volume with a corrupt .meta, and stray entries: list goes on */
    vr_volume_ref bad = r;
    memcpy(bad.volume, "fedcba98", 8);
    CHECK(vr_volume_begin(&agent, &bad, &(vr_volume_spec){.format = "raw", .size = 512}, &err) == 0);
    char badmeta[1100], stray[1100];
    CHECK(vr_volume_path(&agent, &bad, ".meta", badmeta, sizeof(badmeta), &err) == 0);
    int fd = open(badmeta, O_WRONLY | O_APPEND);
    CHECK(fd >= 0 && write(fd, "X=1\n", 4) == 4);
    close(fd);
    snprintf(stray, sizeof(stray), "%s/_dev_x/" SD "/images/not-a-uuid", root);
    mkdir(stray, 0755);
    snprintf(stray, sizeof(stray), "%s/_dev_x/" SD "/images/" IMG "/junk.meta", root);
    close(open(stray, O_WRONLY | O_CREAT, 0644));
    json_t *list;
    CHECK(vr_volume_list(&agent, SD, &list, &err) == 0);
    json_t *vols = json_object_get(list, "volumes"), *v;
    CHECK(json_array_size(vols) == 2);
    size_t i;
    json_array_foreach(vols, i, v) {
        const char *id = json_string_value(json_object_get(v, "volume"));
        const char *leg = json_string_value(json_object_get(v, "legality"));
        if (!strcmp(id, VOL))
            CHECK(!strcmp(leg, "LEGAL"));
        else {
            CHECK(!strcmp(leg, "ILLEGAL"));
            CHECK_STR_CONTAINS(json_string_value(json_object_get(v, "reason")), "checksum");
        }
    }
    json_decref(list);
    CHECK(vr_volume_resolve(&agent, &bad, path, sizeof(path), &fmt, &err) == -1);
    CHECK_STR_CONTAINS(err.message, bad.volume);

    /* delete: files and the then empty image directory go */
    unlink(stray);
    CHECK(vr_volume_delete(&agent, &bad, false, &err) == 0);
    /* with wipe the data's blocks are zeros before its name goes: a hard
     * link taken before sees them */
    char data[PATH_MAX], kept[PATH_MAX];
    CHECK(vr_volume_path(&agent, &r, "", data, sizeof(data), &err) == 0);
    snprintf(kept, sizeof(kept), "%s/kept", root);
    fill(data, 0, 1 << 20, 0x5a);
    CHECK(link(data, kept) == 0);
    CHECK(vr_volume_delete(&agent, &r, true, &err) == 0);
    CHECK(access(data, F_OK) == -1 && zeros(kept, 1 << 20));
    unlink(kept);
    CHECK(vr_volume_delete(&agent, &r, false, &err) == -1 && err.code == VR_ERR_NOT_FOUND);
    snprintf(stray, sizeof(stray), "%s/_dev_x/" SD "/images/" IMG, root);
    CHECK(access(stray, F_OK) == -1);
    free(vs);
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(p) < 0 ? 0 : 0; /* best effort */
}

int main(void)
{
    char dir[] = "/var/tmp/vireo-test-volume-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    snprintf(agent.storage_root, sizeof(agent.storage_root), "%s", dir);
    progress_parse();
    qemuimg(dir);
    convert_cancel(dir);
    volumes(dir);
    wipe(dir);
    CHECK(vr_enospc_has_room(32ULL << 20, 4ULL << 20));   /* 10 % of a small one */
    CHECK(!vr_enospc_has_room(32ULL << 20, 3ULL << 20));
    CHECK(!vr_enospc_has_room(1ULL << 40, 60ULL << 20)); /* 64 MiB of a big one */
    CHECK(vr_enospc_has_room(1ULL << 40, 65ULL << 20));
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return CHECK_DONE();
}
