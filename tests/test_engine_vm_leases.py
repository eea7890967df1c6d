"""VM leases (docs/availability.md "VM leases"): a VM's sanlock lease on a
data domain, made by the SPM at its start and acquired for its QEMU by
libvirt's sanlock lock manager, so that no second QEMU of the VM runs on
another host even when the engine is bypassed (the agent asked directly,
or virsh). The rules (REST, CLI) run on both databases with rows put in
place; the end-to-end scenario (engine, both harness hosts, a posixfs
domain on the shared device, real sanlock and libvirt) runs once."""

import os
import re
import signal
import time
import uuid

from harness.context import one_backend
from harness.engine import CliSession, Engine, expect_fault, run_sql
from harness.engine_storage import leave_storage, scrub_domain, storage_dc
from harness.rpc import RpcError
from test_migration import mig_hosts

SD_ACT = "5e000000-0000-4000-8000-00000000000a"    # active data domain of the VM's data center
SD_MAINT = "5e000000-0000-4000-8000-00000000000b"  # data domain in maintenance, same data center
SD_ISO = "5e000000-0000-4000-8000-00000000000c"    # iso domain, same data center
SD_FREE = "5e000000-0000-4000-8000-00000000000d"   # unattached data domain
MISSING = "5e000000-0000-4000-8000-0000000000ff"


def _sd_row(sd_id, name, dc, sd_type="data", status="active"):
    return ("INSERT INTO storage_domains (id, name, sd_type, storage_type, storage_spec, vfs_type, datacenter_id,"
            f" status, created_at) VALUES ('{sd_id}', '{name}', '{sd_type}', 'posixfs', '/dev/loop9', 'ext4',"
            f" {repr(dc) if dc else 'NULL'}, '{status}', 1)")


def test_vm_lease_rules_rest_and_cli(ctx):
    with Engine(ctx) as eng:
        dc = eng.create_dc("ldc")
        cl = eng.create_cluster("lcl", dc["id"])
        run_sql(eng, _sd_row(SD_ACT, "l-act", dc["id"]), _sd_row(SD_MAINT, "l-maint", dc["id"], status="maintenance"),
                _sd_row(SD_ISO, "l-iso", dc["id"], sd_type="iso"), _sd_row(SD_FREE, "l-free", None, status="unattached"))
        body = {"name": "lv", "cluster_id": cl["id"], "memory_mib": 64}
        for lease, detail in (("x", "body.lease"), ({"storage_domain": MISSING}, "no storage domain"),
                              ({"storage_domain": SD_ISO}, "not a data domain"),
                              ({"storage_domain": SD_FREE}, "data center"),
                              ({"storage_domain": SD_ACT, "offset": 0}, "offset"),
                              ({"storage_domain": 7}, "storage_domain")):
            expect_fault(eng.request("POST", "/api/vms", dict(body, lease=lease)), 400, detail)
        assert eng.list("vms")["total"] == 0
        vm = eng.create_vm("lv", cl["id"], memory_mib=64)
        assert vm["lease"] is None, vm
        vm = eng.call("PUT", vm["href"], {"lease": {"storage_domain": SD_MAINT}})
        assert vm["lease"] == {"storage_domain": SD_MAINT}, vm
        # Its domain is not active: the start is refused at once, nothing runs.
        expect_fault(eng.request("POST", f"{vm['href']}/start"), 409, "l-maint")
        assert eng.vm(vm["id"])["status"] == "down"
        assert not [j for j in eng.list("jobs")["jobs"] if j["object_id"] == vm["id"]]
        # Other members keep the lease; {} removes it; bad updates change nothing.
        assert eng.call("PUT", vm["href"], {"memory_mib": 96})["lease"] == {"storage_domain": SD_MAINT}
        expect_fault(eng.request("PUT", vm["href"], {"lease": {"storage_domain": SD_ISO}}), 400, "data domain")
        assert eng.vm(vm["id"])["lease"] == {"storage_domain": SD_MAINT}
        assert eng.call("PUT", vm["href"], {"lease": {}})["lease"] is None
        # A running VM's lease stays as it is.
        run_sql(eng, f"UPDATE vms SET status = 'up' WHERE id = '{vm['id']}'")
        expect_fault(eng.request("PUT", vm["href"], {"lease": {"storage_domain": SD_ACT}}), 409, "only while it is down")
        assert eng.vm(vm["id"])["lease"] is None
        run_sql(eng, f"UPDATE vms SET status = 'down' WHERE id = '{vm['id']}'")
        # The CLI: --lease SD-ID | none, at create and update.
        cli = CliSession(ctx, eng)
        cli.run("vm", "create", "--name", "lv2", "--cluster", "lcl", "--memory", "64", "--lease", SD_ACT)
        got = [v for v in eng.list("vms")["vms"] if v["name"] == "lv2"][0]
        assert got["lease"] == {"storage_domain": SD_ACT}, got
        cli.run("vm", "update", "lv2", "--lease", "none")
        assert eng.vm(got["id"])["lease"] is None
        p = cli.run("vm", "update", "lv2", "--lease", SD_ISO, expect=1)
        assert "data domain" in p.stderr, p.stderr
        eng.call("DELETE", f"/api/vms/{got['id']}", expect=204)
        # A domain row that goes takes the leases on it along (no dangling id).
        run_sql(eng, f"UPDATE vms SET lease_sd_id = '{SD_FREE}' WHERE id = '{vm['id']}'")
        assert eng.vm(vm["id"])["lease"] == {"storage_domain": SD_FREE}
        eng.call("DELETE", f"/api/storagedomains/{SD_FREE}", expect=204)
        assert eng.vm(vm["id"])["lease"] is None


