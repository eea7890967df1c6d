"""Highly available VMs, the rules without guests (docs/fencing.md): the
high_availability member (REST and CLI) and stop_reason. The restarts
themselves, with real guests whose QEMU is killed, are in test_ha.py."""

import json
import time

from harness.engine import CliSession, Engine, expect_fault
from harness.context import one_backend


def test_ha_member_rules(ctx):
    with Engine(ctx) as eng:
        dc = eng.create_dc("dc1")
        cl = eng.create_cluster("cl1", dc["id"])
        plain = eng.create_vm("plain", cl["id"])
        assert plain["high_availability"] == {"enabled": False, "priority": 0}, plain
        assert plain["stop_reason"] == "", plain
        ha = eng.create_vm("ha", cl["id"], high_availability={"enabled": True, "priority": 70})
        assert ha["high_availability"] == {"enabled": True, "priority": 70}, ha
        # A member left out keeps its value.
        got = eng.call("PUT", f"/api/vms/{ha['id']}", {"high_availability": {"priority": 90}})
        assert got["high_availability"] == {"enabled": True, "priority": 90}, got
        got = eng.call("PUT", f"/api/vms/{ha['id']}", {"description": "x"})
        assert got["high_availability"] == {"enabled": True, "priority": 90}, got
        # Bad values are refused and change nothing.
        for bad, why in (({"priority": 101}, "priority"), ({"priority": -1}, "priority"),
                         ({"enabled": "yes"}, "enabled"), ({"enable": True}, "enable"),
                         ([True], "object"), ({"priority": 5.5}, "priority")):
            expect_fault(eng.request("PUT", f"/api/vms/{ha['id']}", {"high_availability": bad}), 400, why)
            expect_fault(eng.request("POST", "/api/vms", dict(name="bad", cluster_id=cl["id"], memory_mib=64,
                                                               high_availability=bad)), 400, why)
        assert eng.vm(ha["id"])["high_availability"] == {"enabled": True, "priority": 90}
        assert not [v for v in eng.list("vms")["vms"] if v["name"] == "bad"]
        # stop_reason is the engine's to say.
        expect_fault(eng.request("PUT", f"/api/vms/{ha['id']}", {"stop_reason": "user"}), 400, "stop_reason")

        cli = CliSession(ctx, eng)
        cli.run("vm", "create", "--name", "clivm", "--cluster", "cl1", "--memory", "64", "--ha", "on",
                "--ha-priority", "40")
        vm = json.loads(cli.run("vm", "show", "clivm", "--json").stdout)
        assert vm["high_availability"] == {"enabled": True, "priority": 40}, vm
        cli.run("vm", "update", "clivm", "--ha", "off")
        assert eng.vm(vm["id"])["high_availability"] == {"enabled": False, "priority": 40}
        p = cli.run("vm", "update", "clivm", "--ha-priority", "101", expect=2)
        assert "ha-priority" in p.stderr, p.stderr
        cli.run("vm", "update", "clivm", "--ha", "maybe", expect=2)
        assert eng.vm(vm["id"])["high_availability"] == {"enabled": False, "priority": 40}


