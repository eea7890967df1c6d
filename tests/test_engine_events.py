"""Events and jobs follow the collection conventions: search, max, page,
total, newest first, and bad search clauses are a 400."""

import json
import threading
import time

from harness.engine import Engine, expect_fault, run_sql


def test_events_search_and_paging(ctx):
    with Engine(ctx) as eng:
        for i in range(5):
            eng.create_dc(f"evdc{i}")
        r = eng.request("GET", "/api/events", params={"search": "message=*evdc*", "max": "2"})
        assert r.status == 200, r
        assert r.body["total"] == 5 and len(r.body["events"]) == 2
        # Newest first, and page 3 holds the oldest one alone.
        assert "evdc4" in r.body["events"][0]["message"] and "evdc3" in r.body["events"][1]["message"]
        r = eng.request("GET", "/api/events", params={"search": "message=*EVDC*", "max": "2", "page": "3"})
        assert r.body["total"] == 5 and [e["message"] for e in r.body["events"]] == [
            "data center 'evdc0' was created by admin@internal"]
        ids = [e["id"] for e in eng.get("/api/events", params={"max": "1000"})["events"]]
        assert ids == sorted(ids, reverse=True)
        # One creation event per object: a host joining without an install job too.
        cl = eng.create_cluster("evcl", eng.get("/api/datacenters", params={"search": "name=evdc0"})
                                ["datacenters"][0]["id"])
        h = eng.create_host("evhost", "192.0.2.7", cl["id"])
        made = [e["message"] for e in eng.get("/api/events", params={"max": "1000"})["events"]
                if e["object_id"] == h["id"] and ("created" in e["message"] or "added" in e["message"])]
        assert made == ["host 'evhost' was created by admin@internal"], made
        r = eng.request("GET", "/api/events", params={"search": "severity=normal and user=admin@internal"})
        assert r.body["total"] >= 6  # the login and the five creations
        assert all(e["user"] == "admin@internal" for e in r.body["events"])
        # Unknown fields and clauses without a value are refused; a value
        # that looks like SQL is only ever a bound value: it matches nothing.
        for bad in ("bogus=1", "message", "=x", "after=notanumber"):
            r = eng.request("GET", "/api/events", params={"search": bad})
            assert r.status == 400 and r.body["fault"]["detail"], (bad, r)
        r = eng.request("GET", "/api/events", params={"search": "message=x' OR '1'='1"})
        assert r.status == 200 and r.body == {"events": [], "total": 0}, r
        r = eng.request("GET", "/api/events", params={"search": "message=*' OR '1'='1*"})
        assert r.status == 200 and r.body["total"] == 0, r
        r = eng.request("GET", "/api/events", params={"search": "bogus=1"})
        assert r.status == 400 and "bogus" in r.body["fault"]["detail"]
        r = eng.request("GET", "/api/jobs", params={"search": "status=failed"})
        assert r.status == 200 and r.body == {"jobs": [], "total": 0}
        assert eng.request("GET", "/api/jobs", params={"max": "0"}).status == 400