def _joined(h, sd_id):
    return any(line.startswith("s ") and sd_id in line and not line.endswith(" ADD")
               for line in h.sanlock("status").stdout.splitlines())


def _lease(c, sd_id, vm_id):
    return c.call("Lease.info", domain=sd_id, lease=vm_id)


@one_backend
def test_vm_lease_refuses_a_second_qemu(ctx):
    hs = mig_hosts(ctx)  # the leased VM migrates (libvirtd with TLS in the harness)
    for h in hs.hosts:
        h.use_lock_manager(True)
    try:
        _second_qemu_scenario(ctx)
    finally:
        for h in hs.hosts:
            h.destroy_all_domains()
            h.use_lock_manager(False)


def _lease_lost_restart(ctx, eng, st, vm, ids, i, j):
    """The VM runs on host j, both hosts up. j loses its lease: its sanlock
    leaves the domain's lockspace (what it does when it can no longer renew
    it on storage, sooner), so sanlock runs libvirt's helper, which powers
    the VM off (on_lockfailure). The agent says lease_lost; the engine
    restarts the VM on the other host once the SPM reads the lease free,
    never on j and never twice. Returns (i, j) for the rest: j runs it."""
    hs, hosts, sd_id = ctx.hs, st["hosts"], st["sd_id"]
    eng.wait_status("vms", vm["id"], "up", timeout=60)
    # Removing the SPM's lockspace would kill its agent (it holds the SDM
    # lease there): the VM moves off the SPM first.
    if eng.get(st["dc"]["href"])["spm_host"] == hosts[j]["id"]:
        job = eng.wait_job(eng.call("POST", f"{vm['href']}/migrate", {}, expect=202)["job"]["id"], timeout=120)
        assert job["status"] == "finished", (job, eng.log_tail(40))
        i, j = j, i
        eng.wait_status("vms", vm["id"], "up", timeout=60)
    assert eng.vm(vm["id"])["host_id"] == hosts[j]["id"]
    starts = len([x for x in eng.list("jobs")["jobs"] if x["object_id"] == vm["id"] and x["action"] == "start"])
    ls = next(x.split()[1] for x in hs.hosts[j].sanlock("status").stdout.splitlines()
              if x.startswith("s ") and x.split()[1].startswith(sd_id + ":"))
    p = hs.hosts[j].sanlock("rem_lockspace", "-s", ls)
    assert p.returncode == 0, (p.stdout, p.stderr)
    try:
        eng.wait_for(lambda: eng.vm(vm["id"])["host_id"] == hosts[i]["id"]
                     and eng.vm(vm["id"])["status"] in ("poweringup", "up"), timeout=90,
                     what="the restart on the other host")
    except AssertionError as e:
        raise AssertionError(f"{e}; lease: {_lease(ctx.client(i), sd_id, vm['id'])}; sanlock: "
                             f"{[h.sanlock('status').stdout for h in hs.hosts]}; "
                             f"{[h.sanlock('host_status', '-s', sd_id).stdout for h in hs.hosts]}") from None
    # sanlock ended it: libvirt's helper powered it off (Destroyed), or
    # sanlock killed QEMU itself (Failed); the agent knows why either way.
    ex = ctx.client(j).call("VM.getExit", uuid=vm["id"], name="leased")
    assert ex["reason"] == "lease_lost" and ex["detail"] in ("Destroyed", "Failed"), ex
    assert not [d for d in hs.hosts[j].domains() if "leased" in d], hs.hosts[j].domains()
    assert eng.find_events("the host lost its lease", vm["id"]), eng.log_tail(40)
    # The killed QEMU's release was not written (its lockspace was going):
    # the SPM reads the lease's holder gone from the lockspace.
    assert eng.find_events("left the lockspace", vm["id"]) or eng.find_events("is free (no host holds it)", vm["id"]), \
        eng.log_tail(40)
    assert _lease(ctx.client(i), sd_id, vm["id"])["owner"] == ids[i]
    jobs = [x for x in eng.list("jobs")["jobs"] if x["object_id"] == vm["id"] and x["action"] == "start"]
    assert len(jobs) == starts + 1, jobs  # one restart, not two
    # The engine has j join the lockspace again; its host id is the same.
    eng.wait_for(lambda: _joined(hs.hosts[j], sd_id), timeout=90, what="the host back in the lockspace")
    eng.wait_status("vms", vm["id"], "up", timeout=60)
    assert eng.vm(vm["id"])["host_id"] == hosts[i]["id"]
    return j, i


