"""Volumes on a shared posixfs storage domain (docs/storage.md): create,
info, list, extend, copy (a job with progress and cancel), delete; a VM on
another host using a volume by reference, growing it live; a corrupt .meta;
bad input; and a guest paused by a full file system, resumed by the agent
once there is room again."""
import json
import os
import time
import uuid as uuidlib

from harness.rpc import RpcError, expect_error

INVALID = -32602
NOT_SPM = -32010
STORAGE = -32012
CONFLICT = -32004
BAD_STATE = -32006
NOT_FOUND = -32100
MiB = 1024 * 1024


def _u():
    return str(uuidlib.uuid4())


def _qemu_img_info(h, path):
    p = h.run(["qemu-img", "info", "--output=json", "-U", path])
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def _wait_job(c, job, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        j = c.call("Job.get", id=job)
        if j["state"] != "running":
            return j
        time.sleep(0.2)
    raise AssertionError("job %s still running: %r" % (job, j))


class Domain:
    """A data domain on the shared ext4, attached as master of a new pool,
    host 0 joined and SPM; host 1 connected only (an HSM host)."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.conn = {"type": "posixfs", "spec": ctx.hs.shared_dev, "vfs_type": "ext4"}
        self.sd, self.pool = _u(), _u()
        self.c0, self.c1 = ctx.client(0), ctx.client(1)
        self.h0 = ctx.host(0)
        self.steps = []

    def setup(self):
        c0, c1 = self.c0, self.c1
        self.h0.start_sanlock()  # hosts are shared: an earlier test may have stopped it
        self.mount = c0.call("Storage.connect", conn=self.conn)["mount"]
        self.steps.append(lambda: self.disconnect(c0))
        c1.call("Storage.connect", conn=self.conn)
        self.steps.append(lambda: self.disconnect(c1))
        c0.call("Storage.format", conn=self.conn, domain=self.sd, name="volumes-test", **{"class": "data"})
        self.steps.append(lambda: self.h0.run(["rm", "-rf", os.path.join(self.mount, self.sd)]))
        c0.call("Lockspace.join", domain=self.sd, host_id=1, io_timeout=2)
        self.steps.append(lambda: c0.call("Lockspace.leave", domain=self.sd))
        deadline = time.monotonic() + 120
        while c0.call("Lockspace.status", domain=self.sd)["state"] != "joined":
            assert time.monotonic() < deadline, "lockspace never joined"
            time.sleep(1)
        st = c0.call("SPM.start", pool=self.pool, master=self.sd, host_id=1, prev_id=-1, prev_lver=-1)
        assert st["status"] == "SPM"
        self.steps.append(lambda: c0.call("SPM.stop", pool=self.pool))
        c0.call("Storage.attach", domain=self.sd, pool=self.pool, master=True)

    def disconnect(self, c):
        # leaving a lockspace completes in the background
        deadline = time.monotonic() + 60
        while True:
            try:
                return c.call("Storage.disconnect", conn=self.conn)
            except RpcError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)

    def teardown(self):
        errors = []
        for step in reversed(self.steps):
            try:
                step()
            except (RpcError, OSError, AssertionError) as e:
                errors.append(str(e))
        assert not errors, errors

    def ref(self, image, volume):
        return {"domain": self.sd, "image": image, "volume": volume}

    def path(self, image, volume, suffix=""):
        return os.path.join(self.mount, self.sd, "images", image, volume + suffix)

    def create(self, c, image, volume, fmt, prealloc, size, **kw):
        return c.call("Volume.create", domain=self.sd, image=image, volume=volume, format=fmt,
                      preallocation=prealloc, size=size, **kw)


def _destroy_vms(c):
    for vm in c.call("VM.list")["vms"]:
        if vm["owned"]:
            try:
                c.call("VM.destroy", uuid=vm["uuid"])
            except RpcError:
                pass


def test_volumes_end_to_end(ctx):
    d = Domain(ctx)
    try:
        d.setup()
        _scenario(ctx, d)
    finally:
        _destroy_vms(d.c1)  # VMs go before the storage they use
        d.teardown()


def _scenario(ctx, d):
    c0, c1, h0 = d.c0, d.c1, d.h0
    ia, va = _u(), _u()   # raw sparse, the VM's data disk
    ib, vb = _u(), _u()   # raw preallocated, copied
    ic, vc = _u(), _u()   # qcow2, hot plugged, extended
    desc = json.dumps({"alias": "data-\u00e9", "description": "x" * 150})
    info = d.create(c0, ia, va, "raw", "sparse", 64 * MiB, description=desc)
    assert info["legality"] == "LEGAL" and info["format"] == "raw" and info["type"] == "sparse"
    assert info["capacity"] == 64 * MiB and info["actual_size"] < MiB
    assert info["description"] == desc and info["voltype"] == "LEAF"
    assert info["parent"] == "00000000-0000-0000-0000-000000000000"
    d.create(c0, ib, vb, "raw", "preallocated", 16 * MiB)
    d.create(c0, ic, vc, "qcow2", "sparse", 1024 * MiB)

    qa = _qemu_img_info(h0, d.path(ia, va))
    assert qa["format"] == "raw" and qa["virtual-size"] == 64 * MiB and qa["actual-size"] < MiB
    qb = _qemu_img_info(h0, d.path(ib, vb))
    assert qb["format"] == "raw" and qb["actual-size"] >= 16 * MiB
    qc = _qemu_img_info(h0, d.path(ic, vc))
    assert qc["format"] == "qcow2" and qc["virtual-size"] == 1024 * MiB
    assert qc["format-specific"]["data"]["compat"] == "1.1"
    # the lease is a sanlock resource named after the volume, in the domain's lockspace
    dump = h0.run(["sanlock", "direct", "dump", d.path(ia, va, ".lease")])
    assert dump.returncode == 0 and va in dump.stdout and d.sd in dump.stdout, dump.stdout + dump.stderr

    # an HSM host reads, but cannot change structure
    listed = {v["volume"]: v for v in c1.call("Volume.list", domain=d.sd)["volumes"]}
    assert set(listed) == {va, vb, vc} and all(v["legality"] == "LEGAL" for v in listed.values())
    e = expect_error(NOT_SPM, d.create, c1, _u(), _u(), "raw", "sparse", MiB)
    assert d.pool in e.message
    expect_error(NOT_SPM, c1.call, "Volume.delete", **d.ref(ia, va))
    expect_error(CONFLICT, d.create, c0, ia, va, "raw", "sparse", MiB)

    # bad input: clear errors, nothing created
    bad = [
        dict(domain="not-a-uuid"), dict(image=".."), dict(volume="../../../etc/passwd"),
        dict(size=0), dict(size=1000), dict(size=2 ** 62), dict(size="1"), dict(format="vmdk"),
        dict(preallocation="thick"), dict(description="x" * 211), dict(bogus=1),
        dict(parent=_u()),
    ]
    for over in bad:
        p = dict(domain=d.sd, image=_u(), volume=_u(), format="raw", preallocation="sparse",
                 size=MiB)
        p.update(over)
        try:
            c0.call("Volume.create", **p)
            raise AssertionError("Volume.create accepted %r" % over)
        except RpcError as err:
            assert err.code in (INVALID, -32005), (over, err.code, err.message)
            assert err.message
    expect_error(INVALID, c0.call, "Volume.extend", size=MiB, **{**d.ref(ia, va), "image": "x/../y"})
    expect_error(INVALID, c0.call, "Volume.list", domain=d.sd, extra=True)
    expect_error(NOT_FOUND, c0.call, "Volume.info", **d.ref(ia, _u()))
    assert len(c0.call("Volume.list", domain=d.sd)["volumes"]) == 3

    # a VM on the other host uses the raw volume by reference
    spec = ctx.vm_spec()
    spec["disks"].append({"volume": d.ref(ia, va)})
    vm = c1.call("VM.create", spec)
    uuid = vm["uuid"]
    ctx.wait_console(c1, uuid, "VIREO-GUEST-READY")
    ctx.wait_console(c1, uuid, "VIREO-SIZE vdb %d" % (64 * MiB // 512), send="size vdb\n")
    got = c1.call("VM.get", uuid=uuid)
    assert got["spec"]["disks"][1]["volume"] == d.ref(ia, va)
    assert "path" not in got["spec"]["disks"][1]
    assert "pause_reason" not in got

    # live growth: the guest sees it and the volume's capacity follows
    r = c1.call("VM.resizeDisk", uuid=uuid, target="vdb", size=96 * MiB)
    assert r["volume"] == d.ref(ia, va)
    ctx.wait_console(c1, uuid, "VIREO-SIZE vdb %d" % (96 * MiB // 512), send="size vdb\n")
    assert c0.call("Volume.info", **d.ref(ia, va))["capacity"] == 96 * MiB
    expect_error(INVALID, c1.call, "VM.resizeDisk", uuid=uuid, target="vdb", size=32 * MiB)
    expect_error(INVALID, c1.call, "VM.resizeDisk", uuid=uuid, target="vd'b", size=128 * MiB)

    # offline extend of the qcow2 volume, then hot plug it by reference
    expect_error(INVALID, c0.call, "Volume.extend", size=512 * MiB, **d.ref(ic, vc))
    assert c0.call("Volume.extend", size=2048 * MiB, **d.ref(ic, vc))["capacity"] == 2048 * MiB
    assert _qemu_img_info(h0, d.path(ic, vc))["virtual-size"] == 2048 * MiB
    plugged = c1.call("VM.hotplugDisk", uuid=uuid, disk={"volume": d.ref(ic, vc)})
    assert plugged["target"] == "vdc"
    ctx.wait_console(c1, uuid, "VIREO-SIZE vdc %d" % (2048 * MiB // 512), send="size vdc\n")
    r = c1.call("VM.resizeDisk", uuid=uuid, target="vdc", size=3072 * MiB)
    assert r["volume"] == d.ref(ic, vc)  # found from the disk's file
    ctx.wait_console(c1, uuid, "VIREO-SIZE vdc %d" % (3072 * MiB // 512), send="size vdc\n")
    assert c1.call("Volume.info", **d.ref(ic, vc))["capacity"] == 3072 * MiB

    # copy with progress: content equal; the copy is a new LEGAL qcow2 volume
    assert h0.run(["dd", "if=/dev/urandom", "of=" + d.path(ib, vb), "bs=1M", "count=16",
                   "conv=notrunc,fsync"]).returncode == 0
    c0.call("Host.subscribe", jobs=True)
    idst, vdst = _u(), _u()
    started = c0.call("Volume.copy", src=d.ref(ib, vb), dst=d.ref(idst, vdst), format="qcow2")
    assert started["volume"]["legality"] == "ILLEGAL"  # until the data is complete
    job = _wait_job(c0, started["job"])
    assert job["state"] == "succeeded" and job["progress"] == 100, job
    notes = []  # Job.progress: announced at 0 %, each 10 % crossed, and at the end
    while not notes or notes[-1]["state"] == "running":
        notes.append(c0.wait_event(lambda p: p.get("id") == started["job"], timeout=30))
    assert notes[0]["progress"] == 0 and notes[-1]["state"] == "succeeded", notes
    assert all(n["kind"] == "Volume.copy" for n in notes)
    seen = [n["progress"] for n in notes]
    assert seen == sorted(seen) and seen[-1] == 100, seen
    ci = c0.call("Volume.info", **d.ref(idst, vdst))
    assert ci["legality"] == "LEGAL" and ci["format"] == "qcow2" and ci["capacity"] == 16 * MiB
    cmp = h0.run(["qemu-img", "compare", "-U", "-f", "raw", "-F", "qcow2", d.path(ib, vb),
                  d.path(idst, vdst)])
    assert cmp.returncode == 0, cmp.stdout + cmp.stderr
    expect_error(CONFLICT, c0.call, "Volume.copy", src=d.ref(ib, vb), dst=d.ref(idst, vdst),
                 format="raw")
    expect_error(NOT_SPM, c1.call, "Volume.copy", src=d.ref(ib, vb), dst=d.ref(_u(), _u()),
                 format="raw")

    # a copy as a layer (parent: a chain copied volume by volume, base first): over the parent
    # in dst's image, which turns INTERNAL, only the clusters of the source's own layer; bad
    # parents refused with nothing made
    vlay, vnew = _u(), _u()
    d.create(c0, ib, vlay, "qcow2", "sparse", 16 * MiB, parent=vb)
    assert h0.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 1M 1M", d.path(ib, vlay)]).returncode == 0
    for bad, code in (({"format": "raw", "parent": vdst}, INVALID), ({"format": "qcow2", "parent": "x"}, INVALID),
                      ({"format": "qcow2", "parent": _u()}, NOT_FOUND)):
        expect_error(code, c0.call, "Volume.copy", src=d.ref(ib, vlay), dst=d.ref(idst, vnew), **bad)
    expect_error(NOT_FOUND, c0.call, "Volume.info", **d.ref(idst, vnew))
    assert c0.call("Volume.info", **d.ref(idst, vdst))["voltype"] == "LEAF"
    started = c0.call("Volume.copy", src=d.ref(ib, vlay), dst=d.ref(idst, vnew), format="qcow2", parent=vdst)
    job = _wait_job(c0, started["job"])
    assert job["state"] == "succeeded", job
    ni = c0.call("Volume.info", **d.ref(idst, vnew))
    assert (ni["legality"], ni["parent"], ni["voltype"], ni["format"]) == ("LEGAL", vdst, "LEAF", "qcow2"), ni
    assert c0.call("Volume.info", **d.ref(idst, vdst))["voltype"] == "INTERNAL"
    cmp = h0.run(["qemu-img", "compare", "-U", d.path(ib, vlay), d.path(idst, vnew)])
    assert cmp.returncode == 0, cmp.stdout + cmp.stderr
    mapped = json.loads(h0.run(["qemu-img", "map", "-U", "--output=json", d.path(idst, vnew)]).stdout)
    assert [(m["start"], m["length"]) for m in mapped if m["depth"] == 0 and m["data"]] == [(MiB, MiB)], mapped
    for img, vol in ((idst, vnew), (ib, vlay)):  # the layers first: their parents are LEAF again
        assert c0.call("Volume.delete", **d.ref(img, vol)) == {}
    assert c0.call("Volume.info", **d.ref(idst, vdst))["voltype"] == "LEAF"

    # cancel the copy of a bigger volume: nothing of the copy is left
    ibig, vbig = _u(), _u()
    d.create(c0, ibig, vbig, "raw", "sparse", 384 * MiB)
    assert h0.run(["dd", "if=/dev/urandom", "of=" + d.path(ibig, vbig), "bs=4M", "count=96",
                   "conv=notrunc,fsync"]).returncode == 0
    icx, vcx = _u(), _u()
    started = c0.call("Volume.copy", src=d.ref(ibig, vbig), dst=d.ref(icx, vcx), format="raw")
    c0.call("Job.cancel", id=started["job"])
    job = _wait_job(c0, started["job"])
    assert job["state"] == "cancelled" and "removed" in job["detail"], job
    expect_error(NOT_FOUND, c0.call, "Volume.info", **d.ref(icx, vcx))
    assert not os.path.basename(d.path(icx, vcx)) in h0.run(
        ["ls", os.path.join(d.mount, d.sd, "images")]).stdout
    assert icx not in h0.run(["ls", os.path.join(d.mount, d.sd, "images")]).stdout
    c0.call("Volume.delete", **d.ref(ibig, vbig))

    # a corrupt .meta: that volume is ILLEGAL, the others are fine, no VM may use it
    assert h0.run(["sed", "-i", "s/^CAPACITY=/CAPACITY=9/", d.path(ib, vb, ".meta")]).returncode == 0
    vols = {v["volume"]: v for v in c1.call("Volume.list", domain=d.sd)["volumes"]}
    assert vols[vb]["legality"] == "ILLEGAL" and "checksum" in vols[vb]["reason"], vols[vb]
    assert all(v["legality"] == "LEGAL" for k, v in vols.items() if k != vb)
    spec2 = ctx.vm_spec()
    spec2["disks"].append({"volume": d.ref(ib, vb)})
    e = expect_error(STORAGE, c1.call, "VM.create", spec2)
    assert vb in e.message
    spec2["disks"][1] = {"volume": d.ref(ib, _u())}
    e = expect_error(NOT_FOUND, c1.call, "VM.create", spec2)
    assert spec2["disks"][1]["volume"]["volume"] in e.message
    assert spec2["name"] not in [v["name"] for v in c1.call("VM.list")["vms"]]

    # delete (even the corrupt one); a volume in use is the engine's to guard
    c1.call("VM.destroy", uuid=uuid)
    for img, vol in ((ia, va), (ib, vb), (ic, vc), (idst, vdst)):
        assert c0.call("Volume.delete", **d.ref(img, vol)) == {}
        expect_error(NOT_FOUND, c0.call, "Volume.info", **d.ref(img, vol))
    assert c0.call("Volume.list", domain=d.sd)["volumes"] == []
    assert h0.run(["ls", os.path.join(d.mount, d.sd, "images")]).stdout.strip() == ""


def test_enospc_pauses_then_resumes(ctx):
    """A data disk on a small ext4 (a loop device mounted inside the host):
    the guest fills it, QEMU pauses the VM (reason enospc, event); a file is
    removed to make room and the agent resumes the guest, which finishes."""
    h = ctx.host(0)
    c = ctx.client(0)
    work = os.path.join(ctx.hs.shared_dir, "enospc-" + uuidlib.uuid4().hex[:8])
    img, mnt = work + ".img", work + ".mnt"
    os.makedirs(mnt)
    with open(img, "wb") as f:
        f.truncate(64 * MiB)
    assert h.run(["mkfs.ext4", "-q", "-F", img]).returncode == 0
    p = h.run(["mount", "-o", "loop", img, mnt])
    assert p.returncode == 0, p.stderr
    try:
        disk = os.path.join(mnt, "data.img")
        filler = os.path.join(mnt, "filler")
        assert h.run(["truncate", "-s", "128M", disk]).returncode == 0
        assert h.run(["chmod", "0777", mnt]).returncode == 0
        assert h.run(["chmod", "0666", disk]).returncode == 0
        assert h.run(["fallocate", "-l", "24M", filler]).returncode == 0
        c.call("Host.subscribe")
        spec = ctx.vm_spec()
        spec["disks"].append({"path": disk, "format": "raw"})
        vm = c.call("VM.create", spec)
        uuid = vm["uuid"]
        ctx.wait_console(c, uuid, "VIREO-GUEST-READY")
        ctx.wait_console(c, uuid, "VIREO-SIZE vdb", send="size vdb\n")
        c.call("VM.sendConsole", uuid=uuid, text="fill vdb 48\n")
        ev = c.wait_event(lambda p: p.get("uuid") == uuid and p.get("event") == "IOError",
                          timeout=120)
        assert ev["reason"] == "enospc" and ev["action"] == "pause" and ev["path"] == disk, ev
        got = c.call("VM.get", uuid=uuid)
        assert got["state"] == "paused" and got["pause_reason"] == "enospc" and got["pause_disk"] == "vdb", got
        assert "VIREO-FILLED" not in ctx.console(c, uuid)
        # still full: the watcher leaves it paused (it checks every 3 s)
        time.sleep(7)
        assert c.call("VM.get", uuid=uuid)["state"] == "paused"
        assert h.run(["rm", "-f", filler]).returncode == 0
        ev = c.wait_event(lambda p: p.get("uuid") == uuid and p.get("event") == "AutoResumed",
                          timeout=60)
        assert ev["reason"] == "enospc" and disk in ev["detail"], ev
        ctx.wait_console(c, uuid, "VIREO-FILLED vdb 0", timeout=120)
        got = c.call("VM.get", uuid=uuid)
        assert got["state"] == "running" and "pause_reason" not in got
    finally:
        _destroy_vms(c)
        h.run(["umount", mnt])
        os.rmdir(mnt)
        os.unlink(img)
