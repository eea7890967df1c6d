"""Quotas and power users (docs/permissions.md "Quotas", docs/rest-api.md
"Quotas"): a power user (PowerUserRole on a cluster, QuotaConsumer on a
quota) makes VMs from templates within the quota; beyond it (past the
grace) an enforced data center refuses with a 409 naming the quota, the
resource, the use and the limit, and nothing changes; audit mode lets it
through with a warning event; usage is summed from the VMs and disks at
every read; two concurrent requests cannot both take the last units; bad
quotas are 400s. No hosts: templates, a storage domain and a disk are rows
(run_sql), VMs from disk-less templates are made without an SPM.

Runs on SQLite and PostgreSQL (VIREO_TEST_PG_URI)."""

from concurrent.futures import ThreadPoolExecutor

from harness.engine import CliSession, Engine, expect_fault, run_sql

PW = "s3cret-pass"
GIB = 1 << 30
SD = "5d000000-0000-4000-8000-0000000000a1"
T_SMALL = "7e000000-0000-4000-8000-0000000000a1"  # 2 vCPUs, 512 MiB, no disks
T_BIG = "7e000000-0000-4000-8000-0000000000a2"    # 4 vCPUs, 512 MiB, no disks
T_DISK = "7e000000-0000-4000-8000-0000000000a3"   # 1 vCPU, 128 MiB, a 20 GiB disk
TD = "d7000000-0000-4000-8000-0000000000a3"       # T_DISK's disk
D_OLD = "d7000000-0000-4000-8000-0000000000b1"    # a 1 GiB disk already counted in q1


def _fixtures(eng, dc, cl):
    tmpl = ("INSERT INTO templates (id, name, cluster_id, memory_mib, vcpus, spec_json, status, created_at)"
            " VALUES ('{}', '{}', '" + cl + "', {}, {}, '{}', 'ok', 0)")
    run_sql(eng,
            f"INSERT INTO storage_domains (id, name, sd_type, storage_type, storage_spec, datacenter_id, status,"
            f" created_at) VALUES ('{SD}', 'qsd', 'data', 'nfs', '{{}}', '{dc}', 'active', 0)",
            tmpl.format(T_SMALL, "tsmall", 512, 2, "{}"), tmpl.format(T_BIG, "tbig", 512, 4, "{}"),
            tmpl.format(T_DISK, "tdisk", 128, 1, '{"disks": [{"disk": "' + TD + '"}]}'),
            f"INSERT INTO disks (id, volume_id, alias, storage_domain_id, format, sparse, provisioned_size, status,"
            f" created_at, template_id, read_only) VALUES ('{TD}', '{TD[:-1]}f', 'tdisk', '{SD}', 'raw', 1,"
            f" {20 * GIB}, 'ok', 0, '{T_DISK}', 1)")


def _role(eng, name):
    return next(r["id"] for r in eng.get("/api/roles", params={"max": 1000})["roles"] if r["name"] == name)


def _grant(eng, role, obj_type, obj_id, user):
    eng.call("POST", "/api/permissions", {"role_id": _role(eng, role), "object_type": obj_type,
                                          "object_id": obj_id, "user_id": user["id"]}, expect=201)


def _usage(eng, q):
    return eng.get(q["href"])["usage"]


