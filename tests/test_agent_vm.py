"""VM lifecycle through vireo-agent on a harness host: real libvirt, real
QEMU (TCG), a real Debian kernel answering on its serial console."""

import os
import signal
import time

from harness.context import Skip
from harness.rpc import RpcError, expect_error

ERR_LIBVIRT, ERR_NO_VM, ERR_LIMIT, ERR_CONFLICT = -32000, -32001, -32003, -32004
ERR_UNSUPPORTED, ERR_BAD_STATE, ERR_NOT_OWNED = -32005, -32006, -32007


def test_one_guest_through_its_life(ctx):
    """One booted guest (and one on the other host) taken through every
    live operation in turn, since a boot under TCG costs ~20 s: console,
    pause, libvirt's errors, vCPU and memory, hot plug, a hung QEMU, reboot,
    the agent's and libvirtd's restarts, then a clean ACPI power-off."""
    c = ctx.client()
    c1 = ctx.client(1)
    vm = c.call("VM.create", ctx.vm_spec(name="boot1", vcpus=1, max_vcpus=2, memory_mib=384,
                                          max_memory_mib=384, nics=[{"mac": "52:54:00:aa:00:01"}]))
    other = c1.call("VM.create", ctx.vm_spec(name="on-h1"))
    ctx.wait_console(c, vm["uuid"], "VIREO-GUEST-READY")
    ctx.wait_console(c1, other["uuid"], "VIREO-GUEST-READY")
    _two_hosts_at_once(ctx, c1, other)
    _boot_facts(ctx, c, vm)
    _console_commands(ctx, c, vm)
    c.call("Host.subscribe")
    _pause_resume(ctx, c, vm)
    _libvirt_failure_reasons(ctx, c, vm)
    _vcpu_hot_add(ctx, c, vm)
    _balloon_target(ctx, c, vm)
    _hotplug_disk(ctx, c, vm)
    _hotplug_nic_and_mac_uniqueness(ctx, c, vm)
    _hung_qemu_recovers(ctx, c, vm)
    _reboot(ctx, c, vm)
    c = _agent_restart_keeps_vm(ctx, vm)
    _libvirtd_restart_agent_reconnects(ctx, c, vm)
    _acpi_shutdown_is_clean(ctx, c, vm)


def _two_hosts_at_once(ctx, c1, other):
    assert [v["name"] for v in ctx.client(0).call("VM.list")["vms"]] == ["boot1"]
    assert [v["name"] for v in c1.call("VM.list")["vms"]] == ["on-h1"]
    assert ctx.host(0).virsh("list", "--name").split() == ["boot1"]
    assert ctx.host(1).virsh("list", "--name").split() == ["on-h1"]
    c1.call("VM.destroy", uuid=other["uuid"])


def _boot_facts(ctx, c, vm):
    assert vm["state"] == "running" and vm["owned"] is True
    # TCG unless the host has real hardware virtualization.
    caps = c.call("Host.getCapabilities")
    assert vm["domain_type"] == caps["default_domain_type"]
    assert vm["domain_type"] == ("kvm" if caps["virt_mode"] == "kvm" else "qemu")
    # Device addresses are reported so the engine can keep them stable.
    disk = [d for d in vm["devices"] if d["kind"] == "disk"][0]
    assert disk["target"] == "vda" and disk["address"]["type"] == "pci"
    text = ctx.console(c, vm["uuid"])
    assert "VIREO-ROOTDISK VIREO-ROOTDISK-OK" in text
    # libvirt sees the same VM, with Vireo's metadata in its XML.
    h = ctx.host()
    xml = h.virsh("dumpxml", "boot1")
    assert "https://vireo.dev/xmlns/vm/1" in xml and vm["uuid"] in xml
    listed = {v["uuid"]: v for v in c.call("VM.list")["vms"]}
    assert listed[vm["uuid"]]["state"] == "running"
    assert c.call("VM.get", uuid=vm["uuid"])["spec"]["name"] == "boot1"


def _console_commands(ctx, c, vm):
    ctx.wait_console(c, vm["uuid"], "VIREO-ECHO hello there", send="echo hello there\n")
    text = ctx.wait_console(c, vm["uuid"], "VIREO-MEM ", send="mem\n")
    kb = int(text.split("VIREO-MEM ")[1].split()[0])
    assert 250_000 < kb <= 384 * 1024, kb


