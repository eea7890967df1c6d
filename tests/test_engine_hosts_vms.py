"""vireo-engine with real hosts: the two harness hosts (libvirt + agent)
added to a cluster, VMs started through the REST API and checked on the
agents, host failures, engine crashes (docs/rest-api.md)."""

import contextlib
import os
import re
import signal
import time
from concurrent.futures import ThreadPoolExecutor

from harness.context import one_backend
from harness.engine import CliSession, Engine, expect_fault, run_sql

READY = "VIREO-GUEST-READY"
POOL_MAC = re.compile(r"^56:6f(:[0-9a-f]{2}){4}$")


@contextlib.contextmanager
def engine_with_hosts(ctx, **kw):
    """A fresh engine with dc1/cl1 and both harness hosts added and up."""
    with Engine(ctx, **kw) as eng:
        dc = eng.create_dc("dc1")
        cl = eng.create_cluster("cl1", dc["id"])
        hosts = [eng.create_host(h.name, h.addr, cl["id"], port=h.port) for h in ctx.hs.hosts]
        for h in hosts:
            eng.wait_status("hosts", h["id"], "up", timeout=30)
        yield eng, cl, hosts


def host_index(ctx, name):
    for i, h in enumerate(ctx.hs.hosts):
        if h.name == name:
            return i
    raise AssertionError(f"no harness host named {name!r}")


def new_vm(ctx, eng, cl, name, nics=({},), **kw):
    spec = ctx.vm_spec(name)
    kw.setdefault("memory_mib", spec["memory_mib"])
    kw.setdefault("vcpus", 1)
    return eng.create_vm(name, cl["id"], boot=spec["boot"], disks=spec["disks"],
                         nics=list(nics), **kw)


def start_and_wait_up(eng, vm_id, timeout=60):
    """Start through the API; the job must finish and the VM become up on a
    host. Returns (vm entity, job)."""
    r = eng.request("POST", f"/api/vms/{vm_id}/start")
    assert r.status == 202, f"start: {r}\n{eng.log_tail(30)}"
    assert r.headers.get("location") == r.body["job"]["href"], r
    job = eng.wait_job(r.body["job"]["id"], timeout=timeout)
    assert job["status"] == "finished", f"start job: {job}\n{eng.log_tail(40)}"
    # The job shows its steps, all done, in order.
    steps = job["steps"]
    assert job["description"].startswith("Start VM '"), job
    assert [s["status"] for s in steps] == ["finished"] * len(steps) and steps, job
    assert steps[0]["description"] == "scheduling", job
    assert all(s["started_at"] <= s["ended_at"] for s in steps), job
    vm = eng.wait_status("vms", vm_id, "up", timeout=timeout)
    assert vm["host_id"] and vm["host"], vm
    # ... one of them names the host the scheduler chose.
    assert f"starting on host '{vm['host']}'" in [s["description"] for s in steps], job
    return vm, job


def agent_copies(ctx, vm_id):
    """{host index: [owned agent VM entries with this uuid]} over all hosts."""
    out = {}
    for i in range(len(ctx.hs.hosts)):
        with ctx.client(i) as c:
            out[i] = [v for v in c.call("VM.list")["vms"] if v["uuid"] == vm_id]
    return out


def assert_runs_once(ctx, eng, vm, where=""):
    """The VM runs on exactly one host, the one the engine says, under its
    name on that host only."""
    copies = agent_copies(ctx, vm["id"])
    on = [i for i, vs in copies.items() if vs]
    total = sum(len(vs) for vs in copies.values())
    named = {i: vm["name"] in h.virsh("list", "--name").split()
             for i, h in enumerate(ctx.hs.hosts)}
    msg = f"{where}: VM {vm['name']} on agents {copies}, by name {named}; engine says {vm}"
    assert total == 1 and len(on) == 1, msg + "\n" + eng.log_tail(60)
    assert [i for i, n in named.items() if n] == on, msg
    assert ctx.hs.hosts[on[0]].name == vm["host"], msg
    return on[0]


def pinned(devices):
    """Addresses of the devices the engine pins: disks by path, NICs by MAC."""
    out = {}
    for d in devices or []:
        if d.get("kind") == "disk":
            out[("disk", d.get("path"))] = d.get("address")
        elif d.get("kind") == "nic":
            out[("nic", d.get("mac"))] = d.get("address")
    return out


def vm_macs(vm):
    nics = vm.get("nics")
    if not isinstance(nics, list):
        nics = (vm.get("spec") or {}).get("nics") or []
    return [n.get("mac") for n in nics]


# ------------------------------------------------------------------ hosts

def test_hosts_come_up_with_capabilities(ctx):
    with engine_with_hosts(ctx) as (eng, cl, hosts):
        for h, hh in zip(hosts, ctx.hs.hosts):
            got = eng.host(h["id"])
            assert (got["status"], got["address"], got["port"], got["cluster_id"]) == \
                ("up", hh.addr, 54321, cl["id"]), got
            caps = got.get("capabilities")
            assert isinstance(caps, dict) and caps.get("virt_mode") in ("kvm", "kvm-emulated", "tcg"), got
            assert caps["cpu_topology"]["cpus"] >= 1, caps
            stats = got.get("stats")
            assert isinstance(stats, dict) and stats["memory"]["total_kib"] > 0, got
            assert got["last_seen"] > 0 and got["status_detail"] == "", got
            assert eng.find_events(f"host '{hh.name}' is up", h["id"]), eng.events()[:20]
        lst = eng.list("hosts", search="status=UP")
        assert lst["total"] == 2 and [h["name"] for h in lst["hosts"]] == ["vh0", "vh1"], lst
        # last_seen moves on while the host is polled.
        seen = eng.host(hosts[0]["id"])["last_seen"]
        eng.wait_for(lambda: eng.host(hosts[0]["id"])["last_seen"] > seen, timeout=10,
                     what="last_seen to advance")
        # Maintenance: deactivate (no VMs) -> stays in maintenance while
        # its agent answers; a host must be in maintenance to be removed.
        r = eng.request("POST", f"/api/hosts/{hosts[1]['id']}/deactivate")
        assert r.status == 202, r  # a job (docs/availability.md): at once here, nothing to migrate
        assert eng.wait_job(r.body["job"]["id"], timeout=30)["status"] == "finished"
        assert eng.host(hosts[1]["id"])["status"] == "maintenance"
        time.sleep(4 * eng.poll_ms / 1000)
        assert eng.host(hosts[1]["id"])["status"] == "maintenance"
        r = eng.request("DELETE", f"/api/hosts/{hosts[0]['id']}")
        assert r.status == 409 and r.body["fault"]["detail"], r
        assert eng.request("POST", f"/api/hosts/{hosts[1]['id']}/reboot").status == 404
        r = eng.request("POST", f"/api/hosts/{hosts[1]['id']}/activate")
        assert r.status == 200, r
        eng.wait_status("hosts", hosts[1]["id"], "up", timeout=15)
        r = eng.request("POST", f"/api/hosts/{hosts[1]['id']}/deactivate")
        assert r.status == 202 and eng.wait_job(r.body["job"]["id"], timeout=30)["status"] == "finished", r
        assert eng.request("DELETE", f"/api/hosts/{hosts[1]['id']}").status == 204
        assert eng.request("GET", f"/api/hosts/{hosts[1]['id']}").status == 404
        assert eng.list("hosts")["total"] == 1
        # Added again (new id), it comes back up.
        hh = ctx.hs.hosts[1]
        again = eng.create_host(hh.name, hh.addr, cl["id"])
        assert again["id"] != hosts[1]["id"]
        eng.wait_status("hosts", again["id"], "up", timeout=30)
        # Same name twice -> 409.
        r = eng.request("POST", "/api/hosts", {"name": hh.name, "address": hh.addr,
                                               "cluster_id": cl["id"]})
        assert r.status == 409, r


