/* The agent's own qcow2 overlay (storage/qcow2hdr.c) against the real
 * qemu-img: what `qemu-img info` reads from it is what it reads from
 * qemu-img's own overlay of the same backing file and size, `qemu-img
 * check` finds no error or leak, the layer reads as its backing file
 * (`qemu-img compare`), and data written into it by qemu-img stays
 * consistent. Bad input is refused and leaves no file. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "storage/qcow2hdr.h"
#include "storage/qemuimg.h"

/* argv run in dir; its exit status, its stdout (up to len - 1 bytes) in out. */
static int run(const char *dir, char *const argv[], char *out, size_t len)
{
    int p[2];
    if (pipe(p) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        if (chdir(dir) < 0)
            _exit(126);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(p[1]);
    size_t n = 0;
    ssize_t r;
    while ((r = read(p[0], out + n, len - 1 - n)) > 0 && n + (size_t)r < len - 1)
        n += (size_t)r;
    if (r > 0)
        n += (size_t)r;
    out[n] = 0;
    close(p[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *fs(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "(none)";
}

/* Ours and qemu-img's overlay of size over base (format fmt) read alike. */
static void alike(const char *dir, const char *base, const char *fmt, long long size)
{
    char ours[512], theirs[512], out[8192];
    vr_error err = {0};
    json_t *a = NULL, *b = NULL;
    snprintf(ours, sizeof(ours), "%s/ours", dir);
    snprintf(theirs, sizeof(theirs), "%s/theirs", dir);
    unlink(ours);
    unlink(theirs);
    CHECK(vr_qcow2_create_overlay(ours, base, fmt, size, &err) == 0);
    CHECK(vr_qemuimg_create_overlay(theirs, base, fmt, size, &err) == 0);
    CHECK(vr_qemuimg_info(ours, &a, &err) == 0);
    CHECK(vr_qemuimg_info(theirs, &b, &err) == 0);
    CHECK(!strcmp(fs(a, "format"), "qcow2"));
    CHECK(json_integer_value(json_object_get(a, "virtual-size")) == size);
    CHECK(json_integer_value(json_object_get(a, "cluster-size")) == 65536);
    CHECK(!strcmp(fs(a, "backing-filename"), base));
    CHECK(!strcmp(fs(a, "backing-filename-format"), fmt));
    static const char *const same[] = {"format", "virtual-size", "cluster-size", "backing-filename",
                                       "backing-filename-format", "dirty-flag"};
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
        CHECK(json_equal(json_object_get(a, same[i]), json_object_get(b, same[i])));
    json_t *da = json_object_get(json_object_get(a, "format-specific"), "data"),
           *db = json_object_get(json_object_get(b, "format-specific"), "data");
    CHECK(!strcmp(fs(da, "compat"), "1.1"));
    CHECK(json_equal(da, db)); /* compat, refcount bits, corrupt, lazy refcounts, compression... */
    if (!json_equal(da, db)) {
        char *x = json_dumps(da, 0), *y = json_dumps(db, 0);
        fprintf(stderr, "ours:   %s\ntheirs: %s\n", x, y);
        free(x);
        free(y);
    }
    json_decref(a);
    json_decref(b);
    char *check[] = {"qemu-img", "check", "--output=json", "-f", "qcow2", ours, NULL};
    CHECK(run(dir, check, out, sizeof(out)) == 0);
    json_t *c = json_loads(out, 0, NULL);
    CHECK(c && json_integer_value(json_object_get(c, "check-errors")) == 0);
    CHECK(c && !json_object_get(c, "leaks") && !json_object_get(c, "corruptions"));
    json_decref(c);
    /* the same file length as qemu-img's, and read as the backing file */
    struct stat sa, sb;
    CHECK(stat(ours, &sa) == 0 && stat(theirs, &sb) == 0 && sa.st_size == sb.st_size);
    CHECK((sa.st_mode & 0777) == 0644);
    char *cmp[] = {"qemu-img", "compare", "-q", "-f", "qcow2", "-F", "qcow2", ours, theirs, NULL};
    CHECK(run(dir, cmp, out, sizeof(out)) == 0);
}

int main(void)
{
    char dir[] = "/var/tmp/vireo-test-qcow2hdr-XXXXXX", base[600], path[600], out[8192];
    vr_error err = {0};
    if (!mkdtemp(dir))
        return 1;
    snprintf(base, sizeof(base), "%s/0b5e0000-0000-4000-8000-000000000001", dir);
    CHECK(vr_qemuimg_create(base, "raw", 64 << 20, false, &err) == 0);
    /* data in the backing file, so that compare sees it through both */
    int fd = open(base, O_WRONLY);
    CHECK(fd >= 0 && pwrite(fd, "vireo", 5, 3 << 20) == 5);
    close(fd);
    const char *b = strrchr(base, '/') + 1; /* relative, as volumes name their parent */
    alike(dir, b, "raw", 64 << 20);
    alike(dir, b, "raw", (64 << 20) + 512);       /* not a whole cluster */
    alike(dir, b, "raw", (512LL << 20) + 65536); /* two L1 entries */
    alike(dir, b, "raw", 64LL << 40);            /* the largest: a 1 MiB L1 table over 16 clusters */
    /* a qcow2 backing file, and a layer that qemu-img then writes into */
    char mid[600];
    snprintf(mid, sizeof(mid), "%s/mid", dir);
    CHECK(vr_qcow2_create_overlay(mid, b, "raw", 64 << 20, &err) == 0);
    alike(dir, "mid", "qcow2", 128 << 20);        /* a larger layer over a smaller parent */
    char *commit[] = {"qemu-img", "commit", "-q", "-f", "qcow2", "-b", "mid", "ours", NULL};
    CHECK(run(dir, commit, out, sizeof(out)) == 0); /* writes ours' (empty) data into mid: mid's tables used */
    char *check[] = {"qemu-img", "check", "-q", "-f", "qcow2", mid, NULL};
    CHECK(run(dir, check, out, sizeof(out)) == 0);
    /* refusals: nothing left behind, an existing file untouched */
    static const long long bad_sizes[] = {0, -512, 513, (64LL << 40) + 512};
    snprintf(path, sizeof(path), "%s/refused", dir);
    for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
        err = (vr_error){0};
        CHECK(vr_qcow2_create_overlay(path, b, "raw", bad_sizes[i], &err) == -1);
        CHECK(err.code == VR_ERR_INVALID_PARAMS);
        CHECK(access(path, F_OK) < 0);
    }
    err = (vr_error){0};
    CHECK(vr_qcow2_create_overlay(path, b, "vmdk", 64 << 20, &err) == -1 && err.code == VR_ERR_INVALID_PARAMS);
    CHECK(vr_qcow2_create_overlay(path, "", "raw", 64 << 20, &err) == -1 && access(path, F_OK) < 0);
    err = (vr_error){0};
    CHECK(vr_qcow2_create_overlay(mid, b, "raw", 64 << 20, &err) == -1); /* exists */
    CHECK(err.code == VR_ERR_STORAGE);
    CHECK_STR_CONTAINS(err.message, mid);
    CHECK(run(dir, check, out, sizeof(out)) == 0); /* still the committed layer */
    symlink(mid, path);
    CHECK(vr_qcow2_create_overlay(path, b, "raw", 64 << 20, &err) == -1); /* never through a symlink */
    CHECK(run(dir, check, out, sizeof(out)) == 0);
    char *rm[] = {"rm", "-rf", dir, NULL};
    run("/", rm, out, sizeof(out));
    return CHECK_DONE();
}