def _pause_resume(ctx, c, vm):
    c.call("VM.pause", uuid=vm["uuid"])
    assert c.call("VM.getStats", uuid=vm["uuid"])["state"] == "paused"
    ev = c.wait_event(lambda p: p["uuid"] == vm["uuid"] and p["event"] == "Suspended")
    assert ev["detail"] == "Paused"
    # A paused guest does not answer its console.
    c.call("VM.sendConsole", uuid=vm["uuid"], text="echo while-paused\n")
    time.sleep(2)
    assert "VIREO-ECHO while-paused" not in ctx.console(c, vm["uuid"])
    c.call("VM.cont", uuid=vm["uuid"])
    assert c.call("VM.getStats", uuid=vm["uuid"])["state"] == "running"
    c.wait_event(lambda p: p["uuid"] == vm["uuid"] and p["event"] == "Resumed")
    ctx.wait_console(c, vm["uuid"], "VIREO-ECHO while-paused", timeout=30)


def _libvirt_failure_reasons(ctx, c, vm):
    """libvirt's own reason ends every libvirt error: nothing called while
    building the message (such as virDomainGetName) may reset it into
    'unknown libvirt error', nor lose its error code."""
    missing = os.path.join(ctx.hs.shared_dir, "no-such-disk.img")
    e = expect_error(ERR_LIBVIRT, c.call, "VM.hotplugDisk", uuid=vm["uuid"], disk={"path": missing})
    assert e.message.startswith(f"cannot hot plug disk {missing} into VM {vm['name']}: "), e.message
    assert "No such file or directory" in e.message, e.message
    e = expect_error(ERR_LIBVIRT, c.call, "VM.setIoTune", uuid=vm["uuid"], target="vdz",
                     iotune={"total_iops_sec": 100})
    assert "unknown libvirt error" not in e.message and "'vdz'" in e.message.split(": ", 1)[1], e.message
    # The code comes from libvirt's error too: an operation invalid in the
    # VM's state is -32006, not a generic -32000.
    c.call("VM.pause", uuid=vm["uuid"])
    e = expect_error(ERR_BAD_STATE, c.call, "VM.shutdown", uuid=vm["uuid"], timeout_s=5)
    assert "unknown libvirt error" not in e.message, e.message
    c.call("VM.cont", uuid=vm["uuid"])
    assert c.call("VM.getStats", uuid=vm["uuid"])["state"] == "running"


def _vcpu_hot_add(ctx, c, vm):
    ctx.wait_console(c, vm["uuid"], "VIREO-CPUS 1", send="cpus\n")
    c.call("VM.setVcpus", uuid=vm["uuid"], vcpus=2)
    assert c.call("VM.getStats", uuid=vm["uuid"])["vcpus_current"] == 2
    ctx.wait_console(c, vm["uuid"], "VIREO-CPUS 2", send="cpus\n", timeout=60)
    # Beyond the maximum, and unplugging, are refused with clear errors.
    expect_error(ERR_LIMIT, c.call, "VM.setVcpus", uuid=vm["uuid"], vcpus=3)
    expect_error(ERR_UNSUPPORTED, c.call, "VM.setVcpus", uuid=vm["uuid"], vcpus=1)


def _balloon_target(ctx, c, vm):
    c.call("VM.setBalloonTarget", uuid=vm["uuid"], memory_mib=256)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        st = c.call("VM.getStats", uuid=vm["uuid"])
        if st["balloon"]["current_kib"] == 256 * 1024:
            break
        time.sleep(1)
    assert st["balloon"]["current_kib"] == 256 * 1024, st["balloon"]
    assert st["balloon"]["maximum_kib"] == 384 * 1024
    expect_error(ERR_LIMIT, c.call, "VM.setBalloonTarget", uuid=vm["uuid"], memory_mib=512)


def _hotplug_disk(ctx, c, vm):
    path = ctx.scratch_disk("hot1.img")
    dev = c.call("VM.hotplugDisk", uuid=vm["uuid"],
                 disk={"path": path, "serial": "HOT1",
                       "iotune": {"total_iops_sec": 500}})
    assert dev["target"] == "vdb" and dev["address"]["type"] == "pci"
    ctx.wait_console(c, vm["uuid"], "vdb", send="disks\n")
    c.call("VM.setIoTune", uuid=vm["uuid"], target="vdb", iotune={"total_bytes_sec": 1048576})
    assert "<total_bytes_sec>1048576</total_bytes_sec>" in ctx.host().virsh("dumpxml", vm["name"])
    r = c.call("VM.hotunplugDisk", uuid=vm["uuid"], target="vdb")
    assert r["target"] == "vdb"
    deadline = time.monotonic() + 30
    while "hot1.img" in ctx.host().virsh("dumpxml", vm["name"]):
        assert time.monotonic() < deadline, "disk never left the domain"
        time.sleep(0.5)


