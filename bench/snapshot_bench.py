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

usage: bench/snapshot_bench.py [--build build] [--guest build/guest] [--runs 5]
Run as root after scripts/setup and scripts/build-guest (takes the harness
lock like the tests)."""

import argparse
import os
import shutil
import statistics
import sys
import time
from types import SimpleNamespace

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
from benchlib import job_done  # noqa: E402
from harness.engine import Engine  # noqa: E402
from harness.engine_storage import make_disk, storage_dc  # noqa: E402
from harness.hosts import HostSet  # noqa: E402


def timed_job(eng, method, path, body=None):
    """Seconds from the request to its job's end (polled every 20 ms)."""
    t0 = time.monotonic()
    r = eng.request(method, path, body)
    if r.status != 202:
        raise RuntimeError(f"{method} {path}: {r}")
    job_done(eng, r.body["job"]["id"], timeout=300, interval=0.02)
    return time.monotonic() - t0


def timed(h, argv):
    t0 = time.monotonic()
    h.run(argv, check=True)
    return time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--guest", default=None)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    guest = os.path.abspath(args.guest or os.path.join(build, "guest"))
    agent = [os.path.join(build, "src", "agent", "vireo-agent"), "--sanlock-io-timeout", "2"]
    with HostSet(n=2, agent_cmd=agent, shared_fs_mb=2048) as hs:
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
            mount = next(os.path.join(h.storage_root, c) for c in os.listdir(h.storage_root))
            scratch = os.path.join(mount, sd_id, "bench-virsh.qcow2")
            snaps = f"/api/vms/{vm['id']}/snapshots"
            t = {"vireo-snap": [], "virsh-snap": [], "vireo-merge": [], "virsh-merge": []}
            for i in range(args.runs):
                t["vireo-snap"].append(timed_job(eng, "POST", snaps, {"description": f"run {i}"}))
                sid = eng.get(snaps)["snapshots"][0]["id"]
                t["vireo-merge"].append(timed_job(eng, "DELETE", f"/api/snapshots/{sid}"))
                t["virsh-snap"].append(timed(h, ["virsh", "snapshot-create-as", "bench-snap", "--disk-only",
                                                 "--atomic", "--no-metadata", "--diskspec",
                                                 f"vda,snapshot=external,file={scratch}"]))
                t["virsh-merge"].append(timed(h, ["virsh", "blockcommit", "bench-snap", "vda", "--active",
                                                  "--pivot", "--wait"]))
                h.run(["rm", "-f", scratch], check=True)
            med = {k: statistics.median(v) for k, v in t.items()}
            print(f"runs: {args.runs} each, medians (all: {t})")
            print(f"live snapshot: vireo {med['vireo-snap'] * 1000:.0f} ms, virsh {med['virsh-snap'] * 1000:.0f} ms,"
                  f" ratio {med['vireo-snap'] / med['virsh-snap']:.2f}x (goal <= 1.1x)")
            print(f"live merge (active layer): vireo {med['vireo-merge'] * 1000:.0f} ms, virsh"
                  f" {med['virsh-merge'] * 1000:.0f} ms, ratio {med['vireo-merge'] / med['virsh-merge']:.2f}x")
            eng.vm_action(vm["id"], "stop")
            bench_thin(eng, cl, sd_id, args.runs)


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
