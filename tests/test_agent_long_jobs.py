"""Job.list, Job.get, Job.cancel and Job.progress: the agent's own long
work (VM.shutdown's wait for the guest, then the forced power-off) can be
followed and cancelled."""

import uuid as uuidlib

from harness.rpc import expect_error

INVALID_PARAMS, ERR_BAD_STATE = -32602, -32006


def deaf_vm(ctx, c):
    """A VM that ignores the ACPI power button: no kernel, and a disk that
    is not bootable, so the firmware just waits."""
    return c.call("VM.create", ctx.vm_spec(boot={"order": ["hd"]}, memory_mib=128))


def job_notes(c, job_id, until_state, timeout=60):
    """Job.progress notifications of one job, up to the one whose state is
    until_state (inclusive)."""
    notes = []
    while True:
        p = c.wait_event(lambda p: p.get("id") == job_id, timeout=timeout)
        notes.append(p)
        if p["state"] == until_state:
            return notes
        assert p["state"] == "running", notes


def test_forced_shutdown_is_a_job_with_progress(ctx):
    c = ctx.client()
    assert c.call("Host.subscribe", jobs=True) == {"subscribed": True, "jobs": True}
    plain = ctx.client()  # subscribed as before Job.progress existed
    assert plain.call("Host.subscribe") == {"subscribed": True, "jobs": False}
    vm = deaf_vm(ctx, c)
    r = c.call("VM.shutdown", uuid=vm["uuid"], timeout_s=4)
    assert r["force"] is True and uuidlib.UUID(r["job"])
    job = c.call("Job.get", id=r["job"])
    assert job["kind"] == "VM.shutdown" and job["vm_uuid"] == vm["uuid"]
    assert job["vm_name"] == vm["name"] and job["ended_at"] is None
    notes = job_notes(c, r["job"], "succeeded")
    assert notes[0]["state"] == "running" and notes[0]["progress"] == 0, notes[0]
    progress = [n["progress"] for n in notes]
    assert progress == sorted(progress) and progress[-1] == 100, progress
    assert any(0 < p < 100 for p in progress), progress  # it did report the wait
    assert "forced off" in notes[-1]["detail"], notes[-1]
    ev = c.wait_event(lambda p: p.get("uuid") == vm["uuid"] and p.get("event") == "Stopped")
    assert ev["detail"] == "Destroyed"
    plain.wait_event(lambda p: p["uuid"] == vm["uuid"] and p["event"] == "Stopped")
    assert all(n["method"] == "VM.event" for n in plain.notifications), plain.notifications
    done = c.call("Job.get", id=r["job"])
    assert done["state"] == "succeeded" and done["ended_at"]
    assert r["job"] in [j["id"] for j in c.call("Job.list")["jobs"]]
    e = expect_error(ERR_BAD_STATE, c.call, "Job.cancel", id=r["job"])
    assert "already succeeded" in e.message, e.message


def test_cancelled_shutdown_leaves_the_vm_running(ctx):
    c = ctx.client()
    c.call("Host.subscribe", jobs=True)
    vm = deaf_vm(ctx, c)
    r = c.call("VM.shutdown", uuid=vm["uuid"], timeout_s=60)
    got = c.call("Job.cancel", id=r["job"])
    assert got["cancel_requested"] is True and got["id"] == r["job"]
    # Cancel twice: refused, whether the worker has noticed yet or not.
    e = expect_error(ERR_BAD_STATE, c.call, "Job.cancel", id=r["job"])
    assert "already" in e.message, e.message
    notes = job_notes(c, r["job"], "cancelled", timeout=30)
    assert "will not be forced off" in notes[-1]["detail"], notes[-1]
    assert c.call("Job.get", id=r["job"])["state"] == "cancelled"
    listed = {v["uuid"]: v for v in c.call("VM.list")["vms"]}
    assert listed[vm["uuid"]]["state"] == "running"


def test_guest_power_off_ends_the_job(ctx):
    c = ctx.client()
    vm = ctx.boot(c)
    c.call("Host.subscribe", jobs=True)
    r = c.call("VM.shutdown", uuid=vm["uuid"], timeout_s=120)
    notes = job_notes(c, r["job"], "succeeded", timeout=120)
    assert notes[-1]["detail"] == f"VM {vm['name']} powered off", notes[-1]
    # Without force there is nothing left to do, so no job.
    vm2 = deaf_vm(ctx, c)
    assert c.call("VM.shutdown", uuid=vm2["uuid"], force=False)["job"] is None


def test_job_verbs_refuse_bad_input(ctx):
    c = ctx.client()
    expect_error(INVALID_PARAMS, c.call, "Job.get")
    expect_error(INVALID_PARAMS, c.call, "Job.get", id=42)
    expect_error(INVALID_PARAMS, c.call, "Job.list", state="running")
    e = expect_error(INVALID_PARAMS, c.call, "Job.get", id=str(uuidlib.uuid4()))
    assert "no job" in e.message
    expect_error(INVALID_PARAMS, c.call, "Job.cancel", id="not-a-job")
    expect_error(INVALID_PARAMS, c.call, "Job.cancel", id="x", extra=1)
    expect_error(INVALID_PARAMS, c.call, "Host.subscribe", jobs="yes")
    expect_error(INVALID_PARAMS, c.call, "Host.subscribe", topics=["jobs"])
    expect_error(INVALID_PARAMS, c.call, "Host.unsubscribe", jobs=True)
