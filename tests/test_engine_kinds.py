"""The engine's kinds, described once (src/engine/api/kinds_*.c): the
OpenAPI document generated from the tables is the one in docs/, lints clean
and describes the live answers; nested collections; sortby; job cancel;
one error path (the database taken away is 503 on every kind of request)."""

import json
import os
import socket
import subprocess
import threading
import time

from harness import openapi
from harness.context import Skip
from harness.engine import REPO_ROOT, Engine

NPM_DIR = "/var/cache/vireo-npm"
REDOCLY = os.path.join(NPM_DIR, "node_modules", ".bin", "redocly")
MISSING = "0b7a5a37-1111-4222-8333-444455556666"


def _fault(r, status, detail=None):
    assert r.status == status, r
    f = r.body["fault"]
    assert f["reason"] and f["detail"], r
    if detail:
        assert detail.lower() in f["detail"].lower(), r
    return f


def _redocly():
    """Redocly's CLI from npm (the registry is reachable from CI)."""
    if not os.access(REDOCLY, os.X_OK):
        os.makedirs(NPM_DIR, exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", NPM_DIR, "@redocly/cli@2"],
                       check=True, capture_output=True, timeout=600)
    return REDOCLY


def test_openapi_generated_lints_and_matches_live(ctx):
    with Engine(ctx) as eng:
        live = eng.request("GET", "/api/openapi.json", token=None)
        assert live.status == 200, live
        with open(os.path.join(REPO_ROOT, "docs", "openapi.json")) as f:
            doc = json.load(f)
        assert live.body == doc, ("docs/openapi.json is not what the engine serves: regenerate it with "
                                  "build/src/engine/vireo-openapi > docs/openapi.json")
        # Every operation of every kind is there, nested lists too.
        for p in ("/api/datacenters/{id}/clusters", "/api/clusters/{id}/vms",
                  "/api/clusters/{id}/hosts", "/api/jobs/{id}/cancel", "/api/vms/{id}/start"):
            assert p in doc["paths"], p
        assert "cancelled" in doc["components"]["schemas"]["JobStatus"]["enum"]
        # Live answers fit the document.
        dc = eng.create_dc("kdc1")
        cl = eng.create_cluster("kcl1", dc["id"])
        vm = eng.create_vm("kvm1", cl["id"], nics=[{"bridge": "br0"}])
        for path in ("/api", "/api/datacenters", dc["href"], "/api/clusters", cl["href"], "/api/vms",
                     vm["href"], f"/api/clusters/{cl['id']}/vms", "/api/events", "/api/jobs"):
            r = eng.request("GET", path)
            openapi.validate_response(doc, "GET", path, r.status, json.dumps(r.body).encode())
    out = subprocess.run([_redocly(), "lint", "--format", "json", os.path.join(REPO_ROOT, "docs", "openapi.json")],
                         capture_output=True, text=True, timeout=300)
    text = out.stdout[out.stdout.find("{"):] if "{" in out.stdout else "{}"
    report = json.loads(text)
    errors = [p for p in report.get("problems", []) if p.get("severity") == "error"]
    assert not errors, json.dumps(errors, indent=1)[:3000]
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]


