"""The SPM under real sanlock, through the engine: a posixfs data domain on
the harness's shared ext4 (a loop device every host mounts in its own mount
namespace), attached to a data center of both harness hosts; the SPM is
elected, holds the SDM lease on storage, and moves only when sanlock says
the lease is free after its host was lost (agent and sanlock SIGKILLed: a
crash). A host blind to the domain goes NonOperational and comes back.
Then the master is lost with its SPM (the SPM host crashed while the
master's dom_md is moved away): the engine reconstructs the master on the
second data domain (docs/storage.md "A lost master").

One slow scenario (the lease of a crashed host expires after 8 x io_timeout
+ 60 s: ~100 s with the harness io_timeout of 5 s), run once, on SQLite: the rules it checks live in
sanlock and the storage thread, not in the database layer (the storage
REST resources run on both backends in test_engine_storage.py)."""

import os
import re
import time

from harness.engine import Engine
from harness.engine_storage import storage_dc
from harness.rpc import RpcError, expect_error


def sanlock_resources(h):
    """Lines `r LOCKSPACE:RESOURCE:PATH:OFFSET:LVER p PID` of the host's
    sanlock daemon: the leases it holds now (not those it is still trying
    to acquire, flagged ADD, or giving back, flagged REM)."""
    p = h.sanlock("status")
    return [line for line in p.stdout.splitlines()
            if line.startswith("r ") and not line.endswith((" ADD", " REM"))]


def lease_owner_on_disk(h, rel):
    """(owner host id, lver) of the SDM lease as written on storage, read
    by host h straight from the leases file (its path below h's storage
    root is rel; no daemon involved)."""
    leases = h.storage_root + rel
    p = h.run(["sanlock", "direct", "dump", f"{leases}:1048576:1048576"])
    for line in p.stdout.splitlines():
        f = line.split()
        if len(f) >= 7 and f[2] == "SDM":
            return int(f[4]), int(f[6])
    raise AssertionError(f"no SDM lease in {leases}: {p.stdout}{p.stderr}")


def restart_host_storage(h):
    """Agent and sanlock fresh, as after a reboot (leases gone with them)."""
    if h.agent_alive():
        h.kill_agent(sig=15)
    h.kill_sanlock()
    h.start_sanlock()
    h.start_agent(wait=True)