def test_power_management_rules(ctx):
    """power_management: defaults, passwords never shown and kept when a
    PUT leaves them out, bad agents refused with nothing changed, fence
    refused without power management (docs/fencing.md)."""
    with Engine(ctx) as eng:
        dc = eng.create_dc("dc1")
        cl = eng.create_cluster("cl1", dc["id"])
        h = eng.create_host("pm1", "192.0.2.10", cl["id"])
        assert h["power_management"] == {"enabled": False, "kdump_detection": True, "agents": []}, h
        expect_fault(eng.request("POST", f"/api/hosts/{h['id']}/fence", {"fence_type": "status"}), 409,
                     "no power management")
        agent = {"type": "ipmilan", "address": "192.0.2.110", "username": "admin", "password": "Pm-Secret-1",
                 "options": {"lanplus": True, "cipher": 3}}
        got = eng.call("PUT", f"/api/hosts/{h['id']}", {"power_management": {"enabled": True, "agents": [agent]}})
        want = {"type": "ipmilan", "address": "192.0.2.110", "port": 623, "username": "admin",
                "options": {"lanplus": True, "cipher": 3}, "order": 1, "concurrent": False}
        assert got["power_management"] == {"enabled": True, "kdump_detection": True, "agents": [want]}, got
        # The GET body PUT back (no password in it) keeps the password.
        got = eng.call("PUT", f"/api/hosts/{h['id']}", {"power_management": got["power_management"],
                                                         "description": "x"})
        assert got["power_management"]["agents"] == [want], got
        # kdump detection (docs/fencing.md "Kdump"): on unless turned off.
        got = eng.call("PUT", f"/api/hosts/{h['id']}", {"power_management": dict(got["power_management"],
                                                                                  kdump_detection=False)})
        assert got["power_management"]["kdump_detection"] is False and got["power_management"]["agents"] == [want]
        got = eng.call("PUT", f"/api/hosts/{h['id']}", {"power_management": {"enabled": True, "agents": [want]}})
        assert got["power_management"]["kdump_detection"] is True, got
        rows = eng.list("hosts")["hosts"]
        assert "Pm-Secret-1" not in json.dumps(rows) and "password" not in json.dumps(rows)
        for bad, why in (({"enabled": True, "agents": []}, "at least one"),
                         ({"enabled": True, "agents": [dict(agent, type="../x")]}, "type"),
                         ({"enabled": True, "agents": [dict(agent, address="a\nb")]}, "address"),
                         ({"enabled": True, "agents": [dict(agent, port=70000)]}, "port"),
                         ({"enabled": True, "agents": [dict(agent, options={"password_script": "/bin/x"})]},
                          "password_script"),
                         ({"enabled": True, "agents": [dict(agent, order=0)]}, "order"),
                         ({"enabled": True, "agents": [dict(agent, extra=1)]}, "extra"),
                         ({"enabled": "yes"}, "enabled"), ({"agents": [agent] * 5}, "at most 4"),
                         ({"enabled": True, "kdump_detection": "yes", "agents": [agent]}, "kdump_detection")):
            expect_fault(eng.request("PUT", f"/api/hosts/{h['id']}", {"power_management": bad}), 400, why)
        assert eng.host(h["id"])["power_management"] == {"enabled": True, "kdump_detection": True, "agents": [want]}
        expect_fault(eng.request("POST", f"/api/hosts/{h['id']}/fence", {"fence_type": "explode"}), 400,
                     "fence_type")
        # Its only host: there is no proxy; the job fails and says so.
        job = eng.wait_job(eng.call("POST", f"/api/hosts/{h['id']}/fence", {"fence_type": "status"},
                                    expect=202)["job"]["id"])
        assert job["status"] == "failed" and "no proxy host" in job["detail"], job
        assert "Pm-Secret-1" not in json.dumps(eng.events()) + eng.log_text()
        # SSH access for soft fencing: defaults, members kept, bad values
        # refused. (On a host in maintenance: one that never answers with
        # soft fencing on would be soft-fenced meanwhile.)
        sh = eng.create_host("ssh1", "192.0.2.12", cl["id"])
        assert sh["ssh"] == {"port": 22, "fingerprint": "", "soft_fencing": False}, sh
        # an administrator's soft fence needs soft fencing on (no job made)
        jobs_before = eng.list("jobs")["total"]
        expect_fault(eng.request("POST", f"/api/hosts/{sh['id']}/fence", {"fence_type": "soft"}), 409,
                     "has soft fencing off: set its ssh.soft_fencing")
        assert eng.list("jobs")["total"] == jobs_before
        eng.wait_job(eng.call("POST", f"/api/hosts/{sh['id']}/deactivate", expect=202)["job"]["id"])
        eng.wait_status("hosts", sh["id"], "maintenance")
        got = eng.call("PUT", f"/api/hosts/{sh['id']}", {"ssh": {"port": 2222, "soft_fencing": True}})
        assert got["ssh"] == {"port": 2222, "fingerprint": "", "soft_fencing": True}, got
        fp = "SHA256:" + "A" * 43
        got = eng.call("PUT", f"/api/hosts/{sh['id']}", {"ssh": {"fingerprint": fp}, "description": "y"})
        assert got["ssh"] == {"port": 2222, "fingerprint": fp, "soft_fencing": True}, got
        for bad, why in (({"port": 0}, "port"), ({"port": "22"}, "port"), ({"fingerprint": "MD5:aa"}, "fingerprint"),
                         ({"fingerprint": "SHA256:a b"}, "fingerprint"), ({"soft_fencing": 1}, "soft_fencing"),
                         ({"user": "admin"}, "user"), ("22", "object")):
            expect_fault(eng.request("PUT", f"/api/hosts/{sh['id']}", {"ssh": bad}), 400, why)
            expect_fault(eng.request("POST", "/api/hosts", dict(name="bad", address="192.0.2.11",
                                                                  cluster_id=cl["id"], ssh=bad)), 400, why)
        assert eng.host(sh["id"])["ssh"] == {"port": 2222, "fingerprint": fp, "soft_fencing": True}
        assert not [x for x in eng.list("hosts")["hosts"] if x["name"] == "bad"]
        cli = CliSession(ctx, eng)
        # The CLI changes SSH access too: port and soft fencing, members kept.
        cli.run("host", "update", "ssh1", "--ssh-port", "2200", "--soft-fencing", "off")
        assert eng.host(sh["id"])["ssh"] == {"port": 2200, "fingerprint": fp, "soft_fencing": False}
        cli.run("host", "update", "ssh1", "--soft-fencing", "on")
        assert eng.host(sh["id"])["ssh"] == {"port": 2200, "fingerprint": fp, "soft_fencing": True}
        for bad in (("--soft-fencing", "maybe"), ("--ssh-port", "0")):
            p = cli.run("host", "update", "ssh1", *bad, expect=2)
            assert bad[0] in p.stderr, p.stderr
        assert eng.host(sh["id"])["ssh"]["port"] == 2200
        # ssh1, in maintenance, is a viable proxy (RHV TR ch. 4.2: up or
        # maintenance) but never answers: tried, named, warned of.
        p = cli.run("host", "fence", "pm1", "status", "--wait", expect=1)
        assert "no proxy host to fence host 'pm1' answered: ssh1 (" in p.stdout + p.stderr, p
        assert eng.find_events("proxy host 'ssh1' did not answer to fence host 'pm1'", h["id"])
        cli.run("host", "fence", "pm1", "explode", expect=2)


