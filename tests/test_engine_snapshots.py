"""VM snapshots through the engine (docs/storage.md "Snapshots",
docs/rest-api.md "Snapshots"): a guest writes markers on an engine disk
between live snapshots; deleting snapshots merges live (an intermediate
layer, then the active one, pivoting); preview runs the stopped VM from a
snapshot in a temporary layer, undo brings back everything, restore keeps
only what the snapshot had; a cold delete merges with qemu-img. Then a
template is made from the stopped VM (docs/storage.md "Templates"; one
cut by the SPM agent's death leaves nothing behind, one across an engine
kill is made): a thin
VM's writes stay its own, a clone is independent, a sub-version and
"latest" give the newest. Every marker is read from inside the guest after
a fresh boot. Suspend to disk resumes the guest on the other host, also
across an engine kill; a snapshot with memory resumes the guest from that
moment. A live snapshot and a live merge each survive an engine kill right
after they were accepted: the job ends, the chain is one the engine and the
domain agree on, the guest's data is there. Bad requests are refused with
a clear status and change nothing.

Runs on SQLite only (@one_backend: its subject is the hosts and the
storage; docs/testing.md)."""

import json
import os
import signal

from harness.engine import CliSession, Engine
from harness.context import one_backend
from harness.engine_storage import (hold_convert, leave_storage, make_disk, scrub_domain, spm_killed_under_copy,
                                    storage_dc)

MISSING = "00000000-0000-4000-8000-0000000000ff"

MIB = 1 << 20


def _fault(r, status, detail=None):
    assert r.status == status, r
    if detail:
        assert detail in r.body["fault"]["detail"], r
    return r.body["fault"]


class Guest:
    """The VM's console, through the agent of the host it runs on."""

    def __init__(self, ctx, eng, vm_id):
        self.ctx, self.eng, self.vm_id = ctx, eng, vm_id

    def boot(self):
        r = self.eng.request("POST", f"/api/vms/{self.vm_id}/start")
        assert r.status == 202, r
        job = self.eng.wait_job(r.body["job"]["id"], timeout=120)
        assert job["status"] == "finished", (job, self.eng.log_tail(40))
        return self.attach()

    def attach(self):
        """The running VM's console, once its guest is ready."""
        vm = self.eng.wait_status("vms", self.vm_id, "up", timeout=90)
        i = next(n for n, h in enumerate(self.ctx.hs.hosts) if h.name == vm["host"])
        self.host = self.ctx.hs.hosts[i]
        self.c = self.ctx.client(i)
        self.ctx.wait_console(self.c, self.vm_id, "VIREO-GUEST-READY")
        return vm

    def mark(self, slot, word):
        self.ctx.wait_console(self.c, self.vm_id, "VIREO-MARKED vdb %d 0" % slot,
                              send="mark vdb %d %s\n" % (slot, word))

    def read(self, slot):
        """The word in sector slot of vdb, as the guest reads it now."""
        before = self.ctx.console(self.c, self.vm_id).count("VIREO-MARK vdb %d " % slot)
        text = self.ctx.wait_console(self.c, self.vm_id, "VIREO-MARK vdb %d " % slot, count=before + 1,
                                     send="readmark vdb %d\n" % slot)
        return text.rsplit("VIREO-MARK vdb %d " % slot, 1)[1].split()[0]

    def stop(self):
        self.eng.vm_action(self.vm_id, "stop")
        self.eng.wait_status("vms", self.vm_id, "down", timeout=60)


def _job(eng, r, status="finished", timeout=180):
    assert r.status == 202, r
    job = eng.wait_job(r.body["job"]["id"], timeout=timeout)
    assert job["status"] == status, (job, eng.log_tail(60))
    return job


def _snapshots(eng, vm_id):
    return eng.get(f"/api/vms/{vm_id}/snapshots")["snapshots"]


def _vm_disk(eng, vm_id):
    return [d["disk"] for d in eng.get(f"/api/vms/{vm_id}")["disks"] if "disk" in d][0]


def _memory_volumes(ctx, sd_id):
    """The memory volumes on the domain (docs/storage.md "Memory volumes")."""
    return [v for v in ctx.client(0).call("Volume.list", domain=sd_id)["volumes"]
            if v["description"].startswith("memory of")]


