#!/usr/bin/env python3
"""vireo-agent benchmarks, side by side with libvirt in one run (the machine
is shared and noisy, so ratios matter, not absolute numbers):

  1. VM start latency: VM.create through the agent vs `virsh create` of the
     same domain XML (goal: ratio <= 1.05).
  2. Round trips/s: Host.ping over mutual TLS vs virConnectGetVersion over
     libvirt's UNIX socket.
  3. Agent RSS idle and with 10 VMs running (goal: <= 10 MiB idle).

usage: bench/agent_bench.py [--build build] [--guest build/guest] [--runs 5]
Run as root after scripts/setup; uses the root namespace's libvirtd."""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
from harness.rpc import AgentClient  # noqa: E402

PORT = 54390


def mem_kib(pid):
    """(RSS, PSS, private dirty) in KiB. Most of the RSS is clean pages of
    shared libraries (libvirt, GnuTLS, libcrypto) also mapped by libvirtd."""
    vals = {}
    for line in open(f"/proc/{pid}/smaps_rollup"):
        parts = line.split()
        if len(parts) >= 2 and parts[0].endswith(":"):
            vals[parts[0][:-1]] = int(parts[1]) if parts[1].isdigit() else 0
    return vals.get("Rss", -1), vals.get("Pss", -1), vals.get("Private_Dirty", -1)


