"""Directory login (docs/permissions.md "Directory users") against a real
OpenLDAP slapd over LDAPS and StartTLS (harness/slapd.py, certificate from
the test PKI, checked): a profile in /api/domains, users logging in as uid@profile with
their directory password, group membership from the directory, names
that would change an LDAP filter refused, and a directory that is down
giving a clear login error while admin@internal still logs in."""

import json

from harness import slapd
from harness.context import Skip
from harness.engine import Engine, expect_fault

USERS = {"bob": "bob-dir-pw", "eve": "eve-dir-pw", "b*": "star-pw"}
GROUPS = {"devs": ["bob"], "ops": ["eve"]}


def _login(eng, user, pw):
    return eng.request("POST", "/api/sso/token", {"grant_type": "password", "username": user, "password": pw},
                       token=None)


def test_directory_login_groups_and_outage(ctx):
    if not slapd.available():
        raise Skip("slapd is not installed (scripts/setup installs it)")
    with Engine(ctx) as eng, slapd.Slapd(eng.pki_dir, USERS, GROUPS) as ds:
        dc = eng.create_dc("dirdc")
        cl = eng.create_cluster("dircl", dc["id"])
        vm = eng.create_vm("dirvm", cl["id"])
        body = {"name": "corp", "url": ds.url, "tls": "ldaps", "bind_dn": slapd.ADMIN_DN,
                "bind_password": slapd.ADMIN_PW, "base_dn": slapd.BASE}
        for bad in (dict(body, url="http://x"), dict(body, tls="starttls"), dict(body, name="internal")):
            assert eng.request("POST", "/api/domains", bad).status in (400, 409), bad
        dom = eng.call("POST", "/api/domains", body, expect=201)
        assert "bind_password" not in dom and slapd.ADMIN_PW not in json.dumps(eng.get("/api/domains"))
        # A group of the directory, known to the engine as devs@corp, holds UserRole on the VM.
        devs = eng.call("POST", "/api/groups", {"name": "devs@corp"}, expect=201)
        role = next(r["id"] for r in eng.get("/api/roles", params={"max": 100})["roles"] if r["name"] == "UserRole")
        eng.call("POST", "/api/permissions", {"role_id": role, "object_type": "vm", "object_id": vm["id"],
                                              "group_id": devs["id"]}, expect=201)
        r = _login(eng, "bob@corp", USERS["bob"])
        assert r.status == 200, r
        bob = r.body["access_token"]
        assert [v["id"] for v in eng.get("/api/vms", token=bob)["vms"]] == [vm["id"]]
        assert [m["name"] for m in eng.get(f"{devs['href']}/members")["members"]] == ["bob@corp"]
        me = eng.get("/api/users", params={"search": "name=bob@corp"})["users"]
        assert [(u["name"], u["domain"]) for u in me] == [("bob@corp", "corp")], me
        expect_fault(eng.request("PUT", me[0]["href"], {"password": "local-password"}), 409, "directory")
        # eve is not in devs: she logs in and sees nothing.
        eve = _login(eng, "eve@corp", USERS["eve"]).body["access_token"]
        assert eng.get("/api/vms", token=eve)["total"] == 0
        # Wrong passwords, unknown users, and names that would widen the filter.
        expect_fault(_login(eng, "bob@corp", "wrong"), 401)
        expect_fault(_login(eng, "nobody@corp", "x"), 401)
        for name, pw in (("*@corp", USERS["bob"]), ("b*@corp", USERS["bob"]), ("bob)(uid=*@corp", USERS["bob"]),
                         ("bob@corp", "")):
            expect_fault(_login(eng, name, pw), 401)
        # the escaped '*' is a plain character: the user literally named "b*" logs in
        assert _login(eng, "b*@corp", USERS["b*"]).status == 200
        # The same directory through StartTLS on its plain port.
        eng.call("POST", "/api/domains", dict(body, name="corptls", url=ds.starttls_url, tls="starttls"), expect=201)
        assert _login(eng, "bob@corptls", USERS["bob"]).status == 200
        expect_fault(_login(eng, "bob@corptls", "wrong"), 401)
        # A certificate that does not name the address dialled is refused (it names 127.0.0.1 and vireo-ldap;
        # libldap with REQUIRE_CERT demand checks the name, as ldapsearch shows with -d 1).
        eng.call("POST", "/api/domains", dict(body, name="corpbad", url=f"ldaps://localhost:{ds.port}"), expect=201)
        expect_fault(_login(eng, "bob@corpbad", USERS["bob"]), 503, "cannot be reached")
        # Membership follows the directory at the next login.
        eng.call("POST", "/api/groups", {"name": "ops@corp"}, expect=201)
        assert _login(eng, "eve@corp", USERS["eve"]).status == 200
        ops = eng.get("/api/groups", params={"search": "name=ops@corp"})["groups"][0]
        assert [m["name"] for m in eng.get(f"{ops['href']}/members")["members"]] == ["eve@corp"]
        # The directory down: a clear error for its users, admin@internal unaffected.
        ds.stop()
        f = expect_fault(_login(eng, "bob@corp", USERS["bob"]), 503, "corp")
        assert "cannot be reached" in f["detail"], f
        assert _login(eng, "admin@internal", eng.admin_password).status == 200
        assert eng.get("/api/vms", token=bob)["total"] == 1  # tokens already given keep working
        ds.start()
        assert _login(eng, "bob@corp", USERS["bob"]).status == 200
        # A wrong bind password of the profile is the profile's fault, said so.
        eng.call("PUT", dom["href"], {"bind_password": "nope"})
        expect_fault(_login(eng, "bob@corp", USERS["bob"]), 503, "bind DN or password")
