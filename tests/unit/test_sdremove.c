/* Removing a domain tree: symlinks inside it that point outside are
 * unlinked, never followed (their targets survive); the domain is hidden
 * by a rename first; hidden leftovers of an interrupted removal go. */
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "storage/sdremove.h"

#define UUID "3c9d3bd8-7b51-4c6e-9a55-2f0d5ad0a1b1"

static char base[256];

static void path(char *out, const char *rel)
{
    if (snprintf(out, PATH_MAX, "%s/%s", base, rel) >= PATH_MAX)
        abort(); /* test paths are short; a test may stop */
}

static void mk(const char *rel)
{
    char p[PATH_MAX];
    path(p, rel);
    CHECK(mkdir(p, 0755) == 0);
}

static void put(const char *rel)
{
    char p[PATH_MAX];
    path(p, rel);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0 && write(fd, "x", 1) == 1);
    if (fd >= 0)
        close(fd);
}

static void link_to(const char *target_rel, const char *rel)
{
    char t[PATH_MAX], p[PATH_MAX];
    path(t, target_rel);
    path(p, rel);
    CHECK(symlink(t, p) == 0);
}

static bool exists(const char *rel)
{
    char p[PATH_MAX];
    struct stat st;
    path(p, rel);
    return lstat(p, &st) == 0;
}

/* A domain with links out of it: to a directory (with a file) and to a
 * file outside, and a dangling one. */
static void make_domain(const char *dir)
{
    char r[PATH_MAX];
    mk(dir);
    snprintf(r, sizeof(r), "%s/dom_md", dir);
    mk(r);
    snprintf(r, sizeof(r), "%s/dom_md/metadata", dir);
    put(r);
    snprintf(r, sizeof(r), "%s/images", dir);
    mk(r);
    snprintf(r, sizeof(r), "%s/images/img", dir);
    mk(r);
    snprintf(r, sizeof(r), "%s/images/img/vol", dir);
    put(r);
    snprintf(r, sizeof(r), "%s/images/img/outdir", dir);
    link_to("outside", r);
    snprintf(r, sizeof(r), "%s/images/outfile", dir);
    link_to("outside/keep", r);
    snprintf(r, sizeof(r), "%s/dangling", dir);
    link_to("nowhere", r);
}

int main(void)
{
    snprintf(base, sizeof(base), "%s/vireo-sdremove-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    CHECK(mkdtemp(base) != NULL);
    mk("outside");
    put("outside/keep");
    mk("mnt");

    /* the tree alone */
    make_domain("tree");
    vr_error err = {0};
    char p[PATH_MAX];
    path(p, "tree");
    CHECK(vr_sd_remove_tree(p, &err) == 0);
    CHECK(!exists("tree"));
    CHECK(exists("outside") && exists("outside/keep"));
    CHECK(vr_sd_remove_tree(p, &err) == 0); /* missing: fine */

    /* a domain: hidden, then gone; a stale leftover of the same uuid too */
    make_domain("mnt/" UUID);
    make_domain("mnt/" VR_SD_REMOVING_PREFIX UUID);
    path(p, "mnt");
    CHECK(vr_sd_remove_domain(p, UUID, &err) == 0);
    CHECK(!exists("mnt/" UUID) && !exists("mnt/" VR_SD_REMOVING_PREFIX UUID));
    CHECK(exists("mnt") && exists("outside/keep"));
    CHECK(vr_sd_remove_domain(p, UUID, &err) == -1 && err.code == VR_ERR_STORAGE);

    /* leftovers of a crash are removed, other entries are not */
    make_domain("mnt/" VR_SD_REMOVING_PREFIX UUID);
    make_domain("mnt/.removing-other");
    make_domain("mnt/" UUID);
    mk("mnt/.removing-");
    CHECK(vr_sd_remove_leftovers(p) == 2);
    CHECK(!exists("mnt/" VR_SD_REMOVING_PREFIX UUID) && !exists("mnt/.removing-other"));
    CHECK(exists("mnt/" UUID "/images/img/vol") && exists("mnt/.removing-"));
    CHECK(exists("outside/keep"));

    /* a symlink as the whole tree: the link goes, its target stays */
    link_to("outside", "mnt/.removing-link");
    CHECK(vr_sd_remove_leftovers(p) == 1);
    CHECK(!exists("mnt/.removing-link") && exists("outside/keep"));

    /* clean up with the code under test, then check it all went */
    CHECK(vr_sd_remove_tree(base, &err) == 0);
    CHECK(access(base, F_OK) != 0);
    return CHECK_DONE();
}