# ------------------------------------------------------------------ VMs

@one_backend
def test_vm_start_console_devices_shutdown(ctx):
    problems = []
    with engine_with_hosts(ctx) as (eng, cl, hosts):
        vm = new_vm(ctx, eng, cl, "web1")
        macs = vm_macs(vm)
        assert len(macs) == 1 and POOL_MAC.match(macs[0] or ""), vm
        got, job = start_and_wait_up(eng, vm["id"])
        assert (job["action"], job["object_type"], job["object_id"]) == ("start", "vm", vm["id"]), job
        i = host_index(ctx, got["host"])
        assert got["host_id"] == hosts[i]["id"], got
        # The scheduler's choice and its reason are an event.
        ev = eng.find_events(f"scheduler placed VM 'web1' on host '{got['host']}'", vm["id"])
        assert ev and "candidate" in ev[0]["message"] and "memory" in ev[0]["message"], \
            eng.events()[:20]
        assert eng.find_events(f"VM 'web1' started on host '{got['host']}'", vm["id"])
        # The guest really runs there: its console, through that host's agent.
        c = ctx.client(i)
        ctx.wait_console(c, vm["id"], READY, timeout=120)
        assert_runs_once(ctx, eng, got, "after first start")
        agent_vm = c.call("VM.get", uuid=vm["id"])
        assert agent_vm["name"] == "web1" and agent_vm["state"] == "running", agent_vm
        assert [n["mac"] for n in agent_vm["spec"]["nics"]] == macs, agent_vm["spec"]
        assert agent_vm["spec"]["memory_mib"] == 256 and agent_vm["spec"]["cpu_model"] == "qemu64", \
            agent_vm["spec"]
        # Device addresses: stored by the engine, the same as the agent's.
        devs = got.get("devices")
        assert isinstance(devs, list) and devs, got
        first = pinned(devs)
        assert set(first) == {("disk", ctx.vm_spec()["disks"][0]["path"]), ("nic", macs[0])}, devs
        assert all(a and a.get("type") == "pci" for a in first.values()), first
        assert pinned(agent_vm["devices"]) == first, (agent_vm["devices"], devs)
        # What the guest's qemu-ga reports reaches the VM as the monitor reads
        # its statistics: hostname, OS, and the address the guest gives its
        # NIC (nothing hands out addresses here: the console's ipaddr does).
        ctx.wait_console(c, vm["id"], "VIREO-IPADDR eth0 0", send="ipaddr eth0 192.0.2.10/24\n")
        gi = eng.wait_for(lambda: (lambda g: g if g and "192.0.2.10" in g["ips"] else None)(
            eng.vm(vm["id"])["guest_info"]), 60, what="guest_info with the guest's address")
        assert gi["hostname"] == "vireo-guest" and gi["os"]["name"] == "Vireo test guest", gi
        eth0 = next(x for x in gi["interfaces"] if x["name"] == "eth0")
        assert eth0["mac"] == macs[0], gi
        assert {"type": "ipv4", "address": "192.0.2.10", "prefix": 24} in eth0["addresses"], gi
        assert "127.0.0.1" not in gi["ips"], gi
        # Pause/resume/reboot go to the VM's host; the monitor agrees.
        _, v = eng.vm_action(vm["id"], "pause")
        assert v["status"] == "paused", v
        assert c.call("VM.getStats", uuid=vm["id"])["state"] == "paused"
        time.sleep(3 * eng.poll_ms / 1000)
        assert eng.vm(vm["id"])["status"] == "paused"
        _, v = eng.vm_action(vm["id"], "resume")
        assert v["status"] == "up", v
        time.sleep(3 * eng.poll_ms / 1000)
        assert eng.vm(vm["id"])["status"] == "up"
        job, v = eng.vm_action(vm["id"], "reboot")
        assert v["status"] == "up" and job["progress"] == 100 and job["action"] == "reboot", (job, v)
        ctx.wait_console(c, vm["id"], READY, count=2, timeout=120)
        assert eng.vm(vm["id"])["status"] == "up"
        # "a running VM's hardware changes apply on next start"
        put = eng.request("PUT", f"/api/vms/{vm['id']}", {"memory_mib": 320})
        if put.status != 200:
            problems.append(f"PUT memory_mib on a running VM refused (contract: applies on next "
                            f"start): {put}")
        # Stop: down at once, gone from the agent.
        _, v = eng.vm_action(vm["id"], "stop")
        assert v["status"] == "down" and v["host_id"] is None and v["guest_info"] is None, v
        assert not any(agent_copies(ctx, vm["id"]).values())
        time.sleep(3 * eng.poll_ms / 1000)
        assert eng.vm(vm["id"])["status"] == "down", eng.vm(vm["id"])
        # Second start: the stored addresses are passed to the agent and the
        # devices come back at the same addresses.
        got2, _ = start_and_wait_up(eng, vm["id"])
        i2 = host_index(ctx, got2["host"])
        c2 = ctx.client(i2)
        agent_vm2 = c2.call("VM.get", uuid=vm["id"])
        assert pinned(agent_vm2["devices"]) == first, (agent_vm2["devices"], first)
        sent = agent_vm2["spec"]
        assert sent["disks"][0].get("address") == first[("disk", sent["disks"][0]["path"])], sent
        assert sent["nics"][0].get("address") == first[("nic", macs[0])], sent
        assert pinned(eng.vm(vm["id"])["devices"]) == first
        if put.status == 200 and sent["memory_mib"] != 320:
            problems.append(f"memory_mib changed while running did not apply on next start: {sent}")
        ctx.wait_console(c2, vm["id"], READY, timeout=120)
        assert_runs_once(ctx, eng, got2, "after second start")
        # Shutdown: ACPI, then down once the guest has powered off.
        # The wait for the guest is the agent's own job, which the engine's
        # job follows to its end.
        job, v = eng.vm_action(vm["id"], "shutdown", timeout=90)
        assert v["status"] in ("poweringdown", "down"), v
        assert any(st["description"].startswith("following job ") for st in job["steps"]), job
        assert "powered off" in job["detail"] and job["progress"] == 100, job
        down = eng.wait_status("vms", vm["id"], "down", timeout=90)
        assert down["host_id"] is None, down
        assert "VIREO-POWEROFF" in ctx.console(c2, vm["id"])
        assert not any(agent_copies(ctx, vm["id"]).values())
        assert eng.find_events("VM 'web1' is down", vm["id"])
        # Starting a running VM twice is refused.
        got3, _ = start_and_wait_up(eng, vm["id"])
        r = eng.request("POST", f"/api/vms/{vm['id']}/start")
        assert r.status == 409 and r.body["fault"]["detail"], r
        assert_runs_once(ctx, eng, got3, "after a refused second start")
        r = eng.request("DELETE", f"/api/vms/{vm['id']}")
        assert r.status == 409, r
    assert not problems, "contract deviations:\n  " + "\n  ".join(problems)


