"""Storage domains, lockspaces and the SPM on the agent, against the real
sanlock daemon of each harness host and the shared ext4 on a loop device
(ctx.hs.shared_dev): both hosts mount it in their own mount namespace, so
sanlock's leases on it really exclude each other across hosts.

Each test leaves the hosts as it found them (SPM stopped, lockspaces left,
storage disconnected): the harness hosts are shared by every test file."""

import hashlib
import time
import uuid as uuidlib

from harness.rpc import RpcError, expect_error

INVALID_PARAMS, ERR_CONFLICT, ERR_BAD_STATE, ERR_UNAVAILABLE = -32602, -32004, -32006, -32009
ERR_NOT_SPM, ERR_LEASE_HELD, ERR_STORAGE = -32010, -32011, -32012
ERR_NOT_FOUND = -32100
# sanlock I/O timeout of the joins here: a loaded test machine can stall the
# loop device's I/O for seconds, and with 2 s (the harness default) 16 s of
# failed renewals kill a lockspace. Joins stay fast: they wait 2x the
# timeout the domain was formatted with (the agent's, 2 s in the harness).
IO_TIMEOUT = 10


def shared_conn(ctx, **extra):
    return dict({"type": "posixfs", "spec": ctx.hs.shared_dev, "vfs_type": "ext4"}, **extra)


def mount_of(ctx, i):
    return ctx.host(i).storage_root + "/" + ctx.hs.shared_dev.replace("/", "_")


def read_on(ctx, i, path):
    """Bytes of a file as host i sees it (inside its mount namespace)."""
    p = ctx.host(i).run(["python3", "-c",
                         "import sys; sys.stdout.write(open(sys.argv[1], 'rb').read().hex())", path])
    assert p.returncode == 0, p.stderr
    return bytes.fromhex(p.stdout)


def write_on(ctx, i, path, data):
    p = ctx.host(i).run(["python3", "-c",
                         "import os, sys\n"
                         "fd = os.open(sys.argv[1], os.O_WRONLY | os.O_TRUNC)\n"
                         "os.write(fd, bytes.fromhex(sys.argv[2])); os.fsync(fd)", path, data.hex()])
    assert p.returncode == 0, p.stderr


def parse_metadata(raw):
    """KEY=VALUE dict of a metadata file after checking its checksum line."""
    body, _, last = raw.rstrip(b"\n").rpartition(b"\n")
    body += b"\n"
    assert last.startswith(b"_SHA_CKSUM="), raw
    assert last.split(b"=", 1)[1].decode() == hashlib.sha1(body).hexdigest(), raw
    return dict(line.split("=", 1) for line in body.decode().splitlines())


def wait_lockspace(c, domain, want="joined", timeout=120):
    deadline = time.monotonic() + timeout
    while True:
        st = c.call("Lockspace.status", domain=domain)
        assert "error" not in st, st
        if st["state"] == want:
            return st
        assert time.monotonic() < deadline, f"lockspace of {domain} still {st}"
        time.sleep(1)


def sanlock_logs(ctx):
    """Both hosts' sanlock and agent log tails, for a failure's report."""
    out = []
    for h in (ctx.host(0), ctx.host(1)):
        try:
            with open(h.sanlock_log, errors="replace") as f:
                out.append(f"--- {h.name} sanlock.log\n" + f.read()[-3000:])
        except OSError as e:
            out.append(f"--- {h.name} sanlock.log: {e}")
        out.append(f"--- {h.name} agent log\n" + h.log_tail(40))
    return "\n".join(out)


def cleanup(ctx, domain=None, pools=()):
    """Best effort, on both hosts: no SPM, no lockspace, nothing mounted."""
    for i in range(2):
        with ctx.client(i) as c:
            for pool in pools:
                try:
                    c.call("SPM.stop", pool=pool)
                except RpcError:
                    pass
            if domain:
                try:
                    if c.call("Lockspace.status", domain=domain)["state"] == "joining":
                        wait_lockspace(c, domain)
                    c.call("Lockspace.leave", domain=domain)
                except (RpcError, AssertionError):
                    pass
            c.call("Storage.disconnect", conn=shared_conn(ctx))
            assert not ctx.host(i).run(["mountpoint", "-q", mount_of(ctx, i)]).returncode == 0