def test_quota_power_user(ctx):
    with Engine(ctx) as eng:
        dc, dc2 = eng.create_dc("qdc"), eng.create_dc("qdc2")
        assert dc["quota_mode"] == "disabled", dc
        cl, cl2 = eng.create_cluster("qcl", dc["id"]), eng.create_cluster("qcl2", dc2["id"])
        _fixtures(eng, dc["id"], cl["id"])
        qs = f"/api/datacenters/{dc['id']}/quotas"

        # ---- bad quotas: clear 400s, nothing stored
        for body, detail in (({"name": "b", "vcpus": -5}, "vcpus must be from -1"),
                             ({"name": "b", "cpus": 2}, "unknown member 'cpus'"),
                             ({"name": "b", "cluster_grace_pct": 150}, "cluster_grace_pct"),
                             ({"name": "b", "cluster_limits": [{"cluster_id": cl2["id"], "vcpus": 2}]},
                              "no cluster '%s' in the quota's data center" % cl2["id"]),
                             ({"name": "b", "cluster_limits": [{"cluster_id": cl["id"], "cpus": 2}]},
                              "unknown member 'cpus'"),
                             ({"name": "b", "storage_limits": [{"storage_domain_id": SD, "storage_gib": -3}]},
                              "storage_gib must be an integer from -1"),
                             ({"vcpus": 2}, "missing required member 'name'")):
            expect_fault(eng.request("POST", qs, body), 400, detail)
        assert eng.list("quotas")["total"] == 0
        expect_fault(eng.request("PUT", dc["href"], {"quota_mode": "strict"}), 400, "quota_mode")

        q = eng.call("POST", qs, {"name": "q1", "vcpus": 4, "memory_mib": 2048, "storage_gib": 10,
                                  "cluster_limits": [{"cluster_id": cl["id"], "memory_mib": 1536}],
                                  "storage_limits": [{"storage_domain_id": SD, "storage_gib": 10}]}, expect=201)
        assert (q["datacenter_id"], q["cluster_grace_pct"], q["storage_grace_pct"], q["cluster_threshold_pct"],
                q["storage_threshold_pct"]) == (dc["id"], 20, 20, 80, 80), q
        assert q["cluster_limits"] == [{"cluster_id": cl["id"], "vcpus": -1, "memory_mib": 1536}], q
        assert q["usage"] == {"vcpus": 0, "memory_mib": 0, "storage_gib": 0, "clusters": [], "storage_domains": []}
        q2 = eng.call("POST", "/api/quotas", {"name": "q1", "datacenter_id": dc2["id"]}, expect=201)
        assert q2["vcpus"] == -1 and eng.list("quotas")["total"] == 2
        expect_fault(eng.request("POST", qs, {"name": "q1"}), 409, "already has a quota named 'q1'")
        assert eng.get(f"{qs}")["total"] == 1

        # A disk already there counts (usage is read from the rows at every GET).
        run_sql(eng, f"INSERT INTO disks (id, volume_id, alias, storage_domain_id, format, sparse, provisioned_size,"
                     f" status, created_at, quota_id) VALUES ('{D_OLD}', '{D_OLD[:-1]}f', 'old', '{SD}', 'cow', 1,"
                     f" {GIB}, 'ok', 0, '{q['id']}')")
        assert _usage(eng, q)["storage_domains"] == [{"storage_domain_id": SD, "storage_gib": 1.0}]
        eng.call("PUT", dc["href"], {"quota_mode": "enforced"})

        # ---- the power user: PowerUserRole on the cluster
        bob = eng.call("POST", "/api/users", {"name": "bob@internal", "password": PW}, expect=201)
        _grant(eng, "PowerUserRole", "cluster", cl["id"], bob)
        tok = eng.login("bob@internal", PW, set_token=False)

        def as_bob(method, path, body=None):
            return eng.request(method, path, body, token=tok)

        def createvm(tmpl, name, **kw):
            return as_bob("POST", f"/api/templates/{tmpl}/createvm", dict(name=name, cluster_id=cl["id"], **kw))

        # Not a consumer of the quota yet: 403 naming the action group.
        expect_fault(createvm(T_SMALL, "pv0"), 403, "consume_quota")
        _grant(eng, "QuotaConsumer", "quota", q["id"], bob)
        expect_fault(createvm(T_SMALL, "pvx", quota=q2["id"]), 400, "another data center")
        # Within the quota: made, with q1 (the data center's only quota).
        r = createvm(T_SMALL, "pv1")
        assert r.status == 202, r
        assert eng.wait_job(r.body["job"]["id"])["status"] == "finished"
        pv1 = eng.list("vms", search="name=pv1")["vms"][0]
        assert pv1["quota"] == q["id"] and pv1["vcpus"] == 2, pv1
        u = _usage(eng, q)
        assert (u["vcpus"], u["memory_mib"], u["storage_gib"]) == (2, 512, 1.0), u
        assert u["clusters"] == [{"cluster_id": cl["id"], "vcpus": 2, "memory_mib": 512}], u

        # Beyond the vCPU limit (2 + 4 > 4 + 20 %): refused, nothing made.
        nvms, ndisks = eng.list("vms")["total"], eng.list("disks")["total"]
        f = expect_fault(createvm(T_BIG, "pv2"), 409, "quota 'q1'")
        for part in ("vCPUs", "would be 6", "2 in use", "4 asked", "limit 4", "20% grace", "enforced"):
            assert part in f["detail"], (part, f)
        # Beyond the storage limit (1 + 20 GiB > 10 GiB + 20 %): refused, nothing made.
        f = expect_fault(createvm(T_DISK, "pv3"), 409, "quota 'q1'")
        for part in ("storage", "21.00 GiB", "1.00 GiB in use", "limit 10.00 GiB"):
            assert part in f["detail"], (part, f)
        # Growing a disk counts its growth (1 + 29 GiB); the 409 comes before any job.
        expect_fault(eng.request("POST", f"/api/disks/{D_OLD}/extend", {"provisioned_size": 30 * GIB}), 409,
                         "disk 'old' storage would be 30.00 GiB")
        # The per-cluster memory limit (512 + 1536 > 1536 + 20 %) is named with its cluster.
        f = expect_fault(as_bob("POST", "/api/vms", {"name": "pvm", "cluster_id": cl["id"], "memory_mib": 1536}),
                         409, "memory in cluster 'qcl'")
        assert eng.list("vms")["total"] == nvms and eng.list("disks")["total"] == ndisks
        assert eng.list("vms", search="name=pv*")["total"] == 1
        assert _usage(eng, q)["vcpus"] == 2
        # bob manages the VM he made (its creator gets UserVmManager on it, as in oVirt); an update that
        # raises its vCPUs past the grace is refused, one within the limit passes with a threshold event.
        mine = [p for p in as_bob("GET", "/api/permissions").body["permissions"] if p["object_id"] == pv1["id"]]
        assert [p["role"] for p in mine] == ["UserVmManager"], mine
        # ... so its snapshots are his to take: past the permission gate to the VM's own rules (no disks here).
        expect_fault(as_bob("POST", f"{pv1['href']}/snapshots", {"description": "s1"}), 409, "no disk on a storage")
        expect_fault(as_bob("PUT", pv1["href"], {"vcpus": 5}), 409, "would be 5")
        assert as_bob("PUT", pv1["href"], {"vcpus": 4}).status == 200
        assert eng.find_events("above its 80% threshold", object_id=q["id"])
        assert as_bob("PUT", pv1["href"], {"vcpus": 2}).status == 200

        # ---- two requests for the last units: exactly one passes
        eng.call("PUT", q["href"], {"vcpus": 5})  # cap 6 with the grace; 2 in use
        body = {"cluster_id": cl["id"], "memory_mib": 128, "vcpus": 3}
        with ThreadPoolExecutor(2) as pool:
            rs = list(pool.map(lambda n: as_bob("POST", "/api/vms", dict(body, name=n)), ("race1", "race2")))
        assert sorted(r.status for r in rs) == [201, 409], rs
        assert _usage(eng, q)["vcpus"] == 5

        # ---- audit mode: the overrun goes through with a warning event
        eng.call("PUT", dc["href"], {"quota_mode": "audit"})
        r = createvm(T_BIG, "pv4")
        assert r.status == 202 and eng.wait_job(r.body["job"]["id"])["status"] == "finished", r
        warn = [e for e in eng.find_events("quota exceeded (audit mode", object_id=q["id"])]
        assert warn and warn[0]["severity"] == "warning" and "VM 'pv4'" in warn[0]["message"], warn
        vms = [v for v in eng.list("vms", max=100)["vms"] if v.get("quota") == q["id"]]
        u = _usage(eng, q)
        assert u["vcpus"] == sum(v["vcpus"] for v in vms) == 9, (u, vms)
        assert u["memory_mib"] == sum(v["memory_mib"] for v in vms), (u, vms)

        # A quota in use stays; a disabled data center checks nothing.
        expect_fault(eng.request("DELETE", q["href"]), 409, "still consume it")
        eng.call("PUT", dc["href"], {"quota_mode": "disabled"})
        assert eng.request("POST", "/api/vms", {"name": "free", "cluster_id": cl["id"], "memory_mib": 128,
                                                "vcpus": 16}).status == 201
        eng.call("DELETE", q2["href"], expect=204)

        # ---- the CLI
        cli = CliSession(ctx, eng)
        assert "q1" in cli.run("quota", "list", "--datacenter", "qdc").stdout
        cli.run("datacenter", "update", "qdc", "--quota-mode", "enforced")
        assert eng.get(dc["href"])["quota_mode"] == "enforced"
        # q1 is far over now (audit and disabled let VMs in): what grows nothing is not checked.
        assert as_bob("PUT", pv1["href"], {"description": "still mine"}).status == 200
        expect_fault(as_bob("PUT", pv1["href"], {"vcpus": 3}), 409, "vCPUs would be 26")
        cli.run("quota", "create", "--name", "q3", "--datacenter", "qdc", "--vcpus", "8", "--storage-gib", "50")
        q3 = eng.list("quotas", search="name=q3")["quotas"][0]
        assert (q3["vcpus"], q3["memory_mib"], q3["storage_gib"]) == (8, -1, 50), q3
        cli.run("quota", "update", "q3", "--datacenter", "qdc", "--memory-mib", "4096")
        assert eng.get(q3["href"])["memory_mib"] == 4096
        cli.run("quota", "create", "--name", "q4", "--datacenter", "qdc", "--vcpus", "-7", expect=1)
        # Two quotas now: an enforced data center needs the VM to name one.
        r = eng.request("POST", "/api/vms", {"name": "noq", "cluster_id": cl["id"], "memory_mib": 128})
        expect_fault(r, 400, "needs a quota")
        vm = eng.create_vm("withq", cl["id"], memory_mib=128, quota=q3["id"])
        assert vm["quota"] == q3["id"] and _usage(eng, q3)["memory_mib"] == 128
        eng.call("DELETE", vm["href"], expect=204)
        cli.run("quota", "delete", "q3", "--datacenter", "qdc")
        assert eng.list("quotas", search="name=q3")["total"] == 0
