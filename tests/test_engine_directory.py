"""Directory login (docs/permissions.md "Directory users") against a real
OpenLDAP slapd over LDAPS and StartTLS (harness/slapd.py, certificate from
the test PKI, checked): a profile in /api/domains, users logging in as uid@profile with
their directory password, group membership from the directory, names
that would change an LDAP filter refused, and a directory that is down
giving a clear login error while admin@internal still logs in. Then the
directory search (docs/rest-api.md "Directory search"): users and groups
found by a substring, RFC 4515 escaping of what is searched, limits, who
may search, a directory that is down; a user found there added and
granted a permission before their first login, which then finds it."""

import json
import os

from harness import ds389, samba_ad, slapd
from harness.context import Skip, one_backend
from harness.engine import CliSession, Engine, expect_fault

USERS = {"bob": "bob-dir-pw", "eve": "eve-dir-pw", "b*": "star-pw"}
GROUPS = {"devs": ["bob"], "ops": ["eve"]}


def _profile(eng, ds, name="corp"):
    return eng.call("POST", "/api/domains", {"name": name, "url": ds.url, "tls": "ldaps", "bind_dn": slapd.ADMIN_DN,
                                             "bind_password": slapd.ADMIN_PW, "base_dn": slapd.BASE}, expect=201)


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
        # uids match without regard to case: "Bob" is bob, one user of the engine, with bob's rights.
        r = _login(eng, "Bob@corp", USERS["bob"])
        assert r.status == 200, r
        assert [v["id"] for v in eng.get("/api/vms", token=r.body["access_token"])["vms"]] == [vm["id"]]
        assert eng.get("/api/users/me", token=r.body["access_token"])["name"] == "bob@corp"
        assert [u["name"] for u in eng.get("/api/users", params={"max": 100})["users"]
                if u["name"].lower() == "bob@corp"] == ["bob@corp"]
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
        # added as typed in another case, kept as the directory spells it (memberships use that name)
        assert eng.call("POST", "/api/groups", {"name": "OPS@corp"}, expect=201)["name"] == "ops@corp"
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


SEARCH_USERS = {"bob": "bob-dir-pw", "carol": "carol-dir-pw", "caroline": "caroline-pw", "b*": "star-pw"}
SEARCH_GROUPS = {"devs": ["bob"], "devops": ["carol"], "ops": ["bob"]}  # groupOfNames needs a member


