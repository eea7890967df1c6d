#!/usr/bin/env python3
"""Live migration, side by side in one run (the machine is shared and
noisy, so ratios matter, not absolute numbers): one guest (the test guest,
256 MiB, TCG) moved back and forth between two harness hosts whose
libvirtd listen on TCP, alternately

  1. by Vireo's agent: VM.migrate on the source agent, timed from the call
     to the Job.progress notification that says it succeeded;
  2. by Vireo's engine: POST /api/vms/ID/migrate, timed until GET of its
     job says finished (the engine polls the agent's job every 200 ms);
  3. by bare libvirt: `virsh migrate --live --p2p --bandwidth 52` in the
     source host, the same peer-to-peer migration at the same bandwidth
     cap (Vireo's default), timed around the virsh process;

and reports the median total time and the guest's downtime (libvirt's
"Total downtime" of the completed migration, read on the destination with
`virsh domjobinfo --completed`) of each, and the ratios against virsh
(goal: <= 1.05x).

With --tls the hosts' libvirtd listen with TLS only (the harness CA and
each host's certificate, tests/harness/libvirt_tls.py): the agents use
their default transport (qemu+tls://, QEMU's stream encrypted) and virsh
migrates with `qemu+tls://` and `--tls`, so the ratios stay like for like.

usage: bench/migration_bench.py [--build build] [--guest build/guest] [--runs 4] [--tls]
Run as root after scripts/setup (takes the harness lock like the tests)."""

import argparse
import contextlib
import os
import re
import shutil
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
sys.path.insert(0, HERE)
from benchlib import bench_cluster  # noqa: E402
from harness.engine import Engine  # noqa: E402
from harness.hosts import HostSet  # noqa: E402
from harness.rpc import AgentClient  # noqa: E402

GUEST_FILES = ("vmlinux", "initrd.img", "root.img", "cmdline")


def client(hs, i):
    pki = hs.pki_dir
    h = hs.hosts[i]
    return AgentClient(h.addr, h.port, os.path.join(pki, "ca.crt"), os.path.join(pki, "engine.crt"),
                       os.path.join(pki, "engine.key"))


def guest_vm_spec(hs, guest):
    """Copy the test guest where every harness host reads it; the VM
    members (memory, boot, disks) that run it."""
    gdir = os.path.join(hs.shared_dir, "guest")
    os.makedirs(gdir, exist_ok=True)
    os.chmod(gdir, 0o755)
    for f in GUEST_FILES:
        shutil.copyfile(os.path.join(guest, f), os.path.join(gdir, f))
        os.chmod(os.path.join(gdir, f), 0o644)
    cmdline = open(os.path.join(gdir, "cmdline")).read().strip()
    return dict(memory_mib=256, boot={"kernel": os.path.join(gdir, "vmlinux"),
                                      "initrd": os.path.join(gdir, "initrd.img"), "cmdline": cmdline},
                disks=[{"path": os.path.join(gdir, "root.img"), "readonly": True}])


def downtime_ms(h, name):
    out = h.virsh("domjobinfo", name, "--completed")
    m = re.search(r"Total downtime:\s+(\d+)\s+ms", out)
    return int(m.group(1)) if m else float("nan")


def wait_on(hs, i, name, timeout=60):
    deadline = time.monotonic() + timeout
    while name not in hs.hosts[i].domains(all=False):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} never ran on {hs.hosts[i].name}")
        time.sleep(0.05)
    # running, not an incoming domain still paused
    while "running" not in hs.hosts[i].virsh("domstate", name):
        time.sleep(0.05)


def by_agent(hs, clients, src, dst, uuid):
    c = clients[src]
    t0 = time.monotonic()
    r = c.call("VM.migrate", uuid=uuid, dest={"host": hs.hosts[dst].name})
    note = c.wait_event(lambda p: p.get("id") == r["job"] and p.get("state") != "running", timeout=300)
    dt = time.monotonic() - t0
    if note["state"] != "succeeded":
        raise RuntimeError(f"agent migration failed: {note}")
    return dt


def by_engine(eng, vm_id):
    t0 = time.monotonic()
    job = eng.call("POST", f"/api/vms/{vm_id}/migrate", {}, expect=202)["job"]["id"]
    while True:
        j = eng.get(f"/api/jobs/{job}")
        if j["status"] not in ("pending", "running"):
            break
        time.sleep(0.02)
    dt = time.monotonic() - t0
    if j["status"] != "finished":
        raise RuntimeError(f"engine migration failed: {j}")
    return dt


