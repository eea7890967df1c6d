"""Live migration (docs/migration.md) between the two harness hosts, whose
libvirtd listen with TLS (the harness CA, each host's own certificate) so
that the agents migrate over qemu+tls:// with QEMU's stream encrypted too,
the agent's default: the agent's VM.migrate job (progress, cancel,
refusals, limits, the destination adopting the VM) on one booted guest,
then the engine's migrate action on SQLite and, when VIREO_TEST_PG_URI is
set, PostgreSQL."""

import contextlib
import json
import os
import re
import socket
import subprocess
import time

from harness.engine import Engine
from harness.libvirt_tls import TLS_PORT
from harness.rpc import expect_error
from harness.wsclient import WebSocket
from test_console import _vnc_session

INVALID_PARAMS, ERR_NO_VM, ERR_BAD_STATE = -32602, -32001, -32006
READY = "VIREO-GUEST-READY"


def mig_hosts(ctx):
    """The shared harness hosts, with libvirtd listening with TLS (turned
    on here if the run started them without; harness/libvirt_tls.py) and
    agents migrating over it (their default transport)."""
    ctx.hs.use_libvirt_tls()
    return ctx.hs


def job_end(c, job_id, timeout=120):
    """Poll Job.get until the job has ended; returns it."""
    deadline = time.monotonic() + timeout
    while True:
        j = c.call("Job.get", id=job_id)
        if j["state"] != "running":
            return j
        assert time.monotonic() < deadline, f"job {job_id} still running: {j}"
        time.sleep(0.2)


def listed(c, uuid):
    return [v for v in c.call("VM.list")["vms"] if v["uuid"] == uuid]


def _listening(h, port):
    return h.run(["ss", "-Hltn", f"sport = :{port}"], check=True).stdout.strip()


def test_agent_migrates_a_running_guest(ctx):
    """One booted guest for every agent-side check: TLS, refusals, a move
    there and back, cancel, failures, the outgoing limit, the stall ladder."""
    hs = mig_hosts(ctx)
    # libvirtd offers TLS only: nothing listens on the plain TCP port.
    for h in hs.hosts:
        assert _listening(h, TLS_PORT) and not _listening(h, 16509), h.run(["ss", "-Hltn"]).stdout
    src, dst = ctx.client(0), ctx.client(1)
    src.call("Host.subscribe", jobs=True)
    dst.call("Host.subscribe")
    vm = ctx.boot(src)
    uuid = vm["uuid"]
    _refusals(ctx, src, uuid)
    ctx.wait_console(src, uuid, "VIREO-ECHO before-move", send="echo before-move\n")
    r = src.call("VM.migrate", uuid=uuid, dest={"host": hs.hosts[1].name})
    assert r["dest_uri"] == f"qemu+tls://{hs.hosts[1].name}/system", r
    # While it runs the VM is busy: another change waits, then is refused.
    started = src.wait_event(lambda p: p.get("uuid") == uuid and p.get("event") == "Migration")
    assert started["detail"] == "Started" and started["dest"] == hs.hosts[1].name, started
    job = job_end(src, r["job"])
    assert job["state"] == "succeeded", (job, hs.hosts[0].log_tail(40))
    assert job["kind"] == "VM.migrate" and job["progress"] == 100, job
    assert f"migrated to {hs.hosts[1].name}" in job["detail"], job
    # Source: the domain is gone and no longer listed; destination: adopted.
    assert listed(src, uuid) == []
    expect_error(ERR_NO_VM, src.call, "VM.get", uuid=uuid)
    there = dst.call("VM.get", uuid=uuid)
    assert there["owned"] is True and there["state"] == "running", there
    assert there["spec"]["name"] == vm["name"], there
    ev = dst.wait_event(lambda p: p.get("uuid") == uuid and p.get("event") == "Started")
    assert ev["detail"] == "Migrated" and ev["owned"] is True, ev
    gone = src.wait_event(lambda p: p.get("uuid") == uuid and p.get("event") == "Stopped")
    assert gone["detail"] == "Migrated", gone
    done = src.wait_event(lambda p: p.get("uuid") == uuid and p.get("event") == "Migration"
                          and p.get("detail") != "Started")
    assert done["detail"] == "Succeeded", done
    # The same guest goes on: its console answers on the new host and it
    # did not boot again there.
    text = ctx.wait_console(dst, uuid, "VIREO-ECHO after-move", send="echo after-move\n")
    assert READY not in text, text[-800:]
    assert [v["name"] for v in listed(dst, uuid)] == [vm["name"]]
    assert vm["name"] not in hs.hosts[0].virsh("list", "--name").split()
    # ... and can come back, by the destination agent's own job.
    back = dst.call("VM.migrate", uuid=uuid, dest={"host": hs.hosts[0].name, "address": hs.hosts[0].addr},
                    bandwidth_mibps=200, auto_converge=True, compression=True)
    j = job_end(dst, back["job"])
    assert j["state"] == "succeeded", j
    ctx.wait_console(src, uuid, "VIREO-ECHO home-again", send="echo home-again\n")
    assert listed(dst, uuid) == []
    _cancel_and_failures(ctx, src, dst, vm)
    _outgoing_limit(ctx, uuid)
    src, dst = ctx.client(0), ctx.client(1)  # the source's agent restarted
    _policy_ladder(ctx, src, dst, uuid)
    # A stopped VM cannot migrate: nothing is left to move.
    dst.call("VM.destroy", uuid=uuid)
    expect_error(ERR_NO_VM, dst.call, "VM.migrate", uuid=uuid, dest={"host": hs.hosts[0].name})


