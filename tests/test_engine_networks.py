"""Logical networks in the engine (docs/networks.md "Engine"): networks,
vNIC profiles, a cluster's networks, a host's NICs and network setup
through the REST API and the CLI. Each refusal is proven to change nothing
by reading back. The rules run without harness hosts (hosts without
agents); the end-to-end scenario runs real agents: a required network
makes hosts nonoperational until setupnetworks puts it on their second
NIC, then a VM on the network's profile starts on it."""

import json
import os
import time

from harness.engine import CliSession, Engine, expect_fault, run_sql
from harness.context import one_backend
from harness.xdp import XdpPass
from test_agent_network import _guest, _is, _ping

MISSING = "0b7a5a37-1111-4222-8333-444455556666"


def _settled_ping(ctx, c, uuid, addr):
    """The guest's ping answer once earlier ones stopped coming: a late
    answer of the previous ping must not pass for this one's (_ping types
    a command again only after 8 s, so a second answer is rare)."""
    marker, seen = "VIREO-PING %s " % addr, -1
    while (now := ctx.console(c, uuid).count(marker)) != seen:
        seen = now
        time.sleep(1.5)
    return _ping(ctx, c, uuid, addr)


def _nets(eng, dc_id=None):
    path = f"/api/datacenters/{dc_id}/networks" if dc_id else "/api/networks"
    return {n["name"]: n for n in eng.get(path)["networks"]}


