#!/usr/bin/env python3
"""Host network setup, side by side in one run (the machine is shared and
noisy, so the ratio matters, not absolute numbers). One harness host with
a second NIC eth1.

  Applying 50 VLAN networks on eth1 (VLANs 101..150, MTU 1500, VM
  networks) through the agent's Host.setupNetworks (check_connectivity
  false: validation, state file written atomically twice, netlink: a
  bridge, a veth pair, two VLAN programs per network and one for the NIC)
  vs the same devices made with `ip` commands run one by one in the host
  (bridge, veth pair, MTU, master, up; a clsact qdisc on each trunk end).
  The peer cannot load the tagging programs (tc's own loader needs an
  object file), so it does a little less than the agent. Then removing
  them all, both ways.

usage: bench/network_bench.py [--build build] [--runs 3] [--networks 50]
Run as root after scripts/setup, on a build without sanitizers (takes the
harness lock like the tests)."""

import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
from harness.hosts import HostSet  # noqa: E402
from harness.rpc import AgentClient  # noqa: E402


def ip_script(n, remove=False):
    """The `ip`/`tc` command lines making (or removing) what the agent makes."""
    cmds = []
    for v in range(101, 101 + n):
        br, a, b = "ipn%d" % v, "vrv%d-eth1a" % v, "vrv%d-eth1b" % v
        if remove:
            cmds += [["ip", "link", "del", a], ["ip", "link", "del", br]]
            continue
        cmds += [["ip", "link", "add", br, "type", "bridge", "stp_state", "0"],
                 ["ip", "link", "add", a, "type", "veth", "peer", "name", b],
                 ["ip", "link", "set", b, "mtu", "1500", "master", br, "up"],
                 ["ip", "link", "set", a, "mtu", "1500", "up"],
                 ["ip", "link", "set", br, "mtu", "1500", "up"],
                 ["tc", "qdisc", "add", "dev", a, "clsact"]]
    if not remove:
        cmds += [["ip", "link", "set", "eth1", "mtu", "1500", "up"],
                 ["tc", "qdisc", "add", "dev", "eth1", "clsact"]]
    else:
        cmds += [["tc", "qdisc", "del", "dev", "eth1", "clsact"]]
    return cmds


def run_ip(h, cmds):
    t0 = time.monotonic()
    for c in cmds:
        p = h.run(c)
        if p.returncode:
            raise RuntimeError("%s: %s" % (" ".join(c), p.stderr))
    return time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--networks", type=int, default=50)
    args = ap.parse_args()
    agent = [os.path.join(os.path.abspath(args.build), "src", "agent", "vireo-agent"),
             "--io-timeout", "10"]
    n = args.networks
    nets = {"net%d" % v: {"nic": "eth1", "vlan": v} for v in range(101, 101 + n)}
    gone = {name: {"remove": True} for name in nets}
    with HostSet(n=1, agent_cmd=agent, sanlock=False, shared_fs_mb=0, extra_nics=1) as hs:
        h = hs.hosts[0]
        c = AgentClient(h.addr, h.port, os.path.join(hs.pki_dir, "ca.crt"),
                        os.path.join(hs.pki_dir, "engine.crt"), os.path.join(hs.pki_dir, "engine.key"))
        res = {"agent_add": [], "ip_add": [], "agent_del": [], "ip_del": []}
        for _ in range(args.runs):
            t0 = time.monotonic()
            c.call("Host.setupNetworks", networks=nets, check_connectivity=False)
            res["agent_add"].append(time.monotonic() - t0)
            assert len(c.call("Host.getNetworks")["networks"]) == n
            t0 = time.monotonic()
            c.call("Host.setupNetworks", networks=gone, check_connectivity=False)
            res["agent_del"].append(time.monotonic() - t0)
            # the same devices by hand, one command at a time
            res["ip_add"].append(run_ip(h, ip_script(n)))
            res["ip_del"].append(run_ip(h, ip_script(n, remove=True)))
        c.close()
    med = {k: statistics.median(v) for k, v in res.items()}
    print("%d VLAN networks, median of %d runs" % (n, args.runs))
    print("  setup:  agent %.3f s   ip/tc commands %.3f s   agent/ip = %.2fx"
          % (med["agent_add"], med["ip_add"], med["agent_add"] / med["ip_add"]))
    print("  remove: agent %.3f s   ip/tc commands %.3f s   agent/ip = %.2fx"
          % (med["agent_del"], med["ip_del"], med["agent_del"] / med["ip_del"]))
    print(res)


if __name__ == "__main__":
    main()
