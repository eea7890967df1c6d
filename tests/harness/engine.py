"""Runs the real vireo-engine for integration tests, with a small HTTPS
client for its REST API (docs/rest-api.md).

    with Engine(ctx) as eng:            # started, ready, admin logged in
        dc = eng.create_dc("dc1")
        st, body, hdrs = eng.request("GET", "/api/datacenters")
        eng.restart()                    # same state dir, same port
        eng.kill()                       # SIGKILL
        eng.start()

Each Engine gets its own state directory under /var/tmp (database, log,
admin password file) unless one is given (restart tests reuse it through
the same object; a second Engine can be pointed at a copy). The engine
runs in the root namespace and reaches the harness hosts' agents over the
test bridge with the harness PKI (ca.crt + engine.crt/.key, which the
agents trust). Its HTTPS certificate is an extra one, `engine-api`, issued
into the harness PKI directory with an IP SAN 127.0.0.1, and the client
verifies it against ca.crt.

Leaving the `with` block always stops the engine (SIGKILL if SIGTERM does
not work); when the block ended without an exception it also checks that
the engine exited cleanly and that its log has no sanitizer report. The
state directory is removed on success and kept (its path is printed in
assertion messages) on failure; VIREO_ENGINE_KEEP=1 always keeps it.
"""

import atexit
import http.client
import json
import os
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import tempfile
import time
import urllib.parse

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PKI_SCRIPT = os.path.join(REPO_ROOT, "scripts", "pki")

ADMIN = "admin@internal"
ADMIN_PASSWORD = "vireo-admin-pw-1"
API_CERT = "engine-api"

_DEFAULT = object()
_running = set()  # engines with a live process, killed at interpreter exit


@atexit.register
def _kill_leftovers():
    for eng in list(_running):
        try:
            eng.kill()
        except Exception:
            pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_api_cert(pki_dir):
    """Issue engine-api.{crt,key} (SAN IP 127.0.0.1) into pki_dir once."""
    crt = os.path.join(pki_dir, API_CERT + ".crt")
    key = os.path.join(pki_dir, API_CERT + ".key")
    if not (os.path.exists(crt) and os.path.exists(key)):
        p = subprocess.run(["bash", PKI_SCRIPT, "issue", pki_dir, API_CERT, "--ip", "127.0.0.1"],
                           capture_output=True, text=True, timeout=120)
        if p.returncode:
            raise RuntimeError(f"scripts/pki issue {API_CERT} failed: {p.stderr}")
    return crt, key


_LOCAL_PKI = []


def local_pki():
    """A PKI of its own (CA + engine certificate) for an engine that needs
    no harness hosts, made once per test run: starting the hosts only for
    their PKI would take the machine-wide harness lock for nothing."""
    if not _LOCAL_PKI:
        d = tempfile.mkdtemp(prefix="vireo-local-pki-", dir="/var/tmp")
        atexit.register(shutil.rmtree, d, True)
        for args in (["init", d], ["issue", d, "engine", "--ip", "127.0.0.1"]):
            p = subprocess.run(["bash", PKI_SCRIPT, *args], capture_output=True, text=True, timeout=120)
            if p.returncode:
                raise RuntimeError(f"scripts/pki {args[0]} failed: {p.stderr}")
        _LOCAL_PKI.append(d)
    return _LOCAL_PKI[0]


def expect_fault(r, status, detail=None):
    """Assert r is a fault answer of status whose detail contains detail
    (any case); returns the fault object."""
    assert r.status == status, r
    f = r.body["fault"]
    if detail:
        assert detail.lower() in f["detail"].lower(), r
    return f


def run_sql(eng, *stmts):
    """Put rows into eng's database directly, for states no agent-free path
    reaches (tests' own fixed literals only)."""
    if eng.database is None:
        db = sqlite3.connect(os.path.join(eng.state_dir, "engine.db"), timeout=30)
        for s in stmts:
            db.execute(s)
        db.commit()
        db.close()
    else:
        subprocess.run(["psql", eng.database, "-v", "ON_ERROR_STOP=1", "-qc", "; ".join(stmts)], check=True,
                       capture_output=True)