def _second_qemu_scenario(ctx):
    hs = ctx.hs
    with Engine(ctx, poll_ms=1000, grace_s=6) as eng:
        st = storage_dc(ctx, eng, "lease")
        sd_id, hosts = st["sd_id"], st["hosts"]
        eng.wait_for(lambda: all(_joined(h, sd_id) for h in hs.hosts), timeout=90, what="both hosts in the lockspace")
        spec = ctx.vm_spec()
        vm = eng.create_vm("leased", st["cl"]["id"], memory_mib=256, boot=spec["boot"], disks=spec["disks"],
                           lease={"storage_domain": sd_id}, high_availability={"enabled": True})
        job = eng.wait_job(eng.start_vm(vm["id"]), timeout=120)
        assert job["status"] == "finished", (job, eng.log_tail(40))
        run = eng.vm(vm["id"])
        i = next(k for k, h in enumerate(hosts) if h["id"] == run["host_id"])
        j = 1 - i
        ci, cj = ctx.client(i), ctx.client(j)
        # The SPM made the lease; the running host's sanlock holds it for QEMU.
        info = _lease(ci, sd_id, vm["id"])
        ids = [int(re.search(rf"s {sd_id}:(\d+):", hs.hosts[k].sanlock("status").stdout).group(1)) for k in (0, 1)]
        assert info["owner"] == ids[i], (info, ids, i)
        held = [line for line in hs.hosts[i].sanlock("status").stdout.splitlines()
                if line.startswith("r ") and f"{sd_id}:{vm['id']}:" in line]
        assert held, hs.hosts[i].sanlock("status").stdout
        assert f"vm_leases/{vm['id']}.lease" in held[0], held
        # Both hosts report libvirt's sanlock lock manager (what placement
        # needs for a leased VM), and the domain powers off on a lost lease.
        assert [eng.host(h["id"])["capabilities"]["lock_manager"] for h in hosts] == ["sanlock"] * 2
        assert "<on_lockfailure>poweroff</on_lockfailure>" in hs.hosts[i].virsh("dumpxml", "leased")

        # Live migration hands the lease over: libvirt releases it on the
        # source and the destination's sanlock takes it for the new QEMU.
        eng.wait_status("vms", vm["id"], "up", timeout=60)
        r = eng.request("POST", f"{vm['href']}/migrate", {})
        assert r.status == 202, r
        job = eng.wait_job(r.body["job"]["id"], timeout=120)
        assert job["status"] == "finished", (job, eng.log_tail(40))
        assert eng.vm(vm["id"])["host_id"] == hosts[j]["id"]
        assert _lease(ci, sd_id, vm["id"])["owner"] == ids[j]
        assert [x for x in hs.hosts[j].sanlock("status").stdout.splitlines()
                if x.startswith("r ") and f"{sd_id}:{vm['id']}:" in x], hs.hosts[j].sanlock("status").stdout
        assert not [x for x in hs.hosts[i].sanlock("status").stdout.splitlines()
                    if x.startswith("r ") and f"{sd_id}:{vm['id']}:" in x], hs.hosts[i].sanlock("status").stdout
        i, j, ci, cj = j, i, cj, ci

        # The engine bypassed: the other host's agent is asked to run the VM too.
        twin = ctx.vm_spec(name="leased-twin", uuid=vm["id"], lease={"domain": sd_id, "key": vm["id"]})
        try:
            cj.call("VM.create", twin)
            raise AssertionError("a second QEMU of the VM started on the other host")
        except RpcError as e:
            assert "lock" in str(e).lower(), e
        assert not [d for d in hs.hosts[j].domains() if "leased" in d], hs.hosts[j].domains()
        # virsh on the other host with the running VM's own XML (its lease
        # path made that host's): refused by libvirt's sanlock lock manager.
        xml = hs.hosts[i].virsh("dumpxml", "leased")
        xml = xml.replace(hs.hosts[i].storage_root, hs.hosts[j].storage_root)
        path = os.path.join(hs.hosts[j].dir, "twin.xml")
        with open(path, "w") as f:
            f.write(xml)
        p = hs.hosts[j].run(["virsh", "-c", "qemu:///system", "create", path])
        assert p.returncode != 0 and "lock" in p.stderr.lower(), (p.stdout, p.stderr)
        assert _lease(cj, sd_id, vm["id"])["owner"] == ids[i]

        # Its host is cut off from the engine (agent gone) but not from the
        # storage: non-responsive, the VM unknown, and not restarted while
        # its QEMU there holds the lease. It has power management, but its
        # cluster's fencing policy skips fencing a host that still renews
        # its storage lease (its sanlock runs on: the other host's sanlock
        # reads its host id live), with an event naming the rule
        # (docs/fencing.md "Fencing policy"); no fence job.
        eng.call("PUT", st["cl"]["href"], {"fencing_policy": {"skip_if_sd_active": True}})
        eng.call("PUT", f"/api/hosts/{hosts[i]['id']}", {"power_management": {"enabled": True, "kdump_detection": False,
                 "agents": [{"type": "ipmilan", "address": "192.0.2.120", "username": "admin", "password": "Pm-2"}]}})
        hs.hosts[i].kill_agent()
        eng.wait_status("hosts", hosts[i]["id"], "nonresponsive", timeout=60)
        eng.wait_status("vms", vm["id"], "unknown", timeout=10)
        ev = eng.wait_for(lambda: eng.find_events(f"fencing of host '{hosts[i]['name']}' skipped: it still renews its"
                                                  " storage lease", hosts[i]["id"]), timeout=30, what="the skip event")
        assert (f"(host id {ids[i]} in the lockspace of storage domain '" in ev[0]["message"]
                and f"as host '{hosts[j]['name']}' sees it)" in ev[0]["message"]
                and "(fencing_policy.skip_if_sd_active)" in ev[0]["message"]), ev
        assert not [x for x in eng.list("jobs")["jobs"] if x["action"] == "fence"], eng.list("jobs")
        time.sleep(4)  # a few storage rounds
        info = _lease(cj, sd_id, vm["id"])
        assert (info["owner"], info["owner_state"]) == (ids[i], "live"), info
        assert eng.vm(vm["id"])["status"] == "unknown" and ctx.qemu_pid("leased", i)
        # Its QEMU dies: sanlock frees the lease at once, which proves the VM
        # runs nowhere; the engine restarts it on the other host, unfenced.
        os.kill(ctx.qemu_pid("leased", i), signal.SIGKILL)
        eng.wait_for(lambda: eng.vm(vm["id"])["host_id"] == hosts[j]["id"]
                     and eng.vm(vm["id"])["status"] in ("poweringup", "up"), timeout=60, what="the HA restart")
        assert eng.find_events("lease on storage domain", vm["id"]), eng.log_tail(30)
        assert _lease(cj, sd_id, vm["id"])["owner"] == ids[j]
        hs.hosts[i].start_agent(wait=True)
        eng.wait_status("hosts", hosts[i]["id"], "up", timeout=60)
        assert not [x for x in eng.list("jobs")["jobs"] if x["action"] == "fence"], eng.list("jobs")
        eng.call("PUT", f"/api/hosts/{hosts[i]['id']}", {"power_management": {"enabled": False}})
        i, j = _lease_lost_restart(ctx, eng, st, vm, ids, i, j)
        ci, cj = ctx.client(i), ctx.client(j)
        # A host whose libvirt has no sanlock lock manager would run the VM
        # unprotected: its agent finds the lease not its own, destroys the
        # VM at once and says why.
        hs.hosts[i].use_lock_manager(False)
        try:
            ctx.client(i).call("VM.create", twin)
            raise AssertionError("a VM ran without its lease")
        except RpcError as e:
            assert e.code == -32005 and "lock manager" in str(e), e
        assert not [d for d in hs.hosts[i].domains() if "leased" in d], hs.hosts[i].domains()
        assert _lease(cj, sd_id, vm["id"])["owner"] == ids[j]
        eng.wait_status("hosts", hosts[i]["id"], "up", timeout=60)
        eng.wait_job(eng.call("POST", f"{vm['href']}/stop", expect=202)["job"]["id"], timeout=60)
        eng.wait_status("vms", vm["id"], "down", timeout=60)
        # The scheduler knows: a host without the lock manager never gets
        # the leased VM, and its reason says so.
        eng.wait_for(lambda: (eng.host(hosts[i]["id"])["capabilities"] or {}).get("lock_manager") == "none",
                     timeout=30, what="the host's capabilities without the lock manager")
        eng.call("PUT", vm["href"], {"placement_policy": {"affinity": "migratable", "hosts": [hosts[i]["id"]]}})
        job = eng.wait_job(eng.start_vm(vm["id"]), timeout=60)
        assert job["status"] == "failed" and "no sanlock lock manager" in job["detail"], job
        assert eng.find_events("no sanlock lock manager, which the VM's lease needs", vm["id"])
        assert eng.vm(vm["id"])["status"] == "down"

        # The VM goes: the SPM removes its lease.
        eng.call("DELETE", vm["href"], expect=204)
        spm_i = next(k for k, h in enumerate(hosts) if h["id"] == st["spm_id"])
        spm_agent = ctx.client(spm_i)  # one connection for the wait, not one per poll
        eng.wait_for(lambda: vm["id"] not in spm_agent.call("Lease.list", domain=sd_id)["leases"],
                     timeout=30, what="the lease removed")
        assert eng.find_events("removed the lease", sd_id)
        leave_storage(eng, sd_id, [])
    scrub_domain(ctx, sd_id)
