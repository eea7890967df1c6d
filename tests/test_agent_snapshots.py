"""Volume chains on a shared posixfs domain (docs/storage.md, "Volume
chains"): qcow2 layers made by the SPM, a running VM switched onto them by
VM.snapshot on another host, live merges (an intermediate layer, then the
active one with a pivot) and a cold merge with qemu-img, each finished by
the SPM's Volume.merge; the guest's markers, written between snapshots,
survive every step; bad chains are refused and change nothing."""
import json
import time

from harness.rpc import expect_error
from test_agent_volumes import Domain, _destroy_vms, _u

INVALID = -32602
CONFLICT = -32004
BAD_STATE = -32006
MiB = 1024 * 1024


def _mark(ctx, c, uuid, slot, word):
    ctx.wait_console(c, uuid, "VIREO-MARKED vdb %d 0" % slot, send="mark vdb %d %s\n" % (slot, word))


def _read(ctx, c, uuid, slot, word):
    ctx.wait_console(c, uuid, "VIREO-MARK vdb %d %s" % (slot, word), send="readmark vdb %d\n" % slot)


def _wait(pred, timeout):
    deadline = time.monotonic() + timeout
    while not (v := pred()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.5)
    return v


def _sector(h, path, slot):
    """What a raw volume holds in one sector, read on host h."""
    p = h.run(["dd", "if=" + path, "bs=512", "skip=%d" % slot, "count=1", "status=none"])
    assert p.returncode == 0, p.stderr
    return p.stdout.split("\n")[0].rstrip("\0")


def _backing(h, path):
    p = h.run(["qemu-img", "info", "--output=json", "-U", path])
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout).get("backing-filename")


def test_snapshot_chain_live_and_cold_merge(ctx):
    d = Domain(ctx)
    try:
        d.setup()
        _scenario(ctx, d)
    finally:
        _destroy_vms(d.c1)
        d.teardown()


