/* The chains a registration takes from the domain (src/engine/export/
 * regchain.c, vr_regchain_apply): a chain newer than the OVF is taken with
 * a recovered snapshot per layer the OVF does not know; a chain that does
 * not hold together (a parent missing, an ILLEGAL volume, a loop) or that
 * the OVF's chain does not start is refused. Pure: JSON in, JSON out. */
#include <string.h>

#include "check.h"
#include "register.h"

#define ZERO "00000000-0000-0000-0000-000000000000"

/* A Volume.list entry of image img. */
static json_t *vol(const char *img, const char *v, const char *parent, const char *legality, int ctime)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:i}", "image", img, "volume", v, "parent", parent, "legality",
                     legality, "voltype", "LEAF", "ctime", ctime);
}

/* An OVF model with disk "d1" (volume leaf; chain base..leaf when given),
 * a path disk, one NIC and the snapshots of its chain. */
static json_t *model(const char *leaf, const char *chain)
{
    json_t *m = json_pack("{s:s, s:s, s:i, s:i, s:[{s:s, s:s, s:s, s:s}, {s:s, s:s}], s:[{s:s}], s:[]}", "id", "vm",
                          "name", "vm1", "memory_mib", 256, "vcpus", 1, "disks", "disk", "d1", "volume", leaf, "alias",
                          "data", "bus", "virtio", "path", "/iso", "bus", "sata", "nics", "model", "virtio",
                          "snapshots");
    if (chain) {
        json_t *c = json_loads(chain, 0, NULL), *x;
        size_t i;
        json_object_set_new(json_array_get(json_object_get(m, "disks"), 0), "chain", c);
        json_array_foreach(c, i, x) if (i + 1 < json_array_size(c)) /* a snapshot per volume under the leaf */
            json_array_append_new(json_object_get(m, "snapshots"),
                                  json_pack("{s:s, s:s, s:[{s:s, s:O}]}", "id", "s-ovf", "description", "old",
                                            "disks", "disk", "d1", "volume", json_object_get(x, "volume")));
    }
    return m;
}

static int apply(json_t *vols, const char *leaf, json_t *m, vr_error *err)
{
    json_t *res = json_pack("{s:o}", "volumes", vols), *leaves = json_pack("{s:s}", "d1", leaf);
    json_t *sd = json_pack("{s:s, s:s}", "id", "sd", "name", "data1");
    memset(err, 0, sizeof(*err));
    int rc = vr_regchain_apply(res, leaves, sd, m, err);
    json_decref(res);
    json_decref(leaves);
    json_decref(sd);
    return rc;
}

