"""Users, groups, roles and permissions (docs/permissions.md): every call is
authorized against the object it touches or its ancestors; a caller's
lists, searches, totals and events show only what they hold a permission
on; denials are 403 naming the action and the object, with an audit event;
and every operation of the OpenAPI document is refused to a user without
permission (walked from the served document, not listed by hand). No
guests: starting a VM without hosts is accepted (202) and its job fails,
which is all authorization needs to show."""

import json
import os
import uuid

from harness.engine import CliSession, Engine, expect_fault, run_sql

PW = "s3cret-pass"
ROLES = {}


def _role(eng, name):
    if name not in ROLES:
        ROLES.update({r["name"]: r["id"] for r in eng.get("/api/roles", params={"max": 1000})["roles"]})
    return ROLES[name]


def _user(eng, name):
    u = eng.call("POST", "/api/users", {"name": f"{name}@internal", "password": PW}, expect=201)
    assert "password" not in u and "password_hash" not in u, u
    return u


def _grant(eng, role, obj_type, obj_id=None, user=None, group=None):
    body = {"role_id": _role(eng, role), "object_type": obj_type}
    if obj_id:
        body["object_id"] = obj_id
    if user:
        body["user_id"] = user["id"]
    if group:
        body["group_id"] = group["id"]
    return eng.call("POST", "/api/permissions", body, expect=201)


def _inventory(eng, tag):
    dc = eng.create_dc(f"{tag}dc")
    ca = eng.create_cluster(f"{tag}ca", dc["id"])
    cb = eng.create_cluster(f"{tag}cb", dc["id"])
    return dc, ca, cb, [eng.create_vm(f"{tag}{n}", c["id"]) for n, c in (("a1", ca), ("a2", ca), ("b1", cb))]


def test_user_role_sees_and_uses_one_vm(ctx):
    ROLES.clear()
    with Engine(ctx) as eng:
        dc, ca, cb, (a1, a2, b1) = _inventory(eng, "ur")
        alice = _user(eng, "alice")
        perm = _grant(eng, "UserRole", "vm", a1["id"], user=alice)
        assert perm["role"] == "UserRole" and perm["object_id"] == a1["id"], perm
        tok = eng.login("alice@internal", PW, set_token=False)

        def as_alice(method, path, body=None, **kw):
            return eng.request(method, path, body, token=tok, **kw)

        # Lists, searches and totals hold a1 alone.
        r = as_alice("GET", "/api/vms")
        assert r.status == 200 and [v["id"] for v in r.body["vms"]] == [a1["id"]] and r.body["total"] == 1, r
        for search, want in (("name=ur*", 1), (f"name={a2['name']}", 0), ("name=*b1", 0)):
            r = as_alice("GET", "/api/vms", params={"search": search})
            assert r.status == 200 and r.body["total"] == want == len(r.body["vms"]), (search, r)
        r = as_alice("GET", f"/api/clusters/{ca['id']}/vms")
        expect_fault(r, 403, "no permission")
        for coll in ("clusters", "datacenters", "hosts", "users", "groups"):
            r = as_alice("GET", f"/api/{coll}")
            assert r.status == 200 and r.body["total"] == 0 and r.body[coll] == [], (coll, r)
        r = as_alice("GET", "/api/permissions")  # those on what she sees: her own
        assert [p["id"] for p in r.body["permissions"]] == [perm["id"]] and r.body["total"] == 1, r
        assert as_alice("GET", a1["href"]).body["name"] == a1["name"]
        # The VM is used: started (a job, which fails without hosts) and stopped.
        r = as_alice("POST", f"{a1['href']}/start")
        assert r.status == 202, r
        eng.wait_job(r.body["job"]["id"])
        r = as_alice("POST", f"{a1['href']}/stop")
        assert r.status in (202, 409), r  # a down VM has nothing to stop: not a denial
        # ... but not edited or removed (UserRole), and other VMs not at all.
        f = expect_fault(as_alice("PUT", a1["href"], {"description": "x"}), 403, "edit_vm_properties")
        assert "update" in f["detail"] and a1["name"] in f["detail"], f
        expect_fault(as_alice("DELETE", a1["href"]), 403, "delete_vm")
        f = expect_fault(as_alice("GET", a2["href"]), 403, a2["id"])
        assert a2["name"] not in f["detail"], f  # not even its name
        f = expect_fault(as_alice("POST", f"{b1['href']}/start"), 403, "start")
        expect_fault(as_alice("POST", "/api/vms", {"name": "urnew", "cluster_id": ca["id"]}), 403, "create_vm")
        # Jobs and events: a1's only, totals included; no trace of the others.
        jobs = as_alice("GET", "/api/jobs").body
        assert jobs["total"] == len(jobs["jobs"]) >= 1 and {j["object_id"] for j in jobs["jobs"]} == {a1["id"]}
        ev = as_alice("GET", "/api/events", params={"max": 1000}).body
        assert ev["total"] == len(ev["events"]) >= 2, ev
        assert {e["object_id"] for e in ev["events"]} == {a1["id"]}, ev
        text = json.dumps(ev)
        for other in (a2, b1, ca, cb, dc):
            assert other["id"] not in text and other["name"] not in text, other["name"]
        r = as_alice("GET", "/api/events", params={"search": f"object_id={a2['id']}"})
        assert r.body == {"events": [], "total": 0}, r
        # Every denial is an audit event (seen by the administrator).
        denials = [e for e in eng.events() if e["user"] == "alice@internal" and "permission denied" in e["message"]]
        assert len(denials) >= 6 and any(e["object_id"] == a2["id"] for e in denials), denials
        assert all(e["severity"] == "warning" for e in denials)
        # Removing the permission takes effect at once.
        eng.call("DELETE", perm["href"], expect=204)
        expect_fault(as_alice("GET", a1["href"]), 403)
        assert as_alice("GET", "/api/vms").body == {"vms": [], "total": 0}
        # A disabled user's token stops working; the password stays secret.
        u = eng.call("PUT", alice["href"], {"enabled": False})
        assert u["enabled"] is False and "password" not in json.dumps(u)
        expect_fault(as_alice("GET", "/api/vms"), 401)
        r = eng.request("POST", "/api/sso/token", {"grant_type": "password", "username": "alice@internal",
                                                   "password": PW}, token=None)
        expect_fault(r, 401, "disabled")


