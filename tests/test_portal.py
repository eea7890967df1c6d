"""The browser portals (docs/portal.md) against a running engine, without
harness hosts (no VM boots): the engine serves the built files with their
content types, gzip twins, a strict Content-Security-Policy and no
cookies, refuses paths outside them, and says how to build them when they
are missing; then a real headless Chromium logs in to the Administration
Portal, creates a VM through the dialog (the API's own error first), pages
and searches the lists, sees status change without a reload, starts and
stops VMs, and shows hostile descriptions as text; and a directory user
(a real slapd) sees only their VM in the VM Portal and starts it, is
offered no new VM, while a power user makes one from a template and
manages its snapshots and disks there; and the administrator adds a
directory user on the users tab, grants and revokes her a VM through its
permissions dialog, and she sees exactly what she was given.
The tests share one Chromium, and the three directory tests one engine
and one slapd (_Shared); the others start engines of their own, since
they check what a fresh engine offers (first choices, totals).
Screenshots of each main page: BUILD/test-artifacts/portal/."""

import atexit
import contextlib
import gzip
import json
import os
import re
import subprocess
import threading
import time
import uuid

from harness import browser, slapd
from harness.context import Skip
from harness.engine import REPO_ROOT, Engine, local_pki, run_sql
from harness.engine_storage import leave_storage, make_disk, scrub_domain, storage_dc

XSS = "<img src=x onerror=alert(1)>"
SRC = os.path.join(REPO_ROOT, "portal", "src")
# Words a Japanese page may show in Latin letters: the product's name,
# units and acronyms Japanese writes so too.
LATIN_OK = {"Vireo", "VM", "CPU", "MiB", "KiB", "GiB", "TiB", "VLAN", "MTU", "ISO", "HTTP", "VNC", "SPM", "OK", "Enter", "NFS"}


AXE_JS = os.path.join(REPO_ROOT, "portal", "node_modules", "axe-core", "axe.min.js")


def _stale(index):
    """Whether the built portal is older than a file of portal/src (a
    reused build directory after the sources changed)."""
    built = os.path.getmtime(index)
    return any(os.path.getmtime(os.path.join(d, n)) > built
               for d, _, names in os.walk(SRC) for n in names)


def _portal_dir(ctx):
    """The built portal (scripts/test builds it; built here when missing or
    older than its sources, which also installs axe-core, a build
    dependency of portal/)."""
    d = os.path.join(ctx.build, "portal")
    index = os.path.join(d, "index.html")
    if not os.path.exists(index) or not os.path.exists(AXE_JS) or _stale(index):
        subprocess.run([os.path.join(REPO_ROOT, "scripts", "build-portal"), d], check=True,
                       capture_output=True, timeout=600)
    return d


def _untranslated(code):
    """Literal UI text outside t() in portal source (comments dropped): JSX
    text, text attributes, English phrases in strings and templates."""
    code = re.sub(r"/\*.*?\*/", "", code, flags=re.S)
    code = re.sub(r"(^|[^:\\])//[^\n]*", r"\1", code)
    found = []
    for m in re.finditer(r">([^<>{}]*)<", code):
        txt = m.group(1).strip()
        if re.search(r"[A-Za-z]{2,}", txt) and txt != "Vireo" and not re.search(r"=>|&&|\|\||[;()=]", txt):
            found.append(("JSX text", txt))
    found += [("attribute", m.group(0)) for m in
              re.finditer(r"\b(?:aria-label|title|placeholder|label|alt)=\"[^\"]*[A-Za-z][^\"]*\"", code)]
    found += [("string", m.group(1)) for m in re.finditer(r"\"([A-Za-z][a-z']*(?: [A-Za-z'][a-z']*)+[.:!?]?)\"", code)]
    for m in re.finditer(r"`(?:[^`\\]|\\.)*`", code):
        if re.search(r"[A-Za-z]{2,} [A-Za-z]{2,}", re.sub(r"\$\{[^}]*\}", " ", m.group(0)[1:-1])):
            found.append(("template", m.group(0)))
    return found


def _catalog_problems():
    """The catalogs hold the same keys, every t("key") of the source is in
    them, Japanese is Japanese, and no UI text is left outside t()."""
    with open(os.path.join(SRC, "i18n", "en.json"), encoding="utf-8") as f:
        en = json.load(f)
    with open(os.path.join(SRC, "i18n", "ja.json"), encoding="utf-8") as f:
        ja = json.load(f)
    problems = [("only in en.json", k) for k in sorted(set(en) - set(ja))]
    problems += [("only in ja.json", k) for k in sorted(set(ja) - set(en))]
    for k, v in ja.items():
        # Latin words beyond the allowed (and the login hint's syntax, uid@profile).
        if set(re.findall(r"[A-Za-z]{2,}", re.sub(r"\{\w+\}", "", v))) - LATIN_OK - {"internal", "uid"}:
            problems.append(("English in ja.json", k, v))
        if set(re.findall(r"\{\w+\}", v)) != set(re.findall(r"\{\w+\}", en.get(k, ""))):
            problems.append(("placeholders differ", k))
    for name in sorted(os.listdir(SRC)):
        if not name.endswith((".js", ".jsx")):
            continue
        with open(os.path.join(SRC, name), encoding="utf-8") as f:
            code = f.read()
        problems += [("unknown key", name, k) for k in re.findall(r"\bt\(\s*\"([^\"]+)\"", code) if k not in en]
        problems += [("not through t()", name) + p for p in _untranslated(code)]
    return problems


# The masthead's (or login page's) language select set to arguments[0].
PICK_LANG = ("const s = document.querySelector('#language'); s.value = arguments[0];"
             "s.dispatchEvent(new Event('change', {bubbles: true}))")


def _latin_left(b, also=()):
    """Words in Latin letters on the page that are the portal's own (API
    data, marked vireo-data, and other languages' names excluded)."""
    return b.js("""
      const ok = new Set(arguments[0]), found = [];
      const skip = (el) => !el || el.closest('.vireo-data, [lang]:not([lang=ja]), script, style, noscript');
      const look = (text, el) => { for (const m of text.matchAll(/[A-Za-z]{2,}/g))
        if (!ok.has(m[0])) found.push(m[0] + ' in ' + el.outerHTML.slice(0, 120)); };
      const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      while (w.nextNode()) if (!skip(w.currentNode.parentElement)) look(w.currentNode.data, w.currentNode.parentElement);
      for (const el of document.querySelectorAll('[aria-label], [title]'))
        if (!skip(el)) look((el.getAttribute('aria-label') || '') + ' ' + (el.getAttribute('title') || ''), el);
      return found;""", sorted(LATIN_OK | set(also)))


def _accessible(b, page):
    """No serious or critical accessibility violation on the page (axe-core)."""
    with open(AXE_JS) as f:
        found = b.axe(f.read())
    assert not found, (page, found)


def _engine(ctx, portal=None):
    return Engine(ctx, pki_dir=local_pki(), extra_args=["--portal-dir", portal or _portal_dir(ctx)])


def _artifacts(ctx):
    return os.path.join(ctx.build, "test-artifacts", "portal")


# What the file's tests share instead of each starting its own (a Chromium
# takes seconds to start and to load the portal the first time; so do an
# engine and a slapd): one Chromium for every browser test, and one engine
# with one slapd (and its directory profile "corp") for the three directory
# tests. Each test's objects have names of their own. Opened by the first
# test that needs them; closed by the file's last test, or at exit when a
# -k run leaves that one out.
DIR_USERS = {"bob": "bob-dir-pw", "dora": "dora-dir-pw", "dean": "dean-dir-pw", "gina": "gina-dir-pw"}
DIR_GROUPS = {"devs": ["bob"], "ops": ["dean"], "qa": ["gina"]}


class _Shared:
    def __init__(self):
        self.b = self.eng = self.ds = self.corp = None
        self.failed = False  # a test failed on the shared engine: its state dir is kept
        atexit.register(self.close)

    def browser(self, ctx):
        if self.b is None:
            self.b = browser.Browser(_artifacts(ctx))
        return self.b

    def directory(self, ctx):
        """The shared engine, slapd and profile "corp", started once."""
        if self.eng is None:
            eng = _engine(ctx)
            self.eng = eng.__enter__()
        if self.ds is None:
            self.ds = slapd.Slapd(self.eng.pki_dir, DIR_USERS, DIR_GROUPS).start()
            self.corp = self.eng.call("POST", "/api/domains", {
                "name": "corp", "url": self.ds.url, "tls": "ldaps", "bind_dn": slapd.ADMIN_DN,
                "bind_password": slapd.ADMIN_PW, "base_dn": slapd.BASE}, expect=201)
        return self.eng, self.ds

    def close(self):
        """Everything shared stopped (the engine checked as a `with` block
        would: a clean exit and log, unless a test on it failed)."""
        b, ds, eng, self.b, self.ds, self.eng = self.b, self.ds, self.eng, None, None, None
        try:
            if b is not None:
                b.close()
        finally:
            try:
                if ds is not None:
                    ds.__exit__(None, None, None)
            finally:
                if eng is not None:
                    failed = (AssertionError, AssertionError("an earlier test failed"), None) if self.failed \
                        else (None, None, None)
                    eng.__exit__(*failed)


_SHARED = _Shared()


@contextlib.contextmanager
def _browser(ctx):
    """The shared Chromium, its console drained (earlier tests' pages were
    checked by them)."""
    why = browser.available()
    if why:
        raise Skip(why)
    b = _SHARED.browser(ctx)
    b.console()
    yield b


@contextlib.contextmanager
def _directory(ctx, b):
    """The shared engine and slapd (users DIR_USERS, groups DIR_GROUPS,
    profile "corp"), with the browser's storage for the engine's pages
    emptied before and after (no session or language left from another
    test). A failure marks the engine's state to be kept."""
    if not slapd.available():
        raise Skip("slapd is not installed (scripts/setup installs it)")
    eng, ds = _SHARED.directory(ctx)
    base = f"https://127.0.0.1:{eng.port}"

    def forget():
        if b.driver.current_url.startswith(base):
            b.js("sessionStorage.clear(); localStorage.clear()")
    forget()
    try:
        yield eng, ds
    except BaseException:
        _SHARED.failed = True
        try:
            forget()
        except Exception:  # noqa: S110 - the test's own failure is the one to report
            pass
        raise
    forget()


