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
        p = cli.run("host", "fence", "pm1", "status", "--wait", expect=1)
        assert "no proxy host" in p.stdout + p.stderr, p
        cli.run("host", "fence", "pm1", "explode", expect=2)


@one_backend(backend="sqlite")
def test_two_hosts_lost_at_once_are_not_fenced(ctx):
    """Fencing is skipped when more than half of a cluster's hosts (those
    not in maintenance) are unreachable at once: two hosts lost together
    look like a network split, not dead hosts (docs/fencing.md). Two hosts
    with power management at addresses nothing answers on (192.0.2.0/24,
    TEST-NET: no agent, no simulator): both go non-responsive past the
    grace, each gets a "skipped" event naming the count, and no fence job
    is made for either."""
    with Engine(ctx, grace_s=2) as eng:
        dc = eng.create_dc("dc1")
        cl = eng.create_cluster("cl1", dc["id"])
        pm = {"enabled": True, "agents": [{"type": "ipmilan", "address": "192.0.2.120", "username": "admin",
                                           "password": "Pm-Secret-2"}]}
        hosts = [eng.create_host(f"lost{k}", f"192.0.2.{20 + k}", cl["id"]) for k in (0, 1)]
        for h in hosts:
            eng.call("PUT", f"/api/hosts/{h['id']}", {"power_management": pm})
        for h in hosts:
            eng.wait_status("hosts", h["id"], "nonresponsive", timeout=60)
        for h in hosts:
            eng.wait_for(lambda: eng.find_events(f"fencing of host '{h['name']}' skipped: 2 of the 2 hosts", h["id"]),
                         timeout=30, what=f"the skipped fencing of {h['name']}")
        time.sleep(3)  # a few monitor rounds: still nothing fenced
        assert not [j for j in eng.list("jobs", max=1000)["jobs"] if j.get("action") == "fence"], eng.list("jobs")
        assert not eng.find_events("non-responsive past the grace"), eng.events()
