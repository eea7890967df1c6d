"""Highly available VMs, the rules without guests (docs/fencing.md): the
high_availability member (REST and CLI) and stop_reason. The restarts
themselves, with real guests whose QEMU is killed, are in test_ha.py."""

import json

from harness.engine import CliSession, Engine, expect_fault


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
