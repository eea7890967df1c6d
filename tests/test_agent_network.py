"""Host networking through vireo-agent (docs/networks.md) on two harness
hosts, each given a second NIC eth1 on a shared root-namespace bridge that
forwards tagged frames: VLAN and untagged networks carried between hosts,
VM NICs on them (ping between real guests, isolation between VLANs, MTU,
bandwidth, filter, link state, hot plug and hot change), validation that
changes nothing, rollback of an unconfirmed setup, the management address
moved onto a bridge, and the last good configuration restored after the
agent is killed."""

import json
import os
import signal
import subprocess
import threading
import time

from harness.rpc import RpcError, expect_error
from test_migration import job_end, mig_hosts

ERR_PARAMS, ERR_NETWORK = -32602, -32013


def _hosts(ctx):
    ctx.hs.ensure_extra_nics(1)
    return [ctx.host(0), ctx.host(1)]


def _clear(ctx):
    """No networks on either host, nothing pending."""
    for i in (0, 1):
        with ctx.client(i) as c:
            names = list(c.call("Host.getNetworks")["networks"])
            c.call("Host.setupNetworks", networks={n: {"remove": True} for n in names},
                   check_connectivity=False)
            got = c.call("Host.getNetworks")
            assert got["networks"] == {} and got["pending"] is None


def _link(h, name):
    """`ip -j link show NAME` in the host (the test may use ip; the agent may not)."""
    out = h.run(["ip", "-j", "-d", "link", "show", name])
    if out.returncode:
        return None
    return json.loads(out.stdout)[0]


def _addrs(h, name):
    out = h.run(["ip", "-j", "-4", "addr", "show", "dev", name])
    if out.returncode:
        return None
    return ["%s/%s" % (a["local"], a["prefixlen"]) for i in json.loads(out.stdout)
            for a in i.get("addr_info", [])]


class Answer(str):
    """A guest's answer that shows the console's tail when an assertion on
    it fails (its repr)."""
    def __new__(cls, value, tail):
        a = super().__new__(cls, value)
        a.tail = tail
        return a

    def __repr__(self):
        return f"{str.__repr__(self)} (console tail:\n{self.tail})"


def _guest(ctx, c, uuid, cmd, marker, timeout=60, resend_s=3):
    """Type cmd into the console until a new line starting with marker
    shows (earlier answers are counted, not taken); returns the rest of it."""
    before = ctx.console(c, uuid).count(marker)
    text = ctx.wait_console(c, uuid, marker, count=before + 1, timeout=timeout, send=cmd + "\n",
                            resend_s=resend_s)
    # the first new answer: a slow guest may answer a repeated command twice
    line = [ln for ln in text.splitlines() if ln.startswith(marker)][before]
    return Answer(line[len(marker):].strip(), text[-1500:])


def _is(answer, want):
    """The guest answered want; else fail showing the answer and the
    console's tail."""
    if answer != want:
        raise AssertionError(f"guest answered {answer!r}, expected {want!r}")


def _ping(ctx, c, uuid, addr):
    # a failing ping answers after ~4 s (two requests, 2 s each): typed
    # again before that it would run, and answer, twice
    return _guest(ctx, c, uuid, "ping " + addr, "VIREO-PING %s " % addr, resend_s=8)


def _wait_dev(ctx, c, uuid, dev):
    """Ask the guest for DEV's MTU until it has DEV: a hot-plugged NIC shows
    up a moment after the plug returns (the guest kernel probes it)."""
    deadline = time.monotonic() + 30
    while (got := _guest(ctx, c, uuid, "mtu " + dev, "VIREO-MTU " + dev)) == "?":
        assert time.monotonic() < deadline, "the guest never saw " + dev
        time.sleep(1)
    return got


def _net_state(hosts):
    """What the hosts' trunks look like, for a failed isolation check."""
    out = []
    for h in hosts:
        for cmd in (["ip", "-br", "link"], ["tc", "filter", "show", "dev", "eth1", "ingress"],
                    ["bridge", "fdb", "show"]):
            out.append("%s$ %s\n%s" % (h.name, " ".join(cmd), h.run(cmd).stdout))
    return "\n".join(out)


def _wait_link(ctx, c, uuid, dev, want, what):
    """Ask the guest for DEV's link until it answers want (operstate and
    carrier settle a moment after the link is set up or changed)."""
    deadline = time.monotonic() + 30
    while True:
        got = _guest(ctx, c, uuid, "link " + dev, "VIREO-LINK " + dev)
        if got == want or got.split()[-1:] == want.split()[-1:] == ["0"]:
            return
        assert time.monotonic() < deadline, "%s: guest says %r, want %r" % (what, got, want)
        time.sleep(1)