def test_portal_files_headers_and_absence(ctx):
    # Every string of the portal through the catalogs, both complete; the
    # lint sees a literal left outside t().
    problems = _catalog_problems()
    assert not problems, problems
    for code in ('<p class="x">Hello there</p>', '<b aria-label="Close">x</b>', 'say({ text: "it broke badly" })',
                 'x = `start of ${vm.name} failed`'):
        assert _untranslated(code), code
    pdir = _portal_dir(ctx)
    with open(os.path.join(pdir, "index.html"), "rb") as f:
        index = f.read()
    font = next(n for n in os.listdir(os.path.join(pdir, "assets")) if n.endswith(".woff2"))
    with _engine(ctx, pdir) as eng:
        gz = {"Accept-Encoding": "gzip, deflate, br"}
        for path in ("/", "/admin", "/admin/vms", "/vm", "/vm/x/y"):
            r = eng.request("GET", path, token=None, headers=gz)
            h = r.headers
            assert r.status == 200 and h["content-type"] == "text/html; charset=utf-8", (path, r, h)
            assert h.get("content-encoding") == "gzip" and "accept-encoding" in h["vary"].lower(), h
            csp = h["content-security-policy"]
            for rule in ("default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'",
                         "frame-ancestors 'none'", "form-action 'none'", "base-uri 'none'"):
                assert rule in csp, (rule, csp)
            assert "unsafe" not in csp and "set-cookie" not in h, h
            assert h["x-content-type-options"] == "nosniff" and h["x-frame-options"] == "DENY", h
        # The raw bytes, as http.client hands them over undecoded.
        r = eng.request("GET", "/admin", token=None, headers=gz)
        raw = eng.request("GET", "/vm", token=None, headers={"Accept-Encoding": "gzip;q=0"})
        assert "content-encoding" not in raw.headers and raw.text.encode() == index, raw.headers
        plain = eng.request("GET", "/admin", token=None)
        assert "content-encoding" not in plain.headers and plain.text.encode() == index
        for ae, zipped in (("GZIP", True), ("deflate,gzip ; q=0.5", True), ("gzip;q=0.000", False),
                           ("x-gzip", False), ("identity", False), ("br, *", False)):
            r = eng.request("GET", "/portal/app.js", token=None, headers={"Accept-Encoding": ae})
            assert (r.headers.get("content-encoding") == "gzip") == zipped, (ae, r.headers)
        for path, ctype in (("/portal/app.js", "text/javascript; charset=utf-8"),
                            ("/portal/app.css", "text/css; charset=utf-8"),
                            (f"/portal/assets/{font}", "font/woff2")):
            r = eng.request("GET", path, token=None, headers=gz)
            assert r.status == 200 and r.headers["content-type"] == ctype, (path, r.headers)
            with open(os.path.join(pdir, path[len("/portal/"):]), "rb") as f:
                want = f.read()
            if path.endswith(".woff2"):  # compressed already: no twin, sent as is
                assert "content-encoding" not in r.headers and int(r.headers["content-length"]) == len(want)
            else:
                assert r.headers["content-encoding"] == "gzip", r.headers
        r = eng.request("HEAD", "/admin", token=None)
        assert r.status == 200 and r.text == "", r
        assert eng.request("POST", "/admin", {}, token=None).status == 405
        # Nothing outside the built files: traversal, hidden files, odd names.
        for path in ("/portal/../../etc/passwd", "/portal/%2e%2e/%2e%2e/etc/passwd", "/portal/.hidden",
                     "/portal//etc/passwd", "/portal/assets/../index.html", "/portal/", "/portal/a%00b",
                     "/portal/app.js/", "/portal/missing.js"):
            r = eng.request("GET", path, token=None)
            assert r.status in (400, 404) and "root:" not in r.text, (path, r)
        # Neighbours of the portal's paths are still the API's.
        for path in ("/vmx", "/administrator", "/portalx"):
            r = eng.request("GET", path, token=None)
            assert r.status == 404 and "under /api" in r.body["fault"]["detail"], (path, r)
        assert eng.request("GET", "/api/openapi.json", token=None).status == 200
        # GET /metrics counts the portal's requests as one route.
        metrics = eng.request("GET", "/metrics").text
        assert 'route="{portal}"' in metrics and '/portal/app.js"' not in metrics, metrics[-2000:]
        # Without the built files the engine runs; the pages say how to build them.
        eng.extra_args = ["--portal-dir", os.path.join(eng.state_dir, "no-portal")]
        eng.restart()
        r = eng.request("GET", "/admin", token=None)
        assert r.status == 503 and r.headers["content-type"].startswith("text/html"), r
        assert "scripts/build-portal" in r.text and "--portal-dir" in r.text and eng.state_dir not in r.text, r
        assert eng.request("GET", "/portal/app.js", token=None).status == 404
        assert eng.get("/api/datacenters")["total"] == 0


def _attrs(b, css, name):
    """Attribute `name` of every element matching css, in one round trip
    (one WebDriver call per element takes a second for a long list)."""
    return b.js("return [...document.querySelectorAll(arguments[0])].map(e => e.getAttribute(arguments[1]))", css, name)


def _row(b, name):
    return f"tr[data-name='{name}']"


def test_admin_portal_in_chromium(ctx):
    with _engine(ctx) as eng, _browser(ctx) as b:
        base = f"https://127.0.0.1:{eng.port}"
        b.open(base + "/admin")
        b.find("#login-user")
        b.shot("login")
        _accessible(b, "login")
        # The whole first load (page, script, style, fonts), as transferred: gzip'ed.
        size = b.js("return performance.getEntriesByType('navigation').concat("
                    "performance.getEntriesByType('resource')).reduce((a, e) => a + e.transferSize, 0)")
        assert 0 < size < 1 << 20, size
        print(f"  portal first load: {size / 1024:.0f} KiB transferred")
        # A wrong password: the API's words on the login page.
        b.type("#login-user", "admin@internal")
        b.type("#login-password", "not-the-password")
        b.click("#login-submit")
        b.wait_text("#login-error", "wrong user name or password")  # the API's 401 detail
        b.type("#login-password", eng.admin_password)
        b.click("#login-submit")
        b.find("[data-list=vms]")
        assert b.js("return document.cookie") == ""

        # The tree's first objects through the dialogs: data center, cluster, host.
        b.click("#tab-datacenters")
        b.click("#new-datacenters")
        b.type("#dc-name", "pdc")
        b.type("#dc-description", "<b>dc</b>")
        b.click("#create-dc-submit")
        b.wait_text("[data-list=datacenters]", "pdc")
        dc = eng.list("datacenters", search="name=pdc")["datacenters"][0]
        assert dc["description"] == "<b>dc</b>" and not b.all("[data-list=datacenters] td b")
        b.click("#tab-clusters")
        b.click("#new-clusters")
        b.type("#cluster-name", "pcl")
        b.wait(lambda: b.find("#cluster-datacenter").get_attribute("value") == dc["id"], what="the data center chosen")
        b.click("#create-cluster-submit")
        b.wait_text("[data-list=clusters]", "pcl")
        cl = eng.list("clusters", search="name=pcl")["clusters"][0]
        assert cl["datacenter"]["id"] == dc["id"], cl
        b.click("#tab-hosts")
        b.click("#new-hosts")
        b.type("#host-name", "phost")
        b.type("#host-address", "127.0.0.1")
        b.type("#host-port", "1")  # nothing listens: the host stays away from up, no VM can start
        b.click("#create-host-submit")
        b.wait_text("[data-list=hosts]", "phost")
        host = eng.list("hosts", search="name=phost")["hosts"][0]
        assert (host["cluster_id"], host["port"]) == (cl["id"], 1), host
        b.shot("admin-create-host")

        web1 = eng.create_vm("web1", cl["id"], description=XSS)
        b.click("#tab-vms")
        b.wait_text("[data-list=vms]", "web1")
        token = b.js("return JSON.parse(sessionStorage.getItem('vireo.session')).token")
        assert eng.request("GET", "/api/vms", token=token).status == 200
        # A hostile description is text: no element made of it, no script run.
        cell = b.find(f"{_row(b, 'web1')} .vireo-desc")
        assert cell.text == XSS and not b.all("[data-list=vms] td img"), cell.get_attribute("innerHTML")
        assert not b.alert_open()
        b.shot("admin-vms")

        # The create-VM dialog: a refused name gets the API's own message.
        b.click("#new-vms")
        b.type("#vm-name", XSS)
        b.click("#create-vm-submit")
        want = eng.request("POST", "/api/vms", {"name": XSS, "cluster_id": cl["id"], "memory_mib": 256, "vcpus": 1})
        assert want.status == 400
        b.wait_text("#create-vm-error", want.body["fault"]["detail"])
        assert not b.alert_open()
        b.shot("admin-create-vm-error")
        _accessible(b, "create-VM dialog")
        b.type("#vm-name", "portal-vm1")
        b.type("#vm-memory", "300")
        b.type("#vm-description", "<script>alert(2)</script>")
        b.click("#create-vm-submit")
        b.wait(lambda: not b.all("#create-vm"), what="the dialog closed")
        _accessible(b, "vms")
        b.wait_text("[data-list=vms]", "portal-vm1")
        vm1 = eng.list("vms", search="name=portal-vm1")["vms"][0]
        assert vm1["memory_mib"] == 300 and vm1["cluster_id"] == cl["id"], vm1
        assert vm1["description"] == "<script>alert(2)</script>"
        assert b.text(f"{_row(b, 'portal-vm1')} .vireo-desc") == vm1["description"]

        # Paging over the API's max/page/total, and its search.
        for i in range(22):
            eng.create_vm(f"bulk{i:02d}", cl["id"])
        b.wait_text("[data-list=vms] .vireo-total", "24")
        assert len(b.all("[data-list=vms] tbody tr")) == 20
        b.click("[data-list=vms] button[aria-label='Next page']")
        b.wait(lambda: len(b.all("[data-list=vms] tbody tr")) == 4, what="page 2 with 4 VMs")
        b.type("#search-vms", "name=portal*\n")
        b.wait(lambda: _attrs(b, "[data-list=vms] tbody tr", "data-name") == ["portal-vm1"],
               what="the search's one VM")
        assert b.text("[data-list=vms] .vireo-total") == "1"

        # Live: a status change and a VM made elsewhere show up without a reload.
        run_sql(eng, f"UPDATE vms SET status = 'up' WHERE id = '{vm1['id']}'")
        b.wait(lambda: b.find(f"{_row(b, 'portal-vm1')} [data-status]").get_attribute("data-status") == "up",
               what="portal-vm1 shown up")
        b.shot("admin-vms-live")
        # Stop is offered; the engine refuses it (up on no host) and the portal shows its reason.
        b.click(f"{_row(b, 'portal-vm1')} button[data-action=stop]")
        refused = eng.request("POST", f"{vm1['href']}/stop")
        assert refused.status == 409, refused
        b.wait_text("#action-message", refused.body["fault"]["detail"])
        run_sql(eng, f"UPDATE vms SET status = 'down' WHERE id = '{vm1['id']}'")
        b.type("#search-vms", "name=web1\n")
        b.click(f"{_row(b, 'web1')} button[data-action=start]")
        # The job is followed to its end: no host is up, so it fails with the scheduler's reason.
        b.wait_text("#action-message", "start of web1: job failed", timeout=30)
        assert b.find("#action-progress").get_attribute("data-job-status") == "failed"  # its progress bar
        jobs = eng.list("jobs", search=f"object_id={web1['id']}")["jobs"]
        assert jobs[0]["status"] == "failed" and jobs[0]["detail"] in b.text("#action-message"), jobs
        b.type("#search-vms", "\n")
        eng.create_vm("a-live", cl["id"])  # sorts first: on page 1
        b.wait_text("[data-list=vms]", "a-live")
        b.wait_text("[data-list=vms] .vireo-total", "25")
        # ...told by the events feed (GET /api/events?search=after=ID), not only the slower re-read.
        b.wait(lambda: int(b.find("[data-list=vms]").get_attribute("data-live")) > 0, what="a refresh from the events feed")
        jobs = eng.list("jobs", search=f"object_id={web1['id']}")["jobs"]
        assert [j["action"] for j in jobs] == ["start"] and jobs[0]["user"] == "admin@internal", jobs

        # The other lists, each a page of its own; rows no agent-free path
        # makes (storage, templates, pools) put in directly, hostile names included.
        sd, disk, tmpl, pool = (str(uuid.uuid4()) for _ in range(4))
        run_sql(eng,
                f"INSERT INTO storage_domains (id, name, description, sd_type, storage_type, storage_spec, datacenter_id,"
                f" status, created_at) VALUES ('{sd}', '{XSS}', '{XSS}', 'data', 'nfs', '{{}}', '{dc['id']}', 'active', 0)",
                f"INSERT INTO disks (id, volume_id, alias, description, storage_domain_id, format, sparse,"
                f" provisioned_size, status, created_at) VALUES ('{disk}', '{uuid.uuid4()}', '{XSS}', '{XSS}', '{sd}',"
                f" 'raw', 1, 1048576, 'ok', 0)",
                f"INSERT INTO templates (id, name, description, cluster_id, memory_mib, vcpus, spec_json, status,"
                f" created_at) VALUES ('{tmpl}', '{XSS}', '{XSS}', '{cl['id']}', 128, 1, '{{}}', 'ok', 0)",
                f"INSERT INTO vm_pools (id, name, description, cluster_id, template_id, type, size, created_at) VALUES"
                f" ('{pool}', 'ppool', '{XSS}', '{cl['id']}', '{tmpl}', 'manual', 0, 0)")
        eng.call("POST", "/api/networks", {"name": "pnet", "datacenter": dc["id"], "vlan": 7, "description": XSS},
                 expect=201)
        eng.call("POST", "/api/users", {"name": "carol@internal", "password": "carol-pw-123", "description": XSS},
                 expect=201)
        eng.call("POST", "/api/groups", {"name": "pgroup"}, expect=201)  # a row for the groups tab in Japanese
        for tab, needle in (("hosts", "phost"), ("clusters", "pcl"), ("datacenters", "<b>dc</b>"),
                            ("storagedomains", XSS), ("networks", "pnet"), ("templates", XSS), ("vmpools", "ppool"),
                            ("disks", XSS), ("users", "carol@internal"), ("jobs", "web1"), ("events", "portal-vm1")):
            b.click(f"#tab-{tab}")
            b.find(f"[data-list={tab}]")
            b.wait_text(f"[data-list={tab}]", needle)
            assert not b.all(f"[data-list={tab}] td img, [data-list={tab}] td b, [data-list={tab}] td i"), tab
            if tab == "jobs":  # each job's progress bar (web1's start failed)
                bar = b.find("[data-list=jobs] .pf-v6-c-progress[data-job-status=failed] [role=progressbar]")
                assert bar.get_attribute("aria-valuenow") is not None
            b.shot(f"admin-{tab}")
            _accessible(b, tab)
        assert not b.alert_open()
        assert b.text(f"[data-list=events] tr:first-child .vireo-message")  # newest first, as text

        # The host's monitor moved it on (no agent answers): the Hosts tab follows without a reload.
        b.click("#tab-hosts")
        def shown_as_engine_says():
            shown = b.find(f"{_row(b, 'phost')} [data-status]").get_attribute("data-status")
            return shown != "installing" and shown == eng.host(host["id"])["status"]
        b.wait(shown_as_engine_says, 20, "phost's status moving on as the engine says")
        _more_dialogs(b, eng, host, vm1)
        # A running VM's guest agent report in its row (English here, Japanese labels below).
        b.click("#tab-vms")
        first = b.find("[data-list=vms] tbody tr[data-id]").get_attribute("data-id")
        b.js(FEED_GUEST, first, GUEST_INFO)
        _reread_vms(b, "")
        _guest_shown(b, f"[data-list=vms] tr[data-id='{first}']")
        assert "Host name" in b.text(f"[data-list=vms] tr[data-id='{first}'] .vireo-guest")
        _japanese(b, eng, base)  # its VMs tab with the report: no English left
        problems = [m for m in b.console() if "Content Security Policy" in m["message"]
                    or "Refused to" in m["message"]]
        assert not problems, problems

        # Logging out revokes the token and forgets it.
        b.click("#logout")
        b.find("#login-user")
        assert b.js("return sessionStorage.getItem('vireo.session')") is None
        assert eng.request("GET", "/api/vms", token=token).status == 401