def by_virsh(hs, src, dst, name):
    how = ["--tls", name, f"qemu+tls://{hs.hosts[dst].name}/system"] if hs.libvirt_tls else \
        [name, f"qemu+tcp://{hs.hosts[dst].name}/system"]
    t0 = time.monotonic()
    hs.hosts[src].virsh("migrate", "--live", "--p2p", "--bandwidth", "52", *how, timeout=300)
    return time.monotonic() - t0


@contextlib.contextmanager
def two_hosts_engine(build, guest, grace_s, tls=False):
    """Two harness hosts (libvirtd on TCP, or TLS with tls; no sanlock), the test guest where
    both read it, and an engine of the build with both hosts up in cluster
    "bench": yields (hs, eng, cluster, hosts, the guest's VM members)."""
    build = os.path.abspath(build)
    agent = [os.path.join(build, "src", "agent", "vireo-agent"), "--io-timeout", "5"]
    with HostSet(n=2, agent_cmd=agent, libvirt_tcp=not tls, libvirt_tls=tls, shared_fs_mb=0, sanlock=False) as hs:
        spec = guest_vm_spec(hs, guest)
        with Engine(binary=os.path.join(build, "src", "engine", "vireo-engine"), pki_dir=hs.pki_dir,
                    poll_ms=1000, grace_s=grace_s, debug=False) as eng:
            cl, hosts = bench_cluster(eng, hs)
            yield hs, eng, cl, hosts, spec


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--guest", default="build/guest")
    ap.add_argument("--runs", type=int, default=4)
    ap.add_argument("--tls", action="store_true", help="libvirt and QEMU over TLS (the agents' default)")
    args = ap.parse_args()
    print(f"transport: {'TLS (qemu+tls://, QEMU stream encrypted)' if args.tls else 'TCP (qemu+tcp://)'}")
    with two_hosts_engine(args.build, args.guest, grace_s=5, tls=args.tls) as (hs, eng, cl, _, spec):
        vm = eng.create_vm("migbench", cl["id"], **spec)
        eng.call("POST", f"/api/vms/{vm['id']}/start", expect=202)
        vm = eng.wait_status("vms", vm["id"], "up", timeout=90)
        at = [h.name for h in hs.hosts].index(vm["host"])
        clients = [client(hs, 0), client(hs, 1)]
        for c in clients:
            c.call("Host.subscribe", jobs=True)
        while "VIREO-GUEST-READY" not in clients[at].call(
                "VM.getConsoleLog", uuid=vm["id"], max_bytes=65536)["text"]:
            time.sleep(0.5)
        times = {"agent": [], "engine": [], "virsh": []}
        downs = {"agent": [], "engine": [], "virsh": []}
        for run in range(args.runs):
            for how in ("virsh", "agent", "engine"):
                dst = 1 - at
                if how == "agent":
                    dt = by_agent(hs, clients, at, dst, vm["id"])
                elif how == "engine":
                    # after the others' moves the monitors must have
                    # found the VM where it now runs
                    eng.wait_for(lambda: (lambda v: v["host"] == hs.hosts[at].name and v["status"] == "up")(
                        eng.vm(vm["id"])), 60, what="the engine to see the VM on its host")
                    dt = by_engine(eng, vm["id"])
                    eng.wait_for(lambda: eng.vm(vm["id"])["host"] == hs.hosts[dst].name, 30,
                                 what="the engine's record")
                else:
                    dt = by_virsh(hs, at, dst, vm["name"])
                wait_on(hs, dst, vm["name"])
                times[how].append(dt)
                downs[how].append(downtime_ms(hs.hosts[dst], vm["name"]))
                print(f"run {run + 1} {how:6s} {hs.hosts[at].name}->{hs.hosts[dst].name}: "
                      f"{dt:.2f} s, downtime {downs[how][-1]} ms", flush=True)
                at = dst
                time.sleep(1)  # let the hosts' monitors catch up
        base_t = statistics.median(times["virsh"])
        base_d = statistics.median(downs["virsh"])
        print(f"\n{'':8s} {'median total':>14s} {'ratio':>7s} {'median downtime':>16s} {'ratio':>7s}")
        for how in ("virsh", "agent", "engine"):
            t, d = statistics.median(times[how]), statistics.median(downs[how])
            print(f"{how:8s} {t:12.2f} s {t / base_t:6.2f}x {d:13.0f} ms {d / base_d if base_d else 0:6.2f}x")
        for c in clients:
            c.close()
        eng.stop_all_vms()


if __name__ == "__main__":
    main()