def _setup(c, networks, **kw):
    return c.call("Host.setupNetworks", networks=networks, **kw)


def test_vlan_networks_carry_vms_between_hosts(ctx):
    mig_hosts(ctx)   # libvirtd with TLS, for the migration at the end (before any guest runs)
    h0, h1 = _hosts(ctx)
    _clear(ctx)
    nets = {"red": {"nic": "eth1", "vlan": 100, "mtu": 1400},
            "blue": {"nic": "eth1", "vlan": 200},
            "green": {"nic": "eth1"},
            "store": {"nic": "eth1", "vlan": 300, "vm": False, "boot_protocol": "static",
                      "address": "10.120.0.1/24"}}
    for i, h in ((0, h0), (1, h1)):
        c = ctx.client(i)
        n = dict(nets)
        n["store"] = dict(nets["store"], address="10.120.0.%d/24" % (i + 1))
        r = _setup(c, n, connectivity_timeout=120)
        assert r["deadline"] >= time.time() + 100
        assert r["networks"]["red"]["vlan"] == 100 and r["networks"]["green"]["vlan"] is None
        assert c.call("Host.getNetworks")["pending"]["deadline"] == r["deadline"]
        # confirmed over a connection made after the change
        assert ctx.client(i).call("Host.confirmNetworks") == {"confirmed": True}
        got = c.call("Host.getNetworks")
        assert got["pending"] is None and got["bonding"] is False
        assert set(got["networks"]) == {"red", "blue", "green", "store"}
        assert got["networks"]["store"]["addresses"] == ["10.120.0.%d/24" % (i + 1)]
        eth1 = [x for x in got["nics"] if x["name"] == "eth1"][0]
        assert eth1["mtu"] == 1500 and eth1["operstate"] == "up" and eth1["carrier"] is True
        assert eth1["speed"] == 10000, eth1   # what a veth tells ethtool
        assert not any(x["name"].startswith("vrv") or x["name"] in nets for x in got["nics"])
        # the network's MTU reaches its bridge; the NIC has the largest
        assert _link(h, "red")["mtu"] == 1400 and _link(h, "blue")["mtu"] == 1500
        assert _link(h, "red")["linkinfo"]["info_kind"] == "bridge"
    # a non-VM network with an address: the hosts reach each other on VLAN 300
    assert h0.run(["busybox", "ping", "-c", "2", "-W", "2", "10.120.0.2"]).returncode == 0
    assert h0.run(["busybox", "ping", "-c", "1", "-W", "1", "10.120.0.9"]).returncode != 0

    c0, c1 = ctx.client(0), ctx.client(1)
    bw = {"inbound": {"average": 1000, "peak": 2000, "burst": 1024}, "outbound": {"average": 500}}
    # the three boot at once (one wait for their guests, not three)
    a = c0.call("VM.create", ctx.vm_spec(name="net-a", memory_mib=128,
                                         nics=[{"network": "red", "bandwidth": bw}, {"network": "green"}]))
    b = c1.call("VM.create", ctx.vm_spec(name="net-b", memory_mib=128,
                                         nics=[{"network": "red"}, {"network": "green"}]))
    x = c1.call("VM.create", ctx.vm_spec(name="net-x", memory_mib=128, nics=[{"network": "blue"}]))
    for vm, c in ((a, c0), (b, c1), (x, c1)):
        ctx.wait_console(c, vm["uuid"], "VIREO-GUEST-READY")
    # the domain XML: the network's bridge, filter on by default, MTU; the
    # bandwidth in the VM's spec (libvirt's own shaping needs sfq and police,
    # which this kernel lacks: the agent shapes the tap)
    xml = h0.virsh("dumpxml", "net-a")
    assert "<source bridge='red'/>" in xml and "<source bridge='green'/>" in xml
    assert "filter='clean-traffic'" in xml
    assert "<mtu size='1400'/>" in xml
    got = c0.call("VM.get", uuid=a["uuid"])
    assert got["spec"]["nics"][0]["bandwidth"] == bw
    tap = [d for d in got["devices"] if d["kind"] == "nic" and d.get("bridge") == "red"][0]["ifname"]
    deadline = time.monotonic() + 10
    while "vrq-" + tap not in h0.run(["ip", "-br", "link"]).stdout:
        assert time.monotonic() < deadline, h0.log_tail()
        time.sleep(0.5)
    shaped = h0.run(["tc", "qdisc", "show", "dev", tap]).stdout
    assert "tbf" in shaped and "rate 8192Kbit" in shaped, shaped
    shaped = h0.run(["tc", "qdisc", "show", "dev", "vrq-" + tap]).stdout
    assert "tbf" in shaped and "rate 4096Kbit" in shaped, shaped
    assert "mirred" in h0.run(["tc", "filter", "show", "dev", tap, "ingress"]).stdout
    for vm, c, red, green in ((a, c0, "10.100.0.1/24", "10.101.0.1/24"),
                              (b, c1, "10.100.0.2/24", "10.101.0.2/24")):
        _is(_guest(ctx, c, vm["uuid"], "ipaddr eth0 " + red, "VIREO-IPADDR eth0"), "0")
        _is(_guest(ctx, c, vm["uuid"], "ipaddr eth1 " + green, "VIREO-IPADDR eth1"), "0")
    _is(_guest(ctx, c1, x["uuid"], "ipaddr eth0 10.100.0.3/24", "VIREO-IPADDR eth0"), "0")
    # the guest NIC has the network's MTU
    _is(_guest(ctx, c0, a["uuid"], "mtu eth0", "VIREO-MTU eth0"), "1400")
    # VLAN 100 between hosts; untagged too; VLAN 200 sees neither
    _is(_ping(ctx, c0, a["uuid"], "10.100.0.2"), "ok")
    _is(_ping(ctx, c1, b["uuid"], "10.101.0.1"), "ok")
    for addr in ("10.100.0.1", "10.100.0.2"):
        got = _ping(ctx, c1, x["uuid"], addr)
        assert got == "fail", "VLAN 200 reached %s (%r):\n%s\n%s" % (
            addr, got, ctx.console(c1, x["uuid"])[-1500:], _net_state((h0, h1)))

    # port mirroring: every port of red (the veth from the wire, a's tap)
    # gets a copy-to-m program; m's own tap does not
    m = ctx.boot(c0, name="net-m", memory_mib=128,
                 nics=[{"network": "red", "mirror": True, "filter": False}])
    mtap = [d for d in c0.call("VM.get", uuid=m["uuid"])["devices"] if d["kind"] == "nic"][0]["ifname"]
    deadline = time.monotonic() + 10   # the watcher programs red's ports (every 500 ms)
    while "direct-action" not in h0.run(["tc", "filter", "show", "dev", tap, "ingress"]).stdout:
        assert time.monotonic() < deadline, h0.log_tail()
        time.sleep(0.5)
    assert "direct-action" in h0.run(["tc", "filter", "show", "dev", "vrv100-eth1b", "ingress"]).stdout
    assert "direct-action" not in h0.run(["tc", "filter", "show", "dev", mtap, "ingress"]).stdout
    assert "direct-action" not in h0.run(["tc", "filter", "show", "dev", "vrv200-eth1b", "ingress"]).stdout
    assert _ping(ctx, c0, a["uuid"], "10.100.0.2") == "ok"   # a's traffic still flows
    _is(_guest(ctx, c0, m["uuid"], "ipaddr eth0 10.102.0.9/24", "VIREO-IPADDR eth0"), "0")
    # the copies really arrive at m's tap, also of traffic from a VM on the
    # other host: b (vh1) pings a; every frame that entered red on vh0 from
    # the wire (b's requests) or from a's tap (the replies) is sent to m's
    # tap too (plus what the bridge floods to m anyway)
    def counters():
        return [int(h0.run(["cat", f"/sys/class/net/{d}/statistics/{k}"]).stdout)
                for d, k in ((mtap, "tx_packets"), (tap, "rx_packets"), ("vrv100-eth1b", "rx_packets"))]
    before = counters()
    for _ in range(3):
        _is(_ping(ctx, c1, b["uuid"], "10.100.0.1"), "ok")
    to_m, from_a, from_wire = (x - y for x, y in zip(counters(), before))
    assert from_wire >= 6 and from_a >= 6, (to_m, from_a, from_wire)
    assert to_m >= from_a + from_wire, (to_m, from_a, from_wire)
    # and m's guest sees them, listening promiscuously as a capture tool does
    # (virtio-net hands a guest frames for other MACs only then)
    _is(_guest(ctx, c0, m["uuid"], "promisc eth0", "VIREO-PROMISC eth0"), "0")
    rx_m = int(_guest(ctx, c0, m["uuid"], "rx eth0", "VIREO-RX eth0"))
    before = counters()
    for _ in range(3):
        _is(_ping(ctx, c1, b["uuid"], "10.100.0.1"), "ok")
    to_m, from_a, from_wire = (x - y for x, y in zip(counters(), before))
    got = int(_guest(ctx, c0, m["uuid"], "rx eth0", "VIREO-RX eth0")) - rx_m
    assert got >= from_a + from_wire >= 12, (got, to_m, from_a, from_wire)
    # and a's outbound traffic went through its ifb
    out = h0.run(["tc", "-s", "filter", "show", "dev", tap, "ingress"]).stdout
    sent = [int(ln.split()[3]) for ln in out.splitlines() if ln.strip().startswith("Sent ")]
    assert sent and max(sent) > 0, out

    # a network a running VM uses cannot go; nothing changes
    before = c1.call("Host.getNetworks")["networks"]
    e = expect_error(ERR_NETWORK, _setup, c1, {"blue": {"remove": True}}, check_connectivity=False)
    assert "net-x" in e.message and "blue" in e.message
    assert c1.call("Host.getNetworks")["networks"] == before

    # hot change: x moves from blue to green and now reaches a there; not
    # onto red, whose MTU differs (libvirt cannot change it live)
    mac_x = [d for d in x["devices"] if d["kind"] == "nic"][0]["mac"]
    e = expect_error(ERR_NETWORK, c1.call, "VM.updateNic", uuid=x["uuid"], mac=mac_x, network="red")
    assert "MTU" in e.message
    # (the filter learnt 10.100.0.3 for this MAC: a new address needs it off)
    r = c1.call("VM.updateNic", uuid=x["uuid"], mac=mac_x, network="green", filter=False)
    assert r["network"] == "green" and r["filter"] is False
    xml = h1.virsh("dumpxml", "net-x")
    assert "<source bridge='green'/>" in xml and "clean-traffic" not in xml
    _is(_guest(ctx, c1, x["uuid"], "ipaddr eth0 10.101.0.3/24", "VIREO-IPADDR eth0"), "0")
    _is(_ping(ctx, c1, x["uuid"], "10.101.0.1"), "ok")
    # hot plug onto a network: the guest gets a NIC with link
    # (a subnet of its own: x's eth0 still has 10.100.0.3; m, on vh0 without
    # a filter, answers on 10.102.0.9)
    plugged = c1.call("VM.hotplugNic", uuid=x["uuid"], nic={"network": "red"})
    assert plugged["bridge"] == "red"
    assert _wait_dev(ctx, c1, x["uuid"], "eth1") == "1400"
    _is(_guest(ctx, c1, x["uuid"], "ipaddr eth1 10.102.0.3/24", "VIREO-IPADDR eth1"), "0")
    _wait_link(ctx, c1, x["uuid"], "eth1", "up 1", "hot-plugged NIC")
    _is(_ping(ctx, c1, x["uuid"], "10.102.0.9"), "ok")
    # link down and up again, seen by the guest
    c1.call("VM.updateNic", uuid=x["uuid"], mac=plugged["mac"], link="down")
    assert "<link state='down'/>" in h1.virsh("dumpxml", "net-x")
    _wait_link(ctx, c1, x["uuid"], "eth1", "down 0", "link set down")
    c1.call("VM.updateNic", uuid=x["uuid"], mac=plugged["mac"], link="up")
    _wait_link(ctx, c1, x["uuid"], "eth1", "up 1", "link set up again")

    # what a host cannot give a VM NIC: clear -32013, no VM
    for nic, words in (({"network": "nosuch"}, "has no network nosuch"),
                       ({"network": "store"}, "not a VM network"),
                       ({"network": "red", "passthrough": True}, "SR-IOV")):
        e = expect_error(ERR_NETWORK, c0.call, "VM.create", ctx.vm_spec(nics=[nic]))
        assert words in e.message and "vh0" in e.message, e.message
        expect_error(ERR_NETWORK, c0.call, "VM.hotplugNic", uuid=a["uuid"], nic=nic)
    expect_error(ERR_PARAMS, c0.call, "VM.hotplugNic", uuid=a["uuid"],
                 nic={"network": "red", "bridge": "green"})
    expect_error(ERR_PARAMS, c0.call, "VM.updateNic", uuid=a["uuid"], mac=mac_x, link="up")
    mac_a = [d for d in a["devices"] if d["kind"] == "nic"][0]["mac"]
    expect_error(ERR_PARAMS, c0.call, "VM.updateNic", uuid=a["uuid"], mac=mac_a, link="sideways")
    expect_error(ERR_PARAMS, c0.call, "VM.updateNic", uuid=a["uuid"], mac=mac_a, colour="red")
    c0.call("VM.destroy", uuid=m["uuid"])
    deadline = time.monotonic() + 10   # m's tap gone, its mirror programs go
    while "direct-action" in h0.run(["tc", "filter", "show", "dev", tap, "ingress"]).stdout:
        assert time.monotonic() < deadline, h0.log_tail()
        time.sleep(0.5)

    # live migration with networks: x (green, and red hot-plugged) moves to
    # vh0 and its NICs land on vh0's bridges of the same networks; it still
    # reaches b on vh1 over green, now across the wire, and a on red
    r = c1.call("VM.migrate", uuid=x["uuid"], dest={"host": h0.name})
    job = job_end(c1, r["job"])
    assert job["state"] == "succeeded", (job, h1.log_tail(40))
    xml = h0.virsh("dumpxml", "net-x")
    assert "<source bridge='green'/>" in xml and "<source bridge='red'/>" in xml, xml
    assert "net-x" not in h1.virsh("list", "--name").split()
    assert _ping(ctx, c0, x["uuid"], "10.101.0.2") == "ok"   # b, on vh1
    # destroyed at once, each through a client of its own (a QEMU takes a
    # second or more to go)
    failed = []

    def destroy(i, vm):
        try:
            with ctx.client(i) as c:
                c.call("VM.destroy", uuid=vm["uuid"])
        except Exception as e:  # raised below, in the test's thread
            failed.append((vm["uuid"], e))
    threads = [threading.Thread(target=destroy, args=(i, vm)) for vm, i in ((a, 0), (b, 1), (x, 0))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failed, failed
    _clear(ctx)
    # the agent's devices are gone; eth1 is what it was
    for h in (h0, h1):
        for name in ("red", "blue", "green", "store", "vrv100-eth1a", "vrv0-eth1b"):
            assert _link(h, name) is None, name
        assert "clsact" not in h.run(["tc", "qdisc", "show", "dev", "eth1"]).stdout


def test_bad_setups_change_nothing(ctx):
    h0, _ = _hosts(ctx)
    _clear(ctx)
    c = ctx.client(0)
    _setup(c, {"red": {"nic": "eth1", "vlan": 100}, "green": {"nic": "eth1"}},
           check_connectivity=False)
    before = c.call("Host.getNetworks")
    links = h0.run(["ip", "-br", "link"]).stdout
    bad = [
        (ERR_PARAMS, {"networks": {"n1": {"nic": "eth1", "vlan": 0}}}),
        (ERR_PARAMS, {"networks": {"n1": {"nic": "eth1", "vlan": 4095}}}),
        (ERR_PARAMS, {"networks": {"n1": {"nic": "eth1", "vlan": "7"}}}),
        (ERR_PARAMS, {"networks": {"n1": {"nic": "eth1", "vlan": 7, "mtu": 67}}}),
        (ERR_PARAMS, {"networks": {"n1": {"nic": "eth1", "vlan": 7, "mtu": 65536}}}),
        (ERR_PARAMS, {"networks": {"n1": {"nic": "eth1"}}}),                 # 2nd untagged
        (ERR_PARAMS, {"networks": {"n1": {"nic": "eth1", "vlan": 100}}}),    # VLAN twice
        (ERR_PARAMS, {"networks": {"n1": {"nic": "eth1", "vlan": 7, "colour": 1}}}),
        (ERR_PARAMS, {"networks": {"n1": {"vlan": 7}}}),
        (ERR_PARAMS, {"networks": {"a23456789012345x": {"nic": "eth1", "vlan": 7}}}),
        (ERR_PARAMS, {"networks": {"re\"d": {"nic": "eth1", "vlan": 7}}}),
        (ERR_PARAMS, {"networks": {"<b>": {"nic": "eth1", "vlan": 7}}}),
        (ERR_PARAMS, {"networks": {"vrv7": {"nic": "eth1", "vlan": 7}}}),
        (ERR_PARAMS, {"networks": {"n1": {"nic": "eth<1", "vlan": 7}}}),
        (ERR_PARAMS, {"networks": {"n1": {"nic": "eth1", "vlan": 7, "boot_protocol": "static"}}}),
        (ERR_PARAMS, {"networks": {"n1": {"nic": "eth1", "vlan": 7, "boot_protocol": "static",
                                          "address": "10.1.0.300/24"}}}),
        (ERR_PARAMS, {"networks": {"n1": {"nic": "eth1", "vlan": 7, "gateway": "10.1.0.1"}}}),
        (ERR_PARAMS, {"networks": {"red": {"remove": True, "nic": "eth1"}}}),
        (ERR_PARAMS, {"networks": {"n1": {"nic": "eth1", "vlan": 7}}, "extra": True}),
        (ERR_PARAMS, {"networks": {"n1": {"nic": "eth1", "vlan": 7}},
                      "connectivity_timeout": 0}),
        (ERR_PARAMS, {"bonds": {"bond0": {"nics": ["eth1"], "mode": 1}}}),
        (ERR_PARAMS, {"bonds": {"bond0": {"nics": ["eth1", "eth2"], "mode": 7}}}),
        (ERR_PARAMS, {"bonds": {"bond0": {"nics": ["eth1", "eth1"]}}}),
        (ERR_PARAMS, {"networks": {"n1": {"nic": "bond0", "vlan": 7}},
                      "bonds": {"bond0": {"nics": ["eth1", "eth2"], "mode": 0}}}),
        (ERR_NETWORK, {"networks": {"n1": {"nic": "bond0", "vlan": 7}},
                       "bonds": {"bond0": {"nics": ["eth1", "eth2"], "mode": 1}}}),
        (ERR_NETWORK, {"networks": {"n1": {"nic": "eth9", "vlan": 7}}}),
        (ERR_NETWORK, {"networks": {"n1": {"nic": "eth1234567", "vlan": 7}}}),   # veth name
        (ERR_NETWORK, {"networks": {"n1": {"nic": "lo", "vlan": 7}, "n2": {"nic": "eth1", "vlan": 8}}}),
        (ERR_NETWORK, {"networks": {"eth0": {"nic": "eth1", "vlan": 7}}}),       # not ours
        (ERR_NETWORK, {"networks": {"n1": {"nic": "red", "vlan": 7}}}),          # a bridge
        (ERR_NETWORK, {"networks": {"nosuch": {"remove": True}}}),
        (ERR_PARAMS, {"networks": {"n1": {"nic": "eth1", "vlan": 7, "boot_protocol": "dhcp",
                                          "address": "10.1.0.3/24"}}}),
        (ERR_PARAMS, {"networks": {"n1": {"nic": "eth1", "vlan": 7, "boot_protocol": "bootp"}}}),
    ]
    for code, params in bad:
        e = expect_error(code, c.call, "Host.setupNetworks", params)
        assert e.message, params
    msg = expect_error(ERR_NETWORK, c.call, "Host.setupNetworks",
                       {"bonds": {"bond0": {"nics": ["eth1", "eth2"]}}}).message
    assert "no bonding module" in msg
    # more VLANs than one NIC's program tells apart: refused before any is made
    too_many = {"v%d" % v: {"nic": "eth1", "vlan": v} for v in range(1000, 1583)}
    msg = expect_error(ERR_NETWORK, _setup, c, too_many, check_connectivity=False).message
    assert "NIC eth1 would carry more than 582 VLANs" in msg, msg
    expect_error(ERR_NETWORK, c.call, "Host.confirmNetworks")
    expect_error(ERR_PARAMS, c.call, "Host.confirmNetworks", {"now": True})
    expect_error(ERR_PARAMS, c.call, "Host.getNetworks", {"x": 1})
    after = c.call("Host.getNetworks")
    assert after["networks"] == before["networks"] and after["pending"] is None
    assert h0.run(["ip", "-br", "link"]).stdout == links
    _clear(ctx)


def test_unconfirmed_setup_rolls_back_and_management_moves(ctx):
    h0, _ = _hosts(ctx)
    _clear(ctx)
    c = ctx.client(0)
    c.call("Host.subscribe")
    _setup(c, {"red": {"nic": "eth1", "vlan": 100}}, check_connectivity=False)
    r = _setup(c, {"blue": {"nic": "eth1", "vlan": 200, "mtu": 9000}, "red": {"remove": True}},
               connectivity_timeout=3)
    assert r["deadline"] is not None and set(r["networks"]) == {"blue"}
    assert _link(h0, "blue")["mtu"] == 9000 and _link(h0, "red") is None
    ev = c.wait_event(lambda p: "reason" in p and "networks" in p, timeout=20)
    assert "not confirmed within 3 s" in ev["reason"] and set(ev["networks"]) == {"red"}
    got = c.call("Host.getNetworks")
    assert set(got["networks"]) == {"red"} and got["pending"] is None
    assert _link(h0, "blue") is None and _link(h0, "red") is not None
    assert _link(h0, "eth1")["mtu"] == 1500
    expect_error(ERR_NETWORK, c.call, "Host.confirmNetworks")
    # the NIC takes its largest network's MTU, and gets its own back when
    # its last network goes
    _setup(c, {"blue": {"nic": "eth1", "vlan": 200, "mtu": 9000}}, check_connectivity=False)
    assert _link(h0, "eth1")["mtu"] == 9000
    _setup(c, {"blue": {"remove": True}, "red": {"remove": True}}, check_connectivity=False)
    assert _link(h0, "eth1")["mtu"] == 1500 and _link(h0, "red") is None

    # the management network onto the management NIC: the address (and the
    # default route) move to its bridge, the host stays reachable
    addr = h0.addr + "/24"
    r = _setup(c, {"vireomgmt": {"nic": "eth0"}}, connectivity_timeout=60)
    assert c.call("Host.ping") == {"pong": True}   # the old connection survives
    c2 = ctx.client(0)
    assert c2.call("Host.ping") == {"pong": True}
    assert c2.call("Host.confirmNetworks") == {"confirmed": True}
    assert _addrs(h0, "vireomgmt") == [addr] and _addrs(h0, "eth0") == []
    assert "vireomgmt" in h0.run(["ip", "route", "show", "default"]).stdout
    got = c2.call("Host.getNetworks")
    assert got["networks"]["vireomgmt"]["addresses"] == [addr]
    # and back: the NIC gets its address and route again
    _setup(c2, {"vireomgmt": {"remove": True}}, check_connectivity=False)
    assert _addrs(h0, "eth0") == [addr] and _link(h0, "vireomgmt") is None
    assert "eth0" in h0.run(["ip", "route", "show", "default"]).stdout
    assert ctx.client(0).call("Host.ping") == {"pong": True}
    _clear(ctx)


def test_killed_agent_restores_last_good_configuration(ctx):
    _, h1 = _hosts(ctx)
    _clear(ctx)
    c = ctx.client(1)
    _setup(c, {"red": {"nic": "eth1", "vlan": 100}}, connectivity_timeout=60)
    c.call("Host.confirmNetworks")
    r = _setup(c, {"blue": {"nic": "eth1", "vlan": 200}, "red": {"remove": True}},
               connectivity_timeout=120)
    assert r["deadline"] is not None
    h1.kill_agent()
    assert _link(h1, "blue") is not None and _link(h1, "red") is None
    h1.start_agent(wait=True)
    try:
        got = ctx.client(1).call("Host.getNetworks")
    except RpcError:
        raise
    assert set(got["networks"]) == {"red"} and got["pending"] is None
    assert got["networks"]["red"]["vlan"] == 100
    assert _link(h1, "blue") is None and _link(h1, "vrv200-eth1a") is None
    assert _link(h1, "red") is not None and _link(h1, "vrv100-eth1b")["master"] == "red"

    # Killed in the middle of a setup: 200 VLAN networks are being made when
    # the agent gets kill -9 (once the first of their bridges shows in the
    # host, before the setup answered). The restarted agent takes away what
    # that setup made and runs the last good configuration again.
    many = {"m%d" % v: {"nic": "eth1", "vlan": v} for v in range(1000, 1200)}
    c, out = ctx.client(1), {}

    def call():
        try:
            out["reply"] = _setup(c, many, check_connectivity=False)
        except Exception as e:   # the connection dies with the agent
            out["error"] = e
    t = threading.Thread(target=call)
    t.start()

    def present():   # the host's devices, from its network namespace
        with open("/proc/%d/net/dev" % h1.holder.pid) as f:
            return {ln.split(":")[0].strip() for ln in f if ":" in ln}
    deadline = time.monotonic() + 60
    while not set(many) & present():
        assert time.monotonic() < deadline and t.is_alive(), (out, h1.log_tail())
        time.sleep(0.001)
    h1.kill_agent()
    t.join(10)
    made = set(many) & present()
    assert "reply" not in out and "error" in out, out
    assert 0 < len(made) < len(many), len(made)   # cut midway
    h1.start_agent(wait=True)
    got = ctx.client(1).call("Host.getNetworks")
    assert set(got["networks"]) == {"red"} and got["pending"] is None, got["networks"].keys()
    assert not {n for n in present() if n in many or n.startswith("vrv1")} - {"vrv100-eth1a", "vrv100-eth1b"}
    assert _link(h1, "vrv100-eth1b")["master"] == "red"
    _clear(ctx)


def _dhcp_pid(h, net):
    """The pid of the agent's DHCP client of NET in host h (its pid file),
    or None when none runs."""
    try:
        with open(os.path.join(h.dir, "vireo-run", "dhcp", net + ".pid")) as f:
            pid = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return pid if b"udhcpc" in f.read() else None
    except OSError:
        return None


def _leases(path):
    """Addresses in dnsmasq's lease file (expiry mac ip name id)."""
    try:
        with open(path) as f:
            return [ln.split()[2] for ln in f if len(ln.split()) > 2]
    except FileNotFoundError:
        return []


def _wait(cond, what, timeout=15):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_dhcp_boot_protocol(ctx):
    """A non-VM network with boot_protocol dhcp gets its address from a real
    DHCP server (dnsmasq in the other host, on the same VLAN): reported,
    released when the network goes or is rolled back, and given again by a
    new client when the agent restarts after its client died."""
    h0, h1 = _hosts(ctx)
    _clear(ctx)
    c0, c1 = ctx.client(0), ctx.client(1)
    _setup(c0, {"dsrv": {"nic": "eth1", "vlan": 400, "vm": False, "boot_protocol": "static",
                         "address": "10.130.0.1/24"}}, check_connectivity=False)
    leasefile = os.path.join(h0.dir, "dnsmasq.leases")
    open(leasefile, "w").close()
    srv = h0.popen(["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--port=0",
                    "--interface=dsrv", "--bind-interfaces", "--user=root",
                    "--dhcp-range=10.130.0.50,10.130.0.59,255.255.255.0,10m",
                    "--dhcp-leasefile=" + leasefile, "--dhcp-authoritative",
                    "--log-facility=" + os.path.join(h0.dir, "dnsmasq.log")],
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        dhcp = {"dnet": {"nic": "eth1", "vlan": 400, "vm": False, "boot_protocol": "dhcp"}}
        # the address comes with the setup's answer; unconfirmed, it goes back
        c1.call("Host.subscribe")
        r = _setup(c1, dhcp, connectivity_timeout=3)
        got = r["networks"]["dnet"]
        assert got["boot_protocol"] == "dhcp" and len(got["addresses"]) == 1, (got, h1.log_tail())
        addr = got["addresses"][0]
        assert addr.startswith("10.130.0.5") and addr.endswith("/24"), addr
        assert got["dhcp_lease"]["address"] == addr and got["dhcp_lease"]["server"] == "10.130.0.1"
        ip = addr.split("/")[0]
        assert ip in _leases(leasefile)
        assert h1.run(["busybox", "ping", "-c", "1", "-W", "2", "10.130.0.1"]).returncode == 0
        first = _dhcp_pid(h1, "dnet")
        assert first, "no DHCP client runs"
        c1.wait_event(lambda p: "reason" in p and "networks" in p, timeout=20)
        assert c1.call("Host.getNetworks")["networks"] == {}
        assert _dhcp_pid(h1, "dnet") is None and _link(h1, "dnet") is None
        _wait(lambda: ip not in _leases(leasefile), "the rollback did not release %s" % ip)

        # confirmed: the last good configuration; its client dies with the
        # agent, and the restarted agent runs a new one that gets an address
        _setup(c1, dhcp, connectivity_timeout=60)
        assert ctx.client(1).call("Host.confirmNetworks") == {"confirmed": True}
        pid = _dhcp_pid(h1, "dnet")
        h1.kill_agent()
        os.kill(pid, signal.SIGKILL)
        _wait(lambda: _dhcp_pid(h1, "dnet") is None, "the DHCP client did not die")
        h1.start_agent(wait=True)
        c1 = ctx.client(1)
        got = c1.call("Host.getNetworks")["networks"]["dnet"]
        new = _dhcp_pid(h1, "dnet")
        assert new and new != pid and len(got["addresses"]) == 1, (got, h1.log_tail())
        assert got["addresses"][0].startswith("10.130.0.5")
        assert got["addresses"][0].split("/")[0] in _leases(leasefile)

        # detached: released, no client, no address
        ip = got["addresses"][0].split("/")[0]
        _setup(c1, {"dnet": {"remove": True}}, check_connectivity=False)
        assert _dhcp_pid(h1, "dnet") is None and _link(h1, "dnet") is None
        _wait(lambda: ip not in _leases(leasefile), "detaching did not release %s" % ip)
    finally:
        srv.terminate()
        srv.wait(10)
    _clear(ctx)