def _hotplug_nic_and_mac_uniqueness(ctx, c, vm):
    ctx.wait_console(c, vm["uuid"], "VIREO-NICS eth0", send="nics\n")
    dev = c.call("VM.hotplugNic", uuid=vm["uuid"], nic={"mac": "52:54:00:aa:00:02"})
    assert dev["mac"] == "52:54:00:aa:00:02" and dev["address"]["type"] == "pci"
    ctx.wait_console(c, vm["uuid"], "VIREO-NICS eth0 eth1", send="nics\n")
    # Either MAC is now taken on this host, for new VMs and for hotplug.
    e = expect_error(ERR_CONFLICT, c.call, "VM.create",
                     ctx.vm_spec(nics=[{"mac": "52:54:00:AA:00:02"}]))
    assert "52:54:00:aa:00:02" in e.message
    expect_error(ERR_CONFLICT, c.call, "VM.hotplugNic", uuid=vm["uuid"],
                 nic={"mac": "52:54:00:aa:00:01"})
    r = c.call("VM.hotunplugNic", uuid=vm["uuid"], mac="52:54:00:AA:00:02")
    assert r["mac"] == "52:54:00:aa:00:02"


def _hung_qemu_recovers(ctx, c, vm):
    """A QEMU that stops answering (SIGSTOP) is reported NotResponding
    while the agent itself keeps answering, and a QEMU that wakes up is
    Responding again (its power-off while hung: test_hung_qemu_can_be_destroyed)."""
    listed = {v["uuid"]: v for v in c.call("VM.list")["vms"]}
    assert listed[vm["uuid"]]["responsive"] is True
    pid = ctx.qemu_pid(vm["name"])
    os.kill(pid, signal.SIGSTOP)
    try:
        ev = c.wait_event(lambda p: p["uuid"] == vm["uuid"] and p["event"] == "NotResponding",
                          timeout=30)
        assert "monitor" in ev["detail"], ev
        # The agent is not stuck behind the VM: other verbs still answer.
        assert c.call("Host.ping")["pong"] is True
        listed = {v["uuid"]: v for v in c.call("VM.list")["vms"]}
        assert listed[vm["uuid"]]["responsive"] is False
        assert listed[vm["uuid"]]["state"] == "running"
    finally:
        os.kill(pid, signal.SIGCONT)
    c.wait_event(lambda p: p["uuid"] == vm["uuid"] and p["event"] == "Responding", timeout=30)
    listed = {v["uuid"]: v for v in c.call("VM.list")["vms"]}
    assert listed[vm["uuid"]]["responsive"] is True
    ctx.wait_console(c, vm["uuid"], "VIREO-ECHO awake", send="echo awake\n", timeout=60)


def _reboot(ctx, c, vm):
    c.call("VM.reboot", uuid=vm["uuid"])
    ctx.wait_console(c, vm["uuid"], "VIREO-GUEST-READY", count=2, timeout=90)
    assert c.call("VM.getStats", uuid=vm["uuid"])["state"] == "running"


def _agent_restart_keeps_vm(ctx, vm):
    """Returns a client of the restarted agent, subscribed."""
    h = ctx.host()
    qemu_before = h.qemu_pids()
    assert qemu_before
    h.kill_agent(signal.SIGKILL)
    h.start_agent()
    h.wait_agent()
    assert h.qemu_pids() == qemu_before  # the guest never noticed
    c2 = ctx.client()
    listed = {v["uuid"]: v for v in c2.call("VM.list")["vms"]}
    assert listed[vm["uuid"]]["owned"] and listed[vm["uuid"]]["state"] == "running"
    ctx.wait_console(c2, vm["uuid"], "VIREO-ECHO still-alive", send="echo still-alive\n")
    return c2


def _libvirtd_restart_agent_reconnects(ctx, c, vm):
    h = ctx.host()
    qemu_before = h.qemu_pids()
    h.kill_libvirtd()
    h.start_libvirtd()
    deadline = time.monotonic() + 30
    while True:
        try:
            vms = c.call("VM.list")["vms"]
            break
        except RpcError:
            assert time.monotonic() < deadline, "agent never reconnected to libvirtd"
            time.sleep(0.5)
    assert [v["uuid"] for v in vms] == [vm["uuid"]] and vms[0]["owned"]
    assert h.qemu_pids() == qemu_before
    # Events flow again on the new libvirt connection.
    c.call("Host.subscribe")
    c.call("VM.pause", uuid=vm["uuid"])
    c.wait_event(lambda p: p["uuid"] == vm["uuid"] and p["event"] == "Suspended")
    c.call("VM.cont", uuid=vm["uuid"])
    c.wait_event(lambda p: p["uuid"] == vm["uuid"] and p["event"] == "Resumed")


