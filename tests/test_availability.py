"""Host maintenance (docs/availability.md): deactivate migrates a host's
VMs away (one migrate job each, the scheduler choosing), the host reaches
maintenance only when empty, activate ends it; VMs whose placement policy
forbids migration block it (409, nothing moves). The guest scenario runs
on SQLite only (like test_storage_spm); the REST rules without guests run
on SQLite and, when VIREO_TEST_PG_URI is set, PostgreSQL."""

import json
import os
import time

from harness.engine import Engine, expect_fault, run_sql
from harness.engine_storage import leave_storage, scrub_domain, storage_dc
from test_migration import READY, backends, cli, engine_on, mig_hosts, migrate, on_hosts


def deactivate(eng, host_id):
    r = eng.request("POST", f"/api/hosts/{host_id}/deactivate")
    assert r.status == 202 and r.headers.get("location") == r.body["job"]["href"], r
    return r.body["job"]["id"]


def maint_jobs(eng, host_id):
    return [j for j in eng.list("jobs", max=1000)["jobs"]
            if j.get("object_id") == host_id and j.get("action") == "maintenance"]


def running_on(ctx, eng, vm_id, i):
    """The VM runs on harness host i, on it alone, and the engine agrees."""
    assert on_hosts(ctx, vm_id) == [i], (vm_id, on_hosts(ctx, vm_id))
    with ctx.client(i) as c:
        assert c.call("VM.get", uuid=vm_id)["state"] == "running"
    v = eng.wait_status("vms", vm_id, "up", timeout=60)
    assert v["host"] == ctx.hs.hosts[i].name, v


def test_maintenance_rules(ctx):
    """Placement policy checks, the 409 of a host with VMs that cannot
    migrate (nothing changes), an empty host's maintenance job, activate."""
    for backend in backends():
        with engine_on(ctx, backend) as (eng, cl, hosts, far):
            vh0, vh1 = hosts
            spec = ctx.vm_spec("rules")
            base = dict(boot=spec["boot"], disks=spec["disks"])
            # Bad policies: 400 naming the member; nothing is created.
            for pol, what in [({"affinity": "sticky"}, "affinity"), ({"hosts": "vh0"}, "hosts"),
                              ({"hosts": ["nohost"]}, "nohost"), ({"hosts": [far["name"]]}, "far"),
                              ({"hosts": [7]}, "hosts[0]"), ({"pin": 1}, "pin"), ([], "object")]:
                r = eng.request("POST", "/api/vms", dict(name="bad", cluster_id=cl["id"], memory_mib=64,
                                                         placement_policy=pol, **base))
                expect_fault(r, 400, what)
            assert eng.list("vms")["total"] == 0
            # Stored with host ids; the default when none is given.
            free = eng.create_vm("free", cl["id"], **base)
            assert free["placement_policy"] == {"affinity": "migratable", "hosts": []}, free
            pin = eng.create_vm("pin", cl["id"], placement_policy={"affinity": "pinned", "hosts": ["vh0", vh0["id"]]},
                                **base)
            assert pin["placement_policy"] == {"affinity": "pinned", "hosts": [vh0["id"]]}, pin
            um = eng.call("PUT", f"/api/vms/{free['id']}",
                          {"placement_policy": {"affinity": "user_migratable"}})
            assert um["placement_policy"] == {"affinity": "user_migratable", "hosts": []}, um
            kept = eng.call("PUT", f"/api/vms/{free['id']}", {"description": "x"})
            assert kept["placement_policy"]["affinity"] == "user_migratable", kept

            # VMs that may not migrate block the maintenance of their host
            # before anything moves (faked as running on the unreachable
            # host: the rule does not need a guest).
            eng.wait_status("hosts", far["id"], "nonresponsive", timeout=30)
            run_sql(eng, f"UPDATE vms SET status = 'up', host_id = '{far['id']}' WHERE id IN "
                         f"('{pin['id']}', '{free['id']}')")
            r = eng.request("POST", f"/api/hosts/{far['id']}/deactivate")
            f = expect_fault(r, 409, "cannot go to maintenance")
            assert "'pin' (pinned)" in f["detail"] and "'free' (user_migratable)" in f["detail"], f
            assert eng.host(far["id"])["status"] == "nonresponsive"
            assert maint_jobs(eng, far["id"]) == []
            expect_fault(eng.request("POST", f"/api/vms/{pin['id']}/migrate", {}), 409, "placement policy is pinned")
            assert eng.vm(pin["id"])["status"] == "up"
            run_sql(eng, f"UPDATE vms SET status = 'down', host_id = NULL WHERE id IN ('{pin['id']}', '{free['id']}')")
            _queued_migrations(ctx, eng, cl, vh0, far, base)
            _incoming_limit(ctx, eng, cl, vh0, vh1, base)

            # An empty host: preparing, then maintenance, through the job.
            job_id = deactivate(eng, vh1["id"])
            job = eng.wait_job(job_id, timeout=30)
            assert job["status"] == "finished" and job["progress"] == 100, job
            assert job["description"] == "Move host 'vh1' to maintenance", job
            assert [s["description"] for s in job["steps"]] == [
                "migrating the VMs away", "releasing the SPM role if the host holds it",
                "leaving the storage domains' lockspaces and disconnecting storage"], job
            assert eng.host(vh1["id"])["status"] == "maintenance"
            assert eng.find_events("host 'vh1' is preparing for maintenance", vh1["id"])
            assert eng.find_events("host 'vh1' moved to maintenance", vh1["id"])
            expect_fault(eng.request("POST", f"/api/hosts/{vh1['id']}/deactivate"), 409, "already in maintenance")
            # Activate brings it back (once: then it is no longer in maintenance).
            r = eng.request("POST", f"/api/hosts/{vh1['id']}/activate")
            assert r.status == 200 and r.body["status"] == "installing", r
            expect_fault(eng.request("POST", f"/api/hosts/{vh1['id']}/activate"), 409, "only a host in")
            eng.wait_status("hosts", vh1["id"], "up", timeout=30)