def _reread_vms(b, search):
    """The VMs tab read again now (left and opened again, searched), not
    at its next poll (5 s)."""
    b.click("#tab-hosts")
    b.find("[data-list=hosts]")
    b.click("#tab-vms")
    b.find("[data-list=vms]")
    b.type("#search-vms", search + "\n")


def _remove_refused(b, eng, tab, name, kind, url):
    """The remove dialog of NAME on TAB submitted: the API's 409 for the
    same DELETE shown in it, the dialog left open."""
    b.click(f"#tab-{tab}")
    b.click(f"{_row(b, name)} button[data-action=remove]")
    b.click(f"#remove-{kind}-submit")
    refused = eng.request("DELETE", url)
    assert refused.status == 409, refused
    b.wait_text(f"#remove-{kind}-error", refused.body["fault"]["detail"])


def _more_dialogs(b, eng, host, vm1):
    """Edit, remove, host maintenance and activation, migrate, statistics:
    each shows the API's own answer."""
    # Edit: the API's refusal stays in the dialog; then a change it takes.
    b.click("#tab-vms")
    b.type("#search-vms", "name=portal-vm1\n")
    b.wait(lambda: _attrs(b, "[data-list=vms] tbody tr", "data-name") == ["portal-vm1"],
           what="portal-vm1 alone")
    b.click(f"{_row(b, 'portal-vm1')} button[data-action=edit]")
    b.type("#vm-memory", "0")
    b.click("#edit-vm-submit")
    want = eng.request("PUT", vm1["href"], {"memory_mib": 0})
    assert want.status == 400, want
    b.wait_text("#edit-vm-error", want.body["fault"]["detail"])
    b.shot("admin-edit-vm-error")
    _accessible(b, "edit-VM dialog")
    b.type("#vm-memory", "320")
    b.type("#vm-description", "edited <i>x</i>")
    b.click("#edit-vm-submit")
    b.wait(lambda: not b.all("#edit-vm"), what="the edit dialog closed")
    got = eng.get(vm1["href"])
    assert (got["memory_mib"], got["description"]) == (320, "edited <i>x</i>"), got
    b.wait_text(f"{_row(b, 'portal-vm1')} .vireo-desc", "edited <i>x</i>")
    # Migrate: refused (up on no host), the API's reason shown.
    run_sql(eng, f"UPDATE vms SET status = 'up' WHERE id = '{vm1['id']}'")
    _reread_vms(b, "name=portal-vm1")  # the live change is checked above
    b.click(f"{_row(b, 'portal-vm1')} button[data-action=migrate]")
    b.find("#migrate-host")
    _accessible(b, "migrate dialog")
    b.click("#migrate-vm-submit")
    refused = eng.request("POST", f"{vm1['href']}/migrate", {})
    assert refused.status == 409, refused
    b.wait_text("#action-message", refused.body["fault"]["detail"])
    run_sql(eng, f"UPDATE vms SET status = 'down' WHERE id = '{vm1['id']}'")
    # Statistics: the engine's history of the VM (none: it never ran), drawn as three charts.
    b.click(f"{_row(b, 'portal-vm1')} button[data-action=stats]")
    b.wait(lambda: b.find("#stats [data-samples]").get_attribute("data-samples") == "0", what="the VM's history")
    assert len(b.all("#stats svg[role=img]")) == 3
    b.click("[data-stats-close]")
    # Remove: a host not in maintenance is refused with the API's reason.
    _remove_refused(b, eng, "hosts", "phost", "host", f"/api/hosts/{host['id']}")
    b.shot("admin-remove-host-error")
    _accessible(b, "remove dialog")
    b.click("#remove-host .pf-m-link")
    # Maintenance: a job, followed to its end with its progress bar (phost
    # never answers: the job ends as the engine decides, finished or failed).
    b.click(f"{_row(b, 'phost')} button[data-action=maintenance]")
    b.wait(lambda: re.search(r"maintenance of phost: job (finished|failed)", b.text("#action-message")), 30,
           "the maintenance job's end")
    job = eng.list("jobs", search=f"object_id={host['id']}")["jobs"][0]
    shown = b.text("#action-message")
    assert job["action"] == "maintenance" and f"job {job['status']}" in shown and (job["detail"] or "") in shown, job
    assert b.find("#action-progress").get_attribute("data-job-status") == job["status"]
    # Activate, from maintenance (put there directly when the job could not).
    run_sql(eng, f"UPDATE hosts SET status = 'maintenance' WHERE id = '{host['id']}'")
    b.wait(lambda: b.find(f"{_row(b, 'phost')} [data-status]").get_attribute("data-status") == "maintenance",
           what="phost in maintenance")
    b.click(f"{_row(b, 'phost')} button[data-action=stats]")
    b.wait(lambda: b.find("#stats [data-samples]"), what="the host's history")
    b.shot("admin-host-statistics")
    _accessible(b, "statistics")
    b.click("[data-stats-close]")
    b.click(f"{_row(b, 'phost')} button[data-action=activate]")
    b.wait_text("#action-message", "phost activated")
    b.wait(lambda: b.find(f"{_row(b, 'phost')} [data-status]").get_attribute("data-status") != "maintenance",
           what="phost out of maintenance")
    # Remove what may go: a VM.
    b.click("#tab-vms")
    b.type("#search-vms", "name=bulk00\n")
    b.click(f"{_row(b, 'bulk00')} button[data-action=remove]")
    b.click("#remove-vm-submit")
    b.wait(lambda: not b.all(_row(b, "bulk00")), what="bulk00 gone")
    assert eng.list("vms", search="name=bulk00")["total"] == 0
    b.type("#search-vms", "\n")


# What a guest agent reports, in the API's guest_info shape (the field
# comes from a real qemu-guest-agent in test_engine_hosts_vms's
# test_vm_start_console_devices_shutdown; no guest runs here), with hostile
# strings where a guest writes its own.
GUEST_INFO = {"hostname": XSS, "os": {"id": "vireo", "name": "Vireo test guest", "pretty_name": "<b>Vireo</b> 1.0",
                                      "kernel_release": "6.1.0-<i>x</i>"},
              "ips": ["192.0.2.10", "fe80::5054:ff:fe00:1"],
              "interfaces": [{"name": "eth0", "mac": "52:54:00:00:00:01", "addresses": [
                  {"type": "ipv4", "address": "192.0.2.10", "prefix": 24}]}], "updated_at": 0}

# Every answer of GET /api/vms[/ID] in the page gets VM arguments[0] up with
# guest_info arguments[1], as the API gives a running VM's (the portal's
# fetch wrapped: nothing else changes).
FEED_GUEST = """
  const [id, info] = arguments, f = window.fetch;
  const patch = (v) => (v && v.id === id ? { ...v, status: 'up', guest_info: info } : v);
  window.fetch = async (u, o) => {
    const r = await f(u, o);
    if (!/^\\/api\\/vms(\\?|\\/[^/?]*(\\?|$)|$)/.test(String(u)) || !r.ok || r.status === 204) return r;
    const body = await r.clone().json();
    const out = body.vms ? { ...body, vms: body.vms.map(patch) } : patch(body);
    return new Response(JSON.stringify(out), { status: r.status, headers: r.headers });
  };"""


def _admin_login(b, eng, base):
    b.open(base + "/admin")
    # Harness hosts just started make veths and bridges appear: Chromium may
    # abort that first load with ERR_NETWORK_CHANGED. Load it once more then.
    try:
        b.find("#login-user", timeout=5)
    except AssertionError:
        b.open(base + "/admin")
    b.type("#login-user", "admin@internal")
    b.type("#login-password", eng.admin_password)
    b.click("#login-submit")
    b.find("[data-list=vms]")