def test_format_lockspaces_and_spm(ctx):
    dom, pool = str(uuidlib.uuid4()), str(uuidlib.uuid4())
    h0, h1 = ctx.host(0), ctx.host(1)
    c0, c1 = ctx.client(0), ctx.client(1)
    try:
        # Connect (idempotent) and format on host 0.
        m0 = c0.call("Storage.connect", conn=shared_conn(ctx))["mount"]
        assert m0 == mount_of(ctx, 0)
        assert c0.call("Storage.connect", conn=shared_conn(ctx))["mount"] == m0
        assert h0.run(["mountpoint", "-q", m0]).returncode == 0
        info = c0.call("Storage.format", conn=shared_conn(ctx), domain=dom, name="shared one",
                       **{"class": "data"})
        assert info["valid"] is True, info
        assert (info["domain"], info["name"], info["class"], info["type"]) == (
            dom, "shared one", "data", "posixfs")
        assert info["pool"] is None and info["role"] == "Regular" and info["spm_id"] == -1
        assert info["total"] > 0 and 0 < info["free"] <= info["total"], info
        for f, size in (("ids", 1 << 20), ("leases", 2 << 20), ("inbox", 1 << 20),
                        ("outbox", 1 << 20)):
            st = h0.run(["stat", "-c", "%a %G %s", f"{m0}/{dom}/dom_md/{f}"]).stdout.split()
            assert st == ["660", "sanlock", str(size)], (f, st)

        # Host 1 connects and finds it; formatting it again is refused and
        # changes nothing.
        m1 = c1.call("Storage.connect", conn=shared_conn(ctx))["mount"]
        found = c1.call("Storage.find", conn=shared_conn(ctx))["domains"]
        assert dom in [d["domain"] for d in found], found
        md_path = f"{m1}/{dom}/dom_md/metadata"
        before = read_on(ctx, 1, md_path)
        e = expect_error(ERR_CONFLICT, c1.call, "Storage.format", conn=shared_conn(ctx),
                         domain=dom, name="again", **{"class": "data"})
        assert dom in e.message and "exists" in e.message, e.message
        assert read_on(ctx, 1, md_path) == before
        assert c1.call("Storage.info", domain=dom)["name"] == "shared one"

        # Lockspaces: asynchronous joins with different host ids.
        assert c0.call("Lockspace.join", domain=dom, host_id=1, io_timeout=IO_TIMEOUT)["state"] in (
            "joining", "joined")
        assert c1.call("Lockspace.join", domain=dom, host_id=2, io_timeout=IO_TIMEOUT)["state"] in (
            "joining", "joined")
        assert c0.call("Lockspace.join", domain=dom, host_id=1)["host_id"] == 1  # idempotent
        e = expect_error(ERR_BAD_STATE, c0.call, "Lockspace.join", domain=dom, host_id=3)
        assert "host id 1" in e.message, e.message
        if c0.call("Lockspace.status", domain=dom)["state"] == "joining":
            e = expect_error(ERR_BAD_STATE, c0.call, "SPM.start", pool=pool, master=dom, host_id=1)
            assert "join lockspace first" in e.message, e.message
        assert wait_lockspace(c0, dom)["host_id"] == 1
        assert wait_lockspace(c1, dom)["host_id"] == 2
        # Another host's id as this host's sanlock sees it (the engine asks
        # before fencing a host: docs/fencing.md "Fencing policy"; that it
        # reads a running host "live" is in test_engine_vm_leases).
        peer = c1.call("Lockspace.status", domain=dom, peer=1)["peer"]
        assert peer["host_id"] == 1 and peer["state"] in ("live", "unknown"), peer
        for bad in (0, 251, "1"):
            expect_error(INVALID_PARAMS, c1.call, "Lockspace.status", domain=dom, peer=bad)
        e = expect_error(ERR_BAD_STATE, c0.call, "Storage.disconnect", conn=shared_conn(ctx))
        assert dom in e.message, e.message

        # SPM: host 0 wins, host 1 is told who holds it.
        r = c0.call("SPM.start", pool=pool, master=dom, host_id=1, prev_id=-1, prev_lver=-1)
        assert r["status"] == "SPM" and r["spm_id"] == 1 and r["lver"] >= 1, r
        lver = r["lver"]
        assert c0.call("SPM.start", pool=pool, master=dom, host_id=1) == r  # idempotent
        e = expect_error(ERR_LEASE_HELD, c1.call, "SPM.start", pool=pool, master=dom, host_id=2)
        assert "host id 1" in e.message, e.message
        assert c0.call("SPM.status", pool=pool, master=dom) == {"status": "SPM", "spm_id": 1,
                                                                "lver": lver}
        assert c1.call("SPM.status", pool=pool, master=dom) == {"status": "Free", "spm_id": 1,
                                                                "lver": lver}
        e = expect_error(ERR_BAD_STATE, c0.call, "Lockspace.leave", domain=dom)
        assert "SPM" in e.message, e.message

        # Only the SPM attaches; the metadata on storage says it all.
        e = expect_error(ERR_NOT_SPM, c1.call, "Storage.attach", domain=dom, pool=pool, master=True)
        assert pool in e.message, e.message
        assert read_on(ctx, 1, md_path) != before  # SPM_ID/LVER written by SPM.start
        info = c0.call("Storage.attach", domain=dom, pool=pool, master=True)
        assert (info["pool"], info["role"], info["master_version"]) == (pool, "Master", 1), info
        md = parse_metadata(read_on(ctx, 1, md_path))
        assert (md["SDUUID"], md["POOL_UUID"], md["ROLE"]) == (dom, pool, "Master"), md
        assert (md["SPM_ID"], md["LVER"], md["CLASS"], md["TYPE"]) == (
            "1", str(lver), "Data", "POSIXFS"), md

        # Restart host 0's agent: sanlock freed the lease with the process.
        h0.kill_agent(15)
        h0.start_agent(wait=True)
        c0 = ctx.client(0)
        assert c0.call("SPM.status", pool=pool, master=dom) == {"status": "Free", "spm_id": -1,
                                                                "lver": lver}
        assert c0.call("Lockspace.status", domain=dom)["state"] == "joined"  # sanlock's, kept
        r = c1.call("SPM.start", pool=pool, master=dom, host_id=2)
        assert r["status"] == "SPM" and r["spm_id"] == 2 and r["lver"] > lver, r
        st = c0.call("SPM.status", pool=pool, master=dom)
        assert (st["status"], st["spm_id"], st["lver"]) == ("Free", 2, r["lver"]), st
        e = expect_error(ERR_NOT_SPM, c0.call, "Storage.detach", domain=dom, pool=pool)
        info = c1.call("Storage.detach", domain=dom, pool=pool)
        assert info["pool"] is None and info["role"] == "Regular", info
        assert parse_metadata(read_on(ctx, 0, md_path.replace(m1, m0)))["SPM_ID"] == "2"

        # reconstructMaster (docs/storage.md "A lost master"): host 1 is the
        # SPM of pool on dom (detached now, Regular); dom2 becomes the master
        # without an SPM, written by a host that is none. Its old master
        # (here `lost`, a domain no host can read) is the engine's word.
        dom2, lost = str(uuidlib.uuid4()), str(uuidlib.uuid4())
        c1.call("Storage.format", conn=shared_conn(ctx), domain=dom2, name="new master", **{"class": "data"})
        md2_path = f"{m0}/{dom2}/dom_md/metadata"
        rec = {"pool": pool, "from": lost, "to": dom2, "master_version": 2}
        e = expect_error(ERR_BAD_STATE, c0.call, "SPM.reconstructMaster", rec)
        assert "not attached" in e.message, e.message
        assert c1.call("Storage.attach", domain=dom2, pool=pool, master=False)["role"] == "Regular"
        before = read_on(ctx, 0, md2_path)
        e = expect_error(ERR_BAD_STATE, c1.call, "SPM.reconstructMaster", rec)  # an SPM moves it instead
        assert "is the SPM" in e.message and pool in e.message, e.message
        for bad in ({**rec, "master_version": 0}, {**rec, "from": dom2}, {**rec, "force": True}):
            expect_error(INVALID_PARAMS, c0.call, "SPM.reconstructMaster", bad)
        assert read_on(ctx, 0, md2_path) == before  # refusals change nothing
        assert c0.call("SPM.reconstructMaster", rec) == {"master": dom2, "master_version": 2}
        md = parse_metadata(read_on(ctx, 0, md2_path))
        assert (md["ROLE"], md["MASTER_VERSION"], md["POOL_UUID"], md["SPM_ID"]) == ("Master", "2", pool, "-1"), md
        assert c0.call("SPM.reconstructMaster", rec) == {"master": dom2, "master_version": 2}  # done: the same
        e = expect_error(ERR_BAD_STATE, c0.call, "SPM.reconstructMaster", {**rec, "master_version": 1})
        assert "master version 2 already" in e.message, e.message
        # A master of the pool below the data center's newest version is
        # refused by SPM.start (an old master put back): before sanlock or
        # the lockspace is asked. One not attached is not compared.
        e = expect_error(ERR_BAD_STATE, c0.call, "SPM.start", pool=pool, master=dom2, host_id=1, master_version=3)
        assert "no longer the master" in e.message and "version 2 is below" in e.message, e.message
        e = expect_error(ERR_LEASE_HELD, c0.call, "SPM.start", pool=pool, master=dom, host_id=1, master_version=3)

        # Host 0's agent registers with sanlock (its SPM.start is refused),
        # then its sanlock daemon restarts: lockspace gone, and the next
        # SPM.start registers again.
        e = expect_error(ERR_LEASE_HELD, c0.call, "SPM.start", pool=pool, master=dom, host_id=1)
        assert "host id 2" in e.message, e.message
        h0.kill_sanlock()
        h0.start_sanlock()
        assert c0.call("Lockspace.status", domain=dom)["state"] == "free"
        assert c1.call("SPM.stop", pool=pool) == {}
        assert c1.call("SPM.status", pool=pool, master=dom)["spm_id"] == -1
        # host id 1's lease died with the daemon; a fresh id joins at once
        c0.call("Lockspace.join", domain=dom, host_id=3, io_timeout=IO_TIMEOUT)
        wait_lockspace(c0, dom)
        r0 = c0.call("SPM.start", pool=pool, master=dom, host_id=3)
        assert r0["spm_id"] == 3 and r0["lver"] > r["lver"], r0
        assert c0.call("SPM.stop", pool=pool) == {}
        for c in (c0, c1):
            assert c.call("Lockspace.leave", domain=dom) == {}
            assert c.call("Lockspace.status", domain=dom)["state"] == "free"
            # the lease on storage is readable without the lockspace
            st = c.call("SPM.status", pool=pool, master=dom)
            assert (st["status"], st["spm_id"]) == ("Free", -1), st
            assert c.call("Storage.disconnect", conn=shared_conn(ctx)) == {}
            assert c.call("Storage.disconnect", conn=shared_conn(ctx)) == {}  # idempotent
        expect_error(ERR_STORAGE, c0.call, "Storage.info", domain=dom)
    except Exception as e:
        raise AssertionError(f"{e}\n{sanlock_logs(ctx)}") from e
    finally:
        cleanup(ctx, dom, [pool])