def test_edits_and_removals_leave_events(ctx):
    """Every accepted PUT that changes something leaves one event on the
    object naming the changed members (not their values) and who changed
    them; a PUT that changes nothing or is refused leaves none; a removal
    leaves one; a user sees only the events of objects they may see."""
    with Engine(ctx) as eng:
        mine, theirs = eng.create_dc("evmine"), eng.create_dc("evtheirs")
        roles = {r["name"]: r["id"] for r in eng.get("/api/roles", params={"max": 1000})["roles"]}
        bob = eng.call("POST", "/api/users", {"name": "evbob@internal", "password": "s3cret-pass"}, expect=201)
        eng.call("POST", "/api/permissions", {"role_id": roles["DataCenterAdmin"], "object_type": "datacenter",
                                              "object_id": mine["id"], "user_id": bob["id"]}, expect=201)
        tok = eng.login("evbob@internal", "s3cret-pass", set_token=False)

        def on(obj_id, token=None):
            kw = {} if token is None else {"token": token}
            return [e for e in eng.get("/api/events", params={"max": 1000, "search": f"object_id={obj_id}"},
                                       **kw)["events"] if " was " in e["message"]]

        eng.call("PUT", theirs["href"], {"description": "the secret plan", "name": "evtheirs"})
        [ev, made] = on(theirs["id"])
        assert made["message"] == "data center 'evtheirs' was created by admin@internal", made
        assert ev["message"] == "data center 'evtheirs' was updated by admin@internal: description", ev
        assert ev["object_type"] == "datacenter" and ev["user"] == "admin@internal", ev
        assert "secret plan" not in json.dumps(eng.events())
        r = eng.request("GET", "/api/events", params={"search": f"object_id={theirs['id']}", "max": 1},
                        headers={"Accept-Language": "ja"})
        assert r.body["events"][0]["message"] == "データセンター 'evtheirs' は admin@internal によって更新されました: description", r
        # The same values again, a refused body, a refused caller: no event.
        eng.call("PUT", theirs["href"], {"description": "the secret plan"})
        expect_fault(eng.request("PUT", theirs["href"], {"descriptionx": "x"}), 400, "unknown member")
        expect_fault(eng.request("PUT", theirs["href"], {"description": "x"}, token=tok), 403)
        assert len(on(theirs["id"])) == 2
        # Bob's own edit of his data center: his name, and he sees it.
        r = eng.request("PUT", mine["href"], {"description": "d", "name": "evmine2"}, token=tok)
        assert r.status == 200, r
        [ev, _] = on(mine["id"], tok)
        assert ev["message"] == "data center 'evmine2' was updated by evbob@internal: name, description", ev
        # A create answered 201 names its user too, in either language.
        # (A cluster he could not make: the default MAC pool it would name
        # is a system object, a 403 left to docs/permissions.md.)
        bcl = eng.create_cluster("evbobcl", mine["id"])
        bvm = eng.call("POST", "/api/vms", {"name": "evbobvm", "cluster_id": bcl["id"], "memory_mib": 128},
                       token=tok, expect=201)
        assert [e["message"] for e in on(bvm["id"], tok)] == ["VM 'evbobvm' was created by evbob@internal"]
        r = eng.request("GET", "/api/events", token=tok, params={"search": f"object_id={bcl['id']}"},
                        headers={"Accept-Language": "ja"})
        assert r.body["events"][0]["message"] == "クラスター 'evbobcl' は admin@internal によって作成されました", r
        # ... and not the events of the data center he cannot see.
        assert on(theirs["id"], tok) == []
        r = eng.request("GET", "/api/events", token=tok, params={"max": 1000, "search": "message=*evtheirs*"})
        assert r.status == 200 and r.body["total"] == 0, r
        # A VM's hardware (kept in its spec) is compared the same way.
        cl = eng.create_cluster("evcl", theirs["id"])
        vm = eng.create_vm("evvm", cl["id"], disks=[{"path": "/var/tmp/evvm.img", "target": "vda"}])
        eng.call("PUT", vm["href"], {"memory_mib": 512, "vcpus": vm["vcpus"]})
        eng.call("PUT", vm["href"], {"memory_mib": 512})
        # ... and a disk's limits (a child kept in the VM's spec): one event on the VM.
        for _ in range(2):
            eng.call("PUT", f"{vm['href']}/disks/vda", {"iotune": {"read_iops_sec": 100}})
        assert [e["message"] for e in on(vm["id"])] == [
            "disk vda of VM 'evvm' was updated by admin@internal: iotune",
            "VM 'evvm' was updated by admin@internal: memory_mib", "VM 'evvm' was created by admin@internal"]
        # A running VM keeps a new memory size for its next start: the event says so.
        run_sql(eng, f"UPDATE vms SET status = 'up' WHERE id = '{vm['id']}'")
        eng.call("PUT", vm["href"], {"memory_mib": 640})
        assert on(vm["id"])[0]["message"] == ("VM 'evvm' was updated by admin@internal: memory_mib; what cannot "
                                              "change while it runs waits for its next start"), on(vm["id"])
        run_sql(eng, f"UPDATE vms SET status = 'down' WHERE id = '{vm['id']}'")
        # Carol holds a role on the VM alone, Dan on its cluster.
        carol = eng.call("POST", "/api/users", {"name": "evcarol@internal", "password": "s3cret-pass"}, expect=201)
        dan = eng.call("POST", "/api/users", {"name": "evdan@internal", "password": "s3cret-pass"}, expect=201)
        for user, kind, obj in ((carol, "vm", vm), (dan, "cluster", cl)):
            eng.call("POST", "/api/permissions", {"role_id": roles["UserRole"], "object_type": kind,
                                                  "object_id": obj["id"], "user_id": user["id"]}, expect=201)
        ctok = eng.login("evcarol@internal", "s3cret-pass", set_token=False)
        dtok = eng.login("evdan@internal", "s3cret-pass", set_token=False)
        eng.call("DELETE", vm["href"], expect=204)
        assert on(vm["id"])[0]["message"] == "VM 'evvm' was removed by admin@internal"
        # After the removal its events are seen through its parent (Dan's
        # cluster) and by who held a role on the VM itself (Carol); Bob,
        # with nothing on that branch, sees none of them, not even by id.
        for t in (ctok, dtok):
            mine_now = on(vm["id"], t)
            assert [e["message"] for e in mine_now][:1] == ["VM 'evvm' was removed by admin@internal"], mine_now
            assert len(mine_now) == 5, mine_now  # created, three edits, removed
        assert on(vm["id"], tok) == []
        r = eng.request("GET", "/api/events", token=tok, params={"search": "message=*evvm*"})
        assert r.status == 200 and r.body == {"events": [], "total": 0}, r
        # Bob's VM removed by the administrator: Bob (above it) sees it go.
        eng.call("DELETE", bvm["href"], expect=204)
        assert [e["message"] for e in on(bvm["id"], tok)] == ["VM 'evbobvm' was removed by admin@internal",
                                                              "VM 'evbobvm' was created by evbob@internal"]
        assert on(bvm["id"], dtok) == [] and on(bvm["id"], ctok) == []
        # The cluster goes too: the VM's events move up to the data center,
        # still Carol's through her role on the VM, no longer Dan's (his
        # role is on the cluster, now gone: he sees the cluster's own).
        eng.call("DELETE", cl["href"], expect=204)
        assert len(on(vm["id"], ctok)) == 5 and on(vm["id"], tok) == [] and on(vm["id"], dtok) == []
        assert on(cl["id"], dtok)[0]["message"] == "cluster 'evcl' was removed by admin@internal"
        eng.call("DELETE", theirs["href"], expect=204)
        ev = on(theirs["id"])[0]
        assert ev["message"] == "data center 'evtheirs' was removed by admin@internal", ev
        assert ev["object_type"] == "datacenter", ev
        assert on(theirs["id"], tok) == [] and on(theirs["id"], ctok) == []


