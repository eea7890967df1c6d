#!/usr/bin/env python3
"""Snapshot benchmarks, side by side with virsh in one run (the machine is
shared and noisy: ratios matter, not absolute numbers). Two harness hosts,
a posixfs data domain on the harness's shared ext4, one engine on SQLite,
one running guest with a 64 MiB engine disk it has written to.

  1. Live snapshot: POST /api/vms/ID/snapshots until its job is finished
     (the SPM makes a qcow2 layer with its .meta and sanlock lease, the
     VM's host switches the disk onto it with one atomic libvirt snapshot,
     the engine records it) vs `virsh snapshot-create-as --disk-only
     --atomic --no-metadata` of the same disk of the same VM onto a file on
     the same file system (goal: <= 1.1x).
  2. Live merge of the active layer: DELETE of that snapshot until its job
     is finished (block commit + pivot on the VM's host, then the SPM drops
     the layer) vs `virsh blockcommit --active --pivot --wait` of the virsh
     layer.

  3. Thin VM from a template: POST /api/templates/ID/createvm until its
     job is finished, for a template with a 1 GiB and a 10 GiB disk (the
     layer is a qcow2 header over the template volume: the time must not
     follow the template's size).

Runs alternate (Vireo, virsh, Vireo, ...), so both see the same machine.

usage: bench/snapshot_bench.py [--build build] [--guest build/guest] [--runs 5] [--poll]
       [--compare BUILD]
Run as root after scripts/setup and scripts/build-guest (takes the harness
lock like the tests)."""

import argparse
import os
import shutil
import signal
import statistics
import sys
import time
from types import SimpleNamespace

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
from benchlib import job_done, wait  # noqa: E402
from harness.engine import Engine  # noqa: E402
from harness.engine_storage import make_disk, storage_dc  # noqa: E402
from harness.hosts import HostSet  # noqa: E402


def last_event_id(eng):
    ev = eng.get("/api/events?max=1")["events"]
    return ev[0]["id"] if ev else 0


def timed_job(eng, method, path, body=None, poll=False):
    """Seconds from the request to its job's end. The end is the job's own
    event ("... done", written just before the job is marked finished),
    waited for with the events long poll (GET /api/events?wait=), so no
    polling interval is measured; poll=True polls the job every 20 ms instead (the first
    runs' method, which adds ~10 ms on average to Vireo's side only)."""
    after = last_event_id(eng)
    t0 = time.monotonic()
    r = eng.request(method, path, body)
    if r.status != 202:
        raise RuntimeError(f"{method} {path}: {r}")
    job_id = r.body["job"]["id"]
    if poll:
        job_done(eng, job_id, timeout=300, interval=0.02)
        return time.monotonic() - t0
    deadline = t0 + 300
    while True:
        evs = eng.get("/api/events", params={"search": f"after={after} and message=*done", "wait": "10"},
                      timeout=40)["events"]
        if evs:
            t = time.monotonic() - t0
            break
        if eng.get(f"/api/jobs/{job_id}")["status"] in ("failed", "cancelled") or time.monotonic() > deadline:
            raise RuntimeError(f"job {job_id}: {eng.get(f'/api/jobs/{job_id}')}")
    job_done(eng, job_id, timeout=30)  # not timed: it must have finished
    return t