def test_network_rules_rest_and_cli(ctx):
    with Engine(ctx) as eng:
        dc = eng.create_dc("ndc1")
        dc2 = eng.create_dc("ndc2")
        # ---- every data center has its management network and default profile
        for d in (dc, dc2):
            nets = _nets(eng, d["id"])
            assert list(nets) == ["vireomgmt"], nets
            m = nets["vireomgmt"]
            assert (m["vm"], m["vlan"], m["mtu"], m["roles"]) == (True, None, 1500, ["management"]), m
            profs = eng.get(f"/api/networks/{m['id']}/vnicprofiles")["vnicprofiles"]
            assert [(p["name"], p["network_filter"], p["qos"]) for p in profs] == [("vireomgmt", True, None)], profs
        mgmt = _nets(eng, dc["id"])["vireomgmt"]
        # ---- a cluster gets it, required; it cannot be detached
        cl = eng.create_cluster("ncl1", dc["id"])
        cn = eng.get(f"/api/clusters/{cl['id']}/networks")
        assert [(x["name"], x["required"], x["management"]) for x in cn["networks"]] == [("vireomgmt", True, True)], cn
        expect_fault(eng.request("DELETE", f"/api/clusters/{cl['id']}/networks/{mgmt['id']}"), 409, "management network")
        # Hosts without agents (nobody listens there): never up.
        host = eng.create_host("nhost0", "127.0.0.1", cl["id"], port=9)

        # ---- create: defaults, VLAN, MTU, roles; a VM network gets a profile of its name
        red = eng.call("POST", "/api/networks", {"name": "red", "datacenter": dc["id"], "vlan": 100}, expect=201)
        assert (red["vm"], red["vlan"], red["mtu"], red["roles"], red["description"]) == (True, 100, 1500, [], ""), red
        assert red["href"] == f"/api/networks/{red['id']}", red
        stor = eng.call("POST", f"/api/datacenters/{dc['id']}/networks",
                        {"name": "stor_1", "vm": False, "mtu": 9000, "roles": ["migration", "display"]}, expect=201)
        assert (stor["vm"], stor["vlan"], stor["mtu"], stor["roles"]) == (False, None, 9000, ["migration", "display"])
        assert eng.get(f"/api/networks/{stor['id']}/vnicprofiles")["total"] == 0
        red_prof = eng.get(f"/api/networks/{red['id']}/vnicprofiles")["vnicprofiles"]
        assert [p["name"] for p in red_prof] == ["red"], red_prof
        # the same name in another data center is another network
        eng.call("POST", "/api/networks", {"name": "red", "datacenter": dc2["id"], "vlan": 200}, expect=201)
        assert eng.list("networks", search="name=red")["total"] == 2

        # ---- bad input: clear 400/409, nothing stored
        before = eng.list("networks")["total"]
        bad = [({"name": "v0", "datacenter": dc["id"], "vlan": 0}, 400, "vlan must be from 1 to 4094"),
               ({"name": "v4095", "datacenter": dc["id"], "vlan": 4095}, 400, "vlan must be from 1 to 4094"),
               ({"name": "m67", "datacenter": dc["id"], "mtu": 67}, 400, "mtu must be from 68 to 65535"),
               ({"name": "m65536", "datacenter": dc["id"], "mtu": 65536}, 400, "mtu"),
               ({"name": "red", "datacenter": dc["id"]}, 409, "already has a network named 'red'"),
               ({"name": "a<b", "datacenter": dc["id"]}, 400, "1-15 bytes"),
               ({"name": "it's", "datacenter": dc["id"]}, 400, "1-15 bytes"),
               ({"name": "sixteen-bytes-xx", "datacenter": dc["id"]}, 400, "longer than 15"),
               ({"name": "", "datacenter": dc["id"]}, 400, None),
               ({"name": "vrt-eth1", "datacenter": dc["id"]}, 400, "agent's own devices"),
               ({"name": "x", "datacenter": dc["id"], "colour": "red"}, 400, "unknown member 'colour'"),
               ({"name": "x", "datacenter": dc["id"], "vlan": "100"}, 400, "vlan must be an integer"),
               ({"name": "x", "datacenter": dc["id"], "roles": ["boss"]}, 400, "roles[0]"),
               ({"name": "x", "datacenter": dc["id"], "roles": ["display", "display"]}, 400, "each once"),
               ({"name": "x", "datacenter": MISSING}, 400, "no data center"),
               ({"name": "x"}, 400, "missing required member 'datacenter'")]
        for body, status, detail in bad:
            expect_fault(eng.request("POST", "/api/networks", body), status, detail)
        assert eng.list("networks")["total"] == before
        expect_fault(eng.request("PUT", f"/api/networks/{red['id']}", {"vlan": 4095}), 400, "vlan")
        expect_fault(eng.request("PUT", f"/api/networks/{red['id']}", {"name": "blue"}), 409, "cannot be changed")
        assert eng.get(f"/api/networks/{red['id']}")["vlan"] == 100
        red = eng.call("PUT", f"/api/networks/{red['id']}", {"mtu": 1400, "description": "the red one"})
        assert (red["mtu"], red["description"], red["vlan"]) == (1400, "the red one", 100), red

        # ---- vNIC profiles: QoS as libvirt bandwidth, filter on by default
        qos = {"inbound": {"average": 1000, "peak": 2000, "burst": 1024}, "outbound": {"average": 500}}
        gold = eng.call("POST", "/api/vnicprofiles", {"name": "red-gold", "network": red["id"], "qos": qos,
                                                      "port_mirroring": True}, expect=201)
        assert (gold["qos"], gold["port_mirroring"], gold["network_filter"], gold["passthrough"]) == \
            (qos, True, True, False), gold
        n_prof = eng.list("vnicprofiles")["total"]
        for body, detail in [({"name": "p", "network": stor["id"]}, "not a VM network"),
                             ({"name": "p", "network": red["id"], "qos": {"inbound": {"peak": 5}}}, "average"),
                             ({"name": "p", "network": red["id"], "qos": {"inbound": {"average": 0}}}, "from 1"),
                             ({"name": "p", "network": red["id"], "qos": {"sideways": {"average": 1}}}, "unknown"),
                             ({"name": "p", "network": red["id"], "passthrough": True, "qos": qos}, "passthrough"),
                             ({"name": "p<", "network": red["id"]}, "name"),
                             ({"name": "p", "network": MISSING}, "no network")]:
            expect_fault(eng.request("POST", "/api/vnicprofiles", body), 400, detail)
        expect_fault(eng.request("POST", "/api/vnicprofiles", {"name": "red-gold", "network": red["id"]}), 409,
               "already has a vNIC profile")
        assert eng.list("vnicprofiles")["total"] == n_prof

        # ---- a cluster's networks: attach (other data center refused), required by default
        other = _nets(eng, dc2["id"])["red"]
        expect_fault(eng.request("POST", f"/api/clusters/{cl['id']}/networks", {"network": other["id"]}), 400,
               "another data center")
        att = eng.call("POST", f"/api/clusters/{cl['id']}/networks", {"network": red["id"]}, expect=201)
        assert (att["name"], att["required"], att["vlan"], att["management"]) == ("red", True, 100, False), att
        expect_fault(eng.request("POST", f"/api/clusters/{cl['id']}/networks", {"network": red["id"]}), 409,
               "already attached")
        att = eng.call("PUT", f"/api/clusters/{cl['id']}/networks/{red['id']}", {"required": False})
        assert att["required"] is False, att
        expect_fault(eng.request("DELETE", f"/api/networks/{red['id']}"), 409, "attached to cluster 'ncl1'")

        # ---- VM NICs on profiles: by network name (its default profile) or by profile
        vm = eng.create_vm("nvm1", cl["id"])
        nic = eng.call("POST", f"/api/vms/{vm['id']}/nics", {"network": "red"}, expect=201)
        assert nic["profile"] == red_prof[0]["id"] and "network" not in nic, nic
        nic2 = eng.call("POST", f"/api/vms/{vm['id']}/nics", {"profile": gold["id"], "model": "e1000"}, expect=201)
        assert nic2["profile"] == gold["id"], nic2
        spec_nics = eng.vm(vm["id"])["nics"]
        for body, status, detail in [({"network": "stor_1"}, 400, "no VM network 'stor_1'"),
                                     ({"network": "nope"}, 400, "no VM network 'nope'"),
                                     ({"profile": MISSING}, 400, "no vNIC profile"),
                                     ({"profile": gold["id"], "network": "red"}, 400, "not both"),
                                     ({"network": "red", "bridge": "br0"}, 400, "no bridge")]:
            expect_fault(eng.request("POST", f"/api/vms/{vm['id']}/nics", body), status, detail)
        # a network not attached to the VM's cluster
        eng.call("POST", "/api/networks", {"name": "blue", "datacenter": dc["id"], "vlan": 101}, expect=201)
        expect_fault(eng.request("POST", f"/api/vms/{vm['id']}/nics", {"network": "blue"}), 409, "not attached")
        assert eng.vm(vm["id"])["nics"] == spec_nics
        # A down VM's NIC changes at once (link state, profile); a profile
        # whose network is not attached, and a VM migrating: 409, unchanged.
        got = eng.call("PUT", f"/api/vms/{vm['id']}/nics/{nic['mac']}", {"linked": False, "profile": gold["id"]})
        assert (got["linked"], got["profile"], got["mac"]) == (False, gold["id"], nic["mac"]), got
        assert eng.vm(vm["id"])["nics"][0] == {**spec_nics[0], "linked": False, "profile": gold["id"]}
        blue_prof = eng.get(f"/api/networks/{_nets(eng, dc['id'])['blue']['id']}/vnicprofiles")["vnicprofiles"][0]
        expect_fault(eng.request("PUT", f"/api/vms/{vm['id']}/nics/{nic['mac']}", {"profile": blue_prof["id"]}),
                     409, "not attached")
        run_sql(eng, f"UPDATE vms SET status = 'migrating' WHERE id = '{vm['id']}'")
        expect_fault(eng.request("PUT", f"/api/vms/{vm['id']}/nics/{nic['mac']}", {"linked": True}), 409,
                     "is migrating")
        run_sql(eng, f"UPDATE vms SET status = 'down' WHERE id = '{vm['id']}'")
        assert eng.vm(vm["id"])["nics"][0]["linked"] is False
        # In use: the profile, the network (the VM named before its cluster), its detach from the
        # cluster, a VLAN change while running
        expect_fault(eng.request("DELETE", f"/api/vnicprofiles/{gold['id']}"), 409, "used by VM 'nvm1'")
        expect_fault(eng.request("DELETE", f"/api/networks/{red['id']}"), 409, "network 'red' is used by VM 'nvm1'")
        expect_fault(eng.request("DELETE", f"/api/clusters/{cl['id']}/networks/{red['id']}"), 409, "used by VM 'nvm1'")
        run_sql(eng, f"UPDATE vms SET status = 'up' WHERE id = '{vm['id']}'")
        expect_fault(eng.request("PUT", f"/api/networks/{red['id']}", {"vlan": 102}), 409, "running")
        run_sql(eng, f"UPDATE vms SET status = 'down' WHERE id = '{vm['id']}'")
        assert eng.get(f"/api/networks/{red['id']}")["vlan"] == 100
        # The VM cannot be placed: no host runs red (nor is up).
        eng.call("DELETE", f"/api/vms/{vm['id']}/nics/{nic['mac']}", expect=204)
        eng.call("DELETE", f"/api/vms/{vm['id']}/nics/{nic2['mac']}", expect=204)
        eng.call("DELETE", f"/api/vnicprofiles/{gold['id']}", expect=204)
        eng.call("DELETE", f"/api/clusters/{cl['id']}/networks/{red['id']}", expect=204)

        # ---- host NICs: what the agent reported (none here), read-only
        assert eng.get(f"/api/hosts/{host['id']}/nics") == {"nics": [], "total": 0}
        expect_fault(eng.request("POST", f"/api/hosts/{host['id']}/nics", {"name": "eth9"}), 405)

        # ---- setupnetworks: checked before anything is sent (the host is not up here)
        sn = f"/api/hosts/{host['id']}/setupnetworks"
        expect_fault(eng.request("POST", sn, {"attachments": [{"network": "red", "nic": "eth1"}]}), 409, "is connecting")
        run_sql(eng, f"UPDATE hosts SET status = 'maintenance' WHERE id = '{host['id']}'")
        eng.call("POST", f"/api/clusters/{cl['id']}/networks", {"network": red["id"]}, expect=201)
        blue = _nets(eng, dc["id"])["blue"]
        eng.call("POST", f"/api/clusters/{cl['id']}/networks", {"network": blue["id"], "required": False}, expect=201)
        eng.call("POST", f"/api/clusters/{cl['id']}/networks", {"network": stor["id"]}, expect=201)
        jobs = eng.list("jobs")["total"]
        for body, status, detail in [
                ({}, 400, "nothing to set up"),
                ({"attachments": [{"network": "green", "nic": "eth1"}]}, 400, "no network 'green'"),
                ({"attachments": [{"network": other["id"], "nic": "eth1"}]}, 400, "another data center"),
                ({"attachments": [{"network": "red", "nic": "eth1"}, {"network": red["id"], "nic": "eth2"}]}, 400,
                 "named twice"),
                ({"attachments": [{"network": "vireomgmt", "nic": "eth1"}, {"network": "stor_1", "nic": "eth1"}]},
                 400, "two untagged networks"),
                ({"attachments": [{"network": "red", "nic": "eth1<"}]}, 400, "must name a host NIC"),
                ({"attachments": [{"network": "red", "nic": "eth1", "vlan": 5}]}, 400, "unknown member 'vlan'"),
                ({"attachments": [{"network": "red", "nic": "eth1", "boot_protocol": "static"}]}, 400, "address"),
                ({"attachments": [{"network": "stor_1", "nic": "eth1", "boot_protocol": "static",
                                   "address": "10.1.0.300/24"}]}, 400, "IPv4 CIDR"),
                ({"attachments": [{"network": "stor_1", "nic": "eth1", "boot_protocol": "dhcp",
                                   "address": "10.1.0.3/24"}]}, 400, "address"),
                ({"attachments": [{"network": "red", "nic": "bond0"}], "bonds": {"bond0": {"nics": ["eth1"],
                                                                                          "mode": 1}}},
                 400, "at least 2 NICs"),
                ({"attachments": [{"network": "red", "nic": "bond0"}], "bonds": {"bond0": {"nics": ["eth1", "eth2"],
                                                                                          "mode": 7}}},
                 400, "mode must be an integer from 0 to 6"),
                ({"attachments": [{"network": "red", "nic": "bond0"}], "bonds": {"bond0": {"nics": ["eth1", "eth2"],
                                                                                          "mode": 0}}},
                 400, "cannot carry a VM network"),
                ({"attachments": [{"network": "red", "nic": "eth1"}], "removed": ["red"]}, 400, "both attached"),
                ({"removed": ["nope"]}, 400, "no network 'nope'"),
                ({"attachments": [{"network": "red", "nic": "eth1"}], "check_connectivity": "yes"}, 400,
                 "must be a boolean"),
                ({"attachments": [{"network": "red", "nic": "eth1"}], "connectivity_timeout": 0}, 400, "from 1"),
                ({"attachments": [{"network": "red", "nic": "eth1"}], "extra": 1}, 400, "unknown member")]:
            expect_fault(eng.request("POST", sn, body), status, detail)
        # a network not attached to the host's cluster
        eng.call("DELETE", f"/api/clusters/{cl['id']}/networks/{blue['id']}", expect=204)
        expect_fault(eng.request("POST", sn, {"attachments": [{"network": "blue", "nic": "eth1"}]}), 409, "not attached")
        assert eng.list("jobs")["total"] == jobs
        assert eng.get(f"/api/hosts/{host['id']}")["status"] == "maintenance"

        # ---- the CLI: list, create, show, update, delete
        cli = CliSession(ctx, eng)
        out = cli.run("network", "list").stdout
        assert "vireomgmt" in out and "red" in out and "stor_1" in out, out
        cli.run("network", "create", "--name", "green", "--datacenter", dc["id"], "--vlan", "300", "--mtu", "1450")
        g = _nets(eng, dc["id"])["green"]
        assert (g["vlan"], g["mtu"], g["vm"]) == (300, 1450, True), g
        out = cli.run("network", "show", g["id"]).stdout
        assert "1450" in out and "300" in out, out
        p = cli.run("network", "create", "--name", "bad", "--datacenter", dc["id"], "--vlan", "4095", expect=1)
        assert "vlan must be from 1 to 4094" in p.stderr, p.stderr
        cli.run("network", "attach", g["id"], "--cluster", "ncl1", "--optional")
        assert [x["required"] for x in eng.get(f"/api/clusters/{cl['id']}/networks")["networks"]
                if x["name"] == "green"] == [False]
        assert "green" in cli.run("network", "cluster-list", "ncl1").stdout
        # a NIC on it from the CLI, by the network's name (its default profile)
        cli.run("vm", "nic-add", "nvm1", "--network", "green")
        gnic = [n for n in eng.vm(vm["id"])["nics"] if n.get("profile")]
        assert len(gnic) == 1 and gnic[0]["profile"] in cli.run("vm", "nic-list", "nvm1").stdout, gnic
        cli.run("vm", "nic-remove", "nvm1", gnic[0]["mac"])
        p = cli.run("network", "delete", g["id"], expect=1)
        assert "attached to cluster 'ncl1'" in p.stderr, p.stderr
        cli.run("network", "detach", g["id"], "--cluster", "ncl1")
        cli.run("vnicprofile", "create", "--name", "g-qos", "--network", g["id"], "--qos-in", "100,200",
                "--qos-out", "50", "--port-mirroring", "--no-filter")
        gp = [x for x in eng.get(f"/api/networks/{g['id']}/vnicprofiles")["vnicprofiles"] if x["name"] == "g-qos"]
        assert [(x["qos"], x["port_mirroring"], x["network_filter"]) for x in gp] == \
            [({"inbound": {"average": 100, "peak": 200}, "outbound": {"average": 50}}, True, False)], gp
        cli.run("vnicprofile", "create", "--name", "g-bad", "--network", g["id"], "--qos-in", "0", expect=2)
        cli.run("network", "delete", g["id"])
        assert "green" not in _nets(eng, dc["id"])
        assert not eng.sanitizer_report()