def _job_done(b, what, timeout=60):
    """The page's message line follows a job to its end: finished."""
    b.wait(lambda: re.search(rf"{re.escape(what)}: job (finished|failed|cancelled)", b.text("#action-message")),
           timeout, f"the job of {what}")
    assert f"{what}: job finished" in b.text("#action-message"), b.text("#action-message")


def test_admin_portal_object_dialogs(ctx):
    """The create, edit and remove dialogs of storage domains, networks,
    disks, templates and pools (and a domain's attach, maintenance and
    detach) against a harness host: each object made through its dialog
    is there in the API as asked, each edit changed what it says, a bad
    value is refused in the API's own words with the dialog still open
    (nothing made), and each removal leaves nothing behind."""
    sd = None
    with _engine(ctx) as eng, _browser(ctx) as b:
        hs = ctx.hs
        dc = eng.create_dc("odc")
        cl = eng.create_cluster("ocl", dc["id"])
        host = eng.create_host(hs.hosts[0].name, hs.hosts[0].addr, cl["id"], port=hs.hosts[0].port)
        vm = eng.create_vm("o-vm", cl["id"])  # stopped: a template's source
        eng.wait_status("hosts", host["id"], "up", timeout=60)
        start = time.monotonic()
        _admin_login(b, eng, f"https://127.0.0.1:{eng.port}")
        # Every new dialog in Japanese: no English of the portal's own (API values shown as data).
        b.js(PICK_LANG, "ja")
        for tab, kind in (("storagedomains", "sd"), ("disks", "disk"), ("networks", "net"), ("templates", "template"),
                          ("vmpools", "pool")):
            b.click(f"#tab-{tab}")
            b.click(f"#new-{tab}")
            b.find(f"#create-{kind} select")
            assert not _latin_left(b), (tab, _latin_left(b))
            b.click(f"#create-{kind} .pf-m-link")
        b.js(PICK_LANG, "en")

        # A posixfs data domain on the shared device, made by the host (a job), then attached.
        b.click("#tab-storagedomains")
        b.click("#new-storagedomains")
        b.js(PICK, "#sd-storage_type", "nfs")
        b.find("#sd-storage_address")  # nfs: its server asked, no file system type
        assert not b.all("#sd-vfs_type")
        b.js(PICK, "#sd-storage_type", "posixfs")
        b.wait(lambda: not b.all("#sd-storage_address") and b.all("#sd-vfs_type"), what="the posixfs members")
        b.type("#sd-name", "o-sd")
        b.type("#sd-storage_path", "relative/path")
        b.type("#sd-vfs_type", "ext4")
        b.wait(lambda: b.find("#sd-host").get_attribute("value") == host["id"], what="the up host chosen")
        b.type("#sd-critical_space_gib", "0")
        body = {"name": "o-sd", "type": "data", "storage_type": "posixfs", "storage_path": "relative/path",
                "vfs_type": "ext4", "host": host["id"], "warning_low_space_pct": 10,
                "critical_space_gib": 0}
        b.click("#create-sd-submit")
        want = eng.request("POST", "/api/storagedomains", body)
        assert want.status == 400, want
        b.wait_text("#create-sd-error", want.body["fault"]["detail"])
        b.shot("admin-create-sd-error")
        _accessible(b, "create-storage-domain dialog")
        b.type("#sd-storage_path", hs.shared_dev)
        b.click("#create-sd-submit")
        b.wait(lambda: not b.all("#create-sd"), what="the dialog closed")
        _job_done(b, "creation of o-sd")
        got = eng.list("storagedomains", search="name=o-sd")["storagedomains"]
        assert [(x["status"], x["type"], x["storage_type"], x["storage_path"], x["vfs_type"], x["critical_space_gib"])
                for x in got] == [("unattached", "data", "posixfs", hs.shared_dev, "ext4", 0)], got
        sd = got[0]["id"]
        b.wait(lambda: b.all(f"{_row(b, 'o-sd')} button[data-action=attach]"), what="o-sd unattached")
        b.click(f"{_row(b, 'o-sd')} button[data-action=attach]")
        b.wait(lambda: b.find("#sd-datacenter").get_attribute("value") == dc["id"], what="the data center offered")
        b.shot("admin-attach-sd")
        b.click("#attach-sd-submit")
        _job_done(b, "attaching o-sd", timeout=200)
        got = eng.get(f"/api/storagedomains/{sd}")
        assert (got["status"], got["datacenter_id"], got["master"]) == ("active", dc["id"], True), got
        b.click(f"{_row(b, 'o-sd')} button[data-action=edit]")
        b.type("#sd-warning_low_space_pct", "25")
        b.click("#edit-sd-submit")
        b.wait(lambda: not b.all("#edit-sd"), what="the edit dialog closed")
        assert eng.get(f"/api/storagedomains/{sd}")["warning_low_space_pct"] == 25

        # A network: VLAN 5000 refused in the API's words, nothing made; then made and edited.
        b.click("#tab-networks")
        b.click("#new-networks")
        b.type("#net-name", "onet")
        b.wait(lambda: b.find("#net-datacenter").get_attribute("value") == dc["id"], what="the data center offered")
        b.type("#net-vlan", "5000")
        b.click("#create-net-submit")
        want = eng.request("POST", "/api/networks", {"name": "onet", "datacenter": dc["id"], "vlan": 5000,
                                                     "mtu": 1500, "vm": True})
        assert want.status == 400, want
        b.wait_text("#create-net-error", want.body["fault"]["detail"])
        assert b.all("#create-net") and not eng.list("networks", search="name=onet")["networks"]
        b.shot("admin-create-network-error")
        b.type("#net-vlan", "77")
        b.type("#net-mtu", "9000")
        b.click("#net-vm")  # not a VM network
        b.type("#net-description", XSS)
        b.click("#create-net-submit")
        b.wait(lambda: not b.all("#create-net"), what="the dialog closed")
        b.wait_text("[data-list=networks]", "onet")
        net = eng.list("networks", search="name=onet")["networks"][0]
        assert (net["vlan"], net["mtu"], net["vm"], net["description"]) == (77, 9000, False, XSS), net
        assert not b.all("[data-list=networks] td img")
        b.click(f"{_row(b, 'onet')} button[data-action=edit]")
        assert b.find("#net-vlan").get_attribute("value") == "77"
        b.type("#net-vlan", "78")
        b.type("#net-mtu", "1400")
        b.shot("admin-edit-network")
        b.click("#edit-net-submit")
        b.wait(lambda: not b.all("#edit-net"), what="the edit dialog closed")
        net = eng.get(f"/api/networks/{net['id']}")
        assert (net["vlan"], net["mtu"], net["vm"]) == (78, 1400, False), net

        # A disk on the domain, made by the SPM (a job); then edited.
        b.click("#tab-disks")
        b.click("#new-disks")
        b.type("#disk-alias", "o-disk")
        b.wait(lambda: b.find("#disk-storage_domain").get_attribute("value") == sd, what="the active domain offered")
        b.js(PICK, "#disk-format", "raw")
        b.shot("admin-create-disk")
        b.click("#create-disk-submit")
        _job_done(b, "creation of o-disk")
        disk = eng.list("disks", search="alias=o-disk")["disks"][0]
        assert (disk["status"], disk["storage_domain"], disk["provisioned_size"], disk["format"], disk["sparse"]) == \
            ("ok", sd, 1 << 30, "raw", True), disk
        b.wait_text("[data-list=disks]", "o-disk")
        b.click(f"{_row(b, 'o-disk')} button[data-action=edit]")
        b.type("#disk-alias", "o-disk2")
        b.click("#disk-bootable")
        b.click("#edit-disk-submit")
        b.wait(lambda: not b.all("#edit-disk"), what="the edit dialog closed")
        got = eng.get(f"/api/disks/{disk['id']}")
        assert (got["alias"], got["bootable"], got["format"]) == ("o-disk2", True, "raw"), got

        # A template of the stopped VM (a job), its description edited; a pool of it.
        b.click("#tab-templates")
        b.click("#new-templates")
        b.type("#template-name", "o-tmpl")
        b.wait(lambda: b.find("#template-vm").get_attribute("value") == vm["id"], what="the stopped VM offered")
        b.shot("admin-create-template")
        b.click("#create-template-submit")
        _job_done(b, "creation of o-tmpl")
        tmpl = eng.list("templates", search="name=o-tmpl")["templates"][0]
        assert (tmpl["status"], tmpl["cluster_id"]) == ("ok", cl["id"]), tmpl
        b.wait_text("[data-list=templates]", "o-tmpl")
        b.click(f"{_row(b, 'o-tmpl')} button[data-action=edit]")
        b.type("#template-description", "golden")
        b.click("#edit-template-submit")
        b.wait(lambda: not b.all("#edit-template"), what="the edit dialog closed")
        assert eng.get(f"/api/templates/{tmpl['id']}")["description"] == "golden"
        b.click("#tab-vmpools")
        b.click("#new-vmpools")
        b.type("#pool-name", "o-pool")
        b.wait(lambda: b.all(f"#pool-template option[value='{tmpl['id']}']"), what="the template offered")
        b.js(PICK, "#pool-template", tmpl["id"])
        b.js(PICK, "#pool-type", "manual")
        b.type("#pool-size", "0")
        b.shot("admin-create-pool")
        b.click("#create-pool-submit")
        b.wait(lambda: not b.all("#create-pool"), what="the dialog closed")
        b.wait_text("[data-list=vmpools]", "o-pool")
        pool = eng.list("vmpools", search="name=o-pool")["vmpools"][0]
        assert (pool["template_id"], pool["cluster_id"], pool["type"], pool["size"], pool["prestarted"]) == \
            (tmpl["id"], cl["id"], "manual", 0, 0), pool
        # More prestarted VMs than its size: the API's refusal in the dialog, nothing changed.
        b.click(f"{_row(b, 'o-pool')} button[data-action=edit]")
        b.type("#pool-prestarted", "1")
        b.click("#edit-pool-submit")
        want = eng.request("PUT", f"/api/vmpools/{pool['id']}", {"prestarted": 1})
        assert want.status == 400, want
        b.wait_text("#edit-pool-error", want.body["fault"]["detail"])
        b.shot("admin-edit-pool-error")
        b.type("#pool-prestarted", "0")
        b.type("#pool-max_user_vms", "3")
        b.click("#edit-pool-submit")
        b.wait(lambda: not b.all("#edit-pool"), what="the edit dialog closed")
        got = eng.get(f"/api/vmpools/{pool['id']}")
        assert (got["max_user_vms"], got["prestarted"], got["size"]) == (3, 0, 0), got

        # Removals: each confirmed by name, gone from the API (jobs for the disk and template).
        for tab, name, kind in (("vmpools", "o-pool", "pool"), ("templates", "o-tmpl", "template"),
                                ("disks", "o-disk2", "disk"), ("networks", "onet", "net")):
            b.click(f"#tab-{tab}")
            b.wait_text(f"[data-list={tab}]", name)
            b.click(f"{_row(b, name)} button[data-action=remove]")
            b.wait_text(f"#remove-{kind}", name)
            b.click(f"#remove-{kind}-submit")
            b.wait(lambda: not b.all(f"#remove-{kind}"), what="the remove dialog closed")
            if kind in ("template", "disk"):
                _job_done(b, f"removal of {name}")
        for url in (f"/api/vmpools/{pool['id']}", f"/api/templates/{tmpl['id']}", f"/api/disks/{disk['id']}",
                    f"/api/networks/{net['id']}"):
            assert eng.request("GET", url).status == 404, url
        # The domain: removal refused while attached (the API's reason), then maintenance, detach, remove.
        _remove_refused(b, eng, "storagedomains", "o-sd", "sd", f"/api/storagedomains/{sd}")
        b.click("#remove-sd .pf-m-link")
        b.click(f"{_row(b, 'o-sd')} button[data-action=maintenance]")
        b.wait(lambda: b.all(f"{_row(b, 'o-sd')} button[data-action=detach]"), 30, "o-sd in maintenance")
        assert eng.get(f"/api/storagedomains/{sd}")["status"] == "maintenance"
        b.click(f"{_row(b, 'o-sd')} button[data-action=detach]")
        _job_done(b, "detaching o-sd", timeout=120)
        b.wait(lambda: b.all(f"{_row(b, 'o-sd')} button[data-action=attach]"), 10, "o-sd unattached")
        b.click(f"{_row(b, 'o-sd')} button[data-action=remove]")
        b.click("#remove-sd-submit")
        b.wait(lambda: not b.all("#remove-sd"), what="the remove dialog closed")
        assert eng.request("GET", f"/api/storagedomains/{sd}").status == 404
        assert not b.alert_open()
        print(f"  object dialogs: {time.monotonic() - start:.0f} s from the host up")
    if sd:
        scrub_domain(ctx, sd)  # the shared device as the next test file expects it


