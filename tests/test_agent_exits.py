"""Why a VM's QEMU ended, as the agent reports it (docs/agent-api.md
"VM.getExit"): in the Stopped event and on request, also for a VM that
ended while the agent was down (from libvirtd's own log of the domain).
The engine restarts highly available VMs on "crashed" only."""

import os
import signal
import time

from harness.rpc import expect_error

ERR_BAD_STATE = -32006


def wait_gone(c, uuid, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if uuid not in {v["uuid"] for v in c.call("VM.list")["vms"]}:
            return
        time.sleep(0.2)
    raise AssertionError(f"VM {uuid} still listed")


def test_exit_reasons(ctx):
    """kill -9 of QEMU is "crashed", VM.destroy "destroyed", both in the
    event and in VM.getExit; a QEMU killed while the agent is down is still
    "crashed" after it restarts. A running VM has no exit."""
    c = ctx.client()
    c.call("Host.subscribe")
    h = ctx.host()
    killed = c.call("VM.create", ctx.vm_spec(name="exit-killed"))
    destroyed = c.call("VM.create", ctx.vm_spec(name="exit-destroyed"))
    expect_error(ERR_BAD_STATE, c.call, "VM.getExit", uuid=killed["uuid"], name="exit-killed")
    os.kill(ctx.qemu_pid("exit-killed"), signal.SIGKILL)
    ev = c.wait_event(lambda p: p["uuid"] == killed["uuid"] and p["event"] == "Stopped", timeout=30)
    assert ev["reason"] == "crashed", ev
    got = c.call("VM.getExit", uuid=killed["uuid"], name="exit-killed")
    assert got["reason"] == "crashed" and got["source"] == "event", got
    c.call("VM.destroy", uuid=destroyed["uuid"])
    ev = c.wait_event(lambda p: p["uuid"] == destroyed["uuid"] and p["event"] == "Stopped", timeout=30)
    assert ev["reason"] == "destroyed", ev
    assert c.call("VM.getExit", uuid=destroyed["uuid"])["reason"] == "destroyed"

    # Ended while the agent was down: libvirtd's log of the domain says it.
    late = c.call("VM.create", ctx.vm_spec(name="exit-late"))
    c.close()
    h.kill_agent(signal.SIGKILL)
    try:
        os.kill(ctx.qemu_pid("exit-late"), signal.SIGKILL)
        deadline = time.monotonic() + 30
        while "exit-late" in h.virsh("list", "--name").split() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        h.start_agent()
        h.wait_agent()
    c = ctx.client()
    wait_gone(c, late["uuid"])
    got = c.call("VM.getExit", uuid=late["uuid"], name="exit-late")
    assert got == {"uuid": late["uuid"], "reason": "crashed", "source": "libvirt-log"}, got
    # Without the name there is no log to read: unknown, not a guess.
    assert c.call("VM.getExit", uuid=late["uuid"])["reason"] == "unknown"
    # Names are checked before they become a path.
    expect_error(-32602, c.call, "VM.getExit", uuid=late["uuid"], name="../../etc/passwd")