def _wait_detail(eng, host_id, status, text, timeout=30):
    return eng.wait_for(lambda: (lambda h: h if h["status"] == status and text in h["status_detail"] else None)(
        eng.host(host_id)), timeout, what=f"host {host_id} {status} ({text})")


def _setup(eng, host_id, body, want="finished"):
    r = eng.request("POST", f"/api/hosts/{host_id}/setupnetworks", body)
    assert r.status == 202, r
    job = eng.wait_job(r.body["job"]["id"], timeout=120)
    assert job["status"] == want, (job, eng.log_tail(40))
    return job


def _clear_host_networks(ctx):
    """The harness hosts are shared with other tests (the agent's own
    network tests): start from hosts that run no network, with eth1 and
    eth2."""
    ctx.hs.ensure_extra_nics(2)
    for i in range(len(ctx.hs.hosts)):
        c = ctx.client(i)
        running = c.call("Host.getNetworks")["networks"]
        if running:
            c.call("Host.setupNetworks", networks={n: {"remove": True} for n in running}, check_connectivity=False)
        assert c.call("Host.getNetworks")["networks"] == {}


def _up_hosts(ctx, eng, tag):
    """A data center and a cluster named for tag with both harness hosts,
    up. vireomgmt is required but no host runs it: the management network
    is not checked (docs/networks.md "Rules"), so the hosts are up."""
    dc = eng.create_dc(f"dc-{tag}")
    cl = eng.create_cluster(f"cl-{tag}", dc["id"])
    hosts = [eng.create_host(h.name, h.addr, cl["id"], port=h.port) for h in ctx.hs.hosts]
    for h in hosts:
        eng.wait_status("hosts", h["id"], "up", timeout=30)
    return dc, cl, hosts