def test_directory_search_and_grant_before_login(ctx):
    if not slapd.available():
        raise Skip("slapd is not installed (scripts/setup installs it)")
    with Engine(ctx) as eng, slapd.Slapd(eng.pki_dir, SEARCH_USERS, SEARCH_GROUPS) as ds:
        dom = _profile(eng, ds)
        vm = eng.create_vm("srchvm", eng.create_cluster("srchcl", eng.create_dc("srchdc")["id"])["id"])

        def names(what, text, status=200, token=None, by="corp", **params):
            r = eng.request("GET", f"/api/domains/{by}/{what}", params=dict(params, search=text),
                            **({"token": token} if token else {}))
            assert r.status == status, (what, text, r)
            if status == 200:
                assert r.body["total"] == len(r.body[what]), r
                return [x["name"] for x in r.body[what]]
            return r.body["fault"]["detail"]

        # A substring of the user attribute, cn or displayName; by the profile's name or id.
        r = eng.get(f"/api/domains/{dom['id']}/users", params={"search": "arol"})
        assert [u["name"] for u in r["users"]] == ["carol@corp", "caroline@corp"] and not r["truncated"], r
        carol = r["users"][0]
        assert (carol["principal"], carol["display_name"], carol["email"]) == ("carol", "Carol Tester",
                                                                             "carol@vireo.test"), carol
        assert carol["dn"] == f"uid=carol,ou=people,{slapd.BASE}" and "user_id" not in carol, carol
        assert names("users", "CAROLINE TEST") == ["caroline@corp"]  # displayName, case-insensitive
        assert names("groups", "dev") == ["devops@corp", "devs@corp"]
        assert names("groups", "") == ["devops@corp", "devs@corp", "ops@corp"]
        # What is searched is a value, never a filter: '*' is the character (the user named "b*"),
        # and filter syntax or escapes find nothing.
        assert names("users", "*") == ["b*@corp"]
        for text in ("*)(uid=*", "bob)(|(uid=*", "\\2a", "\\", "*)(objectClass=*", ")", "("):
            assert names("users", text) == [], text
            assert names("groups", text) == [], text
        assert names("users", "bob") == ["bob@corp"]
        expect_fault(eng.request("GET", "/api/domains/corp/users", params={"search": "b\x00*"}), 400)
        # Limits: max (default 50, 1-500), the length of the text, an unknown profile.
        r = eng.get("/api/domains/corp/users", params={"search": "", "max": "2"})
        assert r["total"] == 2 and r["truncated"] is True, r
        assert names("users", "") == ["b*@corp", "bob@corp", "carol@corp", "caroline@corp"]
        for bad in ("0", "501", "x", "-1", ""):
            assert "max" in names("users", "a", 400, max=bad), bad
        assert "128" in names("users", "x" * 129, 400)
        names("users", "a", 404, by="nosuch")
        expect_fault(eng.request("POST", "/api/domains/corp/users", {}), 405)
        # The same from the CLI.
        cli = CliSession(ctx, eng)
        out = cli.run("directory", "search", "corp", "arol").stdout
        assert "carol@corp" in out and "Caroline Tester" in out and "caroline@vireo.test" in out, out
        assert json.loads(cli.run("directory", "search", dom["id"], "dev", "--groups", "--json").stdout)["total"] == 2
        assert "max" in cli.run("directory", "search", "corp", "", "--max", "501", expect=1).stderr
        assert json.loads(cli.run("user", "create", "--name", "caroline@corp", "--json").stdout)["domain"] == "corp"
        # Adding a found user before their first login: no password, the directory must know them.
        expect_fault(eng.request("POST", "/api/users", {"name": "zed@corp"}), 404, "no user 'zed'")
        expect_fault(eng.request("POST", "/api/users", {"name": "b*)(uid=*@corp"}), 404)
        expect_fault(eng.request("POST", "/api/users", {"name": "carol@nosuch"}), 400, "nosuch")
        expect_fault(eng.request("POST", "/api/users", {"name": "carol@corp", "password": "a-local-pw"}), 400,
                     "directory 'corp'")
        added = eng.call("POST", "/api/users", {"name": "carol@corp"}, expect=201)
        assert added["domain"] == "corp", added
        assert eng.get("/api/domains/corp/users", params={"search": "carol"})["users"][0]["user_id"] == added["id"]
        expect_fault(eng.request("POST", "/api/users", {"name": "carol@corp"}), 409)
        expect_fault(eng.request("POST", "/api/groups", {"name": "nosuch@corp"}), 404, "no group 'nosuch'")
        devops = eng.call("POST", "/api/groups", {"name": "devops@corp"}, expect=201)
        expect_fault(eng.request("PUT", devops["href"], {"name": "nosuch@corp"}), 404, "no group 'nosuch'")
        assert eng.get("/api/domains/corp/groups", params={"search": "devops"})["groups"][0]["group_id"] == \
            devops["id"]
        role = next(r["id"] for r in eng.get("/api/roles", params={"max": 100})["roles"] if r["name"] == "UserRole")
        eng.call("POST", "/api/permissions", {"role_id": role, "object_type": "vm", "object_id": vm["id"],
                                              "user_id": added["id"]}, expect=201)
        # Her first login finds that row (the same id) and its permission.
        tok = _login(eng, "carol@corp", SEARCH_USERS["carol"]).body["access_token"]
        assert [v["id"] for v in eng.get("/api/vms", token=tok)["vms"]] == [vm["id"]]
        assert [u["id"] for u in eng.get("/api/users", params={"search": "name=carol@corp"})["users"]] == [added["id"]]
        assert [m["name"] for m in eng.get(f"{devops['href']}/members")["members"]] == ["carol@corp"]
        # Searching is for those who may add users: carol may not, audited.
        f = names("users", "bob", 403, token=tok)
        assert "manipulate_users" in f, f
        assert any(e["user"] == "carol@corp" and "permission denied" in e["message"] for e in eng.events())
        # The directory refusing the profile's account, or down: a 503 naming the profile, no password in it.
        eng.call("PUT", dom["href"], {"bind_password": "wrong-bind-pw"})
        f = names("users", "bob", 503)
        assert "'corp'" in f and "bind DN or password" in f and "wrong-bind-pw" not in f, f
        eng.call("PUT", dom["href"], {"bind_password": slapd.ADMIN_PW})
        ds.stop()
        for what in ("users", "groups"):
            f = names(what, "bob", 503)
            assert "'corp'" in f and "cannot be reached" in f and slapd.ADMIN_PW not in f, f
        expect_fault(eng.request("POST", "/api/users", {"name": "bob@corp"}), 503, "corp")
        ds.start()
        assert names("users", "bob") == ["bob@corp"]


