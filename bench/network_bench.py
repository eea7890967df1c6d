#!/usr/bin/env python3
"""Host network setup, side by side in one run (the machine is shared and
noisy, so the ratio matters, not absolute numbers). One harness host with
a second NIC eth1.

  Applying 50 VLAN networks on eth1 (VLANs 101..150, MTU 1500, VM
  networks) through the agent's Host.setupNetworks (check_connectivity
  false: validation, state file written atomically twice, netlink: a
  bridge, a veth pair, a VLAN program per network's trunk end and one for
  the NIC) vs the same configuration made with `ip` and `tc` commands run
  one by one in the host: the same bridges and veth pairs (MTU, master,
  up), a clsact qdisc and a tagging program on each trunk end and on the
  NIC, which tc loads from eBPF objects clang compiled before the clock
  starts (the peer gives its veths fixed ifindexes, so the NIC's program
  names them in advance). Both results are checked to be the same
  configuration. Then removing them all, both ways.

usage: bench/network_bench.py [--build build] [--runs 3] [--networks 50]
Run as root after scripts/setup (it installs clang), on a build without
sanitizers (takes the harness lock like the tests)."""

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
from harness.hosts import HostSet  # noqa: E402
from harness.rpc import AgentClient  # noqa: E402

# The peer's programs do what the agent's do (src/agent/net/trunk.c): a
# trunk end tags its network's frames and sends them out of the NIC; the
# NIC pops the tag of a VLAN it carries and sends the frame to that
# network's trunk end, drops other VLANs, gives untagged frames to the host.
PORT_C = r"""
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
static long (*vlan_push)(struct __sk_buff *, __be16, __u16) = (void *)BPF_FUNC_skb_vlan_push;
static long (*redirect)(__u32, __u64) = (void *)BPF_FUNC_redirect;
__attribute__((section("tc"), used)) int port(struct __sk_buff *skb)
{
    vlan_push(skb, __builtin_bswap16(0x8100), VID);
    return redirect(NIC, 0);
}
char _license[] __attribute__((section("license"), used)) = "GPL";
"""
NIC_C = r"""
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
static long (*vlan_pop)(struct __sk_buff *) = (void *)BPF_FUNC_skb_vlan_pop;
static long (*redirect)(__u32, __u64) = (void *)BPF_FUNC_redirect;
__attribute__((section("tc"), used)) int nic(struct __sk_buff *skb)
{
    if (!skb->vlan_present)
        return TC_ACT_OK;
    __u32 vid = skb->vlan_tci & 0xfff;
%s    return TC_ACT_SHOT;
}
char _license[] __attribute__((section("license"), used)) = "GPL";
"""
IFX0 = 20000   # the peer's trunk end of VLAN v has ifindex IFX0 + 2 (v - 101), its peer the next


def compile_programs(workdir, n, nic_ifindex):
    """The peer's eBPF objects, one per trunk end and the NIC's, compiled
    by one clang run: {device: object path}."""
    arch = subprocess.run(["gcc", "-dumpmachine"], capture_output=True, text=True, check=True).stdout.strip()
    table = "".join("    if (vid == %d) {\n        vlan_pop(skb);\n        return redirect(%d, 0);\n    }\n"
                    % (v, IFX0 + 2 * (v - 101)) for v in range(101, 101 + n))
    srcs = {"eth1": ("nic", NIC_C % table)}
    for v in range(101, 101 + n):
        srcs["vrv%d-eth1a" % v] = ("port%d" % v, "#define VID %d\n#define NIC %d\n%s" % (v, nic_ifindex, PORT_C))
    for name, src in srcs.values():
        with open(os.path.join(workdir, name + ".c"), "w") as f:
            f.write(src)
    subprocess.run(["clang", "-O2", "-target", "bpf", "-I/usr/include/" + arch, "-c"] +
                   [name + ".c" for name, _ in srcs.values()], cwd=workdir, check=True)
    return {dev: os.path.join(workdir, name + ".o") for dev, (name, _) in srcs.items()}