def timed(h, argv):
    t0 = time.monotonic()
    h.run(argv, check=True)
    return time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--guest", default=None)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--compare", metavar="BUILD", help="then the same under BUILD's agents and engine (thin VMs"
                    " not measured)")
    ap.add_argument("--poll", action="store_true", help="poll the jobs every 20 ms (the first runs' method)")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    guest = os.path.abspath(args.guest or os.path.join(build, "guest"))
    agent = [os.path.join(build, "src", "agent", "vireo-agent"), "--sanlock-io-timeout", "2"]
    with HostSet(n=2, agent_cmd=agent, shared_fs_mb=2048, lock_timeout=3600) as hs:
        gdir = os.path.join(hs.shared_dir, "guest")
        os.makedirs(gdir, exist_ok=True)
        for f in ("vmlinux", "initrd.img", "cmdline"):
            shutil.copyfile(os.path.join(guest, f), os.path.join(gdir, f))
            os.chmod(os.path.join(gdir, f), 0o644)
        with open(os.path.join(gdir, "cmdline")) as f:
            cmdline = f.read().strip()
        eng = Engine(binary=os.path.join(build, "src", "engine", "vireo-engine"), pki_dir=hs.pki_dir,
                     poll_ms=1000, grace_s=5, debug=False)
        with eng:
            st = storage_dc(SimpleNamespace(hs=hs), eng, "bench")
            cl, sd_id = st["cl"], st["sd_id"]
            d = make_disk(eng, sd_id, "bench", 64 << 20)
            vm = eng.create_vm("bench-snap", cl["id"], memory_mib=256,
                               boot={"kernel": os.path.join(gdir, "vmlinux"),
                                     "initrd": os.path.join(gdir, "initrd.img"), "cmdline": cmdline},
                               disks=[{"disk": d["id"]}])
            job_done(eng, eng.call("POST", f"/api/vms/{vm['id']}/start", expect=202)["job"]["id"], timeout=120)
            vm = eng.wait_status("vms", vm["id"], "up", timeout=90)
            h = next(x for x in hs.hosts if x.name == vm["host"])
            warm_up(eng, vm)
            phases = [(args.build, None)] + ([(args.compare, os.path.abspath(args.compare))] if args.compare else [])
            for name, other in phases:
                if other:
                    switch_builds(hs, eng, vm, other)
                print(f"== {name}")
                bench_snap(eng, h, vm, sd_id, args.runs, args.poll)
            if args.compare:
                return
            eng.vm_action(vm["id"], "stop")
            bench_thin(eng, cl, sd_id, args.runs)


def bench_snap(eng, h, vm, sd_id, runs, poll):
    """Live snapshot and merge of vm's disk, Vireo and virsh alternating."""
    mount = next(os.path.join(h.storage_root, c) for c in os.listdir(h.storage_root))
    scratch = os.path.join(mount, sd_id, "bench-virsh.qcow2")
    snaps = f"/api/vms/{vm['id']}/snapshots"
    t = {"vireo-snap": [], "virsh-snap": [], "vireo-merge": [], "virsh-merge": [], "virsh-snap-quiesce": []}
    for i in range(runs):
        t["vireo-snap"].append(timed_job(eng, "POST", snaps, {"description": f"run {i}"}, poll))
        sid = eng.get(snaps)["snapshots"][0]["id"]
        t["vireo-merge"].append(timed_job(eng, "DELETE", f"/api/snapshots/{sid}", poll=poll))
        t["virsh-snap"].append(timed(h, ["virsh", "snapshot-create-as", "bench-snap", "--disk-only",
                                         "--atomic", "--no-metadata", "--diskspec",
                                         f"vda,snapshot=external,file={scratch}"]))
        t["virsh-merge"].append(timed(h, ["virsh", "blockcommit", "bench-snap", "vda", "--active",
                                          "--pivot", "--wait"]))
        h.run(["rm", "-f", scratch], check=True)
        # Vireo quiesces through the guest agent when there is one (this
        # guest runs qemu-ga); virsh above does not: the same with --quiesce
        t0 = time.monotonic()
        q = h.run(["virsh", "snapshot-create-as", "bench-snap", "--disk-only", "--atomic", "--no-metadata",
                   "--quiesce", "--diskspec", f"vda,snapshot=external,file={scratch}"])
        if q.returncode == 0:  # (no guest agent: not measured)
            t["virsh-snap-quiesce"].append(time.monotonic() - t0)
            h.run(["virsh", "blockcommit", "bench-snap", "vda", "--active", "--pivot", "--wait"], check=True)
        h.run(["rm", "-f", scratch], check=True)
    med = {k: statistics.median(v) if v else float("nan") for k, v in t.items()}
    print(f"runs: {runs} each, medians (all: {t})")
    print(f"live snapshot: vireo {med['vireo-snap'] * 1000:.0f} ms, virsh {med['virsh-snap'] * 1000:.0f} ms,"
          f" ratio {med['vireo-snap'] / med['virsh-snap']:.2f}x (goal <= 1.1x); virsh --quiesce"
          f" {med['virsh-snap-quiesce'] * 1000:.0f} ms, ratio {med['vireo-snap'] / med['virsh-snap-quiesce']:.2f}x")
    print(f"live merge (active layer): vireo {med['vireo-merge'] * 1000:.0f} ms, virsh"
          f" {med['virsh-merge'] * 1000:.0f} ms, ratio {med['vireo-merge'] / med['virsh-merge']:.2f}x", flush=True)