def _resumed(ctx, eng, g, vm, host=None, action="start"):
    """Start the stopped VM whose memory is saved (on `host`, a host row,
    when given): the guest goes on where it was - it answers at once, and
    its console log (started afresh with the VM: append off) shows no boot.
    Returns the VM."""
    if host:
        eng.call("PUT", vm["href"], {"placement_policy": {"affinity": "migratable", "hosts": [host["id"]]}})
    _job(eng, eng.request("POST", f"{vm['href']}/{action}"))
    v = eng.wait_status("vms", vm["id"], "up", timeout=60)
    if host:
        assert v["host"] == host["name"], v
        eng.call("PUT", vm["href"], {"placement_policy": {"affinity": "migratable", "hosts": []}})
    i = [h.name for h in ctx.hs.hosts].index(v["host"])
    g.host, g.c = ctx.hs.hosts[i], ctx.client(i)
    text = ctx.wait_console(g.c, vm["id"], "VIREO-ECHO resumed", timeout=30, send="echo resumed\n")
    assert "VIREO-GUEST-READY" not in text, "the guest booted again instead of resuming:\n" + text[-1500:]
    return v


def _last_backend(eng):
    """Whether this is the suite's last backend pass (PostgreSQL when the
    suite has one): the slow memory scenarios run there only; their rules
    are checked on both."""
    return eng.database is not None or not os.environ.get("VIREO_TEST_PG_URI")


def _suspend(ctx, eng, st, vm, g):
    """Suspend to disk and resume on the other host; then an engine killed
    while the host saves: the VM ends running, or suspended with a whole
    (LEGAL) memory volume - never a half one believed. (On the last backend
    only: it is slow.)"""
    sd_id, href = st["sd_id"], vm["href"]
    _fault(eng.request("POST", f"{href}/suspend", {"x": 1}), 400)
    if not _last_backend(eng):
        return
    was = eng.get(href)
    j = _job(eng, eng.request("POST", f"{href}/suspend"))
    assert j["action"] == "suspend", j
    v = eng.get(href)
    assert (v["status"], v["host_id"]) == ("suspended", None), v
    mem = _memory_volumes(ctx, sd_id)
    assert [(m["legality"], m["format"]) for m in mem] == [("LEGAL", "raw")], mem
    _fault(eng.request("POST", f"{href}/suspend"), 409, "suspended")
    _fault(eng.request("POST", f"{href}/snapshots", {}), 409, "suspended")
    _resumed(ctx, eng, g, vm, host=[h for h in st["hosts"] if h["id"] != was["host_id"]][0])
    assert g.read(1) == "one"
    assert _memory_volumes(ctx, sd_id) == []
    r = eng.request("POST", f"{href}/suspend")
    assert r.status == 202, r
    # killed while the host saves (the answer is lost): the restarted
    # engine asks the host until the save settled, then seals it
    eng.wait_for(lambda: "saving the memory" in eng.get(f"/api/jobs/{r.body['job']['id']}")["detail"],
                 timeout=30, interval=0.02, what="the save under way")
    eng.restart(sig=signal.SIGKILL)
    j = eng.wait_job(r.body["job"]["id"], timeout=180)
    v, mem = eng.get(href), _memory_volumes(ctx, sd_id)
    print(f"suspend across an engine kill: job {j['status']} ({j['detail']}), VM {v['status']}")
    if v["status"] == "suspended":
        assert j["status"] == "finished" and [m["legality"] for m in mem] == ["LEGAL"], (j, mem)
        _resumed(ctx, eng, g, vm, action="resume")  # (resume of a suspended VM is its start)
        assert _memory_volumes(ctx, sd_id) == []
    else:
        assert (j["status"], v["status"], mem) == ("failed", "up", []), (j, v, mem)
        assert v["host"] == g.host.name, v  # where it was resumed: it ran on
    assert g.read(1) == "one"