def test_cluster_admin_group_and_roles(ctx):
    ROLES.clear()
    with Engine(ctx) as eng:
        dc, ca, cb, (a1, a2, b1) = _inventory(eng, "ca")
        bob, carol = _user(eng, "bob"), _user(eng, "carol")
        _grant(eng, "ClusterAdmin", "cluster", ca["id"], user=bob)
        btok = eng.login("bob@internal", PW, set_token=False)
        # Cluster A's VMs are bob's to manage (inherited), B's are not there for him.
        r = eng.request("GET", "/api/vms", token=btok)
        assert sorted(v["name"] for v in r.body["vms"]) == ["caa1", "caa2"] and r.body["total"] == 2, r
        assert eng.request("GET", ca["href"], token=btok).status == 200
        expect_fault(eng.request("GET", cb["href"], token=btok), 403)
        r = eng.request("POST", "/api/vms", {"name": "canew", "cluster_id": ca["id"], "memory_mib": 128}, token=btok)
        assert r.status == 201, r
        r = eng.request("POST", f"/api/clusters/{ca['id']}/vms", {"name": "canew2", "memory_mib": 128}, token=btok)
        assert r.status == 201, r
        expect_fault(eng.request("POST", "/api/vms", {"name": "canew3", "cluster_id": cb["id"]}, token=btok), 403,
                     "create a VM in cluster")
        r = eng.request("PUT", a2["href"], {"description": "bob was here"}, token=btok)
        assert r.status == 200 and r.body["description"] == "bob was here", r
        assert eng.request("DELETE", a2["href"], token=btok).status == 204
        expect_fault(eng.request("PUT", b1["href"], {"description": "no"}, token=btok), 403)
        expect_fault(eng.request("DELETE", b1["href"], token=btok), 403)
        assert eng.request("PUT", ca["href"], {"description": "mine"}, token=btok).status == 200
        expect_fault(eng.request("DELETE", dc["href"], token=btok), 403, "delete_storage_pool")
        # Affinity groups are their cluster's: bob manages A's, never sees B's.
        ga = eng.request("POST", "/api/affinitygroups", {"name": "ca-aff", "cluster_id": ca["id"]}, token=btok)
        assert ga.status == 201, ga
        gb = eng.call("POST", "/api/affinitygroups", {"name": "cb-aff", "cluster_id": cb["id"]}, expect=201)
        expect_fault(eng.request("POST", "/api/affinitygroups", {"name": "no", "cluster_id": cb["id"]}, token=btok),
                     403, "create an affinity group in cluster")
        r = eng.request("GET", "/api/affinitygroups", token=btok)
        assert [g["name"] for g in r.body["affinitygroups"]] == ["ca-aff"] and r.body["total"] == 1, r
        assert eng.request("PUT", ga.body["href"], {"description": "bob's"}, token=btok).status == 200
        expect_fault(eng.request("PUT", gb["href"], {"description": "no"}, token=btok), 403,
                     "manipulate_affinity_groups")
        expect_fault(eng.request("GET", gb["href"], token=btok), 403)
        expect_fault(eng.request("DELETE", gb["href"], token=btok), 403)
        assert eng.request("DELETE", ga.body["href"], token=btok).status == 204
        # What a body names is authorized too: a disk bob cannot see is not attached to his VM, and a
        # VM made from A's template goes into A, never into B.
        sd, disk, tmpl = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
        run_sql(eng,
                f"INSERT INTO storage_domains (id, name, sd_type, storage_type, storage_spec, datacenter_id, status,"
                f" created_at) VALUES ('{sd}', 'casd', 'data', 'nfs', '{{}}', '{dc['id']}', 'active', 0)",
                f"INSERT INTO disks (id, volume_id, alias, storage_domain_id, format, sparse, provisioned_size,"
                f" status, created_at) VALUES ('{disk}', '{uuid.uuid4()}', 'cadisk', '{sd}', 'raw', 1, 1048576,"
                f" 'ok', 0)",
                f"INSERT INTO templates (id, name, cluster_id, memory_mib, vcpus, spec_json, status, created_at)"
                f" VALUES ('{tmpl}', 'catmpl', '{ca['id']}', 128, 1, '{{}}', 'ok', 0)")
        expect_fault(eng.request("POST", f"{a1['href']}/disks", {"disk": disk}, token=btok), 403, "may not name disk")
        expect_fault(eng.request("POST", f"/api/templates/{tmpl}/createvm", {"name": "catv", "cluster_id": cb["id"]},
                                 token=btok), 403, "create_vm")
        assert eng.request("POST", f"/api/templates/{tmpl}/createvm", {"name": "catv", "cluster_id": ca["id"]},
                           token=btok).status == 202
        # A group's permission works for its members, and stops with membership.
        ops = eng.call("POST", "/api/groups", {"name": "ops"}, expect=201)
        eng.call("POST", f"{ops['href']}/members", {"user_id": carol["id"]}, expect=201)
        expect_fault(eng.request("POST", f"{ops['href']}/members", {"user_id": carol["id"]}), 409)
        assert [m["name"] for m in eng.get(f"{ops['href']}/members")["members"]] == ["carol@internal"]
        _grant(eng, "UserRole", "vm", b1["id"], group=ops)
        # What a user holds through groups (search=member=ID), filtered like every list:
        # bob, who cannot see B's VM, is shown none of them.
        def through(uid, **kw):
            r = eng.call("GET", "/api/permissions", params={"search": f"member={uid}"}, **kw)["permissions"]
            return [(p["group_id"], p["role"], p["object_id"]) for p in r]
        assert through(carol["id"]) == [(ops["id"], "UserRole", b1["id"])]
        assert through(bob["id"]) == [] and through(carol["id"], token=btok) == []
        ctok = eng.login("carol@internal", PW, set_token=False)
        r = eng.request("GET", "/api/vms", token=ctok)
        assert [v["id"] for v in r.body["vms"]] == [b1["id"]], r
        assert eng.request("POST", f"{b1['href']}/start", token=ctok).status == 202
        # Who am I: each caller reads their own groups, permissions and where they may create, exactly.
        me = eng.call("GET", "/api/users/me", token=ctok)
        assert (me["id"], me["name"], me["domain"]) == (carol["id"], "carol@internal", "internal"), me
        assert [(g["id"], g["domain"]) for g in me["groups"]] == [(ops["id"], "internal")], me
        assert [(p["role"], p["object_id"], p["group"]["name"]) for p in me["permissions"]] == \
            [("UserRole", b1["id"], "ops")] and "vm_basic_operations" in me["permissions"][0]["action_groups"], me
        assert me["may"] == {"create_vm": [], "create_disk": []} and "password_hash" not in json.dumps(me), me
        pu = _grant(eng, "PowerUserRole", "datacenter", dc["id"], group=ops)  # inherited: both clusters, the domain
        may = eng.call("GET", "/api/users/me", token=ctok)["may"]
        assert [c["id"] for c in may["create_vm"]] == [ca["id"], cb["id"]], may
        assert [d["name"] for d in may["create_disk"]] == ["casd"], may
        from harness import openapi  # the answer fits its documented schema (Me)
        r = eng.request("GET", "/api/users/me", token=ctok)
        openapi.validate_response(eng.get("/api/openapi.json", token=None), "GET", "/api/users/me", r.status,
                                  json.dumps(r.body).encode())
        eng.call("DELETE", pu["href"], expect=204)
        me = eng.call("GET", "/api/users/me", token=btok)  # ClusterAdmin on A (+ owner of his 3 VMs): A only
        assert [(p["role"], p["object_type"], p["group"]) for p in me["permissions"]] == \
            [("ClusterAdmin", "cluster", None)] + [("UserVmManager", "vm", None)] * 3 and me["groups"] == [], me
        assert [c["name"] for c in me["may"]["create_vm"]] == ["caca"] and me["may"]["create_disk"] == [], me
        assert eng.request("GET", "/api/users/me", token=None).status == 401
        assert eng.request("PUT", "/api/users/me", {}, token=btok).status == 405
        su = eng.get("/api/users/me")["permissions"]
        assert [(p["role"], p["object_type"], p["object_id"]) for p in su] == [("SuperUser", "system", None)], su
        eng.call("DELETE", f"{ops['href']}/members/{carol['id']}", expect=204)
        expect_fault(eng.request("GET", b1["href"], token=ctok), 403)
        # Roles: the predefined ones are read-only; custom ones are made of action groups.
        roles = {r["name"]: r for r in eng.request("GET", "/api/roles", token=ctok).body["roles"]}
        for name in ("SuperUser", "DataCenterAdmin", "ClusterAdmin", "HostAdmin", "StorageAdmin", "NetworkAdmin",
                     "TemplateAdmin", "VmPoolAdmin", "UserRole", "PowerUserRole", "UserVmManager"):
            assert roles[name]["predefined"] is True, name
        assert roles["ClusterAdmin"]["administrative"] and not roles["UserRole"]["administrative"]
        assert "vm_basic_operations" in roles["UserRole"]["action_groups"]
        expect_fault(eng.request("PUT", roles["UserRole"]["href"], {"action_groups": ["create_vm"]}), 409,
                     "predefined")
        expect_fault(eng.request("DELETE", roles["SuperUser"]["href"]), 409, "predefined")
        expect_fault(eng.request("POST", "/api/roles", {"name": "bad", "action_groups": ["fly"]}), 400,
                     "action_groups[0]")
        starter = eng.call("POST", "/api/roles", {"name": "Starter", "action_groups": ["vm_basic_operations"]},
                           expect=201)
        assert starter["predefined"] is False and starter["administrative"] is False
        ROLES["Starter"] = starter["id"]
        _grant(eng, "Starter", "cluster", cb["id"], user=carol)
        assert eng.request("POST", f"{b1['href']}/start", token=ctok).status == 202
        expect_fault(eng.request("PUT", b1["href"], {"description": "x"}, token=ctok), 403)
        expect_fault(eng.request("DELETE", starter["href"]), 409, "permissions still use it")
        # admin@internal keeps SuperUser on system and cannot be disabled or removed.
        admin = eng.get("/api/users", params={"search": "name=admin@internal"})["users"][0]
        su = eng.get("/api/permissions", params={"search": "user=admin@internal"})["permissions"]
        assert [(p["role"], p["object_type"], p["object_id"]) for p in su] == [("SuperUser", "system", None)]
        expect_fault(eng.request("DELETE", su[0]["href"]), 409, "SuperUser")
        expect_fault(eng.request("PUT", admin["href"], {"enabled": False}), 409)
        expect_fault(eng.request("DELETE", admin["href"]), 409)
        # Bad input changes nothing.
        for body in ({"name": "nodomain", "password": PW}, {"name": "x@internal"}, {"name": "x@internal",
                                                                                 "password": "short"}):
            assert eng.request("POST", "/api/users", body).status == 400, body
        for body in ({"role_id": ROLES["UserRole"], "object_type": "vm", "object_id": str(uuid.uuid4()),
                      "user_id": bob["id"]},
                     {"role_id": ROLES["UserRole"], "object_type": "system", "object_id": a1["id"], "user_id": bob["id"]},
                     {"role_id": ROLES["UserRole"], "object_type": "vm", "object_id": a1["id"]},
                     {"role_id": ROLES["UserRole"], "object_type": "vm", "object_id": a1["id"], "user_id": bob["id"],
                      "group_id": ops["id"]}):
            assert eng.request("POST", "/api/permissions", body).status == 400, body
        # bob, ClusterAdmin on A, gives what he holds there, never more.
        r = eng.request("POST", "/api/permissions", {"role_id": ROLES["UserRole"], "object_type": "vm",
                                                     "object_id": a1["id"], "user_id": carol["id"]}, token=btok)
        assert r.status == 201, r
        expect_fault(eng.request("POST", "/api/permissions", {"role_id": ROLES["SuperUser"], "object_type": "cluster",
                                                              "object_id": ca["id"], "user_id": bob["id"]},
                                 token=btok), 403, "holds no")
        expect_fault(eng.request("POST", "/api/permissions", {"role_id": ROLES["UserRole"], "object_type": "vm",
                                                              "object_id": b1["id"], "user_id": carol["id"]},
                                 token=btok), 403, "manipulate_permissions")
        # ... nor on the system (manipulate_permissions there).
        expect_fault(eng.request("POST", "/api/permissions", {"role_id": ROLES["SuperUser"], "object_type": "system",
                                                              "user_id": bob["id"]}, token=btok), 403)


