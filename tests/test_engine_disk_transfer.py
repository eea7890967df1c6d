"""Disk images in and out of the engine (docs/rest-api.md "Disk content",
docs/cli.md "Disk images"): a posixfs domain on the harness's shared ext4,
attached to a data center of both harness hosts; images go up with
PUT /api/disks/ID/content (the CLI streams files with libcurl) to the SPM
in chunks, come back with GET from a host that sees the domain, and compare
byte for byte. A qcow2 image keeps its format on storage (qemu-img reads the
volume); a declared format qemu-img disagrees with leaves the disk illegal;
a client that goes away mid-body leaves it illegal, and a new upload fills
it. Bad requests are refused before their body with a clear status and
change nothing. Leftovers (an ILLEGAL volume no disk names, an ILLEGAL
layer inside a known disk's image) are swept by the SPM. The engine's peak memory does not follow the image's size.
An uploaded guest image boots a VM on one host, then on the other.

Runs on SQLite and PostgreSQL (VIREO_TEST_PG_URI)."""

import hashlib
import json
import os
import socket
import ssl
import subprocess
import tempfile
import time
import uuid

from harness.context import one_backend
from harness.engine import CliSession, Engine, run_sql
from harness.engine_storage import leave_storage, scrub_domain, storage_dc

MIB = 1 << 20
MISSING = "0b7a5a37-1111-4222-8333-444455556666"


def _sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fault(r, status, detail=None):
    assert r.status == status, r
    assert "fault" in r.body, r
    if detail:
        assert detail in r.body["fault"]["detail"], r
    return r.body["fault"]


