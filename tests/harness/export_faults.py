"""Helpers of tests/test_engine_export.py, kept apart so that file stays
short: exports and imports under faults (docs/storage.md "Export domains:
faults"), and the scenario's small steps (jobs, faults, the export domain,
reading disks and the OVF store)."""

import os
import signal
import uuid
import xml.etree.ElementTree as ET

from harness.engine_storage import (copy_jobs, gone, hold_convert, leave_storage, scrub_domain, spm_index,
                                    spm_killed_under_copy)


def fault(r, status, detail=None):
    assert r.status == status, r
    if detail:
        assert detail in r.body["fault"]["detail"], r
    return r.body["fault"]


def run_job(eng, r, status="finished", timeout=180):
    assert r.status == 202, r
    job = eng.wait_job(r.body["job"]["id"], timeout=timeout)
    assert job["status"] == status, (job, eng.log_tail(60))
    return job


def last_backend(eng):
    return eng.database is not None or not os.environ.get("VIREO_TEST_PG_URI")


def export_domain(ctx, eng, st):
    """An export domain on the shared ext4, attached to the data center."""
    name = "exp-" + uuid.uuid4().hex[:6]
    r = eng.request("POST", "/api/storagedomains", {
        "name": name, "type": "export", "storage_type": "posixfs", "storage_path": ctx.hs.shared_dev,
        "vfs_type": "ext4", "host": st["hosts"][0]["id"], "critical_space_gib": 0})
    sd_id = r.body["id"]
    run_job(eng, r, timeout=120)
    run_job(eng, eng.request("POST", f"/api/storagedomains/{sd_id}/attach", {"datacenter": st["dc"]["id"]}),
            timeout=240)
    eng.wait_status("storagedomains", sd_id, "active", timeout=60)
    # active as soon as the SPM attached it; the hosts report seeing it at their next round
    eng.wait_for(lambda: eng.request("GET", f"/api/storagedomains/{sd_id}/vms").status == 200, timeout=30,
                 what="a host that sees the export domain")
    return sd_id, name


def disk_content(eng, disk_id):
    r = eng.request("GET", f"/api/disks/{disk_id}/content", timeout=60)
    assert r.status == 200, r
    return r.text.encode("latin-1", "replace") if isinstance(r.text, str) else r.text


def stored(eng, agent, sd_id, vm_id, check):
    """Wait until the OVF store of sd_id holds vm_id's OVF passing check
    (parsed), or (check None) no longer holds it."""
    def ok():
        if vm_id not in agent.call("Ovf.list", domain=sd_id)["vms"]:
            return check is None
        return check is not None and check(ET.fromstring(agent.call("Ovf.get", domain=sd_id, vm=vm_id)["ovf"].encode()))
    eng.wait_for(ok, timeout=30, interval=0.5, what=f"the OVF store of {sd_id} to show {vm_id}")


def vfile(ctx, sd_id, d, v):
    """The file of volume v of image d on domain sd_id, as host 0 sees it."""
    h0 = ctx.hs.hosts[0]
    return os.path.join(h0.storage_root, ctx.hs.shared_dev.replace("/", "_"), sd_id, "images", d, v)


def reads_at(ctx, eng, sd_id, d, pattern):
    """Whether disk d's volume on sd_id reads pattern where the snapshot scenarios wrote it."""
    f = vfile(ctx, sd_id, d, eng.get(f"/api/disks/{d}")["volume_id"])
    p = ctx.hs.hosts[0].run(["qemu-io", "-r", "-f", "qcow2", "-c", f"read -P {pattern} 64k 64k", f])
    return p.returncode == 0 and "verification failed" not in p.stdout + p.stderr


def write_at(ctx, sd_id, d, v, pattern):
    """qemu-io writes pattern into volume v of image d where reads_at reads."""
    ctx.hs.hosts[0].run(["qemu-io", "-f", "qcow2", "-c", f"write -P {pattern} 64k 64k", vfile(ctx, sd_id, d, v)],
                        check=True)


def drop_disks(eng, ids):
    for d in ids:
        r = eng.request("DELETE", f"/api/disks/{d}")
        if r.status == 202:
            run_job(eng, r)
        else:
            assert r.status == 204, r