DS_USERS = {"ann": "ann-dir-pw", "ben": "ben-dir-pw", "lee": "lee-dir-pw", "a*": "star-pw"}
# groupOfUniqueNames (uniqueMember) as 389-DS and IdM's compat tree hold groups; groupOfNames beside it
DS_GROUPS = {"admins": ("groupOfUniqueNames", ["ann"]), "staff": ("groupOfNames", ["ann", "ben"]),
             "empty": ("groupOfUniqueNames", []),
             "company": ("groupOfNames", ["@staff"])}  # a group of a group: found through memberOf


@one_backend  # its subject is the directory server; what the engine stores runs on both above
def test_directory_389ds(ctx):
    """The same login and search against 389 Directory Server (IdM's
    server; harness/ds389.py), the profile binding as a service account
    an ACI lets read what the engine reads: uids and passwords (hashed by 389-DS),
    memberships from uniqueMember and member given with DNs in another
    case, the search, and refusals: wrong passwords, names that would
    widen the filter, and an account locked with nsAccountLock."""
    if not ds389.available():
        raise Skip("389-ds-base is not installed (scripts/setup installs it)")
    with Engine(ctx) as eng, ds389.DS389(eng.pki_dir, DS_USERS, DS_GROUPS, locked=["lee"]) as ds:
        dom = eng.call("POST", "/api/domains", {"name": "idm", "url": ds.url, "tls": "ldaps", "bind_dn": ds389.BIND_DN,
                                                "bind_password": ds389.BIND_PW, "base_dn": ds389.BASE}, expect=201)
        groups = {g: eng.call("POST", "/api/groups", {"name": f"{g}@idm"}, expect=201)
                  for g in ("admins", "staff", "company")}
        assert eng.call("POST", "/api/groups", {"name": "EMPTY@idm"}, expect=201)["name"] == "empty@idm"
        vm = eng.create_vm("idmvm", eng.create_cluster("idmcl", eng.create_dc("idmdc")["id"])["id"])
        role = next(r["id"] for r in eng.get("/api/roles", params={"max": 100})["roles"] if r["name"] == "UserRole")
        eng.call("POST", "/api/permissions", {"role_id": role, "object_type": "vm", "object_id": vm["id"],
                                              "group_id": groups["admins"]["id"]}, expect=201)
        r = _login(eng, "Ann@idm", DS_USERS["ann"])
        assert r.status == 200, r
        ann = r.body["access_token"]
        assert eng.get("/api/users/me", token=ann)["name"] == "ann@idm"
        assert [v["id"] for v in eng.get("/api/vms", token=ann)["vms"]] == [vm["id"]]
        assert _login(eng, "ben@idm", DS_USERS["ben"]).status == 200
        ben = _login(eng, "ben@idm", DS_USERS["ben"]).body["access_token"]
        assert eng.get("/api/vms", token=ben)["total"] == 0  # staff, not admins
        members = {g: [m["name"] for m in eng.get(f"{v['href']}/members")["members"]] for g, v in groups.items()}
        assert members == {"admins": ["ann@idm"], "staff": ["ann@idm", "ben@idm"],
                           "company": ["ann@idm", "ben@idm"]}, members
        # Refused, each a 401 and no 503: wrong or empty password, unknown, filter syntax, a locked account
        # (389-DS answers its bind "unwilling to perform", not "invalid credentials").
        for name, pw in (("ann@idm", "wrong"), ("ann@idm", ""), ("nobody@idm", "x"), ("*@idm", DS_USERS["ann"]),
                         ("a*@idm", DS_USERS["ann"]), ("ann)(uid=*@idm", DS_USERS["ann"]),
                         ("lee@idm", DS_USERS["lee"]), ("lee@idm", "wrong"),
                         ("vireo@idm", ds389.BIND_PW)):  # the service account is no user, even with its password
            expect_fault(_login(eng, name, pw), 401)
        assert _login(eng, "a*@idm", DS_USERS["a*"]).status == 200  # '*' escaped: the user named "a*"
        # StartTLS on the plain port, the same certificate
        eng.call("POST", "/api/domains", {"name": "idmtls", "url": ds.starttls_url, "tls": "starttls",
                                          "bind_dn": ds389.BIND_DN, "bind_password": ds389.BIND_PW,
                                          "base_dn": ds389.BASE}, expect=201)
        assert _login(eng, "ben@idmtls", DS_USERS["ben"]).status == 200
        expect_fault(_login(eng, "lee@idmtls", DS_USERS["lee"]), 401)
        # The search: users by uid, cn or displayName; groups of both classes; what is searched is a value.
        found = eng.get("/api/domains/idm/users", params={"search": "ANN TEST"})["users"]
        assert [(u["name"], u["display_name"], u["email"], u["dn"].lower()) for u in found] == \
            [("ann@idm", "Ann Tester", "ann@vireo.test", f"uid=ann,ou=people,{ds389.BASE}")], found
        everyone = [u["name"] for u in eng.get("/api/domains/idm/users", params={"search": ""})["users"]]
        # people only: not the service account (an "account" entry with a uid, as IdM's sysaccounts are)
        assert everyone == ["a*@idm", "ann@idm", "ben@idm", "lee@idm"], everyone
        expect_fault(eng.request("POST", "/api/users", {"name": "vireo@idm"}), 404, "no user 'vireo'")
        assert [g["name"] for g in eng.get("/api/domains/idm/groups", params={"search": ""})["groups"]] == \
            ["admins@idm", "company@idm", "empty@idm", "staff@idm"]
        for text in ("*)(uid=*", "\\2a", ")", "*)(objectClass=*"):
            assert eng.get("/api/domains/idm/users", params={"search": text})["users"] == [], text
        assert [u["name"] for u in eng.get("/api/domains/idm/users", params={"search": "*"})["users"]] == ["a*@idm"]
        # The service account's password wrong: the profile's fault, said so; then down, and back.
        eng.call("PUT", dom["href"], {"bind_password": "nope"})
        expect_fault(_login(eng, "ann@idm", DS_USERS["ann"]), 503, "bind DN or password")
        eng.call("PUT", dom["href"], {"bind_password": ds389.BIND_PW})
        ds.stop()
        expect_fault(_login(eng, "ann@idm", DS_USERS["ann"]), 503, "cannot be reached")
        ds.start()
        assert _login(eng, "ann@idm", DS_USERS["ann"]).status == 200