int main(void)
{
    vr_error err;
    /* newer than the OVF: b <- l1 known (one snapshot, on b), l2 made after: l1 a recovered snapshot */
    json_t *m = model("l1", "[{\"volume\":\"b\",\"parent\":\"\"},{\"volume\":\"l1\",\"parent\":\"b\"}]");
    CHECK(apply(json_pack("[o, o, o, o]", vol("d1", "b", ZERO, "LEGAL", 10), vol("d1", "l1", "b", "LEGAL", 20),
                          vol("d1", "l2", "l1", "LEGAL", 30), vol("other", "x", ZERO, "LEGAL", 1)), "l2", m,
                &err) == 0);
    json_t *d = json_array_get(json_object_get(m, "disks"), 0), *snaps = json_object_get(m, "snapshots");
    CHECK(!strcmp(json_string_value(json_object_get(d, "volume")), "l2"));
    CHECK(json_array_size(json_object_get(d, "chain")) == 3);
    CHECK(!strcmp(json_string_value(json_object_get(json_array_get(json_object_get(d, "chain"), 2), "parent")), "l1"));
    CHECK(json_array_size(snaps) == 2);
    json_t *r = json_array_get(snaps, 1), *rd = json_array_get(json_object_get(r, "disks"), 0);
    CHECK(!strcmp(json_string_value(json_object_get(json_array_get(snaps, 0), "id")), "s-ovf"));
    CHECK_STR_CONTAINS(json_string_value(json_object_get(r, "description")), "found on storage domain 'data1'");
    CHECK(!strcmp(json_string_value(json_object_get(rd, "volume")), "l1") && !json_object_get(rd, "chain"));
    CHECK(json_integer_value(json_object_get(r, "created_at")) == 30); /* when l2 was made over l1 */
    CHECK(json_array_size(json_object_get(r, "disks")) == 2 && json_array_size(json_object_get(r, "nics")) == 1);
    CHECK(json_integer_value(json_object_get(r, "memory_mib")) == 256);
    json_decref(m);

    /* the OVF's chain as the domain's: nothing recovered, nothing changed */
    m = model("l1", "[{\"volume\":\"b\",\"parent\":\"\"},{\"volume\":\"l1\",\"parent\":\"b\"}]");
    CHECK(apply(json_pack("[o, o]", vol("d1", "b", ZERO, "LEGAL", 10), vol("d1", "l1", "b", "LEGAL", 20)), "l1", m,
                &err) == 0);
    CHECK(json_array_size(json_object_get(m, "snapshots")) == 1);
    json_decref(m);

    /* a flat OVF disk snapshotted twice since: two recovered snapshots, oldest first (b, then l1) */
    m = model("b", NULL);
    CHECK(apply(json_pack("[o, o, o]", vol("d1", "l2", "l1", "LEGAL", 30), vol("d1", "b", ZERO, "LEGAL", 10),
                          vol("d1", "l1", "b", "LEGAL", 20)), "l2", m, &err) == 0);
    snaps = json_object_get(m, "snapshots");
    CHECK(json_array_size(snaps) == 2);
    CHECK(!strcmp(json_string_value(json_object_get(json_array_get(json_object_get(json_array_get(snaps, 0),
                                                                                   "disks"), 0), "volume")), "b"));
    CHECK(!strcmp(json_string_value(json_object_get(json_array_get(json_object_get(json_array_get(snaps, 1),
                                                                                   "disks"), 0), "volume")), "l1"));
    CHECK(json_integer_value(json_object_get(json_array_get(snaps, 0), "created_at")) == 20);
    json_decref(m);

    /* a thin disk: its base over a template's SHARED volume, which is not the VM's own */
    m = model("l1", NULL);
    json_t *t = vol("d1", "tv", ZERO, "LEGAL", 1);
    json_object_set_new(t, "voltype", json_string("SHARED"));
    CHECK(apply(json_pack("[o, o]", t, vol("d1", "l1", "tv", "LEGAL", 5)), "l1", m, &err) == 0);
    CHECK(json_array_size(json_object_get(m, "snapshots")) == 0);
    CHECK(!json_object_get(json_array_get(json_object_get(m, "disks"), 0), "chain"));
    json_decref(m);

    /* refused, the model left as it was: a parent missing, an ILLEGAL layer, a loop, an OVF chain elsewhere */
    m = model("b", NULL);
    CHECK(apply(json_pack("[o]", vol("d1", "l1", "gone", "LEGAL", 5)), "l1", m, &err) < 0);
    CHECK(err.code == VR_ERR_CONFLICT);
    CHECK_STR_CONTAINS(err.message, "volume gone of the chain of disk d1 ('data') of VM 'vm1' is not on storage");
    CHECK(json_array_size(json_object_get(m, "snapshots")) == 0);
    CHECK(!strcmp(json_string_value(json_object_get(json_array_get(json_object_get(m, "disks"), 0), "volume")), "b"));
    CHECK(apply(json_pack("[o, o]", vol("d1", "b", ZERO, "LEGAL", 1), vol("d1", "l1", "b", "ILLEGAL", 5)), "l1", m,
                &err) < 0);
    CHECK_STR_CONTAINS(err.message, "volume l1 of disk d1 ('data') of VM 'vm1' on storage domain 'data1' is ILLEGAL");
    CHECK(apply(json_pack("[o, o]", vol("d1", "a", "l1", "LEGAL", 1), vol("d1", "l1", "a", "LEGAL", 5)), "l1", m,
                &err) < 0);
    CHECK_STR_CONTAINS(err.message, "form a loop at volume l1");
    json_decref(m);
    m = model("l1", "[{\"volume\":\"b\",\"parent\":\"\"},{\"volume\":\"l1\",\"parent\":\"b\"}]");
    CHECK(apply(json_pack("[o, o]", vol("d1", "c", ZERO, "LEGAL", 1), vol("d1", "l1", "c", "LEGAL", 5)), "l1", m,
                &err) < 0);
    CHECK_STR_CONTAINS(err.message, "volume b of the OVF's chain of disk d1 ('data') of VM 'vm1' is not on storage"
                                    " domain 'data1' in that place (the chain there: 2 volumes up to leaf l1)");
    json_decref(m);
    return CHECK_DONE();
}