def _guest_shown(b, scope):
    """The guest agent's report in scope: each value as text."""
    b.wait(lambda: b.all(f"{scope} [data-guest=hostname]"), 10, "the guest agent's report")
    got = {k: b.text(f"{scope} [data-guest={k}]") for k in ("hostname", "os", "kernel", "ips")}
    assert got == {"hostname": XSS, "os": "<b>Vireo</b> 1.0", "kernel": "6.1.0-<i>x</i>",
                   "ips": "192.0.2.10, fe80::5054:ff:fe00:1"}, got
    assert not b.all(f"{scope} img, {scope} dd b, {scope} dd i") and not b.alert_open()


def _japanese(b, eng, base):
    """Switched to Japanese: no English left in the portal's own words on
    any tab or dialog, dates and numbers the Japanese way, the API asked in
    Japanese, the choice remembered across a reload."""
    b.js("window.__langs = []; const f = window.fetch;"
         "window.fetch = (u, o) => { window.__langs.push(((o && o.headers) || {})['Accept-Language']); return f(u, o); }")
    b.js(PICK_LANG, "ja")
    b.wait_text("#tab-vms", "仮想マシン")
    assert b.js("return document.documentElement.lang") == "ja"
    for tab in ("vms", "hosts", "clusters", "datacenters", "storagedomains", "networks", "templates", "vmpools",
                "disks", "users", "groups", "roles", "jobs", "events"):
        b.click(f"#tab-{tab}")
        b.wait(lambda: b.all(f"[data-list={tab}] tbody tr"), what=f"{tab} rows")
        left = _latin_left(b)
        assert not left, (tab, left)
        if tab in ("vms", "jobs", "events"):
            b.shot(f"admin-ja-{tab}")
    # Dates by Intl for Japanese (year/month/day), not the English form.
    assert re.match(r"\d{4}/\d{1,2}/\d{1,2} ", b.text("[data-list=events] tbody tr td")), b.text("[data-list=events] tbody tr")
    _accessible(b, "events in Japanese")
    b.click("#tab-vms")
    b.click("#new-vms")
    b.find("#create-vm")
    assert not _latin_left(b), _latin_left(b)
    b.shot("admin-ja-create-vm")
    b.click("#create-vm .pf-m-link")
    assert "ja, en;q=0.5" in b.js("return window.__langs"), b.js("return window.__langs")
    # Remembered (localStorage): a reload comes back in Japanese, still logged in.
    b.open(base + "/admin#hosts")
    b.wait_text("#tab-hosts", "ホスト")
    b.wait_text("[data-list=hosts]", "phost")
    b.js(PICK_LANG, "en")
    b.wait_text("#tab-vms", "Virtual machines")


def _in_background(fn, *args):
    """fn(*args) in a thread; the returned join() gives its value or
    raises what it raised."""
    out = {}

    def run():
        try:
            out["value"] = fn(*args)
        except BaseException as e:  # noqa: B036 - handed to join()
            out["error"] = e
    t = threading.Thread(target=run, daemon=True)
    t.start()

    def join():
        t.join()
        if "error" in out:
            raise out["error"]
        return out["value"]
    return join


def test_vm_portal_directory_user_sees_only_their_vm(ctx):
    try:
        if not slapd.available():
            raise Skip("slapd is not installed (scripts/setup installs it)")
        _vm_portal(ctx)
    finally:
        _SHARED.close()  # the file's last test: what it shares ends here


def _vm_portal(ctx):
    users = DIR_USERS
    sd = None
    with _browser(ctx) as b, _directory(ctx, b) as (eng, ds):
        # The power user's data center, with the harness hosts and their SPM on a real data
        # domain, is made while bob's part runs (his cluster has no host: his starts fail).
        storage = _in_background(storage_dc, ctx, eng, "vp")
        dc = eng.create_dc("vdc")
        cl = eng.create_cluster("vcl", dc["id"])
        mine = eng.create_vm("bobs-vm", cl["id"], description=XSS)
        eng.create_vm("someone-elses", cl["id"])
        devs = eng.call("POST", "/api/groups", {"name": "devs@corp"}, expect=201)
        role = _role(eng, "UserRole")
        eng.call("POST", "/api/permissions", {"role_id": role, "object_type": "vm", "object_id": mine["id"],
                                              "group_id": devs["id"]}, expect=201)
        b.open(f"https://127.0.0.1:{eng.port}/vm")
        b.wait_text("h1", "VM Portal")
        # The login page in Japanese too (its hint names the user syntax, NAME@internal or uid@profile).
        b.js(PICK_LANG, "ja")
        b.wait_text("h1", "VM ポータル")
        assert not _latin_left(b, {"internal", "uid"}), _latin_left(b, {"internal", "uid"})
        b.shot("login-ja")
        b.js(PICK_LANG, "en")
        b.wait_text("h1", "VM Portal")
        b.type("#login-user", "bob@corp")
        b.type("#login-password", users["bob"])
        b.click("#login-submit")
        b.wait_text("[data-list=my-vms]", "bobs-vm")
        cards = _attrs(b, "[data-list=my-vms] article", "data-name")
        assert cards == ["bobs-vm"], cards
        assert "someone-elses" not in b.text("body")
        assert b.text("[data-name=bobs-vm] .vireo-desc") == XSS and not b.all("article img")
        assert b.text("#current-user") == "bob@corp"
        # A plain user (UserRole) is offered no new VM.
        b.wait(lambda: b.find("[data-list=my-vms]").get_attribute("data-power") == "false", what="bob's rights read")
        assert not b.all("#vmportal-new-vm")
        token = b.js("return JSON.parse(sessionStorage.getItem('vireo.session')).token")
        me = eng.call("GET", "/api/users/me", token=token)  # what the portal asked
        assert (me["name"], me["domain"]) == ("bob@corp", "corp"), me
        assert [(g["name"], g["domain"]) for g in me["groups"]] == [("devs@corp", "corp")], me
        assert [(p["role"], p["object_id"], p["group"]["name"]) for p in me["permissions"]] == \
            [("UserRole", mine["id"], "devs@corp")] and me["may"] == {"create_vm": [], "create_disk": []}, me
        b.shot("vm-portal")
        _accessible(b, "VM Portal")
        b.click("[data-name=bobs-vm] button[data-action=start]")
        b.wait_text("#action-message", "start of bobs-vm: job")
        jobs = eng.list("jobs", search=f"object_id={mine['id']}")["jobs"]
        assert [(j["action"], j["user"]) for j in jobs] == [("start", "bob@corp")], jobs
        assert not b.alert_open()
        # A pool he may use: he takes its VM; a second one is refused (its max_user_vms).
        # Its VM made first and put in it with the pool (one transaction):
        # the engine's pool monitor would otherwise fill the pool itself.
        tmpl, pool = str(uuid.uuid4()), str(uuid.uuid4())
        pvm = eng.create_vm("desk-1", cl["id"])
        run_sql(eng,
                f"INSERT INTO templates (id, name, cluster_id, memory_mib, vcpus, spec_json, status, created_at)"
                f" VALUES ('{tmpl}', 'desk-tmpl', '{cl['id']}', 128, 1, '{{}}', 'ok', 0)",
                f"INSERT INTO vm_pools (id, name, description, cluster_id, template_id, type, size, created_at) VALUES"
                f" ('{pool}', 'desk', '{XSS}', '{cl['id']}', '{tmpl}', 'manual', 1, 0)",
                f"UPDATE vms SET pool_id = '{pool}' WHERE id = '{pvm['id']}'")
        eng.call("POST", "/api/permissions", {"role_id": role, "object_type": "vmpool", "object_id": pool,
                                              "group_id": devs["id"]}, expect=201)
        b.wait_text("[data-list=my-pools]", "desk", timeout=15)
        assert b.text("[data-list=my-pools] [data-name=desk] .vireo-desc") == XSS and not b.all("article img")
        b.shot("vm-portal-pools")
        _accessible(b, "VM Portal with pools")
        b.click("[data-list=my-pools] [data-name=desk] button[data-action=take]")
        b.wait_text("#action-message", "desk-1 taken from pool desk")
        # The VM was down: the API started it for him, and the portal follows that job (no host: it fails).
        b.wait_text("#action-message", "desk-1 taken from pool desk; its start: job failed", timeout=30)
        assert b.find("#action-progress").get_attribute("data-job-status") == "failed"
        assert eng.get(f"/api/vmpools/{pool}")["allocated"] == 1
        b.wait(lambda: "desk-1" in _attrs(b, "[data-list=my-vms] > div article", "data-name"),
               what="the pool's VM among his")
        token = b.js("return JSON.parse(sessionStorage.getItem('vireo.session')).token")
        again = eng.request("POST", f"/api/vmpools/{pool}/allocatevm", {}, token=token)
        assert again.status == 409, again
        b.click("[data-list=my-pools] [data-name=desk] button[data-action=take]")
        b.wait_text("#action-message", again.body["fault"]["detail"])
        # His VM running: its card shows the guest agent's report, as text.
        b.js(FEED_GUEST, mine["id"], GUEST_INFO)
        _guest_shown(b, "[data-list=my-vms] [data-name=bobs-vm]")
        b.shot("vm-portal-guest")
        # In Japanese: his cards (the report's labels too) and pools without English of the portal's own.
        b.js(PICK_LANG, "ja")
        b.wait_text("[data-list=my-vms] h1", "自分の仮想マシン")
        b.wait_text("[data-list=my-vms] [data-name=bobs-vm] .vireo-guest", "ホスト名")
        b.wait_text("[data-list=my-pools]", "利用できるプール")
        assert not _latin_left(b), _latin_left(b)
        b.shot("vm-portal-ja")
        b.js(PICK_LANG, "en")
        b.wait_text("[data-list=my-vms] h1", "My virtual machines")
        # A token revoked elsewhere (here: by the API itself) ends the session: the
        # next poll's 401 brings back the login page with the API's reason.
        token = b.js("return JSON.parse(sessionStorage.getItem('vireo.session')).token")
        assert eng.request("DELETE", "/api/sso/token", token=token).status == 204
        b.wait_text("#login-error", eng.request("GET", "/api/vms", token=token).body["fault"]["detail"])
        assert b.js("return sessionStorage.getItem('vireo.session')") is None
        st = storage()
        sd = st["sd_id"]
        _power_user(ctx, b, eng, st)
        # The accessibility check sees what it should: an image without a text alternative.
        b.js("const i = document.createElement('img'); i.src = 'data:,'; document.body.appendChild(i)")
        with open(AXE_JS) as f:
            assert "image-alt" in [v["id"] for v in b.axe(f.read())]
    if sd:
        scrub_domain(ctx, sd)  # the shared device as the next test file expects it