def _refusals(ctx, src, uuid):
    """Bad params and an unknown VM: refused, nothing started."""
    hs = ctx.hs
    other = hs.hosts[1].name
    bad = [
        dict(dest={"host": other}, extra=1),
        dict(dest={"host": other, "port": 1}),
        dict(dest={"host": "vh1/system?x"}),
        dict(dest={"host": "a\"b"}),
        dict(dest={"host": "<vh1>"}),
        dict(dest={"host": other, "address": "1.2.3.4/x"}),
        dict(dest={"host": other, "storage_root": "relative/dir"}),
        dict(dest={"host": other, "storage_root": "/run/../etc"}),
        dict(dest="vh1"),
        dict(),
        dict(dest={"host": other}, bandwidth_mibps=0),
        dict(dest={"host": other}, bandwidth_mibps="52"),
        dict(dest={"host": other}, policy="fastest"),
        dict(dest={"host": other}, stall_timeout_s=1),
        dict(dest={"host": other}, compression="yes"),
        dict(dest={"host": hs.hosts[0].name}),  # this host
    ]
    for params in bad:
        e = expect_error(INVALID_PARAMS, src.call, "VM.migrate", uuid=uuid, **params)
        assert e.message, params
    expect_error(ERR_NO_VM, src.call, "VM.migrate", uuid="6f1c1a8e-0000-4000-8000-000000000001",
                 dest={"host": other})
    assert [v["state"] for v in listed(src, uuid)] == ["running"]


def _cancel_and_failures(ctx, src, dst, vm):
    """Cancel, an unreachable or untrusted destination and the timeout
    policy keep the VM running on the source. The cancelled migration also
    shows that TLS carries it: libvirtd's TLS connection from the source
    and QEMU's migration with tls-creds."""
    hs = ctx.hs
    uuid, other = vm["uuid"], hs.hosts[1].name
    # A migration slow enough to cancel: 1 MiB/s for 256 MiB of guest.
    r = src.call("VM.migrate", uuid=uuid, dest={"host": other}, bandwidth_mibps=1)
    e = expect_error(ERR_BAD_STATE, src.call, "VM.migrate", uuid=uuid, dest={"host": other})
    assert "busy with VM.migrate" in e.message, e.message
    deadline = time.monotonic() + 30
    while "remaining" not in src.call("Job.get", id=r["job"])["detail"]:
        assert time.monotonic() < deadline, src.call("Job.get", id=r["job"])
        time.sleep(0.3)
    mid = src.call("Job.get", id=r["job"])
    assert mid["state"] == "running" and 0 <= mid["progress"] < 100, mid
    # The destination holds the incoming VM, paused, meanwhile.
    assert [v["state"] for v in listed(dst, uuid)] == ["paused"], listed(dst, uuid)
    # TLS carries it: the source's libvirtd is connected to the destination's
    # TLS port, and the source QEMU migrates with TLS credentials.
    peers = hs.hosts[1].run(["ss", "-Htn", "state", "established", f"sport = :{TLS_PORT}"], check=True).stdout
    assert hs.hosts[0].addr + ":" in peers, peers
    qmp = json.loads(hs.hosts[0].virsh("qemu-monitor-command", vm["name"],
                                       '{"execute": "query-migrate-parameters"}'))["return"]
    assert qmp.get("tls-creds"), qmp
    src.call("Job.cancel", id=r["job"])
    job = job_end(src, r["job"])
    assert job["state"] == "cancelled", job
    assert "keeps running on this host" in job["detail"], job
    assert [v["state"] for v in listed(src, uuid)] == ["running"]
    deadline = time.monotonic() + 15
    while listed(dst, uuid):
        assert time.monotonic() < deadline, listed(dst, uuid)
        time.sleep(0.3)
    ctx.wait_console(src, uuid, "VIREO-ECHO still-here", send="echo still-here\n")
    # A destination libvirt cannot be reached (no libvirtd on the harness's
    # root namespace, refused at once; an unresolvable name would wait 10 s
    # for DNS): the job fails, the VM stays.
    r = src.call("VM.migrate", uuid=uuid, dest={"host": "vireo-root"})
    job = job_end(src, r["job"])
    assert job["state"] == "failed" and "vireo-root" in job["detail"], job
    assert [v["state"] for v in listed(src, uuid)] == ["running"]
    # The destination's libvirtd reached by a name its certificate does not
    # carry (another name of its address in the source's /etc/hosts): the
    # source's libvirtd does not trust it, the job fails saying so, the VM
    # stays.
    alias = other + "-alias"
    hosts_file = os.path.join(hs.hosts[0].dir, "hosts")  # bind-mounted: keep its inode
    with open(hosts_file) as f:
        saved = f.read()
    with open(hosts_file, "a") as f:
        f.write(f"{hs.hosts[1].addr}\t{alias}\n")
    try:
        r = src.call("VM.migrate", uuid=uuid, dest={"host": alias})
        job = job_end(src, r["job"])
    finally:
        with open(hosts_file, "r+") as f:
            f.write(saved)
            f.truncate()
    assert job["state"] == "failed" and "certificate" in job["detail"].lower(), job
    assert alias in job["detail"], job
    assert [v["state"] for v in listed(src, uuid)] == ["running"] and listed(dst, uuid) == []
    # Policy: a migration not done within its timeout is aborted; the VM stays.
    r = src.call("VM.migrate", uuid=uuid, dest={"host": other}, bandwidth_mibps=1, timeout_s=3)
    job = job_end(src, r["job"], timeout=60)
    assert job["state"] == "failed" and "not done within its timeout of 3 s" in job["detail"], job
    assert "keeps running on this host" in job["detail"], job
    assert [v["state"] for v in listed(src, uuid)] == ["running"]