def test_events_long_poll(ctx):
    """GET /api/events?search=after=ID&wait=S holds an empty answer until a
    visible event arrives (woken by a create from another session) or the
    wait ends (200, empty); held polls take no HTTP worker (the engine has
    4): thirty of them leave other requests answered; a bad wait is a 400."""
    with Engine(ctx) as eng:
        lp = eng.call("POST", "/api/users", {"name": "evlp@internal", "password": "s3cret-pass"}, expect=201)
        other = eng.login("evlp@internal", "s3cret-pass", set_token=False)  # sees only his data center
        his = eng.create_dc("evlphis")
        role = next(r["id"] for r in eng.get("/api/roles", params={"max": 1000})["roles"]
                    if r["name"] == "DataCenterAdmin")
        eng.call("POST", "/api/permissions", {"role_id": role, "object_type": "datacenter", "object_id": his["id"],
                                              "user_id": lp["id"]}, expect=201)
        second = eng.login(set_token=False)  # another session of the administrator
        last = eng.get("/api/events", params={"max": 1})["events"][0]["id"]
        results = {}

        def poll(key, wait, token=None):
            kw = {} if token is None else {"token": token}
            t0 = time.monotonic()
            r = eng.request("GET", "/api/events", params={"search": f"after={last}", "wait": wait}, timeout=40, **kw)
            results[key] = (r, time.monotonic() - t0)

        held = [threading.Thread(target=poll, args=(i, 20)) for i in range(30)]
        held.append(threading.Thread(target=poll, args=("other", 2, other)))
        for t in held:
            t.start()
        time.sleep(1.0)
        assert not results, results  # nothing happened yet: all held
        # The engine's 4 HTTP workers are free: other requests are answered.
        assert eng.request("GET", "/api/datacenters", timeout=5).status == 200
        assert not results, results
        # A create from another session (a new connection, a new token) wakes them.
        eng.call("POST", "/api/datacenters", {"name": "evlpdc"}, token=second, expect=201)
        for t in held[:-1]:
            t.join(10)
        for i in range(30):
            r, took = results[i]
            assert r.status == 200, r
            assert [e["message"] for e in r.body["events"]] == [
                "data center 'evlpdc' was created by admin@internal"], r.body
            assert took < 15, took
        # The user who may not see it was not answered with it: his wait
        # ran out (200, empty), not before its 2 s.
        held[-1].join(10)
        r, took = results["other"]
        assert r.status == 200 and r.body == {"events": [], "total": 0}, r
        assert took >= 1.9, took
        # ... and is answered by one he may see (a cluster made in his data center).
        last = eng.get("/api/events", params={"max": 1})["events"][0]["id"]
        t = threading.Thread(target=poll, args=("his", 20, other))
        t.start()
        time.sleep(0.5)
        assert "his" not in results
        eng.call("POST", "/api/clusters", {"name": "evlpcl", "datacenter_id": his["id"]}, token=second, expect=201)
        t.join(10)
        r, took = results["his"]
        assert [e["message"] for e in r.body["events"]] == ["cluster 'evlpcl' was created by admin@internal"], r
        # Newer events already there: answered at once.
        r = eng.request("GET", "/api/events", params={"search": f"after={last}", "wait": 60}, timeout=5)
        assert r.status == 200 and r.body["total"] == 1, r
        for bad in ("61", "-1", "x", "1.5", ""):
            expect_fault(eng.request("GET", "/api/events", params={"search": f"after={last}", "wait": bad}), 400,
                         "wait must be an integer from 0 to 60")
        # Held polls at a stop: answered (empty) and the engine stops cleanly.
        t = threading.Thread(target=poll, args=("stop", 30))
        last = eng.get("/api/events", params={"max": 1})["events"][0]["id"]
        t.start()
        time.sleep(1.0)
        assert eng.stop() == 0, eng.log_tail(20)
        t.join(10)
        r, took = results["stop"]
        assert r.status == 200 and r.body == {"events": [], "total": 0} and took < 10, (r, took)