def test_bad_input_changes_nothing(ctx):
    h0 = ctx.host(0)
    c = ctx.client(0)

    def state():
        # names, not `ls -l`: the root's own times change with every connect
        return h0.run(["sh", "-c", "ls -a %s; grep -c . /proc/self/mountinfo" % h0.storage_root]).stdout

    before = state()
    good = shared_conn(ctx)
    bad_conns = [
        (shared_conn(ctx, options="ro,exec;x"), "options"),
        (shared_conn(ctx, options="rw\nx"), "options"),
        (shared_conn(ctx, options="rw,,x"), "options"),
        (shared_conn(ctx, vfs_type="ext4 -o"), "vfs_type"),
        (dict(good, spec="/dev/../dev/loop0"), "spec"),
        (dict(good, spec="dev/loop0"), "spec"),
        (dict(good, spec=ctx.hs.shared_dev + ",ro"), "spec"),
        (dict(good, extra=1), "extra"),
        (dict(good, spec=5), "spec"),
        ({"type": "nfs", "spec": "/no/server"}, "server:/"),
        ({"type": "nfs", "spec": "-oro:/x"}, "spec"),
        ({"type": "localfs", "spec": "/srv/../etc"}, "spec"),
        ({"type": "gluster", "spec": "/x"}, "type"),
    ]
    for conn, word in bad_conns:
        for verb in ("Storage.connect", "Storage.disconnect", "Storage.find"):
            e = expect_error(INVALID_PARAMS, c.call, verb, conn=conn)
            assert word in e.message, (verb, conn, e.message)
    e = expect_error(INVALID_PARAMS, c.call, "Storage.connect", conn=good, force=True)
    assert "force" in e.message, e.message
    expect_error(INVALID_PARAMS, c.call, "Storage.connect", conn="/dev/loop0")
    # not connected: nothing to format or find
    dom = str(uuidlib.uuid4())
    e = expect_error(ERR_STORAGE, c.call, "Storage.format", conn=good, domain=dom, name="x",
                     **{"class": "data"})
    assert "not connected" in e.message, e.message
    expect_error(ERR_STORAGE, c.call, "Storage.find", conn=good)
    after = state()
    assert after == before, (before, after)

    mount = c.call("Storage.connect", conn=good)["mount"]
    try:
        listing = h0.run(["ls", "-a", mount]).stdout
        for params, word in [
            (dict(domain="../" + dom, name="x"), "domain"),
            (dict(domain=dom, name="a\nb"), "name"),
            (dict(domain=dom, name=""), "name"),
            (dict(domain=dom, name="x" * 300), "name"),
            (dict(domain=dom, name="x", **{"class": "images"}), "class"),
            (dict(domain=dom, name=7), "name"),
            (dict(domain=dom, name="x", owner="me"), "owner"),
        ]:
            params = dict({"conn": good, "class": "data"}, **params)
            e = expect_error(INVALID_PARAMS, c.call, "Storage.format", params)
            assert word in e.message, (params, e.message)
        assert h0.run(["ls", "-a", mount]).stdout == listing
        for verb, params, word in [
            ("Lockspace.join", dict(domain=dom, host_id=0), "host_id"),
            ("Lockspace.join", dict(domain=dom, host_id=251), "host_id"),
            ("Lockspace.join", dict(domain=dom, host_id="1"), "host_id"),
            ("Lockspace.join", dict(domain="x/../y", host_id=1), "domain"),
            ("Lockspace.join", dict(domain=dom, host_id=1, io_timeout=0), "io_timeout"),
            ("Lockspace.leave", dict(domain=dom, now=True), "now"),
            ("SPM.start", dict(pool="p", master=dom, host_id=1), "pool"),
            ("SPM.start", dict(pool=dom, master=dom, host_id=1, force=True), "force"),
            ("SPM.status", dict(pool=dom), "master"),
            ("SPM.stop", dict(pool=dom, master=dom), "master"),
            ("SPM.moveMaster", {"pool": dom, "from": dom, "host_id": 1}, "to"),
            ("SPM.moveMaster", {"pool": dom, "from": dom, "to": dom, "host_id": 1}, "same"),
            ("SPM.moveMaster", {"pool": dom, "from": dom, "to": "../x", "host_id": 1}, "to"),
            ("Storage.attach", dict(domain=dom, pool=dom, master="yes"), "master"),
            ("Storage.attach", dict(domain=dom, pool=dom), "master"),
            ("Storage.detach", dict(domain=dom, pool="../x"), "pool"),
            ("Storage.info", dict(domain=dom, verbose=1), "verbose"),
            ("Storage.status", dict(domain=dom), "domain"),
        ]:
            e = expect_error(INVALID_PARAMS, c.call, verb, params)
            assert word in e.message, (verb, params, e.message)
        # well-formed, but about a domain this host does not have
        e = expect_error(ERR_STORAGE, c.call, "Lockspace.join", domain=dom, host_id=1)
        assert dom in e.message and "not connected" in e.message, e.message
        expect_error(ERR_STORAGE, c.call, "Storage.info", domain=dom)
        expect_error(ERR_NOT_SPM, c.call, "Storage.attach", domain=dom, pool=dom, master=True)
        assert c.call("Lockspace.status", domain=dom) == {"domain": dom, "state": "free",
                                                          "host_id": -1}
        assert c.call("SPM.stop", pool=dom) == {}  # not SPM: nothing to do
        other = "0" * 8 + dom[8:]
        e = expect_error(ERR_NOT_SPM, c.call, "SPM.moveMaster", {"pool": dom, "from": dom, "to": other, "host_id": 1})
        assert "not the SPM" in e.message, e.message
        assert h0.run(["ls", "-a", mount]).stdout == listing

        # sanlock down: a clear error, and a failed format leaves nothing
        h0.kill_sanlock()
        try:
            e = expect_error(ERR_UNAVAILABLE, c.call, "Storage.format", conn=good, domain=dom,
                             name="x", **{"class": "data"})
            assert "sanlock" in e.message, e.message
            assert h0.run(["ls", "-a", mount]).stdout == listing
            expect_error(ERR_UNAVAILABLE, c.call, "Lockspace.status", domain=dom)
        finally:
            h0.start_sanlock()
        assert c.call("Lockspace.status", domain=dom)["state"] == "free"
    finally:
        cleanup(ctx)
    after = state()
    assert after == before, (before, after)


