"""Highly available VMs with real guests (docs/fencing.md): the QEMU of
an HA VM killed with SIGKILL on its harness host comes back (the engine
restarts it, the scheduler picks a host) - also when it died while the
host's agent and the engine were both down; a non-HA VM stays down with
stop_reason "crashed"; a VM a user stops, or whose guest powers itself off,
is not restarted. SQLite only (the rules are in test_engine_ha.py on both
databases)."""

import os
import signal
import time

from test_engine_hosts_vms import assert_runs_once, engine_with_hosts, host_index, new_vm, start_and_wait_up


def qemu_of(ctx, vm):
    i = host_index(ctx, vm["host"])
    return i, ctx.qemu_pid(vm["name"], i)


def wait_qemu_gone(ctx, i, name, timeout=30):
    h = ctx.hs.hosts[i]
    deadline = time.monotonic() + timeout
    while name in h.virsh("list", "--name").split():
        assert time.monotonic() < deadline, f"{name} still listed on {h.name}"
        time.sleep(0.2)


def restarted(eng, vm_id, old_pid_host, ctx, timeout=90):
    """Wait until the engine reports the VM up again with a new QEMU."""
    def check():
        vm = eng.vm(vm_id)
        if vm["status"] != "up":
            return None
        try:
            now = qemu_of(ctx, vm)
        except AssertionError:  # libvirt lists it before its QEMU is up
            return None
        return vm if now != old_pid_host else None
    return eng.wait_for(check, timeout, interval=0.5, what=f"VM {vm_id} restarted")


def test_ha_vm_restarts_after_its_qemu_dies(ctx):
    with engine_with_hosts(ctx, poll_ms=1000) as (eng, cl, hosts):
        ha = new_vm(ctx, eng, cl, "ha-1", nics=(), high_availability={"enabled": True, "priority": 50})
        plain = new_vm(ctx, eng, cl, "plain-1", nics=())
        user = new_vm(ctx, eng, cl, "ha-userstop", nics=(), high_availability={"enabled": True})
        for vm in (ha, plain, user):
            start_and_wait_up(eng, vm["id"])
        ha, plain = eng.vm(ha["id"]), eng.vm(plain["id"])

        # SIGKILL both QEMUs: the HA VM comes back, the other stays down.
        ha_was, plain_was = qemu_of(ctx, ha), qemu_of(ctx, plain)
        os.kill(ha_was[1], signal.SIGKILL)
        os.kill(plain_was[1], signal.SIGKILL)
        got = eng.wait_status("vms", plain["id"], "down", timeout=30)
        assert got["stop_reason"] == "crashed" and got["host_id"] is None, got
        back = restarted(eng, ha["id"], ha_was, ctx)
        assert back["stop_reason"] == "crashed", back
        assert_runs_once(ctx, eng, back, "after the HA restart")
        assert eng.find_events("highly available VM 'ha-1' crashed", ha["id"]), eng.events()[:20]
        jobs = [j for j in eng.list("jobs", max=1000)["jobs"]
                if j["object_id"] == ha["id"] and j["description"] == "Restart highly available VM 'ha-1'"]
        assert len(jobs) == 1 and jobs[0]["status"] == "finished", jobs
        time.sleep(3)  # a few polls: still down, never restarted
        got = eng.vm(plain["id"])
        assert got["status"] == "down" and got["stop_reason"] == "crashed", got
        assert eng.find_events("VM 'plain-1' is down (crashed)", plain["id"]), eng.events()[:20]

        # Stopped by a user: down for good, reason "user".
        _, got = eng.vm_action(user["id"], "stop")
        got = eng.wait_status("vms", user["id"], "down")
        time.sleep(3)
        got = eng.vm(user["id"])
        assert got["status"] == "down" and got["stop_reason"] == "user", got

        # A guest powering itself off is its own wish: "shutdown", not restarted.
        with ctx.client(host_index(ctx, back["host"])) as c:
            ctx.wait_console(c, ha["id"], "VIREO-POWEROFF", send="poweroff\n", timeout=120)
        got = eng.wait_status("vms", ha["id"], "down", timeout=60)
        time.sleep(3)
        got = eng.vm(ha["id"])
        assert got["status"] == "down" and got["stop_reason"] == "shutdown", got

        # Died while its host's agent and the engine were down: found out
        # (libvirtd's log of the domain) and restarted once both are back.
        ha = start_and_wait_up(eng, ha["id"])[0]
        i, pid = qemu_of(ctx, ha)
        h = ctx.hs.hosts[i]
        eng.kill()
        h.kill_agent(signal.SIGKILL)
        try:
            os.kill(pid, signal.SIGKILL)
            wait_qemu_gone(ctx, i, ha["name"])
        finally:
            h.start_agent()
            h.wait_agent()
            eng.start()
        back = restarted(eng, ha["id"], (i, pid), ctx)
        assert back["stop_reason"] == "crashed", back
        assert_runs_once(ctx, eng, back, "after a restart found by polls")
        eng.stop_all_vms()