def _outgoing_limit(ctx, uuid):
    """--max-outgoing-migrations (default 2, or one per CPU if fewer): a
    further migration is refused at once, and goes once a slot is free.
    The booted guest is the slow one (~74 MiB to send: over a minute at
    1 MiB/s); the source's agent runs with the limit 1 meanwhile (its
    guests keep running across the restarts)."""
    hs = ctx.hs
    h = hs.hosts[0]
    h.kill_agent()
    h.start_agent(cmd=h.agent_args() + ["--max-outgoing-migrations", "1"], wait=True)
    try:
        src = ctx.client(0)
        other = hs.hosts[1].name
        assert [v["state"] for v in listed(src, uuid)] == ["running"]
        quick = src.call("VM.create", ctx.vm_spec(boot={"order": ["hd"]}, memory_mib=128))
        first = src.call("VM.migrate", uuid=uuid, dest={"host": other}, bandwidth_mibps=1)["job"]
        e = expect_error(ERR_BAD_STATE, src.call, "VM.migrate", uuid=quick["uuid"], dest={"host": other})
        assert "already sends 1 migration(s), its limit" in e.message, e.message
        assert [v["state"] for v in listed(src, quick["uuid"])] == ["running"]
        src.call("Job.cancel", id=first)
        assert job_end(src, first)["state"] == "cancelled"
        r = src.call("VM.migrate", uuid=quick["uuid"], dest={"host": other})
        assert job_end(src, r["job"])["state"] == "succeeded"
        assert [v["state"] for v in listed(src, uuid)] == ["running"]
        assert listed(src, quick["uuid"]) == []
    finally:
        h.kill_agent()
        h.start_agent(wait=True)


