"""Stopping vireo-agent with SIGTERM: an orderly exit (status 0, promptly,
no sanitizer report or assertion in its log) whatever its clients are
doing, and the VMs keep running."""

import os
import signal
import socket
import time

from harness.rpc import RpcError
from test_agent_jobs import Background, patient_client, wait_monitor_busy

# An exit within this bound is "prompt": the agent waits 5 s for calls in
# progress (SHUTDOWN_GRACE_MS in src/agent/main.c), the rest is slack for a
# loaded machine. The defect was an abort, or no exit at all.
PROMPT_S = 20
BAD_LOG = ("AddressSanitizer", "runtime error:", "LeakSanitizer", "Assertion", "Aborted")


def log_since(h, offset):
    with open(h.agent_log, errors="replace") as f:
        f.seek(offset)
        return f.read()


def assert_clean_stop(h, offset):
    text = log_since(h, offset)
    for bad in BAD_LOG:
        assert bad not in text, f"{bad!r} in the agent log:\n{text[-3000:]}"
    assert "stopping; running VMs are left running" in text and "stopped" in text, text[-3000:]
    return text


def connection_ended(c):
    """The agent closed this client's connection (no hang, no reply)."""
    c.sock.settimeout(10)
    try:
        c.recv()
    except (ConnectionError, OSError, ValueError):
        return True
    return False


def sigterm(h):
    t0 = time.monotonic()
    status = h.kill_agent(signal.SIGTERM, wait=True, timeout=PROMPT_S + 10)
    took = time.monotonic() - t0
    assert status == 0, f"agent exited with {status}:\n{h.log_tail()}"
    assert took < PROMPT_S, f"agent took {took:.0f}s to stop"


def restart_and_check(ctx, h, vm, qemu_pid):
    assert qemu_pid in h.qemu_pids(), "the VM's QEMU did not survive the agent's stop"
    h.start_agent()
    h.wait_agent()
    c = ctx.client()
    listed = {v["uuid"]: v for v in c.call("VM.list")["vms"]}
    assert listed[vm["uuid"]]["owned"] and listed[vm["uuid"]]["state"] == "running", listed
    ctx.wait_console(c, vm["uuid"], "VIREO-ECHO after-stop", send="echo after-stop\n")


def test_sigterm_with_idle_and_subscribed_clients(ctx):
    """Nothing stuck: every thread is joined and everything freed, and
    ASan watches the whole teardown."""
    h = ctx.host()
    c = ctx.client()
    vm = ctx.boot(c)
    qemu = ctx.qemu_pid(vm["name"])
    offset = os.path.getsize(h.agent_log)
    idle = ctx.client()
    assert idle.call("Host.ping") == {"pong": True}
    sub = ctx.client()
    sub.call("Host.subscribe")
    raw = socket.create_connection((h.addr, h.port), timeout=10)  # never starts TLS
    try:
        sigterm(h)
    finally:
        raw.close()
    assert connection_ended(idle) and connection_ended(sub)
    text = assert_clean_stop(h, offset)
    assert "still inside a call" not in text, text[-2000:]
    restart_and_check(ctx, h, vm, qemu)


def test_sigterm_while_a_call_hangs_in_libvirt(ctx):
    """One client is blocked mid-call inside libvirt (a hotplug on a
    stopped QEMU), another waits for that VM's job, one is subscribed to
    events and one is idle: the agent still exits promptly and cleanly."""
    h = ctx.host()
    c = ctx.client()
    vm = ctx.boot(c, name="sd-hung")
    qemu = ctx.qemu_pid("sd-hung")
    disk = ctx.scratch_disk("sd-hung-data.img")
    offset = os.path.getsize(h.agent_log)
    idle = ctx.client()
    assert idle.call("Host.ping") == {"pong": True}
    sub = ctx.client()
    sub.call("Host.subscribe")
    blocked, waiting = patient_client(ctx), patient_client(ctx)
    os.kill(qemu, signal.SIGSTOP)
    try:
        hotplug = Background(lambda: blocked.call("VM.hotplugDisk", uuid=vm["uuid"],
                                                  disk={"path": disk}))
        wait_monitor_busy(h, "sd-hung")
        queued = Background(lambda: waiting.call("VM.hotplugNic", uuid=vm["uuid"],
                                                 nic={"mac": "52:54:00:dd:00:01"}))
        time.sleep(1)  # let it reach the VM's job table
        assert not hotplug.done() and not queued.done()
        sigterm(h)
    finally:
        os.kill(qemu, signal.SIGCONT)
    text = assert_clean_stop(h, offset)
    assert "1 client thread(s) still inside a call" in text, text[-2000:]
    # The waiting call was refused (or cut) rather than left hanging, and
    # every other connection was closed.
    queued.join(30)
    assert isinstance(queued.error, (RpcError, ConnectionError, OSError)), queued.error
    hotplug.join(60)
    assert isinstance(hotplug.error, (ConnectionError, OSError)), hotplug.error
    assert connection_ended(idle) and connection_ended(sub)
    restart_and_check(ctx, h, vm, qemu)