def test_spm_election_failover_and_blind_host(ctx):
    hs = ctx.hs
    with Engine(ctx, poll_ms=1000, grace_s=6) as eng:
        # A domain formatted through one host, then attached (the master).
        st = storage_dc(ctx, eng, "spm", name="sd-spm")
        dc, hosts, sd_id = st["dc"], st["hosts"], st["sd_id"]
        assert eng.get(f"/api/storagedomains/{sd_id}")["master"] is True
        # A second data domain, for the master reconstructed below (its
        # lockspace joined by both hosts meanwhile).
        t_second = time.monotonic()
        r = eng.request("POST", "/api/storagedomains", {
            "name": "sd-spm-2", "type": "data", "storage_type": "posixfs", "storage_path": hs.shared_dev,
            "vfs_type": "ext4", "host": hosts[0]["id"], "critical_space_gib": 0})
        assert r.status == 202, r
        sd2_id = r.body["id"]
        assert eng.wait_job(r.body["job"]["id"], timeout=120)["status"] == "finished"
        r = eng.request("POST", f"/api/storagedomains/{sd2_id}/attach", {"datacenter": dc["id"]})
        assert eng.wait_job(r.body["job"]["id"], timeout=240)["status"] == "finished", eng.log_tail(60)
        eng.wait_status("storagedomains", sd2_id, "active", timeout=30)
        added = time.monotonic() - t_second

        # One SPM: the engine's, holding the lease on storage, and only it.
        d = eng.get(f"/api/datacenters/{dc['id']}")
        assert d["storage_status"] == "up" and d["spm_host"], d
        spm_i = next(i for i, h in enumerate(hosts) if h["id"] == d["spm_host"])
        other_i = 1 - spm_i
        spm_h, other_h = hs.hosts[spm_i], hs.hosts[other_i]
        held = [[line for line in sanlock_resources(h) if f"{sd_id}:SDM:" in line] for h in hs.hosts]
        assert held[spm_i] and not held[other_i], held
        leases = re.search(r":SDM:([^:]+):", held[spm_i][0]).group(1)
        assert leases.startswith(spm_h.storage_root + "/"), leases
        leases = leases[len(spm_h.storage_root):]
        # Both hosts joined the domain's lockspace, with different host ids.
        ids = []
        for h in hs.hosts:
            ls = [line for line in h.sanlock("status").stdout.splitlines()
                  if line.startswith("s ") and sd_id in line]
            assert ls, (h.name, h.sanlock("status").stdout)
            ids.append(int(ls[0].split(":")[1]))
        assert ids[0] != ids[1], ids
        owner, lver = lease_owner_on_disk(other_h, leases)
        assert owner == ids[spm_i], (owner, ids, spm_i)
        assert eng.host(hosts[spm_i]["id"])["spm"] == "spm"
        assert eng.host(hosts[other_i]["id"])["spm"] == "none"
        # The other host refuses to change the domain's structure.
        with ctx.client(other_i) as c:
            try:
                c.call("Volume.create", domain=sd_id, image="0a6e2c0e-0000-4000-8000-000000000001",
                       volume="0a6e2c0e-0000-4000-8000-000000000002", format="raw",
                       preallocation="sparse", size=1 << 20, description="")
                raise AssertionError("a non-SPM host created a volume")
            except RpcError as e:
                assert e.code == -32010, e

        # The SPM host crashes: sanlock and the agent die at once. (sanlock
        # first: an agent dying alone has its lease released by sanlock at
        # once, which is no crash.)
        t_kill = time.monotonic()
        spm_h.kill_sanlock()
        spm_h.kill_agent()
        new_spm_at = None
        def held_by_survivor():
            return [line for line in sanlock_resources(other_h) if f"{sd_id}:SDM:" in line]
        while time.monotonic() - t_kill < 240:
            # Sampled in this order (sanlock, storage, engine) so that each
            # read can only lag the next: the survivor's sanlock acquires the
            # lease before the engine records the new SPM.
            mine = held_by_survivor()
            owner, now_lver = lease_owner_on_disk(other_h, leases)
            d = eng.get(f"/api/datacenters/{dc['id']}")
            if mine:
                # Never two: once the survivor holds the lease, storage says
                # it is its own, with a newer version than the crashed host's
                # (sanlock gave it only after the crashed host's id expired).
                assert owner == ids[other_i] and now_lver > lver, (d, owner, now_lver, mine)
            if d["spm_host"] == hosts[other_i]["id"]:
                # the engine's SPM holds the lease (its sanlock said so first)
                assert mine or held_by_survivor(), d
                new_spm_at = time.monotonic() - t_kill
                break
            assert d["spm_host"] in (None, hosts[spm_i]["id"]), d
            time.sleep(1)
        assert new_spm_at is not None, (eng.get(f"/api/datacenters/{dc['id']}"), eng.log_tail(60))
        print(f"  SPM moved {new_spm_at:.0f} s after the crash (sanlock: 8 x io_timeout + 60 s)")
        # (the event follows the new SPM's row)
        eng.wait_for(lambda: eng.find_events("became the SPM", hosts[other_i]["id"]), timeout=10,
                     what="the new SPM's event")

        # The crashed host comes back: up again, not SPM; still one SPM.
        t_back = time.monotonic()
        restart_host_storage(spm_h)
        eng.wait_status("hosts", hosts[spm_i]["id"], "up", timeout=60)
        with ctx.client(spm_i) as c:
            st = c.call("SPM.status", pool=dc["id"], master=sd_id)
        assert st["status"] == "Free" and st["spm_id"] == ids[other_i], st
        assert eng.get(f"/api/datacenters/{dc['id']}")["spm_host"] == hosts[other_i]["id"]

        # A host that cannot see an active domain others see goes
        # NonOperational, saying which domain; it recovers by itself.
        blind_h, blind_id = spm_h, hosts[spm_i]["id"]
        eng.wait_for(lambda: [line for line in blind_h.sanlock("status").stdout.splitlines()
                              if line.startswith("s ") and sd_id in line], timeout=90,
                     what="the restarted host rejoins the lockspace")
        t_blind = time.monotonic()
        print(f"  the crashed host back, up, rejoining: {t_blind - t_back:.1f} s")
        mnt = os.path.join(blind_h.storage_root, hs.shared_dev.replace("/", "_"))
        blind_h.run(["mount", "-t", "tmpfs", "-o", "size=1m", "vireo-blind", mnt], check=True)
        try:
            host = eng.wait_status("hosts", blind_id, "nonoperational", timeout=90)
            assert "sd-spm" in host["status_detail"], host
            eng.wait_for(lambda: eng.find_events("nonoperational", blind_id), timeout=10,
                         what="the nonoperational event")
            assert eng.get(f"/api/storagedomains/{sd_id}")["status"] == "active"
        finally:
            blind_h.run(["umount", mnt], check=True)
        eng.wait_status("hosts", blind_id, "up", timeout=90)
        t_end = time.monotonic()
        print(f"  a blind host nonoperational and back: {t_end - t_blind:.1f} s")

        # reconstructMaster (docs/storage.md "A lost master"): the SPM host
        # crashes and the master's storage is gone with it (its dom_md moved
        # away: metadata and SDM lease unreadable from every host). No SPM
        # can move the role; once the crashed host is back and says Free,
        # the engine has a host write the second domain Master with a
        # higher MASTER_VERSION and elects the SPM there. No wait for
        # sanlock's lease expiry: the old lease is unreadable, its holder
        # restarted.
        t_rec = time.monotonic()
        spm_i = next(i for i, h in enumerate(hosts) if h["id"] == eng.get(dc["href"])["spm_host"])
        spm_h, other_i = hs.hosts[spm_i], 1 - spm_i
        dom_md = lambda i, dom: os.path.join(hs.hosts[i].storage_root, hs.shared_dev.replace("/", "_"),  # noqa: E731
                                             dom, "dom_md")
        md_of = lambda i, dom: dict(line.split("=", 1) for line in hs.hosts[i].run(  # noqa: E731
            ["cat", os.path.join(dom_md(i, dom), "metadata")], check=True).stdout.splitlines() if "=" in line)
        old_version = int(md_of(other_i, sd_id)["MASTER_VERSION"])
        spm_h.kill_sanlock()
        spm_h.kill_agent()
        hs.hosts[other_i].run(["mv", dom_md(other_i, sd_id), dom_md(other_i, sd_id) + ".lost"], check=True)
        try:
            # The host comes back as after a reboot; never an SDM lease on
            # the lost master meanwhile.
            spm_h.start_sanlock()
            spm_h.start_agent(wait=True)

            def reconstructed():
                on_old = [x for h in hs.hosts for x in sanlock_resources(h) if f"{sd_id}:SDM:" in x]
                assert not on_old, on_old
                return eng.get(dc["href"])["master_storage_domain"] == sd2_id
            eng.wait_for(reconstructed, timeout=180, interval=1, what="the master reconstructed on the second domain")
            new_spm = eng.wait_for(lambda: eng.get(dc["href"])["spm_host"], timeout=120, what="an SPM")
            assert eng.get(dc["href"])["storage_status"] == "up"
            print(f"  master reconstructed, SPM elected: {time.monotonic() - t_rec:.0f} s after the crash")
            new_i = [h["id"] for h in hosts].index(new_spm)
            # Exactly one SDM holder, on the new master, the SPM's host.
            held = [[line for line in sanlock_resources(h) if ":SDM:" in line] for h in hs.hosts]
            assert len(held[new_i]) == 1 and f"{sd2_id}:SDM:" in held[new_i][0] and not held[1 - new_i], held
            md2 = md_of(other_i, sd2_id)
            assert (md2["ROLE"], md2["POOL_UUID"]) == ("Master", dc["id"]), md2
            assert int(md2["MASTER_VERSION"]) > old_version, (md2, old_version)
            # the job writes it once it sees the SPM elected (its next poll)
            ev = eng.wait_for(lambda: eng.find_events("was reconstructed on storage domain 'sd-spm-2'", dc["id"]),
                              timeout=30, what="the reconstruction's event")
            assert ev and "'sd-spm' was lost with its SPM" in ev[0]["message"] and \
                f"host '{hosts[new_i]['name']}' is the new SPM" in ev[0]["message"], ev
            old = eng.get(f"/api/storagedomains/{sd_id}")
            assert (old["master"], old["status"]) == (False, "inactive"), old
        finally:
            hs.hosts[other_i].run(["mv", dom_md(other_i, sd_id) + ".lost", dom_md(other_i, sd_id)])
        # The old master put back still says Master, an older version: it
        # stays a regular domain, and a host asked to be SPM on it with the
        # data center's version refuses before sanlock is asked.
        assert md_of(other_i, sd_id)["ROLE"] == "Master"
        eng.wait_status("storagedomains", sd_id, "active", timeout=90)
        assert eng.get(f"/api/storagedomains/{sd_id}")["master"] is False
        assert eng.get(dc["href"])["master_storage_domain"] == sd2_id
        with ctx.client(1 - new_i) as c:  # (the SPM would say it is SPM elsewhere)
            e = expect_error(-32006, c.call, "SPM.start", pool=dc["id"], master=sd_id, host_id=1,
                             master_version=int(md2["MASTER_VERSION"]))
        assert "no longer the master" in e.message and "below" in e.message, e.message
        assert eng.get(dc["href"])["spm_host"] == new_spm
        print(f"  reconstructMaster scenario: {time.monotonic() - t_rec + added:.0f} s added"
              f" (second domain {added:.0f} s)")

        # Leave the shared hosts as the other test files expect them.
        t_restart = time.monotonic()
        for h in hs.hosts:
            restart_host_storage(h)
        print(f"  hosts' storage restarted for the next files: {time.monotonic() - t_restart:.1f} s")
