/* Metadata files on shared storage: what is written reads back, a torn or
 * edited file is refused (never half-believed), writes replace atomically. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "storage/mdfile.h"

static void roundtrip(const char *dir)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/metadata", dir);
    vr_md md = {0}, back = {0};
    vr_error err = {0};
    CHECK(vr_md_set(&md, "VERSION", "1") == 0);
    CHECK(vr_md_set(&md, "DESCRIPTION", "d\xc3\xa9j\xc3\xa0 vu <'\"> = x") == 0);
    CHECK(vr_md_set_ll(&md, "SPM_ID", -1) == 0);
    CHECK(vr_md_set(&md, "VERSION", "2") == 0); /* replace keeps one entry */
    CHECK(md.n == 3);
    CHECK(vr_md_write(path, &md, &err) == 0);
    CHECK(vr_md_read(path, &back, &err) == 0);
    CHECK(back.n == 3);
    CHECK(!strcmp(vr_md_get(&back, "VERSION"), "2"));
    CHECK(!strcmp(vr_md_get(&back, "DESCRIPTION"), "d\xc3\xa9j\xc3\xa0 vu <'\"> = x"));
    long long v = 0;
    CHECK(vr_md_get_ll(&back, "SPM_ID", &v) == 0 && v == -1);
    CHECK(vr_md_get_ll(&back, "DESCRIPTION", &v) == -EINVAL);
    CHECK(vr_md_get_ll(&back, "NOPE", &v) == -ENOENT);
    char tmp[520];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    CHECK(access(tmp, F_OK) != 0); /* no leftover temporary */
    vr_md_clear(&back);

    /* a torn write: the file cut anywhere before its end is refused */
    char *text;
    size_t len;
    CHECK(vr_md_format(&md, &text, &len) == 0);
    for (size_t cut = 0; cut < len - 1; cut += 7) {
        vr_error e = {0};
        CHECK(vr_md_parse(text, cut, "torn", &back, &e) == -EBADMSG);
        CHECK(back.n == 0);
        CHECK_STR_CONTAINS(e.message, "torn");
    }
    /* one flipped byte anywhere in the body is refused */
    for (size_t i = 0; i < len - 60; i += 5) {
        text[i] ^= 0x01;
        vr_error e = {0};
        CHECK(vr_md_parse(text, len, "flip", &back, &e) == -EBADMSG);
        text[i] ^= 0x01;
    }
    CHECK(vr_md_parse(text, len, "ok", &back, &err) == 0);
    vr_md_clear(&back);
    free(text);
    vr_md_clear(&md);
}

static void bad_entries(void)
{
    vr_md md = {0};
    CHECK(vr_md_set(&md, "lower", "x") == -EINVAL);
    CHECK(vr_md_set(&md, "", "x") == -EINVAL);
    CHECK(vr_md_set(&md, "A=B", "x") == -EINVAL);
    CHECK(vr_md_set(&md, "NL", "a\nB=c") == -EINVAL);
    CHECK(vr_md_set(&md, "BAD", "\xff") == -EINVAL);
    CHECK(vr_md_set(&md, VR_MD_CKSUM_KEY, "0") == -EINVAL);
    CHECK(md.n == 0);
    char key[16];
    for (int i = 0; i < VR_MD_MAX_KEYS; i++) {
        snprintf(key, sizeof(key), "K%d", i);
        CHECK(vr_md_set(&md, key, "v") == 0);
    }
    CHECK(vr_md_set(&md, "ONE_MORE", "v") == -E2BIG);
    vr_md_clear(&md);
    /* too large to write */
    char big[3000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    CHECK(vr_md_set(&md, "A", big) == 0);
    CHECK(vr_md_set(&md, "B", big) == 0);
    char *text;
    size_t len;
    CHECK(vr_md_format(&md, &text, &len) == -E2BIG);
    vr_md_clear(&md);
}

static void missing_and_foreign(const char *dir)
{
    char path[512];
    vr_md md = {0};
    vr_error err = {0};
    snprintf(path, sizeof(path), "%s/none", dir);
    CHECK(vr_md_read(path, &md, &err) == -ENOENT);
    CHECK_STR_CONTAINS(err.message, path);
    snprintf(path, sizeof(path), "%s/foreign", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(write(fd, "VERSION=1\nPOOL_UUID=x\n", 22) == 22);
    close(fd);
    CHECK(vr_md_read(path, &md, &err) == -EBADMSG);
    CHECK_STR_CONTAINS(err.message, "no checksum");
}

int main(void)
{
    char dir[] = "/tmp/vireo-mdfile-XXXXXX";
    if (!mkdtemp(dir))
        return 2;
    roundtrip(dir);
    bad_entries();
    missing_and_foreign(dir);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return 2;
    return CHECK_DONE();
}
