#!/usr/bin/env python3
"""Self test of the test-host harness (tests/harness/hosts.py).

    python3 tests/harness/selftest.py [--agent CMD] [--quick] [-v]

Starts 2 hosts, runs a TCG guest in each (plus one guest with the same name
on both), checks that the hosts are independent, exercises the agent and
libvirtd restart helpers, tears everything down and checks that nothing is
left behind; then checks sequential HostSets and recovery after a crashed
run (SIGKILL) and after SIGTERM.  Exits non-zero on failure.

Without --agent a small Python TCP listener stands in for vireo-agent.
Needs root and scripts/setup.
"""

import argparse
import logging
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from harness import hosts as H  # noqa: E402
from harness.hosts import HostSet, HarnessError  # noqa: E402

STANDIN_AGENT = r"""
import os, socket, sys
a = sys.argv[1:]
def opt(n):
    return a[a.index(n) + 1]
for n in ("--ca", "--cert", "--key"):
    if not os.path.isfile(opt(n)):
        sys.exit("stand-in agent: missing file for %s" % n)
assert opt("--uri") == "qemu:///system", a
host, port = opt("--listen").rsplit(":", 1)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((host, int(port)))
s.listen(16)
print("stand-in agent listening on", host, port, "as", socket.gethostname(), flush=True)
while True:
    c, peer = s.accept()
    c.close()
"""

DOMAIN_XML = """<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='network'/></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <serial type='pty'/><console type='pty'/>
  </devices>
</domain>
"""

failures = []


def check(cond, what):
    if cond:
        print("  ok   %s" % what)
    else:
        print("  FAIL %s" % what)
        failures.append(what)
    return cond


def root_libvirtd():
    pid = H._read_pidfile("/run/libvirtd.pid")
    return pid if H._pid_alive(pid) and H._comm(pid) == "libvirtd" else None


def leftovers(pids=(), workdir=None):
    """Describe everything a harness run could leave behind."""
    left = []
    ns = H._netns_list()
    if ns:
        left.append("netns %s" % ns)
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    for line in links.splitlines():
        name = line.split(":")[1].strip().split("@")[0]
        if name == H.BRIDGE or name.startswith(H.NETNS_PREFIX):
            left.append("link %s" % name)
    alive = [p for p in pids if p and H._pid_alive(p)]
    if alive:
        left.append("processes %s" % alive)
    mp = H._harness_mount_pids("/" + H.WORKDIR_PREFIX)
    if mp:
        left.append("processes in harness mount namespaces %s" % mp)
    cg = H._stale_cgroups()
    if cg:
        left.append("cgroups %s" % cg)
    if workdir and os.path.exists(workdir):
        left.append("workdir %s" % workdir)
    with open("/proc/self/mountinfo") as f:
        m = [l.split()[4] for l in f if H.WORKDIR_PREFIX in l.split()[4]]
    if m:
        left.append("mounts %s" % m)
    st = H._load_state()
    if st.get("workdirs") or st.get("scan"):
        left.append("state file lists %s" % st)
    return left