def _acpi_shutdown_is_clean(ctx, c, vm):
    r = c.call("VM.shutdown", uuid=vm["uuid"], timeout_s=60)
    assert r["force"] is True
    ev = c.wait_event(lambda p: p["uuid"] == vm["uuid"] and p["event"] == "Stopped", timeout=60)
    assert ev["detail"] == "Shutdown", ev  # the guest powered off, not destroyed
    assert "VIREO-POWEROFF" in ctx.console(c, vm["uuid"])
    assert vm["uuid"] not in [v["uuid"] for v in c.call("VM.list")["vms"]]
    expect_error(ERR_NO_VM, c.call, "VM.getStats", uuid=vm["uuid"])


def test_hung_qemu_can_be_destroyed(ctx):
    """A QEMU hung (SIGSTOP) is NotResponding and can still be powered off."""
    c = ctx.client()
    vm = c.call("VM.create", ctx.vm_spec())
    c.call("Host.subscribe")
    pid = ctx.qemu_pid(vm["name"])
    os.kill(pid, signal.SIGSTOP)
    c.wait_event(lambda p: p["uuid"] == vm["uuid"] and p["event"] == "NotResponding", timeout=30)
    c.call("VM.destroy", uuid=vm["uuid"])
    c.wait_event(lambda p: p["uuid"] == vm["uuid"] and p["event"] == "Stopped", timeout=30)


def test_libvirt_failure_reason_at_create(ctx):
    """A VM.create that libvirt refuses gives libvirt's reason and the path."""
    c = ctx.client()
    missing = os.path.join(ctx.hs.shared_dir, "no-such-disk.img")
    spec = ctx.vm_spec()
    spec["disks"].append({"path": missing})
    e = expect_error(ERR_LIBVIRT, c.call, "VM.create", spec)
    assert "unknown libvirt error" not in e.message, e.message
    assert missing in e.message and "No such file or directory" in e.message, e.message


def test_destroy(ctx):
    c = ctx.client()
    vm = c.call("VM.create", ctx.vm_spec())
    c.call("Host.subscribe")
    c.call("VM.destroy", uuid=vm["uuid"])
    ev = c.wait_event(lambda p: p["uuid"] == vm["uuid"] and p["event"] == "Stopped")
    assert ev["detail"] == "Destroyed"
    assert vm["name"] not in ctx.host().virsh("list", "--all", "--name").split()
    expect_error(ERR_NO_VM, c.call, "VM.destroy", uuid=vm["uuid"])


def test_given_pci_address_is_honoured(ctx):
    c = ctx.client()
    spec = ctx.vm_spec()
    spec["disks"][0]["address"] = {"type": "pci", "domain": "0x0000", "bus": "0x00",
                                   "slot": "0x0a", "function": "0x0"}
    vm = c.call("VM.create", spec)
    disk = [d for d in vm["devices"] if d["kind"] == "disk"][0]
    assert disk["address"]["slot"] == "0x0a"


def test_external_domains_are_left_alone(ctx):
    h = ctx.host()
    xml = ("<domain type='qemu'><name>external1</name><memory unit='MiB'>32</memory>"
           "<os><type arch='x86_64'>hvm</type></os><devices><controller type='usb' model='none'/>"
           "<memballoon model='none'/></devices></domain>")
    path = os.path.join(ctx.hs.shared_dir, "external1.xml")
    with open(path, "w") as f:
        f.write(xml)
    h.virsh("create", path)
    c = ctx.client()
    ext = [v for v in c.call("VM.list")["vms"] if v["name"] == "external1"]
    assert ext and ext[0]["owned"] is False
    expect_error(ERR_NOT_OWNED, c.call, "VM.destroy", uuid=ext[0]["uuid"])
    assert "external1" in h.virsh("list", "--name").split()


def test_kvm_refused_without_hardware(ctx):
    c = ctx.client()
    caps = c.call("Host.getCapabilities")
    if caps["virt_mode"] == "kvm":
        raise Skip("a real KVM host: there is no missing hardware to refuse")
    e = expect_error(ERR_UNSUPPORTED, c.call, "VM.create", ctx.vm_spec(domain_type="kvm"))
    assert "hardware virtualization" in e.message