def _role(eng, name):
    return next(r["id"] for r in eng.get("/api/roles", params={"max": 100})["roles"] if r["name"] == name)


def _grant(eng, role, object_type, object_id, user):
    eng.call("POST", "/api/permissions", {"role_id": _role(eng, role), "object_type": object_type,
                                          "object_id": object_id, "user_id": user["id"]}, expect=201)


# The select arguments[0] set to the option arguments[1], as a user would.
PICK = ("const s = document.querySelector(arguments[0]); s.value = arguments[1];"
        "s.dispatchEvent(new Event('change', {bubbles: true}))")


def _power_user(ctx, b, eng, st):
    """A power user (PowerUserRole on the cluster, QuotaConsumer on the
    data center's enforced quota) makes a VM from a template through the
    VM Portal's dialog (the API's refusal first; the
    template's memory as the default, changed), sees it among theirs, and
    opens its snapshots: taking one is refused with the API's reason (the
    VM has no disk on a storage domain yet), a snapshot put in by SQL is
    listed, its description as text, restored and removed (jobs followed
    in the dialog); then its disks: one of the administrator's listed, a
    new one made on the data domain by the SPM through the dialog; a
    snapshot taken through the dialog (the job to its end, a new volume
    layer on the domain) and removed; the disks removed, each refusal in
    the API's words; the quota's use follows. Leaves the storage at the
    end (leave_storage)."""
    dc, cl, sd = st["dc"], st["cl"], st["sd_id"]
    tmpl = str(uuid.uuid4())
    run_sql(eng, f"INSERT INTO templates (id, name, cluster_id, memory_mib, vcpus, spec_json, status, created_at)"
                 f" VALUES ('{tmpl}', 'pat-tmpl', '{cl['id']}', 128, 1, '{{}}', 'ok', 0)")
    pat = eng.call("POST", "/api/users", {"name": "pat@internal", "password": "pat-pw-1234"}, expect=201)
    _grant(eng, "PowerUserRole", "cluster", cl["id"], pat)
    # A quota of the data center, enforced, that he may consume: the VM he makes counts, its use shown.
    q = eng.call("POST", f"/api/datacenters/{dc['id']}/quotas", {"name": "pq", "vcpus": 8, "memory_mib": 4096},
                 expect=201)
    _grant(eng, "QuotaConsumer", "quota", q["id"], pat)
    eng.call("PUT", dc["href"], {"quota_mode": "enforced"})
    b.type("#login-user", "pat@internal")
    b.type("#login-password", "pat-pw-1234")
    b.click("#login-submit")
    b.wait(lambda: b.find("[data-list=my-vms]").get_attribute("data-power") == "true", what="pat may make VMs")
    token = b.js("return JSON.parse(sessionStorage.getItem('vireo.session')).token")
    may = eng.call("GET", "/api/users/me", token=token)["may"]
    assert [c["id"] for c in may["create_vm"]] == [cl["id"]] and may["create_disk"] == [], may
    b.click("#vmportal-new-vm")
    b.wait(lambda: b.all(f"#newvm-template option[value='{tmpl}']"), what="the templates offered")
    b.js(PICK, "#newvm-template", tmpl)
    b.wait(lambda: b.find("#newvm-memory").get_attribute("value") == "128", what="the template's memory")
    assert b.find("#newvm-cluster").get_attribute("value") == cl["id"]
    assert b.find("#newvm-vcpus").get_attribute("value") == "1"
    _accessible(b, "new-VM dialog")
    b.type("#newvm-name", XSS)
    b.click("#new-vm-submit")
    want = eng.request("POST", f"/api/templates/{tmpl}/createvm", {"name": XSS, "cluster_id": cl["id"]}, token=token)
    assert want.status == 400, want
    b.wait_text("#new-vm-error", want.body["fault"]["detail"])
    assert not b.alert_open() and not b.all("#new-vm img")
    # In Japanese (a language change renders the page anew: the dialog is opened again).
    b.js(PICK_LANG, "ja")
    b.click("#vmportal-new-vm")
    b.wait(lambda: b.all(f"#newvm-template option[value='{tmpl}']"), what="the templates offered")
    b.wait_text("#new-vm-title", "テンプレート")
    assert not _latin_left(b), _latin_left(b)
    b.js(PICK_LANG, "en")
    b.click("#vmportal-new-vm")
    b.wait(lambda: b.all(f"#newvm-template option[value='{tmpl}']"), what="the templates offered")
    b.js(PICK, "#newvm-template", tmpl)
    b.wait(lambda: b.find("#newvm-memory").get_attribute("value") == "128", what="the template's memory")
    b.type("#newvm-name", "pat-vm1")
    b.type("#newvm-memory", "192")
    b.click("#new-vm-submit")
    b.wait(lambda: not b.all("#new-vm"), what="the dialog closed")
    b.wait_text("#action-message", "pat-vm1: memory and vCPUs set", timeout=20)
    b.wait_text("[data-list=my-vms] [data-name=pat-vm1]", "192 MiB")
    vm = eng.list("vms", search="name=pat-vm1")["vms"][0]
    assert (vm["memory_mib"], vm["vcpus"], vm["cluster_id"], vm["quota"]) == (192, 1, cl["id"], q["id"]), vm
    quota = "[data-list=my-quotas] [data-name=pq]"
    b.wait_text(f"{quota} [data-use=memory_mib]", "192 of 4,096")
    assert b.text(f"{quota} [data-use=vcpus]") == "1 of 8", b.text(quota)
    assert b.text(f"{quota} [data-use=storage_gib]") == "0 (no limit)", b.text(quota)
    b.shot("vm-portal-power-user")
    # Beyond the quota (4,096 MiB and its 20 % grace): the new VM's size is
    # refused in the API's words, naming the quota; the VM keeps the
    # template's size. Then it goes again.
    b.click("#vmportal-new-vm")
    b.wait(lambda: b.all(f"#newvm-template option[value='{tmpl}']"), what="the templates offered")
    b.js(PICK, "#newvm-template", tmpl)
    b.wait(lambda: b.find("#newvm-memory").get_attribute("value") == "128", what="the template's memory")
    b.type("#newvm-name", "pat-big")
    b.type("#newvm-memory", "8192")
    b.click("#new-vm-submit")
    b.wait(lambda: b.all("[data-list=my-vms] [data-name=pat-big]"), what="pat-big listed", timeout=20)
    big = eng.list("vms", search="name=pat-big")["vms"][0]
    over = eng.request("PUT", big["href"], {"memory_mib": 8192}, token=token)
    assert over.status == 409 and "'pq'" in over.body["fault"]["detail"], over
    b.wait_text("#action-message", over.body["fault"]["detail"], timeout=20)
    assert eng.get(big["href"])["memory_mib"] == 128
    assert eng.request("DELETE", big["href"], token=token).status == 204
    # Its snapshots: taking one reaches the VM's own rules (no disk yet: the API's 409 shown as it says).
    b.click("[data-name=pat-vm1] button[data-action=snapshots]")
    b.wait_text("#snapshots", "No snapshots yet.")
    b.type("#snapshot-description", XSS)
    b.click("#snapshot-take")
    refused = eng.request("POST", f"/api/vms/{vm['id']}/snapshots", {"description": XSS}, token=token)
    assert refused.status == 409, refused
    b.wait_text("#snapshot-message", refused.body["fault"]["detail"])
    # A snapshot of it as the template made it (put in by SQL: taking one needs an SPM).
    run_sql(eng, f"INSERT INTO snapshots (id, vm_id, description, type, status, created_at, config_json, volumes_json)"
                 f" SELECT '{uuid.uuid4()}', id, '{XSS}', 'regular', 'ok', 0,"
                 f" '{{\"memory_mib\": 128, \"vcpus\": 1, \"spec\": ' || spec_json || '}}', '[]' FROM vms"
                 f" WHERE id = '{vm['id']}'")
    b.wait(lambda: b.all("[data-list=snapshots] tbody tr"), 5, "the snapshot listed")
    assert b.text("[data-list=snapshots] tbody tr .vireo-desc") == XSS and not b.all("#snapshots img")
    # Restore: a job followed in the dialog; the VM is back to the snapshot's 128 MiB.
    b.click("[data-list=snapshots] tbody tr button[data-action=restore]")
    b.wait_text("#snapshot-message", "restore of pat-vm1: job finished", timeout=20)
    assert eng.get(vm["href"])["memory_mib"] == 128
    b.wait_text("[data-list=my-vms] [data-name=pat-vm1]", "128 MiB")
    # Remove: a job too; the list follows.
    b.click("[data-list=snapshots] tbody tr button[data-action=remove]")
    b.wait_text("#snapshot-message", "snapshot removal of pat-vm1: job finished", timeout=20)
    b.wait_text("#snapshots", "No snapshots yet.")
    assert eng.get(f"/api/vms/{vm['id']}/snapshots")["total"] == 0
    assert not b.alert_open()
    _accessible(b, "snapshots dialog")
    b.click("[data-snapshots-close]")
    # Its disks: one given by an administrator is listed; he may make disks on the domain
    # (DiskCreator): a new one made by the SPM through the dialog, listed.
    disk = make_disk(eng, sd, "admin-disk", 1 << 30, fmt="cow")["id"]
    run_sql(eng, f"UPDATE disks SET alias = '{XSS}' WHERE id = '{disk}'")
    _grant(eng, "DiskCreator", "storagedomain", sd, pat)
    eng.call("POST", f"/api/vms/{vm['id']}/disks", {"disk": disk}, expect=201)
    may = eng.call("GET", "/api/users/me", token=token)["may"]  # what the dialog offers
    assert [d["id"] for d in may["create_disk"]] == [sd], may
    b.click("[data-name=pat-vm1] button[data-action=disks]")
    b.wait(lambda: b.all("[data-list=disks] tbody tr .vireo-name"), 5, "the disk listed")
    assert b.text("[data-list=disks] tbody tr .vireo-name") == XSS and not b.all("#disks img")
    assert "1 GiB" in b.text("[data-list=disks] tbody tr")
    b.wait(lambda: b.all("#disk-domain option[value='%s']" % sd), what="the storage domain offered")
    b.js(PICK, "#disk-domain", sd)
    b.type("#disk-alias", "pat-d2")
    b.click("#disk-add")
    b.wait_text("#disk-message", "new disk pat-d2 of pat-vm1: done", timeout=90)
    b.wait(lambda: b.all("[data-list=disks] tbody tr[data-alias=pat-d2]"), 5, "the new disk listed")
    assert "1 GiB" in b.text("[data-list=disks] tbody tr[data-alias=pat-d2]")
    new = next(d for d in eng.get("/api/disks", params={"max": 100})["disks"] if d["alias"] == "pat-d2")
    assert (new["status"], new["storage_domain"], new["provisioned_size"]) == ("ok", sd, 1 << 30), new
    assert new["id"] in [d.get("disk") for d in eng.get(f"/api/vms/{vm['id']}/disks")["disks"]]
    spm = ctx.client(st["spm_i"])
    info = spm.call("Volume.info", domain=sd, image=new["id"], volume=new["volume_id"])
    assert info["legality"] == "LEGAL" and info["format"] == "qcow2", info
    _accessible(b, "disks dialog")
    b.click("[data-disks-close]")
    # A snapshot taken through the dialog: its job to the end, listed, a new layer on the domain.
    b.click("[data-name=pat-vm1] button[data-action=snapshots]")
    b.wait_text("#snapshots", "No snapshots yet.")
    b.type("#snapshot-description", XSS)
    b.click("#snapshot-take")
    b.wait_text("#snapshot-message", "snapshot of pat-vm1: job finished", timeout=90)
    b.wait(lambda: b.all("[data-list=snapshots] tbody tr"), 5, "the snapshot listed")
    assert b.text("[data-list=snapshots] tbody tr .vireo-desc") == XSS and not b.all("#snapshots img")
    snap = eng.get(f"/api/vms/{vm['id']}/snapshots")["snapshots"]
    assert [(x["description"], x["status"]) for x in snap] == [(XSS, "ok")], snap
    assert snap[0]["volumes"][new["id"]] == new["volume_id"], snap
    top = eng.get(f"/api/disks/{new['id']}")["volume_id"]
    assert top != new["volume_id"], top
    vols = {v["volume"] for v in spm.call("Volume.list", domain=sd)["volumes"] if v["image"] == new["id"]}
    assert vols == {new["volume_id"], top}, vols
    b.click("[data-list=snapshots] tbody tr button[data-action=remove]")
    b.wait_text("#snapshot-message", "snapshot removal of pat-vm1: job finished", timeout=90)
    b.wait_text("#snapshots", "No snapshots yet.")
    assert eng.get(f"/api/vms/{vm['id']}/snapshots")["total"] == 0
    b.click("[data-snapshots-close]")
    # Remove: the administrator's disk comes off the VM, but deleting it is
    # the administrator's (no delete_disk on it): the API's 403, and it stays.
    b.click("[data-name=pat-vm1] button[data-action=disks]")
    b.wait(lambda: len(b.all("[data-list=disks] tbody tr")) == 2, 5, "both disks listed")
    b.click("[data-list=disks] tbody tr:not([data-alias=pat-d2]) button[data-action=remove]")
    b.wait(lambda: len(b.all("[data-list=disks] tbody tr")) == 1, what="the disk off the VM")
    assert [d.get("disk") for d in eng.get(f"/api/vms/{vm['id']}/disks")["disks"]] == [new["id"]]
    refused = eng.request("DELETE", f"/api/disks/{disk}", token=token)
    assert refused.status == 403, refused
    b.wait_text("#disk-message", refused.body["fault"]["detail"])
    assert eng.get(f"/api/disks/{disk}")["status"] == "ok" and not b.all("#disks img")
    # ... and his own goes: off the VM, then its removal job; gone from the domain.
    b.click("[data-list=disks] tbody tr[data-alias=pat-d2] button[data-action=remove]")
    b.wait_text("#disk-message", "removal of disk pat-d2 from pat-vm1: job finished", timeout=90)
    b.wait_text("#disks", "No disks.")
    assert eng.request("GET", f"/api/disks/{new['id']}").status == 404
    assert not [v for v in spm.call("Volume.list", domain=sd)["volumes"] if v["image"] == new["id"]]
    b.click("[data-disks-close]")
    b.js(PICK_LANG, "ja")
    b.wait_text("#vmportal-new-vm", "新しい仮想マシン")
    b.click("[data-name=pat-vm1] button[data-action=snapshots]")
    b.wait_text("#snapshots", "スナップショットはまだありません")
    assert not _latin_left(b), _latin_left(b)
    b.shot("vm-portal-snapshots-ja")
    b.click("[data-snapshots-close]")
    b.click("[data-name=pat-vm1] button[data-action=disks]")
    b.wait(lambda: b.all("#disk-domain option"), what="the disks dialog")
    assert not _latin_left(b), _latin_left(b)
    b.js(PICK_LANG, "en")
    b.click("#logout")
    b.find("#login-user")
    leave_storage(eng, sd, [disk])