def test_nested_collections_and_sorting(ctx):
    with Engine(ctx) as eng:
        dc = eng.create_dc("ndc1")
        dc2 = eng.create_dc("ndc2")
        # Create under the parent: the path gives the parent.
        r = eng.request("POST", f"/api/datacenters/{dc['id']}/clusters", {"name": "ncl-b"})
        assert r.status == 201 and r.body["datacenter_id"] == dc["id"], r
        assert r.headers.get("location") == r.body["href"], r
        eng.create_cluster("ncl-a", dc["id"])
        eng.create_cluster("ncl-c", dc2["id"])
        # A body that names another parent than the path is refused.
        _fault(eng.request("POST", f"/api/datacenters/{dc['id']}/clusters",
                           {"name": "ncl-x", "datacenter_id": dc2["id"]}), 400, "datacenter_id")
        lst = eng.get(f"/api/datacenters/{dc['id']}/clusters")
        assert [c["name"] for c in lst["clusters"]] == ["ncl-a", "ncl-b"] and lst["total"] == 2, lst
        lst = eng.get(f"/api/datacenters/{dc['id']}/clusters", params={"sortby": "-name"})
        assert [c["name"] for c in lst["clusters"]] == ["ncl-b", "ncl-a"], lst
        lst = eng.get(f"/api/datacenters/{dc['id']}/clusters", params={"search": "name=ncl-a"})
        assert [c["name"] for c in lst["clusters"]] == ["ncl-a"] and lst["total"] == 1, lst
        _fault(eng.request("GET", "/api/clusters", params={"sortby": "cpu_type"}), 400, "sort")
        # A value too long to keep whole is refused, never matched cut short.
        _fault(eng.request("GET", "/api/clusters", params={"search": "name=" + "n" * 200 + "*"}), 400, "longer")
        _fault(eng.request("GET", "/api/clusters", params={"sortby": "name; DROP TABLE vms"}), 400)
        # Nested paths of objects that do not exist, and deeper paths.
        _fault(eng.request("GET", f"/api/datacenters/{MISSING}/clusters"), 404, MISSING)
        _fault(eng.request("POST", f"/api/datacenters/{MISSING}/clusters", {"name": "orphan"}), 404)
        assert eng.list("clusters", search="name=orphan")["total"] == 0
        cl = eng.get(f"/api/datacenters/{dc['id']}/clusters")["clusters"][0]
        _fault(eng.request("GET", f"/api/datacenters/{dc['id']}/clusters/{cl['id']}"), 404, "own URL")
        _fault(eng.request("GET", f"/api/datacenters/{dc['id']}/nosuch"), 404)
        _fault(eng.request("GET", f"/api/datacenters/{dc['id']}/clusters/x/y/z/w"), 404)
        _fault(eng.request("DELETE", f"/api/datacenters/{dc['id']}/clusters"), 405)
        # VMs and hosts under their cluster.
        r = eng.request("POST", f"/api/clusters/{cl['id']}/vms", {"name": "nvm1", "memory_mib": 64})
        assert r.status == 201 and r.body["cluster_id"] == cl["id"] and r.body["status"] == "down", r
        assert eng.get(f"/api/clusters/{cl['id']}/vms")["total"] == 1
        assert eng.get(f"/api/clusters/{cl['id']}/hosts") == {"hosts": [], "total": 0}
        # Totals follow writes (they are cached between writes).
        for i in range(3):
            eng.create_vm(f"nvm-t{i}", cl["id"], memory_mib=64)
            assert eng.list("vms")["total"] == 2 + i
        eng.call("DELETE", f"/api/vms/{r.body['id']}", expect=204)
        assert eng.list("vms")["total"] == 3


def test_same_verdict_on_post_and_put(ctx):
    """A body member refused at create is refused at update too (a MAC
    given by the client used to be dropped silently by PUT)."""
    with Engine(ctx) as eng:
        cl = eng.create_cluster("vcl1", eng.create_dc("vdc1")["id"])
        vm = eng.create_vm("vvm1", cl["id"], nics=[{"bridge": "br0"}])
        mac = vm["nics"][0]["mac"]
        bad = {"nics": [{"bridge": "br0", "mac": "56:6f:00:00:00:01"}]}
        _fault(eng.request("POST", "/api/vms", dict(bad, name="vvm2", cluster_id=cl["id"], memory_mib=64)),
               400, "MAC pool")
        _fault(eng.request("PUT", vm["href"], bad), 400, "MAC pool")
        assert eng.vm(vm["id"])["nics"][0]["mac"] == mac
        for body in ({"iotune": 1}, {"disks": [{"path": "/d", "iotune": {"bogus_limit": 1}}]},
                     {"vcpus": "2"}, {"memory_mib": 8}):
            post = eng.request("POST", "/api/vms", dict(body, name="vvm3", cluster_id=cl["id"], memory_mib=64)
                               if "memory_mib" not in body else dict(body, name="vvm3", cluster_id=cl["id"]))
            put = eng.request("PUT", vm["href"], body)
            assert post.status == put.status == 400, (body, post, put)
        assert eng.list("vms", search="name=vvm3")["total"] == 0