def _queued_migrations(ctx, eng, cl, vh0, far, base):
    """The engine's queue of outgoing migrations, without guests: the
    cluster's migration_policy.max_outgoing (400 out of 1..64) set to 1,
    vh0 recorded busy with one migration (a job row holding its slot):
    a VM's migration waits saying so (its VM migratingfrom, no destination
    yet, nothing asked of the agent), a second waits behind it; the first
    is cancelled (nothing was done on the hosts), the second fails once
    its VM stops; one whose source host stopped serving fails at once.
    The VMs are faked as up (SQL): the rules need no guest."""
    href = f"/api/clusters/{cl['id']}"
    for bad in (0, 65, "1"):
        expect_fault(eng.request("PUT", href, {"migration_policy": {"max_outgoing": bad}}), 400,
                     "migration_policy.max_outgoing must be an integer in 1..64")
    assert eng.get(href)["migration_policy"]["max_outgoing"] == 2
    assert eng.call("PUT", href, {"migration_policy": {"max_outgoing": 1}})["migration_policy"]["max_outgoing"] == 1
    q, r = (eng.create_vm(n, cl["id"], **base) for n in ("q1", "q2"))
    busy = "00000000-0000-4000-8000-0000000b0511"
    run_sql(eng, "INSERT INTO jobs (id, action, object_type, object_id, status, params_json, created_at, updated_at)"
                 f" VALUES ('{busy}', 'migrate', 'vm', '{busy}', 'running',"
                 f" '{{\"source_host_id\": \"{vh0['id']}\", \"slot\": true}}', 1, 1)",
            f"UPDATE vms SET status = 'up', host_id = '{vh0['id']}' WHERE id IN ('{q['id']}', '{r['id']}')")
    # Both asked at once: vh0's monitor finds the faked VMs missing there
    # and records them down after two polls; migratingfrom, the jobs own them.
    jq = migrate(eng, q["id"])
    # The CLI's --wait says why it waits (on stderr), then gives up waiting.
    out = cli(ctx, eng, "vm", "migrate", "q2", "--wait", "--timeout", "3", expect=1)
    eng.wait_for(lambda: eng.get(f"/api/jobs/{jq}")["detail"] == "waiting for a migration slot on host 'vh0': 1 ahead",
                 10, what="q1 waiting")
    assert ": waiting for a migration slot on host 'vh0': 2 ahead" in out and "still running after 3 s" in out, out
    jr = [j["id"] for j in eng.list("jobs", max=1000)["jobs"] if j.get("object_id") == r["id"]][0]
    v = eng.vm(q["id"])
    assert (v["status"], v["host"], v["migrating_to_host"]) == ("migratingfrom", "vh0", None), v
    with ctx.client(0) as c:
        assert not [j for j in c.call("Job.list")["jobs"] if j.get("vm_uuid") in (q["id"], r["id"])]
    # Cancelled while waiting: nothing was done; the VM is back as it was
    # (or already down: it is a fake, which its host's monitor finds gone).
    assert eng.request("POST", f"/api/jobs/{jq}/cancel").status == 200
    job = eng.wait_job(jq, timeout=10, status=("finished", "failed", "cancelled"))
    assert (job["status"], job["detail"]) == ("cancelled", "cancelled while waiting for a migration slot; nothing"
                                              " was done on the hosts"), job
    assert eng.vm(q["id"])["status"] in ("up", "down")
    # q2 moves up the queue; then its VM stops: the job fails saying so.
    eng.wait_for(lambda: eng.get(f"/api/jobs/{jr}")["detail"].endswith(": 1 ahead"), 10, what="q2 1 ahead")
    run_sql(eng, f"UPDATE vms SET status = 'down', host_id = NULL WHERE id IN ('{q['id']}', '{r['id']}')")
    job = eng.wait_job(jr, timeout=10)
    assert job["status"] == "failed" and job["detail"].startswith("VM 'q2' stopped while its migration waited"), job
    with ctx.client(0) as c:
        assert not [j for j in c.call("Job.list")["jobs"] if j.get("vm_uuid") in (q["id"], r["id"])]
    # A source host that does not serve (far never answered): dropped.
    run_sql(eng, f"UPDATE vms SET status = 'up', host_id = '{far['id']}' WHERE id = '{q['id']}'")
    job = eng.wait_job(migrate(eng, q["id"]), timeout=10)
    assert job["status"] == "failed" and job["detail"] == "host 'far' is nonresponsive; the migration of VM 'q1'" \
        " that waited for a slot there is dropped", job
    assert eng.vm(q["id"])["status"] == "up"
    run_sql(eng, f"UPDATE jobs SET status = 'failed' WHERE id = '{busy}'",
            f"UPDATE vms SET status = 'down', host_id = NULL WHERE id = '{q['id']}'")
    for v in (q, r):
        assert eng.request("DELETE", f"/api/vms/{v['id']}").status == 204
    eng.call("PUT", href, {"migration_policy": {"max_outgoing": 2}})


def _incoming_limit(ctx, eng, cl, vh0, vh1, base):
    """The incoming filter, without guests: the cluster's max_incoming at 1
    and a VM faked migrating to vh1: the dry run of another VM on vh0
    filters vh1 (`incoming`) saying why; that VM's migration waits for a
    destination (its job says so) and goes to vh1 once vh1 receives none
    (sent: vh0's agent, which has no such VM, refuses it)."""
    href = f"/api/clusters/{cl['id']}"
    for bad in (0, 65, "1"):
        expect_fault(eng.request("PUT", href, {"migration_policy": {"max_incoming": bad}}), 400,
                     "migration_policy.max_incoming must be an integer in 1..64")
    assert eng.get(href)["migration_policy"]["max_incoming"] == 2
    eng.call("PUT", href, {"migration_policy": {"max_incoming": 1}})
    a, b = (eng.create_vm(n, cl["id"], **base) for n in ("in1", "in2"))
    run_sql(eng, f"UPDATE vms SET status = 'migratingfrom', host_id = '{vh0['id']}',"
                 f" migrating_to_host_id = '{vh1['id']}' WHERE id = '{a['id']}'",
            f"UPDATE vms SET status = 'migratingfrom', host_id = '{vh0['id']}' WHERE id = '{b['id']}'")
    d = eng.call("GET", f"/api/vms/{b['id']}/placement")
    v = {h["name"]: h for h in d["hosts"]}
    assert d["as"] == "migration" and d["host"] is None, d
    assert (v["vh1"]["filter"], v["vh1"]["reason"]) == ("incoming", "receives 1 migrations already, its most at once"), d
    run_sql(eng, f"UPDATE vms SET status = 'up' WHERE id = '{b['id']}'")
    jb = migrate(eng, b["id"])  # at once: vh0's monitor would find the faked VM missing
    want = "waiting for a destination: the hosts that fit receive their most migrations at once"
    eng.wait_for(lambda: eng.get(f"/api/jobs/{jb}")["detail"] == want, 10, what="in2 waiting for a destination")
    assert eng.vm(b["id"])["migrating_to_host"] is None
    run_sql(eng, f"UPDATE vms SET status = 'down', host_id = NULL, migrating_to_host_id = NULL WHERE id = '{a['id']}'")
    job = eng.wait_job(jb, timeout=30)
    assert job["status"] == "failed", job
    assert eng.find_events("migration of VM 'in2' to host 'vh1' refused by host 'vh0'", b["id"]), eng.events()
    run_sql(eng, f"UPDATE vms SET status = 'down', host_id = NULL WHERE id = '{b['id']}'")
    for x in (a, b):
        assert eng.request("DELETE", f"/api/vms/{x['id']}").status == 204
    eng.call("PUT", href, {"migration_policy": {"max_incoming": 2}})