def _login(b, url, user, password):
    b.open(url)
    b.type("#login-user", user)
    b.type("#login-password", password)
    b.click("#login-submit")


def _corp_admin(eng, ds, b):
    """The directory profile "corp" of slapd ds (the shared one), and the
    administrator logged in to the Administration Portal; the profile."""
    corp = _SHARED.corp
    assert corp and eng.get(f"/api/domains/{corp['id']}")["url"] == ds.url, corp
    _login(b, f"https://127.0.0.1:{eng.port}/admin", "admin@internal", eng.admin_password)
    b.find("[data-list=vms]")
    return corp


def test_admin_portal_people_and_permissions(ctx):
    """The administrator adds a directory user on the users tab (searched
    in a real slapd, picked, added: no local password), grants them
    UserRole on a VM through the VM's permissions dialog (and a directory
    group not yet added, which the grant adds), sees the permissions listed
    there and among the user's own; the user logs in to the VM Portal and
    sees exactly that VM; revoked in the dialog, they see none. Each step
    checked against the API."""
    if not slapd.available():
        raise Skip("slapd is not installed (scripts/setup installs it)")
    users = DIR_USERS
    with _browser(ctx) as b, _directory(ctx, b) as (eng, ds):
        base = f"https://127.0.0.1:{eng.port}"
        dc = eng.create_dc("qdc")
        cl = eng.create_cluster("qcl", dc["id"])
        vm = eng.create_vm("doras-vm", cl["id"], description=XSS)
        eng.create_vm("not-doras", cl["id"])
        corp = _corp_admin(eng, ds, b)
        # Users tab: add from the directory (the search is the directory's: "dor" finds dora alone).
        b.click("#tab-users")
        b.click("#add-users")
        b.wait(lambda: b.find("#add-source").get_attribute("value") == corp["id"], what="the directory chosen")
        b.click("#add-principals-submit")  # nothing picked: said, nothing added
        b.wait_text("#add-principals-error", "Pick a user or group first.")
        b.type("#add-search", "dor")
        b.click("#add-search-submit")
        b.wait(lambda: b.all("[data-list=add-found] tr[data-name='dora@corp']"), what="dora found")
        assert _attrs(b, "[data-list=add-found] tbody tr", "data-name") == ["dora@corp"]
        _accessible(b, "add users dialog")
        b.shot("admin-add-users")
        b.click("[data-list=add-found] tr[data-name='dora@corp'] input")
        b.click("#add-principals-submit")
        b.wait(lambda: not b.all("#add-principals"), what="the add dialog closed")
        b.wait_text("[data-list=users]", "dora@corp")
        dora = eng.list("users", search="name=dora@corp")["users"][0]
        assert dora["domain"] == "corp", dora
        # The VM's permissions: none of its own yet, those it inherits named with where they were
        # given (not revoked here); the grant dialog finds dora among the engine's users.
        admins = eng.call("POST", "/api/groups", {"name": "qadmins"}, expect=201)
        eng.call("POST", "/api/permissions", {"role_id": _role(eng, "ClusterAdmin"), "object_type": "cluster",
                                              "object_id": cl["id"], "group_id": admins["id"]}, expect=201)
        b.click("#tab-vms")
        b.click(f"{_row(b, 'doras-vm')} button[data-action=permissions]")
        b.wait_text("[data-list=permissions] tr[data-principal='qadmins'][data-inherited=true]", "Cluster: qcl")
        b.wait_text("[data-list=permissions] tr[data-principal='admin@internal'][data-inherited=true]", "The system")
        assert not b.all("[data-list=permissions] tr[data-inherited=false], [data-list=permissions] button")
        b.click("#grant-open")
        b.wait(lambda: b.all("#grant-role option"), what="the roles offered")
        user_role = _role(eng, "UserRole")
        assert b.find("#grant-role").get_attribute("value") == user_role
        b.type("#grant-search", "dora")
        b.click("#grant-search-submit")
        b.click("[data-list=grant-found] tr[data-name='dora@corp'][data-kind=users] input")
        b.click("#grant-submit")
        b.wait(lambda: b.all("[data-list=permissions] tr[data-principal='dora@corp']"), what="dora's permission listed")
        # A directory group not added yet: the grant adds it, then gives it the role.
        b.click("#grant-open")
        b.wait(lambda: b.all(f"#grant-source option[value='{corp['id']}']"), what="the directory offered")
        b.js(PICK, "#grant-source", corp["id"])
        b.type("#grant-search", "ops")
        b.click("#grant-search-submit")
        b.click("[data-list=grant-found] tr[data-name='ops@corp'][data-kind=groups] input")
        _accessible(b, "grant dialog")
        b.shot("admin-grant")
        b.click("#grant-submit")
        b.wait(lambda: b.all("[data-list=permissions] tr[data-principal='ops@corp']"), what="the group's permission")
        ops = eng.list("groups", search="name=ops@corp")["groups"][0]
        perms = eng.list("permissions", search=f"object_type=vm and object_id={vm['id']}")["permissions"]
        assert sorted((p["user_id"] or p["group_id"], p["role"]) for p in perms) == \
            sorted([(dora["id"], "UserRole"), (ops["id"], "UserRole")]), perms
        assert b.text("[data-list=permissions] tr[data-principal='dora@corp'] td:nth-child(3)") == "UserRole"
        b.shot("admin-permissions")
        _accessible(b, "permissions dialog")
        b.click("[data-permissions-close]")
        # In Japanese (a language change renders the page anew: the dialog is opened again).
        b.js(PICK_LANG, "ja")
        b.wait_text("#tab-vms", "仮想マシン")
        b.click(f"{_row(b, 'doras-vm')} button[data-action=permissions]")
        b.wait(lambda: len(b.all("[data-list=permissions] tr[data-inherited=false]")) == 2,
               what="the permissions in Japanese")
        b.wait_text("[data-list=permissions] tr[data-principal='qadmins']", "クラスター: qcl")
        assert not _latin_left(b), _latin_left(b)
        b.click("[data-permissions-close]")
        b.js(PICK_LANG, "en")
        b.wait_text("#tab-vms", "Virtual machines")
        # Her own permissions, from the users tab.
        b.click("#tab-users")
        b.click(f"{_row(b, 'dora@corp')} button[data-action=permissions]")
        b.wait_text("[data-list=user-permissions]", "Virtual machine: doras-vm")
        assert len(b.all("[data-list=user-permissions] tbody tr")) == 1
        b.click("[data-user-permissions-close]")
        b.click("#logout")
        b.find("#login-user")
        # She sees exactly that VM in the VM Portal.
        _login(b, base + "/vm", "dora@corp", users["dora"])
        b.wait_text("[data-list=my-vms]", "doras-vm")
        assert _attrs(b, "[data-list=my-vms] article", "data-name") == ["doras-vm"]
        token = b.js("return JSON.parse(sessionStorage.getItem('vireo.session')).token")
        assert [v["name"] for v in eng.call("GET", "/api/vms", token=token)["vms"]] == ["doras-vm"]
        b.click("#logout")
        b.find("#login-user")
        # Revoked in the dialog: gone from it and from her VM Portal.
        _login(b, base + "/admin", "admin@internal", eng.admin_password)
        b.click(f"{_row(b, 'doras-vm')} button[data-action=permissions]")
        b.click("[data-list=permissions] tr[data-principal='dora@corp'] button[data-action=revoke]")
        b.wait(lambda: not b.all("[data-list=permissions] tr[data-principal='dora@corp']"), what="the permission gone")
        assert [p["group_id"] for p in eng.list("permissions", search=f"object_id={vm['id']}")["permissions"]] == \
            [ops["id"]]
        b.click("[data-permissions-close]")
        b.click("#logout")
        b.find("#login-user")
        _login(b, base + "/vm", "dora@corp", users["dora"])
        b.wait_text("[data-list=my-vms]", "You have no virtual machines.")
        token = b.js("return JSON.parse(sessionStorage.getItem('vireo.session')).token")
        assert eng.call("GET", "/api/vms", token=token)["total"] == 0
        b.click("#logout")
        b.find("#login-user")
        # Removed on the users tab: her row, and with it the user, gone.
        _login(b, base + "/admin", "admin@internal", eng.admin_password)
        b.click("#tab-users")
        b.click(f"{_row(b, 'dora@corp')} button[data-action=remove]")
        b.click("#remove-user-submit")
        b.wait(lambda: not b.all(_row(b, "dora@corp")), 15, "dora's row gone")
        assert eng.list("users", search="name=dora@corp")["total"] == 0
        # admin@internal's SuperUser stays: its revoke shows the API's refusal, in its words.
        b.click(f"{_row(b, 'admin@internal')} button[data-action=permissions]")
        b.click("[data-list=user-permissions] tr[data-role=SuperUser] button[data-action=revoke]")
        su = eng.list("permissions", search="user=admin@internal and object_type=system")["permissions"]
        refused = eng.request("DELETE", f"/api/permissions/{su[0]['id']}")
        assert refused.status == 409, refused
        b.wait_text("#user-permissions-error", refused.body["fault"]["detail"])
        assert b.all("[data-list=user-permissions] tr[data-role=SuperUser]")


