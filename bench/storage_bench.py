#!/usr/bin/env python3
"""Storage benchmarks, side by side with the bare tools in one run (the
machine is shared and noisy, so ratios matter, not absolute numbers). Two
harness hosts with their own sanlock, a posixfs data domain on the
harness's shared ext4 (a loop device), one engine on SQLite.

  1. Disk copy: POST /api/disks/ID/copy of a raw disk full of data (the
     engine job follows the SPM's Volume.copy job: qemu-img convert plus
     the volume's metadata and lease) vs a bare `qemu-img convert -t none
     -T none` of the same volume on the same host and file system
     (goal: Vireo >= 0.95x the bare speed).
  2. Creating 100 thin (qcow2, sparse) disks through the REST API, all
     submitted at once, vs `qemu-img create -f qcow2` of 100 files on the
     SPM host: milliseconds per disk.
  3. SPM failover after the SPM host is lost (its sanlock and agent
     SIGKILLed) vs sanlock's own lease expiry measured by a bare sanlock
     client on the surviving host contending for a second resource the
     lost host held (goal: the engine's new SPM within 5 s of it).

usage: bench/storage_bench.py [--build build] [--copy-mib 512] [--runs 3]
Run as root after scripts/setup (takes the harness lock like the tests)."""

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
from benchlib import job_done, wait  # noqa: E402
from harness.engine import Engine  # noqa: E402
from harness.engine_storage import storage_dc  # noqa: E402
from harness.hosts import HostSet  # noqa: E402

IO_TIMEOUT = 2


def volume_path(h, sd_id, disk):
    """The disk's volume file as host h sees it."""
    conn = os.listdir(h.storage_root)
    for c in conn:
        p = os.path.join(h.storage_root, c, sd_id, "images", disk["id"], disk["volume_id"])
        if h.run(["test", "-e", p]).returncode == 0:
            return p
    raise RuntimeError(f"no volume file for disk {disk['id']} on {h.name}")


def second_domain(eng, hs, host_id, dc_id, work):
    """A second posixfs domain on an ext4 loop device of the benchmark's
    own (the harness shares one), attached to the data center."""
    img = os.path.join(work, "bench-sd2.img")
    with open(img, "wb") as f:
        f.truncate(8 << 30)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-E", "nodiscard", img], check=True)
    dev = subprocess.run(["losetup", "-f", "--show", img], check=True, capture_output=True,
                         text=True).stdout.strip()
    r = eng.call("POST", "/api/storagedomains", {
        "name": "bench-sd2", "type": "data", "storage_type": "posixfs", "storage_path": dev,
        "vfs_type": "ext4", "host": host_id, "critical_space_gib": 0}, expect=202)
    job_done(eng, r["job"]["id"])
    job_done(eng, eng.call("POST", f"/api/storagedomains/{r['id']}/attach", {"datacenter": dc_id},
                           expect=202)["job"]["id"])
    return r["id"], dev, img


def bench_copy(eng, hs, spm, sd_id, sd2_id, mib, runs):
    r = eng.call("POST", "/api/disks", {"alias": "bench-src", "storage_domain": sd_id,
                                         "provisioned_size": mib << 20, "format": "raw",
                                         "sparse": False}, expect=202)
    job_done(eng, r["job"]["id"])
    src = eng.get(f"/api/disks/{r['id']}")
    path = volume_path(spm, sd_id, src)
    # real data, so neither side can skip zeroes
    spm.run(["dd", "if=/dev/urandom", f"of={path}", "bs=1M", f"count={mib}", "conv=notrunc,fsync",
             "status=none"], check=True, timeout=600)
    # the bare copy goes where Vireo's goes: the second domain's file system
    sd2_dir = None
    for c in os.listdir(spm.storage_root):
        if spm.run(["test", "-d", os.path.join(spm.storage_root, c, sd2_id)]).returncode == 0:
            sd2_dir = os.path.join(spm.storage_root, c, sd2_id)
    bare_dst = os.path.join(sd2_dir, "bench-bare.raw")
    vireo, bare = [], []
    for _ in range(runs):
        t = time.monotonic()
        r = eng.call("POST", f"/api/disks/{src['id']}/copy", {"storage_domain": sd2_id}, expect=202)
        job_done(eng, r["job"]["id"])
        vireo.append(time.monotonic() - t)
        for d in eng.get("/api/disks", params={"max": 1000})["disks"]:
            if d["id"] != src["id"]:  # the copy: out of the next run's way
                job_done(eng, eng.call("DELETE", f"/api/disks/{d['id']}", expect=202)["job"]["id"])
        t = time.monotonic()
        spm.run(["qemu-img", "convert", "-t", "none", "-T", "none", "-O", "raw", path, bare_dst],
                check=True, timeout=600)
        bare.append(time.monotonic() - t)
        spm.run(["rm", "-f", bare_dst], check=True)
    v, b = statistics.median(vireo), statistics.median(bare)
    print(f"copy {mib} MiB: vireo {mib / v:.0f} MiB/s (median {v:.2f} s), bare qemu-img convert "
          f"{mib / b:.0f} MiB/s (median {b:.2f} s); vireo/bare speed = {b / v:.2f}x")
    return src