def virsh(*args):
    return subprocess.run(["virsh", "-c", "qemu:///system", *args], check=True,
                          capture_output=True, text=True).stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--guest", default="build/guest")
    ap.add_argument("--runs", type=int, default=9)
    args = ap.parse_args()
    top = os.path.abspath(os.path.join(HERE, ".."))
    build = os.path.abspath(args.build)
    work = tempfile.mkdtemp(prefix="vireo-bench-", dir="/var/tmp")
    os.chmod(work, 0o755)
    for f in ("vmlinux", "initrd.img", "root.img"):
        shutil.copy(os.path.join(args.guest, f), work)
        os.chmod(os.path.join(work, f), 0o644)
    pki = os.path.join(work, "pki")
    subprocess.run([f"{top}/scripts/pki", "init", pki], check=True, capture_output=True)
    subprocess.run([f"{top}/scripts/pki", "issue", pki, "localhost", "--ip", "127.0.0.1"],
                   check=True, capture_output=True)
    subprocess.run([f"{top}/scripts/pki", "issue", pki, "engine"], check=True, capture_output=True)
    log = open(os.path.join(work, "agent.log"), "w")
    agent = subprocess.Popen([f"{build}/src/agent/vireo-agent", "--listen", f"127.0.0.1:{PORT}",
                              "--ca", f"{pki}/ca.crt", "--cert", f"{pki}/localhost.crt",
                              "--key", f"{pki}/localhost.key"], stdout=log, stderr=log)
    results = {}
    try:
        for _ in range(100):
            try:
                c = AgentClient("127.0.0.1", PORT, f"{pki}/ca.crt", f"{pki}/engine.crt",
                                f"{pki}/engine.key")
                break
            except OSError:
                time.sleep(0.1)
        cmdline = open(os.path.join(args.guest, "cmdline")).read().strip()

        def spec(name, uuid=None):
            extra = {"uuid": uuid} if uuid else {}
            return {"name": name, "memory_mib": 128, **extra,
                    "boot": {"kernel": f"{work}/vmlinux", "initrd": f"{work}/initrd.img",
                             "cmdline": cmdline},
                    "disks": [{"path": f"{work}/root.img", "readonly": True}]}

        # -- RSS idle --------------------------------------------------
        c.call("Host.ping")
        results["rss_idle_kib"], results["pss_idle_kib"], results["private_idle_kib"] = mem_kib(agent.pid)

        # -- start latency ---------------------------------------------
        vm = c.call("VM.create", spec("bench-xml"))
        xml = virsh("dumpxml", "bench-xml")
        c.call("VM.destroy", uuid=vm["uuid"])
        # Same definition for virsh, minus what belongs to one running instance.
        xml = re.sub(r"<uuid>.*?</uuid>", "", xml)
        xml = re.sub(r"<name>bench-xml</name>", "<name>bench-virsh</name>", xml)
        xml = re.sub(r"<seclabel.*?</seclabel>", "", xml, flags=re.S)
        xml = re.sub(r" id='\d+'", "", xml, count=1)
        xml = xml.replace("vireo-" + vm["uuid"], "virsh-bench")
        xml_path = os.path.join(work, "virsh.xml")
        open(xml_path, "w").write(xml)
        agent_t, virsh_t = [], []
        # Same name and UUID every round on both sides, so neither pays for
        # new log files or names the other does not.
        def agent_round():
            t0 = time.perf_counter()
            v = c.call("VM.create", spec("bench-agent", "6a6f8f4e-2b1e-4c1a-9f00-00000000be01"))
            agent_t.append(time.perf_counter() - t0)
            c.call("VM.destroy", uuid=v["uuid"])

        def virsh_round():
            t0 = time.perf_counter()
            virsh("create", xml_path)
            virsh_t.append(time.perf_counter() - t0)
            virsh("destroy", "bench-virsh")

        # Alternate who goes first: load from the previous destroy is shared.
        for i in range(args.runs):
            for fn in ((agent_round, virsh_round) if i % 2 == 0 else (virsh_round, agent_round)):
                fn()
        results["start_agent_ms"] = statistics.median(agent_t) * 1000
        results["start_virsh_ms"] = statistics.median(virsh_t) * 1000

        # -- round trips -----------------------------------------------
        rtt = f"{build}/bench/rtt_bench"
        n = "5000"
        results["ping_rps"] = float(subprocess.run(
            [rtt, "agent", "127.0.0.1", str(PORT), pki, n], check=True, capture_output=True,
            text=True).stdout)
        results["libvirt_rps"] = float(subprocess.run(
            [rtt, "libvirt", "qemu:///system", n], check=True, capture_output=True,
            text=True).stdout)

        # -- RSS with 10 VMs -------------------------------------------
        uuids = [c.call("VM.create", spec(f"bench-r{i}"))["uuid"] for i in range(10)]
        for _ in range(3):
            c.call("VM.list", full=True)
            c.call("Host.getStats")
        results["rss_10vms_kib"], results["pss_10vms_kib"], results["private_10vms_kib"] = mem_kib(agent.pid)
        for u in uuids:
            c.call("VM.destroy", uuid=u)
        c.close()
    finally:
        agent.terminate()
        agent.wait()
        for d in virsh("list", "--name").split():
            if d.startswith("bench-"):
                virsh("destroy", d)
        shutil.rmtree(work, ignore_errors=True)

    r = results
    print(f"VM start (median of {args.runs}): agent {r['start_agent_ms']:.0f} ms, "
          f"virsh create {r['start_virsh_ms']:.0f} ms, ratio "
          f"{r['start_agent_ms'] / r['start_virsh_ms']:.2f} (goal <= 1.05)")
    print(f"round trips/s: Host.ping over mTLS {r['ping_rps']:.0f}, libvirt "
          f"virConnectGetVersion {r['libvirt_rps']:.0f}, ratio {r['ping_rps'] / r['libvirt_rps']:.2f}")
    print(f"agent RSS: idle {r['rss_idle_kib'] / 1024:.1f} MiB (goal <= 10), "
          f"10 VMs {r['rss_10vms_kib'] / 1024:.1f} MiB")
    print(f"agent PSS / private dirty: idle {r['pss_idle_kib'] / 1024:.1f} / "
          f"{r['private_idle_kib'] / 1024:.1f} MiB, 10 VMs {r['pss_10vms_kib'] / 1024:.1f} / "
          f"{r['private_10vms_kib'] / 1024:.1f} MiB")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