def test_maintenance_evacuates_running_guests(ctx):
    """Two guests on one host: deactivate moves both (asked of the agents),
    the host reaches maintenance, activate brings it back; a pinned VM
    blocks; a VM that cannot leave fails the job and the host stays
    preparing; an engine restart mid-maintenance resumes it; activate
    cancels one in progress."""
    mig_hosts(ctx)
    with engine_on(ctx, "sqlite") as (eng, cl, hosts, far):
        vh0, vh1 = hosts
        n0, n1 = ctx.hs.hosts[0].name, ctx.hs.hosts[1].name
        # vh1 in maintenance first (empty: at once), so both guests start on vh0.
        assert eng.wait_job(deactivate(eng, vh1["id"]), timeout=30)["status"] == "finished"
        spec = ctx.vm_spec("mt")
        base = dict(boot=spec["boot"], disks=spec["disks"], memory_mib=spec["memory_mib"])
        vms = [eng.create_vm(n, cl["id"], **base) for n in ("mt-a", "mt-b")]
        pin = eng.create_vm("mt-pin", cl["id"], placement_policy={"affinity": "pinned", "hosts": [n0]}, **base)
        for v in vms + [pin]:
            eng.vm_action(v["id"], "start")
        for v in vms + [pin]:
            assert eng.wait_status("vms", v["id"], "up", timeout=60)["host"] == n0
        with ctx.client(0) as c:
            for v in vms:
                ctx.wait_console(c, v["id"], READY)
        assert eng.request("POST", f"/api/hosts/{vh1['id']}/activate").status == 200
        eng.wait_status("hosts", vh1["id"], "up", timeout=30)

        # The pinned VM blocks: 409 naming it, nothing moves.
        f = expect_fault(eng.request("POST", f"/api/hosts/{vh0['id']}/deactivate"), 409, "'mt-pin' (pinned)")
        assert eng.host(vh0["id"])["status"] == "up" and maint_jobs(eng, vh0["id"]) == [], f
        assert not [j for j in eng.list("jobs", max=1000)["jobs"] if j["action"] == "migrate"]
        for v in vms + [pin]:
            running_on(ctx, eng, v["id"], 0)

        # Migratable but listed for vh0 only: its migration fails, the
        # others move, the host stays preparing with an event naming it.
        # One outgoing migration at a time (the cluster's max_outgoing): the
        # evacuation sends all three jobs at once, the others wait in the
        # engine's queue in evacuation order (equal memory: by name).
        eng.call("PUT", f"/api/vms/{pin['id']}", {"placement_policy": {"affinity": "migratable", "hosts": [n0]}})
        eng.call("PUT", f"/api/clusters/{cl['id']}", {"migration_policy": {"max_outgoing": 1}})
        job_id = deactivate(eng, vh0["id"])
        assert eng.host(vh0["id"])["status"] == "preparingformaintenance"
        mig_of = lambda vm: [j for j in eng.list("jobs", max=1000)["jobs"]  # noqa: E731
                             if j["action"] == "migrate" and j["object_id"] == vm["id"]]
        eng.wait_for(lambda: any(j["detail"] == f"waiting for a migration slot on host '{n0}': 1 ahead"
                                 for j in mig_of(vms[1])), timeout=30, what="mt-b waiting for a slot")
        job = eng.wait_job(job_id, timeout=120)
        assert job["status"] == "failed" and "VM 'mt-pin'" in job["detail"], (job, eng.log_tail(40))
        steps = [s["description"] for s in mig_of(vms[1])[0]["steps"]]
        assert steps[0] == f"waiting for a migration slot on host '{n0}': 1 ahead" and steps[1] == "scheduling", steps
        assert not [s for s in mig_of(vms[0])[0]["steps"] if s["description"].startswith("waiting")]
        steps = [s["description"] for s in mig_of(pin)[0]["steps"]]
        assert steps[:2] == [f"waiting for a migration slot on host '{n0}': {n} ahead" for n in (2, 1)], steps
        assert "placement policy" in job["detail"] and "stays preparing" in job["detail"], job
        assert eng.host(vh0["id"])["status"] == "preparingformaintenance"
        ev = eng.find_events("migration of VM 'mt-pin' off host", vh0["id"])
        assert ev and ev[0]["severity"] == "error", eng.events()[:10]
        for v in vms:
            running_on(ctx, eng, v["id"], 1)
        running_on(ctx, eng, pin["id"], 0)
        time.sleep(2 * eng.poll_ms / 1000)  # the monitor keeps it preparing
        assert eng.host(vh0["id"])["status"] == "preparingformaintenance"

        # Stopped, it no longer blocks: deactivate again (the CLI) retries.
        eng.vm_action(pin["id"], "stop")
        out = cli(ctx, eng, "host", "deactivate", n0, "--wait", "--timeout", "60")
        assert "status: maintenance" in out, out
        job = maint_jobs(eng, vh0["id"])
        assert sorted(j["status"] for j in job) == ["failed", "finished"], job

        # Back: activate; then vh1 to maintenance, the engine killed at
        # once: the restarted engine resumes the job, the VMs come back.
        assert eng.request("POST", f"/api/hosts/{vh0['id']}/activate").status == 200
        eng.wait_status("hosts", vh0["id"], "up", timeout=30)
        job_id = deactivate(eng, vh1["id"])
        eng.kill()
        eng.start()
        job = eng.wait_job(job_id, timeout=120)
        assert job["status"] == "finished", (job, eng.log_tail(40))
        assert f"resuming job {job_id} (maintenance" in eng.log_text(), eng.log_tail(40)
        assert eng.host(vh1["id"])["status"] == "maintenance"
        for v in vms:
            running_on(ctx, eng, v["id"], 0)
        migs = [j for j in eng.list("jobs", max=1000)["jobs"] if j["action"] == "migrate"]
        moved = [j for j in migs if j["object_id"] != pin["id"]]
        assert len(moved) == 4 and all(j["status"] == "finished" for j in moved), migs
        assert [j["status"] for j in migs if j["object_id"] == pin["id"]] == ["failed"], migs

        # Activate while the VMs are leaving: the maintenance ends
        # (cancelled), the host comes back up, every VM runs once.
        assert eng.request("POST", f"/api/hosts/{vh1['id']}/activate").status == 200
        eng.wait_status("hosts", vh1["id"], "up", timeout=30)
        job_id = deactivate(eng, vh0["id"])
        eng.wait_for(lambda: any(j["action"] == "migrate" and j["status"] == "running"
                                 for j in eng.list("jobs", max=1000)["jobs"]), timeout=30, what="a migration")
        assert eng.request("POST", f"/api/hosts/{vh0['id']}/activate").status == 200
        job = eng.wait_job(job_id, timeout=30, status=("finished", "failed", "cancelled"))
        assert job["status"] == "cancelled" and "activated" in job["detail"], job
        eng.wait_status("hosts", vh0["id"], "up", timeout=30)
        eng.wait_for(lambda: all(j["status"] != "running" for j in eng.list("jobs", max=1000)["jobs"]),
                     timeout=60, what="migrations under way to end")
        for v in vms:
            where = on_hosts(ctx, v["id"])
            assert len(where) == 1, where
            running_on(ctx, eng, v["id"], where[0])

        # Load balancing (vm_evenly_distributed): both VMs on vh0 again, a
        # round every 2 s; one VM moves to vh1, then the cluster is
        # balanced and nothing more moves.
        assert eng.wait_job(deactivate(eng, vh1["id"]), timeout=120)["status"] == "finished"
        assert eng.request("POST", f"/api/hosts/{vh1['id']}/activate").status == 200
        eng.wait_status("hosts", vh1["id"], "up", timeout=30)
        for v in vms:
            running_on(ctx, eng, v["id"], 0)
        eng.extra_args += ["--balance-period-s", "2"]
        eng.restart()
        before = {j["id"] for j in eng.list("jobs", max=1000)["jobs"]}
        pol = eng.call("PUT", f"/api/clusters/{cl['id']}", {"scheduling_policy": {
            "name": "vm_evenly_distributed", "properties": {"HighVmCount": 1, "MigrationThreshold": 1,
                                                            "SpmVmGrace": 0}}})["scheduling_policy"]
        assert pol["properties"] == {"HighVmCount": 1, "MigrationThreshold": 1, "SpmVmGrace": 0}, pol
        ev = eng.wait_for(lambda: eng.find_events("load balancing of cluster 'cl1'", cl["id"]), timeout=30,
                          what="a balancing decision")
        assert f"host '{n0}' counts 2 VM(s), over HighVmCount 1" in ev[0]["message"], ev
        assert "the lowest CPU there" in ev[0]["message"], ev
        eng.wait_for(lambda: all(j["status"] != "running" for j in eng.list("jobs", max=1000)["jobs"]),
                     timeout=60, what="the balancing migration to end")
        time.sleep(3 * 2)  # three more rounds: balanced, nothing moves
        new = [j for j in eng.list("jobs", max=1000)["jobs"] if j["id"] not in before]
        assert [(j["action"], j["status"]) for j in new] == [("migrate", "finished")], new
        assert sorted(on_hosts(ctx, v["id"])[0] for v in vms) == [0, 1]
        for v in vms:
            running_on(ctx, eng, v["id"], on_hosts(ctx, v["id"])[0])
        assert len(eng.find_events("load balancing of cluster 'cl1'", cl["id"])) == 1
        eng.stop_all_vms()