def _memory_snapshot(ctx, eng, sd_id, vm, g, snaps_url):
    """A snapshot with the running VM's memory: restored and started, the
    guest goes on from that moment (a write made after it is not there);
    deleting the snapshot removes its memory volume. (Last backend only.)"""
    if not _last_backend(eng):
        g.stop()
        return
    j = _job(eng, eng.request("POST", snaps_url, {"description": "mem", "persist_memorystate": True}))
    sm = [s for s in _snapshots(eng, vm["id"]) if s["description"] == "mem"][0]
    assert sm["persist_memorystate"] is True and sm["status"] == "ok", (sm, j)
    assert [m["legality"] for m in _memory_volumes(ctx, sd_id)] == ["LEGAL"]
    g.mark(8, "eight")
    g.stop()
    _job(eng, eng.request("POST", f"/api/snapshots/{sm['id']}/restore"))
    _resumed(ctx, eng, g, vm)
    assert [g.read(1), g.read(8)] == ["one", "-"]
    g.stop()
    _job(eng, eng.request("DELETE", f"/api/snapshots/{sm['id']}"))
    assert _memory_volumes(ctx, sd_id) == []


def _template_cut_by_the_spm(ctx, eng, st, vm, disk):
    """A template create whose copy the SPM's agent dies in (its qemu-img
    held half way, the agent killed): the job fails saying so and leaves
    nothing behind, no template, no volume, the VM and its disk usable
    (issue 9's faults). Returns the SPM's index and the volume copied."""
    spm_i = [h["id"] for h in st["hosts"]].index(eng.get(st["dc"]["href"])["spm_host"])
    h, vol = ctx.hs.hosts[spm_i], eng.get(f"/api/disks/{disk['id']}")["volume_id"]

    def volumes():
        with ctx.client(spm_i) as c:
            return sorted((v["image"], v["volume"]) for v in c.call("Volume.list", domain=st["sd_id"])["volumes"])
    before = volumes()
    r = eng.request("POST", "/api/templates", {"name": "tpl-cut", "vm": vm["id"]})
    spm_killed_under_copy(eng, h, vol, r, vm, disk)
    _fault(eng.request("GET", f"/api/templates/{r.body['id']}"), 404)
    assert "tpl-cut" not in [t["name"] for t in eng.list("templates")["templates"]]
    assert volumes() == before, "the cut template create left volumes behind"
    return spm_i, vol