def main_test(agent_cmd):
    print("== HostSet(2): start")
    root_pid = root_libvirtd()
    t0 = time.monotonic()
    hs = HostSet(n=2, agent_cmd=agent_cmd)
    pids = []
    try:
        hs.start()
        print("  started in %.2fs (workdir %s)" % (time.monotonic() - t0, hs.workdir))
        workdir = hs.workdir
        h0, h1 = hs.hosts
        check((h0.name, h0.addr, h0.port) == ("vh0", "10.77.0.10", 54321), "host 0 is vh0 10.77.0.10:54321")
        check((h1.name, h1.addr) == ("vh1", "10.77.0.11"), "host 1 is vh1 10.77.0.11")
        for f in ("ca.crt", "engine.crt", "engine.key", "vh0.crt", "vh0.key", "vh1.crt",
                  "vh1.key", "rogue-ca.crt", "rogue.crt", "rogue.key"):
            check(os.path.isfile(os.path.join(hs.pki_dir, f)), "pki_dir has %s" % f)
        check(os.stat(os.path.join(hs.pki_dir, "vh0.key")).st_mode & 0o777 == 0o600, "keys are 0600")
        v = subprocess.run(["certtool", "--verify", "--load-ca-certificate",
                            os.path.join(hs.pki_dir, "ca.crt"), "--infile",
                            os.path.join(hs.pki_dir, "vh1.crt")], capture_output=True, text=True)
        check(v.returncode == 0, "vh1.crt verifies against ca.crt")
        v = subprocess.run(["certtool", "--verify", "--load-ca-certificate",
                            os.path.join(hs.pki_dir, "ca.crt"), "--infile",
                            os.path.join(hs.pki_dir, "rogue.crt")], capture_output=True, text=True)
        check(v.returncode != 0, "rogue.crt does not verify against ca.crt")
        check(oct(os.stat(hs.shared_dir).st_mode & 0o777) == oct(0o755)
              and H._others_can_traverse(hs.shared_dir), "shared_dir is 0755 and traversable")

        for h in hs.hosts:
            p = h.run(["hostname"])
            check(p.stdout.strip() == h.name, "%s: hostname is %s" % (h.name, h.name))
            p = h.run(["ip", "-o", "-4", "addr", "show", "eth0"])
            check(h.addr + "/24" in p.stdout, "%s: eth0 has %s" % (h.name, h.addr))
            check(h.libvirtd_pid and h.virtlogd_pid, "%s: libvirtd and virtlogd run" % h.name)
            if agent_cmd:
                check(h.agent_pid is not None, "%s: agent runs" % h.name)
            pids += [h.holder_pid, h.libvirtd_pid, h.virtlogd_pid, h.agent_pid]

        print("== guests")
        same = os.path.join(hs.shared_dir, "same.xml")
        with open(same, "w") as f:
            f.write(DOMAIN_XML.format(name="selftest-same"))
        for h in hs.hosts:
            x = os.path.join(hs.shared_dir, "%s.xml" % h.name)
            with open(x, "w") as f:
                f.write(DOMAIN_XML.format(name="selftest-" + h.name))
            t = time.monotonic()
            h.virsh("create", x)
            h.virsh("create", same)
            print("  %s: 2 guests started in %.2fs" % (h.name, time.monotonic() - t))
        for h in hs.hosts:
            doms = sorted(h.domains())
            check(doms == sorted(["selftest-" + h.name, "selftest-same"]),
                  "%s: virsh list shows only its own guests (%s)" % (h.name, doms))
            q = h.qemu_pids()
            check(len(q) == 2, "%s: 2 qemu processes in its netns" % h.name)
            pids += q
            check(h.virsh("domstate", "selftest-same").strip() == "running", "%s: guest running" % h.name)
            if hs.cgroups and H._cgroup_v1_hierarchies():
                p = h.run(["virsh", "-c", "qemu:///system", "cpu-stats", "selftest-same", "--total"])
                check(p.returncode == 0, "%s: virsh cpu-stats works (guest cgroups)" % h.name)
        if root_pid:
            p = subprocess.run(["virsh", "-c", "qemu:///system", "list", "--name"],
                               capture_output=True, text=True)
            check(p.returncode == 0 and "selftest" not in p.stdout,
                  "root namespace libvirtd does not see the hosts' guests")

        print("== machine-wide lock")
        tests_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        p = subprocess.run([sys.executable, "-c", (
            "import sys; sys.path.insert(0, %r)\n"
            "from harness.hosts import HostSet, HarnessError, cleanup_stale\n"
            "try:\n"
            "    cleanup_stale(); print('cleanup ran')\n"
            "except HarnessError as e: print('cleanup refused')\n"
            "try:\n"
            "    HostSet(n=1, lock_timeout=1).start(); print('started')\n"
            "except HarnessError as e: print('start refused')\n") % tests_dir],
            capture_output=True, text=True, timeout=60)
        check(p.stdout.split() == ["cleanup", "refused", "start", "refused"],
              "another process can neither clean up nor start while we run (%s)"
              % (p.stdout.strip().replace("\n", "; ") or p.stderr[-300:]))
        check(sorted(h0.domains()) == ["selftest-same", "selftest-vh0"] and h0.libvirtd_pid,
              "our hosts are untouched by it")

        print("== network")
        p = h1.run([sys.executable, "-c",
                    "import socket; socket.create_connection(('vh0', 1), 2)"])
        check("ConnectionRefused" in p.stderr, "vh1 reaches vh0 by name (connection refused on port 1)")

        print("== libvirtd restart keeps guests")
        h0.kill_libvirtd()
        check(h0.libvirtd_pid is None, "vh0 libvirtd stopped")
        check(len(h0.qemu_pids()) == 2, "vh0 guests survive")
        h0.start_libvirtd()
        pids.append(h0.libvirtd_pid)
        check(sorted(h0.domains()) == ["selftest-same", "selftest-vh0"], "vh0 libvirtd reconnects to its guests")

        if agent_cmd:
            print("== agent kill/start")
            rc = h0.kill_agent()
            check(rc == -signal.SIGKILL, "kill_agent returns -SIGKILL (%s)" % rc)
            check(h0.agent_pid is None, "agent_pid is None after kill")
            try:
                h0.wait_agent(timeout=0.5)
                check(False, "wait_agent fails while the agent is dead")
            except HarnessError:
                check(True, "wait_agent fails while the agent is dead")
            t = time.monotonic()
            h0.start_agent(wait=True)
            print("  agent restarted in %.2fs" % (time.monotonic() - t))
            check(h0.agent_pid is not None, "agent restarted")
            pids.append(h0.agent_pid)
            check(os.path.getsize(h0.agent_log) > 0, "agent log written")

        print("== stop")
        t = time.monotonic()
        hs.stop()
        print("  stopped in %.2fs" % (time.monotonic() - t))
    finally:
        try:
            hs.stop()
        except HarnessError as e:
            check(False, "stop: %s" % e)
    left = leftovers(pids, hs.workdir)
    check(not left, "nothing left behind %s" % (left or ""))
    if root_pid:
        check(root_libvirtd() == root_pid, "root libvirtd still running (pid %d)" % root_pid)
        p = subprocess.run(["virsh", "-c", "qemu:///system", "version"], capture_output=True, text=True)
        check(p.returncode == 0, "root qemu:///system still answers")