def test_affinity_group_rules(ctx):
    """Affinity groups through REST (no guests): checks, rendering, nested
    and top-level collections, members following their VMs, and a start an
    enforcing group cannot satisfy failing with the group named; a
    cluster's scheduling policy; the HA reservation switch and report;
    InClusterUpgrade over hosts given other OS versions."""
    # Each harness host another OS (its own mount namespace), read by its
    # agent before the engines below connect (docs/availability.md
    # "InClusterUpgrade").
    for h, text in zip(ctx.hs.hosts, OS_RELEASE):
        h.set_os_release(text)
    try:
        _affinity_group_rules(ctx)
    finally:
        for h in ctx.hs.hosts:
            h.set_os_release(None)


# vh0 the older, vh1 the newer; quotes, escapes and comments as os-release(5) has them
OS_RELEASE = ['# vh0, before its upgrade\nNAME="Vireo Test"\nID=vireotest\nVERSION_ID="1.5"\n'
              'PRETTY_NAME="Vireo Test 1.5 (\\"old\\")"\n',
              "ID='vireotest'\nVERSION_ID=2\nPRETTY_NAME='Vireo Test 2'\n"]


def _affinity_group_rules(ctx):
    for backend in backends():
        with engine_on(ctx, backend) as (eng, cl, hosts, far):
            vh0, vh1 = hosts
            spec = ctx.vm_spec("aff")
            base = dict(boot=spec["boot"], disks=spec["disks"], memory_mib=64)
            a, b, c = (eng.create_vm(n, cl["id"], **base) for n in ("aff-a", "aff-b", "aff-c"))
            other = eng.create_vm("aff-far", far["cluster_id"], **base)
            coll = f"/api/clusters/{cl['id']}/affinitygroups"
            # Bad bodies: 400 naming the entry, nothing created.
            for body, what in [({"name": "g", "vms": ["nope"]}, "no VM 'nope'"),
                               ({"name": "g", "vms": ["aff-far"]}, "another cluster"),
                               ({"name": "g", "vms": "aff-a"}, "vms must be a list"),
                               ({"name": "g", "vms": [3]}, "vms[0]"),
                               ({"name": "g", "positive": "yes"}, "positive"),
                               ({"name": "g", "colour": 1}, "colour")]:
                expect_fault(eng.request("POST", coll, body), 400, what)
            assert eng.get(coll)["total"] == 0
            # Created under its cluster: defaults, members as ids (by name or id).
            g = eng.call("POST", coll, {"name": "apart", "positive": False, "vms": ["aff-a", b["id"], "aff-a"]},
                         expect=201)
            assert (g["positive"], g["enforcing"], g["cluster_id"]) == (False, True, cl["id"]), g
            assert g["vms"] == sorted([a["id"], b["id"]]) and g["href"] == f"/api/affinitygroups/{g['id']}", g
            expect_fault(eng.request("POST", coll, {"name": "apart"}), 409)
            eng.call("POST", f"/api/clusters/{far['cluster_id']}/affinitygroups", {"name": "apart"}, expect=201)
            assert eng.get(coll)["total"] == 1 and eng.get("/api/affinitygroups")["total"] == 2
            soft = eng.call("POST", "/api/affinitygroups", {"name": "soft", "cluster_id": cl["id"],
                                                            "enforcing": False, "vms": ["aff-c"]}, expect=201)
            assert soft["positive"] is True and soft["enforcing"] is False, soft
            # PUT changes what it is given and keeps the rest.
            up = eng.call("PUT", f"/api/affinitygroups/{soft['id']}", {"vms": ["aff-c", "aff-a"]})
            assert up["vms"] == sorted([a["id"], c["id"]]) and up["enforcing"] is False, up
            up = eng.call("PUT", f"/api/affinitygroups/{soft['id']}", {"description": "x"})
            assert up["vms"] == sorted([a["id"], c["id"]]), up
            expect_fault(eng.request("PUT", f"/api/affinitygroups/{soft['id']}", {"cluster_id": far["cluster_id"]}),
                         409)

            # aff-a runs on vh0 (faked as migrating there: the monitors leave
            # such a VM alone); aff-b, in the negative enforcing group and
            # limited to vh0 by its placement policy, has nowhere to go.
            run_sql(eng, f"UPDATE vms SET status = 'migratingfrom', host_id = '{vh0['id']}' WHERE id = '{a['id']}'")
            eng.call("PUT", f"/api/vms/{b['id']}", {"placement_policy": {"hosts": ["vh0"]}})
            r = eng.request("POST", f"/api/vms/{b['id']}/start")
            assert r.status == 202, r
            job = eng.wait_job(r.body["job"]["id"], timeout=30)
            assert job["status"] == "failed", job
            assert "filtered out by enforcing negative affinity group 'apart'" in job["detail"], job
            assert "not in its placement policy's hosts" in job["detail"], job
            now = eng.vm(b["id"])
            assert (now["status"], now["host_id"]) == ("down", None), now
            assert eng.find_events("cannot start VM 'aff-b'", b["id"])
            run_sql(eng, f"UPDATE vms SET status = 'down', host_id = NULL WHERE id = '{a['id']}'")

            # A cluster's scheduling policy: none by default, parameters
            # filled with ch. 5's defaults, bad ones refused.
            assert eng.get(f"/api/clusters/{cl['id']}")["scheduling_policy"] == {"name": "none", "properties": {}}
            for pol, what in [({"name": "fair"}, "scheduling_policy.name"),
                              ({"name": "evenly_distributed", "properties": {"HighVmCount": 2}}, "'HighVmCount'"),
                              ({"name": "power_saving", "properties": {"LowUtilization": 95}}, "below"),
                              ({"name": "evenly_distributed", "properties": {"HighUtilization": "80"}}, "1..100")]:
                expect_fault(eng.request("PUT", f"/api/clusters/{cl['id']}", {"scheduling_policy": pol}), 400, what)
            got = eng.call("PUT", f"/api/clusters/{cl['id']}", {"scheduling_policy": {"name": "power_saving"}})
            assert got["scheduling_policy"] == {"name": "power_saving", "properties": {
                "HighUtilization": 80, "LowUtilization": 20, "CpuOverCommitDurationMinutes": 2}}, got
            got = eng.call("PUT", f"/api/clusters/{cl['id']}", {"description": "kept"})
            assert got["scheduling_policy"]["name"] == "power_saving", got

            # A VM removed leaves its groups; a group removed goes.
            assert eng.request("DELETE", f"/api/vms/{a['id']}").status == 204
            assert eng.get(f"/api/affinitygroups/{g['id']}")["vms"] == [b["id"]]
            assert eng.get(f"/api/affinitygroups/{soft['id']}")["vms"] == [c["id"]]
            assert eng.request("DELETE", f"/api/affinitygroups/{g['id']}").status == 204
            assert eng.request("GET", f"/api/affinitygroups/{g['id']}").status == 404
            assert eng.vm(other["id"])["status"] == "down"
            _affinity_cli(ctx, eng, cl, c)
            _ha_reservation(ctx, eng, cl, hosts, base)
            _in_cluster_upgrade(ctx, eng, cl, hosts, base)


