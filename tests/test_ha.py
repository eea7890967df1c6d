"""Highly available VMs with real guests (docs/fencing.md): the QEMU of
an HA VM killed with SIGKILL on its harness host comes back (the engine
restarts it, the scheduler picks a host) - also when it died while the
host's agent and the engine were both down; a non-HA VM stays down with
stop_reason "crashed"; a VM a user stops, or whose guest powers itself off,
is not restarted. SQLite only (the rules are in test_engine_ha.py on both
databases)."""

import json
import os
import signal
import socket
import subprocess
import threading
import time

from harness.engine import CliSession, free_port, run_sql
from test_engine_hosts_vms import assert_runs_once, engine_with_hosts, host_index, new_vm, start_and_wait_up
from test_migration import mig_hosts


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

        # Stopped by a user: down for good, reason "user".
        _, got = eng.vm_action(user["id"], "stop")
        got = eng.wait_status("vms", user["id"], "down")

        # A guest powering itself off is its own wish: "shutdown", not restarted.
        with ctx.client(host_index(ctx, back["host"])) as c:
            ctx.wait_console(c, ha["id"], "VIREO-POWEROFF", send="poweroff\n", timeout=120)
        got = eng.wait_status("vms", ha["id"], "down", timeout=60)

        # A few polls later (one wait for the three: each began at its VM's
        # end), all still down, none restarted: the crashed plain VM, the one
        # a user stopped, the HA VM its guest powered off.
        time.sleep(3)
        got = eng.vm(plain["id"])
        assert got["status"] == "down" and got["stop_reason"] == "crashed", got
        assert eng.find_events("VM 'plain-1' is down (crashed)", plain["id"]), eng.events()[:20]
        got = eng.vm(user["id"])
        assert got["status"] == "down" and got["stop_reason"] == "user", got
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


def _maintenance(eng, host):
    """Put an empty host in maintenance (a job, docs/availability.md)."""
    r = eng.call("POST", f"/api/hosts/{host['id']}/deactivate", expect=202)
    assert eng.wait_job(r["job"]["id"])["status"] == "finished"
    eng.wait_status("hosts", host["id"], "maintenance", timeout=30)