def _hwm_kib(pid):
    """Peak resident memory of a process (VmHWM), KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


def _raw(eng, head, body=b"", close_after=None):
    """Send a request by hand over TLS: head (lines, without the final
    blank line) and body bytes; with close_after, close the connection after
    that many body bytes without reading an answer. Returns (status, text)."""
    sock = socket.create_connection(("127.0.0.1", eng.port), timeout=60)
    s = eng.ssl_ctx.wrap_socket(sock, server_hostname="127.0.0.1")
    try:
        s.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        if close_after is not None:
            sent = 0
            while sent < close_after:
                n = min(1 << 20, close_after - sent)
                s.sendall(body[:n] if len(body) >= n else bytes([0x5a]) * n)
                sent += n
            return None, None
        if body:
            s.sendall(body)
        data = b""
        while b"\r\n\r\n" not in data or len(data) < data.index(b"\r\n\r\n") + 4 + _clen(data):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        status = int(data.split(b" ", 2)[1])
        return status, data.split(b"\r\n\r\n", 1)[1].decode(errors="replace")
    finally:
        try:
            s.close()
        except (OSError, ssl.SSLError):
            pass


def _clen(data):
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            return int(v)
    return 0


def _put_head(eng, disk_id, length, ctype="application/octet-stream", token=True):
    h = [f"PUT /api/disks/{disk_id}/content HTTP/1.1", "Host: 127.0.0.1"]
    if token:
        h.append(f"Authorization: Bearer {eng.token}")
    if ctype:
        h.append(f"Content-Type: {ctype}")
    if length is not None:
        h.append(f"Content-Length: {length}")
    return h


@one_backend  # its subject is the stream through engine and SPM; the disk rules run on both
def test_disk_upload_download(ctx):
    hs = ctx.hs
    work = tempfile.mkdtemp(prefix="vireo-xfer-", dir="/var/tmp")
    root = os.path.join(ctx.guest, "root.img")
    # ASan keeps freed memory in a quarantine (256 MiB by default) that
    # would show as peak memory; the rule checked is the engine's own.
    asan = os.environ.get("ASAN_OPTIONS")
    os.environ["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "quarantine_size_mb=16"
    try:
        eng = Engine(ctx, poll_ms=1000, grace_s=6)
        eng.__enter__()
    finally:
        if asan is None:
            del os.environ["ASAN_OPTIONS"]
        else:
            os.environ["ASAN_OPTIONS"] = asan
    made = []
    try:
        sdc = storage_dc(ctx, eng, "xfer")
        sd_id, sd_name = sdc["sd_id"], sdc["sd_name"]
        mount = lambda h: os.path.join(h.storage_root, hs.shared_dev.replace("/", "_"), sd_id)  # noqa: E731

        # ---- a disk made for an upload: empty, no job, no volume yet.
        size = os.path.getsize(root)
        r = eng.request("POST", "/api/disks", {"alias": "root", "storage_domain": sd_id, "format": "raw",
                                               "provisioned_size": size, "content": "upload"})
        assert r.status == 201, r
        disk = r.body
        made.append(disk["id"])
        assert disk["status"] == "empty" and "content" not in disk, disk
        _fault(eng.request("GET", f"/api/disks/{disk['id']}/content"), 409, "only an ok disk")
        _fault(eng.request("POST", "/api/disks", {"alias": "x", "storage_domain": sd_id, "provisioned_size": size,
                                                  "content": "later"}), 400)

        # ---- refusals before the body, each changing nothing.
        jobs = eng.list("jobs")["total"]
        path = f"/api/disks/{disk['id']}/content"
        assert _raw(eng, _put_head(eng, disk["id"], size, token=False))[0] == 401
        st, text = _raw(eng, _put_head(eng, disk["id"], size, ctype="application/json"))
        assert st == 415 and "application/octet-stream" in json.loads(text)["fault"]["detail"], text
        st, text = _raw(eng, _put_head(eng, disk["id"], None) + ["Transfer-Encoding: chunked"])
        assert st == 411 and "Content-Length" in text, text
        st, text = _raw(eng, _put_head(eng, disk["id"], size + 512))
        assert st == 413 and "does not fit" in text, text
        st, text = _raw(eng, _put_head(eng, disk["id"], 1 << 62))
        assert st == 413, text
        assert _raw(eng, _put_head(eng, MISSING, size))[0] == 404
        assert _raw(eng, _put_head(eng, "not-a-disk", size))[0] == 404
        _fault(eng.request("POST", path, {}), 405)
        assert eng.get(disk["href"])["status"] == "empty"
        assert eng.list("jobs")["total"] == jobs
        assert not os.path.exists(os.path.join(mount(hs.hosts[0]), "images", disk["id"]))

        # ---- the guest's root image up with the CLI, back with the CLI and REST.
        cli = CliSession(ctx, eng)
        cli.run("disk", "upload", "--help")
        cli.run("disk", "upload", root, expect=2)  # no --storage-domain
        out = cli.run("disk", "upload", root, "--storage-domain", sd_name, "--alias", "root2",
                      "--json").stdout
        up = json.loads(out)
        made.append(up["id"])
        assert up["status"] == "ok" and up["format"] == "raw" and up["provisioned_size"] == size, up
        assert up["actual_size"] > 0, up
        job = [j for j in eng.list("jobs", max=500)["jobs"] if j["object_id"] == up["id"]]
        assert [(j["action"], j["status"]) for j in job] == [("upload", "finished")], job
        got = os.path.join(work, "root.out")
        cli.run("disk", "download", "root2", got)
        assert _sha(got) == _sha(root)
        r = eng.request("GET", f"/api/disks/{up['id']}/content")
        assert r.status == 200 and r.headers["content-type"] == "application/octet-stream", r.headers
        assert int(r.headers["content-length"]) == size
        # A second upload of an ok disk is refused; the disk stays as it is.
        st, text = _raw(eng, _put_head(eng, up["id"], size))
        assert st == 409 and "already has its content" in text, text
        assert eng.get(f"/api/disks/{up['id']}")["status"] == "ok"

        # ---- an uploaded image boots a VM on each host in turn: the disk is on
        # shared storage, so any host of the data center runs it.
        boot_disk = json.loads(cli.run("disk", "upload", root, "--storage-domain", sd_name, "--alias", "bootroot",
                                       "--json").stdout)
        vm = eng.create_vm("xfer-boot", sdc["cl"]["id"], boot=ctx.vm_spec()["boot"],
                           disks=[{"disk": boot_disk["id"], "bootable": True}])
        for i, h in enumerate(hs.hosts):
            eng.call("PUT", vm["href"], {"placement_policy": {"affinity": "migratable", "hosts": [h.name]}})
            eng.vm_action(vm["id"], "start")
            assert eng.wait_status("vms", vm["id"], "up", timeout=60)["host"] == h.name
            with ctx.client(i) as c:  # the guest mounted the uploaded ext4 and read its marker
                ctx.wait_console(c, vm["id"], "VIREO-ROOTDISK VIREO-ROOTDISK-OK")
            eng.vm_action(vm["id"], "stop")
        r = eng.request("DELETE", vm["href"])
        assert r.status in (200, 202, 204), r
        eng.wait_for(lambda: eng.request("GET", vm["href"]).status == 404, 60, what="the VM removed")
        if eng.request("GET", f"/api/disks/{boot_disk['id']}").status == 200:
            made.append(boot_disk["id"])

        # ---- qcow2: kept as qcow2 on storage, the bytes back as sent.
        qcow = os.path.join(work, "root.qcow2")
        subprocess.run(["qemu-img", "convert", "-O", "qcow2", root, qcow], check=True)
        cow = json.loads(cli.run("disk", "upload", qcow, "--storage-domain", sd_id, "--json").stdout)
        made.append(cow["id"])
        assert cow["format"] == "cow" and cow["status"] == "ok" and cow["provisioned_size"] == size, cow
        spm = hs.hosts[sdc["spm_i"]]
        vol = os.path.join(mount(spm), "images", cow["id"], cow["volume_id"])
        info = json.loads(spm.run(["qemu-img", "info", "--output=json", "-U", vol], check=True).stdout)
        assert info["format"] == "qcow2" and info["virtual-size"] == size, info
        cli.run("disk", "download", cow["id"], os.path.join(work, "cow.out"))
        assert _sha(os.path.join(work, "cow.out")) == _sha(qcow)

        # ---- a declared format qemu-img disagrees with: 422, illegal; a new
        # upload with the right bytes fills the same disk.
        r = eng.request("POST", "/api/disks", {"alias": "liar", "storage_domain": sd_id, "format": "raw",
                                               "provisioned_size": size, "content": "upload"})
        liar = r.body
        made.append(liar["id"])
        with open(qcow, "rb") as f:
            qbytes = f.read()
        st, text = _raw(eng, _put_head(eng, liar["id"], len(qbytes)), qbytes)
        assert st == 422 and "declared raw but qemu-img sees qcow2" in text, text
        assert eng.get(liar["href"])["status"] == "illegal"
        _fault(eng.request("GET", f"{liar['href']}/content"), 409)
        with open(root, "rb") as f:
            rbytes = f.read()
        st, text = _raw(eng, _put_head(eng, liar["id"], len(rbytes)), rbytes)
        assert st == 200 and json.loads(text)["status"] == "ok", text

        # ---- a client that goes away mid-body: the disk is illegal, never ok.
        r = eng.request("POST", "/api/disks", {"alias": "cut", "storage_domain": sd_id, "format": "raw",
                                               "provisioned_size": 64 * MIB, "content": "upload"})
        cut = r.body
        made.append(cut["id"])
        _raw(eng, _put_head(eng, cut["id"], 64 * MIB), close_after=5 * MIB)
        eng.wait_status("disks", cut["id"], "illegal", timeout=30)
        cj = eng.wait_for(lambda: [j for j in eng.list("jobs", max=500)["jobs"]
                                   if j["object_id"] == cut["id"] and j["status"] == "failed"], timeout=10,
                          what="the failed upload job")
        assert "went away" in cj[0]["detail"], cj
        assert eng.find_events("upload to disk 'cut' failed", cut["id"])

        # ---- memory: a 96 MiB image does not raise the engine's peak by
        # a third of its size (an engine holding the image would grow by all
        # of it; 96 MiB keeps the run short: the stream's speed is
        # bench/transfer_bench.py's); it comes back identical.
        big = os.path.join(work, "big.img")
        with open(big, "wb") as f:
            for i in range(96):
                f.write(os.urandom(MIB) if i % 4 else bytes(MIB))  # zero MiBs too: holes on both ends
        before = _hwm_kib(eng.proc.pid)
        t0 = time.monotonic()
        bigd = json.loads(cli.run("disk", "upload", big, "--storage-domain", sd_id, "--format", "raw",
                                  "--json").stdout)
        up_s = time.monotonic() - t0
        made.append(bigd["id"])
        assert bigd["status"] == "ok" and bigd["provisioned_size"] == 96 * MIB, bigd
        grew = _hwm_kib(eng.proc.pid) - before
        assert grew < 32 * 1024, f"the engine's peak memory grew by {grew} KiB during a 96 MiB upload"
        cli.run("disk", "download", bigd["id"], os.path.join(work, "big.out"))
        assert _sha(os.path.join(work, "big.out")) == _sha(big)
        grew = _hwm_kib(eng.proc.pid) - before
        assert grew < 32 * 1024, f"the engine's peak memory grew by {grew} KiB after a 96 MiB download"
        print(f"96 MiB upload: {up_s:.1f} s, engine peak memory +{grew} KiB")

        # ---- a leftover no disk names any more (what a copy whose SPM died
        # leaves): the sweep at the SPM's first round after an engine start
        # removes it; the known illegal disk 'cut' stays.
        r = eng.request("POST", "/api/disks", {"alias": "lost", "storage_domain": sd_id, "format": "raw",
                                               "provisioned_size": 2 * MIB, "content": "upload"})
        lost = r.body
        _raw(eng, _put_head(eng, lost["id"], 2 * MIB), close_after=MIB)
        eng.wait_status("disks", lost["id"], "illegal", timeout=30)
        run_sql(eng, f"DELETE FROM disks WHERE id = '{lost['id']}'")
        images = os.path.join(mount(spm), "images")  # in the SPM host's mount namespace
        here = lambda *p: spm.run(["test", "-e", os.path.join(images, *p)]).returncode == 0  # noqa: E731
        assert here(lost["id"], lost["volume_id"] + ".meta")
        # ... and an ILLEGAL volume inside a known disk's image that nothing
        # names (what a snapshot whose SPM died leaves): swept too, the
        # disk's own volume stays.
        stray = str(uuid.uuid4())
        ctx.client(hs.hosts.index(spm)).call("Volume.startUpload", domain=sd_id, image=up["id"], volume=stray,
                                             format="raw", size=MIB, length=MIB)
        assert here(up["id"], stray + ".meta")
        eng.extra_args += ["--storage-orphan-grace-s", "0"]
        eng.restart()  # (after the memory checks: ASAN_OPTIONS were the first start's)
        def swept():
            found = eng.find_events("removed a leftover volume", sd_id)
            return [e["message"] for e in found] if len(found) >= 2 else None
        ev = eng.wait_for(swept, timeout=60, what="the leftover sweep")
        assert sorted((lost["id"] in m, stray in m, "layer of a known disk" in m) for m in ev) == \
            [(False, True, True), (True, False, False)], ev
        assert not any(here(lost["id"], lost["volume_id"] + x) for x in ("", ".meta", ".lease"))
        assert not any(here(up["id"], stray + x) for x in ("", ".meta", ".lease"))
        assert here(up["id"], up["volume_id"]) and eng.get(f"/api/disks/{up['id']}")["status"] == "ok"
        assert here(cut["id"], cut["volume_id"] + ".meta") and eng.get(cut["href"])["status"] == "illegal"

        leave_storage(eng, sd_id, made)
    except BaseException:
        eng.close(ok=False)
        raise
    finally:
        subprocess.run(["rm", "-rf", "--", work], check=False)
    eng.__exit__(None, None, None)
    scrub_domain(ctx, sd_id)