def _scenario(ctx, d):
    c0, c1, h0 = d.c0, d.c1, d.h0
    img, v0, v1, v2, v3 = _u(), _u(), _u(), _u(), _u()
    d.create(c0, img, v0, "raw", "sparse", 16 * MiB)

    spec = ctx.vm_spec()
    spec["disks"].append({"volume": d.ref(img, v0)})
    uuid = c1.call("VM.create", spec)["uuid"]
    ctx.wait_console(c1, uuid, "VIREO-GUEST-READY")
    _mark(ctx, c1, uuid, 1, "one")

    # Memory volumes (docs/storage.md "Memory volumes"): one with nothing
    # saved in it is never sealed LEGAL, nor restored from; VM.save and
    # VM.snapshot take only an ILLEGAL memory volume.
    mimg, mvol = _u(), _u()
    info = c0.call("Volume.createMemory", size=512 * MiB, **d.ref(mimg, mvol))
    assert (info["legality"], info["format"]) == ("ILLEGAL", "raw"), info
    expect_error(BAD_STATE, c0.call, "Volume.sealMemory", **d.ref(mimg, mvol))
    expect_error(INVALID, c1.call, "VM.save", uuid=uuid, memory=d.ref(img, v0))
    expect_error(BAD_STATE, c1.call, "VM.restore", dict(ctx.vm_spec("vm-restore"), memory=d.ref(mimg, mvol)))
    minfo = c0.call("Volume.info", **d.ref(mimg, mvol))
    assert (minfo["legality"], minfo["content"]) == ("ILLEGAL", "memory"), minfo  # an import skips it
    assert c0.call("Volume.info", **d.ref(img, v0))["content"] == "data"
    assert c1.call("VM.get", uuid=uuid)["job_active"] is False
    c0.call("Volume.delete", **d.ref(mimg, mvol))

    # A layer must be qcow2 over a LEGAL volume of the same image.
    expect_error(INVALID, d.create, c0, img, _u(), "raw", "sparse", 16 * MiB, parent=v0)
    expect_error(INVALID, d.create, c0, img, _u(), "qcow2", "sparse", 8 * MiB, parent=v0)
    info = d.create(c0, img, v1, "qcow2", "sparse", 16 * MiB, parent=v0)
    assert info["parent"] == v0 and info["voltype"] == "LEAF"
    assert c0.call("Volume.info", **d.ref(img, v0))["voltype"] == "INTERNAL"
    assert _backing(h0, d.path(img, v1)) == v0

    # Bad snapshots change nothing: a layer not over what the disk runs on,
    # a disk named twice, an unknown target.
    other = _u()
    d.create(c0, _u(), other, "raw", "sparse", MiB)
    for disks, why in (([{"target": "vdb", "volume": d.ref(img, v0)}], "not a qcow2 layer over"),
                       ([{"target": "vdb", "volume": d.ref(img, v1)}] * 2, "named twice"),
                       ([{"target": "vdz", "volume": d.ref(img, v1)}], "not a volume"),
                       ([{"target": "vd'b", "volume": d.ref(img, v1)}], "not a disk target"),
                       ([], "array of 1 to")):
        e = expect_error(INVALID, c1.call, "VM.snapshot", uuid=uuid, disks=disks)
        assert why in e.message, (why, e.message)
    devs = {x["target"]: x for x in c1.call("VM.get", uuid=uuid)["devices"] if x["kind"] == "disk"}
    assert devs["vdb"]["path"].endswith("/%s/images/%s/%s" % (d.sd, img, v0))

    # Live snapshot, quiesced: the guest's qemu-ga (on the channel every VM
    # gets) froze its mounted ext4 and thawed it; its fsfreeze hook said so.
    ctx.wait_console(c1, uuid, "VIREO-GUEST-AGENT org.qemu.guest_agent.0")
    r = c1.call("VM.snapshot", uuid=uuid, quiesce=True,
                disks=[{"target": "vdb", "volume": d.ref(img, v1)}])
    assert r["quiesced"] is True and r["disks"][0]["volume"] == d.ref(img, v1)
    text = ctx.wait_console(c1, uuid, "VIREO-FSFREEZE thaw")
    assert text.index("VIREO-FSFREEZE freeze") < text.index("VIREO-FSFREEZE thaw"), text[-800:]
    devs = {x["target"]: x for x in c1.call("VM.get", uuid=uuid)["devices"] if x["kind"] == "disk"}
    assert devs["vdb"]["path"].endswith("/%s/images/%s/%s" % (d.sd, img, v1))
    _mark(ctx, c1, uuid, 2, "two")
    # the base volume holds only what was written before the snapshot
    assert _sector(h0, d.path(img, v0), 1) == "one"
    assert _sector(h0, d.path(img, v0), 2) == ""

    d.create(c0, img, v2, "qcow2", "sparse", 16 * MiB, parent=v1)
    # not asked to quiesce: the guest is not frozen again
    r = c1.call("VM.snapshot", uuid=uuid, disks=[{"target": "vdb", "volume": d.ref(img, v2)}])
    assert r["quiesced"] is False
    _mark(ctx, c1, uuid, 3, "three")
    assert ctx.console(c1, uuid).count("VIREO-FSFREEZE freeze") == 1
    # the guest agent's reports, gathered by the agent on its own thread
    gi = _wait(lambda: c1.call("VM.getStats", uuid=uuid)["guest_info"], 20)
    assert gi["hostname"] == "vireo-guest" and gi["os"]["id"] == "vireo-guest", gi
    assert [i["name"] for i in gi["interfaces"]] == ["lo"] and gi["ips"] == [], gi

    # An intermediate layer can neither be deleted nor merged by a non-SPM.
    expect_error(CONFLICT, c0.call, "Volume.delete", **d.ref(img, v1))
    expect_error(-32010, c1.call, "Volume.merge", domain=d.sd, image=img, base=v0, top=v1)
    expect_error(INVALID, c1.call, "VM.merge", uuid=uuid, target="vdb",
                 base=d.ref(img, v1), top=d.ref(img, v0))

    # Live merge of the intermediate layer v1 into v0, then the SPM drops v1.
    r = c1.call("VM.merge", uuid=uuid, target="vdb", base=d.ref(img, v0), top=d.ref(img, v1))
    assert r["active"] is False and r["volume"] == d.ref(img, v2)
    assert _backing(h0, d.path(img, v2)) == v0
    info = c0.call("Volume.merge", domain=d.sd, image=img, base=v0, top=v1, committed=True)
    assert info["voltype"] == "INTERNAL"
    assert c0.call("Volume.info", **d.ref(img, v2))["parent"] == v0
    expect_error(-32100, c0.call, "Volume.info", **d.ref(img, v1))
    # asking again is harmless: the merge is already done
    c0.call("Volume.merge", domain=d.sd, image=img, base=v0, top=v1, committed=True)

    # Live merge of the active layer: the disk pivots onto v0.
    r = c1.call("VM.merge", uuid=uuid, target="vdb", base=d.ref(img, v0), top=d.ref(img, v2))
    assert r["active"] is True and r["volume"] == d.ref(img, v0)
    info = c0.call("Volume.merge", domain=d.sd, image=img, base=v0, top=v2, committed=True)
    assert info["voltype"] == "LEAF"
    for slot, word in ((1, "one"), (2, "two"), (3, "three")):
        _read(ctx, c1, uuid, slot, word)
        assert _sector(h0, d.path(img, v0), slot) == word
    _mark(ctx, c1, uuid, 4, "four")  # the guest still writes, now into v0
    assert _sector(h0, d.path(img, v0), 4) == "four"

    # Cold: a VM writes into a layer, stops; qemu-img commits it into v0.
    c1.call("VM.destroy", uuid=uuid)
    d.create(c0, img, v3, "qcow2", "sparse", 16 * MiB, parent=v0)
    spec = ctx.vm_spec()
    spec["disks"].append({"volume": d.ref(img, v3)})
    uuid = c1.call("VM.create", spec)["uuid"]
    ctx.wait_console(c1, uuid, "VIREO-GUEST-READY")
    _mark(ctx, c1, uuid, 5, "five")
    c1.call("VM.destroy", uuid=uuid)
    assert _sector(h0, d.path(img, v0), 5) == ""
    # two layers over one volume (a preview): merging one is refused
    side = _u()
    d.create(c0, img, side, "qcow2", "sparse", 16 * MiB, parent=v0)
    expect_error(CONFLICT, c0.call, "Volume.merge", domain=d.sd, image=img, base=v0, top=v3)
    c0.call("Volume.delete", **d.ref(img, side))
    assert c0.call("Volume.info", **d.ref(img, v0))["voltype"] == "INTERNAL"  # v3 still on it
    info = c0.call("Volume.merge", domain=d.sd, image=img, base=v0, top=v3)
    assert info["voltype"] == "LEAF" and info["legality"] == "LEGAL"
    assert [_sector(h0, d.path(img, v0), s) for s in range(1, 6)] == \
        ["one", "two", "three", "four", "five"]
    assert {v["volume"] for v in c0.call("Volume.list", domain=d.sd)["volumes"]} == {v0, other}

    # A template's base volume shared by a layer in another image: linked
    # (VDSM's way), SHARED, never merged into, its links dropped alone.
    timg, tvol, vimg, layer = _u(), _u(), _u(), _u()
    d.create(c0, timg, tvol, "raw", "sparse", 16 * MiB)
    expect_error(INVALID, d.create, c0, vimg, layer, "qcow2", "sparse", 16 * MiB, parent_image=timg)
    info = d.create(c0, vimg, layer, "qcow2", "sparse", 16 * MiB, parent=tvol, parent_image=timg)
    assert info["parent"] == tvol
    assert c0.call("Volume.info", **d.ref(timg, tvol))["voltype"] == "SHARED"
    assert _backing(h0, d.path(vimg, layer)) == tvol
    st = [h0.run(["stat", "-c", "%i", d.path(i, tvol)]).stdout for i in (timg, vimg)]
    assert st[0] == st[1], st  # one file, two names
    expect_error(CONFLICT, c0.call, "Volume.delete", **d.ref(vimg, tvol))
    expect_error(CONFLICT, c0.call, "Volume.merge", domain=d.sd, image=vimg, base=tvol, top=layer)
    c0.call("Volume.delete", **d.ref(vimg, layer))
    c0.call("Volume.delete", **d.ref(vimg, tvol))
    info = c0.call("Volume.info", **d.ref(timg, tvol))
    assert info["legality"] == "LEGAL" and info["voltype"] == "SHARED", info
    c0.call("Volume.delete", **d.ref(timg, tvol))