def test_fence_restart_through_a_proxy(ctx):
    """A host's BMC (ipmi_sim) driven by fence_ipmilan on the other host:
    status through the API, then a restart that kills the host's agent,
    libvirtd and guest and brings them back; its HA VM comes up on the
    proxy host. The password is in no job, event, log or ps line."""
    pw = "Bmc-Pass-4417"
    kport = free_port()  # the engine's fence_kdump listener (docs/fencing.md "Kdump")
    mig_hosts(ctx)  # the kdump part migrates a VM (libvirtd with TLS in the harness)
    with engine_with_hosts(ctx, poll_ms=1000, kdump_listen=f"0.0.0.0:{kport}",
                           extra_args=["--kdump-started-timeout-s", "3", "--kdump-finished-timeout-s", "4"]) as (
            eng, cl, hosts):
        h0, h1 = hosts
        target = ctx.hs.hosts[1]
        addr, port = target.start_bmc("admin", pw)
        eng.call("PUT", f"/api/hosts/{h1['id']}", {"power_management": {"enabled": True, "agents": [{
            "type": "ipmilan", "address": addr, "port": port, "username": "admin", "password": pw,
            "options": {"lanplus": True, "cipher": 3}}]}})
        r = eng.call("POST", f"/api/hosts/{h1['id']}/fence", {"fence_type": "status"}, expect=202)
        job = eng.wait_job(r["job"]["id"])
        assert job["status"] == "finished" and "power on" in job["detail"] and "proxy 'vh0'" in job["detail"], job

        # An HA VM on vh1 (vh0 in maintenance meanwhile, so the scheduler has no choice).
        _maintenance(eng, h0)
        # A host in maintenance still proxies (RHV TR ch. 4.2: up or maintenance).
        r = eng.call("POST", f"/api/hosts/{h1['id']}/fence", {"fence_type": "status"}, expect=202)
        job = eng.wait_job(r["job"]["id"])
        assert job["status"] == "finished" and "power on" in job["detail"] and "proxy 'vh0'" in job["detail"], job
        ha = new_vm(ctx, eng, cl, "ha-fenced", nics=(), high_availability={"enabled": True, "priority": 90})
        vm = start_and_wait_up(eng, ha["id"])[0]
        assert vm["host"] == "vh1", vm
        eng.call("POST", f"/api/hosts/{h0['id']}/activate")
        eng.wait_status("hosts", h0["id"], "up", timeout=60)
        old_agent = target.agent_pid
        seen, stop = [], threading.Event()

        def watch_ps():
            while not stop.is_set():
                seen.append(subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout)
                time.sleep(0.05)
        t = threading.Thread(target=watch_ps)
        t.start()
        try:
            r = eng.call("POST", f"/api/hosts/{h1['id']}/fence", {"fence_type": "restart"}, expect=202)
            job = eng.wait_job(r["job"]["id"], timeout=120)
        finally:
            stop.set()
            t.join()
        assert job["status"] == "finished" and "restart of host 'vh1': power on" in job["detail"], job
        assert target.agent_pid != old_agent, "vh1's agent was not restarted"
        back = eng.wait_for(lambda: (lambda v: v if v["status"] == "up" and v["host"] == "vh0" else None)(
            eng.vm(ha["id"])), 90, what="the HA VM up on vh0")
        assert back["stop_reason"] == "host_fenced", back
        assert_runs_once(ctx, eng, back, "after fencing its host")
        assert eng.find_events("highly available VM 'ha-fenced' was lost on host 'vh1'", ha["id"])
        eng.wait_status("hosts", h1["id"], "up", timeout=90)
        everything = json.dumps(eng.list("jobs", max=1000)) + json.dumps(eng.events()) + eng.log_text()
        everything += json.dumps(eng.list("hosts")) + "".join(seen)
        for h in ctx.hs.hosts:
            everything += open(h.agent_log, errors="replace").read()
        assert pw not in everything, "the BMC password leaked"
        assert any("fence_ipmilan" in s for s in seen)

        # Automatic fencing: vh1 loses power with an HA and a plain VM on it.
        eng.vm_action(ha["id"], "stop")
        eng.wait_status("vms", ha["id"], "down")
        _maintenance(eng, h0)
        plain = new_vm(ctx, eng, cl, "plain-fenced", nics=())
        for v in (ha, plain):
            assert start_and_wait_up(eng, v["id"])[0]["host"] == "vh1"
        eng.call("POST", f"/api/hosts/{h0['id']}/activate")
        eng.wait_status("hosts", h0["id"], "up", timeout=60)
        try:
            _soft_fence(ctx, eng, h1, target, [ha, plain])
            # (the fences above were a moment ago: past the quiet time, as if long ago)
            run_sql(eng, "UPDATE jobs SET updated_at = updated_at - 1000 WHERE action = 'fence'")
            _power_loss(ctx, eng, h1, target, ha, plain)
            _kdump(ctx, eng, h1, target, ha, kport)
        finally:
            target.stop_sshd()
        eng.stop_all_vms()


def _soft_fence(ctx, eng, h1, target, vms):
    """vh1's agent hangs (SIGSTOP): past the grace the engine logs in over
    SSH with its key and restarts the agent (the harness's vireo-agent
    unit); it answers, so no hard fence: the BMC is never asked, the VMs
    keep running where they were. Its host key is pinned."""
    pub = eng.request("GET", "/pki/engine-ssh.pub", token=None).text
    addr, port = target.start_sshd([pub])
    got = eng.call("PUT", f"/api/hosts/{h1['id']}", {"ssh": {"port": port, "soft_fencing": True}})["ssh"]
    assert got == {"port": port, "fingerprint": "", "soft_fencing": True}, got
    run_sql(eng, "UPDATE jobs SET updated_at = updated_at - 1000 WHERE action = 'fence'")
    pids = {v["id"]: qemu_of(ctx, eng.vm(v["id"])) for v in vms}
    power_requests = open(os.path.join(target.bmc.dir, "requests")).read()
    before = {j["id"] for j in eng.list("jobs", max=1000)["jobs"]}
    hung = target.agent_pid
    os.kill(hung, signal.SIGSTOP)
    try:
        job = eng.wait_for(lambda: [j for j in eng.list("jobs", max=1000)["jobs"] if j["id"] not in before
                                    and j["action"] == "fence" and j["status"] not in ("pending", "running")],
                           90, what="the automatic fence job of vh1")[0]
    finally:
        if target.agent_pid == hung:
            os.kill(hung, signal.SIGCONT)
    assert job["status"] == "finished" and "answers again" in job["detail"], (job, eng.log_tail(30))
    assert job["description"] == "Fence host 'vh1' (soft, then restart)" and job["user"] == "", job
    assert target.agent_unit.restarts == 1 and target.agent_pid != hung, "the agent was not restarted over SSH"
    eng.wait_status("hosts", h1["id"], "up", timeout=60)
    for v in vms:  # untouched: the same QEMU on the same host
        got = eng.wait_status("vms", v["id"], "up", timeout=30)
        assert qemu_of(ctx, got) == pids[v["id"]], (got, pids)
    assert open(os.path.join(target.bmc.dir, "requests")).read() == power_requests, "the BMC was asked"
    for msg in ("host 'vh1' is non-responsive past the grace: soft fencing it",
                "soft fencing of host 'vh1': restarting its agent over SSH",
                "soft fencing of host 'vh1': its agent was restarted",
                "its agent was restarted over SSH and answers again; not fenced",
                "SSH host key of host 'vh1' pinned at the first contact"):
        assert eng.find_events(msg, h1["id"]), (msg, [e["message"] for e in eng.events()[:15]])
    assert eng.host(h1["id"])["ssh"]["fingerprint"] == target.sshd.fingerprint()
    # An administrator's soft fence of the host up (fence_type soft, the
    # CLI): its agent restarted over SSH again, no power action, its VMs
    # untouched (pinned host key checked).
    before = target.agent_pid
    out = json.loads(CliSession(ctx, eng).run("host", "fence", "vh1", "soft", "--wait", "--json").stdout)
    job = [j for j in eng.list("jobs", max=1000)["jobs"] if j["description"] == "Fence host 'vh1' (soft)"]
    assert len(job) == 1 and job[0]["status"] == "finished" and job[0]["user"], job
    assert target.agent_unit.restarts == 2 and target.agent_pid != before, "the agent was not restarted over SSH"
    assert out["name"] == "vh1", out
    eng.wait_status("hosts", h1["id"], "up", timeout=60)
    for v in vms:
        assert qemu_of(ctx, eng.wait_status("vms", v["id"], "up", timeout=30)) == pids[v["id"]]
    assert open(os.path.join(target.bmc.dir, "requests")).read() == power_requests, "the BMC was asked"