def test_storage_template_and_pool_branches_inherit(ctx):
    """A permission reaches down the storage branch (a storage domain's
    disks) and a data center's template and pool branches, never across to
    another data center; what it allows there is its role's."""
    ROLES.clear()
    with Engine(ctx) as eng:
        dcs = [eng.create_dc(f"brdc{n}") for n in (1, 2)]
        cls = [eng.create_cluster(f"brc{n}", dc["id"]) for n, dc in zip((1, 2), dcs)]
        ids = {f"{k}{n}": str(uuid.uuid4()) for k in ("sd", "disk", "t", "p") for n in (1, 2)}
        rows = []
        for n, dc, cl in ((1, dcs[0], cls[0]), (2, dcs[1], cls[1])):
            rows += [f"INSERT INTO storage_domains (id, name, sd_type, storage_type, storage_spec, datacenter_id,"
                     f" status, created_at) VALUES ('{ids[f'sd{n}']}', 'brsd{n}', 'data', 'nfs', '{{}}', '{dc['id']}',"
                     f" 'active', 0)",
                     f"INSERT INTO disks (id, volume_id, alias, storage_domain_id, format, sparse, provisioned_size,"
                     f" status, created_at) VALUES ('{ids[f'disk{n}']}', '{uuid.uuid4()}', 'brdisk{n}',"
                     f" '{ids[f'sd{n}']}', 'raw', 1, 1048576, 'ok', 0)",
                     f"INSERT INTO templates (id, name, cluster_id, memory_mib, vcpus, spec_json, status, created_at)"
                     f" VALUES ('{ids[f't{n}']}', 'brt{n}', '{cl['id']}', 128, 1, '{{}}', 'ok', 0)",
                     f"INSERT INTO vm_pools (id, name, cluster_id, template_id, type, size, created_at) VALUES"
                     f" ('{ids[f'p{n}']}', 'brp{n}', '{cl['id']}', '{ids[f't{n}']}', 'manual', 0, 0)"]
        run_sql(eng, *rows)
        dave, erin, gina = _user(eng, "dave"), _user(eng, "erin"), _user(eng, "gina")
        _grant(eng, "StorageAdmin", "storagedomain", ids["sd1"], user=dave)
        _grant(eng, "DataCenterAdmin", "datacenter", dcs[0]["id"], user=erin)
        _grant(eng, "VmPoolAdmin", "vmpool", ids["p1"], user=gina)
        # An object's permissions page (search=covers=ID): those given on it,
        # above it and on the system; none of the other branch or data center.
        def covers(obj, more=""):
            r = eng.get("/api/permissions", params={"search": f"covers={obj}{more}", "max": 500})["permissions"]
            return sorted((p["role"], p["object_type"], p["object_id"]) for p in r)
        system = sorted((p["role"], "system", None) for p in eng.get("/api/permissions", params={
            "search": "object_type=system", "max": 500})["permissions"])
        assert ("SuperUser", "system", None) in system, system
        assert covers(ids["disk1"]) == sorted(system + [("StorageAdmin", "storagedomain", ids["sd1"]),
                                                        ("DataCenterAdmin", "datacenter", dcs[0]["id"])])
        assert covers(ids["p1"]) == sorted(system + [("VmPoolAdmin", "vmpool", ids["p1"]),
                                                     ("DataCenterAdmin", "datacenter", dcs[0]["id"])])
        assert covers(ids["disk2"]) == covers(dcs[1]["id"]) == covers(str(uuid.uuid4())) == system
        assert covers(ids["sd1"], " and object_type=storagedomain") == [("StorageAdmin", "storagedomain", ids["sd1"])]
        tok = {u: eng.login(f"{u}@internal", PW, set_token=False) for u in ("dave", "erin", "gina")}

        def seen(who, coll):
            r = eng.request("GET", f"/api/{coll}", params={"search": "name=br*"}, token=tok[who])
            assert r.status == 200 and r.body["total"] == len(r.body[coll]), r
            return sorted(x.get("name") or x.get("alias") for x in r.body[coll])

        def put(who, path, status):
            r = eng.request("PUT", path, {"description": f"{who} was here"}, token=tok[who])
            assert r.status == status, (who, path, r)

        # dave, StorageAdmin on brsd1: the domain and its disk, to manage;
        # nothing of the other data center, no templates or pools.
        assert seen("dave", "storagedomains") == ["brsd1"]
        assert [d["alias"] for d in eng.request("GET", "/api/disks", token=tok["dave"]).body["disks"]] == ["brdisk1"]
        put("dave", f"/api/disks/{ids['disk1']}", 200)
        put("dave", f"/api/disks/{ids['disk2']}", 403)
        assert seen("dave", "templates") == [] and seen("dave", "vmpools") == []
        # erin, DataCenterAdmin on brdc1: its templates and pools to manage,
        # its storage to see (not to manage: that is StorageAdmin's).
        assert seen("erin", "templates") == ["brt1"] and seen("erin", "vmpools") == ["brp1"]
        assert seen("erin", "storagedomains") == ["brsd1"]
        put("erin", f"/api/templates/{ids['t1']}", 200)
        put("erin", f"/api/templates/{ids['t2']}", 403)
        put("erin", f"/api/vmpools/{ids['p1']}", 200)
        put("erin", f"/api/vmpools/{ids['p2']}", 403)
        put("erin", f"/api/storagedomains/{ids['sd1']}", 403)
        # ... and makes clusters there (their MAC pool the Default one, which
        # the engine fills in and anyone may name), not in the other one.
        r = eng.request("POST", "/api/clusters", {"name": "brc-erin", "datacenter_id": dcs[0]["id"]},
                        token=tok["erin"])
        assert r.status == 201 and r.body["mac_pool_id"] == "00000000-0000-4000-8000-00000000ac01", r
        expect_fault(eng.request("POST", "/api/clusters", {"name": "brc-no", "datacenter_id": dcs[1]["id"]},
                                 token=tok["erin"]), 403, "create_cluster")
        # gina, VmPoolAdmin on brp1: that pool alone.
        assert seen("gina", "vmpools") == ["brp1"] and seen("gina", "templates") == []
        put("gina", f"/api/vmpools/{ids['p1']}", 200)
        put("gina", f"/api/vmpools/{ids['p2']}", 403)


