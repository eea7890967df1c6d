/* Shared device rules and the tables behind them: an unknown member of an
 * I/O-limits object (which once read past the end of the limits' name
 * table, crashing agent and engine) is a clean error; tables carry their
 * length. */
#include "check.h"
#include "devspec.h"
#include "jsonx.h"
#include "names.h"

static json_t *doc;

static int disk(const char *json, vr_disk *d, vr_error *err)
{
    json_decref(doc); /* the disk borrows its strings from the JSON */
    doc = json_loads(json, 0, NULL);
    if (!doc) {
        fprintf(stderr, "bad test JSON: %s\n", json);
        return -2;
    }
    vr_error_clear(err);
    return vr_disk_parse(doc, "disks[0]", d, err);
}

int main(void)
{
    vr_disk d;
    vr_error err;

    /* Every limit has a name: a shortened initializer would leave NULLs. */
    for (int i = 0; i < VR_IOTUNE_N; i++)
        CHECK(vr_iotune_names[i] != NULL);

    CHECK(disk("{\"path\":\"/a\",\"iotune\":{\"bogus\":1}}", &d, &err) == -1);
    CHECK(err.code == VR_ERR_INVALID_PARAMS);
    CHECK_STR_CONTAINS(err.message, "disks[0].iotune: unknown member 'bogus'");
    /* Unknown after known ones, and a name longer than every table entry. */
    CHECK(disk("{\"path\":\"/a\",\"iotune\":{\"read_iops_sec\":5,\"write_iops_secXXXXXXXXXXXXXXXXXXXXXXXXXXX\":1}}",
               &d, &err) == -1);
    CHECK(err.code == VR_ERR_INVALID_PARAMS);
    CHECK(disk("{\"path\":\"/a\",\"iotune\":{\"total_bytes_sec\":1000,\"read_iops_sec\":5}}", &d, &err) == 0);
    CHECK(d.has_iotune && d.iotune[VR_IOTUNE_TOTAL_BYTES] == 1000 && d.iotune[VR_IOTUNE_READ_IOPS] == 5);
    CHECK(disk("{\"path\":\"/a\",\"iotune\":{\"total_bytes_sec\":1,\"read_bytes_sec\":1}}", &d, &err) == -1);
    CHECK_STR_CONTAINS(err.message, "excludes");
    CHECK(disk("{\"path\":\"/a\",\"iotune\":{\"total_iops_sec\":-1}}", &d, &err) == -1);
    CHECK_STR_CONTAINS(err.message, "disks[0].iotune.total_iops_sec");
    CHECK(disk("{\"path\":\"/a\",\"address\":{\"type\":\"pci\",\"bogus\":\"0x1\"}}", &d, &err) == -1);
    CHECK_STR_CONTAINS(err.message, "disks[0].address: unknown member 'bogus'");
    CHECK(disk("{\"path\":\"/a\",\"bogus\":1}", &d, &err) == -1);
    CHECK_STR_CONTAINS(err.message, "disks[0]: unknown member 'bogus'");

    /* Text that ends up in domain XML must be writable there (fuzzing
     * found control characters in boot.cmdline making ill-formed XML). */
    vr_boot b;
    json_t *boot = json_pack("{s:s, s:s}", "kernel", "/k", "cmdline", "console=ttyS0\a");
    CHECK(vr_boot_parse(boot, &b, &err) == -1);
    CHECK_STR_CONTAINS(err.message, "boot.cmdline must not contain control characters");
    json_object_set_new(boot, "cmdline", json_string("console=ttyS0 quiet \xc3\xa9"));
    CHECK(vr_boot_parse(boot, &b, &err) == 0);
    json_decref(boot);
    CHECK(disk("{\"path\":\"/a\\uFFFEb\"}", &d, &err) == -1);
    CHECK(disk("{\"path\":\"/a\\u0001\"}", &d, &err) == -1);
    CHECK(disk("{\"path\":\"/\\u00e9\\uFFFD\"}", &d, &err) == 0);
    CHECK(vr_valid_text("tab\tno") == false && vr_valid_text("\xef\xbf\xbf") == false);

    /* Tables: the count is the array's; old NULL terminators are skipped. */
    static const char *const two[] = {"a", "b"};
    static const char *const old_style[] = {"a", NULL};
    CHECK(VR_NAMES(two).n == 2 && VR_ARRAY_SIZE(two) == 2);
    CHECK(vr_str_in("b", VR_NAMES(two)) && !vr_str_in("c", VR_NAMES(two)));
    CHECK(vr_str_in("a", VR_NAMES(old_style)) && !vr_str_in("c", VR_NAMES(old_style)));
    CHECK(!vr_str_in("a", VR_NO_NAMES));
    CHECK(vr_names_find(VR_NAMES(((const char *const[]){"x", "y", "z"})), "z") == 2);
    json_t *o = json_pack("{s:i}", "c", 1);
    CHECK(vr_json_check_keys(o, "o", VR_NAMES(two), &err) == -1);
    CHECK(vr_json_check_keys(o, "o", VR_NAMES(((const char *const[]){"c"})), &err) == 0);
    json_decref(o);

    /* A disk names a path or a volume, exactly one; a volume is three UUIDs. */
#define VREF "{\"domain\":\"11111111-2222-3333-4444-555555555555\",\"image\":\"11111111-2222-3333-4444-555555555555\",\"volume\":\"11111111-2222-3333-4444-555555555555\"}"
    CHECK(disk("{\"volume\":" VREF "}", &d, &err) == 0);
    CHECK(d.volume && !d.path && !strcmp(d.format, "raw"));
    CHECK(disk("{\"path\":\"/a\"}", &d, &err) == 0 && !d.volume);
    CHECK(disk("{\"path\":\"/a\",\"volume\":" VREF "}", &d, &err) == -1);
    CHECK_STR_CONTAINS(err.message, "not both");
    CHECK(disk("{\"bus\":\"virtio\"}", &d, &err) == -1);
    CHECK_STR_CONTAINS(err.message, "path");
    CHECK(disk("{\"volume\":{\"domain\":\"..\",\"image\":\"11111111-2222-3333-4444-555555555555\",\"volume\":\"11111111-2222-3333-4444-555555555555\"}}", &d, &err) == -1);
    CHECK_STR_CONTAINS(err.message, "disks[0].volume.domain");
    CHECK(disk("{\"volume\":{\"domain\":\"11111111-2222-3333-4444-555555555555\",\"image\":\"11111111-2222-3333-4444-555555555555\"}}", &d, &err) == -1);
    CHECK(disk("{\"volume\":{\"domain\":\"11111111-2222-3333-4444-555555555555\",\"image\":\"11111111-2222-3333-4444-555555555555\",\"volume\":\"11111111-2222-3333-4444-555555555555\",\"path\":\"/x\"}}", &d, &err) == -1);
    CHECK(disk("{\"volume\":\"11111111-2222-3333-4444-555555555555\"}", &d, &err) == -1);

    json_decref(doc);
    return CHECK_DONE();
}