def _power_loss(ctx, eng, h1, target, ha, plain):
    """vh1 loses power (its sshd with it): soft fencing cannot reach it,
    the proxy restarts it, its HA VM comes up on vh0."""
    fenced_before = len(eng.find_events("restart of host 'vh1': power on", h1["id"]))
    old_agent = target.agent_pid
    target.bmc.press_power(False)
    back = eng.wait_for(lambda: (lambda v: v if v["status"] == "up" and v["host"] == "vh0" else None)(
        eng.vm(ha["id"])), 120, what="the HA VM up on vh0 after vh1 was fenced")
    assert back["stop_reason"] == "host_fenced", back
    got = eng.vm(plain["id"])
    assert got["status"] == "down" and got["stop_reason"] == "host_fenced", got
    assert target.agent_pid != old_agent and target.bmc_power() == "on"
    assert eng.find_events("soft fencing of host 'vh1' failed: cannot reach", h1["id"]), eng.events()[:15]
    assert eng.find_events("soft fencing did not bring the host back", h1["id"])
    assert eng.find_events("no kdump detected on host 'vh1': no fence_kdump message from", h1["id"])
    assert len(eng.find_events("restart of host 'vh1': power on", h1["id"])) == fenced_before + 1
    auto = [j for j in eng.list("jobs", max=1000)["jobs"]
            if j["description"] == "Fence host 'vh1' (soft, then restart)" and j["user"] == ""]
    assert [j["status"] for j in auto] == ["finished", "finished"], auto
    eng.wait_status("hosts", h1["id"], "up", timeout=90)
    assert_runs_once(ctx, eng, back, "after automatic fencing")


