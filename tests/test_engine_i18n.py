"""Japanese and English (docs/rest-api.md "Languages"): faults and events
come in the language Accept-Language asks for, Content-Language says which;
events are stored as message ids plus arguments, so one recorded while a
Japanese request was served reads in English and the other way round; rows
from before message ids keep their text; the CLI asks in the user's LANG."""

import re
import time

from harness.engine import CliSession, Engine, run_sql

JA = {"Accept-Language": "ja"}
EN = {"Accept-Language": "en"}
BOGUS = "00000000-0000-4000-8000-0000000000ff"


def _japanese(text, *args):
    """True if text, without its arguments, is Japanese: some kana or kanji
    and no ASCII letter (so no English word was left untranslated)."""
    for a in args:
        assert a in text, (a, text)
        text = text.replace(a, "")
    return not re.search(r"[A-Za-z]", text) and re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", text)


def test_faults_and_events_in_japanese_and_english(ctx):
    with Engine(ctx) as eng:
        # ---- a fault: 404 of a data center that does not exist
        r = eng.request("GET", f"/api/datacenters/{BOGUS}", headers=JA)
        assert r.status == 404 and r.headers["content-language"] == "ja", r
        ja = r.body["fault"]["detail"]
        assert _japanese(ja, BOGUS), ja
        for hdrs in (EN, {}, {"Accept-Language": "fr, de;q=0.5"}, {"Accept-Language": "ja;q=0, en"}):
            r = eng.request("GET", f"/api/datacenters/{BOGUS}", headers=hdrs)
            assert r.status == 404 and r.headers["content-language"] == "en", (hdrs, r)
            assert r.body["fault"]["detail"] == f"no data center with id '{BOGUS}'", (hdrs, r)
        # q-values and regions: ja-JP is Japanese, the higher q wins.
        for al in ("ja-JP", "en;q=0.3, ja-JP;q=0.8", "fr, JA;q=0.1"):
            r = eng.request("GET", f"/api/datacenters/{BOGUS}", headers={"Accept-Language": al})
            assert r.headers["content-language"] == "ja" and r.body["fault"]["detail"] == ja, (al, r)
        # A request refused before it is read (a path that is not UTF-8).
        r = eng.request("GET", "/api/%ff", headers=JA)
        assert r.status == 400 and r.headers["content-language"] == "ja", r
        assert _japanese(r.body["fault"]["detail"], "UTF-8", "URL", "NUL"), r
        # A fault made by a handler's validation (a bad body) as well.
        r = eng.request("POST", "/api/datacenters", {"name": ""}, headers=JA)
        assert r.status == 400 and _japanese(r.body["fault"]["detail"], "name"), r

        # a wrong type: the type's name is a phrase of the catalog too
        r = eng.request("POST", "/api/datacenters", {"name": "x", "description": 5}, headers=JA)
        assert r.status == 400 and _japanese(r.body["fault"]["detail"], "body.description"), r

        # ---- a denial (403) names the object and the action group: all
        # of its own words Japanese
        eng.call("POST", "/api/users", {"name": "nobody@internal", "password": "secret-pw-1"}, expect=201)
        tok = eng.login("nobody@internal", "secret-pw-1", set_token=False)
        dc = eng.call("POST", "/api/datacenters", {"name": "denied1"}, expect=201)
        r = eng.request("DELETE", f"/api/datacenters/{dc['id']}", token=tok, headers=JA)
        assert r.status == 403 and r.headers["content-language"] == "ja", r
        assert _japanese(r.body["fault"]["detail"], "'nobody@internal'", "'delete'", dc["id"],
                         "'delete_storage_pool'"), r
        r = eng.request("POST", "/api/clusters", {"name": "c", "datacenter_id": dc["id"]}, token=tok, headers=JA)
        assert r.status == 403 and _japanese(r.body["fault"]["detail"], "'nobody@internal'", dc["id"],
                                                "'create_cluster'"), r
        assert eng.request("DELETE", f"/api/datacenters/{dc['id']}", token=tok).body["fault"]["detail"].startswith(
            "user 'nobody@internal' may not delete data center"), r

        # ---- events: one recorded while a Japanese request was served,
        # one while an English one was; each reads in either language.
        eng.call("POST", "/api/datacenters", {"name": "dc-ja"}, expect=201, headers=JA)
        eng.call("POST", "/api/datacenters", {"name": "dc-en"}, expect=201, headers=EN)
        search = {"search": "message=*'dc-*"}  # the quote: a UUID may hold dc- too
        r = eng.request("GET", "/api/events", params=search, headers=JA)
        assert r.status == 200 and r.headers["content-language"] == "ja", r
        msgs = [e["message"] for e in r.body["events"]]
        assert len(msgs) == 2 and _japanese(msgs[0], "'dc-en'", "admin@internal") and _japanese(
            msgs[1], "'dc-ja'", "admin@internal"), msgs
        r = eng.request("GET", "/api/events", params=search, headers=EN)
        assert r.headers["content-language"] == "en", r
        assert [e["message"] for e in r.body["events"]] == ["data center 'dc-en' was created by admin@internal",
                                                            "data center 'dc-ja' was created by admin@internal"], r.body
        # One event by id, and the login event (a message with the user's name).
        one = eng.get("/api/events", params={"search": "message=*admin@internal*logged in*", "max": "1"},
                      headers=JA)["events"][0]
        assert _japanese(one["message"], "'admin@internal'"), one

        # ---- a job that fails (no host to start a VM on): its detail (the
        # scheduler's explanation) and steps in either language
        dc = eng.get("/api/datacenters", params={"search": "name=dc-en"})["datacenters"][0]
        cl = eng.create_cluster("cl-i18n", dc["id"])
        vm = eng.create_vm("vm-i18n", cl["id"])
        job = eng.call("POST", f"/api/vms/{vm['id']}/start", expect=202)["job"]["id"]
        eng.wait_job(job, status=("failed",))
        en = eng.get(f"/api/jobs/{job}", headers=EN)
        ja = eng.get(f"/api/jobs/{job}", headers=JA)
        assert en["detail"].startswith("no host can run it"), en
        assert _japanese(ja["detail"], "up", "MiB", "vCPU"), ja
        assert [s["description"] for s in en["steps"]] == ["scheduling"], en
        # the job's description too, kept as a message id and arguments
        assert en["description"] == "Start VM 'vm-i18n'", en
        assert _japanese(ja["description"], "'vm-i18n'", "VM"), ja
        assert [s["description"] for s in ja["steps"]] == ["スケジューリングしています"], ja
        # the event of the failure: its own words Japanese, the VM's name kept
        ev = eng.get("/api/events", params={"search": f"object_id={vm['id']} and severity=error"},
                     headers=JA)["events"]
        assert ev and _japanese(ev[0]["message"], "'vm-i18n'", "up", "MiB", "vCPU", "VM"), ev

        # ---- a host's status detail: why it is connecting (an address
        # nothing answers at), in the reader's language
        h = eng.create_host("h-i18n", "127.0.0.1", cl["id"], port=9)
        deadline = time.time() + 60
        while not eng.get(f"/api/hosts/{h['id']}", headers=EN)["status_detail"] and time.time() < deadline:
            time.sleep(0.5)
        en = eng.get(f"/api/hosts/{h['id']}", headers=EN)
        ja = eng.get(f"/api/hosts/{h['id']}", headers=JA)
        assert "127.0.0.1" in en["status_detail"] and en["status_detail"] != ja["status_detail"], (en, ja)
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", ja["status_detail"]), ja

        # ---- an event from before message ids: its text, in any language
        run_sql(eng, "INSERT INTO events (time, severity, user_name, object_type, object_id, message)"
                     " VALUES (1, 'normal', '', '', '', 'an old event')")
        r = eng.request("GET", "/api/events", params={"search": "message=an old event"}, headers=JA)
        assert [e["message"] for e in r.body["events"]] == ["an old event"], r.body

        # ---- the CLI asks in the user's language
        cli = CliSession(ctx, eng)
        cli.env["LANG"] = "ja_JP.UTF-8"
        cli.env.pop("LC_ALL", None)
        cli.env.pop("LC_MESSAGES", None)
        p = cli.run("datacenter", "show", BOGUS, expect=1)
        assert _japanese(p.stderr.rsplit("Not Found:", 1)[1].strip(), BOGUS), p.stderr
        cli.env["LANG"] = "C.UTF-8"
        p = cli.run("datacenter", "show", BOGUS, expect=1)
        assert f"no data center with id '{BOGUS}'" in p.stderr, p.stderr
