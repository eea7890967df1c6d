"""Host verbs: ping, capabilities (detected, not assumed) and statistics."""

import os


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