def _watch(c, job_id, want, timeout=50):
    """Poll Job.get until its detail contains want (returned) or it ends."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        j = c.call("Job.get", id=job_id)
        if want in j["detail"] or j["state"] != "running":
            return j
        time.sleep(0.25)
    return c.call("Job.get", id=job_id)


def _policy_ladder(ctx, src, dst, uuid):
    """The policies' ladders on a guest dirtying memory faster than the
    copy (guest command `dirty 24`: 24 MiB of random data rewritten over and
    over; 8 MiB/s). minimal_downtime, a step per 2 s without progress
    (convergence_step_s): the downtime limit doubles (in the job's detail),
    and at stall_timeout_s the policy aborts the migration: the VM runs on
    the source. suspend_workload (auto-convergence off, so only its pause
    can end it), a step per second: four doublings, then the guest paused
    to finish; it lands running on the destination, still dirtying. (post_copy
    cannot run here: this sandbox's QEMU says "Postcopy is not supported",
    no userfaultfd.)"""
    hs = ctx.hs
    ctx.wait_console(src, uuid, "VIREO-DIRTY 24", send="dirty 24\n")
    r = src.call("VM.migrate", uuid=uuid, dest={"host": hs.hosts[1].name}, bandwidth_mibps=8, max_downtime_ms=50,
                 stall_timeout_s=8, convergence_step_s=2, timeout_s=45)
    j = _watch(src, r["job"], "downtime limit 100 ms")
    assert j["state"] == "running" and "downtime limit 100 ms" in j["detail"], (j, hs.hosts[0].log_tail(20))
    j = job_end(src, r["job"], timeout=60)
    # 8 s without a new lowest "remaining"; a dirtying guest's remaining
    # may dip to a new low now and then, so the total limit backs it up
    assert j["state"] == "failed" and ("aborted: no progress for 8 s" in j["detail"] or
                                       "aborted: not done within its timeout of 45 s" in j["detail"]), j
    assert "keeps running on this host" in j["detail"], j
    assert listed(src, uuid) and listed(dst, uuid) == []
    assert src.call("VM.get", uuid=uuid)["state"] == "running"
    r = src.call("VM.migrate", uuid=uuid, dest={"host": hs.hosts[1].name}, bandwidth_mibps=8, max_downtime_ms=50,
                 policy="suspend_workload", auto_converge=False, convergence_step_s=1, stall_timeout_s=60)
    j = job_end(src, r["job"], timeout=120)
    assert j["state"] == "succeeded", (j, hs.hosts[0].log_tail(20))
    assert "the guest paused to finish" in j["detail"], j
    assert listed(src, uuid) == [] and dst.call("VM.get", uuid=uuid)["state"] == "running"
    before = ctx.console(dst, uuid).count("VIREO-DIRTY stopped")
    ctx.wait_console(dst, uuid, "VIREO-DIRTY stopped", count=before + 1, send="dirty 0\n")
    ctx.wait_console(dst, uuid, "VIREO-ECHO after-ladder", send="echo after-ladder\n")


# ------------------------------------------------------------------ engine

@contextlib.contextmanager
def engine_on(ctx, backend):
    """A fresh engine on `backend` with dc1/cl1 holding both harness hosts
    (up) and cl2 holding a host that never comes up."""
    saved = getattr(ctx, "engine_db", "sqlite")
    ctx.engine_db = backend
    try:
        with Engine(ctx) as eng:
            assert (eng.database is not None) == (backend == "postgresql"), eng.database
            dc = eng.create_dc("dc1")
            cl = eng.create_cluster("cl1", dc["id"])
            cl2 = eng.create_cluster("cl2", dc["id"])
            hosts = [eng.create_host(h.name, h.addr, cl["id"], port=h.port) for h in ctx.hs.hosts]
            far = eng.create_host("far", "10.77.0.250", cl2["id"])
            for h in hosts:
                eng.wait_status("hosts", h["id"], "up", timeout=30)
            yield eng, cl, hosts, far
    finally:
        ctx.engine_db = saved


def backends():
    return ["sqlite"] + (["postgresql"] if os.environ.get("VIREO_TEST_PG_URI") else [])


def on_hosts(ctx, uuid):
    """Indexes of the harness hosts whose agent lists the VM."""
    out = []
    for i in range(len(ctx.hs.hosts)):
        with ctx.client(i) as c:
            if any(v["uuid"] == uuid for v in c.call("VM.list")["vms"]):
                out.append(i)
    return out


def cli(ctx, eng, *args, expect=0):
    env = dict(os.environ, VIREO_CONFIG_DIR=eng.state_dir + "/cli")
    if not os.path.isdir(env["VIREO_CONFIG_DIR"]):
        os.makedirs(env["VIREO_CONFIG_DIR"])
        cli(ctx, eng, "login", "--url", f"https://127.0.0.1:{eng.port}", "--ca", eng.ca,
            "--password-file", eng.password_file)
    p = subprocess.run([ctx.cli, *args], capture_output=True, text=True, env=env, timeout=180)
    assert p.returncode == expect, (args, p.returncode, p.stdout, p.stderr)
    return p.stdout + p.stderr


def booked_mib(eng, host):
    """The scheduler's booking of a host's memory, as /metrics shows it."""
    r = eng.request("GET", "/metrics")
    m = re.search(r'^vireo_host_memory_committed_bytes\{[^}]*host="%s"[^}]*\} (\S+)$' % re.escape(host), r.text, re.M)
    assert m, r.text
    return int(float(m.group(1))) >> 20


def placed_mib(eng, host):
    """The memory of the VMs a host runs (or starts), by the engine's view."""
    return sum(v["memory_mib"] for v in eng.list("vms", search=f"host={host}", max=1000)["vms"]
               if v["status"] != "down")


def migrate(eng, vm_id, body=None):
    r = eng.request("POST", f"/api/vms/{vm_id}/migrate", body if body is not None else {})
    assert r.status == 202 and r.headers.get("location") == r.body["job"]["href"], r
    return r.body["job"]["id"]


def agent_logs(ctx, n=30):
    """Both agents' last lines, for a failure's message (a migration that
    hangs or a host that stops answering is told there)."""
    return "\n".join(f"--- {h.name}:\n{h.log_tail(n)}" for h in ctx.hs.hosts)


def _graphics(ctx, i, vm_id):
    """The VM's VNC device as host i's agent reports it (listen, port)."""
    with ctx.client(i) as c:
        return next(d for d in c.call("VM.get", uuid=vm_id)["devices"] if d["kind"] == "graphics")


def _display_console(ctx, eng, vm_id, i, g):
    """VNC listening on host i's display network address g["listen"]:
    asked directly it wants a password (never open on the network), and a
    console through the engine's ticketed proxy works, its bytes coming
    over host i's eth1 (the display network's NIC), not through its agent."""
    with socket.create_connection((g["listen"], int(g["port"])), timeout=10) as s:
        f = s.makefile("rwb")
        assert f.read(12).startswith(b"RFB 003."), g
        f.write(b"RFB 003.008\n")
        f.flush()
        assert list(f.read(f.read(1)[0])) == [2], g  # VNC authentication, nothing else
    wire = f"/sys/class/net/{ctx.hs.hosts[i].veth}n1/statistics/rx_bytes"  # what host i sent on eth1
    with open(wire) as f:
        before = int(f.read())
    t = eng.call("POST", f"/api/vms/{vm_id}/ticket", {"console": "graphics"})
    ws = WebSocket.open(eng, t["url"], protocols=["binary"])
    try:
        w, h, update = _vnc_session(ws, t["ticket"])
        assert w > 0 and h > 0 and update[0] == 0, (w, h, update)
        time.sleep(0.5)  # the rest of the framebuffer update on its way
    finally:
        ws.close()
    with open(wire) as f:
        assert int(f.read()) - before >= 4096, "the console's bytes did not come over the display network"


def test_engine_migrates_cancels_and_refuses(ctx):
    mig_hosts(ctx)
    ctx.hs.ensure_extra_nics(1)  # eth1 for the migration network, in the hosts' first report
    for backend in backends():
        with engine_on(ctx, backend) as (eng, cl, hosts, far):
            spec = ctx.vm_spec("mig-" + backend[:2])
            vm = eng.create_vm(spec["name"], cl["id"], boot=spec["boot"], disks=spec["disks"], vnc=True)
            idle = eng.create_vm("idle-" + backend[:2], cl["id"], boot=spec["boot"], disks=spec["disks"])
            nets = backend == "sqlite"  # networks once: the hosts' state, not the database's
            if nets:
                # A network with the migration and display roles (RHV's
                # migration and display networks) on both hosts' eth1, with
                # addresses of its own, and the VM's NIC on a QoS profile of
                # it. The engine reaches it through the wire's bridge.
                for i in range(len(ctx.hs.hosts)):
                    with ctx.client(i) as c:
                        running = c.call("Host.getNetworks")["networks"]
                        if running:
                            c.call("Host.setupNetworks", networks={n: {"remove": True} for n in running},
                                   check_connectivity=False)
                mnet = eng.call("POST", "/api/networks", {"name": "mignet", "datacenter": cl["datacenter_id"],
                                                          "roles": ["migration", "display"]}, expect=201)
                subprocess.run(["ip", "addr", "replace", "10.78.0.1/24", "dev", "vireotest1"], check=True)
                eng.call("POST", f"/api/clusters/{cl['id']}/networks", {"network": mnet["id"], "required": False},
                         expect=201)
                for n, h in enumerate(hosts):
                    eng.wait_for(lambda: "eth1" in [x["name"] for x in eng.get(f"/api/hosts/{h['id']}/nics")["nics"]],
                                 30, what=f"eth1 of {h['name']} reported")
                    r = eng.call("POST", f"/api/hosts/{h['id']}/setupnetworks", {"attachments": [
                        {"network": "mignet", "nic": "eth1", "boot_protocol": "static",
                         "address": f"10.78.0.{11 + n}/24"}]}, expect=202)
                    assert eng.wait_job(r["job"]["id"], timeout=120)["status"] == "finished"
                prof = eng.call("POST", "/api/vnicprofiles", {"name": "mig-qos", "network": mnet["id"],
                                                              "qos": {"inbound": {"average": 4000}}}, expect=201)
                mig_mac = eng.call("POST", f"/api/vms/{vm['id']}/nics", {"profile": prof["id"]}, expect=201)["mac"]
            eng.vm_action(vm["id"], "start")
            vm = eng.wait_status("vms", vm["id"], "up", timeout=60)
            src = next(i for i, h in enumerate(ctx.hs.hosts) if h.name == vm["host"])
            dst = 1 - src
            with ctx.client(src) as c:
                ctx.wait_console(c, vm["id"], READY)
            # The display role: VNC listens on the host's display network
            # address (loopback without one) and the console proxy goes there.
            g = _graphics(ctx, src, vm["id"])
            assert g["listen"] == (f"10.78.0.{11 + src}" if nets else "127.0.0.1"), g
            if nets:
                _display_console(ctx, eng, vm["id"], src, g)

            # Refusals: 4xx, and nothing changed.
            def jobs_of(vm_id):
                return [j for j in eng.list("jobs", max=1000)["jobs"]
                        if j.get("object_id") == vm_id and j.get("action") == "migrate"]
            for body, status in [({"host": "no-such-host"}, 404), ({"host": vm["host"]}, 409),
                                 ({"host": vm["host_id"]}, 409), ({"host": far["id"]}, 409),
                                 ({"host": "far"}, 409), ({"host": 5}, 400), ({"hots": "vh1"}, 400),
                                 ({"bandwidth_mibps": 0}, 400)]:
                r = eng.request("POST", f"/api/vms/{vm['id']}/migrate", body)
                assert r.status == status, (body, r)
                assert r.body["fault"]["detail"], r
            r = eng.request("POST", f"/api/vms/{idle['id']}/migrate", {})
            assert r.status == 409 and "down" in r.body["fault"]["detail"], r
            now = eng.vm(vm["id"])
            assert (now["status"], now["host_id"]) == ("up", vm["host_id"]), now
            assert jobs_of(vm["id"]) == [] and jobs_of(idle["id"]) == []
            assert on_hosts(ctx, vm["id"]) == [src]

            # The scheduler picks the only other host; the VM moves there,
            # its stream over the migration network: the bytes go through
            # the destination's eth1 (its root-side veth), not its eth0.
            def sent_to(h, veth):
                with open(f"/sys/class/net/{veth}/statistics/tx_bytes") as f:
                    return int(f.read())
            dh = ctx.hs.hosts[dst]
            wires = (dh.veth, f"{dh.veth}n1") if nets else (dh.veth,)
            before = [sent_to(dh, w) for w in wires]
            job_id = migrate(eng, vm["id"])
            assert eng.vm(vm["id"])["status"] in ("migratingfrom", "up")
            job = eng.wait_job(job_id, timeout=120)
            landed = time.monotonic()
            assert job["status"] == "finished", (job, eng.log_tail(40), agent_logs(ctx))
            assert job["progress"] == 100 and job["description"] == f"Migrate VM '{vm['name']}'", job
            assert [s["description"] for s in job["steps"]][:2] == [
                "scheduling", f"migrating to host '{ctx.hs.hosts[dst].name}'"], job
            assert "migrated to" in job["detail"], job
            moved = eng.vm(vm["id"])
            assert (moved["status"], moved["host"]) == ("up", ctx.hs.hosts[dst].name), moved
            assert on_hosts(ctx, vm["id"]) == [dst]
            sent = [(sent_to(dh, w) - b) >> 20 for w, b in zip(wires, before)]  # MiB
            if nets:
                assert sent[1] >= 16 and sent[0] < 4, (wires, sent)
            with ctx.client(dst) as c:
                there = c.call("VM.get", uuid=vm["id"])
                assert there["state"] == "running"
                if nets:  # the engine re-sent the NIC's QoS: the destination shapes its tap
                    tap = next(d["ifname"] for d in there["devices"] if d.get("mac") == mig_mac)
                    eng.wait_for(lambda: "tbf" in dh.run(["tc", "qdisc", "show", "dev", tap]).stdout, 10,
                                 what=f"mig-qos's shaping on {tap} of {dh.name}")
                # the same devices at the same addresses as recorded at its start
                def addrs(devs):
                    return sorted((d.get("kind"), d.get("path") or d.get("mac"), repr(d.get("address")))
                                  for d in devs or [])
                assert addrs(there["devices"]) == addrs(moved["devices"]) and moved["devices"], (there, moved)
                ctx.wait_console(c, vm["id"], "VIREO-ECHO engine-moved", send="echo engine-moved\n")
            if nets:  # the consoles moved to the destination's display address
                g = _graphics(ctx, dst, vm["id"])
                assert g["listen"] == f"10.78.0.{11 + dst}", g
                _display_console(ctx, eng, vm["id"], dst, g)
            # several monitor polls of both hosts since it landed (the checks
            # above mostly took that long already): neither misreads it
            _at_least(landed, 2.5)
            # (up again: the destination's health watcher may briefly call a VM
            # whose migration took over --monitor-timeout not responding)
            again = eng.wait_status("vms", vm["id"], "up", timeout=60)
            assert again["host_id"] == moved["host_id"], again
            msgs = [e["message"] for e in eng.events() if e["object_id"] == vm["id"]]
            assert any("migrated from host" in m for m in msgs), msgs
            assert not any("run twice" in m or " is down" in m for m in msgs), (msgs, eng.log_tail(40), agent_logs(ctx))

            # Cancel a slow one: it stays where it was, up. The cluster's
            # migration policy reaches the agent (its downtime limit), the
            # request's own bandwidth wins over the policy's.
            eng.call("PUT", f"/api/clusters/{cl['id']}",
                     {"migration_policy": {"max_downtime_ms": 777, "bandwidth_mibps": 900}}, expect=200)
            job_id = migrate(eng, vm["id"], {"host": ctx.hs.hosts[src].name, "bandwidth_mibps": 1})
            eng.wait_for(lambda: "remaining" in (eng.get(f"/api/jobs/{job_id}").get("detail") or ""),
                         timeout=30, what="migration under way")
            assert "downtime limit 777 ms" in eng.get(f"/api/jobs/{job_id}")["detail"], eng.get(f"/api/jobs/{job_id}")
            # The engine's view meanwhile (RHV's MigratingFrom / MigratingTo):
            # the VM on its source, migratingfrom, naming its destination;
            # the destination's incoming VMs list it; its agent holds the
            # incoming copy paused (libvirt: starting up), which the engine
            # neither adopts nor calls a second copy (events checked after
            # the cancel, when the job no longer owns the VM).
            mid = eng.vm(vm["id"])
            to = ctx.hs.hosts[src].name
            assert (mid["status"], mid["host"], mid["migrating_to_host"], mid["migrating_to_host_id"]) == \
                ("migratingfrom", ctx.hs.hosts[dst].name, to, hosts[src]["id"]), mid
            assert [v["id"] for v in eng.list("vms", search=f"migrating_to={to}")["vms"]] == [vm["id"]]
            assert eng.list("vms", search=f"migrating_to={ctx.hs.hosts[dst].name}")["total"] == 0
            assert vm["id"] not in [v["id"] for v in eng.list("vms", search=f"host={to}")["vms"]]
            with ctx.client(src) as c:
                incoming = c.call("VM.get", uuid=vm["id"])
            assert incoming["state"] == "paused" and incoming.get("pause_reason") in ("starting", "migration"), \
                incoming
            # The destination's memory is booked for the VM while it streams
            # there (RHV's pending memory), also across that host's polls,
            # which recompute the booking from the VMs.
            assert booked_mib(eng, to) == placed_mib(eng, to) + vm["memory_mib"]
            time.sleep(2 * eng.poll_ms / 1000)
            assert booked_mib(eng, to) == placed_mib(eng, to) + vm["memory_mib"]
            r = eng.request("POST", f"/api/vms/{vm['id']}/shutdown")
            assert r.status == 409 and "migrating" in r.body["fault"]["detail"], r
            eng.call("POST", f"/api/jobs/{job_id}/cancel", {}, expect=200)
            job = eng.wait_job(job_id, timeout=60, status=("finished", "failed", "cancelled"))
            assert job["status"] == "cancelled", job
            after = eng.vm(vm["id"])
            assert (after["status"], after["host_id"], after["migrating_to_host"]) == ("up", moved["host_id"], None), \
                after
            assert on_hosts(ctx, vm["id"]) == [dst]
            time.sleep(3 * eng.poll_ms / 1000)  # the monitors' polls right after it, too
            msgs = [e["message"] for e in eng.events() if e["object_id"] == vm["id"]]
            assert not any("run twice" in m or "found running" in m for m in msgs), msgs
            assert booked_mib(eng, to) == placed_mib(eng, to)  # the booking ended with the migration

            # Engine killed mid-migration: the restarted engine follows the
            # agent's job again and records the destination.
            job_id = migrate(eng, vm["id"], {"host": ctx.hs.hosts[src].name, "bandwidth_mibps": 8})
            eng.wait_for(lambda: "remaining" in (eng.get(f"/api/jobs/{job_id}").get("detail") or ""),
                         timeout=30, what="migration under way")
            before = eng.get(f"/api/jobs/{job_id}")["detail"]
            eng.kill()
            eng.start()
            # it follows the agent's job again (a newer detail); that shown,
            # the rest of the migration need not crawl
            eng.wait_for(lambda: eng.get(f"/api/jobs/{job_id}").get("detail") != before, timeout=30,
                         what="the restarted engine following the migration")
            _hurry(ctx.hs.hosts[dst], vm["name"])
            job = eng.wait_job(job_id, timeout=120)
            landed = time.monotonic()
            assert job["status"] == "finished", (job, eng.log_tail(40))
            back = eng.wait_status("vms", vm["id"], "up", timeout=60)
            assert back["host"] == ctx.hs.hosts[src].name, back
            assert on_hosts(ctx, vm["id"]) == [src]

            if not nets:
                # On PostgreSQL the database's part ends here (the engine's
                # restart followed its job); the CLI and the agents' faults
                # below are the hosts' matters, run once, on SQLite.
                eng.stop_all_vms()
                continue
            # The CLI: refusals exit 1 with the engine's reason (a usage
            # error first: it logs in meanwhile); --wait follows the job and
            # shows the VM on its new host.
            cli(ctx, eng, "vm", "migrate", vm["name"], "--bandwidth-mibps", "x", expect=2)
            _at_least(landed, 5)  # see above: a slow migration's not-responding blip passes
            eng.wait_status("vms", vm["id"], "up", timeout=60)
            out = cli(ctx, eng, "vm", "migrate", vm["name"], "--host", "far", expect=1)
            assert "another cluster" in out, out
            out = cli(ctx, eng, "vm", "migrate", vm["name"], "--host", ctx.hs.hosts[dst].name, "--wait",
                      "--timeout", "120")
            assert f"host: {ctx.hs.hosts[dst].name}" in out, out
            assert on_hosts(ctx, vm["id"]) == [dst]
            eng.wait_status("vms", vm["id"], "up", timeout=60)

            # The source agent killed mid-migration (restarted, it reads its
            # job back as interrupted): the VM ends on exactly one host, and
            # the engine knows which (it asks both).
            job_id = migrate(eng, vm["id"], {"host": ctx.hs.hosts[src].name, "bandwidth_mibps": 8})
            eng.wait_for(lambda: "remaining" in (eng.get(f"/api/jobs/{job_id}").get("detail") or ""),
                         timeout=30, what="migration under way")
            ctx.hs.hosts[dst].kill_agent()
            ctx.hs.hosts[dst].start_agent(wait=True)
            _hurry(ctx.hs.hosts[dst], vm["name"])
            job = eng.wait_job(job_id, timeout=180)
            landed = time.monotonic()

            def settled():
                where = on_hosts(ctx, vm["id"])
                v = eng.vm(vm["id"])
                return len(where) == 1 and v["status"] == "up" and v["host"] == ctx.hs.hosts[where[0]].name
            eng.wait_for(settled, timeout=60, what=f"one copy, recorded where it runs (job: {job})")
            _at_least(landed, 5)
            _destination_agent_killed(ctx, eng, hosts, vm)
            _migration_network_cut(ctx, eng, cl, vm)
            eng.stop_all_vms()
            for i in range(len(ctx.hs.hosts)):
                with ctx.client(i) as c:
                    c.call("Host.setupNetworks", networks={"mignet": {"remove": True}}, check_connectivity=False)
            subprocess.run(["ip", "addr", "del", "10.78.0.1/24", "dev", "vireotest1"], check=False)


def _hurry(h, name):
    """A slow migration from host h whose fault was staged mid-way goes on
    at full speed (libvirt's migrate-setspeed on the source): what follows
    needs its end, not its crawl. It may have ended already: no check."""
    h.run(["virsh", "-c", "qemu:///system", "migrate-setspeed", name, "8192"])


def _at_least(t0, seconds):
    """Sleep until `seconds` have passed since t0 (monotonic), if not yet."""
    time.sleep(max(0.0, t0 + seconds - time.monotonic()))


def _destination_agent_killed(ctx, eng, hosts, vm):
    """The destination's agent SIGKILLed while a migration streams to it
    (docs/migration.md "Faults"): the engine stops hearing it, cancels the
    migration and fails the job naming that host; the VM runs on the
    source only, the engine says so, and once the agent is back the same
    migration succeeds."""
    hs = ctx.hs
    vm = eng.wait_status("vms", vm["id"], "up", timeout=60)
    src = next(i for i, h in enumerate(hs.hosts) if h.name == vm["host"])
    dst = 1 - src
    dname = hs.hosts[dst].name
    job_id = migrate(eng, vm["id"], {"host": dname, "bandwidth_mibps": 4})
    eng.wait_for(lambda: "remaining" in (eng.get(f"/api/jobs/{job_id}").get("detail") or ""),
                 timeout=30, what="migration under way")
    assert hs.hosts[dst].kill_agent() == -9
    try:
        job = eng.wait_job(job_id, timeout=60, status=("finished", "failed", "cancelled"))
    finally:
        hs.hosts[dst].start_agent(wait=True)
    assert job["status"] == "failed", (job, eng.log_tail(40))
    assert f"the destination host '{dname}' stopped answering" in job["detail"], job
    assert f"stays on host '{vm['host']}'" in job["detail"], job
    ev = eng.find_events(f"migration of VM '{vm['name']}' to host '{dname}' failed", vm["id"])
    assert ev and ev[0]["severity"] == "error", ev
    # One copy, on the source, and the engine records it there.
    assert on_hosts(ctx, vm["id"]) == [src]
    now = eng.wait_status("vms", vm["id"], "up", timeout=60)
    assert now["host"] == vm["host"], now
    with ctx.client(src) as c:
        assert c.call("VM.get", uuid=vm["id"])["state"] == "running"
        ctx.wait_console(c, vm["id"], "VIREO-ECHO stayed", send="echo stayed\n")
    # The destination's agent back, the migration goes through.
    eng.wait_status("hosts", hosts[dst]["id"], "up", timeout=60)
    job = eng.wait_job(migrate(eng, vm["id"], {"host": dname}), timeout=120)
    assert job["status"] == "finished", (job, eng.log_tail(40))
    assert on_hosts(ctx, vm["id"]) == [dst]
    assert eng.wait_status("vms", vm["id"], "up", timeout=60)["host"] == dname


def _migration_network_cut(ctx, eng, cl, vm):
    """The migration network cut under a migration (the destination's eth1
    wire down; the agents and libvirtd still talk over eth0): no progress,
    so the cluster policy's stall_timeout_s aborts it; the VM runs on the
    source alone, up, and the engine says so."""
    hs = ctx.hs
    eng.call("PUT", f"/api/clusters/{cl['id']}", {"migration_policy": {"stall_timeout_s": 5}}, expect=200)
    vm = eng.wait_status("vms", vm["id"], "up", timeout=60)
    src = next(i for i, h in enumerate(hs.hosts) if h.name == vm["host"])
    dh = hs.hosts[1 - src]
    job_id = migrate(eng, vm["id"], {"host": dh.name, "bandwidth_mibps": 4})
    # cut once memory streams (a cut during the stream's TLS handshake:
    # _handshake_cut below)
    eng.wait_for(lambda: re.search(r"\d+% of [1-9]\d* MiB", eng.get(f"/api/jobs/{job_id}").get("detail") or "")
                 and eng.get(f"/api/jobs/{job_id}")["progress"] >= 10, timeout=60, what="memory streaming")
    subprocess.run(["ip", "link", "set", f"{dh.veth}n1", "down"], check=True)
    try:
        job = eng.wait_job(job_id, timeout=90, status=("finished", "failed", "cancelled"))
    finally:
        subprocess.run(["ip", "link", "set", f"{dh.veth}n1", "up"], check=True)
    assert job["status"] == "failed" and "aborted: no progress for 5 s" in job["detail"], (job, agent_logs(ctx))
    # One copy, on the source (the destination's paused one is gone), up.
    eng.wait_for(lambda: on_hosts(ctx, vm["id"]) == [src], timeout=30, what="the incoming copy gone")
    now = eng.wait_status("vms", vm["id"], "up", timeout=60)
    assert now["host"] == vm["host"], now
    with ctx.client(src) as c:
        ctx.wait_console(c, vm["id"], "VIREO-ECHO still-here", send="echo still-here\n")
    _handshake_cut(ctx, eng, vm, src)


def _handshake_cut(ctx, eng, vm, src):
    """The migration network cut while the stream's TLS handshake is under
    way (docs/migration.md "An abort the stream does not answer"): the
    source's netfilter drops what the destination sends with data over the
    migration network, so TCP connects and the ClientHello goes, but the
    ServerHello never arrives (a wire set down before the stream connects
    fails libvirt's connect at once instead: no hang). QEMU reads the
    handshake blocking in its main loop, so libvirt's statistics and abort
    wait 30 s for its monitor; the agent takes that for no progress and, as
    no cancel can reach QEMU, cuts the stream itself: the job fails with the
    policy's reason and the cut within a minute (without the cut: never),
    the VM runs on the source alone, up, its console answering."""
    hs = ctx.hs
    sh, dh = hs.hosts[src], hs.hosts[1 - src]
    vm = eng.wait_status("vms", vm["id"], "up", timeout=60)
    rule = ["INPUT", "-s", f"10.78.0.{11 + (1 - src)}", "-p", "tcp", "--tcp-flags", "PSH", "PSH", "-j", "DROP"]
    sh.run(["iptables", "-I"] + rule, check=True)
    try:
        job_id = migrate(eng, vm["id"], {"host": dh.name, "bandwidth_mibps": 4})
        job = eng.wait_job(job_id, timeout=60, status=("finished", "failed", "cancelled"))
    finally:
        sh.run(["iptables", "-D"] + rule, check=True)
    assert job["status"] == "failed", (job, agent_logs(ctx))
    assert "aborted: no progress for 5 s" in job["detail"], job
    assert "the migration stream did not answer the abort and was cut" in job["detail"], job
    eng.wait_for(lambda: on_hosts(ctx, vm["id"]) == [src], timeout=30, what="the incoming copy gone")
    now = eng.wait_status("vms", vm["id"], "up", timeout=60)
    assert now["host"] == vm["host"], now
    with ctx.client(src) as c:
        assert c.call("VM.get", uuid=vm["id"])["state"] == "running"
        ctx.wait_console(c, vm["id"], "VIREO-ECHO after-the-cut", send="echo after-the-cut\n")
