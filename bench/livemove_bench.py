#!/usr/bin/env python3
"""Live storage migration, side by side with bare libvirt in one run (the
machine is shared and noisy, so ratios matter, not absolute numbers). One
harness host with sanlock, two posixfs data domains (the harness's shared
ext4 and one of the benchmark's own), one engine on SQLite, and the test
guest running with a raw preallocated disk of N MiB full of random data
(so nothing is skipped as zeroes), moved back and forth, alternately

  1. by Vireo: POST /api/disks/ID/move while the VM runs, timed until GET
     of its job says finished: the SPM makes the target volume, the host's
     agent mirrors the disk (libvirt block copy, REUSE_EXT) and pivots, the
     engine switches the disk row and the SPM removes the source;
  2. by bare libvirt: `virsh blockcopy --reuse-external --wait --pivot`
     of the same disk on the same host to a file pre-made on the other
     domain's file system like the SPM makes ours (`qemu-img create -o
     preallocation=falloc`, not timed), timed around the virsh process;
     then the disk goes back onto Vireo's volume the same way (not timed).

and reports the median time of each and the ratio Vireo/virsh.

usage: bench/livemove_bench.py [--build build] [--guest build/guest] [--mib 256] [--runs 3]
Run as root after scripts/setup (takes the harness lock like the tests)."""

import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
sys.path.insert(0, HERE)
from benchlib import job_done  # noqa: E402
from migration_bench import guest_vm_spec  # noqa: E402
from storage_bench import two_domains, volume_path  # noqa: E402

NAME = "lmbench"


def by_engine(eng, disk_id, to_sd):
    t0 = time.monotonic()
    r = eng.call("POST", f"/api/disks/{disk_id}/move", {"storage_domain": to_sd}, expect=202)
    job_done(eng, r["job"]["id"], interval=0.02)
    return time.monotonic() - t0


def blockcopy(h, dst):
    h.virsh("blockcopy", NAME, "vdb", dst, "--reuse-external", "--format", "raw", "--wait", "--pivot",
            timeout=600)


def by_virsh(h, vol, bare, size):
    """Copy the disk (running on vol) to bare and pivot, timed; then back
    onto vol, so that the engine's view holds again."""
    h.run(["qemu-img", "create", "-q", "-f", "raw", "-o", "preallocation=falloc", bare, str(size)], check=True)
    t0 = time.monotonic()
    blockcopy(h, bare)
    dt = time.monotonic() - t0
    blockcopy(h, vol)
    h.run(["rm", "-f", bare], check=True)
    return dt


def bench(eng, h, sd_ids, dirs, disk, mib, runs):
    """runs moves each way; dirs: each domain's directory on the host."""
    vireo, bare = [], []
    at = 0  # the index in sd_ids of the domain the disk is on
    for _ in range(runs):
        vireo.append(by_engine(eng, disk["id"], sd_ids[1 - at]))
        at = 1 - at
        vol = volume_path(h, sd_ids[at], disk)
        if vol not in h.virsh("dumpxml", NAME):
            raise RuntimeError(f"the VM does not run on {vol} after the move")
        # the bare copy goes to the other domain's file system, as Vireo's did
        bare.append(by_virsh(h, vol, os.path.join(dirs[sd_ids[1 - at]], "lmbench-bare.raw"), mib << 20))
    v, b = statistics.median(vireo), statistics.median(bare)
    print(f"live move of a {mib} MiB disk: vireo median {v:.2f} s ({mib / v:.0f} MiB/s; runs "
          f"{', '.join(f'{x:.2f}' for x in vireo)}), bare virsh blockcopy --wait --pivot median {b:.2f} s "
          f"({mib / b:.0f} MiB/s; runs {', '.join(f'{x:.2f}' for x in bare)}); vireo/virsh time = {v / b:.2f}x")


def make_disk(eng, h, sd_id, alias, mib, fill):
    r = eng.call("POST", "/api/disks", {"alias": alias, "storage_domain": sd_id, "provisioned_size": mib << 20,
                                         "format": "raw", "sparse": False}, expect=202)
    job_done(eng, r["job"]["id"])
    d = eng.get(f"/api/disks/{r['id']}")
    if fill:  # real data, so neither side can skip zeroes
        h.run(["dd", "if=/dev/urandom", f"of={volume_path(h, sd_id, d)}", "bs=1M", f"count={mib}",
               "conv=notrunc,fsync", "status=none"], check=True, timeout=600)
    return d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--guest", default="build/guest")
    ap.add_argument("--mib", type=int, default=256)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with two_domains(os.path.abspath(args.build), 1, max(2048, 4 * args.mib), "lmbench") as (hs, eng, st, sd2_id):
        h = hs.hosts[0]
        spec = guest_vm_spec(hs, os.path.abspath(args.guest))
        disk = make_disk(eng, h, st["sd_id"], "lmbench-d", args.mib, True)
        dirs = {}
        for sd in (st["sd_id"], sd2_id):  # a 1 MiB disk on each domain finds its directory
            d = make_disk(eng, h, sd, "lmbench-dir-" + sd[:8], 1, False)
            dirs[sd] = os.path.dirname(os.path.dirname(os.path.dirname(volume_path(h, sd, d))))
        spec["disks"] = spec["disks"] + [{"disk": disk["id"]}]
        vm = eng.create_vm(NAME, st["cl"]["id"], **spec)
        eng.call("POST", f"/api/vms/{vm['id']}/start", expect=202)
        eng.wait_status("vms", vm["id"], "up", timeout=120)
        bench(eng, h, (st["sd_id"], sd2_id), dirs, disk, args.mib, args.runs)


if __name__ == "__main__":
    main()