def _affinity_cli(ctx, eng, cl, c):
    """vireo affinitygroup ... and vireo cluster ... --scheduling-policy
    (docs/cli.md): what they send, their usage errors (2) and the
    engine's refusals (1)."""
    out = cli(ctx, eng, "affinitygroup", "create", "--name", "cli-apart", "--cluster", "cl1", "--negative",
              "--vm", "aff-b", "--vm", c["id"], "--json")
    g = json.loads(out)
    assert (g["positive"], g["enforcing"], g["cluster_id"]) == (False, True, cl["id"]), g
    assert len(g["vms"]) == 2 and c["id"] in g["vms"], g
    assert "cli-apart" in cli(ctx, eng, "affinitygroup", "list", "--cluster", "cl1")
    assert "cli-apart" in cli(ctx, eng, "affinitygroup", "list")
    g = json.loads(cli(ctx, eng, "affinitygroup", "update", "cli-apart", "--soft", "--no-vms", "--json"))
    assert (g["positive"], g["enforcing"], g["vms"]) == (False, False, []), g
    # A name two clusters use: --cluster says which.
    cli(ctx, eng, "affinitygroup", "create", "--name", "cli-apart", "--cluster", "cl2")
    assert "say which cluster" in cli(ctx, eng, "affinitygroup", "show", "cli-apart", expect=2)
    got = json.loads(cli(ctx, eng, "affinitygroup", "show", "cli-apart", "--cluster", "cl1", "--json"))
    assert got["id"] == g["id"], got
    assert "contradicts" in cli(ctx, eng, "affinitygroup", "update", "cli-apart", "--cluster", "cl1", "--positive",
                                "--negative", expect=2)
    assert "needs --cluster" in cli(ctx, eng, "affinitygroup", "create", "--name", "x", expect=2)
    assert "no VM 'nope'" in cli(ctx, eng, "affinitygroup", "create", "--name", "x", "--cluster", "cl1",
                                 "--vm", "nope", expect=1)
    assert "no affinity group named 'zz'" in cli(ctx, eng, "affinitygroup", "delete", "zz", expect=1)
    cli(ctx, eng, "affinitygroup", "delete", "cli-apart", "--cluster", "cl2")
    cli(ctx, eng, "affinitygroup", "delete", "cli-apart")
    assert "cli-apart" not in json.dumps(eng.get("/api/affinitygroups"))
    # A cluster's scheduling policy.
    got = json.loads(cli(ctx, eng, "cluster", "update", "cl1", "--scheduling-policy", "vm_evenly_distributed",
                         "--policy-property", "HighVmCount=3", "--policy-property", "SpmVmGrace=0", "--json"))
    assert got["scheduling_policy"] == {"name": "vm_evenly_distributed", "properties": {
        "HighVmCount": 3, "MigrationThreshold": 5, "SpmVmGrace": 0}}, got
    assert "policy-property" in cli(ctx, eng, "cluster", "update", "cl1", "--scheduling-policy", "none",
                                    "--policy-property", "HighVmCount", expect=2)
    assert "scheduling_policy.name" in cli(ctx, eng, "cluster", "update", "cl1", "--scheduling-policy", "fair",
                                           expect=1)
    assert eng.get(f"/api/clusters/{cl['id']}")["scheduling_policy"]["name"] == "vm_evenly_distributed"
    got = json.loads(cli(ctx, eng, "cluster", "create", "--name", "cl3", "--datacenter", "dc1",
                         "--scheduling-policy", "power_saving", "--json"))
    assert got["scheduling_policy"]["name"] == "power_saving", got
    cli(ctx, eng, "cluster", "delete", "cl3")