def export_cut_by_the_spm(ctx, eng, st, vm, disk, exp_id):
    """An export (exclusive) whose copy the SPM's agent dies in (its
    qemu-img held half way, the agent killed and started again): the job
    fails saying so, nothing of the disk stays on the export domain (the
    earlier export's OVF went first: none either), the VM and its disk are
    as they were. Returns the SPM's index (the export again follows)."""
    spm_i = spm_index(eng, st)
    h, vol = ctx.hs.hosts[spm_i], eng.get(f"/api/disks/{disk['id']}")["volume_id"]
    r = eng.request("POST", f"{vm['href']}/export", {"storage_domain": exp_id, "exclusive": True})
    spm_killed_under_copy(eng, h, vol, r, vm, disk, timeout=180)
    c = ctx.client(0)
    left = [v for v in c.call("Volume.list", domain=exp_id)["volumes"] if v["image"] == disk["id"]]
    assert left == [], left
    assert vm["id"] not in c.call("Ovf.list", domain=exp_id)["vms"]
    return spm_index(eng, st)


def import_cut_by_the_spm(ctx, eng, st, exp_id, vm_id, volume):
    """An import (a clone) from export domain exp_id whose copy of volume
    the SPM's agent dies in (its qemu-img held half way, the agent killed
    and started again): the job fails saying so and leaves nothing - no
    VM, no disk row, no volume on the data domain. Returns the SPM's index."""
    sd_id, spm_i = st["sd_id"], spm_index(eng, st)
    h = ctx.hs.hosts[spm_i]
    images = {v["image"] for v in ctx.client(spm_i).call("Volume.list", domain=sd_id)["volumes"]}
    had = (eng.list("vms")["total"], eng.list("disks")["total"])
    r = eng.request("POST", f"/api/storagedomains/{exp_id}/vms/{vm_id}/import",
                    {"cluster": st["cl"]["id"], "storage_domain": sd_id, "clone": True, "name": "vm-exp-cut"})
    assert r.status == 202, r
    pid = hold_convert(h, volume)
    new = eng.get(r.body["job"]["href"])["object_id"]
    assert eng.get(f"/api/vms/{new}")["status"] == "imagelocked"
    h.kill_agent()
    h.start_agent(wait=True)
    j = eng.wait_job(r.body["job"]["id"], timeout=180)
    assert j["status"] == "failed" and "interrupted" in j["detail"], (j, eng.log_tail(40))
    eng.wait_for(lambda: gone(pid), timeout=10, what="the held qemu-img killed with its agent")
    assert eng.request("GET", f"/api/vms/{new}").status == 404
    assert (eng.list("vms")["total"], eng.list("disks")["total"]) == had
    assert {v["image"] for v in ctx.client(0).call("Volume.list", domain=sd_id)["volumes"]} == images
    return spm_index(eng, st)


def copied_once_across_engine_kill(ctx, eng, st, url, body, held, volumes):
    """POST url body: a job whose SPM copies volumes, SIGKILLed (the engine)
    while it copies held (its qemu-img stopped half way): the restarted
    engine resumes the job and follows that copy, each of volumes copied
    exactly once (the SPM's Job.list), and the job finishes. The job."""
    spm_i = spm_index(eng, st)
    spm = ctx.client(spm_i)
    had = {v: copy_jobs(spm, v) for v in volumes}
    r = eng.request("POST", url, body)
    assert r.status == 202, r
    pid = hold_convert(ctx.hs.hosts[spm_i], held)
    eng.restart(sig=signal.SIGKILL)
    os.kill(pid, signal.SIGCONT)
    j = run_job(eng, r)
    assert "resumed after an engine restart" in [s["description"] for s in j["steps"]], j
    assert {v: len(copy_jobs(spm, v) - had[v]) for v in volumes} == {v: 1 for v in volumes}, had
    return j


def leave_engine_a(ctx, eng, sd_id, exp_id):
    """Engine A's cleanup after a failure: its VMs, disks and domains."""
    try:
        for v in eng.list("vms")["vms"] if sd_id else []:  # a failed run's VMs first: they hold disks
            eng.request("DELETE", v["href"])
        for t in eng.list("templates")["templates"] if sd_id else []:
            if t["name"] != "Blank":
                eng.wait_job(eng.request("DELETE", t["href"]).body["job"]["id"], timeout=60)
        for d in eng.list("disks")["disks"] if sd_id else []:
            r = eng.request("DELETE", d["href"])
            if r.status == 202:
                eng.wait_job(r.body["job"]["id"], timeout=60)
        if exp_id:
            leave_storage(eng, exp_id, [])
        if sd_id:
            leave_storage(eng, sd_id, [])
    finally:
        eng.__exit__(None, None, None)
        for d in (exp_id, sd_id):
            if d:
                scrub_domain(ctx, d)