@one_backend
def test_vms_spread_across_hosts(ctx):
    with engine_with_hosts(ctx) as (eng, cl, hosts):
        a = new_vm(ctx, eng, cl, "spread-a")
        b = new_vm(ctx, eng, cl, "spread-b")
        got_a, _ = start_and_wait_up(eng, a["id"])
        # Let the guest settle so both hosts' CPU samples are alike and the
        # free memory decides.
        ctx.wait_console(ctx.client(host_index(ctx, got_a["host"])), a["id"], READY, timeout=120)
        time.sleep(3 * eng.poll_ms / 1000)
        # Eight clients start B at once: one start is accepted, the rest
        # are refused; B runs once.
        with ThreadPoolExecutor(8) as pool:
            rs = list(pool.map(lambda _: eng.request("POST", f"/api/vms/{b['id']}/start"), range(8)))
        codes = sorted(r.status for r in rs)
        assert codes == [202] + [409] * 7, rs
        job = next(r for r in rs if r.status == 202).body["job"]
        assert eng.wait_job(job["id"], timeout=60)["status"] == "finished"
        got_b = eng.wait_status("vms", b["id"], "up", timeout=60)
        assert got_a["host"] != got_b["host"], \
            (f"both VMs on {got_a['host']}:\n"
             + "\n".join(e["message"] for e in eng.find_events("scheduler placed"))
             + "\n" + str([eng.host(h["id"])["stats"] for h in hosts]))
        for v in (got_a, got_b):
            assert eng.find_events(f"scheduler placed VM '{v['name']}' on host '{v['host']}'", v["id"])
            assert_runs_once(ctx, eng, v, "spread")
        assert eng.list("vms", search="host=" + got_b["host"])["vms"][0]["id"] == b["id"]
        assert eng.list("vms", search="status=up")["total"] == 2

        # A VM that dies behind the engine's back is seen down (warning).
        ctx.hs.hosts[host_index(ctx, got_a["host"])].virsh("destroy", "spread-a")
        gone = eng.wait_status("vms", a["id"], "down", timeout=10)
        assert gone["host_id"] is None, gone
        ev = eng.find_events("VM 'spread-a' is down", a["id"])
        assert ev and ev[0]["severity"] == "warning", ev
        assert eng.vm(b["id"])["status"] == "up"


@one_backend(backend="sqlite")
def test_concurrent_starts_spread_evenly(ctx):
    """Four starts at once: placements are serialized and count the memory
    of VMs placed a moment before, so each host gets two."""
    with engine_with_hosts(ctx) as (eng, cl, hosts):
        vms = [new_vm(ctx, eng, cl, f"burst{i}") for i in range(4)]
        with ThreadPoolExecutor(4) as pool:
            jobs = list(pool.map(lambda v: eng.start_vm(v["id"]), vms))
        for j in jobs:
            assert eng.wait_job(j, timeout=90)["status"] == "finished"
        placed = [eng.wait_status("vms", v["id"], "up", timeout=60) for v in vms]
        per_host = {}
        for v in placed:
            per_host.setdefault(v["host"], []).append(v["name"])
            assert_runs_once(ctx, eng, v, "burst")
        assert sorted(len(x) for x in per_host.values()) == [2, 2], \
            (per_host, [e["message"] for e in eng.find_events("scheduler placed")])


def check_placement_dry_run(ctx, eng, cl, hosts, big):
    """GET /api/vms/ID/placement: every host's verdict and the choice,
    booking nothing; bad input gets clean faults."""
    names = sorted(h["name"] for h in hosts)
    d = eng.call("GET", f"/api/vms/{big['id']}/placement")
    assert d["host"] is None and d["as"] == "start" and "no host can run it" in d["reason"], d
    assert sorted(h["name"] for h in d["hosts"]) == names, d
    assert all(h["filter"] == "memory" and f"needs {4 << 20} MiB" in h["reason"] for h in d["hosts"]), d
    small = eng.create_vm("fits", cl["id"], memory_mib=128, vcpus=1)
    first = eng.call("GET", f"/api/vms/{small['id']}/placement")
    assert first["host"] and first["host"]["name"] in names, first
    ranked = sorted((h["rank"], h["name"], h["filter"]) for h in first["hosts"])
    assert ranked == [(1, first["host"]["name"], None), (2, ranked[1][1], None)], first
    assert all(h["chosen"] == (h["name"] == first["host"]["name"]) for h in first["hosts"]), first
    # Nothing was booked: the hosts' free memory is the same on a second
    # run, the VM is still down without a host, and no job was made.
    again = eng.call("GET", f"/api/vms/{small['id']}/placement")
    free = lambda d: {h["name"]: h["weights"]["free_mib"] for h in d["hosts"]}  # noqa: E731
    assert free(again) == free(first) and again["host"] == first["host"], (first, again)
    vm = eng.call("GET", f"/api/vms/{small['id']}")
    assert vm["status"] == "down" and vm["host_id"] is None, vm
    assert not [j for j in eng.call("GET", "/api/jobs?max=1000")["jobs"] if j.get("object_id") == small["id"]]
    # A VM of another cluster is placed among that cluster's hosts only.
    other = eng.create_cluster("cl-other", cl["datacenter_id"])
    lone = eng.create_vm("elsewhere", other["id"], memory_mib=128, vcpus=1)
    d = eng.call("GET", f"/api/vms/{lone['id']}/placement")
    assert d["hosts"] == [] and d["host"] is None and "0 candidate(s)" in d["reason"], d
    # Whoever may start the VM may ask; others get the 403.
    seer = eng.call("POST", "/api/users", {"name": "seer@internal", "password": "Seer-pass-1234"}, expect=201)
    role = next(r["id"] for r in eng.get("/api/roles", params={"max": 1000})["roles"] if r["name"] == "UserRole")
    eng.call("POST", "/api/permissions", {"role_id": role, "object_type": "vm", "object_id": small["id"],
                                          "user_id": seer["id"]}, expect=201)
    tok = eng.login("seer@internal", "Seer-pass-1234", set_token=False)
    assert eng.request("GET", f"/api/vms/{small['id']}/placement", token=tok).body["host"] == first["host"]
    expect_fault(eng.request("GET", f"/api/vms/{lone['id']}/placement", token=tok), 403, "may not start")
    # Unknown and malformed ids, other methods; the CLI shows the same.
    out = CliSession(ctx, eng).run("vm", "placement", "fits").stdout
    assert first["host"]["name"] in out and "RANK" in out, out
    expect_fault(eng.request("GET", "/api/vms/00000000-0000-4000-8000-000000000000/placement"), 404, "no VM")
    expect_fault(eng.request("GET", "/api/vms/nope/placement"), 404, "no VM")
    expect_fault(eng.request("POST", f"/api/vms/{small['id']}/placement"), 405, "use GET")
    for v in (small, lone):
        eng.call("DELETE", f"/api/vms/{v['id']}", expect=204)
    eng.call("DELETE", f"/api/clusters/{other['id']}", expect=204)


