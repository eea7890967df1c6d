/* Storage connections and domain directories: what a `conn` object may
 * hold (nothing that smuggles an option into mount's command line), the
 * exact mount argv, localfs links, and domain directories that are
 * symlinks out of their mount being refused. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "storage/runcmd.h"
#include "storage/sdconn.h"
#include "storage/sdinfo.h"

static int parse(const char *json, vr_sd_conn *c, vr_error *err)
{
    json_error_t je;
    json_t *o = json_loads(json, 0, &je);
    if (!o) {
        fprintf(stderr, "bad test JSON: %s\n", json);
        return -2;
    }
    vr_error_clear(err);
    int rc = vr_sd_conn_parse(o, "conn", c, err);
    json_decref(o);
    return rc;
}

static void argv_is(const vr_sd_conn *c, const char *const *want)
{
    const char *argv[10];
    int n = vr_sd_mount_argv(c, "/run/s/x", argv, 10);
    int i = 0;
    for (; want[i]; i++)
        CHECK(i < n && !strcmp(argv[i], want[i]));
    CHECK(n == i && argv[n] == NULL);
}

static void good_conns(void)
{
    vr_sd_conn c;
    vr_error err;
    CHECK(parse("{\"type\":\"posixfs\",\"spec\":\"/dev/loop3\",\"vfs_type\":\"ext4\"}", &c, &err) == 0);
    CHECK(!strcmp(c.name, "_dev_loop3"));
    argv_is(&c, (const char *const[]){"/bin/mount", "-t", "ext4", "/dev/loop3", "/run/s/x", NULL});
    CHECK(parse("{\"type\":\"posixfs\",\"spec\":\"/dev/sdb1\",\"vfs_type\":\"xfs\","
                "\"options\":\"noatime,inode64\"}", &c, &err) == 0);
    argv_is(&c, (const char *const[]){"/bin/mount", "-t", "xfs", "-o", "noatime,inode64",
                                      "/dev/sdb1", "/run/s/x", NULL});
    CHECK(parse("{\"type\":\"nfs\",\"spec\":\"server.example:/exports/a\"}", &c, &err) == 0);
    CHECK(!strcmp(c.name, "server.example:_exports_a"));
    argv_is(&c, (const char *const[]){"/bin/mount", "-t", "nfs", "-o",
                                      "vers=4.2,retrans=6,timeo=600", "server.example:/exports/a",
                                      "/run/s/x", NULL});
    CHECK(parse("{\"type\":\"nfs\",\"spec\":\"10.0.0.1:/e\",\"version\":\"3\",\"retrans\":2,"
                "\"timeo\":100,\"options\":\"soft,nosharecache\"}", &c, &err) == 0);
    CHECK(!strcmp(c.options, "vers=3,retrans=2,timeo=100,soft,nosharecache"));
    CHECK(parse("{\"type\":\"localfs\",\"spec\":\"/srv/vireo/sd1\"}", &c, &err) == 0);
    CHECK(c.type == VR_SD_LOCALFS && !strcmp(c.name, "_srv_vireo_sd1"));
}

static void bad_conn(const char *json, const char *why)
{
    vr_sd_conn c;
    vr_error err;
    CHECK(parse(json, &c, &err) == -1);
    CHECK(err.code == VR_ERR_INVALID_PARAMS);
    CHECK_STR_CONTAINS(err.message, why);
}

static void bad_conns(void)
{
    bad_conn("{\"type\":\"posixfs\",\"spec\":\"/dev/loop3\",\"vfs_type\":\"ext4\",\"options\":\"ro,exec;x\"}",
             "options");
    bad_conn("{\"type\":\"posixfs\",\"spec\":\"/dev/loop3\",\"vfs_type\":\"ext4\",\"options\":\"rw\\nx\"}",
             "options");
    bad_conn("{\"type\":\"posixfs\",\"spec\":\"/dev/loop3\",\"vfs_type\":\"ext4\",\"options\":\"rw,\"}",
             "options");
    bad_conn("{\"type\":\"posixfs\",\"spec\":\"/dev/loop3\",\"vfs_type\":\"ext4\",\"options\":\",rw\"}",
             "options");
    bad_conn("{\"type\":\"posixfs\",\"spec\":\"/dev/loop3\",\"vfs_type\":\"ext4\",\"options\":\"Rw\"}",
             "options");
    bad_conn("{\"type\":\"posixfs\",\"spec\":\"/dev/../etc\",\"vfs_type\":\"ext4\"}", "spec");
    bad_conn("{\"type\":\"posixfs\",\"spec\":\"dev/loop3\",\"vfs_type\":\"ext4\"}", "spec");
    bad_conn("{\"type\":\"posixfs\",\"spec\":\"/dev/loop 3\",\"vfs_type\":\"ext4\"}", "spec");
    bad_conn("{\"type\":\"posixfs\",\"spec\":\"/dev/loop3,ro\",\"vfs_type\":\"ext4\"}", "spec");
    bad_conn("{\"type\":\"posixfs\",\"spec\":\"/dev/loop3/\",\"vfs_type\":\"ext4\"}", "spec");
    bad_conn("{\"type\":\"posixfs\",\"spec\":\"/dev/loop3\",\"vfs_type\":\"-o\"}", "vfs_type");
    bad_conn("{\"type\":\"posixfs\",\"spec\":\"/dev/loop3\"}", "vfs_type");
    bad_conn("{\"type\":\"posixfs\",\"spec\":\"/dev/loop3\",\"vfs_type\":\"ext4\",\"mode\":1}", "mode");
    bad_conn("{\"type\":\"posixfs\",\"spec\":7,\"vfs_type\":\"ext4\"}", "spec");
    bad_conn("{\"type\":\"nfs\",\"spec\":\"/exports/a\"}", "server:/absolute/path");
    bad_conn("{\"type\":\"nfs\",\"spec\":\"-o:/exports/a\"}", "spec");
    bad_conn("{\"type\":\"nfs\",\"spec\":\"s:/e\",\"version\":\"5\"}", "version");
    bad_conn("{\"type\":\"nfs\",\"spec\":\"s:/e\",\"retrans\":\"6\"}", "retrans");
    bad_conn("{\"type\":\"nfs\",\"spec\":\"s:/e\",\"vfs_type\":\"ext4\"}", "vfs_type");
    bad_conn("{\"type\":\"localfs\",\"spec\":\"/srv/x\",\"options\":\"rw\"}", "options");
    bad_conn("{\"type\":\"iscsi\",\"spec\":\"/srv/x\"}", "type");
    CHECK(vr_sd_valid_options(""));
    CHECK(vr_sd_valid_options("a=b.c_d,e"));
    CHECK(!vr_sd_valid_options("a,,b"));
    CHECK(!vr_sd_valid_options("a b"));
}

/* localfs: a link under the storage root, idempotent, refused for a
 * symlinked directory; a domain directory that is a symlink is refused. */