def test_admin_portal_groups_and_custom_roles(ctx):
    """The administrator makes a custom role of two action groups on the
    roles tab (none chosen first: the API's 400 in the dialog; the
    predefined roles only viewed), adds a directory group on the groups
    tab (and makes an internal one, adds and takes out a member, removes
    it), and grants the role to the group on a VM; a member logs in and may
    do exactly what the role allows (edit the VM, start it) and is refused
    the rest (403); her permissions dialog names the group she holds it
    through; the role cannot be removed while in use (the API's 409 in the
    dialog), and can once the group's permission is revoked on the groups
    tab. Each step checked against the API."""
    if not slapd.available():
        raise Skip("slapd is not installed (scripts/setup installs it)")
    users = DIR_USERS
    with _browser(ctx) as b, _directory(ctx, b) as (eng, ds):
        base = f"https://127.0.0.1:{eng.port}"
        dc = eng.create_dc("gdc")
        cl = eng.create_cluster("gcl", dc["id"])
        vm = eng.create_vm("qa-vm", cl["id"])
        corp = _corp_admin(eng, ds, b)
        # Roles tab: the predefined roles are viewed, not changed or removed.
        b.click("#tab-roles")
        b.find(f"{_row(b, 'UserRole')} button[data-action=view]")
        assert not b.all(f"{_row(b, 'UserRole')} button[data-action=remove]")
        # A custom role: no action group is the API's refusal, in the dialog; then two.
        b.click("#new-roles")
        b.wait(lambda: b.all("#create-role-groups input[data-action-group=migrate_vm]"), what="the action groups offered")
        offered = _attrs(b, "#create-role-groups input", "data-action-group")
        assert sorted(offered) == sorted(eng.get("/api/openapi.json")["components"]["schemas"]["ActionGroups"]
                                         ["items"]["enum"]), offered
        b.type("#create-role-name", "qa-editor")
        b.type("#create-role-description", "edits and starts the QA VMs")
        b.click("#create-role-submit")
        b.wait_text("#create-role-error", "action_groups must be a list of at least one action group")
        b.click("#create-role-ag-edit_vm_properties")
        b.click("#create-role-ag-vm_basic_operations")
        _accessible(b, "role dialog")
        b.shot("admin-new-role")
        b.click("#create-role-submit")
        b.wait(lambda: not b.all("#create-role"), what="the role dialog closed")
        b.wait_text("[data-list=roles]", "qa-editor")
        role = eng.list("roles", search="name=qa-editor")["roles"][0]
        assert sorted(role["action_groups"]) == ["edit_vm_properties", "vm_basic_operations"], role
        assert role["administrative"] is False and role["predefined"] is False, role
        # In Japanese: the tab and the role's dialog (its action groups checked) show no English.
        b.js(PICK_LANG, "ja")
        b.wait_text("#tab-roles", "ロール")
        b.click(f"{_row(b, 'qa-editor')} button[data-action=edit]")
        b.wait(lambda: b.all("#edit-role-ag-edit_vm_properties:checked"), what="the role's groups checked")
        assert sorted(_attrs(b, "#edit-role-groups input:checked", "data-action-group")) == \
            ["edit_vm_properties", "vm_basic_operations"]
        assert not _latin_left(b), _latin_left(b)
        b.click("#edit-role button.pf-m-link")
        b.js(PICK_LANG, "en")
        b.wait_text("#tab-roles", "Roles")
        # Groups tab: the directory group, searched in slapd and added.
        b.click("#tab-groups")
        b.click("#add-groups-open")
        b.wait(lambda: b.find("#add-groups-source").get_attribute("value") == corp["id"], what="the directory chosen")
        b.type("#add-groups-search", "qa")
        b.click("#add-groups-search-submit")
        b.click("[data-list=add-groups-found] tr[data-name='qa@corp'] input")
        b.click("#add-groups-submit")
        b.wait_text("[data-list=groups]", "qa@corp")
        qa = eng.list("groups", search="name=qa@corp")["groups"][0]
        # An internal group: made, a member added (the engine's users) and taken out, removed.
        b.click("#new-groups")
        b.type("#create-group-name", "testers")
        b.click("#create-group-submit")
        b.wait_text("[data-list=groups]", "testers")
        testers = eng.list("groups", search="name=testers")["groups"][0]
        b.click(f"{_row(b, 'testers')} button[data-action=members]")
        b.click("#add-members-open")
        b.type("#add-members-search", "admin")
        b.click("#add-members-search-submit")
        b.click("[data-list=add-members-found] tr[data-name='admin@internal'] input")
        b.click("#add-members-submit")
        b.wait(lambda: b.all("[data-list=group-members] tr[data-name='admin@internal']"), what="the member listed")
        assert [m["name"] for m in eng.get(f"/api/groups/{testers['id']}/members")["members"]] == ["admin@internal"]
        b.click("[data-list=group-members] tr[data-name='admin@internal'] button[data-action=take-out]")
        b.wait_text("#group-members", "No members.")
        assert eng.get(f"/api/groups/{testers['id']}/members")["total"] == 0
        b.click("[data-members-close]")
        b.click(f"{_row(b, 'testers')} button[data-action=remove]")
        b.click("#remove-group-submit")
        b.wait(lambda: not b.all(_row(b, "testers")), 15, "the group's row gone")
        assert eng.request("GET", testers["href"]).status == 404
        # The role, to the group, on the VM (the group's permissions: grant).
        b.click(f"{_row(b, 'qa@corp')} button[data-action=permissions]")
        b.find("[data-group-permissions-close]")
        assert not b.all("[data-list=group-permissions]")
        b.click("#group-grant-open")
        b.wait(lambda: b.all(f"#group-grant-role option[value='{role['id']}']"), what="the custom role offered")
        b.js(PICK, "#group-grant-kind", "vms")
        b.wait(lambda: b.all(f"#group-grant-object option[value='{vm['id']}']"), what="the VMs offered")
        b.js(PICK, "#group-grant-object", vm["id"])
        b.js(PICK, "#group-grant-role", role["id"])
        _accessible(b, "group grant dialog")
        b.click("#group-grant-submit")
        b.wait_text("[data-list=group-permissions] tr[data-role=qa-editor]", "Virtual machine: qa-vm")
        b.click("[data-group-permissions-close]")
        perm = eng.list("permissions", search=f"object_id={vm['id']}")["permissions"]
        assert [(p["group_id"], p["role_id"]) for p in perm] == [(qa["id"], role["id"])], perm
        # A member may do what the role allows, and nothing else.
        tok = eng.login("gina@corp", users["gina"], set_token=False)
        eng.call("PUT", f"/api/vms/{vm['id']}", {"description": "edited by gina"}, token=tok)
        assert eng.vm(vm["id"])["description"] == "edited by gina"
        started = eng.request("POST", f"/api/vms/{vm['id']}/start", token=tok)
        assert started.status in (202, 409), started  # allowed (no host may run it: 409)
        for method, path in (("DELETE", f"/api/vms/{vm['id']}"), ("POST", f"/api/vms/{vm['id']}/migrate")):
            refused = eng.request(method, path, token=tok)
            assert refused.status == 403, (method, path, refused)
        # Her permissions: through the group (the API's member= search, and her dialog).
        gina = eng.list("users", search="name=gina@corp")["users"][0]
        held = eng.list("permissions", search=f"member={gina['id']}")["permissions"]
        assert [(p["group_id"], p["role"]) for p in held] == [(qa["id"], "qa-editor")], held
        assert eng.list("permissions", search=f"user=gina@corp")["total"] == 0
        b.click("#tab-users")
        b.click(f"{_row(b, 'gina@corp')} button[data-action=permissions]")
        b.wait_text("[data-list=user-permissions] tr[data-principal='qa@corp'][data-inherited=true]",
                    "through group qa@corp")
        assert not b.all("[data-list=user-permissions] button[data-action=revoke]")
        b.shot("admin-user-through-group")
        b.click("[data-user-permissions-close]")
        # In use: the role's removal is refused, in the API's words.
        b.click("#tab-roles")
        b.click(f"{_row(b, 'qa-editor')} button[data-action=remove]")
        refused = eng.request("DELETE", f"/api/roles/{role['id']}")
        assert refused.status == 409, refused
        b.click("#remove-role-submit")
        b.wait_text("#remove-role-error", refused.body["fault"]["detail"])
        b.click("#remove-role button.pf-m-link")
        # Revoked on the groups tab (the group's permissions), then removed.
        b.click("#tab-groups")
        b.click(f"{_row(b, 'qa@corp')} button[data-action=permissions]")
        b.wait_text("[data-list=group-permissions] tr[data-role=qa-editor]", "Virtual machine: qa-vm")
        b.click("[data-list=group-permissions] tr[data-role=qa-editor] button[data-action=revoke]")
        b.wait(lambda: not b.all("[data-list=group-permissions] tr"), what="the group's permission revoked")
        assert eng.list("permissions", search=f"object_id={vm['id']}")["total"] == 0
        b.click("[data-group-permissions-close]")
        b.click("#tab-roles")
        b.click(f"{_row(b, 'qa-editor')} button[data-action=remove]")
        b.click("#remove-role-submit")
        b.wait(lambda: not b.all(_row(b, "qa-editor")), 15, "the role's row gone")
        assert eng.request("GET", f"/api/roles/{role['id']}").status == 404
        assert eng.request("PUT", f"/api/vms/{vm['id']}", {"description": "x"}, token=tok).status == 403