def check_placement_explained(ctx, eng, cl, hosts, fits):
    """The dry run for one named destination (?host=), an enforcing
    affinity group named in a host's verdict, the HA reservation among the
    weights (only once the cluster's switch is on), and every per-host
    reason in Japanese (docs/availability.md "Why a host was chosen"). VMs are faked as running (migratingfrom: the
    monitors leave such a VM alone and count its memory on its host)."""
    h0, h1 = sorted(hosts, key=lambda h: h["name"])
    # One destination: its verdict alone; unknown host 404, another cluster's 400.
    d = eng.call("GET", f"/api/vms/{fits['id']}/placement", params={"host": h1["name"]})
    assert [h["name"] for h in d["hosts"]] == [h1["name"]] and d["host"] is None and d["as"] == "start", d
    assert d["hosts"][0]["filter"] == "memory" and h0["name"] not in d["reason"], d
    ja = eng.get(f"/api/vms/{fits['id']}/placement", params={"host": h1["id"]}, headers={"Accept-Language": "ja"})
    assert f"{4 << 20} MiB 必要" in ja["hosts"][0]["reason"] and "needs" not in ja["hosts"][0]["reason"], ja
    assert f"{4 << 20} MiB 必要" in ja["reason"], ja
    expect_fault(eng.request("GET", f"/api/vms/{fits['id']}/placement?host=nope"), 404, "no host 'nope'")
    other = eng.create_cluster("cl-far", cl["datacenter_id"])
    far = eng.create_host("far", "10.77.0.250", other["id"])
    expect_fault(eng.request("GET", f"/api/vms/{fits['id']}/placement?host=far"), 400, "not in the cluster")
    expect_fault(eng.request("GET", f"/api/vms/{fits['id']}/placement?host="), 400, "must name a host")
    # An enforcing negative group: h0, where web2 runs, names the group and VM.
    web2, mover = (eng.create_vm(n, cl["id"], memory_mib=128, vcpus=1) for n in ("web2", "mover"))
    run_sql(eng, f"UPDATE vms SET status = 'migratingfrom', host_id = '{h0['id']}' WHERE id = '{web2['id']}'",
            f"UPDATE vms SET status = 'migratingfrom', host_id = '{h1['id']}' WHERE id = '{mover['id']}'")
    eng.call("POST", f"/api/clusters/{cl['id']}/affinitygroups",
             {"name": "apart", "positive": False, "vms": ["web2", "mover"]}, expect=201)
    d = eng.call("GET", f"/api/vms/{mover['id']}/placement", params={"host": h0["name"]})
    assert d["as"] == "migration" and d["host"] is None, d
    assert d["hosts"][0]["filter"] == "affinity", d
    assert d["hosts"][0]["reason"] == "group 'apart' keeps it from VM 'web2'", d
    ja = eng.get(f"/api/vms/{mover['id']}/placement", params={"host": h0["name"]}, headers={"Accept-Language": "ja"})
    assert "'apart'" in ja["hosts"][0]["reason"] and "'web2'" in ja["hosts"][0]["reason"], ja
    assert "keeps" not in ja["hosts"][0]["reason"], ja
    d = eng.call("GET", f"/api/vms/{mover['id']}/placement", params={"host": h1["name"]})
    assert d["hosts"][0]["filter"] == "source" and d["hosts"][0]["reason"] == "the VM runs there", d
    # HA reservation as a weight: ha-big (HA) on h0, a filler on h1. A VM
    # placed on h1 would leave no room there for ha-big should h0 fail.
    total = min(eng.host(h["id"])["stats"]["memory"]["total_kib"] // 1024 for h in hosts)
    ha_big = eng.create_vm("ha-big", cl["id"], memory_mib=total // 2, vcpus=1, high_availability={"enabled": True})
    filler = eng.create_vm("filler", cl["id"], memory_mib=total // 5, vcpus=1)
    run_sql(eng, f"UPDATE vms SET status = 'migratingfrom', host_id = '{h0['id']}' WHERE id = '{ha_big['id']}'",
            f"UPDATE vms SET status = 'migratingfrom', host_id = '{h1['id']}' WHERE id = '{filler['id']}'",
            f"UPDATE vms SET status = 'down', host_id = NULL WHERE id IN ('{web2['id']}', '{mover['id']}')")
    x = eng.create_vm("ha-x", cl["id"], memory_mib=total * 2 // 5, vcpus=1)

    mem = {h["name"]: eng.host(h["id"])["stats"]["memory"]["total_kib"] // 1024 for h in hosts}

    def counted():  # each host's committed memory is counted at its own next poll
        d = eng.call("GET", f"/api/vms/{x['id']}/placement")
        w = {h["name"]: h.get("weights") for h in d["hosts"]}
        return d if all(w.values()) and w[h0["name"]]["free_mib"] <= mem[h0["name"]] - total // 2 and \
            w[h1["name"]]["free_mib"] <= mem[h1["name"]] - total // 5 else None
    # The cluster's HA reservation is off (the default): no weight.
    d = eng.wait_for(counted, timeout=10, what="both hosts' committed memory counted (their next polls)")
    assert [h["weights"]["ha_penalty"] for h in d["hosts"]] == [0, 0], d
    eng.call("PUT", f"/api/clusters/{cl['id']}", {"ha_reservation": {"enabled": True}})

    def weighed():
        # each host's committed memory is counted at its own next poll:
        # h1's filler (its HA penalty) and h0's ha-big (its free memory)
        d = eng.call("GET", f"/api/vms/{x['id']}/placement")
        w = {h["name"]: h.get("weights") for h in d["hosts"]}
        return d if all(w.values()) and w[h1["name"]]["ha_penalty"] == 1 and \
            w[h0["name"]]["free_mib"] <= mem[h0["name"]] - total // 2 else None
    d = eng.wait_for(weighed, timeout=10, what="both hosts' committed memory counted (their next polls)")
    w = {h["name"]: h["weights"] for h in d["hosts"]}
    assert w[h0["name"]]["ha_penalty"] == 0 and w[h1["name"]]["free_mib"] > w[h0["name"]]["free_mib"], d
    if w[h0["name"]]["cpu_bucket"] == w[h1["name"]]["cpu_bucket"]:  # CPU load decides before free memory
        assert d["host"]["name"] == h0["name"] and "keeps the HA reservation" in d["reason"], d
    # The CLI asks about one host too.
    out = CliSession(ctx, eng).run("vm", "placement", "mover", "--host", h0["name"]).stdout
    assert h0["name"] in out and h1["name"] not in out, out
    eng.call("PUT", f"/api/clusters/{cl['id']}", {"ha_reservation": {"enabled": False}})
    run_sql(eng, "UPDATE vms SET status = 'down', host_id = NULL WHERE status = 'migratingfrom'")
    for v in (web2, mover, ha_big, filler, x):
        eng.call("DELETE", f"/api/vms/{v['id']}", expect=204)
    assert far["cluster_id"] == other["id"]


def test_scheduler_filters(ctx):
    with engine_with_hosts(ctx) as (eng, cl, hosts):
        # More memory than any host has: the start fails, nothing runs.
        big = new_vm(ctx, eng, cl, "too-big", memory_mib=4 << 20)
        r = eng.request("POST", f"/api/vms/{big['id']}/start")
        assert r.status == 202, r
        j = eng.wait_job(r.body["job"]["id"], timeout=30)
        assert j["status"] == "failed" and "no host can run it" in j["detail"], j
        assert "2 candidate(s)" in j["detail"], j
        assert [(s["description"], s["status"]) for s in j["steps"]] == [("scheduling", "failed")], j
        got = eng.wait_status("vms", big["id"], "down", timeout=10)
        assert got["host_id"] is None, got
        assert not any(agent_copies(ctx, big["id"]).values())
        ev = eng.find_events("cannot start VM 'too-big'", big["id"])
        assert ev and ev[0]["severity"] == "error", ev
        # Each host is named with the filter that removed it.
        for h in hosts:
            assert f"{h['name']} (memory: needs {4 << 20} MiB, " in j["detail"], j
        # ... in Japanese too, the host list included.
        ja = eng.get(f"/api/jobs/{j['id']}", headers={"Accept-Language": "ja"})["detail"]
        assert ja.count(f"memory: {4 << 20} MiB 必要") == 2 and all(h["name"] in ja for h in hosts), ja
        check_placement_dry_run(ctx, eng, cl, hosts, big)
        check_placement_explained(ctx, eng, cl, hosts, big)
        # Virtualization mode: a kvm cluster takes only hosts with hardware KVM.
        modes = {h["name"]: eng.host(h["id"])["capabilities"]["virt_mode"] for h in hosts}
        eng.call("PUT", f"/api/clusters/{cl['id']}", {"virt_mode": "kvm"})
        for h in hosts:
            if modes[h["name"]] == "kvm":
                time.sleep(3 * eng.poll_ms / 1000)
                assert eng.host(h["id"])["status"] == "up"
            else:
                got = eng.wait_status("hosts", h["id"], "nonoperational", timeout=10)
                assert "KVM" in got["status_detail"], got
        vm = new_vm(ctx, eng, cl, "kvm-only")
        j = eng.wait_job(eng.start_vm(vm["id"]), timeout=60)
        if all(m != "kvm" for m in modes.values()):
            assert j["status"] == "failed", j
            assert eng.wait_status("vms", vm["id"], "down", timeout=10)["host_id"] is None
            assert not any(agent_copies(ctx, vm["id"]).values())
        else:
            got = eng.wait_status("vms", vm["id"], "up", timeout=30)
            assert modes[got["host"]] == "kvm", (got, modes)
        eng.call("PUT", f"/api/clusters/{cl['id']}", {"virt_mode": "any"})
        for h in hosts:
            eng.wait_status("hosts", h["id"], "up", timeout=10)


@one_backend
def test_cluster_cpu_type_compatibility(ctx):
    """A host that cannot give guests the cluster's CPU type is
    nonoperational; the CPU type reaches libvirt in the VMs' XML."""
    with engine_with_hosts(ctx) as (eng, cl, hosts):
        models = eng.host(hosts[0]["id"])["capabilities"]["cpu_models"]
        assert "qemu64" in models, models
        # Under TCG the modern server models are not usable; on real KVM hosts
        # an unknown name still is not.
        bad = next((m for m in ("Cooperlake", "Icelake-Server", "Haswell") if m not in models),
                   "No-Such-CPU")
        eng.call("PUT", f"/api/clusters/{cl['id']}", {"cpu_type": bad})
        for h in hosts:
            got = eng.wait_status("hosts", h["id"], "nonoperational", timeout=15)
            assert bad in got["status_detail"], got
        vm = new_vm(ctx, eng, cl, "picky-cpu")
        j = eng.wait_job(eng.start_vm(vm["id"]), timeout=30)
        assert j["status"] == "failed" and "no host can run it" in j["detail"], j
        assert not any(agent_copies(ctx, vm["id"]).values())
        good = "Nehalem" if "Nehalem" in models else "qemu64"
        eng.call("PUT", f"/api/clusters/{cl['id']}", {"cpu_type": good})
        for h in hosts:
            eng.wait_status("hosts", h["id"], "up", timeout=15)
        got, _ = start_and_wait_up(eng, vm["id"])
        xml = ctx.host(host_index(ctx, got["host"])).virsh("dumpxml", "picky-cpu")
        assert f">{good}</model>" in xml, xml
        ctx.wait_console(ctx.client(host_index(ctx, got["host"])), vm["id"], READY, timeout=120)


# ------------------------------------------------------------------ failures

@one_backend(backend="sqlite")
def test_agent_loss_and_recovery(ctx):
    with engine_with_hosts(ctx) as (eng, cl, hosts):
        vm = new_vm(ctx, eng, cl, "survivor")
        got, _ = start_and_wait_up(eng, vm["id"])
        i = host_index(ctx, got["host"])
        hid = hosts[i]["id"]
        other = 1 - i
        ctx.wait_console(ctx.client(i), vm["id"], READY, timeout=120)
        h = ctx.host(i)
        try:
            # An agent that never answers (stopped): actions are jobs, so
            # the API answers at once and lists stay fast while the job
            # waits on the host; the job fails with the transport's reason.
            os.kill(h.agent_pid, signal.SIGSTOP)
            try:
                t0 = time.monotonic()
                r = eng.request("POST", f"/api/vms/{vm['id']}/pause")
                assert r.status == 202 and time.monotonic() - t0 < 2, (r, time.monotonic() - t0)
                job_id = r.body["job"]["id"]
                slowest = 0
                for _ in range(10):
                    t1 = time.monotonic()
                    assert eng.request("GET", "/api/vms").status == 200
                    assert eng.request("GET", f"/api/vms/{vm['id']}").status == 200
                    slowest = max(slowest, time.monotonic() - t1)
                    time.sleep(0.2)
                assert slowest < 2, f"API slowed by a hung agent: {slowest:.2f} s"
                # One power action at a time per VM.
                busy = eng.request("POST", f"/api/vms/{vm['id']}/resume")
                assert busy.status == 409 and job_id in busy.body["fault"]["detail"], busy
                # Cancel is accepted once; the call already went out, so it finishes by itself.
                assert eng.request("POST", f"/api/jobs/{job_id}/cancel").status == 200
                assert eng.request("POST", f"/api/jobs/{job_id}/cancel").status == 409
                job = eng.wait_job(job_id, timeout=eng.agent_timeout_s * 4 + 20)
                assert job["status"] == "failed" and job["detail"], job
            finally:
                os.kill(h.agent_pid, signal.SIGCONT)
            eng.wait_status("hosts", hid, "up", timeout=60)
            eng.wait_status("vms", vm["id"], "up", timeout=30)
            h.kill_agent()
            t0 = time.monotonic()
            eng.wait_status("hosts", hid, "connecting", timeout=10)
            # Within the grace period the VM keeps its status.
            assert eng.vm(vm["id"])["status"] == "up"
            eng.wait_status("hosts", hid, "nonresponsive", timeout=eng.grace_s + 15)
            assert time.monotonic() - t0 >= eng.grace_s - 1, "nonresponsive before the grace"
            assert eng.host(hid)["status_detail"], eng.host(hid)
            eng.wait_status("vms", vm["id"], "unknown", timeout=5)
            assert eng.find_events(f"host '{h.name}' is nonresponsive", hid)
            # Starting it again must be refused: it may well still run there.
            r = eng.request("POST", f"/api/vms/{vm['id']}/start")
            assert r.status == 409 and r.body["fault"]["detail"], r
            assert eng.vm(vm["id"])["status"] == "unknown"
            assert not agent_copies_on(ctx, other, vm["id"]), "VM started on the other host"
            # A new VM avoids the non-responsive host.
            vm2 = new_vm(ctx, eng, cl, "elsewhere")
            got2, _ = start_and_wait_up(eng, vm2["id"])
            assert got2["host"] == ctx.hs.hosts[other].name, got2
            ev = eng.find_events("scheduler placed VM 'elsewhere'", vm2["id"])
            assert ev and "1 filtered out" in ev[0]["message"], ev
            # The VM itself still runs under libvirt.
            assert "survivor" in h.virsh("list", "--name").split()
        finally:
            if not h.agent_alive():
                h.start_agent(wait=True)
        eng.wait_status("hosts", hid, "up", timeout=30)
        back = eng.wait_status("vms", vm["id"], "up", timeout=30)
        assert back["host_id"] == hid, back
        assert_runs_once(ctx, eng, back, "after the agent came back")
        assert_runs_once(ctx, eng, eng.vm(vm2["id"]), "the other VM")
        # And it is operable again.
        _, v = eng.vm_action(vm["id"], "stop")
        assert v["status"] == "down", v


@one_backend
def test_hung_vm_not_responding(ctx):
    """A VM whose QEMU hangs (SIGSTOP) goes notresponding while its host
    stays up; only stop is accepted; it comes back up when QEMU wakes."""
    with engine_with_hosts(ctx) as (eng, cl, hosts):
        vm = new_vm(ctx, eng, cl, "sleeper")
        got, _ = start_and_wait_up(eng, vm["id"])
        i = host_index(ctx, got["host"])
        pid = ctx.qemu_pid("sleeper", i)
        os.kill(pid, signal.SIGSTOP)
        try:
            eng.wait_status("vms", vm["id"], "notresponding", timeout=30)
            assert eng.host(hosts[i]["id"])["status"] == "up"
            r = eng.request("POST", f"/api/vms/{vm['id']}/pause")
            assert r.status == 409 and "not responding" in r.body["fault"]["detail"], r
            assert eng.find_events("notresponding", vm["id"])
            # Polls agree with the event and keep it there.
            time.sleep(eng.poll_ms / 1000 * 3)
            assert eng.vm(vm["id"])["status"] == "notresponding"
        finally:
            os.kill(pid, signal.SIGCONT)
        eng.wait_status("vms", vm["id"], "up", timeout=30)
        assert_runs_once(ctx, eng, eng.vm(vm["id"]), "after it woke up")
        # Hung again: stop still works.
        os.kill(pid, signal.SIGSTOP)
        eng.wait_status("vms", vm["id"], "notresponding", timeout=30)
        _, v = eng.vm_action(vm["id"], "stop", timeout=60)
        assert v["status"] == "down", v
        eng.wait_for(lambda: not agent_copies_on(ctx, i, vm["id"]), timeout=30,
                     what="the hung VM to be gone")


def agent_copies_on(ctx, i, vm_id):
    with ctx.client(i) as c:
        return [v for v in c.call("VM.list")["vms"] if v["uuid"] == vm_id]


def test_engine_kill_keeps_state(ctx):
    with engine_with_hosts(ctx) as (eng, cl, hosts):
        vms = [new_vm(ctx, eng, cl, n) for n in ("keep-up", "killed-behind", "never-started")]
        up1, _ = start_and_wait_up(eng, vms[0]["id"])
        up2, _ = start_and_wait_up(eng, vms[1]["id"])
        ctx.wait_console(ctx.client(host_index(ctx, up1["host"])), up1["id"], READY, timeout=120)

        def snap():
            s = {"hosts": eng.list("hosts")["hosts"], "vms": eng.list("vms")["vms"],
                 "clusters": eng.list("clusters")["clusters"],
                 "datacenters": eng.list("datacenters")["datacenters"]}
            for h in s["hosts"]:
                for k in ("stats", "last_seen", "status_detail"):
                    h.pop(k, None)
            for v in s["vms"]:  # from the monitor's memory: back at its next poll
                v.pop("guest_info", None)
            return s
        before = snap()
        eng.kill()
        # While the engine is dead, one VM goes away behind its back.
        with ctx.client(host_index(ctx, up2["host"])) as c:
            c.call("VM.destroy", uuid=up2["id"])
        eng.start()
        after = snap()
        assert after["hosts"] == before["hosts"], (before["hosts"], after["hosts"])
        assert after["clusters"] == before["clusters"] and after["datacenters"] == before["datacenters"]
        by_id = {v["id"]: v for v in after["vms"]}
        assert set(by_id) == {v["id"] for v in vms}
        assert by_id[vms[0]["id"]] == next(v for v in before["vms"] if v["id"] == vms[0]["id"])
        assert by_id[vms[2]["id"]]["status"] == "down"
        # Re-learned from the agents: the destroyed VM is down, the running
        # one stays up on its host over several polls.
        gone = eng.wait_status("vms", up2["id"], "down", timeout=15)
        assert gone["host_id"] is None, gone
        deadline = time.monotonic() + 6 * eng.poll_ms / 1000 + 1
        while time.monotonic() < deadline:
            v = eng.vm(up1["id"])
            assert (v["status"], v["host_id"]) == ("up", up1["host_id"]), v
            for h in hosts:
                assert eng.host(h["id"])["status"] == "up", eng.host(h["id"])
            time.sleep(0.25)
        assert_runs_once(ctx, eng, eng.vm(up1["id"]), "after the engine crash")
        assert not any(agent_copies(ctx, up2["id"]).values())
        # Fully operable: the dead one starts again, the live one stops.
        got, _ = start_and_wait_up(eng, up2["id"])
        assert_runs_once(ctx, eng, got, "restarted after the crash")
        _, v = eng.vm_action(up1["id"], "stop")
        assert v["status"] == "down", v


@one_backend
def test_engine_kill_during_start_no_duplicate(ctx):
    """An accepted start survives an engine crash at any moment and the VM
    runs exactly once: the kill lands at different points of the start."""
    problems = []
    resumed_jobs = 0
    with engine_with_hosts(ctx) as (eng, cl, hosts):
        for n, delay in enumerate((0.0, 0.05, 0.2, 0.4, 0.7, 1.2)):
            vm = new_vm(ctx, eng, cl, f"crash{n}")
            r = eng.request("POST", f"/api/vms/{vm['id']}/start")
            assert r.status == 202, r
            job_id = r.body["job"]["id"]
            if delay:
                time.sleep(delay)
            eng.kill()
            eng.start()
            got = eng.wait_status("vms", vm["id"], "up", timeout=60)
            job = eng.wait_job(job_id, timeout=30)
            # The job has ended: a few polls more (a late duplicate would be
            # reported by then), then count.
            time.sleep(3 * eng.poll_ms / 1000)
            got = eng.vm(vm["id"])
            assert got["status"] == "up", got
            assert_runs_once(ctx, eng, got, f"kill {delay}s after the start was accepted")
            if job["status"] != "finished":
                problems.append(f"kill after {delay}s: VM {vm['name']} is up on {got['host']} but "
                                f"its start job ended {job['status']!r}: {job['detail']!r}")
            # The job's steps tell the story: a job the kill caught unfinished
            # says it was resumed, and no step is left running.
            steps = job["steps"]
            assert all(s["status"] != "running" for s in steps), job
            cut = [s for s in steps if s["status"] == "interrupted"]
            resumed = [s for s in steps if s["description"] == "resumed after an engine restart"]
            assert len(resumed) <= 1 and (not cut or resumed), job
            resumed_jobs += bool(resumed)
            eng.vm_action(vm["id"], "stop")
            assert not any(agent_copies(ctx, vm["id"]).values())
    assert not problems, "\n".join(problems)
    # A kill right after the 202 finds the start unfinished: it was resumed.
    assert resumed_jobs >= 1, "no start job was resumed after a kill"


def _placed_then(eng, vm, after_s):
    """Start vm, wait for the scheduler's placement event, sleep after_s
    (the engine is then inside VM.create on that host); returns the host
    name it was placed on."""
    eng.start_vm(vm["id"])
    ev = eng.wait_for(lambda: eng.find_events(f"scheduler placed VM '{vm['name']}' on host '",
                                              vm["id"]), timeout=20, interval=0.02,
                      what="the placement event")
    time.sleep(after_s)
    return re.search(r"on host '([^']+)'", ev[0]["message"]).group(1)


def _ensure_agents(ctx):
    for h in ctx.hs.hosts:
        if not h.agent_alive():
            h.start_agent(wait=True)


@one_backend
def test_engine_and_agent_crash_during_start_no_duplicate(ctx):
    """The engine dies while VM.create is under way on host A, and A's agent
    dies too (the VM keeps running under libvirt there). After the engine's
    restart the resumed start cannot reach A; it must not start the VM on
    B as well. Once A's agent is back the VM runs exactly once."""
    with engine_with_hosts(ctx) as (eng, cl, hosts):
        try:
            for attempt, after in enumerate((0.25, 0.4, 0.15, 0.55, 0.1)):
                vm = new_vm(ctx, eng, cl, f"split{attempt}")
                placed = _placed_then(eng, vm, after)
                eng.kill()
                time.sleep(2)  # let the agent finish the VM.create it got
                on = [i for i, vs in agent_copies(ctx, vm["id"]).items() if vs]
                if not on:
                    # The kill came before VM.create reached the agent: not
                    # the case under test. Let the resumed job finish; retry.
                    eng.start()
                    eng.wait_status("vms", vm["id"], "up", timeout=60)
                    eng.vm_action(vm["id"], "stop")
                    continue
                a = on[0]
                assert ctx.hs.hosts[a].name == placed, (placed, on)
                ctx.host(a).kill_agent()
                eng.start()
                # Give the resumed job and the monitors time: A goes
                # nonresponsive, and whatever the engine does, it does now.
                time.sleep(eng.grace_s + 4)
                mid = eng.vm(vm["id"])
                others = [i for i in range(len(ctx.hs.hosts)) if i != a]
                dup = [i for i in others if agent_copies_on(ctx, i, vm["id"])]
                ctx.host(a).start_agent(wait=True)
                eng.wait_status("hosts", hosts[a]["id"], "up", timeout=30)
                time.sleep(6 * eng.poll_ms / 1000)
                assert not dup, (f"VM {vm['name']} started on {[ctx.hs.hosts[i].name for i in dup]} "
                                 f"while it still ran on {placed} (agent down); engine said {mid}\n"
                                 + "\n".join(e["message"] for e in eng.events()[:25][::-1]))
                got = eng.wait_status("vms", vm["id"], "up", timeout=30)
                assert_runs_once(ctx, eng, got, "after engine + agent crash")
                return
            raise AssertionError("the engine kill never landed inside VM.create")
        finally:
            _ensure_agents(ctx)


@one_backend(backend="sqlite")
def test_agent_crash_during_create_no_duplicate(ctx):
    """A's agent dies while the engine waits for VM.create's reply; the VM
    comes up under libvirt anyway. The engine cannot know it is not running:
    a second start must not put it on B as well."""
    with engine_with_hosts(ctx) as (eng, cl, hosts):
        try:
            for attempt, after in enumerate((0.25, 0.4, 0.15, 0.55, 0.1)):
                vm = new_vm(ctx, eng, cl, f"lost{attempt}")
                placed = _placed_then(eng, vm, after)
                a = host_index(ctx, placed)
                ctx.host(a).kill_agent()
                time.sleep(2)
                running_on_a = vm["name"] in ctx.hs.hosts[a].virsh("list", "--name").split()
                job = next(j for j in eng.get("/api/jobs")["jobs"] if j["object_id"] == vm["id"])
                if not running_on_a:
                    ctx.host(a).start_agent(wait=True)
                    eng.wait_status("hosts", hosts[a]["id"], "up", timeout=30)
                    eng.wait_job(job["id"], timeout=30)
                    r = eng.request("POST", f"/api/vms/{vm['id']}/stop")
                    if r.status == 202:
                        eng.wait_job(r.body["job"]["id"], timeout=40)
                    continue
                job = eng.wait_job(job["id"], timeout=30)
                state = eng.vm(vm["id"])
                # Try to start it again (what an operator does after a failed start).
                r = eng.request("POST", f"/api/vms/{vm['id']}/start")
                if r.status == 202:
                    eng.wait_job(r.body["job"]["id"], timeout=60)
                time.sleep(2)
                dup = [i for i in range(len(ctx.hs.hosts)) if i != a
                       and agent_copies_on(ctx, i, vm["id"])]
                ctx.host(a).start_agent(wait=True)
                eng.wait_status("hosts", hosts[a]["id"], "up", timeout=30)
                time.sleep(6 * eng.poll_ms / 1000)
                assert not dup, (f"VM {vm['name']} runs on {placed} (its agent died during "
                                 f"VM.create) and was started again on "
                                 f"{[ctx.hs.hosts[i].name for i in dup]}; after the lost reply the "
                                 f"engine said {state['status']!r} (job {job['status']}: "
                                 f"{job['detail']!r}), second start answered {r.status}")
                got = eng.wait_status("vms", vm["id"], "up", timeout=30)
                assert_runs_once(ctx, eng, got, "after the agent crash")
                return
            raise AssertionError("the agent kill never landed inside VM.create")
        finally:
            _ensure_agents(ctx)


@one_backend(backend="sqlite")
def test_live_changes_through_the_engine(ctx):
    """Nested /api/vms/ID/nics and /disks: stored at once on a down VM,
    hot plugged through a job on a running one (seen by the guest and the
    agent); I/O limits and vCPUs live; the balloon; what cannot change live
    is pending until the next start."""
    with engine_with_hosts(ctx) as (eng, cl, hosts):
        vm = new_vm(ctx, eng, cl, "live1", max_vcpus=3)
        base = f"/api/vms/{vm['id']}"
        # Down: stored at once.
        r = eng.request("POST", f"{base}/nics", {})
        assert r.status == 201 and POOL_MAC.match(r.body["mac"]), r
        assert r.headers.get("location") == r.body["href"] == f"{base}/nics/{r.body['mac']}", r
        cold_mac = r.body["mac"]
        assert len(eng.vm(vm["id"])["nics"]) == 2
        assert eng.request("DELETE", f"{base}/nics/{cold_mac}").status == 204
        assert [n["mac"] for n in eng.get(f"{base}/nics")["nics"]] == [eng.vm(vm["id"])["nics"][0]["mac"]]
        disks = eng.get(f"{base}/disks")["disks"]
        assert [d["id"] for d in disks] == ["vda"], disks
        r = eng.request("PUT", f"{base}/disks/vda", {"iotune": {"total_iops_sec": 900}})
        assert r.status == 200 and r.body["iotune"] == {"total_iops_sec": 900}, r
        for bad in ({"iotune": {"bogus": 1}}, {"path": "/elsewhere"}, {"iotune": {"total_iops_sec": -1}}):
            assert eng.request("PUT", f"{base}/disks/vda", bad).status == 400, bad
        assert eng.request("GET", f"{base}/disks/vdz").status == 404
        assert eng.request("POST", f"{base}/nics", {"mac": "56:6f:00:00:00:09"}).status == 400
        assert eng.request("POST", f"{base}/balloon", {"memory_mib": 64}).status == 409  # down
        # Running: jobs through the host.
        got, _ = start_and_wait_up(eng, vm["id"])
        i = host_index(ctx, got["host"])
        c = ctx.client(i)
        ctx.wait_console(c, vm["id"], READY, timeout=120)
        assert eng.vm(vm["id"])["pending_changes"] == []
        # A running VM's NICs are live devices: not rewritten by a PUT.
        r = eng.request("PUT", base, {"nics": []})
        assert r.status == 409 and "/nics" in r.body["fault"]["detail"], r
        r = eng.request("POST", f"{base}/nics", {})
        assert r.status == 202, r
        job = eng.wait_job(r.body["job"]["id"], timeout=60)
        assert job["status"] == "finished" and job["action"] == "hotplug_nic", job
        nics = eng.vm(vm["id"])["nics"]
        hot_mac = nics[-1]["mac"]
        assert len(nics) == 2 and POOL_MAC.match(hot_mac), nics
        assert hot_mac in [d.get("mac") for d in c.call("VM.get", uuid=vm["id"])["devices"]]
        ctx.wait_console(c, vm["id"], "VIREO-NICS eth0 eth1", send="nics\n")
        path = ctx.scratch_disk("live-hot1.img")
        r = eng.request("POST", f"{base}/disks", {"path": path, "serial": "LIVE1"})
        assert r.status == 202, r
        job = eng.wait_job(r.body["job"]["id"], timeout=60)
        assert job["status"] == "finished", job
        assert [d["id"] for d in eng.get(f"{base}/disks")["disks"]] == ["vda", "vdb"]
        ctx.wait_console(c, vm["id"], "vdb", send="disks\n")
        r = eng.request("PUT", f"{base}/disks/vdb", {"iotune": {"total_bytes_sec": 1048576}})
        assert r.status == 202 and eng.wait_job(r.body["job"]["id"])["status"] == "finished", r
        assert "<total_bytes_sec>1048576</total_bytes_sec>" in ctx.host(i).virsh("dumpxml", got["name"])
        assert eng.get(f"{base}/disks/vdb")["iotune"] == {"total_bytes_sec": 1048576}
        # vCPUs raised within the maximum: live; memory: pending.
        r = eng.request("PUT", base, {"vcpus": 2, "memory_mib": got["memory_mib"] + 32})
        assert r.status == 202, r
        assert eng.wait_job(r.body["job"]["id"])["status"] == "finished"
        assert c.call("VM.getStats", uuid=vm["id"])["vcpus_current"] == 2
        assert eng.vm(vm["id"])["pending_changes"] == ["memory_mib"], eng.vm(vm["id"])
        r = eng.request("POST", f"{base}/balloon", {"memory_mib": 64})
        assert r.status == 202 and eng.wait_job(r.body["job"]["id"])["status"] == "finished", r
        assert eng.request("POST", f"{base}/balloon", {"memory_mib": 1 << 21}).status == 422
        assert eng.request("POST", f"{base}/balloon", {"memory_mib": "x"}).status == 400
        # Unplug: gone from the agent and the engine.
        r = eng.request("DELETE", f"{base}/nics/{hot_mac}")
        assert r.status == 202 and eng.wait_job(r.body["job"]["id"])["status"] == "finished", r
        assert hot_mac not in [n["mac"] for n in eng.vm(vm["id"])["nics"]]
        # libvirt may report the monitor unusable for a moment while QEMU
        # releases a device (the agent then says NotResponding): wait it out.
        eng.wait_status("vms", vm["id"], "up", timeout=60)
        r = eng.request("DELETE", f"{base}/disks/vdb")
        assert r.status == 202 and eng.wait_job(r.body["job"]["id"])["status"] == "finished", r
        assert [d["id"] for d in eng.get(f"{base}/disks")["disks"]] == ["vda"]
        eng.wait_status("vms", vm["id"], "up", timeout=60)
        # A plug the host refuses fails the job with its reason; nothing is stored.
        r = eng.request("POST", f"{base}/disks", {"path": "/nonexistent/x.img"})
        job = eng.wait_job(r.body["job"]["id"])
        assert job["status"] == "failed" and job["detail"], job
        # The host's reason came with its message id: a Japanese reader gets
        # it in Japanese (the path kept), as the job's description.
        ja = eng.get(f"/api/jobs/{job['id']}", headers={"Accept-Language": "ja"})
        assert "/nonexistent/x.img" in ja["detail"] and ja["detail"] != job["detail"], (job, ja)
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", ja["detail"]), ja
        assert job["description"].startswith("Hot plug a disk into VM "), job
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", ja["description"]), ja
        assert [d["id"] for d in eng.get(f"{base}/disks")["disks"]] == ["vda"]
        # The next start runs what is stored: nothing pending any more.
        eng.vm_action(vm["id"], "stop")
        start_and_wait_up(eng, vm["id"])
        assert eng.vm(vm["id"])["pending_changes"] == []
        assert c_memory(ctx, eng, vm["id"]) == got["memory_mib"] + 32
        eng.vm_action(vm["id"], "stop")


def c_memory(ctx, eng, vm_id):
    v = eng.vm(vm_id)
    return ctx.client(host_index(ctx, v["host"])).call("VM.get", uuid=vm_id)["spec"]["memory_mib"]