AD_USERS = {"amy": "Amy-Pass-1x", "ray": "Ray-Pass-1x", "dan": "Dan-Pass-1x"}
AD_GROUPS = {"inner": ["amy"], "outer": ["inner"], "solo": ["ray"]}  # outer holds amy through inner only


@one_backend  # its subject is the directory server; what the engine stores runs on both above
def test_directory_active_directory(ctx):
    """Login and search against a real Active Directory DC (Samba's;
    harness/samba_ad.py), a profile of type 'ad' binding as an ordinary
    domain user: users by sAMAccountName or userPrincipalName, groups
    from the chain of memberships (a group in a group), a permission
    through such a group, a disabled account refused like a wrong
    password, names that would widen the filter refused, and a search
    that finds people, not computers, service accounts or groups."""
    if not samba_ad.available():
        raise Skip("Samba's AD DC is not installed (scripts/setup installs samba, samba-ad-dc and samba-ad-provision)")
    with Engine(ctx) as eng, samba_ad.SambaAD(AD_USERS, AD_GROUPS, disabled=["dan"]) as ad:
        with open(ad.ca_file) as f:
            domain_ca = f.read()  # the domain's own CA, not the engine's: the profile trusts it
        body = {"name": "ad", "type": "ad", "url": ad.url, "tls": "ldaps", "bind_dn": samba_ad.BIND_DN,
                "bind_password": samba_ad.BIND_PW, "base_dn": samba_ad.BASE}
        expect_fault(eng.request("POST", "/api/domains", dict(body, user_attribute="cn")), 400, "sAMAccountName")
        expect_fault(eng.request("POST", "/api/domains", dict(body, type="novell")), 400)
        expect_fault(eng.request("POST", "/api/domains", dict(body, ca_cert="-----BEGIN CERTIFICATE-----\nxx")),
                     400, "ca_cert")
        # The profile made with the CLI (vireo directory ...): the password from a file, never shown.
        cli = CliSession(ctx, eng)
        pw_file = os.path.join(eng.state_dir, "ad-bind-pw")
        with open(pw_file, "w") as f:
            f.write(samba_ad.BIND_PW + "\n")
        made = ["directory", "create", "--name", "ad", "--type", "ad", "--url", ad.url, "--tls", "ldaps",
                "--bind-dn", samba_ad.BIND_DN, "--bind-password-file", pw_file, "--base-dn", samba_ad.BASE]
        assert "--type" in cli.run("directory", "create", "--name", "x", "--type", expect=2).stderr
        dom = json.loads(cli.run(*made, "--json").stdout)
        assert (dom["type"], dom["user_attribute"], dom["ca_cert"]) == ("ad", "sAMAccountName", ""), dom
        assert "bind_password" not in dom and samba_ad.BIND_PW not in cli.run("directory", "show", "ad", "--json").stdout
        assert cli.run(*made, expect=1).stderr.strip()  # the name is taken: the engine's refusal printed
        listed = cli.run("directory", "list").stdout
        assert "ad" in listed and ad.url in listed, listed
        # Without the domain's CA its certificate is not trusted: the directory cannot be reached.
        expect_fault(_login(eng, "amy@ad", AD_USERS["amy"]), 503, "cannot be reached")
        got = json.loads(cli.run("directory", "update", "ad", "--ca-cert-file", ad.ca_file, "--json").stdout)
        assert got["ca_cert"] == domain_ca and eng.get(dom["href"])["ca_cert"] == domain_ca, got
        tmp = json.loads(cli.run("directory", "create", "--name", "adtmp", "--url", ad.url, "--tls", "ldaps",
                                 "--bind-dn", samba_ad.BIND_DN, "--bind-password-file", pw_file, "--base-dn",
                                 samba_ad.BASE, "--json").stdout)
        cli.run("directory", "delete", "adtmp")
        expect_fault(eng.request("GET", tmp["href"]), 404)
        groups = {g: eng.call("POST", "/api/groups", {"name": f"{g}@ad"}, expect=201) for g in AD_GROUPS}
        vm = eng.create_vm("advm", eng.create_cluster("adcl", eng.create_dc("addc")["id"])["id"])
        role = next(r["id"] for r in eng.get("/api/roles", params={"max": 100})["roles"] if r["name"] == "UserRole")
        eng.call("POST", "/api/permissions", {"role_id": role, "object_type": "vm", "object_id": vm["id"],
                                              "group_id": groups["outer"]["id"]}, expect=201)
        # By sAMAccountName in any case, or by userPrincipalName: one user, amy@ad, with outer's permission.
        for login in ("Amy@ad", "amy@vireo.test@ad"):
            r = _login(eng, login, AD_USERS["amy"])
            assert r.status == 200, (login, r)
            amy = r.body["access_token"]
            assert eng.get("/api/users/me", token=amy)["name"] == "amy@ad"
            assert [v["id"] for v in eng.get("/api/vms", token=amy)["vms"]] == [vm["id"]]
        ray = _login(eng, "ray@ad", AD_USERS["ray"]).body["access_token"]
        assert eng.get("/api/vms", token=ray)["total"] == 0  # solo, not outer
        members = {g: [m["name"] for m in eng.get(f"{v['href']}/members")["members"]] for g, v in groups.items()}
        assert members == {"inner": ["amy@ad"], "outer": ["amy@ad"], "solo": ["ray@ad"]}, members
        # Refused, each a 401 and no 503: wrong or empty password, unknown, filter syntax, a disabled account.
        for name, pw in (("amy@ad", "wrong"), ("amy@ad", ""), ("nobody@ad", "x"), ("*@ad", AD_USERS["amy"]),
                         ("a*@ad", AD_USERS["amy"]), ("amy)(sAMAccountName=*@ad", AD_USERS["amy"]),
                         ("*)(|(sAMAccountName=amy@ad", AD_USERS["amy"]), ("dan@ad", AD_USERS["dan"]),
                         ("VIREODC$@ad", "x")):
            expect_fault(_login(eng, name, pw), 401)
        assert eng.get("/api/users", params={"search": "name=dan@ad"})["users"] == []
        # The search: people by sAMAccountName, cn or displayName; no computer (VIREODC$), groups by cn.
        found = eng.get("/api/domains/ad/users", params={"search": "AMY TEST"})["users"]
        assert [(u["name"], u["principal"], u["display_name"], u["email"], u["dn"]) for u in found] == \
            [("amy@ad", "amy", "Amy Tester", "amy@vireo.test", f"CN=amy,CN=Users,{samba_ad.BASE}")], found
        assert found[0]["user_id"] == eng.get("/api/users/me", token=amy)["id"], found
        everyone = [u["name"] for u in eng.get("/api/domains/ad/users", params={"search": "", "max": 500})["users"]]
        # the people of the domain, the DC's own accounts included (all have a sAMAccountName); not the
        # DC's computer account VIREODC$, nor the groups (which have a sAMAccountName too)
        assert everyone == ["Administrator@ad", "Guest@ad", "amy@ad", "dan@ad", "dns-vireodc@ad", "krbtgt@ad",
                            "ray@ad", "vireo-svc@ad"], everyone
        assert [g["name"] for g in eng.get("/api/domains/ad/groups", params={"search": "er"})["groups"]
                if g["name"] in ("inner@ad", "outer@ad", "solo@ad")] == ["inner@ad", "outer@ad"]
        for text in ("*)(sAMAccountName=*", "\\2a", ")", "*)(objectClass=*"):
            assert eng.get("/api/domains/ad/users", params={"search": text})["users"] == [], text
        expect_fault(eng.request("POST", "/api/users", {"name": "VIREODC$@ad"}), 404, "no user")
        assert eng.call("POST", "/api/users", {"name": "vireo-svc@ad"}, expect=201)["domain"] == "ad"