@one_backend(backend="sqlite")
def test_network_end_to_end(ctx):
    """Real agents: a required VLAN network makes both hosts nonoperational
    (the event names it) until setupnetworks puts it on their eth1; a VM
    on the network's QoS profile starts on its bridge with the bandwidth;
    placement follows the hosts' networks; removals in use are refused."""
    hs = ctx.hs
    _clear_host_networks(ctx)
    with Engine(ctx, poll_ms=500) as eng:
        dc, cl, hosts = _up_hosts(ctx, eng, "net")
        # Their NICs as the agents report them.
        for h in hosts:
            nics = eng.wait_for(lambda: (lambda n: n if {"eth0", "eth1"} <= {x["name"] for x in n} else None)(
                eng.get(f"/api/hosts/{h['id']}/nics")["nics"]), 30, what="eth0 and eth1 reported")
            eth0 = next(x for x in nics if x["name"] == "eth0")
            assert any(a.startswith(h["address"] + "/") for a in eth0["addresses"]), eth0
            # link state, speed (a veth says 10 Gb/s) and largest MTU (a veth's)
            assert (eth0["operstate"], eth0["carrier"], eth0["speed"], eth0["mtu"], eth0["max_mtu"]) == \
                ("up", True, 10000, 1500, 65535), eth0
            assert all(x["host_id"] == h["id"] and x["networks"] == [] for x in nics), nics

        red = eng.call("POST", "/api/networks", {"name": "red", "datacenter": dc["id"], "vlan": 100}, expect=201)
        blue = eng.call("POST", "/api/networks", {"name": "blue", "datacenter": dc["id"], "vlan": 101}, expect=201)
        green = eng.call("POST", "/api/networks", {"name": "green", "datacenter": dc["id"], "vlan": 102,
                                                   "mtu": 9000}, expect=201)
        qos = {"inbound": {"average": 1000, "peak": 2000, "burst": 1024}, "outbound": {"average": 500}}
        prof = eng.call("POST", "/api/vnicprofiles", {"name": "red-qos", "network": red["id"], "qos": qos},
                        expect=201)
        # Required: both hosts become nonoperational, naming red.
        eng.call("POST", f"/api/clusters/{cl['id']}/networks", {"network": red["id"]}, expect=201)
        for h in hosts:
            _wait_detail(eng, h["id"], "nonoperational", "red")
            assert eng.find_events(f"host '{h['name']}' is nonoperational", h["id"]), eng.events()
            assert any("red" in e["message"] for e in eng.find_events("nonoperational", h["id"]))
        # Optional networks never matter.
        eng.call("POST", f"/api/clusters/{cl['id']}/networks", {"network": blue["id"], "required": False}, expect=201)
        eng.call("POST", f"/api/clusters/{cl['id']}/networks", {"network": green["id"], "required": False},
                 expect=201)

        # A NIC the host does not have: refused before anything is sent.
        expect_fault(eng.request("POST", f"/api/hosts/{hosts[0]['id']}/setupnetworks",
                           {"attachments": [{"network": "red", "nic": "eth7"}]}), 400, "has no NIC 'eth7'")
        # A bond the engine accepts but this kernel cannot make: the job fails
        # with the agent's reason and nothing is recorded.
        job = _setup(eng, hosts[0]["id"], {"attachments": [{"network": "red", "nic": "bond0"}],
                                           "bonds": {"bond0": {"nics": ["eth1", "eth2"], "mode": 1}}}, want="failed")
        assert "bonding module" in job["detail"], job
        assert eng.find_events("network setup of host", hosts[0]["id"])
        eth1 = next(x for x in eng.get(f"/api/hosts/{hosts[0]['id']}/nics")["nics"] if x["name"] == "eth1")
        assert eth1["networks"] == [] and eng.host(hosts[0]["id"])["status"] == "nonoperational", eth1
        # red on both hosts' eth1 (blue too on the first): the hosts come back up.
        _setup(eng, hosts[0]["id"], {"attachments": [{"network": "red", "nic": "eth1"},
                                                     {"network": blue["id"], "nic": "eth1"}]})
        cli = CliSession(ctx, eng)   # the second host through the CLI
        cli.run("network", "setup", hosts[1]["name"], "--attach", "red:eth1", "--wait")
        assert "red" in cli.run("network", "host-nics", hosts[1]["name"], "--json").stdout
        for h in hosts:
            eng.wait_status("hosts", h["id"], "up", timeout=30)
        eth1 = next(x for x in eng.get(f"/api/hosts/{hosts[0]['id']}/nics")["nics"] if x["name"] == "eth1")
        assert sorted(eth1["networks"]) == ["blue", "red"], eth1
        assert hs.hosts[0].run(["ip", "link", "show", "red"]).returncode == 0
        # VLAN 100 again on that eth1: refused by the engine from what the host
        # confirmed, before anything is sent.
        eng.call("POST", "/api/networks", {"name": "red2", "datacenter": dc["id"], "vlan": 100}, expect=201)
        red2 = _nets(eng, dc["id"])["red2"]
        eng.call("POST", f"/api/clusters/{cl['id']}/networks", {"network": red2["id"], "required": False},
                 expect=201)
        expect_fault(eng.request("POST", f"/api/hosts/{hosts[0]['id']}/setupnetworks",
                           {"attachments": [{"network": "red2", "nic": "eth1"}]}), 400, "VLAN 100 twice")

        # A VM on red's QoS profile: the domain is on bridge red with the bandwidth.
        spec = ctx.vm_spec("vm-red")
        vm = eng.create_vm("vm-red", cl["id"], memory_mib=spec["memory_mib"], boot=spec["boot"], disks=spec["disks"])
        nic = eng.call("POST", f"/api/vms/{vm['id']}/nics", {"profile": prof["id"]}, expect=201)
        job, _ = eng.vm_action(vm["id"], "start", timeout=120)
        vm = eng.wait_status("vms", vm["id"], "up", timeout=90)
        i = next(n for n, x in enumerate(hs.hosts) if x.name == vm["host"])
        xml = hs.hosts[i].virsh("dumpxml", "vm-red")
        assert "<source bridge='red'/>" in xml and "<filterref filter='clean-traffic'>" in xml, xml
        # The profile reached the agent as its NIC fields; the agent shapes
        # the tap itself from them (no <bandwidth>: docs/networks.md).
        sent = ctx.client(i).call("VM.get", uuid=vm["id"])["spec"]["nics"]
        assert [(n["network"], n["mac"], n.get("bandwidth"), n.get("filter"), n.get("mirror", False))
                for n in sent] == [("red", nic["mac"], qos, True, False)], sent
        # In use on that host: red cannot be removed there.
        expect_fault(eng.request("POST", f"/api/hosts/{hosts[i]['id']}/setupnetworks", {"removed": ["red"]}), 409,
               "used by VM 'vm-red'")
        expect_fault(eng.request("PUT", f"/api/networks/{red['id']}", {"vlan": 110}), 409, "running")

        # Placement follows the hosts' networks: blue runs only on the first host.
        vm2 = eng.create_vm("vm-blue", cl["id"], memory_mib=spec["memory_mib"], boot=spec["boot"],
                            disks=spec["disks"])
        eng.call("POST", f"/api/vms/{vm2['id']}/nics", {"network": "blue"}, expect=201)
        eng.vm_action(vm2["id"], "start", timeout=120)
        vm2 = eng.wait_status("vms", vm2["id"], "up", timeout=90)
        assert vm2["host"] == hosts[0]["name"], vm2
        # Hot plug onto a network its host runs: the agent gets the profile's
        # fields and the domain a NIC on that bridge; green (no host runs it)
        # is refused before anything is sent, and its MAC is not taken.
        r = eng.call("POST", f"/api/vms/{vm2['id']}/nics", {"network": "red"}, expect=202)
        job = eng.wait_job(r["job"]["id"])
        assert job["status"] == "finished", job
        devs = [d for d in ctx.client(0).call("VM.get", uuid=vm2["id"])["devices"] if d["kind"] == "nic"]
        assert sorted(d.get("bridge") for d in devs) == ["blue", "red"], devs
        xml = hs.hosts[0].virsh("dumpxml", "vm-blue")
        assert xml.count("<source bridge='red'/>") == 1 and xml.count("filter='clean-traffic'") == 2, xml
        red_default = next(p for p in eng.get(f"/api/networks/{red['id']}/vnicprofiles")["vnicprofiles"]
                           if p["name"] == "red")
        nics = eng.vm(vm2["id"])["nics"]
        assert [n.get("profile") for n in nics][1] == red_default["id"], nics
        expect_fault(eng.request("POST", f"/api/vms/{vm2['id']}/nics", {"network": "green"}), 409,
                     "does not run network 'green'")
        assert eng.vm(vm2["id"])["nics"] == nics
        # VLAN networks isolate VMs, whichever host they run on: vm-blue's
        # blue NIC (10.110.0.2) cannot reach vm-red (10.110.0.1 on red); the
        # same NIC moved onto red's profile through the engine reaches it,
        # and moved back onto blue no longer does.
        c_red, c_blue = ctx.client(i), ctx.client(0)
        _is(_guest(ctx, c_red, vm["id"], "ipaddr eth0 10.110.0.1/24", "VIREO-IPADDR eth0", timeout=120), "0")
        _is(_guest(ctx, c_blue, vm2["id"], "ipaddr eth0 10.110.0.2/24", "VIREO-IPADDR eth0", timeout=120), "0")
        assert _settled_ping(ctx, c_blue, vm2["id"], "10.110.0.1") == "fail"
        blue_default = next(p for p in eng.get(f"/api/networks/{blue['id']}/vnicprofiles")["vnicprofiles"]
                            if p["name"] == "blue")
        for profile, want in ((red_default, "ok"), (blue_default, "fail")):
            r = eng.call("PUT", f"/api/vms/{vm2['id']}/nics/{nics[0]['mac']}", {"profile": profile["id"]},
                         expect=202)
            assert eng.wait_job(r["job"]["id"])["status"] == "finished"
            assert _settled_ping(ctx, c_blue, vm2["id"], "10.110.0.1") == want, (profile["name"], vm["host"])
            got = {n["mac"]: n.get("profile") for n in eng.vm(vm2["id"])["nics"]}
            assert got == {nics[0]["mac"]: profile["id"], nics[1]["mac"]: red_default["id"]}, got
        eng.vm_action(vm["id"], "stop")
        eng.wait_status("vms", vm["id"], "down", timeout=60)
        # That running NIC changed through the engine (VM.updateNic),
        # recorded once the host confirmed: its link down (CLI) and up, then
        # onto red's QoS profile, which the agent shapes the tap with.
        red_mac = nics[1]["mac"]
        nic_url = f"/api/vms/{vm2['id']}/nics/{red_mac}"
        def link_on_host():
            return hs.hosts[0].virsh("domif-getlink", "vm-blue", red_mac).split()[-1]
        cli.run("vm", "nic-update", "vm-blue", red_mac, "--linked", "off", "--wait")
        assert eng.get(nic_url)["linked"] is False and link_on_host() == "down"
        r = eng.call("PUT", nic_url, {"linked": True}, expect=202)
        assert eng.wait_job(r["job"]["id"])["status"] == "finished"
        assert eng.get(nic_url)["linked"] is True and link_on_host() == "up"
        r = eng.call("PUT", nic_url, {"profile": prof["id"]}, expect=202)
        assert eng.wait_job(r["job"]["id"])["status"] == "finished"
        assert eng.get(nic_url)["profile"] == prof["id"]
        tap = next(d["ifname"] for d in ctx.client(0).call("VM.get", uuid=vm2["id"])["devices"]
                   if d.get("mac") == red_mac)
        eng.wait_for(lambda: "tbf" in hs.hosts[0].run(["tc", "qdisc", "show", "dev", tap]).stdout, 10,
                     what=f"red-qos's shaping on {tap}")
        # Mirroring on, then the QoS changed with it: the bridge's other
        # ports copy to the tap and stay tracked, so a profile without QoS
        # or mirroring takes all of it off the running NIC (tbf, ifb,
        # mirror programs); the agent's stored spec follows each change.
        def on_host(*cmd):
            return hs.hosts[0].run(list(cmd)).stdout
        def spec_nic():
            return next(n for n in ctx.client(0).call("VM.get", uuid=vm2["id"])["spec"]["nics"]
                        if n["mac"] == red_mac)
        ports = [l.split(":")[1].strip().split("@")[0] for l in on_host("ip", "-o", "link", "show", "master",
                                                                          "red").splitlines()]
        ports = [p for p in ports if p != tap]
        assert ports, on_host("ip", "-o", "link", "show", "master", "red")
        def mirrored():
            return [p for p in ports if "bpf" in on_host("tc", "filter", "show", "dev", p, "ingress")]
        def nic_move(profile):
            r = eng.call("PUT", nic_url, {"profile": profile}, expect=202)
            assert eng.wait_job(r["job"]["id"])["status"] == "finished"
        qos2 = {"inbound": {"average": 3000}}
        for name, q in (("red-mirror", qos), ("red-mirror2", qos2)):
            mp = eng.call("POST", "/api/vnicprofiles", {"name": name, "network": red["id"], "qos": q,
                                                        "port_mirroring": True}, expect=201)
            nic_move(mp["id"])
            eng.wait_for(lambda: mirrored() == ports, 10, what=f"{name}: ports of red mirrored to {tap}")
            assert (spec_nic().get("bandwidth"), spec_nic().get("mirror")) == (q, True), spec_nic()
        ifb = "vrq-" + tap[:11]   # red-mirror2 shapes inbound only: the outbound ifb went
        eng.wait_for(lambda: hs.hosts[0].run(["ip", "link", "show", ifb]).returncode != 0, 10, what=f"{ifb} gone")
        assert "u32" not in on_host("tc", "filter", "show", "dev", tap, "ingress")  # nor its redirect
        assert "rate 24" in on_host("tc", "qdisc", "show", "dev", tap), on_host("tc", "qdisc", "show", "dev", tap)
        # A restarted agent wants them again from the stored spec, so it
        # still knows the mirror ports and takes them off below.
        hs.hosts[0].kill_agent()
        hs.hosts[0].start_agent(wait=True)
        eng.wait_status("hosts", hosts[0]["id"], "up", timeout=30)
        eng.wait_status("vms", vm2["id"], "up", timeout=30)
        nic_move(red_default["id"])
        eng.wait_for(lambda: "tbf" not in on_host("tc", "qdisc", "show", "dev", tap) and not mirrored(), 10,
                     what=f"shaping and mirroring off {tap}")
        got = spec_nic()
        assert (got["network"], got.get("bandwidth"), got.get("mirror")) == ("red", None, False), got
        # Refused before anything is sent or stored: green's profile (its
        # host does not run green), unknown members, wrong types.
        green_default = eng.get(f"/api/networks/{green['id']}/vnicprofiles")["vnicprofiles"][0]
        before = eng.get(nic_url)
        for body, status, detail in (({"profile": green_default["id"]}, 409, "does not run network 'green'"),
                                     ({"bridge": "red"}, 400, "unknown member 'bridge'"),
                                     ({"linked": "no"}, 400, "body.linked must be a boolean")):
            expect_fault(eng.request("PUT", nic_url, body), status, detail)
        assert eng.get(nic_url) == before and link_on_host() == "up"
        # Migration needs every network of the VM on the destination: the
        # other host lacks blue, so the scheduler finds none and a host
        # named by the user is refused; the VM stays where it runs.
        def migrate_fails(body):
            r = eng.request("POST", f"/api/vms/{vm2['id']}/migrate", body)
            assert r.status == 202, r
            job = eng.wait_job(r.body["job"]["id"], timeout=60)
            now = eng.vm(vm2["id"])
            assert job["status"] == "failed" and (now["status"], now["host"]) == ("up", hosts[0]["name"]), (job, now)
            return job["detail"]
        assert "1 host(s) do not run all of its networks" in migrate_fails({}), eng.events()
        assert "does not run every network" in migrate_fails({"host": hosts[1]["id"]})
        # The destination is asked itself: blue set up on it through the
        # engine, then taken away behind the engine's back (its view still
        # has it for a few polls): the migration is refused naming blue.
        _setup(eng, hosts[1]["id"], {"attachments": [{"network": "blue", "nic": "eth1"}]})
        ctx.client(1).call("Host.setupNetworks", networks={"blue": {"remove": True}}, check_connectivity=False)
        detail = migrate_fails({"host": hosts[1]["id"]})
        # (should the monitor's every-10-polls report land in between, the
        # scheduler's view refuses it instead)
        assert ("does not run network(s) blue of VM 'vm-blue'" in detail or
                "does not run every network" in detail), detail
        assert eng.find_events("cannot migrate VM 'vm-blue'", vm2["id"])
        assert "vm-blue" not in hs.hosts[1].virsh("list", "--all")
        eng.vm_action(vm2["id"], "stop")
        eng.wait_status("vms", vm2["id"], "down", timeout=60)
        # green runs nowhere: the start fails at placement and names it.
        vm3 = eng.create_vm("vm-green", cl["id"], memory_mib=spec["memory_mib"], boot=spec["boot"],
                            disks=spec["disks"])
        eng.call("POST", f"/api/vms/{vm3['id']}/nics", {"network": "green"}, expect=201)
        job, vm3 = eng.vm_action(vm3["id"], "start", timeout=60, want="failed")
        assert "green" in job["detail"] and vm3["status"] == "down", (job, vm3)
        for h in hs.hosts:
            assert "vm-green" not in h.virsh("list", "--all")

        # DHCP through the engine: the attachment reaches the agent, which
        # runs a client on the network's bridge (no server on eth2: it has
        # no lease and keeps trying), and taking the network away stops it.
        _setup(eng, hosts[1]["id"], {"attachments": [{"network": "green", "nic": "eth2", "boot_protocol": "dhcp"}]})
        got = ctx.client(1).call("Host.getNetworks")["networks"]["green"]
        assert (got["boot_protocol"], got["dhcp_lease"], got["addresses"]) == ("dhcp", None, []), got
        pidfile = os.path.join(hs.hosts[1].dir, "vireo-run", "dhcp", "green.pid")
        assert os.path.exists(pidfile)
        # green's MTU (the engine's, sent with the setup) is its bridge's
        # and its NIC's; the NIC gets its own back when the network goes
        def mtu(dev):
            return json.loads(hs.hosts[1].run(["ip", "-j", "link", "show", dev]).stdout)[0]["mtu"]
        assert (mtu("green"), mtu("eth2"), got["mtu"]) == (9000, 9000, 9000), got
        _setup(eng, hosts[1]["id"], {"removed": ["green"]})
        assert not os.path.exists(pidfile) and "green" not in ctx.client(1).call("Host.getNetworks")["networks"]
        assert mtu("eth2") == 1500
        # A NIC whose largest MTU is below green's 9000 (a native XDP program
        # on its veth's root end lowers it: harness/xdp.py). The engine has
        # it from the host's report and refuses up front (409 naming host,
        # NIC, MTU and maximum; no job, nothing sent): green onto it, and
        # green's MTU raised above it once the NIC carries green.
        with XdpPass(hs.hosts[1].veth + "n2"):
            top = json.loads(hs.hosts[1].run(["ip", "-d", "-j", "link", "show", "eth2"]).stdout)[0]["max_mtu"]
            assert 1500 < top < 9000, top
            eng.wait_for(lambda: _nic(eng, hosts[1]["id"], "eth2")["max_mtu"] == top, 30, what=f"eth2's max {top}")
            jobs = len(eng.get("/api/jobs")["jobs"])
            expect_fault(eng.request("POST", f"/api/hosts/{hosts[1]['id']}/setupnetworks",
                                     {"attachments": [{"network": "green", "nic": "eth2"}]}), 409,
                         f"NIC eth2 of host '{hosts[1]['name']}' cannot carry network 'green' with MTU 9000: its"
                         f" maximum MTU is {top}")
            assert len(eng.get("/api/jobs")["jobs"]) == jobs
            assert "green" not in ctx.client(1).call("Host.getNetworks")["networks"]
            eng.call("PUT", f"/api/networks/{green['id']}", {"mtu": 1500})
            _setup(eng, hosts[1]["id"], {"attachments": [{"network": "green", "nic": "eth2"}]})
            expect_fault(eng.request("PUT", f"/api/networks/{green['id']}", {"mtu": 9000}), 409,
                         f"network 'green' cannot have MTU 9000: NIC eth2 of host '{hosts[1]['name']}' carries it"
                         f" and its maximum MTU is {top}")
            assert eng.get(f"/api/networks/{green['id']}")["mtu"] == 1500
            eng.call("PUT", f"/api/networks/{green['id']}", {"mtu": top})   # the maximum itself is fine
            _setup(eng, hosts[1]["id"], {"removed": ["green"]})
        # The engine cut off before it confirmed: killed while the host waits
        # for green's first lease (no DHCP server on eth2), after the host
        # made green. Restarted, it fails the job; the host rolls the change
        # back at its deadline by itself and the engine sees it (an event,
        # eth2 without green in its view of the host).
        r = eng.request("POST", f"/api/hosts/{hosts[1]['id']}/setupnetworks",
                        {"attachments": [{"network": "green", "nic": "eth2", "boot_protocol": "dhcp"}],
                         "connectivity_timeout": 8})
        job = _job_of(r)
        eng.wait_for(lambda: hs.hosts[1].run(["ip", "link", "show", "green"]).returncode == 0, 10,
                     what="green made on the host")
        eng.kill()
        eng.start()
        got = eng.wait_for(lambda: (lambda j: j if j["status"] == "failed" else None)(eng.get(f"/api/jobs/{job}")),
                           10, what="the cut-off setup job failed")
        assert "interrupted by an engine restart" in got["detail"], got
        ev = eng.wait_for(lambda: eng.find_events(f"host '{hosts[1]['name']}' rolled its network setup back",
                                                  hosts[1]["id"]), 30, what="the rollback event")
        assert "not confirmed within 8 s" in ev[0]["message"], ev
        eng.wait_for(lambda: _nic(eng, hosts[1]["id"], "eth2")["networks"] == [], 10, what="eth2 without green")
        assert hs.hosts[1].run(["ip", "link", "show", "green"]).returncode != 0
        assert "green" not in ctx.client(1).call("Host.getNetworks")["networks"]
        for h in hosts:
            eng.wait_status("hosts", h["id"], "up", timeout=30)

        # Taken off the cluster and the hosts: up, and red is gone from them.
        for v in (vm, vm2, vm3):
            eng.call("DELETE", f"/api/vms/{v['id']}", expect=204)
        eng.call("DELETE", f"/api/clusters/{cl['id']}/networks/{red['id']}", expect=204)
        _setup(eng, hosts[1]["id"], {"removed": [red["id"]]})
        assert hs.hosts[1].run(["ip", "link", "show", "red"]).returncode != 0
        eng.wait_for(lambda: next(x for x in eng.get(f"/api/hosts/{hosts[1]['id']}/nics")["nics"]
                                  if x["name"] == "eth1")["networks"] == [], 10, what="red gone from eth1")
        expect_fault(eng.request("DELETE", f"/api/networks/{red['id']}"), 409, "set up on host")
        _setup(eng, hosts[0]["id"], {"removed": ["red", "blue"]})
        eng.call("DELETE", f"/api/networks/{red['id']}", expect=204)
        for h in hosts:
            assert eng.host(h["id"])["status"] == "up"
        assert not eng.sanitizer_report()