def _templates(ctx, eng, st, vm, disk):
    """Templates from the stopped VM (its disk holds one, two, three, six):
    one cut by the SPM agent's death, one across an engine kill, thin and
    clone VMs, a sub-version and "latest"; what is refused. Returns the
    disks made (for the clean-up), the VMs and templates removed."""
    cl = st["cl"]
    _fault(eng.request("POST", "/api/templates", {"name": "tpl"}), 400, "vm is required")
    _fault(eng.request("POST", "/api/templates", {"name": "tpl", "vm": vm["id"], "cpu": 1}), 400)
    spm_i, vol = _template_cut_by_the_spm(ctx, eng, st, vm, disk)
    # The engine killed while the SPM copies: the restarted engine follows
    # the host's job to its end and the template is made.
    r = eng.request("POST", "/api/templates", {"name": "tpl", "vm": vm["id"], "description": "base"})
    assert r.status == 202, r
    pid = hold_convert(ctx.hs.hosts[spm_i], vol)
    eng.restart(sig=signal.SIGKILL)
    os.kill(pid, signal.SIGCONT)
    j = _job(eng, r)
    assert "resumed after an engine restart" in [s["description"] for s in j["steps"]], j
    assert j["object_id"] == r.body["id"], j
    tpl = eng.get(f"/api/templates/{r.body['id']}")
    assert tpl["status"] == "ok" and tpl["version_number"] == 1 and tpl["memory_mib"] == vm["memory_mib"], tpl
    tdisk = [d["disk"] for d in tpl["spec"]["disks"] if "disk" in d]
    assert len(tdisk) == 1 and tdisk[0] != disk["id"], tpl
    assert eng.get(f"/api/disks/{tdisk[0]}")["status"] == "ok"
    assert eng.get(vm["href"])["status"] == "down" and eng.get(f"/api/disks/{disk['id']}")["status"] == "ok"
    _fault(eng.request("POST", f"{vm['href']}/disks", {"disk": tdisk[0]}), 409, "belongs to template")
    _fault(eng.request("DELETE", f"/api/disks/{tdisk[0]}"), 409, "template")
    _fault(eng.request("POST", "/api/templates", {"name": "tpl", "vm": vm["id"]}), 409, "exists already")
    names = [t["name"] for t in eng.list("templates")["templates"]]
    assert sorted(names) == ["Blank", "tpl"], names

    # thin: its writes stay its own; a template VMs lean on is not removed
    j = _job(eng, eng.request("POST", f"/api/templates/{tpl['id']}/createvm", {"name": "thin1"}))
    assert j["action"] == "create_from_template", j
    thin = eng.get(f"/api/vms/{j['object_id']}")  # the job's object is the new VM
    assert thin["status"] == "down" and thin["memory_mib"] == vm["memory_mib"], thin
    g = Guest(ctx, eng, thin["id"])
    g.boot()
    _fault(eng.request("POST", "/api/templates", {"name": "tpl-x", "vm": thin["id"]}), 409, "down")
    assert [g.read(s) for s in (1, 6)] == ["one", "six"]
    g.mark(7, "seven")
    g.stop()
    _fault(eng.request("DELETE", f"/api/templates/{tpl['id']}"), 409, "thin1")

    # clone: independent, without the thin VM's write
    j = _job(eng, eng.request("POST", f"/api/templates/{tpl['id']}/createvm", {"name": "clone1", "clone": True}))
    clone = eng.get(f"/api/vms/{j['object_id']}")
    g = Guest(ctx, eng, clone["id"])
    g.boot()
    assert [g.read(s) for s in (3, 7)] == ["three", "-"]
    g.stop()
    _fault(eng.request("POST", f"/api/templates/{tpl['id']}/createvm", {"name": "clone1"}), 409)
    _fault(eng.request("POST", f"/api/templates/{tpl['id']}/createvm", {"name": "x", "version": "oldest"}), 400)

    # a sub-version from the thin VM; "latest" picks it
    r = eng.request("POST", "/api/templates", {"vm": thin["id"], "base_template": tpl["id"], "version_name": "v2"})
    _job(eng, r)
    v2 = eng.get(f"/api/templates/{r.body['id']}")
    assert v2["name"] == "tpl" and v2["version_number"] == 2 and v2["base_template_id"] == tpl["id"], v2
    j = _job(eng, eng.request("POST", f"/api/templates/{tpl['id']}/createvm", {"name": "latest1", "version": "latest"}))
    latest = eng.get(f"/api/vms/{j['object_id']}")
    g = Guest(ctx, eng, latest["id"])
    g.boot()
    assert g.read(7) == "seven"
    g.stop()
    _fault(eng.request("DELETE", f"/api/templates/{tpl['id']}"), 409)

    _pools(ctx, eng, cl, tpl)

    # clean-up: the VMs, their disks (a thin disk's chain with its link to
    # the template), then the templates, sub-version first
    made = []
    for x in (thin, clone, latest):
        made.append(_vm_disk(eng, x["id"]))
        eng.call("DELETE", x["href"], expect=204)
    for d in made:
        _job(eng, eng.request("DELETE", f"/api/disks/{d}"))
    _job(eng, eng.request("DELETE", f"/api/templates/{v2['id']}"))
    _job(eng, eng.request("DELETE", f"/api/templates/{tpl['id']}"))
    _fault(eng.request("DELETE", "/api/templates/00000000-0000-0000-0000-000000000000"), 409, "Blank")
    assert [t["name"] for t in eng.list("templates")["templates"]] == ["Blank"]
    return []


