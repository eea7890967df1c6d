"""Exports under faults (docs/storage.md "Export domains: faults"), for
tests/test_engine_export.py: helpers kept apart so that file stays short."""

from harness.engine_storage import spm_index, spm_killed_under_copy


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