@one_backend(backend="sqlite")
def test_two_hosts_lost_at_once_are_not_fenced(ctx):
    """The cluster's fencing policy (docs/fencing.md "Fencing policy"):
    its REST and CLI rules, then three clusters of hosts with power
    management at addresses nothing answers on (192.0.2.0/24, TEST-NET: no
    agent, no simulator), all non-responsive past the grace. cl1 (the
    defaults): its two hosts lost together are more than its 50% (a network
    split, not dead hosts): each gets a "skipped" event naming the count
    and the rule, no fence job. cl2, fencing disabled: skipped, saying so.
    cl3, threshold 100 and skip_if_sd_active: its only host is fenced (no
    storage: nobody can say its lease is live), the job failing for want
    of a proxy."""
    with Engine(ctx, grace_s=2) as eng:
        dc = eng.create_dc("dc1")
        cl = eng.create_cluster("cl1", dc["id"])
        default = {"enabled": True, "skip_if_sd_active": False, "skip_if_connectivity_broken": True, "threshold": 50}
        assert cl["fencing_policy"] == default, cl
        cl2 = eng.create_cluster("cl2", dc["id"], fencing_policy={"enabled": False})
        assert cl2["fencing_policy"] == dict(default, enabled=False), cl2
        cl3 = eng.create_cluster("cl3", dc["id"], fencing_policy={"skip_if_sd_active": True, "threshold": 25})
        # Members left out keep their value; bad ones are refused and change nothing.
        got = eng.call("PUT", f"/api/clusters/{cl3['id']}", {"fencing_policy": {"threshold": 100}})
        assert got["fencing_policy"] == dict(default, skip_if_sd_active=True, threshold=100), got
        for bad, why in (({"threshold": 101}, "threshold"), ({"threshold": -1}, "threshold"),
                         ({"threshold": "50"}, "threshold"), ({"enabled": "no"}, "enabled"),
                         ({"skip_if_gluster_bricks_up": True}, "skip_if_gluster_bricks_up"), ([], "object")):
            expect_fault(eng.request("PUT", f"/api/clusters/{cl3['id']}", {"fencing_policy": bad}), 400, why)
            expect_fault(eng.request("POST", "/api/clusters", {"name": "bad", "datacenter_id": dc["id"],
                                                               "fencing_policy": bad}), 400, why)
        assert eng.get(cl3["href"])["fencing_policy"]["threshold"] == 100
        assert not [c for c in eng.list("clusters")["clusters"] if c["name"] == "bad"]
        cli = CliSession(ctx, eng)
        cli.run("cluster", "update", "cl2", "--fence-threshold", "75", "--fence-skip-if-sd-active", "on")
        assert eng.get(cl2["href"])["fencing_policy"] == dict(default, enabled=False, skip_if_sd_active=True,
                                                                threshold=75)
        cli.run("cluster", "update", "cl2", "--fence-skip-if-sd-active", "off")
        p = cli.run("cluster", "update", "cl2", "--fence-threshold", "150", expect=2)
        assert "fence-threshold" in p.stderr, p.stderr
        cli.run("cluster", "update", "cl2", "--fencing", "maybe", expect=2)
        assert eng.get(cl2["href"])["fencing_policy"] == dict(default, enabled=False, threshold=75)

        pm = {"enabled": True, "agents": [{"type": "ipmilan", "address": "192.0.2.120", "username": "admin",
                                           "password": "Pm-Secret-2"}]}
        hosts = [eng.create_host(f"lost{k}", f"192.0.2.{20 + k}", c["id"])
                 for k, c in enumerate((cl, cl, cl2, cl3))]
        for h in hosts:
            eng.call("PUT", f"/api/hosts/{h['id']}", {"power_management": pm})
        for h in hosts:
            eng.wait_status("hosts", h["id"], "nonresponsive", timeout=60)
        for h in hosts[:2]:
            ev = eng.wait_for(lambda: eng.find_events(f"fencing of host '{h['name']}' skipped: 2 of the 2 hosts",
                                                      h["id"]), timeout=30, what=f"the skipped fencing of {h['name']}")
            assert "more than the 50% of its fencing policy (fencing_policy.skip_if_connectivity_broken)" in \
                ev[0]["message"], ev
        eng.wait_for(lambda: eng.find_events("fencing of host 'lost2' skipped: fencing is disabled in the fencing"
                                             " policy of its cluster (fencing_policy.enabled)", hosts[2]["id"]),
                     timeout=30, what="the disabled fencing of lost2")
        job = eng.wait_for(lambda: [j for j in eng.list("jobs", max=1000)["jobs"] if j.get("action") == "fence"
                                    and j["status"] not in ("pending", "running")], timeout=30,
                           what="the fence job of lost3")[0]
        assert job["object_id"] == hosts[3]["id"] and job["description"] == "Fence host 'lost3' (restart)", job
        assert job["status"] == "failed" and "no proxy host" in job["detail"], job
        time.sleep(3)  # a few monitor rounds: still nothing fenced in cl1 and cl2
        fenced = {j["object_id"] for j in eng.list("jobs", max=1000)["jobs"] if j.get("action") == "fence"}
        assert fenced == {hosts[3]["id"]}, eng.list("jobs")
        for h in hosts[:3]:
            assert not eng.find_events(f"host '{h['name']}' is non-responsive past the grace"), eng.events()