def sequential_test(agent_cmd):
    print("== two more HostSets in sequence")
    for n in (1, 3):
        t = time.monotonic()
        with HostSet(n=n, agent_cmd=agent_cmd) as hs:
            dt = time.monotonic() - t
            check(len(hs.hosts) == n and all(h.libvirtd_pid for h in hs.hosts),
                  "HostSet(%d) up in %.2fs" % (n, dt))
            wd = hs.workdir
        check(not leftovers(workdir=wd), "HostSet(%d) left nothing" % n)


CHILD = r"""
import sys, time
sys.path.insert(0, %r)
from harness.hosts import HostSet
hs = HostSet(n=2, agent_cmd=%r, workdir=%r)
hs.start()
hs.hosts[0].virsh("create", %r)
print(hs.workdir, flush=True)
time.sleep(600)
"""


def crash_test(agent_cmd):
    tests_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    xml = tempfile.NamedTemporaryFile("w", suffix=".xml", dir="/var/tmp", delete=False)
    xml.write(DOMAIN_XML.format(name="selftest-crash"))
    xml.close()
    os.chmod(xml.name, 0o644)
    try:
        # a crash with a caller-chosen workdir, then SIGTERM with the default
        given = "/var/tmp/vireo-selftest-workdir"
        for sig, workdir in ((signal.SIGKILL, given), (signal.SIGTERM, None)):
            print("== recovery after %s of a test process (workdir %s)" % (sig.name, workdir))
            child = subprocess.Popen([sys.executable, "-c",
                                      CHILD % (tests_dir, agent_cmd, workdir, xml.name)],
                                     stdout=subprocess.PIPE, text=True)
            wd = child.stdout.readline().strip()
            if not check(wd, "child started a HostSet"):
                child.kill()
                child.wait()
                continue
            child.send_signal(sig)
            child.wait(60)
            if sig == signal.SIGKILL:
                check(leftovers(), "a killed run leaves things behind")
                found = H.cleanup_stale(verbose=False)
                check(found, "cleanup_stale finds them")
            if workdir:
                rest = os.listdir(workdir) if os.path.isdir(workdir) else []
                check(not rest, "given workdir emptied (%s)" % rest)
                shutil.rmtree(workdir, ignore_errors=True)
            check(not leftovers(workdir=wd),
                  "nothing left after %s%s" % (sig.name, " + cleanup_stale" if sig == signal.SIGKILL else ""))
    finally:
        os.unlink(xml.name)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agent", help="agent command (default: a stand-in TCP listener)")
    ap.add_argument("--quick", action="store_true", help="only the main 2-host test")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if os.geteuid() != 0:
        print("selftest: needs root", file=sys.stderr)
        return 2
    agent_cmd = shlex.split(args.agent) if args.agent else [sys.executable, "-c", STANDIN_AGENT]
    t = time.monotonic()
    H.cleanup_stale()
    try:
        main_test(agent_cmd)
        if not args.quick:
            sequential_test(agent_cmd)
            crash_test(agent_cmd)
    except Exception as e:
        import traceback
        traceback.print_exc()
        failures.append("exception: %s" % e)
    print("== %s (%d failures, %.1fs)" % ("PASS" if not failures else "FAIL", len(failures),
                                          time.monotonic() - t))
    for f in failures:
        print("   - %s" % f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