def _ha_reservation(ctx, eng, cl, hosts, base):
    """The cluster's ha_reservation (docs/fencing.md): true while each
    host's HA VMs fit on the other up host, false (with an event from the
    balancer's round, here every second) once they do not, true again
    (event) when the big one stopped. VMs are faked as running
    (migratingfrom: the monitors leave such a VM alone, and count its
    memory on its host)."""
    vh0, vh1 = hosts
    path = f"/api/clusters/{cl['id']}"
    eng.call("PUT", path, {"scheduling_policy": {"name": "none"}})
    eng.extra_args += ["--balance-period-s", "1"]
    eng.restart()
    for h in hosts:
        eng.wait_status("hosts", h["id"], "up", timeout=30)
    # A switch, off by default as in RHV; bad input changes nothing.
    off = {"enabled": False, "ok": None, "detail": "HA reservation is off for this cluster"}
    assert eng.get(path)["ha_reservation"] == off
    for body, what in [({"ha_reservation": True}, "ha_reservation must be an object"),
                       ({"ha_reservation": {"enabled": "yes"}}, "ha_reservation.enabled must be true or false"),
                       ({"ha_reservation": {}}, "ha_reservation.enabled must be true or false"),
                       ({"ha_reservation": {"enabled": True, "ok": True}}, "unknown member 'ok'")]:
        expect_fault(eng.request("PUT", path, body), 400, what)
    assert eng.get(path)["ha_reservation"] == off
    assert "--ha-reservation" in cli(ctx, eng, "cluster", "update", "cl1", "--ha-reservation", "yes", expect=2)
    got = json.loads(cli(ctx, eng, "cluster", "update", "cl1", "--ha-reservation", "on", "--json"))
    assert got["ha_reservation"]["enabled"] is True, got
    assert eng.call("PUT", path, {"description": "kept"})["ha_reservation"]["enabled"] is True  # PUT keeps it
    res = eng.get(path)["ha_reservation"]
    assert res == {"enabled": True, "ok": True, "detail": "0 highly available VM(s) could restart elsewhere if any"
                                                           " one of the 2 up host(s) failed"}, res
    total = eng.host(vh0["id"])["stats"]["memory"]["total_kib"] // 1024
    small = eng.create_vm("ha-small", cl["id"], **dict(base, memory_mib=total // 4),
                          high_availability={"enabled": True})
    big = eng.create_vm("ha-big", cl["id"], **dict(base, memory_mib=total * 9 // 10),
                        high_availability={"enabled": True})
    run_sql(eng, f"UPDATE vms SET status = 'migratingfrom', host_id = '{vh0['id']}' WHERE id = '{small['id']}'")
    res = eng.get(f"/api/clusters/{cl['id']}")["ha_reservation"]
    assert res["ok"] is True and res["detail"].startswith("1 highly available VM(s)"), res
    run_sql(eng, f"UPDATE vms SET status = 'migratingfrom', host_id = '{vh1['id']}' WHERE id = '{big['id']}'")
    res = eng.wait_for(lambda: (lambda r: r if "host 'vh0' failed" in r["detail"] else None)(
        eng.get(f"/api/clusters/{cl['id']}")["ha_reservation"]), 30, what="HA reservation lost (vh1 counted)")
    assert res["ok"] is False and f"'ha-small' ({total // 4} MiB) could not restart" in res["detail"], res
    ev = eng.wait_for(lambda: eng.find_events("HA reservation of cluster 'cl1' lost", cl["id"]), 30,
                      what="the event")
    assert len(ev) == 1 and ev[0]["severity"] == "warning", ev
    run_sql(eng, f"UPDATE vms SET status = 'down', host_id = NULL WHERE id = '{big['id']}'")  # it stopped
    eng.wait_for(lambda: eng.get(f"/api/clusters/{cl['id']}")["ha_reservation"]["ok"], 30,
                 what="HA reservation back (vh1's memory free again)")
    eng.wait_for(lambda: eng.find_events("HA reservation of cluster 'cl1' restored", cl["id"]), 30,
                 what="the event")
    # Switched off: lost again, no verdict and no event.
    assert eng.call("PUT", path, {"ha_reservation": {"enabled": False}})["ha_reservation"] == off
    run_sql(eng, f"UPDATE vms SET status = 'migratingfrom', host_id = '{vh1['id']}' WHERE id = '{big['id']}'")
    time.sleep(2)  # two more rounds: no new event
    assert len(eng.find_events("HA reservation of cluster 'cl1'", cl["id"])) == 2
    assert eng.get(path)["ha_reservation"] == off
    run_sql(eng, f"UPDATE vms SET status = 'down', host_id = NULL WHERE id IN ('{small['id']}', '{big['id']}')")


def _in_cluster_upgrade(ctx, eng, cl, hosts, base):
    """InClusterUpgrade (docs/availability.md): vh0 runs 'vireotest 1.5',
    vh1 'vireotest 2' (OS_RELEASE). Each host shows its OS; a VM starts
    anywhere, migrates from the older host to the newer (weighed as newer)
    but not back (the dry run names the filter and why), and never to a
    host whose OS is not known. Bad policy input changes nothing."""
    vh0, vh1 = hosts
    path = f"/api/clusters/{cl['id']}"
    os0, os1 = (eng.host(h["id"])["os"] for h in hosts)
    assert (os0["id"], os0["version"], os0["pretty_name"]) == ("vireotest", "1.5", 'Vireo Test 1.5 ("old")'), os0
    assert (os1["id"], os1["version"], os1["pretty_name"]) == ("vireotest", "2", "Vireo Test 2"), os1
    assert os0["kernel"] == os1["kernel"] == os.uname().release, os0
    assert os1 == eng.host(vh1["id"])["capabilities"]["os"]
    assert "Vireo Test 2" in cli(ctx, eng, "host", "show", "vh1")
    before = eng.get(path)["scheduling_policy"]
    for pol, what in [({"name": "in_cluster_upgrade", "properties": {"HighVmCount": 1}},
                       "in_cluster_upgrade has no parameter 'HighVmCount'"),
                      ({"name": "in_cluster_upgrade", "properties": 5}, "properties must be an object"),
                      ({"name": "InClusterUpgrade"}, "scheduling_policy.name")]:
        expect_fault(eng.request("PUT", path, {"scheduling_policy": pol}), 400, what)
    assert eng.get(path)["scheduling_policy"] == before
    # Its preconditions: every host's OS version known, no running VM kept
    # from migrating; else 409 naming them, nothing changed. (The VM faked
    # up on no host: no monitor records it down meanwhile.)
    stay = eng.create_vm("stay", cl["id"], placement_policy={"affinity": "pinned", "hosts": ["vh0"]}, **base)
    run_sql(eng, f"UPDATE vms SET status = 'up' WHERE id = '{stay['id']}'")
    caps = eng.host(vh1["id"])["capabilities"]
    old_os = dict(caps["os"], version="")
    run_sql(eng, "UPDATE hosts SET capabilities_json = '%s' WHERE id = '%s'" % (
        json.dumps(dict(caps, os=old_os)).replace("'", "''"), vh1["id"]))
    f = expect_fault(eng.request("PUT", path, {"scheduling_policy": {"name": "in_cluster_upgrade"}}), 409,
                     "the in_cluster_upgrade policy needs every host's OS version known and every running VM free"
                     " to migrate: host 'vh1' (OS version not known), VM 'stay' (pinned)")
    assert eng.get(path)["scheduling_policy"] == before
    run_sql(eng, "UPDATE hosts SET capabilities_json = '%s' WHERE id = '%s'" % (
        json.dumps(caps).replace("'", "''"), vh1["id"]))
    out = cli(ctx, eng, "cluster", "update", "cl1", "--scheduling-policy", "in_cluster_upgrade", expect=1)
    assert "VM 'stay' (pinned)" in out and "vh1" not in out, out
    run_sql(eng, f"UPDATE vms SET status = 'down' WHERE id = '{stay['id']}'")
    eng.call("DELETE", f"/api/vms/{stay['id']}", expect=204)
    got = json.loads(cli(ctx, eng, "cluster", "update", "cl1", "--scheduling-policy", "in_cluster_upgrade", "--json"))
    assert got["scheduling_policy"] == {"name": "in_cluster_upgrade", "properties": {}}, got
    vm = eng.create_vm("icu", cl["id"], **base)
    placement = f"/api/vms/{vm['id']}/placement"

    def verdicts():
        d = eng.call("GET", placement)
        return d, {h["name"]: h for h in d["hosts"]}
    d, v = verdicts()  # a start: any host
    assert d["as"] == "start" and d["host"] and not v["vh0"]["filter"] and not v["vh1"]["filter"], d
    # On the newer host: the older one is filtered, and says why.
    run_sql(eng, f"UPDATE vms SET status = 'migratingfrom', host_id = '{vh1['id']}' WHERE id = '{vm['id']}'")
    d, v = verdicts()
    assert d["as"] == "migration" and d["host"] is None, d
    assert (v["vh0"]["filter"], v["vh0"]["reason"]) == (
        "in_cluster_upgrade", "runs vireotest 1.5, older than vireotest 2 where the VM runs"), d
    assert "vh0 (in_cluster_upgrade: runs vireotest 1.5, older" in d["reason"], d
    ja = eng.get(placement, headers={"Accept-Language": "ja"})["hosts"]
    why = [h["reason"] for h in ja if h["name"] == "vh0"][0]
    assert "vireotest 1.5" in why and "older" not in why, ja
    # On the older host: the newer one takes it, as newer.
    run_sql(eng, f"UPDATE vms SET host_id = '{vh0['id']}' WHERE id = '{vm['id']}'")
    d, v = verdicts()
    assert d["host"]["name"] == "vh1" and v["vh1"]["weights"]["upgrade_penalty"] == 0, d
    # A host whose agent does not say its OS (one too old to): filtered.
    caps = eng.host(vh1["id"])["capabilities"]
    bare = {k: x for k, x in caps.items() if k != "os"}
    run_sql(eng, "UPDATE hosts SET capabilities_json = '%s' WHERE id = '%s'" % (
        json.dumps(bare).replace("'", "''"), vh1["id"]))
    assert eng.host(vh1["id"])["os"] is None
    d, v = verdicts()
    assert (v["vh1"]["filter"], v["vh1"]["reason"]) == ("in_cluster_upgrade", "its OS version is not known (unknown)"), d
    run_sql(eng, "UPDATE hosts SET capabilities_json = '%s' WHERE id = '%s'" % (
        json.dumps(caps).replace("'", "''"), vh1["id"]))
    # Another policy: back to the older host is fine.
    eng.call("PUT", path, {"scheduling_policy": {"name": "none"}})
    run_sql(eng, f"UPDATE vms SET host_id = '{vh1['id']}' WHERE id = '{vm['id']}'")
    d, v = verdicts()
    assert d["host"]["name"] == "vh0" and v["vh0"]["weights"]["upgrade_penalty"] == 0, d
    run_sql(eng, f"UPDATE vms SET status = 'down', host_id = NULL WHERE id = '{vm['id']}'")
    eng.call("DELETE", f"/api/vms/{vm['id']}", expect=204)


def _spm_fenced_first(ctx, eng, dc, spm, other):
    """The SPM host loses power (its BMC): the engine fences it through the
    other host first, and only then elects that host SPM (RHV TR ch. 2.9:
    no new SPM before the old one is fenced), though its lease was free at
    once (its agent died)."""
    k = next(n for n, h in enumerate(ctx.hs.hosts) if h.name == eng.host(spm)["name"])
    target = ctx.hs.hosts[k]
    addr, port = target.start_bmc("admin", "Spm-Bmc-7")
    eng.call("PUT", f"/api/hosts/{spm}", {"power_management": {"enabled": True, "agents": [{
        "type": "ipmilan", "address": addr, "port": port, "username": "admin", "password": "Spm-Bmc-7",
        "options": {"lanplus": True, "cipher": 3}}]}, "spm_priority": -1})  # it is not elected again
    target.bmc.press_power(False)
    seen = []

    def elected():
        now = eng.get(dc["href"])["spm_host"]  # before the job: an election seen never passes for a later one
        jobs = [j for j in eng.list("jobs", max=1000)["jobs"] if j["action"] == "fence" and j["object_id"] == spm]
        seen.append((now, [j["status"] for j in jobs]))
        return now == other
    eng.wait_for(elected, timeout=120, interval=0.2, what="the other host elected SPM")
    early = [s for s in seen if s[0] == other and s[1] != ["finished"]]
    assert not early, ("elected before the fence finished", seen)
    assert [s for s in seen if s[0] == spm and s[1] and s[1] != ["finished"]], ("no fence seen under way", seen)
    assert eng.find_events(f"restart of host '{target.name}': power on", spm), eng.events()[:20]
    eng.wait_status("hosts", spm, "up", timeout=90)


def test_maintenance_gives_up_the_spm(ctx):
    """The SPM host's maintenance (SQLite, no guests): the job gives the
    role up through its agent, the other host is elected, and the host
    reaches maintenance having left the domain's lockspace and unmounted
    its storage; activated, it joins again without taking the role."""
    eng = Engine(ctx)
    eng.__enter__()
    sd_id = None
    try:
        st = storage_dc(ctx, eng, "maint")
        sd_id, dc = st["sd_id"], st["dc"]
        spm = st["spm_id"]
        other = next(h["id"] for h in st["hosts"] if h["id"] != spm)
        name = eng.host(spm)["name"]
        i = next(n for n, h in enumerate(ctx.hs.hosts) if h.name == name)
        h = ctx.hs.hosts[i]
        in_ls = lambda: [x for x in h.sanlock("status").stdout.splitlines()  # noqa: E731
                         if x.startswith(("s ", "r ")) and sd_id in x]
        assert [x for x in in_ls() if x.startswith("s ")], h.sanlock("status").stdout
        job = eng.wait_job(deactivate(eng, spm), timeout=60)
        assert job["status"] == "finished" and job["detail"] == f"host '{name}' is in maintenance", \
            (job, eng.log_tail(40))
        assert [s["description"] for s in job["steps"]][-2:] == [
            "releasing the SPM role if the host holds it",
            "leaving the storage domains' lockspaces and disconnecting storage"], job
        assert eng.host(spm)["status"] == "maintenance"
        ev = eng.find_events(f"host '{name}' gave up the SPM role of data center '{dc['name']}'", dc["id"])
        assert ev, eng.events()[:20]
        # It let go of the storage: no lockspace or lease in sanlock, no
        # mount in its namespace, nothing in its agent's report.
        assert not in_ls(), h.sanlock("status").stdout
        mnt = os.path.join(h.storage_root, ctx.hs.shared_dev.replace("/", "_"))
        assert h.run(["findmnt", "-n", mnt]).returncode != 0, h.run(["findmnt", mnt]).stdout
        with ctx.client(i) as c:
            eng.wait_for(lambda: not c.call("Storage.status")["domains"], timeout=15,
                         what="the agent's report without the domain")
        eng.wait_for(lambda: eng.get(dc["href"])["spm_host"] == other, timeout=60, what="the other host as SPM")
        time.sleep(2)  # a few monitor rounds: nothing joins again
        assert not in_ls(), h.sanlock("status").stdout
        # Activated: connected and in the lockspace again, with its host id.
        assert eng.request("POST", f"/api/hosts/{spm}/activate").status == 200
        eng.wait_status("hosts", spm, "up", timeout=60)
        with ctx.client(i) as c:
            rep = eng.wait_for(lambda: [d for d in c.call("Storage.status")["domains"]
                                        if d["domain"] == sd_id and d["lockspace"] == "joined"],
                               timeout=90, what="the activated host back in the lockspace")
        assert rep[0]["valid"] and rep[0]["host_id"] >= 1, rep
        assert [x for x in in_ls() if x.startswith("s ")], h.sanlock("status").stdout
        assert eng.get(dc["href"])["spm_host"] == other
        _spm_fenced_first(ctx, eng, dc, other, spm)
        leave_storage(eng, sd_id, [])
    except BaseException:
        eng.close(ok=False)
        raise
    eng.__exit__(None, None, None)
    scrub_domain(ctx, sd_id)