class CliSession:
    """The vireo CLI logged in to eng as admin, with a config directory of
    its own: run(*args) asserts the exit status (0 unless expect=)."""

    def __init__(self, ctx, eng):
        self.bin = ctx.cli
        self.env = dict(os.environ, VIREO_CONFIG_DIR=tempfile.mkdtemp(prefix="vireo-cli-"))
        self.run("login", "--url", f"https://127.0.0.1:{eng.port}", "--ca", eng.ca,
                 "--password-file", eng.password_file)

    def run(self, *args, expect=0, timeout=300):
        p = subprocess.run([self.bin, *args], capture_output=True, text=True, env=self.env, timeout=timeout)
        assert p.returncode == expect, (args, p.returncode, p.stdout, p.stderr)
        return p


class Response:
    """status, body (parsed JSON or None), headers (dict, lowercase keys);
    unpacks as (status, body, headers). .text is the raw body."""

    def __init__(self, status, body, headers, text):
        self.status, self.body, self.headers, self.text = status, body, headers, text

    def __iter__(self):
        return iter((self.status, self.body, self.headers))

    def __repr__(self):
        return f"<{self.status} {self.text[:300]!r}>"


def pg_database_for(state_dir):
    """A PostgreSQL database on the suite's test server named after the
    state dir, created on first use; returns its URI."""
    import re
    import subprocess
    base = os.environ["VIREO_TEST_PG_URI"]
    name = "e_" + re.sub(r"[^a-z0-9]", "_", os.path.basename(state_dir.rstrip("/")).lower())
    exists = subprocess.run(["psql", base, "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
                            capture_output=True, text=True, check=True).stdout.strip()
    if not exists:
        subprocess.run(["psql", base, "-qc", f'CREATE DATABASE "{name}"'], check=True,
                       capture_output=True)
    return base.rsplit("/", 1)[0] + "/" + name


# Every engine started in this process, so the runner can check the logs of
# those whose test failed (a passing test's engine is checked at close).
ALL_ENGINES = []


def sanitizer_reports_of_all():
    """Sanitizer findings in the logs of engines whose state was kept."""
    found = []
    for eng in ALL_ENGINES:
        if os.path.exists(eng.log_path):
            rep = eng.sanitizer_report()
            if rep:
                found.append(f"{eng.log_path}:\n{rep}")
    return found


class Engine:
    def __init__(self, ctx=None, *, binary=None, pki_dir=None, state_dir=None, poll_ms=500,
                 grace_s=4, token_ttl_s=None, agent_timeout_s=5, admin_password=ADMIN_PASSWORD,
                 password_file=_DEFAULT, extra_args=(), debug=True, login=True,
                 leak_check=False, kdump_listen="off"):
        if binary is None:
            binary = os.path.join(ctx.build, "src", "engine", "vireo-engine")
        if pki_dir is None:
            pki_dir = ctx.pki_dir
        self.binary = binary
        self.pki_dir = pki_dir
        self.ca = os.path.join(pki_dir, "ca.crt")
        self.https_cert, self.https_key = ensure_api_cert(pki_dir)
        self._own_state = state_dir is None
        self.state_dir = state_dir or tempfile.mkdtemp(prefix="vireo-engine-", dir="/var/tmp")
        os.chmod(self.state_dir, 0o700)
        self.log_path = os.path.join(self.state_dir, "engine.log")
        if password_file is _DEFAULT:
            password_file = os.path.join(self.state_dir, "admin-password")
            with open(password_file, "w") as f:
                f.write(admin_password + "\n")
            os.chmod(password_file, 0o600)
        self.password_file = password_file
        self.admin_password = admin_password
        self.poll_ms, self.grace_s = poll_ms, grace_s
        self.token_ttl_s, self.agent_timeout_s = token_ttl_s, agent_timeout_s
        self.extra_args = list(extra_args)
        # The fence_kdump listener (docs/fencing.md "Kdump") is off unless a
        # test asks: engines of parallel tests would share UDP 7410.
        self.kdump_listen = kdump_listen
        self.debug = debug
        self.auto_login = login
        # The runner turns LeakSanitizer off for daemons (most are killed);
        # leak_check turns it back on for this engine, whose orderly exit
        # on SIGTERM must then leave no leak report in its log.
        self.leak_check = leak_check
        self.port = free_port()
        self.proc = None
        self.token = None
        self.starts = 0
        self.ssl_ctx = ssl.create_default_context(cafile=self.ca)
        self.ssl_ctx.check_hostname = True
        # The database backend of this test pass (tests/run.py runs the
        # engine tests once per backend). PostgreSQL: one database per
        # state directory, so a restart on the same state finds its data.
        ALL_ENGINES.append(self)
        self.database = None
        if ctx is not None and getattr(ctx, "engine_db", "sqlite") == "postgresql":
            self.database = pg_database_for(self.state_dir)

    # -------------------------------------------------------------- process
    def argv(self):
        a = [self.binary, "--pki", self.pki_dir, "--listen", f"127.0.0.1:{self.port}",
             "--state-dir", self.state_dir, "--https-cert", self.https_cert,
             "--https-key", self.https_key, "--poll-ms", str(self.poll_ms),
             "--grace-s", str(self.grace_s), "--fence-kdump-listen", self.kdump_listen]
        if self.password_file:
            a += ["--admin-password-file", self.password_file]
        if self.token_ttl_s is not None:
            a += ["--token-ttl-s", str(self.token_ttl_s)]
        if self.agent_timeout_s is not None:
            a += ["--agent-timeout-s", str(self.agent_timeout_s)]
        if self.debug:
            a.append("--debug")
        if self.database:
            a += ["--database", self.database]
        # The message catalogs the build made (BUILD/po/ja/LC_MESSAGES).
        locale_dir = os.path.join(os.path.dirname(self.binary), "..", "..", "po")
        if os.path.isdir(locale_dir):
            a += ["--locale-dir", os.path.normpath(locale_dir)]
        return a + self.extra_args

    def _env(self):
        env = dict(os.environ)
        if self.leak_check:
            opts = [o for o in env.get("ASAN_OPTIONS", "").split(":")
                    if o and not o.startswith("detect_leaks=")]
            env["ASAN_OPTIONS"] = ":".join(opts + ["detect_leaks=1"])
        return env

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, wait=True, timeout=30):
        """Start the engine (same state dir and port as before, if any)."""
        if self.running:
            raise RuntimeError("engine already running")
        self.starts += 1
        with open(self.log_path, "ab") as f:
            f.write(f"=== {time.strftime('%H:%M:%S')} start #{self.starts}: "
                    f"{' '.join(self.argv())}\n".encode())
            f.flush()
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=f,
                                         stderr=subprocess.STDOUT, start_new_session=True,
                                         env=self._env())
        _running.add(self)
        if wait:
            self.wait_ready(timeout)
            if self.auto_login:
                self.login()
        return self

    def wait_ready(self, timeout=30):
        """Wait until the engine answers HTTPS requests."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.running:
                rc = self.proc.returncode if self.proc else None
                raise AssertionError(f"engine exited with {rc} before serving:\n{self.log_tail()}")
            try:
                self.request("GET", "/api", token=None, timeout=5)
                return
            except (OSError, http.client.HTTPException):
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"engine not serving on 127.0.0.1:{self.port} after "
                                     f"{timeout}s:\n{self.log_tail()}")
            time.sleep(0.1)

    def wait_exit(self, timeout=15):
        """Wait for the process to exit on its own; returns its status."""
        try:
            return self.proc.wait(timeout)
        finally:
            if not self.running:
                _running.discard(self)

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Send sig and wait; SIGKILL if it does not exit in time. Returns the
        exit status (negative = killed by that signal), None if not running."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                with open(self.log_path, "a") as f:
                    f.write(f"=== engine ignored signal {sig} for {timeout}s; killed\n")
                _running.discard(self)
                raise AssertionError(f"engine did not exit {timeout}s after signal {sig}:\n"
                                     + self.log_tail())
        _running.discard(self)
        return self.proc.returncode

    def kill(self):
        """SIGKILL (a crash, a power cut for the process)."""
        return self.stop(signal.SIGKILL)

    def restart(self, sig=signal.SIGTERM, timeout=30):
        rc = self.stop(sig)
        self.start(timeout=timeout)
        return rc

    def log_text(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_tail(self, n=60):
        lines = self.log_text().splitlines()
        return f"--- engine log {self.log_path} (last {n} lines) ---\n" + "\n".join(lines[-n:])

    def sanitizer_report(self):
        text = self.log_text()
        for pat in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
            if pat in text:
                i = text.index(pat)
                return text[max(0, i - 300):i + 3000]
        return ""

    def close(self, ok=True):
        """Stop the engine; with ok, check a clean exit and a clean log and
        remove the state dir (unless VIREO_ENGINE_KEEP=1)."""
        problems = []
        if self.running:
            try:
                rc = self.stop(signal.SIGTERM)
                if rc != 0:
                    problems.append(f"engine exited with status {rc} on SIGTERM")
            except AssertionError as e:
                problems.append(str(e))
        rep = self.sanitizer_report()
        if rep:
            problems.append("sanitizer report in engine log:\n" + rep)
        if ok and problems:
            raise AssertionError("\n".join(problems) + "\n" + self.log_tail(80))
        if ok and self._own_state and not os.environ.get("VIREO_ENGINE_KEEP"):
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def __enter__(self):
        try:
            if not self.running:
                self.start()
        except BaseException:
            self.close(ok=False)
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        ok = exc_type is None
        try:
            if ok:
                self.stop_all_vms()
        finally:
            self.close(ok=ok)
        return False

    # -------------------------------------------------------------- HTTP
    def request(self, method, path, body=None, token=_DEFAULT, raw=None, headers=None,
                params=None, timeout=30):
        """One HTTPS request (a new connection each time, so it works across
        engine restarts). body is sent as JSON; raw (bytes) is sent as is.
        token defaults to the logged-in token; None sends no Authorization."""
        if params:
            path += ("&" if "?" in path else "?") + urllib.parse.urlencode(params)
        hdrs = {}
        tok = self.token if token is _DEFAULT else token
        if tok:
            hdrs["Authorization"] = "Bearer " + tok
        data = None
        if raw is not None:
            data = raw if isinstance(raw, bytes) else raw.encode()
            hdrs["Content-Type"] = "application/json"
        elif body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ssl_ctx,
                                           timeout=timeout)
        try:
            conn.request(method, path, body=data, headers=hdrs)
            r = conn.getresponse()
            payload = r.read()
            rh = {k.lower(): v for k, v in r.getheaders()}
            status = r.status
        finally:
            conn.close()
        text = payload.decode("utf-8", errors="replace")
        try:
            parsed = json.loads(payload) if payload else None
        except ValueError:
            parsed = None
        return Response(status, parsed, rh, text)

    def call(self, method, path, body=None, expect=200, **kw):
        """request() that asserts the status (an int or a tuple) and returns
        the parsed body."""
        r = self.request(method, path, body, **kw)
        want = expect if isinstance(expect, tuple) else (expect,)
        if r.status not in want:
            raise AssertionError(f"{method} {path} {json.dumps(body)[:300] if body else ''}: "
                                 f"expected {expect}, got {r.status} {r.text[:600]}\n"
                                 + self.log_tail(30))
        return r.body

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def login(self, user=ADMIN, password=None, set_token=True):
        r = self.request("POST", "/api/sso/token", {
            "grant_type": "password", "username": user,
            "password": self.admin_password if password is None else password}, token=None)
        if r.status != 200:
            raise AssertionError(f"login as {user} failed: {r}\n{self.log_tail(20)}")
        tok = r.body["access_token"]
        if set_token:
            self.token = tok
        return tok

    # -------------------------------------------------------------- inventory
    def create_dc(self, name, **kw):
        return self.call("POST", "/api/datacenters", dict(name=name, **kw), expect=201)

    def create_cluster(self, name, dc_id, **kw):
        return self.call("POST", "/api/clusters", dict(name=name, datacenter_id=dc_id, **kw),
                         expect=201)

    def create_host(self, name, address, cluster_id, port=54321, **kw):
        return self.call("POST", "/api/hosts", dict(name=name, address=address,
                                                    cluster_id=cluster_id, port=port, **kw),
                         expect=201)

    def create_vm(self, name, cluster_id, memory_mib=256, **kw):
        return self.call("POST", "/api/vms", dict(name=name, cluster_id=cluster_id,
                                                  memory_mib=memory_mib, **kw), expect=201)

    def vm(self, vm_id):
        return self.get(f"/api/vms/{vm_id}")

    def host(self, host_id):
        return self.get(f"/api/hosts/{host_id}")

    def list(self, collection, **params):
        return self.get(f"/api/{collection}", params=params or None)

    def start_vm(self, vm_id):
        """POST start; returns the job id (asserts 202)."""
        return self.call("POST", f"/api/vms/{vm_id}/start", expect=202)["job"]["id"]

    def events(self, max=1000):
        return self.get("/api/events", params={"max": max})["events"]

    def find_events(self, substring, object_id=None):
        return [e for e in self.events() if substring in e["message"]
                and (object_id is None or e["object_id"] == object_id)]

    # -------------------------------------------------------------- waiting
    def wait_for(self, pred, timeout=30, interval=0.2, what="condition"):
        """Call pred() until it returns something truthy (returned); connection
        errors count as 'not yet'. On timeout: AssertionError with the last
        value and the engine log."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            try:
                last = pred()
                if last:
                    return last
            except (OSError, http.client.HTTPException) as e:
                last = e
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: "
                                     f"{last!r}\n{self.log_tail()}")
            time.sleep(interval)

    def wait_status(self, collection, obj_id, status, timeout=30):
        """Wait until GET /api/COLLECTION/ID has status in `status` (a string
        or a tuple); returns the entity."""
        want = (status,) if isinstance(status, str) else tuple(status)

        def check():
            r = self.request("GET", f"/api/{collection}/{obj_id}")
            return r.body if r.status == 200 and r.body.get("status") in want else None
        try:
            return self.wait_for(check, timeout, what=f"{collection}/{obj_id} status in {want}")
        except AssertionError as e:
            cur = self.request("GET", f"/api/{collection}/{obj_id}")
            raise AssertionError(f"{e}\ncurrent: {cur}") from None

    def wait_job(self, job_id, timeout=60, status=("finished", "failed")):
        want = (status,) if isinstance(status, str) else tuple(status)

        def check():
            r = self.request("GET", f"/api/jobs/{job_id}")
            return r.body if r.status == 200 and r.body.get("status") in want else None
        return self.wait_for(check, timeout, what=f"job {job_id} in {want}")

    def vm_action(self, vm_id, action, timeout=60, want="finished"):
        """POST a VM power action (202 + a job), wait for the job; returns
        (job, VM as it is then). Asserts the job ends in `want`."""
        r = self.request("POST", f"/api/vms/{vm_id}/{action}")
        assert r.status == 202 and r.headers.get("location") == r.body["job"]["href"], r
        job = self.wait_job(r.body["job"]["id"], timeout=timeout, status=("finished", "failed", "cancelled"))
        assert job["status"] == want, job
        return job, self.vm(vm_id)

    # -------------------------------------------------------------- cleanup
    def stop_all_vms(self):
        """Best effort: POST stop for every VM that is not down."""
        if not self.running or not self.token:
            return
        try:
            vms = self.list("vms", max=1000)["vms"]
        except Exception:
            return
        jobs = []
        for v in vms:
            if v.get("status") != "down":
                try:
                    r = self.request("POST", f"/api/vms/{v['id']}/stop", timeout=15)
                    if r.status == 202:
                        jobs.append(r.body["job"]["id"])
                except Exception:
                    pass
        for j in jobs:  # stops are jobs: wait for them to reach the hosts
            try:
                self.wait_job(j, timeout=40, status=("finished", "failed", "cancelled"))
            except Exception:
                pass