def ip_script(n, objs, remove=False):
    """The `ip`/`tc` command lines making (or removing) what the agent makes."""
    cmds = []
    for v in range(101, 101 + n):
        br, a, b = "net%d" % v, "vrv%d-eth1a" % v, "vrv%d-eth1b" % v
        if remove:
            cmds += [["ip", "link", "del", a], ["ip", "link", "del", br]]
            continue
        ia = IFX0 + 2 * (v - 101)
        cmds += [["ip", "link", "add", br, "type", "bridge", "stp_state", "0"],
                 ["ip", "link", "add", a, "index", str(ia), "type", "veth", "peer", "name", b,
                  "index", str(ia + 1)],
                 ["ip", "link", "set", b, "mtu", "1500", "master", br, "up"],
                 ["ip", "link", "set", a, "mtu", "1500", "up"],
                 ["ip", "link", "set", br, "mtu", "1500", "up"],
                 ["tc", "qdisc", "add", "dev", a, "clsact"],
                 ["tc", "filter", "add", "dev", a, "ingress", "bpf", "da", "obj", objs[a], "sec", "tc"]]
    if not remove:
        cmds += [["ip", "link", "set", "eth1", "mtu", "1500", "up"],
                 ["tc", "qdisc", "add", "dev", "eth1", "clsact"],
                 ["tc", "filter", "add", "dev", "eth1", "ingress", "bpf", "da", "obj", objs["eth1"], "sec", "tc"]]
    else:
        cmds += [["tc", "qdisc", "del", "dev", "eth1", "clsact"]]
    return cmds


def configuration(h, n):
    """What a setup made, to compare the agent's with the peer's: per VLAN
    its bridge up, the network end's master, the trunk end's MTU and
    whether it has a direct-action program; then the NIC's program."""
    links = {ln["ifname"]: ln for ln in json.loads(h.run(["ip", "-j", "link", "show"]).stdout)}
    out = []
    for v in range(101, 101 + n):
        a, b, br = links.get("vrv%d-eth1a" % v), links.get("vrv%d-eth1b" % v), links.get("net%d" % v)
        prog = "direct-action" in h.run(["tc", "filter", "show", "dev", "vrv%d-eth1a" % v, "ingress"]).stdout
        out.append((v, bool(br and "UP" in br["flags"]), b and b.get("master"), a and a["mtu"], prog))
    out.append(("eth1", "direct-action" in h.run(["tc", "filter", "show", "dev", "eth1", "ingress"]).stdout))
    return out


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
    want = [(v, True, "net%d" % v, 1500, True) for v in range(101, 101 + n)] + [("eth1", True)]
    with HostSet(n=1, agent_cmd=agent, sanlock=False, shared_fs_mb=0, extra_nics=1) as hs, \
            tempfile.TemporaryDirectory() as tmp:
        h = hs.hosts[0]
        c = AgentClient(h.addr, h.port, os.path.join(hs.pki_dir, "ca.crt"),
                        os.path.join(hs.pki_dir, "engine.crt"), os.path.join(hs.pki_dir, "engine.key"))
        nic_ifindex = json.loads(h.run(["ip", "-j", "link", "show", "eth1"]).stdout)[0]["ifindex"]
        objs = compile_programs(tmp, n, nic_ifindex)   # before any clock starts
        res = {"agent_add": [], "ip_add": [], "agent_del": [], "ip_del": []}
        for _ in range(args.runs):
            t0 = time.monotonic()
            c.call("Host.setupNetworks", networks=nets, check_connectivity=False)
            res["agent_add"].append(time.monotonic() - t0)
            got = configuration(h, n)
            assert got == want, got
            t0 = time.monotonic()
            c.call("Host.setupNetworks", networks=gone, check_connectivity=False)
            res["agent_del"].append(time.monotonic() - t0)
            # the same configuration by hand, one command at a time
            res["ip_add"].append(run_ip(h, ip_script(n, objs)))
            got = configuration(h, n)
            assert got == want, got
            res["ip_del"].append(run_ip(h, ip_script(n, objs, remove=True)))
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
