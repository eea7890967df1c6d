"""vireo-engine REST API without VMs: authentication, inventory CRUD,
search and paging, hostile input, persistence across restarts
(docs/rest-api.md)."""

import json
import os
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

from harness.engine import ADMIN, REPO_ROOT, Engine, ensure_api_cert
from harness.context import one_backend

HEX64 = re.compile(r"^[0-9a-f]{64}$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def assert_fault(r, status, detail=None, what=""):
    """r has the status (or one of a tuple of them) and a
    {"fault": {"reason", "detail"}} body."""
    want = status if isinstance(status, tuple) else (status,)
    assert r.status in want, f"{what}: expected {status}, got {r}"
    f = (r.body or {}).get("fault") if isinstance(r.body, dict) else None
    assert isinstance(f, dict) and isinstance(f.get("reason"), str) and f["reason"], \
        f"{what}: no fault.reason in {r}"
    assert isinstance(f.get("detail"), str) and f["detail"], f"{what}: no fault.detail in {r}"
    if detail:
        assert detail.lower() in f["detail"].lower(), f"{what}: detail lacks {detail!r}: {r}"
    return f


def at_second_start():
    """Sleep until just after a wall-clock second boundary (the engine keeps
    time in whole seconds)."""
    time.sleep(1.02 - (time.time() % 1.0))


def q(s):
    return urllib.parse.quote(s, safe="")


# ------------------------------------------------------------------ auth

def test_login_logout_and_bad_tokens(ctx):
    with Engine(ctx, login=False) as eng:
        r = eng.request("POST", "/api/sso/token", {"grant_type": "password", "username": ADMIN,
                                                   "password": eng.admin_password}, token=None)
        assert r.status == 200, r
        assert HEX64.match(r.body["access_token"]), r.body
        assert r.body["token_type"] == "bearer" and r.body["expires_in"] == 3600, r.body
        tok1 = r.body["access_token"]
        # The OAuth2 form encoding works too.
        form = urllib.parse.urlencode({"grant_type": "password", "username": ADMIN,
                                       "password": eng.admin_password})
        r = eng.request("POST", "/api/sso/token", token=None, raw=form.encode(),
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status == 200, r
        tok2 = r.body["access_token"]
        assert tok2 != tok1

        assert eng.request("GET", "/api", token=tok1).status == 200
        assert eng.request("GET", "/api/datacenters", token=tok2).status == 200

        # Wrong password, unknown user: 401 and no token.
        r = eng.request("POST", "/api/sso/token", {"grant_type": "password", "username": ADMIN,
                                                   "password": "not-the-password"}, token=None)
        assert_fault(r, 401, what="wrong password")
        assert "access_token" not in r.body
        r = eng.request("POST", "/api/sso/token", {"grant_type": "password", "username": "nobody@internal",
                                                   "password": eng.admin_password}, token=None)
        assert_fault(r, 401, what="unknown user")
        # Malformed token requests are 400, not 401 or 500.
        for body, what in ((b"{", "malformed JSON"), (b"[]", "array"),
                           (json.dumps({"grant_type": "client_credentials", "username": ADMIN,
                                        "password": "x"}).encode(), "grant type"),
                           (json.dumps({"grant_type": "password", "username": ADMIN}).encode(),
                            "no password"),
                           (json.dumps({"grant_type": "password", "username": ADMIN,
                                        "password": 12345678}).encode(), "password not a string"),
                           (json.dumps({"grant_type": "password", "username": ADMIN,
                                        "password": "x", "extra": 1}).encode(), "unknown member")):
            assert_fault(eng.request("POST", "/api/sso/token", raw=body, token=None), 400, what=what)
        assert_fault(eng.request("GET", "/api/sso/token", token=None), 405, what="GET token")

        # Missing, malformed and unknown tokens.
        assert_fault(eng.request("GET", "/api/datacenters", token=None), 401, what="no token")
        bad_auth = ["Bearer", "Bearer ", "Bearer abc", "Bearer " + tok1.upper(),
                    "Bearer " + tok1 + "0", "Bearer " + tok1[:-1], "Bearer " + "g" * 64,
                    "Basic " + tok1, tok1, "Bearer " + "0" * 64, "Bearer " + "' OR 1=1 --" * 6]
        for h in bad_auth:
            r = eng.request("GET", "/api/datacenters", token=None, headers={"Authorization": h})
            assert_fault(r, 401, what=f"Authorization: {h!r}")
        # Even on unknown paths, authentication comes first (no probing).
        assert_fault(eng.request("GET", "/api/nosuch", token=None), 401, what="unauth unknown path")

        # Logout revokes exactly that token.
        r = eng.request("DELETE", "/api/sso/token", token=tok1)
        assert r.status == 204, r
        assert_fault(eng.request("GET", "/api", token=tok1), 401, "revoked", what="after logout")
        assert_fault(eng.request("DELETE", "/api/sso/token", token=tok1), 401, what="second logout")
        assert eng.request("GET", "/api", token=tok2).status == 200
        assert_fault(eng.request("DELETE", "/api/sso/token", token=None), 401, what="logout no token")
        # Events record who did what.
        eng.token = tok2
        msgs = [e["message"] for e in eng.events()]
        assert any("failed login" in m and "nobody@internal" in m for m in msgs), msgs
        assert any("logged out" in m for m in msgs), msgs
        assert not any(eng.admin_password in m for m in msgs), "password leaked into events"
        assert eng.admin_password not in eng.log_text(), "password leaked into the log"


def test_login_lockout(ctx):
    with Engine(ctx) as eng:
        user = "brute@internal"

        def attempt(u=user, pw="wrong-password"):
            return eng.request("POST", "/api/sso/token", {"grant_type": "password", "username": u,
                                                           "password": pw}, token=None)
        # Three failures in a row are answered 401 (the third lands early in
        # a wall-clock second so the 1 s lockout that follows is fully seen).
        assert_fault(attempt(), 401, what="failure 1")
        assert_fault(attempt(), 401, what="failure 2")
        at_second_start()
        assert_fault(attempt(), 401, what="failure 3")
        f = assert_fault(attempt(), 429, what="4th attempt right after 3 failures")
        assert "retry" in f["detail"], f
        # Other users are not affected: admin still logs in.
        eng.login()
        assert eng.request("GET", "/api").status == 200
        # After the lockout (2^0 = 1 s) the next failure is a 401 again, and
        # then the lockout doubles (2 s).
        time.sleep(2.1)
        at_second_start()
        assert_fault(attempt(), 401, what="attempt after the 1 s lockout")
        assert_fault(attempt(), 429, what="attempt right after the 4th failure")
        time.sleep(1.1)
        assert_fault(attempt(), 429, what="attempt 1 s into the 2 s lockout")
        time.sleep(1.5)
        assert_fault(attempt(), 401, what="attempt after the 2 s lockout")
        # A successful login resets the user's failure count.
        for _ in range(2):
            assert_fault(attempt(ADMIN), 401, what="admin wrong password")
        eng.login()
        assert_fault(attempt(ADMIN), 401, what="admin counter reset after a success")
        eng.login()
        msgs = [e["message"] for e in eng.events()]
        assert sum("failed login for 'brute@internal'" in m for m in msgs) == 5, msgs


def test_login_lockout_lasts_full_period(ctx):
    """'refused with 429 for 2^(n-3) seconds': also when the third failure
    happens late in a wall-clock second (the engine keeps whole seconds)."""
    with Engine(ctx) as eng:
        def attempt():
            return eng.request("POST", "/api/sso/token", {"grant_type": "password",
                                                           "username": "late@internal",
                                                           "password": "wrong-password"}, token=None)
        assert_fault(attempt(), 401, what="failure 1")
        assert_fault(attempt(), 401, what="failure 2")
        time.sleep((1.80 - time.time() % 1.0) % 1.0)
        assert_fault(attempt(), 401, what="failure 3")
        t3 = time.monotonic()
        time.sleep((1.05 - time.time() % 1.0) % 1.0)  # just into the next second
        r = attempt()
        since = time.monotonic() - t3
        assert since < 0.9, since
        assert_fault(r, 429, what=f"attempt {since:.2f} s after the 3rd failure (lockout 1 s)")


def test_token_expiry(ctx):
    with Engine(ctx, token_ttl_s=1, login=False) as eng:
        at_second_start()
        r = eng.request("POST", "/api/sso/token", {"grant_type": "password", "username": ADMIN,
                                                   "password": eng.admin_password}, token=None)
        assert r.status == 200 and r.body["expires_in"] == 1, r
        tok = r.body["access_token"]
        assert eng.request("GET", "/api", token=tok).status == 200
        time.sleep(2)
        assert_fault(eng.request("GET", "/api", token=tok), 401, "expired", what="expired token")
        assert_fault(eng.request("DELETE", "/api/sso/token", token=tok), 401, what="logout expired")
        eng.login()
        assert eng.request("GET", "/api/datacenters").status == 200
        # expires_in 1 means valid for 1 s, also for a login late in a second.
        time.sleep((1.85 - time.time() % 1.0) % 1.0)
        late = eng.login(set_token=False)
        t0 = time.monotonic()
        time.sleep((1.10 - time.time() % 1.0) % 1.0)
        r = eng.request("GET", "/api", token=late)
        age = time.monotonic() - t0
        assert age < 0.8, age
        assert r.status == 200, f"a token with expires_in 1 refused {age:.2f} s after login: {r}"


def test_first_start_needs_admin_password(ctx):
    for kw, message in (({"password_file": None}, "admin password"),
                        ({"admin_password": "short"}, "8+ characters")):
        eng = Engine(ctx, login=False, **kw)
        ok = False
        try:
            eng.start(wait=False)
            rc = eng.wait_exit(20)
            assert rc is not None and rc > 0, f"{kw}: engine exited with {rc}\n{eng.log_tail()}"
            assert message in eng.log_text(), eng.log_tail()
            ok = True
        finally:
            eng.close(ok=ok)


# ------------------------------------------------------------------ CRUD

def check_entity(ent, collection, name):
    assert UUID.match(ent["id"]), ent
    assert ent["href"] == f"/api/{collection}/{ent['id']}", ent
    assert ent["name"] == name, ent
    assert "description" in ent, ent


def test_datacenter_crud(ctx):
    with Engine(ctx) as eng:
        r = eng.request("POST", "/api/datacenters", {"name": "dc-a", "description": "first"})
        assert r.status == 201, r
        dc = r.body
        check_entity(dc, "datacenters", "dc-a")
        assert dc["description"] == "first"
        assert r.headers.get("location") == dc["href"], r.headers
        assert eng.get(dc["href"]) == dc
        lst = eng.list("datacenters")
        assert lst["total"] == 1 and lst["datacenters"] == [dc], lst
        # Duplicate name -> 409, nothing added.
        assert_fault(eng.request("POST", "/api/datacenters", {"name": "dc-a"}), 409,
                     what="duplicate DC")
        dc_b = eng.create_dc("dc-b")
        # PUT: rename, description; renaming onto a taken name -> 409.
        r = eng.request("PUT", dc["href"], {"name": "dc-a2", "description": "renamed"})
        assert r.status == 200 and r.body["name"] == "dc-a2" and r.body["description"] == "renamed", r
        assert r.body["id"] == dc["id"] and r.body["href"] == dc["href"], r
        r = eng.request("PUT", dc["href"], {"description": "only this"})
        assert r.status == 200 and r.body["name"] == "dc-a2" and r.body["description"] == "only this", r
        assert_fault(eng.request("PUT", dc["href"], {"name": "dc-b"}), 409, what="rename onto taken")
        assert eng.get(dc["href"])["name"] == "dc-a2"
        # Unknown ids.
        for method, body in (("GET", None), ("PUT", {"name": "zz"}), ("DELETE", None)):
            assert_fault(eng.request(method, "/api/datacenters/0b7a5a37-1111-4222-8333-444455556666",
                                     body), 404, what=f"{method} unknown DC")
        assert_fault(eng.request("GET", "/api/datacenters/" + q("' OR '1'='1")), 404,
                     what="SQL in id")
        assert_fault(eng.request("GET", "/api/nosuch"), 404, what="unknown collection")
        assert_fault(eng.request("GET", "/api/datacenters/x/y/z"), 404, what="too deep")
        assert_fault(eng.request("POST", dc["href"] + "/start"), 404, what="DC action")
        assert_fault(eng.request("PATCH", dc["href"], {"name": "x"}), 405, what="PATCH")
        assert_fault(eng.request("DELETE", "/api/datacenters"), 405, what="DELETE collection")
        # A DC with a cluster cannot go (409); empty, it can (204).
        cl = eng.create_cluster("cl-a", dc["id"])
        assert_fault(eng.request("DELETE", dc["href"]), 409, what="delete DC with cluster")
        assert eng.get(dc["href"])["id"] == dc["id"]
        r = eng.request("DELETE", dc_b["href"])
        assert r.status == 204 and not r.text, r
        assert_fault(eng.request("GET", dc_b["href"]), 404, what="deleted DC")
        assert_fault(eng.request("DELETE", dc_b["href"]), 404, what="delete twice")
        assert eng.request("DELETE", cl["href"]).status == 204
        assert eng.request("DELETE", dc["href"]).status == 204
        assert eng.list("datacenters") == {"datacenters": [], "total": 0}
        # A deleted name can be used again.
        eng.create_dc("dc-b")
        msgs = [e["message"] for e in eng.events()]
        assert any("data center 'dc-a' was created by admin@internal" in m for m in msgs), msgs
        assert any("data center 'dc-b' was removed by admin@internal" in m for m in msgs), msgs


def test_cluster_crud(ctx):
    problems = []  # contract deviations that do not stop the rest of the test
    with Engine(ctx) as eng:
        dc = eng.create_dc("dc1")
        dc2 = eng.create_dc("dc2")
        r = eng.request("POST", "/api/clusters", {"name": "cl1", "datacenter_id": dc["id"]})
        assert r.status == 201 and r.headers.get("location") == r.body["href"], r
        cl = r.body
        check_entity(cl, "clusters", "cl1")
        assert cl["datacenter_id"] == dc["id"] and cl["cpu_type"] == "qemu64" and \
            cl["virt_mode"] == "any", cl
        # The read-only `datacenter` link of the contract.
        link = cl.get("datacenter")
        if not (link == dc["href"] or isinstance(link, dict) and
                (link.get("id"), link.get("href")) == (dc["id"], dc["href"])):
            problems.append(f"cluster lacks the read-only 'datacenter' link: {cl}")
        cl2 = eng.create_cluster("cl2", dc["id"], cpu_type="Haswell-noTSX", virt_mode="kvm",
                                 description="fast")
        assert (cl2["cpu_type"], cl2["virt_mode"], cl2["description"]) == \
            ("Haswell-noTSX", "kvm", "fast"), cl2
        assert eng.get(cl["href"]) == cl
        assert_fault(eng.request("POST", "/api/clusters", {"name": "cl1", "datacenter_id": dc2["id"]}),
                     409, what="duplicate cluster name")
        assert_fault(eng.request("POST", "/api/clusters", {"name": "cl9"}), 400, "datacenter_id",
                     what="no DC")
        assert_fault(eng.request("POST", "/api/clusters", {"name": "cl9",
                                                           "datacenter_id": "nope"}), 400,
                     what="unknown DC")
        assert_fault(eng.request("POST", "/api/clusters", {"name": "cl9", "datacenter_id": dc["id"],
                                                           "virt_mode": "xen"}), 400, what="virt_mode")
        assert_fault(eng.request("POST", "/api/clusters", {"name": "cl9", "datacenter_id": dc["id"],
                                                           "cpu_type": "host'; --"}), 400,
                     what="cpu_type")
        # PUT
        r = eng.request("PUT", cl["href"], {"virt_mode": "kvm", "cpu_type": "Nehalem"})
        assert r.status == 200 and r.body["virt_mode"] == "kvm" and r.body["cpu_type"] == "Nehalem", r
        assert r.body["name"] == "cl1" and r.body["datacenter_id"] == dc["id"], r
        assert_fault(eng.request("PUT", cl["href"], {"datacenter_id": dc2["id"]}), 409,
                     what="move cluster to another DC")
        assert eng.request("PUT", cl["href"], {"datacenter_id": dc["id"]}).status == 200
        assert_fault(eng.request("PUT", cl["href"], {"name": "cl2"}), 409, what="rename onto taken")
        assert_fault(eng.request("PUT", cl["href"], {"virt_mode": 1}), 400, what="virt_mode type")
        assert eng.get(cl["href"])["name"] == "cl1"
        # Its migration policy: the defaults shown, a given one filled in,
        # bad ones refused naming the member, nothing changed.
        default_mig = {"policy": "minimal_downtime", "bandwidth_mibps": 52, "max_downtime_ms": 300,
                       "convergence_step_s": 15, "stall_timeout_s": 240, "max_outgoing": 2, "max_incoming": 2,
                       "auto_converge": None, "compression": False}
        assert cl["migration_policy"] == default_mig, cl
        r = eng.request("PUT", cl["href"], {"migration_policy": {"policy": "post_copy", "max_downtime_ms": 800}})
        assert r.status == 200 and r.body["migration_policy"] == dict(default_mig, policy="post_copy",
                                                                      max_downtime_ms=800), r
        for bad, member in [({"policy": "fast"}, "policy"), ({"bandwidth_mibps": 0}, "bandwidth_mibps"),
                            ({"max_downtime_ms": "1"}, "max_downtime_ms"), ({"compression": 1}, "compression"),
                            ({"auto_converge": "yes"}, "auto_converge"), ({"speed": 1}, "speed"),
                            ({"convergence_step_s": 0}, "convergence_step_s"),
                            ({"stall_timeout_s": 3601}, "stall_timeout_s"),
                            ({"max_outgoing": 0}, "max_outgoing must be an integer in 1..64"),
                            ({"max_outgoing": 65}, "max_outgoing"),
                            ({"max_incoming": 0}, "max_incoming must be an integer in 1..64"),
                            ({"max_incoming": True}, "max_incoming"),
                            ("post_copy", "migration_policy")]:
            assert_fault(eng.request("PUT", cl["href"], {"migration_policy": bad}), 400, member, what=member)
        assert eng.get(cl["href"])["migration_policy"]["max_downtime_ms"] == 800
        # A cluster with a VM cannot go; search by datacenter name.
        vm = eng.create_vm("vm-in-cl1", cl["id"])
        assert_fault(eng.request("DELETE", cl["href"]), 409, what="delete cluster with VM")
        got = eng.list("clusters", search="datacenter=dc1")
        assert [c["name"] for c in got["clusters"]] == ["cl1", "cl2"] and got["total"] == 2, got
        assert eng.list("clusters", search="datacenter=dc2")["total"] == 0
        assert eng.request("DELETE", vm["href"]).status == 204
        assert eng.request("DELETE", cl["href"]).status == 204
        assert_fault(eng.request("GET", cl["href"]), 404, what="deleted cluster")
        assert_fault(eng.request("PUT", cl["href"], {"name": "x"}), 404, what="PUT deleted cluster")
    assert not problems, "contract deviations:\n  " + "\n  ".join(problems)


# ------------------------------------------------------------------ lists

def names(lst, coll):
    return [x["name"] for x in lst[coll]]


def test_search_and_paging(ctx):
    # grace 1 s: the ghost host below is searched for once it is nonresponsive
    with Engine(ctx, grace_s=1) as eng:
        made = ["web1", "web2", "web10", "xweb", "db1", "a_b", "axb", "a%b"]
        for n in made:
            if "%" in n:
                continue  # not a valid name; see below
            eng.create_dc(n)
        made.remove("a%b")
        full = eng.list("datacenters")
        assert full["total"] == len(made)
        # Stable order: by name (then id).
        assert names(full, "datacenters") == sorted(made), names(full, "datacenters")

        def search(s, coll="datacenters", **kw):
            r = eng.request("GET", f"/api/{coll}", params=dict(search=s, **kw))
            assert r.status == 200, f"search {s!r}: {r}"
            assert r.body["total"] == len(r.body[coll]) or "max" in kw or "page" in kw, r.body
            return r.body

        assert names(search("name=web*"), "datacenters") == ["web1", "web10", "web2"]
        assert names(search("name=web1"), "datacenters") == ["web1"]
        assert names(search("name=*web*"), "datacenters") == ["web1", "web10", "web2", "xweb"]
        assert names(search("name=*1"), "datacenters") == ["db1", "web1"]
        # '_' and '%' are not wildcards.
        assert names(search("name=a_b"), "datacenters") == ["a_b"]
        assert names(search("name=a%b"), "datacenters") == []
        assert names(search("name=a*b"), "datacenters") == ["a_b", "axb"]
        assert search("name=nothing*")["total"] == 0
        # Quotes and SQL in a search value are just text.
        for s in ("name=x' OR '1'='1", "name=*' OR 1=1 --", "name=\"web1\"",
                  "name=web1'; DROP TABLE datacenters; --", "name=*\\", "name=*); DELETE FROM vms; --"):
            got = search(s)
            assert got["total"] == 0 and got["datacenters"] == [], (s, got)
        # Bad clauses are 400s.
        for s in ("web1", "nosuch=1", "name", "name=web1 and bogus=2", "name=web1 and ",
                  "status=up", "name=a and name=b and name=c and name=d and name=e and name=f "
                  "and name=g and name=h and name=i", "x" * 1001):
            r = eng.request("GET", "/api/datacenters", params={"search": s})
            assert_fault(r, 400, what=f"search {s[:60]!r}")
        assert names(eng.list("datacenters"), "datacenters") == sorted(made)

        # Paging: max/page, total always the full count, pages concatenate to
        # the full ordered list.
        pages = []
        for page in range(1, 5):
            got = eng.list("datacenters", max=3, page=page)
            assert got["total"] == len(made), got
            pages += names(got, "datacenters")
            assert len(got["datacenters"]) == max(0, min(3, len(made) - 3 * (page - 1))), got
        assert pages == sorted(made), pages
        got = eng.list("datacenters", search="name=web*", max=2, page=2)
        assert got["total"] == 3 and names(got, "datacenters") == ["web2"], got
        assert eng.list("datacenters", max=1000)["total"] == len(made)
        assert eng.list("datacenters", page=1000000)["datacenters"] == []
        for params in ({"max": "0"}, {"max": "1001"}, {"max": "-1"}, {"max": "abc"},
                       {"max": "5x"}, {"max": ""}, {"max": "99999999999999999999999"},
                       {"page": "0"}, {"page": "-3"}, {"page": "1.5"}, {"page": "two"},
                       {"page": "1000001"}):
            assert_fault(eng.request("GET", "/api/datacenters", params=params), 400,
                         what=f"paging {params}")
        # Pages are stable across calls.
        dc = eng.create_dc("dcx")
        cls = [eng.create_cluster(f"c{i}", dc["id"]) for i in range(5)]
        order = names(eng.list("clusters"), "clusters")
        assert order == [f"c{i}" for i in range(5)]
        for _ in range(3):
            assert [c["id"] for c in eng.list("clusters", max=2, page=2)["clusters"]] == \
                [cls[2]["id"], cls[3]["id"]]

        # VMs and hosts: status (case-insensitive), cluster, host clauses.
        vm_a = eng.create_vm("vm-a", cls[0]["id"])
        eng.create_vm("vm-b", cls[1]["id"])
        assert names(search("status=DOWN", "vms"), "vms") == ["vm-a", "vm-b"]
        assert names(search("status=down and name=*-a", "vms"), "vms") == ["vm-a"]
        assert names(search("cluster=c1", "vms"), "vms") == ["vm-b"]
        assert search("status=up", "vms")["total"] == 0
        assert search("host=*", "vms")["total"] == 0
        assert search("status=down' OR '1'='1", "vms")["total"] == 0
        # A host nobody answers for (port 1 on loopback): installing ->
        # connecting (first failed poll) -> nonresponsive after the grace.
        h = eng.create_host("ghost", "127.0.0.1", cls[0]["id"], port=1)
        assert h["status"] in ("installing", "connecting"), h
        eng.wait_status("hosts", h["id"], "connecting", timeout=10)
        assert names(search("status=Connecting", "hosts"), "hosts") == ["ghost"]
        eng.wait_status("hosts", h["id"], "nonresponsive", timeout=eng.grace_s + 10)
        assert names(search("status=NONRESPONSIVE and cluster=c0", "hosts"), "hosts") == ["ghost"]
        assert search("status=up", "hosts")["total"] == 0
        assert eng.get(vm_a["href"])["status"] == "down"


def test_concurrent_requests(ctx):
    with Engine(ctx) as eng:
        def post_dc(name):
            return eng.request("POST", "/api/datacenters", {"name": name}).status
        # The same name from 16 clients at once: exactly one wins.
        with ThreadPoolExecutor(16) as pool:
            codes = list(pool.map(post_dc, ["same"] * 16))
        assert sorted(codes) == [201] + [409] * 15, codes
        # Different names at once: all created, none lost.
        with ThreadPoolExecutor(16) as pool:
            codes = list(pool.map(post_dc, [f"dc{i:02d}" for i in range(48)]))
        assert codes == [201] * 48, codes
        got = eng.list("datacenters", max=1000)
        assert got["total"] == 49 and len({d["id"] for d in got["datacenters"]}) == 49, got["total"]
        # Reads and logins in parallel with writes.
        def mixed(i):
            if i % 3 == 0:
                return eng.request("GET", "/api/datacenters", params={"search": "name=dc*"}).status
            if i % 3 == 1:
                return 200 if eng.login(set_token=False) else 0
            return eng.request("PUT", got["datacenters"][i]["href"],
                               {"description": f"d{i}"}).status
        with ThreadPoolExecutor(12) as pool:
            codes = list(pool.map(mixed, range(45)))
        assert codes == [200] * 45, codes


# ------------------------------------------------------------------ hostile input

def test_bad_input_battery(ctx):
    with Engine(ctx) as eng:
        dc = eng.create_dc("dc1")
        cl = eng.create_cluster("cl1", dc["id"])
        cl_other = eng.create_cluster("cl2", dc["id"])
        vm = eng.create_vm("vm1", cl["id"])
        collections = ("datacenters", "clusters", "hosts", "vms")

        def snapshot():
            return {c: eng.list(c, max=1000) for c in collections}
        before = snapshot()

        wrong = []  # every mismatch, reported together at the end

        def bad(method, path, body=None, raw=None, status=400, what=""):
            r = eng.request(method, path, body, raw=raw)
            try:
                assert_fault(r, status, what=what or f"{method} {path} {raw or body!r}"[:200])
            except AssertionError as e:
                wrong.append(str(e)[:400])
            assert eng.request("GET", "/api").status == 200, "engine stopped answering"

        dcs = "/api/datacenters"
        # Not JSON, not an object, the wrong JSON.
        for raw in (b"", b"{", b"{\"name\": ", b"{'name': 'x'}", b"name=x", b"null", b"42",
                    b"\"dc\"", b"[]", b"[{\"name\": \"x\"}]", b"{\"name\": \"x\",}",
                    b"{\"name\": \"a\", \"name\": \"b\"}", b"\xff\xfe{\"name\": \"x\"}",
                    b"{\"name\": \"\xc3\x28\"}", b"{\"name\": \"x\"} trailing",
                    b"[" * 100000 + b"]" * 100000, b"{\"a\":" * 50000 + b"1" + b"}" * 50000):
            bad("POST", dcs, raw=raw, what=f"raw body {raw[:40]!r}")
            bad("PUT", dc["href"], raw=raw, what=f"PUT raw body {raw[:40]!r}")
        # Wrong types, unknown members, missing members.
        for body in ({"name": 5}, {"name": None}, {"name": ["dc"]}, {"name": {"x": 1}},
                     {"name": True}, {"description": "no name"}, {"name": "ok", "bogus": 1},
                     {"name": "ok", "id": "0b7a5a37-1111-4222-8333-444455556666"},
                     {"name": "ok", "href": "/api/x"}, {"name": "ok", "description": 3}):
            bad("POST", dcs, body)
        # Names: quotes, markup, SQL, shell, control characters, length.
        for name in ("", "a\"b", "a'b", "<script>alert(1)</script>", "x'; DROP TABLE vms; --",
                     "a b", "a/b", "../etc", "$(reboot)", "a;b", "-lead", ".hidden", "a\nb",
                     "a\u0000b", "naïve", "x" * 65, "a\\b", "a`b", "%00", "a%b"):
            bad("POST", dcs, {"name": name}, what=f"DC name {name[:20]!r}")
            bad("PUT", dc["href"], {"name": name}, what=f"PUT DC name {name[:20]!r}")
            bad("POST", "/api/clusters", {"name": name, "datacenter_id": dc["id"]},
                what=f"cluster name {name[:20]!r}")
            bad("POST", "/api/vms", {"name": name, "cluster_id": cl["id"], "memory_mib": 256},
                what=f"VM name {name[:20]!r}")
            bad("POST", "/api/hosts", {"name": name, "cluster_id": cl["id"], "address": "10.0.0.1"},
                what=f"host name {name[:20]!r}")
        # Clusters.
        for body in ({"name": "c", "datacenter_id": 7}, {"name": "c", "datacenter_id": dc["id"],
                                                          "virt_mode": "KVM "},
                     {"name": "c", "datacenter_id": dc["id"], "cpu_type": ""},
                     {"name": "c", "datacenter_id": dc["id"], "cpu_type": "a b"},
                     {"name": "c", "datacenter_id": dc["id"], "cpu_type": "x" * 65},
                     {"name": "c", "datacenter_id": "' OR 1=1 --"}):
            bad("POST", "/api/clusters", body)
        # Hosts.
        hb = {"name": "h", "cluster_id": cl["id"], "address": "10.0.0.1"}
        for over in ({"address": "10.0.0.1; rm -rf /"}, {"address": ""}, {"address": "a b"},
                     {"address": "x" * 300}, {"address": 10}, {"port": 0}, {"port": 65536},
                     {"port": -1}, {"port": "54321"}, {"port": 1.5}, {"cluster_id": "nope"},
                     {"status": "up"}, {"capabilities": {}}):
            bad("POST", "/api/hosts", {**hb, **over}, what=f"host {over}")
        # VMs.
        vb = {"name": "v", "cluster_id": cl["id"], "memory_mib": 256}
        for over in ({"memory_mib": "256"}, {"memory_mib": 1.5}, {"memory_mib": 0},
                     {"memory_mib": 15}, {"memory_mib": -256}, {"memory_mib": 2 ** 63},
                     {"memory_mib": None}, {"vcpus": 0}, {"vcpus": 241}, {"vcpus": "2"},
                     {"max_vcpus": 0}, {"serial_console": "yes"}, {"vnc": 1},
                     {"boot": "vmlinuz"}, {"boot": {"kernel": "/k", "root": "/dev/sda"}},
                     {"boot": {"initrd": "/i"}}, {"boot": {"kernel": "/k", "cmdline": "x" * 2049}},
                     {"boot": {"order": ["floppy"]}}, {"boot": {"order": ["hd"] * 4}},
                     {"boot": {"kernel": "k"}},
                     {"disks": {"path": "/x"}}, {"disks": ["/x"]}, {"disks": [{}]},
                     {"disks": [{"path": "relative.img"}]}, {"disks": [{"path": 5}]},
                     {"disks": [{"path": "/x", "evil": 1}]},
                     {"disks": [{"path": "/x"}] * 29},
                     # The agent's own disk rules, applied before anything is stored.
                     {"disks": [{"path": "/x", "cache": "bogus"}]},
                     {"disks": [{"path": "/x", "cache": "writeback", "io": "native"}]},
                     {"disks": [{"path": "/x", "device": "cdrom"}]},
                     {"disks": [{"path": "/x", "serial": "has space"}]},
                     {"disks": [{"path": "/x", "target": "sda"}]},
                     {"disks": [{"path": "/x", "target": "vdb"}, {"path": "/y", "target": "vdb"}]},
                     {"disks": [{"path": "/x", "iotune": {"total_iops_sec": 5, "read_iops_sec": 1}}]},
                     {"disks": [{"path": "/x", "address": {"type": "pci", "slot": "0x05"}}]},
                     {"disks": [{"path": "/x\n"}]},
                     {"disks": [{"path": "/x", "bus": "ide"}] * 5},
                     {"nics": [{"model": "ne2k"}]}, {"nics": [{"bridge": "a-very-long-bridge-name"}]},
                     {"nics": {}}, {"nics": [1]}, {"nics": [{"mac": "52:54:00:00:00:01"}]},
                     {"nics": [{"bogus": 1}]}, {"nics": [{}] * 17},
                     {"cluster_id": "nope"}, {"cluster_id": None}, {"status": "up"},
                     {"host_id": "x"}, {"devices": []}):
            bad("POST", "/api/vms", {**vb, **over}, what=f"VM {str(over)[:60]}")
        for over in ({"memory_mib": "512"}, {"vcpus": 0}, {"name": "x'; DROP TABLE vms; --"},
                     {"status": "up"}, {"host_id": "x"}, {"disks": [{"path": "rel"}]}):
            bad("PUT", vm["href"], over, what=f"PUT VM {over}")
        bad("PUT", vm["href"], {"cluster_id": cl_other["id"]}, status=(400, 409),
            what="PUT VM to another cluster")
        # Search strings with quotes/SQL and bad paging are 400 or empty.
        for s in ("name='; DROP TABLE vms; --", "name=\" OR \"\"=\"", "name=*' UNION SELECT "
                  "password_hash AS name FROM users --"):
            r = eng.request("GET", "/api/vms", params={"search": s})
            assert r.status == 200 and r.body["total"] == 0, (s, r)
        for params in ({"search": "password_hash=x"}, {"search": "id=x' OR 1=1 --"},
                       {"search": "1=1"}, {"max": "1; DROP TABLE vms"},
                       {"page": "1 OR 1=1"}):
            r = eng.request("GET", "/api/vms", params=params)
            assert_fault(r, 400, what=f"list params {params}")
        # Bodies too large: 413, and the connection is still answered.
        big = b"{\"name\": \"big\", \"description\": \"" + b"x" * (2 << 20) + b"\"}"
        bad("POST", dcs, raw=big, status=413, what="2 MiB body")
        bad("PUT", dc["href"], raw=big, status=413, what="2 MiB PUT body")
        over = b"{\"name\": \"big\"}" + b" " * ((1 << 20) + 1 - 15)
        assert len(over) == (1 << 20) + 1
        bad("POST", dcs, raw=over, status=413, what="1 MiB + 1 byte body")
        # Exactly 1 MiB is within the limit.
        exact = b"{\"name\": \"big1m\"}" + b" " * ((1 << 20) - 17)
        assert len(exact) == 1 << 20
        r = eng.request("POST", dcs, raw=exact)
        assert r.status == 201, f"a body of exactly 1 MiB was refused: {r}"
        assert eng.request("DELETE", r.body["href"]).status == 204
        # Free text is stored verbatim (not interpreted, not mangled).
        for desc in ("x'; DROP TABLE vms; --", "<script>alert(\"x\")</script>", "a\"b\\c",
                     "naïve ✓ 漢字", "%s%n%x"):
            r = eng.request("PUT", dc["href"], {"description": desc})
            assert r.status == 200 and r.body["description"] == desc, (desc, r)
            assert eng.get(dc["href"])["description"] == desc
        eng.call("PUT", dc["href"], {"description": ""})
        before["datacenters"]["datacenters"][0]["description"] = ""
        # Nothing changed, nothing leaked, the engine is alive.
        after = snapshot()
        assert not wrong, f"{len(wrong)} bad requests not answered as expected:\n  " + \
            "\n  ".join(wrong) + ("" if after == before else "\nand the state changed")
        assert after == before, f"state changed by bad input:\nbefore {before}\nafter {after}"
        assert "password_hash" not in json.dumps(after)
        assert eng.request("GET", "/api").status == 200
        # Still fully usable.
        d2 = eng.create_dc("dc2")
        assert eng.request("DELETE", d2["href"]).status == 204


# ------------------------------------------------------------------ VMs without hosts

def vm_nics(vm, problems):
    """The VM's NICs with their MACs: nics[] per the contract; if the engine
    only has them inside another member, note that and use those."""
    if isinstance(vm.get("nics"), list):
        return vm["nics"]
    problems.append(f"VM entity has no top-level nics[] (contract: read-only nics[].mac); "
                    f"members: {sorted(vm)}")
    return (vm.get("spec") or {}).get("nics") or []


def test_vm_definitions_and_mac_pool(ctx):
    problems = []  # contract deviations that do not stop the rest of the test
    with Engine(ctx) as eng:
        dc = eng.create_dc("dc1")
        cl = eng.create_cluster("cl1", dc["id"])
        spec = ctx.vm_spec()
        r = eng.request("POST", "/api/vms", {
            "name": "vm1", "cluster_id": cl["id"], "memory_mib": 256, "vcpus": 2,
            "description": "two nics", "boot": spec["boot"], "disks": spec["disks"],
            "nics": [{}, {"model": "e1000"}]})
        assert r.status == 201 and r.headers.get("location") == r.body["href"], r
        vm = r.body
        check_entity(vm, "vms", "vm1")
        assert (vm["status"], vm["host_id"], vm["memory_mib"], vm["vcpus"], vm["cluster_id"]) == \
            ("down", None, 256, 2, cl["id"]), vm
        # MACs come from the engine's pool (56:6f:...), unique.
        nics = vm_nics(vm, problems)
        assert len(nics) == 2, vm
        macs = [n.get("mac") for n in nics]
        assert all(re.match(r"^56:6f(:[0-9a-f]{2}){4}$", m or "") for m in macs), macs
        assert nics[1].get("model") == "e1000", nics
        more = [eng.create_vm(f"m{i}", cl["id"], nics=[{}, {}, {}]) for i in range(5)]
        allmacs = macs + [n["mac"] for v in more for n in vm_nics(v, [])]
        assert len(set(allmacs)) == len(allmacs) == 17, allmacs
        # Explicit disk targets are honoured before automatic ones, as on the agents.
        r = eng.request("POST", "/api/vms", {"name": "targets", "cluster_id": cl["id"], "memory_mib": 256,
                                             "disks": [{"path": "/a"}, {"path": "/b", "target": "vda"}]})
        assert r.status == 201, r
        # Boot order, like the agents take it.
        r = eng.request("POST", "/api/vms", {"name": "netboot", "cluster_id": cl["id"],
                                             "memory_mib": 256, "boot": {"order": ["network", "hd"]}})
        assert r.status == 201 and r.body["boot"] == {"order": ["network", "hd"]}, r
        # Every disk option the agents take is accepted and kept.
        rich = {"path": "/var/tmp/rich.img", "bus": "virtio-scsi", "cache": "writeback",
                "io": "threads", "serial": "RICH-1", "target": "sdb",
                "iotune": {"read_iops_sec": 100, "write_bytes_sec": 1 << 20}}
        r = eng.request("POST", "/api/vms", {"name": "rich", "cluster_id": cl["id"],
                                             "memory_mib": 256, "disks": [rich]})
        assert r.status == 201 and r.body["disks"] == [rich], r
        # The definition is kept as given (create members are entity members).
        for member in ("boot", "disks"):
            if vm.get(member) != spec[member]:
                problems.append(f"VM entity member {member!r} is {vm.get(member)!r}, "
                                f"created with {spec[member]!r}")
        assert_fault(eng.request("POST", "/api/vms", {"name": "vm1", "cluster_id": cl["id"],
                                                      "memory_mib": 128}), 409, what="duplicate VM")
        # PUT while down: memory, vcpus, description.
        r = eng.request("PUT", vm["href"], {"memory_mib": 512, "vcpus": 1, "description": "d"})
        assert r.status == 200 and (r.body["memory_mib"], r.body["vcpus"]) == (512, 1), r
        assert vm_nics(r.body, []) == nics, "PUT must keep the MACs"
        # "PUT accepts the same members as POST (all optional)".
        new_disks = spec["disks"] + [{"path": "/var/tmp/extra.img", "readonly": True}]
        r = eng.request("PUT", vm["href"], {"disks": new_disks, "serial_console": True,
                                            "max_vcpus": 2})
        if r.status != 200:
            problems.append(f"PUT of POST members (disks, serial_console, max_vcpus) on a down "
                            f"VM refused: {r}")
        # Actions on a VM that is not running: 409.
        for action in ("stop", "shutdown", "reboot", "pause", "resume"):
            assert_fault(eng.request("POST", f"{vm['href']}/{action}"), 409, what=action)
        assert_fault(eng.request("POST", f"{vm['href']}/explode"), 404, what="unknown action")
        assert_fault(eng.request("GET", f"{vm['href']}/start"), 405, what="GET action")
        # Start with no host: accepted (202 + job), the job fails, the VM is
        # down again and an error event explains why.
        r = eng.request("POST", f"{vm['href']}/start")
        assert r.status == 202, r
        job = r.body["job"]
        assert job["href"] == f"/api/jobs/{job['id']}" and r.headers.get("location") == job["href"], r
        j = eng.wait_job(job["id"], timeout=20)
        assert j["status"] == "failed" and "no host" in j["detail"], j
        assert (j["action"], j["object_type"], j["object_id"]) == ("start", "vm", vm["id"]), j
        got = eng.wait_status("vms", vm["id"], "down", timeout=10)
        assert got["host_id"] is None, got
        assert eng.find_events("cannot start VM 'vm1'", vm["id"]), eng.events()[:10]
        assert_fault(eng.request("GET", "/api/jobs/0b7a5a37-1111-4222-8333-444455556666"), 404,
                     what="unknown job")
        jobs = eng.get("/api/jobs")["jobs"]
        assert any(x["id"] == job["id"] for x in jobs), jobs
        # Delete frees the name and the MACs.
        assert eng.request("DELETE", vm["href"]).status == 204
        assert_fault(eng.request("GET", vm["href"]), 404, what="deleted VM")
        eng.create_vm("vm1", cl["id"])
    assert not problems, "contract deviations:\n  " + "\n  ".join(problems)


# ------------------------------------------------------------------ agents the engine must not trust

class FakeAgent:
    """A TLS server speaking the agent's framing (4-byte length + JSON-RPC)
    on 127.0.0.1, to see what the engine does with odd or false agents.
    mode: ok (answers like a small host), silent (accepts TCP, never
    speaks TLS), malformed (VM.list answers a string), drip (answers the
    first call one byte a second)."""

    CAPS = {"hostname": "fake", "virt_mode": "kvm", "default_domain_type": "kvm",
            "cpu_model": "fake", "cpu_flags": [], "numa_nodes": 1, "memory_kib": 8 << 20,
            "cpu_topology": {"sockets": 1, "cores_per_socket": 4, "threads_per_core": 1,
                             "cpus": 4, "mhz": 2000}, "max_vcpus": 240, "machine_types": ["pc"],
            "nics": []}
    STATS = {"cpu_percent": 1.0, "memory": {"total_kib": 8 << 20, "free_kib": 7 << 20,
                                            "available_kib": 7 << 20, "used_by_vms_kib": 0},
             "ksm": {"running": False, "pages_shared": 0, "pages_sharing": 0},
             "load_average": [0, 0, 0], "nics": [], "vm_count": 0, "uptime_s": 1}

    def __init__(self, cert=None, key=None, ca=None, mode="ok"):
        self.mode = mode
        self.calls, self.peers, self.handshake_errors, self.held = [], [], [], []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.3)
        self.port = self.sock.getsockname()[1]
        self.ctx = None
        if cert:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(cert, key)
            if ca:
                self.ctx.verify_mode = ssl.CERT_REQUIRED
                self.ctx.load_verify_locations(ca)
        self.stopping = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            if self.mode == "silent":
                self.held.append(conn)
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _recv(self, tls, n):
        buf = b""
        while len(buf) < n:
            chunk = tls.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("closed")
            buf += chunk
        return buf

    def _serve(self, conn):
        conn.settimeout(30)
        try:
            tls = self.ctx.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.handshake_errors.append(str(e))
            conn.close()
            return
        cert = tls.getpeercert() or {}
        self.peers.append(dict(x[0] for x in cert.get("subject", ())).get("commonName"))
        try:
            while not self.stopping:
                (n,) = struct.unpack(">I", self._recv(tls, 4))
                msg = json.loads(self._recv(tls, n))
                self.calls.append(msg.get("method"))
                out = json.dumps(self._reply(msg)).encode()
                if self.mode == "drip":
                    tls.sendall(struct.pack(">I", len(out) + 1000))
                    for b in out:
                        if self.stopping:
                            return
                        tls.sendall(bytes([b]))
                        time.sleep(1)
                    return
                tls.sendall(struct.pack(">I", len(out)) + out)
        except (OSError, ValueError, ConnectionError):
            pass
        finally:
            tls.close()

    def _reply(self, msg):
        m = msg.get("method")
        result = {"Host.getCapabilities": self.CAPS, "Host.getStats": self.STATS,
                  "VM.list": {"vms": "not a list" if self.mode == "malformed" else []}}.get(m)
        if result is None:
            return {"jsonrpc": "2.0", "id": msg.get("id"),
                    "error": {"code": -32601, "message": f"no method {m}"}}
        return {"jsonrpc": "2.0", "id": msg.get("id"), "result": result}

    def close(self):
        self.stopping = True
        self.thread.join(2)
        for c in self.held:
            c.close()
        self.sock.close()


@one_backend
def test_agent_identity_and_bad_agents(ctx):
    pki = ctx.hs.pki_dir
    rogue = tempfile.mkdtemp(prefix="vireo-rogue-", dir="/var/tmp")
    fakes = {}
    try:
        # A CA of its own, with a leaf that matches the address perfectly.
        env = dict(os.environ, PKI_CA_CN="Vireo Impostor CA")
        for args in (["init", rogue], ["issue", rogue, "impostor", "--ip", "127.0.0.1"]):
            subprocess.run(["bash", os.path.join(REPO_ROOT, "scripts", "pki")] + args, env=env,
                           check=True, capture_output=True, timeout=120)
        api_crt, api_key = ensure_api_cert(pki)
        fakes = {
            # The control: signed by the engine's CA, SAN IP 127.0.0.1.
            "good": FakeAgent(api_crt, api_key, ca=os.path.join(pki, "ca.crt")),
            # Signed by the right CA but for another address (vh0).
            "wrongname": FakeAgent(os.path.join(pki, "vh0.crt"), os.path.join(pki, "vh0.key")),
            # Right address, wrong CA.
            "rogueca": FakeAgent(os.path.join(rogue, "impostor.crt"),
                                 os.path.join(rogue, "impostor.key")),
            "silent": FakeAgent(mode="silent"),
            "malformed": FakeAgent(api_crt, api_key, mode="malformed"),
            "drip": FakeAgent(api_crt, api_key, mode="drip"),
        }
        with Engine(ctx) as eng:
            dc = eng.create_dc("dc1")
            cl = eng.create_cluster("cl1", dc["id"])
            hosts = {n: eng.create_host(f"fake-{n}", "127.0.0.1", cl["id"], port=f.port)
                     for n, f in fakes.items()}
            good = eng.wait_status("hosts", hosts["good"]["id"], "up", timeout=20)
            assert good["capabilities"]["hostname"] == "fake", good
            # The engine presented its client certificate (CN=engine).
            assert fakes["good"].peers and set(fakes["good"].peers) == {"engine"}, fakes["good"].peers
            assert "Host.getStats" in fakes["good"].calls and "VM.list" in fakes["good"].calls
            slow = []
            for n in ("wrongname", "rogueca", "silent", "malformed", "drip"):
                h = eng.wait_status("hosts", hosts[n]["id"], "nonresponsive",
                                    timeout=eng.grace_s + 3 * eng.agent_timeout_s + 15)
                assert h["status_detail"], h
                assert h.get("capabilities") in (None, {}), (n, h)
                t0 = time.monotonic()
                assert eng.request("GET", "/api/hosts").status == 200
                slow.append(time.monotonic() - t0)
            # Impostors got no RPC at all: the handshake failed on the
            # engine's side before a single request was sent.
            for n in ("wrongname", "rogueca"):
                assert fakes[n].calls == [], (n, fakes[n].calls)
                assert "certificate" in eng.host(hosts[n]["id"])["status_detail"], \
                    eng.host(hosts[n]["id"])
            assert fakes["malformed"].calls, "the malformed agent was never asked"
            assert max(slow) < 2, f"API slow while agents misbehave: {slow}"
            # The good one stays up all along.
            assert eng.host(hosts["good"]["id"])["status"] == "up"
            # A VM is placed only on the good host (the others are filtered).
            vm = eng.create_vm("vm1", cl["id"])
            j = eng.wait_job(eng.start_vm(vm["id"]), timeout=60)
            ev = eng.find_events("scheduler placed VM 'vm1' on host 'fake-good'", vm["id"])
            assert ev and "5 filtered out" in ev[0]["message"], (j, eng.events()[:10])
            # (the fake has no VM.create: the start fails cleanly)
            assert j["status"] == "failed", j
            assert eng.wait_status("vms", vm["id"], "down", timeout=10)["host_id"] is None
    finally:
        for f in fakes.values():
            f.close()
        shutil.rmtree(rogue, ignore_errors=True)


# ------------------------------------------------------------------ persistence

def test_restart_keeps_everything(ctx):
    # grace 1 s: the ghost host below is kept once nonresponsive, after the grace
    with Engine(ctx, grace_s=1) as eng:
        dc = eng.create_dc("dc1", description="kept")
        cl = eng.create_cluster("cl1", dc["id"], virt_mode="any")
        vm = eng.create_vm("vm1", cl["id"], nics=[{}])
        h = eng.create_host("ghost", "127.0.0.1", cl["id"], port=1)
        eng.wait_status("hosts", h["id"], "nonresponsive", timeout=eng.grace_s + 10)
        r = eng.request("POST", f"{vm['href']}/start")
        eng.wait_job(r.body["job"]["id"], timeout=20)
        token = eng.token

        def state():
            s = {c: eng.list(c, max=1000) for c in ("datacenters", "clusters", "hosts", "vms")}
            for hst in s["hosts"]["hosts"]:
                hst.pop("stats", None)
                hst.pop("last_seen", None)
                hst.pop("status_detail", None)
            return s
        before = state()
        events_before = eng.events()
        jobs_before = eng.get("/api/jobs")
        for how in (signal.SIGTERM, signal.SIGKILL):
            rc = eng.stop(how)
            if how == signal.SIGTERM:
                assert rc == 0, f"engine exited with {rc} on SIGTERM\n{eng.log_tail()}"
            eng.auto_login = False
            eng.start()
            # The old token still works: tokens live in the database.
            assert eng.token == token
            assert eng.request("GET", "/api").status == 200
            assert state() == before, f"state differs after {how!r}"
            assert eng.events()[-len(events_before):] == events_before
            assert eng.get("/api/jobs") == jobs_before
            # Unique names are still enforced; the host is still monitored.
            assert_fault(eng.request("POST", "/api/datacenters", {"name": "dc1"}), 409,
                         what="duplicate after restart")
            assert eng.get(h["href"])["status"] == "nonresponsive"
        # The admin password file is read only at the first start.
        eng.password_file = None
        eng.restart()
        assert eng.request("GET", "/api").status == 200
        assert eng.login(password=eng.admin_password)
        assert state() == before


def test_mac_pool_range(ctx):
    """MACs come from the configured range only; a used-up pool is a 422 that
    stores nothing; deleting a VM gives its MACs back; a bad range is refused."""
    pool = ["52:54:00:aa:00:0%d" % i for i in range(4)]
    with Engine(ctx, extra_args=["--mac-pool", f"{pool[0]}-{pool[-1]}"]) as eng:
        dc = eng.create_dc("dc1")
        cl = eng.create_cluster("cl1", dc["id"])
        a = eng.create_vm("a", cl["id"], nics=[{}, {}, {}])
        got = [n["mac"] for n in a["nics"]]
        assert len(set(got)) == 3 and set(got) <= set(pool), got
        r = eng.request("POST", "/api/vms", {"name": "b", "cluster_id": cl["id"], "memory_mib": 256,
                                             "nics": [{}, {}]})
        assert r.status == 422 and "MAC pool" in r.body["fault"]["detail"], r
        assert [v["name"] for v in eng.get("/api/vms")["vms"]] == ["a"]
        c = eng.create_vm("c", cl["id"], nics=[{}])  # the last one
        assert c["nics"][0]["mac"] == (set(pool) - set(got)).pop(), c
        eng.call("DELETE", a["href"], expect=204)
        b = eng.create_vm("b", cl["id"], nics=[{}, {}])
        assert set(n["mac"] for n in b["nics"]) <= set(got), b
    for bad in ("56:6f:00:00:00:09-56:6f:00:00:00:01", "01:00:5e:00:00:00-01:00:5e:00:00:ff",
                "56:6f:00:00:00:00", "56:6f:00:00:00:00-57:6f:00:00:00:00"):
        eng = Engine(ctx, extra_args=["--mac-pool", bad], login=False)
        try:
            eng.start(wait=False)
            assert eng.wait_exit(10) == 2, bad
            assert "MAC pool" in eng.log_text(), eng.log_tail(5)
        finally:
            eng.close(ok=False)


def _second_engine_refused(eng, second, where):
    """Start `second` next to `eng`: it must exit non-zero and `eng` keep serving."""
    try:
        second.start(wait=False)
        try:
            rc = second.wait_exit(10)
        except subprocess.TimeoutExpired:
            rc = None
        assert rc is not None and rc != 0, \
            f"a second engine runs on {where} next to the first:\n{second.log_tail(10)}"
        assert "another vireo-engine" in second.log_text(), second.log_tail(10)
    finally:
        second.close(ok=False)
    assert eng.request("GET", "/api").status == 200
    assert [d["name"] for d in eng.get("/api/datacenters")["datacenters"]] == ["dc1"]


def test_second_engine_on_same_database_refused(ctx):
    """The same with separate state directories pointing at one database
    (SQLite file or PostgreSQL database): the database itself is claimed."""
    with Engine(ctx) as eng:
        eng.create_dc("dc1")
        second = Engine(ctx, password_file=None, login=False)
        second.database = eng.database or os.path.join(eng.state_dir, "engine.db")
        _second_engine_refused(eng, second, "the first one's database")


def test_second_engine_on_same_state_dir_refused(ctx):
    """Two engines on one database would both monitor the hosts and both
    resume accepted start jobs (a VM started twice). The second must refuse
    to run while the first holds the state directory."""
    with Engine(ctx) as eng:
        eng.create_dc("dc1")
        second = Engine(ctx, state_dir=eng.state_dir, password_file=None, login=False)
        _second_engine_refused(eng, second, eng.state_dir)