def test_every_operation_denied_without_permission(ctx):
    """Walk the served OpenAPI document: every operation on an object that
    exists answers 403 to a user holding no permission, and every list is
    empty for them (roles excepted: public knowledge; and the Blank
    template, everyone's)."""
    with Engine(ctx) as eng:
        dc, ca, cb, (a1, a2, b1) = _inventory(eng, "ev")
        net = eng.get(f"/api/datacenters/{dc['id']}/networks")["networks"][0]
        prof = eng.call("POST", "/api/vnicprofiles", {"name": "evprof", "network": net["id"]}, expect=201)
        ids = {"datacenters": dc["id"], "clusters": ca["id"], "vms": a1["id"], "networks": net["id"],
               "vnicprofiles": prof["id"], "macpools": eng.get("/api/macpools")["macpools"][0]["id"]}
        for k in ("hosts", "storagedomains", "disks", "snapshots", "nics", "jobs", "vmpools", "templates"):
            ids[k] = str(uuid.uuid4())
        run_sql(eng,
                f"INSERT INTO hosts (id, name, cluster_id, address, port, status, created_at) VALUES"
                f" ('{ids['hosts']}', 'evh', '{ca['id']}', '127.0.0.9', 1, 'maintenance', 0)",
                f"INSERT INTO host_nics (id, host_id, name, reported_at) VALUES ('{ids['nics']}', '{ids['hosts']}',"
                f" 'eth0', 0)",
                f"INSERT INTO storage_domains (id, name, sd_type, storage_type, storage_spec, datacenter_id, status,"
                f" created_at) VALUES ('{ids['storagedomains']}', 'evsd', 'data', 'nfs', '{{}}', '{dc['id']}',"
                f" 'active', 0)",
                f"INSERT INTO disks (id, volume_id, alias, storage_domain_id, format, sparse, provisioned_size,"
                f" status, created_at) VALUES ('{ids['disks']}', '{uuid.uuid4()}', 'evdisk', '{ids['storagedomains']}',"
                f" 'raw', 1, 1048576, 'empty', 0)",
                f"INSERT INTO snapshots (id, vm_id, type, status, created_at, config_json, volumes_json) VALUES"
                f" ('{ids['snapshots']}', '{a1['id']}', 'regular', 'ok', 0, '{{}}', '[]')",
                f"INSERT INTO templates (id, name, cluster_id, memory_mib, vcpus, spec_json, status, created_at)"
                f" VALUES ('{ids['templates']}', 'evtmpl', '{ca['id']}', 128, 1, '{{}}', 'ok', 0)",
                f"INSERT INTO vm_pools (id, name, cluster_id, template_id, type, size, created_at) VALUES"
                f" ('{ids['vmpools']}', 'evpool', '{ca['id']}', '{ids['templates']}', 'manual', 0, 0)",
                f"INSERT INTO jobs (id, action, object_type, object_id, status, created_at, updated_at) VALUES"
                f" ('{ids['jobs']}', 'start', 'vm', '{a1['id']}', 'failed', 0, 0)")
        ids["affinitygroups"] = eng.call("POST", "/api/affinitygroups", {"name": "evaff", "cluster_id": ca["id"]},
                                         expect=201)["id"]
        ids["quotas"] = eng.call("POST", "/api/quotas", {"name": "evq", "datacenter_id": dc["id"]}, expect=201)["id"]
        grp = eng.call("POST", "/api/groups", {"name": "evg"}, expect=201)
        role = eng.call("POST", "/api/roles", {"name": "EvRole", "action_groups": ["create_vm"]}, expect=201)
        nobody = _user(eng, "nobody")
        other = _user(eng, "other")
        perm = _grant(eng, "UserRole", "vm", a2["id"], user=other)
        dom = eng.call("POST", "/api/domains", {"name": "evdir", "url": "ldaps://127.0.0.1:1", "tls": "ldaps",
                                                "bind_dn": "cn=x", "bind_password": "x", "base_dn": "dc=x"},
                       expect=201)
        ids.update(groups=grp["id"], roles=role["id"], users=other["id"], permissions=perm["id"], domains=dom["id"])
        child = {"members": other["id"], "nics": "52:54:00:00:00:01", "disks": "vda", "networks": net["id"],
                 "vms": "00000000-0000-4000-8000-0000000000ff",  # an export domain's VM (import)
                 "templates": "00000000-0000-4000-8000-0000000000fe"}  # a data domain's template (register)
        tok = eng.login("nobody@internal", PW, set_token=False)
        doc = eng.get("/api/openapi.json", token=None)
        public = {("POST", "/api/sso/token"), ("DELETE", "/api/sso/token"), ("GET", "/api/openapi.json"),
                  ("GET", "/api"), ("GET", "/api/roles"), ("GET", "/api/roles/{id}"),
                  ("GET", "/api/users/me")}  # every caller's own identity
        seen = lists = 0
        for path, ops in doc["paths"].items():
            for method in ops:
                method = method.upper()
                if method not in ("GET", "POST", "PUT", "DELETE") or (method, path) in public:
                    continue
                parts = path.split("/")
                coll = parts[2]
                real = path.replace("{id}", ids[coll]) if "{id}" in path else path
                if "{child_id}" in real:
                    real = real.replace("{child_id}", child[parts[4]])
                seen += 1
                if path.endswith("/content"):
                    r = eng.request(method, real, token=tok, raw=b"x" if method == "PUT" else None,
                                    headers={"Content-Type": "application/octet-stream"})
                else:
                    r = eng.request(method, real, {} if method in ("POST", "PUT") else None, token=tok)
                if method == "GET" and "{" not in path.split("/")[-1] and len(parts) == 3:
                    # empty (the Blank template is everyone's, as in oVirt)
                    lists += 1
                    rows = r.body.get(coll) if r.status == 200 else None
                    assert rows is not None and r.body["total"] == len(rows), (method, path, r)
                    assert all(x.get("name") == "Blank" and coll == "templates" for x in rows), (path, r)
                else:
                    assert r.status == 403, (method, path, real, r)
                    assert r.body["fault"]["detail"].startswith("user 'nobody@internal' may not"), (path, r)
        assert seen >= 100, seen
        denials = [e for e in eng.events() if e["user"] == "nobody@internal" and "permission denied" in e["message"]]
        assert len(denials) >= seen - lists, (len(denials), seen, lists)  # every refusal is audited