def _job_of(r):
    assert r.status == 202, r
    return r.body["job"]["id"]


def _nic(eng, host_id, name):
    return next(x for x in eng.get(f"/api/hosts/{host_id}/nics")["nics"] if x["name"] == name)


def _eth1(eng, host_id):
    return _nic(eng, host_id, "eth1")


def test_network_labels(ctx):
    """Labels (ch. 3.9) with real agents: bad labels are 400s that change
    nothing; a label on both hosts' eth1 brings the cluster's labelled
    network onto them; a network gaining the label follows, losing it
    leaves; a NIC losing its label loses the networks it brought."""
    hs = ctx.hs
    _clear_host_networks(ctx)
    with Engine(ctx, poll_ms=500) as eng:
        dc, cl, hosts = _up_hosts(ctx, eng, "lab")
        for h in hosts:
            eng.wait_for(lambda: any(x["name"] == "eth2" for x in eng.get(f"/api/hosts/{h['id']}/nics")["nics"]),
                         30, what="eth1 and eth2 reported")
        red = eng.call("POST", "/api/networks", {"name": "lred", "datacenter": dc["id"], "vlan": 120,
                                                 "label": "lab_1"}, expect=201)
        blue = eng.call("POST", "/api/networks", {"name": "lblue", "datacenter": dc["id"], "vlan": 121}, expect=201)
        # The labelled network's attachment answers with its label job: no
        # NIC has the label yet, so it changed nothing.
        job = eng.wait_job(_job_of(eng.request("POST", f"/api/clusters/{cl['id']}/networks",
                                               {"network": red["id"], "required": False})))
        assert job["status"] == "finished" and job["detail"] == "0 host(s) changed", job
        eng.call("POST", f"/api/clusters/{cl['id']}/networks", {"network": blue["id"], "required": False},
                 expect=201)

        # ---- bad labels: 400, nothing recorded or sent
        jobs = eng.list("jobs")["total"]
        sn = f"/api/hosts/{hosts[0]['id']}/setupnetworks"
        for labels, detail in [({"eth1": "x" * 33}, "at most 32"), ({"eth1": "a b"}, "at most 32"),
                               ({"eth1": "l<b"}, "at most 32"), ({"eth1": 5}, "must be a label"),
                               ({"eth9": "lab_1"}, "has no NIC 'eth9'"), ({"eth1<": "lab_1"}, "host NIC"),
                               ({"eth1": "lab_1", "eth2": "lab_1"}, "on two NICs"), ("lab_1", "must be an object"),
                               ({"eth1": ["lab_1", 5]}, "non-empty string"), ({"eth1": ["a b"]}, "at most 32"),
                               ({"eth1": ["l%d" % i for i in range(17)]}, "at most 16"),
                               ({"eth1": ["lab_1"], "eth2": ["lab_9", "lab_1"]}, "on two NICs")]:
            expect_fault(eng.request("POST", sn, {"labels": labels}), 400, detail)
        for label in ("x" * 33, "a b", "é"):
            expect_fault(eng.request("PUT", f"/api/networks/{blue['id']}", {"label": label}), 400, "label")
        expect_fault(eng.request("POST", "/api/networks", {"name": "lbad", "datacenter": dc["id"],
                                                           "label": "no/slash"}), 400, "label")
        assert eng.get(f"/api/networks/{blue['id']}")["label"] == ""
        assert "lbad" not in _nets(eng, dc["id"])
        assert eng.list("jobs")["total"] == jobs
        assert all(_eth1(eng, h["id"])["label"] == "" for h in hosts)

        # ---- a label on both hosts' eth1: lred comes with it
        for h in hosts:
            job = eng.wait_job(_job_of(eng.request("POST", f"/api/hosts/{h['id']}/setupnetworks",
                                                   {"labels": {"eth1": "lab_1"}})), timeout=120)
            assert job["status"] == "finished", job
            nic = _eth1(eng, h["id"])
            assert (nic["label"], nic["networks"]) == ("lab_1", ["lred"]), nic
            assert eng.find_events("labelled 'lab_1'", h["id"])
        for hh in hs.hosts:
            assert hh.run(["ip", "link", "show", "lred"]).returncode == 0

        # ---- a network gains the label: it follows to both hosts, and leaves when it loses it
        job = eng.wait_job(_job_of(eng.request("PUT", f"/api/networks/{blue['id']}", {"label": "lab_1"})),
                           timeout=120)
        assert job["status"] == "finished" and "2 host(s) changed" in job["detail"], job
        for h in hosts:
            assert sorted(_eth1(eng, h["id"])["networks"]) == ["lblue", "lred"]
            assert eng.find_events("network 'lblue' attached to NIC eth1", h["id"])
        assert all(hh.run(["ip", "link", "show", "lblue"]).returncode == 0 for hh in hs.hosts)
        job = eng.wait_job(_job_of(eng.request("PUT", f"/api/networks/{blue['id']}", {"label": ""})), timeout=120)
        assert job["status"] == "finished", job
        for h, hh in zip(hosts, hs.hosts):
            assert _eth1(eng, h["id"])["networks"] == ["lred"]
            assert hh.run(["ip", "link", "show", "lblue"]).returncode != 0
        # a description change is no label change: 200, no job
        assert eng.call("PUT", f"/api/networks/{red['id']}", {"description": "labelled"})["label"] == "lab_1"

        # ---- several labels on one NIC (RHV allows it): each brings its networks
        green = eng.call("POST", "/api/networks", {"name": "lgreen", "datacenter": dc["id"], "vlan": 122,
                                                   "label": "lab_2"}, expect=201)
        eng.wait_job(_job_of(eng.request("POST", f"/api/clusters/{cl['id']}/networks",
                                         {"network": green["id"], "required": False})))
        sn0 = f"/api/hosts/{hosts[0]['id']}/setupnetworks"
        job = eng.wait_job(_job_of(eng.request("POST", sn0, {"labels": {"eth1": ["lab_2", "lab_1", "lab_2"]}})),
                           timeout=120)
        assert job["status"] == "finished", job
        nic = _eth1(eng, hosts[0]["id"])
        assert (nic["labels"], nic["label"], sorted(nic["networks"])) == (["lab_1", "lab_2"], "lab_1,lab_2",
                                                                          ["lgreen", "lred"]), nic
        assert _eth1(eng, hosts[1]["id"])["networks"] == ["lred"]
        # ---- a NIC loses one label: only that label's networks leave, on that host only
        job = eng.wait_job(_job_of(eng.request("POST", sn0, {"labels": {"eth1": ["lab_2"]}})), timeout=120)
        assert job["status"] == "finished", job
        nic = _eth1(eng, hosts[0]["id"])
        assert (nic["labels"], nic["networks"]) == (["lab_2"], ["lgreen"]), nic
        assert _eth1(eng, hosts[1]["id"])["networks"] == ["lred"]
        assert hs.hosts[0].run(["ip", "link", "show", "lred"]).returncode != 0
        assert hs.hosts[0].run(["ip", "link", "show", "lgreen"]).returncode == 0
        # ---- and its last: the networks it brought leave
        job = eng.wait_job(_job_of(eng.request("POST", sn0, {"labels": {"eth1": []}})), timeout=120)
        assert job["status"] == "finished", job
        nic = _eth1(eng, hosts[0]["id"])
        assert (nic["label"], nic["labels"], nic["networks"]) == ("", [], []), nic
        assert _eth1(eng, hosts[1]["id"])["networks"] == ["lred"]
        assert hs.hosts[0].run(["ip", "link", "show", "lred"]).returncode != 0
        assert hs.hosts[1].run(["ip", "link", "show", "lred"]).returncode == 0
        # ---- a labelled network detached from the cluster leaves its hosts' labelled NICs
        job = eng.wait_job(_job_of(eng.request("DELETE", f"/api/clusters/{cl['id']}/networks/{red['id']}")),
                           timeout=120)
        assert job["status"] == "finished" and "1 host(s) changed" in job["detail"], job
        assert _eth1(eng, hosts[1]["id"])["networks"] == []
        assert hs.hosts[1].run(["ip", "link", "show", "lred"]).returncode != 0
        assert eng.find_events("network 'lred' removed from host", hosts[1]["id"])
        cli = CliSession(ctx, eng)   # the second host's label through the CLI
        cli.run("network", "setup", hosts[1]["name"], "--nic-label", "eth1=lab_2,lab_3", "--wait")
        nic = _eth1(eng, hosts[1]["id"])
        assert (nic["labels"], nic["networks"]) == (["lab_2", "lab_3"], ["lgreen"]), nic
        cli.run("network", "setup", hosts[1]["name"], "--nic-label", "eth1=", "--wait")
        assert _eth1(eng, hosts[1]["id"])["label"] == "" and _eth1(eng, hosts[1]["id"])["networks"] == []
        assert cli.run("network", "setup", hosts[1]["name"], "--nic-label", "eth1", expect=2).stderr
        eng.call("DELETE", f"/api/clusters/{cl['id']}/networks/{blue['id']}", expect=204)
        job = eng.wait_job(_job_of(eng.request("DELETE", f"/api/clusters/{cl['id']}/networks/{green['id']}")))
        assert job["status"] == "finished" and job["detail"] == "0 host(s) changed", job
        for n in (red, blue, green):
            eng.call("DELETE", f"/api/networks/{n['id']}", expect=204)
        assert not eng.sanitizer_report()