def test_job_cancel(ctx):
    with Engine(ctx) as eng:
        cl = eng.create_cluster("jcl1", eng.create_dc("jdc1")["id"])
        vm = eng.create_vm("jvm1", cl["id"])
        # No host can run it: the start fails; a finished job cannot be cancelled.
        job = eng.wait_job(eng.start_vm(vm["id"]))
        assert job["status"] == "failed" and job["progress"] < 100, job
        _fault(eng.request("POST", f"/api/jobs/{job['id']}/cancel"), 409, "ended")
        _fault(eng.request("POST", f"/api/jobs/{MISSING}/cancel"), 404)
        _fault(eng.request("GET", f"/api/jobs/{job['id']}/cancel"), 405)
        _fault(eng.request("POST", f"/api/jobs/{job['id']}/nosuch"), 404)
        # A pending job (the engine is stopped before it runs) is cancelled
        # by its own rule when it is picked up: the VM goes back to down.
        eng.stop()
        import sqlite3
        if eng.database is None:
            db = sqlite3.connect(os.path.join(eng.state_dir, "engine.db"))
            db.execute("INSERT INTO jobs (id, action, object_type, object_id, status, user_name, description,"
                       " created_at, updated_at, cancel_requested) VALUES (?, 'start', 'vm', ?, 'pending',"
                       " 'admin@internal', 'Start VM jvm1', 1, 1, 1)", (MISSING, vm["id"]))
            db.execute("UPDATE vms SET status = 'waitforlaunch' WHERE id = ?", (vm["id"],))
            # Text that is not UTF-8, written by something else: served, not dropped.
            db.execute("INSERT INTO events (time, severity, user_name, object_type, object_id, message)"
                       " VALUES (1, 'normal', '', '', '', CAST(? AS TEXT))", (b"bad \xff\xfe text",))
            db.commit()
            db.close()
        else:
            subprocess.run(["psql", eng.database, "-qc",
                            "INSERT INTO jobs (id, action, object_type, object_id, status, user_name, description,"
                            f" created_at, updated_at, cancel_requested) VALUES ('{MISSING}', 'start', 'vm',"
                            f" '{vm['id']}', 'pending', 'admin@internal', 'Start VM jvm1', 1, 1, 1);"
                            f" UPDATE vms SET status = 'waitforlaunch' WHERE id = '{vm['id']}'"],
                           check=True, capture_output=True)
        eng.start()
        eng.login()
        j = eng.wait_job(MISSING, status=("finished", "failed", "cancelled"))
        assert j["status"] == "cancelled", j
        assert eng.wait_status("vms", vm["id"], "down")["host_id"] is None
        _fault(eng.request("POST", f"/api/jobs/{MISSING}/cancel"), 409)
        if eng.database is None:
            ev = eng.get("/api/events", params={"search": "message=bad*"})["events"]
            assert len(ev) == 1 and ev[0]["message"] == "bad \ufffd\ufffd text", ev


def test_database_outage_is_503_everywhere(ctx):
    if ctx.engine_db != "postgresql":
        raise Skip("needs a database server to take away (PostgreSQL pass)")
    # a short agent timeout: the job in flight below fails on it (and is
    # waited out) while the database is away
    with Engine(ctx, agent_timeout_s=2) as eng:
        dc = eng.create_dc("odc1")
        cl = eng.create_cluster("ocl1", dc["id"])
        vm = eng.create_vm("ovm1", cl["id"])
        dbname = eng.database.rsplit("/", 1)[1]
        admin = os.environ["VIREO_TEST_PG_URI"]

        def psql(sql):
            subprocess.run(["psql", admin, "-qc", sql], check=True, capture_output=True)
        # A job in flight when the database goes: a stop whose host never
        # answers (a listener that accepts and stays silent).
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        held = []

        def hold():
            # ends when the test closes the listener
            try:
                while len(held) < 64:
                    held.append(silent.accept())
            except OSError:
                pass
        threading.Thread(target=hold, daemon=True).start()
        host = eng.create_host("silent", "127.0.0.1", cl["id"], port=silent.getsockname()[1])
        running = eng.create_vm("ovm2", cl["id"])
        subprocess.run(["psql", eng.database, "-qc", f"UPDATE vms SET status = 'up', host_id = '{host['id']}'"
                        f" WHERE id = '{running['id']}'"], check=True, capture_output=True)
        r = eng.request("POST", f"{running['href']}/stop")
        assert r.status == 202, r
        stop_job = r.body["job"]["id"]
        psql(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS false')
        psql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{dbname}'")
        try:
            requests = [("GET", "/api/datacenters", None), ("GET", dc["href"], None),
                        ("GET", f"/api/datacenters/{dc['id']}/clusters", None), ("GET", "/api/vms", None),
                        ("GET", vm["href"], None), ("GET", "/api/events", None), ("GET", "/api/jobs", None),
                        ("POST", "/api/datacenters", {"name": "odc2"}), ("PUT", dc["href"], {"description": "x"}),
                        ("DELETE", vm["href"], None), ("POST", f"{vm['href']}/start", None),
                        ("POST", f"/api/jobs/{MISSING}/cancel", None), ("GET", f"/api/vms/{MISSING}", None)]
            for method, path, body in requests:
                r = eng.request(method, path, body)
                assert r.status == 503, (method, path, r)
                assert r.body["fault"]["detail"], r
            # Past the agent timeout the job knows its outcome but cannot record it.
            time.sleep(eng.agent_timeout_s + 2)
        finally:
            psql(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS true')
        # Back: nothing that failed was done.
        eng.wait_for(lambda: eng.request("GET", "/api/datacenters").status == 200, timeout=30, what="db back")
        assert [d["name"] for d in eng.list("datacenters")["datacenters"]] == ["odc1"]
        assert eng.get(dc["href"])["description"] == ""
        assert eng.vm(vm["id"])["status"] == "down"
        # The job in flight recorded its end once the database was back.
        job = eng.wait_job(stop_job, timeout=30, status=("finished", "failed"))
        assert job["status"] == "failed" and job["detail"], job
        assert eng.vm(running["id"])["status"] in ("up", "unknown"), eng.vm(running["id"])
        assert eng.list("jobs")["total"] == 1  # the refused requests started none
        silent.close()