def _kdump(ctx, eng, h1, target, ha, kport):
    """vh1 crashes into its kdump kernel, which sends fence_kdump messages
    (the real fence_kdump_send, from vh1's network namespace) to the
    engine: vh1 is not fenced but kdumping; only once the messages stop
    (the dump is over) does it count as fenced: its HA VM restarts on vh0.
    The BMC is never asked."""
    r = eng.request("POST", f"/api/vms/{ha['id']}/migrate", {"host": h1["id"]})
    assert r.status == 202, r
    assert eng.wait_job(r.body["job"]["id"], timeout=90)["status"] == "finished"
    run_sql(eng, "UPDATE jobs SET updated_at = updated_at - 1000 WHERE action = 'fence'")
    before = {j["id"] for j in eng.list("jobs", max=1000)["jobs"]}
    target.bmc.press_power(False)  # the crash: the kernel, the agent and QEMU are gone
    requests = open(os.path.join(target.bmc.dir, "requests")).read()
    sender = target.popen(["/usr/libexec/fence-agents/fence_kdump_send", "-p", str(kport), "-i", "1", "10.77.0.1"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        got = eng.wait_status("hosts", h1["id"], "kdumping", timeout=60)
        assert "fence_kdump messages from 10.77.0.11" in got["status_detail"], got
        assert eng.find_events("fencing of host 'vh1' skipped: it is dumping a crash", h1["id"])
        time.sleep(3)  # dumping on: not fenced, nothing restarted
        assert eng.host(h1["id"])["status"] == "kdumping"
        assert eng.vm(ha["id"])["status"] == "unknown", eng.vm(ha["id"])
    finally:
        sender.kill()
        sender.wait()
    back = eng.wait_for(lambda: (lambda v: v if v["status"] == "up" and v["host"] == "vh0" else None)(
        eng.vm(ha["id"])), 60, what="the HA VM up on vh0 after vh1's dump")
    assert back["stop_reason"] == "host_fenced", back
    job = [j for j in eng.list("jobs", max=1000)["jobs"] if j["id"] not in before and j["action"] == "fence"]
    assert len(job) == 1 and job[0]["status"] == "finished" and "kdump of host 'vh1' finished" in job[0]["detail"], job
    assert eng.find_events("kdump of host 'vh1' finished", h1["id"])
    assert open(os.path.join(target.bmc.dir, "requests")).read() == requests, "the BMC was asked"
    assert target.bmc_power() == "off"
    target.bmc.press_power(True)  # the machine reboots after its dump
    eng.wait_status("hosts", h1["id"], "up", timeout=90)
    assert_runs_once(ctx, eng, back, "after the kdump")


def test_fence_agent_that_times_out(ctx):
    """vh1's agent hangs (SIGSTOP), no soft fencing: the automatic fence's
    agent runs on the proxy vh0 against a "BMC" that never answers (a UDP
    socket of this test) and is stopped after --fence-agent-timeout-s.
    The job fails saying so, an error event names the host and the
    timeout, and vh1's HA VM stays unknown: never started on vh0 (it still
    runs on vh1). Once vh1's agent answers, the VM is up there, once."""
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind((ctx.hs.subnet + ".1", 0))
    with sink, engine_with_hosts(ctx, poll_ms=1000, extra_args=["--fence-agent-timeout-s", "3"]) as (
            eng, cl, hosts):
        h0, h1 = hosts
        target = ctx.hs.hosts[1]
        eng.call("PUT", f"/api/hosts/{h1['id']}", {"power_management": {"enabled": True, "kdump_detection": False,
                 "agents": [{"type": "ipmilan", "address": ctx.hs.subnet + ".1", "port": sink.getsockname()[1],
                             "username": "admin", "password": "Sink-Pass-1", "options": {"lanplus": True}}]}})
        ha = new_vm(ctx, eng, cl, "ha-unfenced", nics=(), high_availability={"enabled": True, "priority": 10},
                    placement_policy={"hosts": [h1["id"]]})
        vm = start_and_wait_up(eng, ha["id"])[0]
        assert vm["host"] == "vh1", vm
        eng.call("PUT", f"/api/vms/{ha['id']}", {"placement_policy": {"affinity": "migratable", "hosts": []}})
        pid = qemu_of(ctx, vm)
        hung = target.agent_pid
        os.kill(hung, signal.SIGSTOP)
        try:
            job = eng.wait_for(lambda: [j for j in eng.list("jobs", max=1000)["jobs"] if j["action"] == "fence"
                                        and j["status"] not in ("pending", "running")], 60,
                               what="the automatic fence job of vh1")[0]
            assert job["status"] == "failed" and "did not finish within 3 s" in job["detail"], job
            assert job["description"] == "Fence host 'vh1' (restart)" and job["user"] == "", job
            ev = eng.find_events("automatic fencing (restart) of host 'vh1' failed: fence agent ipmilan", h1["id"])
            assert ev and ev[0]["severity"] == "error" and "did not finish within 3 s" in ev[0]["message"], ev
            assert "not started elsewhere" in ev[0]["message"], ev
            time.sleep(3)  # three more polls: still nothing started on vh0
            got = eng.vm(ha["id"])
            assert (got["status"], got["host"]) == ("unknown", "vh1"), got
            with ctx.client(0) as c:
                assert not [v for v in c.call("VM.list")["vms"] if v["uuid"] == ha["id"]]
            starts = [j for j in eng.list("jobs", max=1000)["jobs"] if j.get("object_id") == ha["id"]
                      and j.get("action") == "start"]
            assert len(starts) == 1, starts
        finally:
            os.kill(hung, signal.SIGCONT)
        back = eng.wait_status("vms", ha["id"], "up", timeout=60)
        assert back["host"] == "vh1" and qemu_of(ctx, back) == pid, back
        assert_runs_once(ctx, eng, back, "after a fence agent timed out")
        eng.wait_status("hosts", h1["id"], "up", timeout=30)
        eng.stop_all_vms()