def _pools(ctx, eng, cl, tpl):
    """An automatic, stateless pool of the template: kept at its size with
    one VM prestarted; a user gets one VM (not two); what the guest writes
    is gone once it is back in the pool; shrinking to 0 removes the VMs."""
    base = {"name": "pl", "cluster_id": cl["id"], "template_id": tpl["id"]}
    _fault(eng.request("POST", "/api/vmpools", {**base, "size": 1, "prestarted": 2}), 400, "prestarted")
    _fault(eng.request("POST", "/api/vmpools", {**base, "size": -1}), 400)
    _fault(eng.request("POST", "/api/vmpools", {**base, "size": 1, "kind": "x"}), 400)
    pool = eng.call("POST", "/api/vmpools", {**base, "size": 2, "prestarted": 1, "stateless": True,
                                             "max_user_vms": 1}, expect=201)
    url = f"/api/vmpools/{pool['id']}"

    def ready():
        p = eng.get(url)
        states = sorted(v["status"] for v in p["vms"])
        return p if len(states) == 2 and states == ["down", "up"] else None
    p = eng.wait_for(ready, timeout=240, what="2 pool VMs, one of them up")
    assert sorted(v["name"] for v in p["vms"]) == ["pl-1", "pl-2"], p
    up = next(v for v in p["vms"] if v["status"] == "up")
    got = eng.call("POST", f"{url}/allocatevm")
    assert got["vm_id"] == up["id"] and got["start_job"] is None, got  # the prestarted one
    _fault(eng.request("POST", f"{url}/allocatevm"), 409, "maximum")
    assert eng.get(url)["allocated"] == 1
    _fault(eng.request("DELETE", url), 409, "size to 0")

    _fault(eng.request("POST", f"/api/vms/{up['id']}/snapshots", {}), 409, "stateless")
    g = Guest(ctx, eng, up["id"])
    g.attach()
    assert g.read(1) == "one"
    g.mark(9, "nine")
    eng.call("POST", f"{url}/releasevm", {"vm": up["id"]})
    eng.wait_for(lambda: all(v["user"] is None for v in eng.get(url)["vms"]), timeout=30, what="released")
    _fault(eng.request("POST", f"{url}/releasevm", {"vm": up["id"]}), 409, "not allocated")

    # the same VM, run again: the last run's writes are gone
    eng.wait_for(lambda: eng.get(f"/api/vms/{up['id']}")["status"] == "down", timeout=60, what="stopped")
    g2 = Guest(ctx, eng, up["id"])
    eng.wait_for(lambda: not [j for j in eng.list("jobs", max=200)["jobs"]
                              if j["object_id"] == up["id"] and j["status"] in ("pending", "running")],
                 timeout=60, what="no job on the VM")
    # started here, unless the pool thread prestarts it again first (then
    # the start is refused: it is no longer down)
    r = eng.request("POST", f"/api/vms/{up['id']}/start")
    if r.status == 202:
        j = eng.wait_job(r.body["job"]["id"], timeout=120)
        assert j["status"] == "finished", (j, eng.log_tail(40))
    else:
        _fault(r, 409, "only a down or suspended VM can be started")
    g2.attach()
    assert [g2.read(1), g2.read(9)] == ["one", "-"]

    # shrink to 0: free VMs are stopped and removed with their disks
    # the CLI sees the same pool and template, and shrinks the pool
    cli = CliSession(ctx, eng)
    out = cli.run("pool", "list").stdout
    assert "pl" in out and "automatic" in out, out
    assert json.loads(cli.run("pool", "show", "pl", "--json").stdout)["vm_count"] == 2
    assert "tpl" in cli.run("template", "list").stdout
    cli.run("pool", "create", "--name", "x", expect=2)  # no --cluster / --template
    disks = [_vm_disk(eng, v["id"]) for v in eng.get(url)["vms"]]
    cli.run("pool", "update", "pl", "--size", "0", "--prestarted", "0")
    eng.wait_for(lambda: eng.get(url)["vm_count"] == 0, timeout=180, what="the pool emptied")
    eng.wait_for(lambda: all(eng.request("GET", f"/api/disks/{d}").status == 404 for d in disks), timeout=120,
                 what="the pool VMs' disks removed")
    eng.call("DELETE", url, expect=204)