def switch_builds(hs, eng, vm, build):
    """The same hosts, VM and database under another build's agents and
    engine (--compare: before and after in one harness run, so both see
    the same machine); the VM keeps running; one untimed snapshot and
    delete once the hosts and the SPM are back."""
    hs.agent_cmd = [os.path.join(build, "src", "agent", "vireo-agent"), "--sanlock-io-timeout", "2"]
    for x in hs.hosts:
        x.kill_agent(signal.SIGTERM)
        x.agent = None
        x.start_agent(wait=True)
    eng.binary = os.path.join(build, "src", "engine", "vireo-engine")
    eng.restart()
    for host in eng.get("/api/hosts")["hosts"]:
        eng.wait_status("hosts", host["id"], "up", timeout=120)
    eng.wait_status("vms", vm["id"], "up", timeout=120)
    warm_up(eng, vm)


def warm_up(eng, vm):
    """Once the guest's qemu-ga answers (every timed snapshot then
    quiesces, as a guest with an agent always is), one untimed snapshot and
    delete (the SPM elected, caches warm)."""
    wait(lambda: eng.get(f"/api/vms/{vm['id']}").get("guest_info"), 120, "the guest agent's first report", 0.5)
    snaps = f"/api/vms/{vm['id']}/snapshots"
    job_done(eng, eng.call("POST", snaps, {"description": "warm-up"}, expect=202)["job"]["id"], timeout=180)
    sid = eng.get(snaps)["snapshots"][0]["id"]
    job_done(eng, eng.call("DELETE", f"/api/snapshots/{sid}", expect=202)["job"]["id"], timeout=180)


def bench_thin(eng, cl, sd_id, runs):
    """createvm (thin) from templates of 1 and 10 GiB, alternating."""
    tmpls = {}
    for gib in (1, 10):
        d = make_disk(eng, sd_id, f"t{gib}", gib << 30)
        vm = eng.create_vm(f"src{gib}", cl["id"], memory_mib=64, disks=[{"disk": d["id"]}])
        r = eng.request("POST", "/api/templates", {"name": f"tpl{gib}", "vm": vm["id"]})
        if r.status != 202:
            raise RuntimeError(f"template: {r}")
        job_done(eng, r.body["job"]["id"])
        tmpls[gib] = r.body["id"]
    t = {1: [], 10: []}
    for i in range(runs):
        for gib in (1, 10):
            t0 = time.monotonic()
            r = eng.request("POST", f"/api/templates/{tmpls[gib]}/createvm", {"name": f"thin{gib}-{i}"})
            job_done(eng, r.body["job"]["id"], timeout=120, interval=0.02)
            t[gib].append(time.monotonic() - t0)
    m1, m10 = statistics.median(t[1]), statistics.median(t[10])
    print(f"thin VM from template: 1 GiB {m1 * 1000:.0f} ms, 10 GiB {m10 * 1000:.0f} ms, ratio {m10 / m1:.2f}x"
          f" (goal: ~1x; all: {t})")


if __name__ == "__main__":
    main()