DEFAULT_POOL = "00000000-0000-4000-8000-00000000ac01"


def _rng(a, b):
    return {"from": a, "to": b}


def test_mac_pools(ctx):
    """MAC pools as objects: the Default pool (the engine's --mac-pool)
    keeps every MAC given before pools existed (schema v18 run again over
    a database taken back to v17); pools with ranges and allow_duplicates,
    assigned to clusters; overlapping ranges, used-up pools, pools still
    used: clear errors that change nothing."""
    with Engine(ctx) as eng:
        dc = eng.create_dc("mdc")
        cl = eng.create_cluster("mcl", dc["id"])
        assert cl["mac_pool_id"] == DEFAULT_POOL, cl
        old = eng.create_vm("mold", cl["id"], nics=[{}, {}])
        old_macs = [n["mac"] for n in old["nics"]]
        # ---- the upgrade: the database as schema v17 left it, with its MACs
        # (MAC pools are v18: a migration added after it must be undone here too)
        eng.stop()
        undo = ["ALTER TABLE vms DROP COLUMN migrating_to_host_id",  # v33, a migration's destination
                "ALTER TABLE clusters DROP COLUMN ha_reservation_enabled",  # v32, the HA reservation switch
                "ALTER TABLE datacenters DROP COLUMN master_version",  # v31, newest master version
                "ALTER TABLE disks DROP COLUMN doubt_domain_id",  # v30, live moves in doubt
                "ALTER TABLE host_nics DROP COLUMN max_mtu",  # v29, NICs' largest MTU
                "ALTER TABLE clusters DROP COLUMN fencing_json",  # v28, fencing policies
                "ALTER TABLE domains DROP COLUMN type", "ALTER TABLE domains DROP COLUMN ca_cert",  # v27, directory profiles' type and CA
                "DROP INDEX events_object", "DROP INDEX events_parent",  # v26, events' parents
                "ALTER TABLE events DROP COLUMN parent_id",
                # v25, job descriptions and host status details in every language
                "ALTER TABLE jobs DROP COLUMN description_id", "ALTER TABLE jobs DROP COLUMN description_args",
                "ALTER TABLE hosts DROP COLUMN status_detail_id", "ALTER TABLE hosts DROP COLUMN status_detail_args",
                "ALTER TABLE vms DROP COLUMN pause_reason",  # v24, why a VM is paused
                "ALTER TABLE clusters DROP COLUMN migration_json",  # v23, migration policies
                "ALTER TABLE snapshots DROP COLUMN seq",  # v22, snapshot order
                # v21, messages in every language
                "ALTER TABLE events DROP COLUMN message_id", "ALTER TABLE events DROP COLUMN message_args",
                "ALTER TABLE jobs DROP COLUMN detail_id", "ALTER TABLE jobs DROP COLUMN detail_args",
                # v20, memory volumes
                "ALTER TABLE vms DROP COLUMN memory_json", "ALTER TABLE snapshots DROP COLUMN memory_json",
                # v19, quotas (it makes object_ancestors again when it runs)
                "DROP VIEW object_ancestors", "DROP INDEX vms_quota", "DROP INDEX disks_quota",
                "ALTER TABLE vms DROP COLUMN quota_id", "ALTER TABLE disks DROP COLUMN quota_id",
                "ALTER TABLE datacenters DROP COLUMN quota_mode", "DROP TABLE quotas",
                # v18, MAC pools
                "DROP INDEX macs_pool", "ALTER TABLE macs DROP COLUMN pool_id",
                "ALTER TABLE clusters DROP COLUMN mac_pool_id", "DROP TABLE mac_pools"]
        run_sql(eng, *undo, "PRAGMA user_version = 17" if eng.database is None
                else "DELETE FROM schema_version WHERE version >= 18")
        eng.start()
        pools = eng.get("/api/macpools")
        assert pools["total"] == 1, pools
        d = pools["macpools"][0]
        assert (d["id"], d["name"], d["ranges"], d["allow_duplicates"], d["macs_in_use"]) == \
            (DEFAULT_POOL, "Default", [_rng("56:6f:00:00:00:00", "56:6f:ff:ff:ff:ff")], False, 2), d
        assert eng.get(f"/api/clusters/{cl['id']}")["mac_pool_id"] == DEFAULT_POOL
        assert [n["mac"] for n in eng.vm(old["id"])["nics"]] == old_macs

        # ---- a pool of three addresses for a cluster of its own
        small = eng.call("POST", "/api/macpools", {"name": "small", "description": "three",
                                                   "ranges": [_rng("52:54:00:bb:00:00", "52:54:00:bb:00:02")]},
                         expect=201)
        assert (small["allow_duplicates"], small["macs_in_use"]) == (False, 0), small
        scl = eng.call("POST", "/api/clusters", {"name": "mcl2", "datacenter_id": dc["id"],
                                                 "mac_pool_id": small["id"]}, expect=201)
        vm = eng.create_vm("msmall", scl["id"], nics=[{}, {}, {}])
        assert sorted(n["mac"] for n in vm["nics"]) == ["52:54:00:bb:00:0%d" % i for i in range(3)], vm
        r = eng.request("POST", "/api/vms", {"name": "mfull", "cluster_id": scl["id"], "memory_mib": 256,
                                             "nics": [{}]})
        expect_fault(r, 422, "MAC pool 'small' is used up (3 addresses)")
        assert eng.list("vms", search="name=mfull")["total"] == 0
        assert eng.get(f"/api/macpools/{small['id']}")["macs_in_use"] == 3
        # the other cluster still draws from the Default pool
        other = eng.create_vm("mother", cl["id"], nics=[{}])
        assert other["nics"][0]["mac"].startswith("56:6f:"), other

        # ---- bad pools: 400/409, nothing stored
        before = eng.get("/api/macpools")
        for body, status, detail in [
                ({"name": "p"}, 400, "missing required member 'ranges'"),
                ({"name": "p", "ranges": []}, 400, "1 to 16 ranges"),
                ({"name": "p", "ranges": [_rng("01:00:5e:00:00:00", "01:00:5e:00:00:ff")]}, 400, "unicast"),
                ({"name": "p", "ranges": [_rng("52:54:00:cc:00:09", "52:54:00:cc:00:01")]}, 400, "ends before"),
                ({"name": "p", "ranges": [_rng("52:54:00:cc:00:00", "54:54:00:cc:00:00")]}, 400, "first octet"),
                ({"name": "p", "ranges": [_rng("52:54:00:cc:00:00", "52:54:00:cc:00:0f"),
                                          _rng("52:54:00:cc:00:08", "52:54:00:cc:00:ff")]}, 400,
                 "ranges[1] (52:54:00:cc:00:08-52:54:00:cc:00:ff) overlaps ranges[0]"),
                ({"name": "p", "ranges": [{"from": "52:54:00:cc:00:00", "to": "52:54:00:cc:00:01", "x": 1}]}, 400,
                 "unknown member 'x'"),
                ({"name": "p", "ranges": [_rng("52:54:00:bb:00:02", "52:54:00:bb:00:10")]}, 409,
                 "overlap MAC pool 'small' (52:54:00:bb:00:00-52:54:00:bb:00:02)"),
                ({"name": "p", "allow_duplicates": True, "ranges": [_rng("56:6f:00:00:00:01", "56:6f:00:00:00:02")]},
                 409, "overlap MAC pool 'Default'"),
                ({"name": "small", "ranges": [_rng("52:54:00:dd:00:00", "52:54:00:dd:00:01")]}, 409,
                 "exists already")]:
            expect_fault(eng.request("POST", "/api/macpools", body), status, detail)
        expect_fault(eng.request("POST", "/api/clusters", {"name": "mcl3", "datacenter_id": dc["id"],
                                                           "mac_pool_id": MISSING}), 400, "no MAC pool with id")
        assert eng.get("/api/macpools") == before
        # Pools that both allow duplicates may overlap.
        d1 = eng.call("POST", "/api/macpools", {"name": "dup1", "allow_duplicates": True,
                                                "ranges": [_rng("52:54:00:EE:00:00", "52:54:00:Ee:00:fF")]},
                      expect=201)
        assert d1["ranges"] == [_rng("52:54:00:ee:00:00", "52:54:00:ee:00:ff")], d1   # stored lowercase
        eng.call("POST", "/api/macpools", {"name": "dup2", "allow_duplicates": True,
                                           "ranges": [_rng("52:54:00:ee:00:80", "52:54:00:ee:01:ff")]}, expect=201)
        expect_fault(eng.request("PUT", f"/api/macpools/{d1['id']}", {"allow_duplicates": False}), 409,
                     "overlap MAC pool 'dup2'")
        assert eng.get(f"/api/macpools/{d1['id']}")["allow_duplicates"] is True

        # ---- pools in use, the Default pool
        expect_fault(eng.request("DELETE", f"/api/macpools/{small['id']}"), 409, "used by cluster 'mcl2'")
        expect_fault(eng.request("DELETE", f"/api/macpools/{DEFAULT_POOL}"), 409, "cannot be removed")
        expect_fault(eng.request("PUT", f"/api/macpools/{DEFAULT_POOL}", {"name": "Other"}), 409, "keeps its name")
        # A bigger range: the pool serves again; MACs given stay.
        small = eng.call("PUT", f"/api/macpools/{small['id']}",
                         {"ranges": [_rng("52:54:00:bb:00:00", "52:54:00:bb:00:03")]})
        more = eng.create_vm("mfull", scl["id"], nics=[{}])
        assert more["nics"][0]["mac"] == "52:54:00:bb:00:03", more
        eng.call("PUT", f"/api/clusters/{scl['id']}", {"mac_pool_id": DEFAULT_POOL})
        eng.call("DELETE", f"/api/macpools/{small['id']}", expect=204)
        # ---- the CLI
        cli = CliSession(ctx, eng)
        cli.run("macpool", "create", "--name", "clip", "--range", "52:54:00:ab:00:00-52:54:00:ab:00:ff",
                "--allow-duplicates")
        clip = next(p for p in eng.get("/api/macpools")["macpools"] if p["name"] == "clip")
        assert (clip["ranges"], clip["allow_duplicates"]) == ([_rng("52:54:00:ab:00:00", "52:54:00:ab:00:ff")], True)
        assert "clip" in cli.run("macpool", "list").stdout
        p = cli.run("macpool", "create", "--name", "clap", "--range", "52:54:00:ab:00:10-52:54:00:ab:00:20",
                    expect=1)
        assert "overlap MAC pool 'clip'" in p.stderr, p.stderr
        cli.run("macpool", "update", "clip", "--no-duplicates")
        assert eng.get(f"/api/macpools/{clip['id']}")["allow_duplicates"] is False
        cli.run("macpool", "delete", "clip")
        p = cli.run("macpool", "delete", "Default", expect=1)
        assert "cannot be removed" in p.stderr, p.stderr
        assert [n["mac"] for n in eng.vm(vm["id"])["nics"]] == [n["mac"] for n in vm["nics"]]
        assert not eng.sanitizer_report()
