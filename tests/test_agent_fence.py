"""Host.fence (docs/agent-api.md): the agent of one harness host, as the
fencing proxy of another, runs Debian's fence_ipmilan against that host's
simulated BMC (ipmi_sim, harness/bmc.py): status, and a reboot that kills
the host's agent, QEMUs and libvirtd and brings them back. The password
goes to the fence agent on stdin: never in a command line the proxy's
`ps` shows, nor in the agent's log."""

import os
import subprocess
import threading
import time

from harness.rpc import expect_error

INVALID_PARAMS, ERR_UNSUPPORTED, ERR_IO = -32602, -32005, -32008
PASSWORD = "Fence-pw-7781"


def ps_lines():
    return subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout


def test_fence_through_a_proxy(ctx):
    proxy, target = ctx.host(0), ctx.host(1)
    addr, port = target.start_bmc("admin", PASSWORD)
    c = ctx.client(0)
    agent = {"type": "ipmilan", "address": addr, "port": port, "username": "admin", "password": PASSWORD,
             "options": {"lanplus": True, "cipher": 3}}  # ipmi_sim has no cipher suite list
    got = c.call("Host.fence", agent=agent, action="status")
    assert got == {"power": "on", "action": "status"}, got
    # A wrong password is a clear failure, with no password in the message.
    bad = dict(agent, password="wrong-" + PASSWORD)
    e = expect_error(ERR_IO, c.call, "Host.fence", agent=bad, action="status", timeout_s=30)
    assert "failed" in str(e) and PASSWORD not in str(e), e
    # Parameters that could run something else, or inject lines, are refused.
    for over, why in (({"type": "../bin/sh"}, "type"), ({"address": "1.2.3.4\naction=off"}, "address"),
                      ({"options": {"password_script": "/bin/true"}}, "password_script"),
                      ({"options": {"ipmitool_path": "/bin/true"}}, "ipmitool_path"),
                      ({"options": {"action": "off"}}, "action"),
                      ({"options": {"x": {"y": 1}}}, "options.x")):
        e = expect_error(INVALID_PARAMS, c.call, "Host.fence", agent=dict(agent, **over), action="status")
        assert why in str(e), (over, e)
    expect_error(INVALID_PARAMS, c.call, "Host.fence", agent=agent, action="explode")
    expect_error(ERR_UNSUPPORTED, c.call, "Host.fence", agent=dict(agent, type="nosuchdevice"), action="status")
    assert target.bmc_power() == "on" and target.agent_alive()

    # A reboot through the proxy: the target's processes die and come back.
    old_agent, old_libvirtd = target.agent_pid, target.libvirtd_pid
    seen, stop = [], threading.Event()

    def watch_ps():
        while not stop.is_set():
            seen.append(ps_lines())
            time.sleep(0.05)
    t = threading.Thread(target=watch_ps)
    t.start()
    try:
        got = c.call("Host.fence", agent=agent, action="reboot", timeout_s=120)
    finally:
        stop.set()
        t.join()
    assert got == {"power": "on", "action": "reboot"}, got
    deadline = time.monotonic() + 30
    while not (target.agent_pid and target.agent_pid != old_agent) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert target.agent_pid and target.agent_pid != old_agent, "the target's agent was not restarted"
    assert target.libvirtd_pid and target.libvirtd_pid != old_libvirtd
    target.wait_agent()
    with ctx.client(1) as t1:
        assert t1.call("Host.ping")["pong"] is True
    with open(os.path.join(target.bmc.dir, "requests")) as f:
        assert f.read().split() == ["0", "1"]  # one power off, one power on
    assert any("fence_ipmilan" in s for s in seen), "the fence agent never showed in ps"
    assert not any(PASSWORD in s for s in seen), "the password showed in ps"
    # ipmitool reads it from IPMI_PASSWORD (-E): not even an empty -P
    tools = [ln for s in seen for ln in s.splitlines() if ln.startswith("/usr/bin/ipmitool")]
    assert all(" -E " in ln and " -P " not in ln for ln in tools), tools
    with open(proxy.agent_log, errors="replace") as f:
        log = f.read()
        assert PASSWORD not in log
        assert "action reboot on %s: exit 0 (password through IPMI_PASSWORD)" % addr in log