@one_backend(backend="sqlite")
def test_snapshots_and_templates(ctx):
    eng = Engine(ctx, poll_ms=1000, grace_s=6)
    eng.__enter__()
    sd_id, made = None, []
    try:
        st = storage_dc(ctx, eng, "snap")
        sd_id, cl = st["sd_id"], st["cl"]
        disk = make_disk(eng, sd_id, "data", 16 * MIB)
        made.append(disk["id"])
        v0 = disk["volume_id"]
        spec = ctx.vm_spec("vm-snap")
        vm = eng.create_vm("vm-snap", cl["id"], memory_mib=spec["memory_mib"], boot=spec["boot"],
                           disks=spec["disks"] + [{"disk": disk["id"]}])
        snaps_url = f"/api/vms/{vm['id']}/snapshots"

        # ---- refused, nothing changed: bad bodies, a VM whose writable
        # disk is a host path, a snapshot of another VM's path.
        _fault(eng.request("POST", snaps_url, {"description": "x", "memory": True}), 400)
        _fault(eng.request("POST", snaps_url, {"description": "x", "persist_memorystate": "yes"}), 400)
        _fault(eng.request("POST", snaps_url, {"description": "a\u0001b"}), 400, "control")
        _fault(eng.request("POST", snaps_url, {"description": 5}), 400)
        scratch = ctx.scratch_disk("snap-scratch.img")
        other = eng.create_vm("vm-path", cl["id"], memory_mib=64, disks=[{"path": scratch}])
        _fault(eng.request("POST", f"/api/vms/{other['id']}/snapshots", {}), 409, "given by path")
        jobs = eng.list("jobs")["total"]

        g = Guest(ctx, eng, vm["id"])
        g.boot()
        g.mark(1, "one")
        # quiesced through the guest's qemu-ga once it listens on its channel
        ctx.wait_console(g.c, vm["id"], "VIREO-GUEST-AGENT")
        _suspend(ctx, eng, st, vm, g)
        jobs = eng.list("jobs")["total"]
        j = _job(eng, eng.request("POST", snaps_url, {"description": "s1"}))
        assert j["action"] == "snapshot_create" and j["object_id"] == vm["id"], j
        s1 = _snapshots(eng, vm["id"])[0]
        assert s1["description"] == "s1" and s1["status"] == "ok" and s1["type"] == "regular", s1
        assert s1["volumes"] == {disk["id"]: v0} and s1["quiesced"] is True, s1
        assert s1["config"]["memory_mib"] == spec["memory_mib"], s1
        d = eng.get(f"/api/disks/{disk['id']}")
        v1 = d["volume_id"]
        assert v1 != v0 and d["format"] == "cow" and d["status"] == "ok", d
        assert f"images/{disk['id']}/{v1}" in g.host.virsh("dumpxml", "vm-snap")
        assert eng.list("jobs")["total"] == jobs + 1  # the snapshot
        g.mark(2, "two")
        # Without its guest agent the guest cannot freeze: the snapshot is
        # still taken, crash-consistent, and a warning event says why.
        ctx.wait_console(g.c, vm["id"], "VIREO-GA stopped", send="gastop\n")
        _job(eng, eng.request("POST", snaps_url, {"description": "s2"}))
        g.mark(3, "three")
        s2 = next(s for s in _snapshots(eng, vm["id"]) if s["description"] == "s2")
        assert s2["quiesced"] is False, s2
        warn = [e for e in eng.events() if e["object_id"] == vm["id"] and "not quiesced" in e["message"]]
        assert len(warn) == 1 and warn[0]["severity"] == "warning" and "'s2'" in warn[0]["message"], warn
        # Listed in the order taken, also within one second (seq).
        s2 = _snapshots(eng, vm["id"])[1]
        assert [s["description"] for s in _snapshots(eng, vm["id"])][:2] == ["s1", "s2"], _snapshots(eng, vm["id"])
        assert s2["volumes"] == {disk["id"]: v1}, s2

        # ---- live merges: s1 (v0 <- v1, an intermediate layer), then s2
        # (the active layer: the disk pivots back onto v0, raw again).
        _job(eng, eng.request("DELETE", f"/api/snapshots/{s1['id']}"))
        left = _snapshots(eng, vm["id"])
        assert [s["id"] for s in left] == [s2["id"]] and left[0]["volumes"] == {disk["id"]: v0}, left
        _job(eng, eng.request("DELETE", f"/api/snapshots/{s2['id']}"))
        assert _snapshots(eng, vm["id"]) == []
        d = eng.get(f"/api/disks/{disk['id']}")
        assert d["volume_id"] == v0 and d["format"] == "raw", d
        assert [g.read(s) for s in (1, 2, 3)] == ["one", "two", "three"]

        # ---- the engine killed right after accepting a live snapshot: after
        # its restart the job ends (finished or failed), the disk's recorded
        # leaf is the volume the VM runs on, and no stray layer is left.
        def consistent(j):
            """The disk's recorded leaf is the volume the VM runs on, and
            the domain holds exactly the layers the engine knows."""
            d = eng.get(f"/api/disks/{disk['id']}")
            devs = {x["target"]: x for x in g.c.call("VM.get", uuid=vm["id"])["devices"] if x["kind"] == "disk"}
            assert devs["vdb"]["path"].endswith("/" + d["volume_id"]), (devs["vdb"], d, j)
            owned = {v for sn in _snapshots(eng, vm["id"]) for v in sn["volumes"].values()} | {d["volume_id"]}
            vols = ctx.client(0).call("Volume.list", domain=sd_id)["volumes"]
            assert {v["volume"] for v in vols if v["image"] == disk["id"]} == owned, (vols, owned, j)

        r = eng.request("POST", snaps_url, {"description": "crash"})
        assert r.status == 202, r
        eng.restart(sig=signal.SIGKILL)
        j = eng.wait_job(r.body["job"]["id"], timeout=180)
        assert j["status"] in ("finished", "failed"), j
        consistent(j)
        print(f"snapshot across an engine crash: job {j['status']} ({j['detail']})")
        # ---- and right after accepting a live merge (of the active layer,
        # over a write made after the snapshot): the merge ends either way,
        # the chain is one the engine and the domain agree on, and the
        # guest still reads what it wrote.
        _job(eng, eng.request("POST", snaps_url, {"description": "m1"}))
        g.mark(12, "twelve")  # a slot nothing later reads (the template copies it)
        m1 = next(s for s in _snapshots(eng, vm["id"]) if s["description"] == "m1")
        r = eng.request("DELETE", f"/api/snapshots/{m1['id']}")
        assert r.status == 202, r
        eng.restart(sig=signal.SIGKILL)
        j = eng.wait_job(r.body["job"]["id"], timeout=180)
        assert j["status"] in ("finished", "failed"), j
        consistent(j)
        assert g.read(12) == "twelve"
        print(f"live merge across an engine crash: job {j['status']} ({j['detail']})")
        for sn in _snapshots(eng, vm["id"]):
            _job(eng, eng.request("DELETE", f"/api/snapshots/{sn['id']}"))
        assert eng.get(f"/api/disks/{disk['id']}")["volume_id"] == v0

        # ---- s3, a write after it, then a stopped VM previews s3.
        _job(eng, eng.request("POST", snaps_url, {"description": "s3"}))
        s3 = _snapshots(eng, vm["id"])[0]
        v3 = eng.get(f"/api/disks/{disk['id']}")["volume_id"]
        assert s3["volumes"] == {disk["id"]: v0}, s3
        g.mark(4, "four")
        _fault(eng.request("POST", f"/api/snapshots/{s3['id']}/preview"), 409, "stop it first")
        g.stop()
        _job(eng, eng.request("POST", f"/api/snapshots/{s3['id']}/preview"))
        snaps = {s["type"]: s for s in _snapshots(eng, vm["id"])}
        assert snaps["regular"]["status"] == "in_preview", snaps
        assert snaps["preview_backup"]["volumes"] == {disk["id"]: v3}, snaps
        assert eng.get(f"/api/disks/{disk['id']}")["volume_id"] not in (v0, v3)
        _fault(eng.request("POST", snaps_url, {"description": "no"}), 409, "previewing")
        _fault(eng.request("DELETE", f"/api/snapshots/{s3['id']}"), 409, "previewing")
        _fault(eng.request("POST", f"/api/snapshots/{snaps['preview_backup']['id']}/preview"), 409)
        g.boot()
        assert [g.read(s) for s in (1, 3, 4)] == ["one", "three", "-"]
        g.mark(5, "five")  # written in the preview: undo drops it
        _fault(eng.request("POST", f"/api/snapshots/{s3['id']}/undo"), 409, "stop it first")
        g.stop()
        _job(eng, eng.request("POST", f"/api/snapshots/{s3['id']}/undo"))
        assert [s["status"] for s in _snapshots(eng, vm["id"])] == ["ok"]
        g.boot()
        assert [g.read(s) for s in (1, 4, 5)] == ["one", "four", "-"]
        g.stop()

        # ---- restore s3: the write after it is gone for good; s3 stays.
        _job(eng, eng.request("POST", f"/api/snapshots/{s3['id']}/restore"))
        assert [(s["id"], s["status"]) for s in _snapshots(eng, vm["id"])] == [(s3["id"], "ok")]
        g.boot()
        assert [g.read(s) for s in (2, 4)] == ["two", "-"]
        g.mark(6, "six")
        g.stop()

        # ---- clones: as in s3 (one, two, three; not six) and as the VM is
        # now (CLI), each disk a flat independent volume; a running VM or a
        # snapshot of another VM refused.
        clone_url = f"{vm['href']}/clone"
        _fault(eng.request("POST", clone_url, {"name": "c-x", "snapshot": MISSING}), 400, "no snapshot")
        _fault(eng.request("POST", clone_url, {"name": "c-x", "colour": 1}), 400)
        _fault(eng.request("POST", clone_url, {"name": "vm-snap"}), 409)
        j = _job(eng, eng.request("POST", clone_url, {"name": "c-s3", "snapshot": s3["id"]}))
        c_s3 = eng.get(f"/api/vms/{j['object_id']}")
        out = CliSession(ctx, eng).run("vm", "clone", "vm-snap", "--name", "c-now", "--wait", "--json").stdout
        c_now = json.loads(out)
        assert c_now["name"] == "c-now" and c_now["status"] == "down", c_now
        assert eng.get(vm["href"])["status"] == "down"
        for c in (c_s3, c_now):
            cd = eng.get(f"/api/disks/{_vm_disk(eng, c['id'])}")
            made.append(cd["id"])
            info = ctx.client(0).call("Volume.info", domain=sd_id, image=cd["id"], volume=cd["volume_id"])
            assert (info["parent"].strip("0-"), info["legality"], cd["status"]) == ("", "LEGAL", "ok"), info
        assert c_s3["memory_mib"] == s3["config"]["memory_mib"], c_s3
        cg = Guest(ctx, eng, c_s3["id"])
        cg.boot()
        _fault(eng.request("POST", f"{c_s3['href']}/clone", {"name": "c-y"}), 409, "down")
        assert [cg.read(s) for s in (1, 2, 3, 6)] == ["one", "two", "three", "-"]
        cg.stop()
        for c in (c_s3, c_now):
            eng.call("DELETE", c["href"], expect=204)

        # ---- a cold delete merges with qemu-img: one raw volume is left.
        _job(eng, eng.request("DELETE", f"/api/snapshots/{s3['id']}"))
        d = eng.get(f"/api/disks/{disk['id']}")
        assert d["volume_id"] == v0 and d["format"] == "raw" and _snapshots(eng, vm["id"]) == [], d
        vols = ctx.client(0).call("Volume.list", domain=sd_id)["volumes"]
        assert [v["volume"] for v in vols if v["image"] == disk["id"]] == [v0], vols
        g.boot()
        assert [g.read(s) for s in (1, 2, 3, 4, 6)] == ["one", "two", "three", "-", "six"]
        _memory_snapshot(ctx, eng, sd_id, vm, g, snaps_url)

        # ---- the answers fit the OpenAPI document.
        from harness import openapi
        with open(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs",
                               "openapi.json")) as f:
            doc = json.load(f)
        _job(eng, eng.request("POST", snaps_url, {"description": "doc"}))
        sid = _snapshots(eng, vm["id"])[0]["id"]
        out = CliSession(ctx, eng).run("snapshot", "list", "--search", "vm=vm-snap").stdout
        assert "doc" in out and sid in out, out
        for path in (snaps_url, f"/api/snapshots/{sid}", "/api/snapshots"):
            r = eng.request("GET", path)
            openapi.validate_response(doc, "GET", path, r.status, json.dumps(r.body).encode())
        _job(eng, eng.request("DELETE", f"/api/snapshots/{sid}"))

        eng.call("DELETE", other["href"], expect=204)
        made += _templates(ctx, eng, st, vm, disk)
        eng.call("DELETE", vm["href"], expect=204)
        leave_storage(eng, sd_id, made)
    except BaseException:
        eng.close(ok=False)
        raise
    eng.__exit__(None, None, None)
    scrub_domain(ctx, sd_id)
