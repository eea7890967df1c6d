"""An engine data center with storage, for engine tests (and benches) that
need disks: a data center and cluster of every harness host (all Up), and a
posixfs data domain on the harness's shared ext4 attached as its master (so
an SPM is elected): the setup every storage test and bench used to write
out. leave_storage() and scrub_domain() take it away again, so the
next test file finds the shared device as it expects (an import sees every
domain on it)."""

import os
import signal
import tempfile
import time
import uuid


def storage_dc(ctx, eng, tag, timeout=240, name=None, **domain):
    """dc-TAG / cl-TAG / every harness host, Up / a posixfs data domain on
    the shared ext4 (named sd-TAG-XXXX, or `name`; `domain` adds members
    to its POST, e.g. mount_options; critical_space_gib defaults to 0),
    attached as the master, and its SPM. ctx is a test context or, for the
    benches, a HostSet. Returns {"dc", "cl", "hosts", "sd_id", "sd_name",
    "spm_id", "spm_i" (index of the SPM in hosts and hs.hosts)}."""
    hs = getattr(ctx, "hs", ctx)
    dc = eng.create_dc("dc-" + tag)
    cl = eng.create_cluster("cl-" + tag, dc["id"])
    hosts = [eng.create_host(h.name, h.addr, cl["id"], port=h.port) for h in hs.hosts]
    for h in hosts:
        eng.wait_status("hosts", h["id"], "up", timeout=60)
    name = name or "sd-%s-%s" % (tag, uuid.uuid4().hex[:6])
    body = {"name": name, "type": "data", "storage_type": "posixfs", "storage_path": hs.shared_dev,
            "vfs_type": "ext4", "host": hosts[0]["id"], "critical_space_gib": 0}
    body.update(domain)
    r = eng.request("POST", "/api/storagedomains", body)
    assert r.status == 202, r
    sd_id = r.body["id"]
    job = eng.wait_job(r.body["job"]["id"], timeout=120)
    assert job["status"] == "finished", (job, eng.log_tail(40))
    r = eng.request("POST", f"/api/storagedomains/{sd_id}/attach", {"datacenter": dc["id"]})
    assert r.status == 202, r
    job = eng.wait_job(r.body["job"]["id"], timeout=timeout)
    assert job["status"] == "finished", (job, eng.log_tail(60))
    eng.wait_status("storagedomains", sd_id, "active", timeout=30)
    spm_id = eng.wait_for(lambda: eng.get(dc["href"])["spm_host"], timeout=60, what="an SPM")
    spm_i = [h["id"] for h in hosts].index(spm_id)
    return {"dc": dc, "cl": cl, "hosts": hosts, "sd_id": sd_id, "sd_name": name, "spm_id": spm_id,
            "spm_i": spm_i}


def make_disk(eng, sd_id, alias, size, fmt="raw", sparse=True):
    """A disk made by the SPM (its job waited for): the disk row."""
    r = eng.request("POST", "/api/disks", {"alias": alias, "storage_domain": sd_id, "format": fmt,
                                           "sparse": sparse, "provisioned_size": size})
    assert r.status == 202, r
    job = eng.wait_job(r.body["job"]["id"], timeout=120)
    assert job["status"] == "finished", (job, eng.log_tail(40))
    return eng.get(f"/api/disks/{r.body['id']}")


def leave_storage(eng, sd_id, disks):
    """Remove disks, then the domain (maintenance, detach, delete)."""
    for d in disks:
        r = eng.request("DELETE", f"/api/disks/{d}")
        if r.status == 202:
            job = eng.wait_job(r.body["job"]["id"], timeout=60)
            assert job["status"] == "finished", job
    eng.call("POST", f"/api/storagedomains/{sd_id}/maintenance")
    r = eng.request("POST", f"/api/storagedomains/{sd_id}/detach")
    assert r.status == 202, r
    job = eng.wait_job(r.body["job"]["id"], timeout=240)
    assert job["status"] == "finished", (job, eng.log_tail(60))
    eng.call("DELETE", f"/api/storagedomains/{sd_id}", expect=204)


def scrub_domain(ctx, sd_id):
    """The detached domain's directory off the shared device (the hosts
    left its lockspace at the detach)."""
    h = ctx.hs.hosts[0]
    mnt = tempfile.mkdtemp(prefix="vireo-scrub-", dir="/var/tmp")
    h.run(["mount", "-t", "ext4", ctx.hs.shared_dev, mnt], check=True)
    try:
        h.run(["rm", "-rf", "--", os.path.join(mnt, sd_id)], check=True)
    finally:
        h.run(["umount", mnt], check=True)
        os.rmdir(mnt)


def _children(pid):
    """Process ids of pid's children (of any of its threads)."""
    out = []
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{t}/children") as f:
                out += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


def hold_convert(h, volume, timeout=60):
    """Stop (SIGSTOP) the qemu-img convert that host h's agent runs reading
    volume, as soon as it appears: a copy held half way. Its pid."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for pid in _children(h.agent_pid):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if b"convert" in argv and any(volume.encode() in a for a in argv):
                os.kill(pid, signal.SIGSTOP)
                return pid
        time.sleep(0.001)
    raise AssertionError(f"no qemu-img convert of volume {volume} on {h.name}")


def gone(pid):
    """True once pid has exited (a zombie counts: its parent has not reaped it yet)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] == "Z"
    except OSError:
        return True


def spm_index(eng, st):
    """Index (in st["hosts"] and hs.hosts) of st's data center's SPM now."""
    spm = eng.wait_for(lambda: eng.get(st["dc"]["href"])["spm_host"], timeout=60, what="an SPM")
    return [h["id"] for h in st["hosts"]].index(spm)


def copy_jobs(client, volume):
    """Ids of the Volume.copy jobs the agent of client knows into volume
    (its Job.list): which copies of a volume were started."""
    return {j["id"] for j in client.call("Job.list")["jobs"]
            if j["kind"] == "Volume.copy" and j["vm_name"] == f"volume {volume}"}


def spm_killed_under_copy(eng, h, vol, r, vm, disk, timeout=120):
    """The job r (202) of VM vm copies volume vol on SPM host h: its
    qemu-img held half way, the SPM's agent killed and started again. The
    job fails saying it was interrupted, the held qemu-img dies with its
    agent, the VM and its disk are as they were. Returns the job."""
    assert r.status == 202, r
    pid = hold_convert(h, vol)
    assert eng.get(vm["href"])["status"] == "imagelocked"
    h.kill_agent()
    h.start_agent(wait=True)
    j = eng.wait_job(r.body["job"]["id"], timeout=timeout)
    assert j["status"] == "failed" and "interrupted" in j["detail"], (j, eng.log_tail(40))
    eng.wait_for(lambda: gone(pid), timeout=10, what="the held qemu-img killed with its agent")
    assert eng.get(vm["href"])["status"] == "down" and eng.get(f"/api/disks/{disk['id']}")["status"] == "ok"
    return j