static void localfs_and_dirs(void)
{
    char base[] = "/tmp/vireo-sdconn-XXXXXX";
    CHECK(mkdtemp(base) != NULL);
    vr_agent a = {0};
    snprintf(a.storage_root, sizeof(a.storage_root), "%s/root", base);
    char data[300], outside[300], link[300], mount[4096];
    snprintf(data, sizeof(data), "%s/data", base);
    snprintf(outside, sizeof(outside), "%s/outside", base);
    snprintf(link, sizeof(link), "%s/link", base);
    CHECK(mkdir(data, 0755) == 0 && mkdir(outside, 0755) == 0 && symlink(data, link) == 0);

    vr_sd_conn c;
    vr_error err;
    char json[400];
    snprintf(json, sizeof(json), "{\"type\":\"localfs\",\"spec\":\"%s\"}", link);
    CHECK(parse(json, &c, &err) == 0);
    CHECK(vr_sd_connect(&a, &c, mount, sizeof(mount), &err) == -1);
    CHECK_STR_CONTAINS(err.message, "symlink");

    snprintf(json, sizeof(json), "{\"type\":\"localfs\",\"spec\":\"%s\"}", data);
    CHECK(parse(json, &c, &err) == 0);
    CHECK(!vr_sd_connected(&a, &c, mount, sizeof(mount)));
    CHECK(vr_sd_connect(&a, &c, mount, sizeof(mount), &err) == 0);
    CHECK(vr_sd_connect(&a, &c, mount, sizeof(mount), &err) == 0); /* idempotent */
    CHECK(vr_sd_connected(&a, &c, mount, sizeof(mount)));

    /* a real domain directory passes, a symlink to outside does not */
    const char *good = "11111111-2222-3333-4444-555555555555";
    const char *evil = "66666666-7777-8888-9999-000000000000";
    char p[600];
    snprintf(p, sizeof(p), "%s/%s", data, good);
    CHECK(mkdir(p, 0755) == 0);
    snprintf(p, sizeof(p), "%s/%s/dom_md", data, good);
    CHECK(mkdir(p, 0755) == 0);
    CHECK(vr_sd_dir_check(mount, good, &err) == 0);
    snprintf(p, sizeof(p), "%s/dom_md", outside);
    CHECK(mkdir(p, 0755) == 0);
    snprintf(p, sizeof(p), "%s/%s", data, evil);
    CHECK(symlink(outside, p) == 0);
    vr_error_clear(&err);
    CHECK(vr_sd_dir_check(mount, evil, &err) == -1 && err.code == VR_ERR_STORAGE);
    CHECK_STR_CONTAINS(err.message, "symlink refused");
    CHECK(unlink(p) == 0);
    /* dom_md itself a symlink out */
    snprintf(p, sizeof(p), "%s/%s", data, evil);
    CHECK(mkdir(p, 0755) == 0);
    char dm[700];
    snprintf(dm, sizeof(dm), "%s/dom_md", p);
    char target[400];
    snprintf(target, sizeof(target), "%s/dom_md", outside);
    CHECK(symlink(target, dm) == 0);
    CHECK(vr_sd_dir_check(mount, evil, &err) == -1);
    CHECK(unlink(dm) == 0 && rmdir(p) == 0);

    CHECK(vr_sd_disconnect(&a, &c, &err) == 0);
    CHECK(!vr_sd_connected(&a, &c, mount, sizeof(mount)));
    CHECK(vr_sd_disconnect(&a, &c, &err) == 0); /* idempotent */
    struct stat st;
    CHECK(stat(data, &st) == 0); /* the data stays */

    snprintf(p, sizeof(p), "%s/%s/dom_md", data, good);
    rmdir(p);
    snprintf(p, sizeof(p), "%s/%s", data, good);
    rmdir(p);
    snprintf(p, sizeof(p), "%s/dom_md", outside);
    rmdir(p);
    rmdir(outside);
    unlink(link);
    rmdir(data);
    rmdir(a.storage_root);
    rmdir(base);
}

/* Helper programs: exit status and output kept, a deadline enforced. */
static void run_argv(void)
{
    char out[64];
    const char *echo[] = {"/bin/sh", "-c", "echo 'mount: no such device' >&2; exit 32", NULL};
    CHECK(vr_run_argv(echo, 10, out, sizeof(out)) == 32);
    CHECK(!strcmp(out, "mount: no such device"));
    const char *chatty[] = {"/bin/sh", "-c", "yes | head -c 100000", NULL};
    CHECK(vr_run_argv(chatty, 10, out, sizeof(out)) == 0 && strlen(out) < sizeof(out));
    const char *slow[] = {"/bin/sleep", "30", NULL};
    CHECK(vr_run_argv(slow, 1, out, sizeof(out)) == -ETIMEDOUT);
    const char *missing[] = {"/nonexistent/mount", NULL};
    CHECK(vr_run_argv(missing, 1, NULL, 0) == -ENOENT);
}

int main(void)
{
    run_argv();
    good_conns();
    bad_conns();
    localfs_and_dirs();
    return CHECK_DONE();
}