def test_cli_users_groups_roles_permissions(ctx):
    ROLES.clear()
    with Engine(ctx) as eng:
        dc, ca, cb, (a1, a2, b1) = _inventory(eng, "cli")
        cli = CliSession(ctx, eng)
        pwfile = os.path.join(eng.state_dir, "dora-password")
        with open(pwfile, "w") as f:
            f.write(PW + "\n")
        out = cli.run("user", "create", "--name", "dora@internal", "--password-file", pwfile, "--json").stdout
        assert json.loads(out)["name"] == "dora@internal" and PW not in out
        me = json.loads(cli.run("user", "me", "--json").stdout)  # the session's own identity
        assert me["name"] == "admin@internal" and [p["role"] for p in me["permissions"]] == ["SuperUser"], me
        assert "admin@internal" in cli.run("user", "me").stdout
        cli.run("user", "create", "--name", "nodomain", "--password-file", pwfile, expect=1)
        cli.run("group", "create", "--name", "crew")
        cli.run("group", "add-member", "crew", "--user", "dora@internal")
        assert "dora@internal" in cli.run("group", "members", "crew").stdout
        assert "UserVmManager" in cli.run("role", "list", "--max", "100").stdout
        cli.run("role", "create", "--name", "Cycler", "--action-group", "vm_basic_operations")
        cli.run("permission", "add", "--role", "Cycler", "--group", "crew", "--on", f"vm:{a1['name']}")
        cli.run("permission", "add", "--role", "UserRole", "--user", "dora@internal", "--on", "vm:nosuchvm",
                expect=1)
        perms = json.loads(cli.run("permission", "list", "--search", "role=cycler", "--json").stdout)
        assert [(p["object_type"], p["object_id"]) for p in perms["permissions"]] == [("vm", a1["id"])]
        tok = eng.login("dora@internal", PW, set_token=False)
        assert [v["id"] for v in eng.get("/api/vms", token=tok)["vms"]] == [a1["id"]]
        cli.run("group", "remove-member", "crew", "--user", "dora@internal")
        assert eng.get("/api/vms", token=tok)["total"] == 0
        cli.run("user", "update", "dora@internal", "--disable")
        expect_fault(eng.request("GET", "/api/vms", token=tok), 401)
        cli.run("permission", "delete", perms["permissions"][0]["id"])
        cli.run("role", "delete", "Cycler")
        cli.run("user", "delete", "dora@internal")
        cli.run("user", "delete", "admin@internal", expect=1)
