"""Host verbs: ping, capabilities (detected, not assumed) and statistics."""

import os
import platform
import shutil
import signal
import socket
import tempfile


def expected_mode():
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "tcg"
    flags = open("/proc/cpuinfo").read().split("flags", 1)[1].split("\n", 1)[0].split()
    return "kvm" if ("vmx" in flags or "svm" in flags) else "kvm-emulated"


def test_ping(ctx):
    assert ctx.client().call("Host.ping") == {"pong": True}


def test_capabilities(ctx):
    caps = ctx.client().call("Host.getCapabilities")
    assert caps["virt_mode"] == expected_mode()
    assert caps["default_domain_type"] == ("kvm" if caps["virt_mode"] == "kvm" else "qemu")
    assert 1 <= caps["max_vcpus"] <= 240  # RHEL's limit, or less if libvirt says so
    assert caps["cpu_topology"]["cpus"] == os.cpu_count()
    assert caps["memory_kib"] > 0 and caps["numa_nodes"] >= 1
    assert "pc" in caps["machine_types"] or any(m.startswith("pc-") for m in caps["machine_types"])
    assert caps["libvirt_version"].count(".") == 2 and caps["qemu_version"].count(".") == 2
    assert "fpu" in caps["cpu_flags"]
    # The harness host sees its own eth0, nothing of the machine's other NICs.
    assert [n["name"] for n in caps["nics"]] == ["eth0"]
    assert len(caps["host_uuid"]) == 36
    # Named CPU models a guest can get here (what a cluster CPU type is checked against).
    assert "qemu64" in caps["cpu_models"] and len(set(caps["cpu_models"])) == len(caps["cpu_models"])
    # libvirt's lock manager (placement of leased VMs) and where storage is mounted (migrations).
    assert caps["lock_manager"] == "none", caps["lock_manager"]  # harness hosts: only the lease test turns it on
    assert caps["storage_root"] == ctx.hs.hosts[0].storage_root, caps["storage_root"]
    # The OS (InClusterUpgrade): the machine's os-release as Python's own parser reads it, uname's kernel.
    try:
        rel = platform.freedesktop_os_release()
    except OSError:
        rel = {"ID": "unknown"}
    assert caps["os"] == {"id": rel["ID"], "version": rel.get("VERSION_ID", "") if rel["ID"] != "unknown" else "",
                          "pretty_name": rel.get("PRETTY_NAME", "") if rel["ID"] != "unknown" else "",
                          "kernel": os.uname().release}, caps["os"]


def test_stats(ctx):
    c = ctx.client()
    c.call("Host.getStats")
    st = c.call("Host.getStats")
    assert 0.0 <= st["cpu_percent"] <= 100.0
    assert st["memory"]["total_kib"] >= st["memory"]["free_kib"] > 0
    assert st["vm_count"] == 0 and st["memory"]["used_by_vms_kib"] == 0
    assert st["ksm"]["running"] in (True, False)
    assert st["uptime_s"] > 0 and len(st["load_average"]) == 3
    assert [n["name"] for n in st["nics"]] == ["eth0"]
    vm = c.call("VM.create", ctx.vm_spec(memory_mib=200))
    st = c.call("Host.getStats")
    assert st["vm_count"] == 1 and st["memory"]["used_by_vms_kib"] == 200 * 1024
    c.call("VM.destroy", uuid=vm["uuid"])


def test_systemd_watchdog(ctx):
    """Under WatchdogSec= (WATCHDOG_USEC) the agent says READY=1, then
    WATCHDOG=1 every half period while its accept and libvirt event loops
    run; with WATCHDOG_PID naming another process it sends none."""
    h = ctx.host(0)
    d = tempfile.mkdtemp(prefix="vireo-notify-")
    path = os.path.join(d, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(10)
    h.kill_agent(signal.SIGTERM)
    try:
        env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="400000")
        h.start_agent(env=env, wait=True)
        assert sock.recv(4096).decode().split("\n")[0] == "READY=1"
        assert [sock.recv(4096).decode() for _ in range(5)] == ["WATCHDOG=1"] * 5
        assert ctx.client(0).call("Host.ping") == {"pong": True}
        assert "systemd watchdog: a ping every 200 ms while both loops run" in h.log_tail(20)
        h.kill_agent(signal.SIGTERM)
        while sock.recv(4096).decode() != "STOPPING=1":
            pass
        # Started by another process that was given the watchdog: not ours.
        h.start_agent(env=dict(env, WATCHDOG_PID="1"), wait=True)
        assert sock.recv(4096).decode().split("\n")[0] == "READY=1"
        sock.settimeout(2)  # ten periods
        try:
            got = sock.recv(4096).decode()
        except socket.timeout:
            got = None
        assert got is None, got
    finally:
        if h.agent_alive():
            h.kill_agent(signal.SIGTERM)
        h.start_agent(wait=True)
        sock.close()
        shutil.rmtree(d, ignore_errors=True)
