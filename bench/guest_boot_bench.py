#!/usr/bin/env python3
"""Boot time of the test guest under plain QEMU (no libvirt), and what its
guest agent costs.

usage: bench/guest_boot_bench.py GUEST_DIR [GUEST_DIR...] [--runs N]
           [--accel tcg|kvm]

For each guest directory (scripts/build-guest output), boots it --runs
times from vmlinux, with the read-only root disk, the way the tests do,
once without and once with the virtio-serial channel
org.qemu.guest_agent.0, and reports the median seconds from QEMU's start
to VIREO-GUEST-READY, and (with the channel) to VIREO-GUEST-AGENT and to
the first answer of guest-ping, guest-fsfreeze-freeze and -thaw on the
channel. Compare the guest before and after a change of guest/ or
scripts/build-guest (docs/performance.md, "Test guest")."""
import argparse
import json
import os
import select
import socket
import statistics
import subprocess
import tempfile
import time


def boot(gdir, accel, channel):
    tmp = tempfile.mkdtemp(prefix="vireo-bootbench-")
    qga = os.path.join(tmp, "qga.sock")
    with open(os.path.join(gdir, "cmdline")) as f:
        cmdline = f.read().strip()
    argv = ["qemu-system-x86_64", "-machine", "accel=" + accel, "-m", "256", "-smp", "1",
            "-nodefaults", "-display", "none", "-serial", "stdio",
            "-kernel", os.path.join(gdir, "vmlinux"),
            "-initrd", os.path.join(gdir, "initrd.img"), "-append", cmdline,
            "-drive", "file=%s,if=virtio,format=raw,readonly=on" % os.path.join(gdir, "root.img")]
    if channel:
        argv += ["-chardev", "socket,id=qga0,path=%s,server=on,wait=off" % qga,
                 "-device", "virtio-serial-pci",
                 "-device", "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0"]
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
    out, buf = {}, b""
    want = {"VIREO-GUEST-READY"} | ({"VIREO-GUEST-AGENT"} if channel else set())
    try:
        # a guest without qemu-ga never says VIREO-GUEST-AGENT
        while (not want <= set(out) and time.monotonic() - t0 < 120
               and time.monotonic() - out.get("VIREO-GUEST-READY", 1e9) < t0 + 10):
            r, _, _ = select.select([p.stdout], [], [], 0.5)
            if r:
                data = os.read(p.stdout.fileno(), 65536)
                if not data:
                    break
                buf += data
                for w in want:
                    if w.encode() in buf and w not in out:
                        out[w] = time.monotonic() - t0
        if channel and "VIREO-GUEST-AGENT" in out:
            s = socket.socket(socket.AF_UNIX)
            s.connect(qga)
            s.settimeout(20)
            f = s.makefile("rwb", buffering=0)
            for cmd in ("guest-ping", "guest-fsfreeze-freeze", "guest-fsfreeze-thaw"):
                t = time.monotonic()
                f.write(json.dumps({"execute": cmd}).encode() + b"\n")
                reply = json.loads(f.readline())
                assert "return" in reply, (cmd, reply)
                out[cmd] = time.monotonic() - t
                if cmd == "guest-fsfreeze-freeze":
                    out["frozen"] = reply["return"]
            s.close()
    finally:
        p.kill()
        p.wait()
        for n in os.listdir(tmp):
            os.unlink(os.path.join(tmp, n))
        os.rmdir(tmp)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("guests", nargs="+")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--accel", default="tcg")
    args = ap.parse_args()
    for g in args.guests:
        size = os.path.getsize(os.path.join(g, "initrd.img"))
        for channel in (False, True):
            runs = [boot(g, args.accel, channel) for _ in range(args.runs)]
            keys = sorted({k for r in runs for k in r}, key=lambda k: min(r.get(k, 1e9) for r in runs))
            line = ", ".join("%s %.2f s" % (k, statistics.median(r[k] for r in runs if k in r))
                             if k != "frozen" else "frozen %s" % runs[0].get(k)
                             for k in keys)
            print("%s (initrd %.1f MB) %s channel, median of %d: %s"
                  % (g, size / 1e6, "with" if channel else "without", args.runs, line))


if __name__ == "__main__":
    main()