def test_corrupt_metadata_is_reported(ctx):
    dom = str(uuidlib.uuid4())
    c = ctx.client(0)
    assert c.call("Host.subscribe")["subscribed"] is True
    try:
        mount = c.call("Storage.connect", conn=shared_conn(ctx))["mount"]
        c.call("Storage.format", conn=shared_conn(ctx), domain=dom, name="to corrupt",
               **{"class": "iso"})

        def monitored(valid, timeout=40):
            deadline = time.monotonic() + timeout
            while True:
                for d in c.call("Storage.status")["domains"]:
                    if d["domain"] == dom and d["valid"] is valid:
                        return d
                assert time.monotonic() < deadline, c.call("Storage.status")
                time.sleep(0.5)

        ok = monitored(True)
        assert ok["total"] > 0 and ok["delay_ms"] >= 0 and ok["checked_at"].endswith("Z"), ok
        path = f"{mount}/{dom}/dom_md/metadata"
        good = read_on(ctx, 0, path)
        i = good.index(b"to corrupt")
        write_on(ctx, 0, path, good[:i] + b"T" + good[i + 1:])  # one byte, checksum kept

        info = c.call("Storage.info", domain=dom)
        assert info["valid"] is False and "checksum" in info["reason"], info
        assert "name" not in info and "pool" not in info, info  # nothing half-believed
        bad = monitored(False)
        assert "checksum" in bad["error"], bad
        note = c.wait_event(lambda p: p.get("domain") == dom and p.get("valid") is False, 30)
        assert "checksum" in note["error"], note
        assert dom not in [d["domain"] for d in c.call("Storage.find", conn=shared_conn(ctx))["domains"]]

        write_on(ctx, 0, path, good)
        assert c.call("Storage.info", domain=dom)["valid"] is True
        monitored(True)
        c.wait_event(lambda p: p.get("domain") == dom and p.get("valid") is True, 30)

        # Corrupt again: Storage.remove clears a broken domain; then it is gone.
        write_on(ctx, 0, path, good[:i] + b"T" + good[i + 1:])
        h = ctx.host(0)
        assert c.call("Storage.remove", domain=dom) == {}
        assert h.run(["test", "-e", f"{mount}/{dom}"]).returncode != 0
        assert h.run(["test", "-e", f"{mount}/.removing-{dom}"]).returncode != 0
        e = expect_error(ERR_NOT_FOUND, c.call, "Storage.remove", domain=dom)
        assert dom in e.message, e.message
        expect_error(INVALID_PARAMS, c.call, "Storage.remove", domain="../x")
        expect_error(INVALID_PARAMS, c.call, "Storage.remove", domain=dom, pool=dom)

        # A removal cut short by a crash left a hidden tree: Storage.connect
        # deletes it, without following the symlink out of it.
        left, keep = f"{mount}/.removing-{uuidlib.uuid4()}", f"{mount}/keep-{dom}"
        for cmd in (["mkdir", "-p", f"{left}/images/x"], ["touch", keep],
                    ["ln", "-s", keep, f"{left}/images/x/link"], ["ln", "-s", mount, f"{left}/up"]):
            assert h.run(cmd).returncode == 0, cmd
        c.call("Storage.connect", conn=shared_conn(ctx))
        assert h.run(["test", "-e", left]).returncode != 0
        assert h.run(["test", "-f", keep]).returncode == 0
        h.run(["rm", "-f", keep])
    finally:
        cleanup(ctx)
