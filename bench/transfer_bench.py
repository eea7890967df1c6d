#!/usr/bin/env python3
"""Disk image upload through Vireo vs a plain copy, side by side in one run
(the machine is shared and noisy: the ratio matters, not absolute numbers).

Two harness hosts with their own sanlock, a posixfs data domain on the
harness's shared ext4 (a loop device), one engine on SQLite. An image of
random bytes (nothing for the upload to skip as zeros) is

  * uploaded with `vireo disk upload FILE --format raw` (disk creation, the
    PUT streamed by libcurl over HTTPS to the engine, 512 KiB Volume.write
    chunks as base64 JSON-RPC to the SPM, qemu-img check and the volume's
    metadata and lease at the end, with an fdatasync), and
  * copied with `cp` onto the same mounted file system on the SPM host,
    followed by `sync FILE` (the same durability).

Prints the median of --runs of each and the ratio Vireo / cp; the numbers
go to docs/performance.md.

usage: bench/transfer_bench.py [--build build] [--mib 256] [--runs 3]
Run as root after scripts/setup (takes the harness lock like the tests)."""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
from benchlib import job_done  # noqa: E402
from harness.engine import Engine  # noqa: E402
from harness.engine_storage import storage_dc  # noqa: E402
from harness.hosts import HostSet  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--mib", type=int, default=256)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    cli_bin = os.path.join(build, "src", "cli", "vireo")
    agent = [os.path.join(build, "src", "agent", "vireo-agent"), "--io-timeout", "5", "--sanlock-io-timeout", "2"]
    with HostSet(n=2, agent_cmd=agent, shared_fs_mb=max(2048, args.mib * 4)) as hs:
        eng = Engine(binary=os.path.join(build, "src", "engine", "vireo-engine"),
                     pki_dir=hs.pki_dir, poll_ms=1000, grace_s=5, debug=False)
        with eng:
            st = storage_dc(hs, eng, "bench")
            sd_id = st["sd_id"]
            spm = hs.hosts[st["spm_i"]]
            mount = os.path.join(spm.storage_root, hs.shared_dev.replace("/", "_"))
            env = dict(os.environ, VIREO_CONFIG_DIR=tempfile.mkdtemp(prefix="vireo-bench-cli-"))
            subprocess.run([cli_bin, "login", "--url", f"https://127.0.0.1:{eng.port}", "--ca", eng.ca,
                            "--password-file", eng.password_file], env=env, check=True, capture_output=True)
            img = os.path.join(hs.shared_dir, "bench-upload.img")
            with open(img, "wb") as f:
                for _ in range(args.mib):
                    f.write(os.urandom(1 << 20))
            vireo, cp = [], []
            try:
                for i in range(args.runs):
                    t0 = time.monotonic()
                    out = subprocess.run([cli_bin, "disk", "upload", img, "--storage-domain", "bench-sd",
                                          "--format", "raw", "--alias", f"bench-{i}", "--json"], env=env,
                                         check=True, capture_output=True, text=True).stdout
                    vireo.append(time.monotonic() - t0)
                    disk = json.loads(out)
                    dst = os.path.join(mount, "bench-cp.img")
                    t0 = time.monotonic()
                    spm.run(["cp", "--sparse=never", img, dst], check=True)
                    spm.run(["sync", dst], check=True)
                    cp.append(time.monotonic() - t0)
                    spm.run(["rm", "-f", dst], check=True)
                    job_done(eng, eng.call("DELETE", f"/api/disks/{disk['id']}", expect=202)["job"]["id"])
                    print(f"run {i + 1}: vireo {vireo[-1]:.2f} s, cp+sync {cp[-1]:.2f} s", flush=True)
            finally:
                os.unlink(img)
            v, c = statistics.median(vireo), statistics.median(cp)
            print(f"upload of {args.mib} MiB (random bytes), median of {args.runs}: "
                  f"vireo disk upload {v:.2f} s ({args.mib / v:.0f} MiB/s), "
                  f"cp + sync on the SPM {c:.2f} s ({args.mib / c:.0f} MiB/s), ratio {v / c:.2f}x")


if __name__ == "__main__":
    main()