def bench_thin_disks(eng, spm, sd_id, n=100):
    t = time.monotonic()
    jobs = [eng.call("POST", "/api/disks", {"alias": f"thin-{i}", "storage_domain": sd_id,
                                            "provisioned_size": 1 << 30, "format": "cow",
                                            "sparse": True}, expect=202)["job"]["id"]
            for i in range(n)]
    for j in jobs:
        job_done(eng, j)
    vireo = time.monotonic() - t
    d = os.path.join(spm.storage_root, "bench-thin")
    spm.run(["mkdir", "-p", d], check=True)
    t = time.monotonic()
    for i in range(n):
        spm.run(["qemu-img", "create", "-q", "-f", "qcow2", "-o", "compat=1.1",
                 os.path.join(d, f"t{i}.qcow2"), "1G"], check=True)
    bare = time.monotonic() - t
    spm.run(["rm", "-rf", d], check=True)
    print(f"{n} thin disks: vireo {vireo * 1000 / n:.0f} ms/disk (REST, all submitted at once), "
          f"bare qemu-img create {bare * 1000 / n:.0f} ms/disk; ratio {vireo / bare:.2f}")


def bench_failover(eng, hs, hosts, dc_id, sd_id):
    d = eng.get(f"/api/datacenters/{dc_id}")
    spm_i = next(i for i, h in enumerate(hosts) if h["id"] == d["spm_host"])
    spm_h, other = hs.hosts[spm_i], hs.hosts[1 - spm_i]
    # sanlock's own view: a second resource in the domain's lockspace, held
    # by a process on the SPM host, contended for by a bare client on the
    # survivor; the survivor's sanlock grants it at the lease expiry.
    rel = None
    for c in os.listdir(spm_h.storage_root):
        if spm_h.run(["test", "-d", os.path.join(spm_h.storage_root, c, sd_id)]).returncode == 0:
            rel = os.path.join(c, sd_id, "dom_md", "bench.lease")
    spm_lease = os.path.join(spm_h.storage_root, rel)
    other_lease = os.path.join(other.storage_root, rel)
    spm_h.run(["truncate", "-s", "1M", spm_lease], check=True)
    spm_h.run(["sanlock", "direct", "init", "-r", f"{sd_id}:BENCH:{spm_lease}:0"], check=True)
    holder = spm_h.popen(["sanlock", "client", "command", "-r", f"{sd_id}:BENCH:{spm_lease}:0",
                          "-c", "/bin/sleep", "100000"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    wait(lambda: any("BENCH" in line for line in spm_h.sanlock("status").stdout.splitlines()
                     if line.startswith("r ") and not line.endswith("ADD")), 60, "BENCH lease held")
    got = {}

    def contend():
        while "sanlock" not in got:
            # sanlock's acquire waits for a silent owner's lease to expire
            p = other.run(["sanlock", "client", "command", "-r", f"{sd_id}:BENCH:{other_lease}:0",
                           "-c", "/bin/true"], timeout=400)
            if p.returncode == 0:
                got["sanlock"] = time.monotonic()
                return
            time.sleep(0.2)

    t0 = time.monotonic()
    spm_h.kill_sanlock()
    spm_h.kill_agent()
    holder.kill()
    th = threading.Thread(target=contend, daemon=True)
    th.start()
    wait(lambda: eng.get(f"/api/datacenters/{dc_id}")["spm_host"] == hosts[1 - spm_i]["id"], 400,
         "new SPM")
    engine_s = time.monotonic() - t0
    th.join(400)
    sanlock_s = got["sanlock"] - t0
    print(f"SPM failover after host loss: engine's new SPM after {engine_s:.1f} s, sanlock's own "
          f"lease expiry {sanlock_s:.1f} s (io_timeout {IO_TIMEOUT} s: 8 x io + 60 = {8 * IO_TIMEOUT + 60} s); "
          f"engine - sanlock = {engine_s - sanlock_s:+.1f} s")
    spm_h.start_sanlock()
    spm_h.start_agent(wait=True)


@contextlib.contextmanager
def two_domains(build, n, shared_fs_mb, tag, agent_args=()):
    """n harness hosts, an engine of the build on SQLite, data center `tag`
    with a domain on the harness's shared ext4 and a second one of the
    benchmark's own (second_domain): yields (hs, eng, storage_dc's
    answer, the second domain's id)."""
    agent = [os.path.join(build, "src", "agent", "vireo-agent"), "--io-timeout", "5", *agent_args]
    with HostSet(n=n, agent_cmd=agent, shared_fs_mb=shared_fs_mb) as hs:
        eng = Engine(binary=os.path.join(build, "src", "engine", "vireo-engine"),
                     pki_dir=hs.pki_dir, poll_ms=1000, grace_s=5, debug=False)
        with eng:
            st = storage_dc(hs, eng, tag)
            sd2_id, dev2, img2 = second_domain(eng, hs, st["hosts"][0]["id"], st["dc"]["id"], hs.workdir)
            try:
                yield hs, eng, st, sd2_id
            finally:
                eng.stop()
                hs.stop()
                subprocess.run(["losetup", "-d", dev2])
                os.unlink(img2) if os.path.exists(img2) else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--copy-mib", type=int, default=512)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    with two_domains(build, 2, 4096, "bench", ("--sanlock-io-timeout", str(IO_TIMEOUT))) as (hs, eng, st, sd2_id):
        dc, hosts, sd_id = st["dc"], st["hosts"], st["sd_id"]
        spm = hs.hosts[st["spm_i"]]
        print(f"domain attached, SPM {spm.name}")
        bench_copy(eng, hs, spm, sd_id, sd2_id, args.copy_mib, args.runs)
        bench_thin_disks(eng, spm, sd_id)
        bench_failover(eng, hs, hosts, dc["id"], sd_id)


if __name__ == "__main__":
    main()
