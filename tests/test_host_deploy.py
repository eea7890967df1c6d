"""Hosts join by SSH (issue 13, docs/operations.md "Host deploy over SSH"):
a harness host that runs only sshd (tests/harness/sshd.py, with a private
/etc/vireo, vireo-agent "installed" and a stand-in for systemd) is added by
address and root password: the install job checks it, makes its key on the
host, has the engine's CA sign its request, writes the certificate back,
starts the agent, and the host goes installing -> initializing -> up and
runs a VM. The password is nowhere (jobs, events, log, database, ps).
Then: a new certificate while the host stays up; a reinstall with a wrong
password ends installfailed; a changed host key is refused before any
login; confirming the new key (by the engine's key) installs it again;
another host is added by the engine's key alone (with the CLI); a request
for another name or address is refused by the signer."""

import calendar
import difflib
import glob
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time

from harness.engine import CliSession, Engine, expect_fault
from harness.rpc import AgentClient, RpcError
from harness.sshd import SshServer

PASSWORD = "Deploy-pw-7731-root"
AGENT_PORT = 54400  # the harness agent of the host keeps 54321


def openssl(*args, input=None):
    return subprocess.run(["openssl", *args], input=input, capture_output=True, text=True, check=True).stdout


class PsWatch(threading.Thread):
    """Looks for a text in every process's command line until stopped."""

    def __init__(self, needle):
        super().__init__(daemon=True)
        self.needle = needle.encode()
        self.found = []
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            for d in glob.glob("/proc/[0-9]*/cmdline"):
                try:
                    with open(d, "rb") as f:
                        if self.needle in f.read():
                            self.found.append(d)
                except OSError:
                    pass
            self.halt.wait(0.05)


def cert_of(srv):
    with open(srv.root_path("/etc/vireo/pki/host.crt")) as f:
        return f.read()


def serial_of(pem):
    return openssl("x509", "-noout", "-serial", input=pem).strip().split("=", 1)[1].upper()


def crl_serials(eng, pem):
    """The serials a CRL lists, once it verified against the engine's CA."""
    with tempfile.NamedTemporaryFile("w", suffix=".pem") as f:
        f.write(pem)
        f.flush()
        text = openssl("crl", "-in", f.name, "-CAfile", eng.ca, "-noout", "-text")
    return {ln.split(":", 1)[1].strip().upper() for ln in text.splitlines() if "Serial Number:" in ln}


def ping_ok(fn):
    try:
        return fn() == {"pong": True}
    except (OSError, RpcError, ConnectionError):
        return False


def stolen_ping_of(h, eng, crt, key):
    """Host.ping to h's deployed agent with another host's key and certificate."""
    def ping():
        with AgentClient(h.addr, AGENT_PORT, eng.ca, crt, key, timeout=5) as c:
            return c.call("Host.ping")
    return ping


def libvirt_conf(srv, h):
    """The deployed host's qemu.conf and qemu-sanlock.conf, and the harness's
    own qemu.conf (below the host's /etc/libvirt overlay)."""
    out = []
    for p in (srv.root_path("/etc/libvirt/qemu.conf"), srv.root_path("/etc/libvirt/qemu-sanlock.conf"),
              os.path.join(h.dir, "etc", "qemu.conf")):
        with open(p) as f:
            out.append(f.read())
    return out


def active(text, key):
    return [ln.strip() for ln in text.splitlines() if ln.strip().split("=")[0].strip() == key]


QEMU_TLS = ['migrate_tls_x509_cert_dir = "/etc/pki/qemu"', "migrate_tls_x509_verify = 1"]
LIBVIRT_LINKS = {"/etc/pki/CA/cacert.pem": "ca.crt", "/etc/pki/libvirt/servercert.pem": "host.crt",
                 "/etc/pki/libvirt/clientcert.pem": "host.crt", "/etc/pki/libvirt/private/serverkey.pem": "host.key",
                 "/etc/pki/libvirt/private/clientkey.pem": "host.key"}
QEMU_COPIES = {"ca-cert.pem": ("ca.crt", 0o644), "server-cert.pem": ("host.crt", 0o644),
               "client-cert.pem": ("host.crt", 0o644), "server-key.pem": ("host.key", 0o640),
               "client-key.pem": ("host.key", 0o640)}


def assert_libvirt_tls(srv):
    """libvirt's and QEMU's TLS files are the host's own key and certificate
    (docs/operations.md), the same as the agent's now: links where libvirtd
    looks, copies where QEMU does (the migration stream), the key for
    QEMU's group only."""
    for path, target in LIBVIRT_LINKS.items():
        assert os.readlink(srv.root_path(path)) == "/etc/vireo/pki/" + target, path
    for name, (src, mode) in QEMU_COPIES.items():
        # (a file equal to the harness host's below the overlay is left there)
        seen = srv.seen_path("/etc/pki/qemu/" + name)
        assert seen, name
        with open(srv.root_path("/etc/vireo/pki/" + src)) as a, open(seen) as b:
            assert a.read() == b.read(), name
        st = os.lstat(seen)
        assert st.st_mode & 0o777 == mode, (name, oct(st.st_mode))


def agent_log(srv):
    try:
        with open(srv.agent_log, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def assert_clean_agent(srv):
    log = agent_log(srv)
    assert "systemctl restart" in log, log[-2000:]
    assert "AddressSanitizer" not in log and "runtime error:" not in log, log[-3000:]


def install_job(eng, host_id, ssh, status="finished", timeout=120):
    r = eng.request("POST", f"/api/hosts/{host_id}/install", {"ssh": ssh})
    assert r.status == 202, r
    job = eng.wait_job(r.body["job"]["id"], timeout=timeout, status=("finished", "failed", "cancelled"))
    assert job["status"] == status, (job, eng.log_tail(30))
    return job


def nothing_holds(eng, text):
    """No API answer, event, log line or database row has text."""
    found = []
    for what, body in (("jobs", eng.get("/api/jobs", params={"max": 1000})),
                       ("events", eng.get("/api/events", params={"max": 1000})),
                       ("hosts", eng.get("/api/hosts"))):
        if text in json.dumps(body):
            found.append(what)
    if text in eng.log_text():
        found.append("engine log")
    if eng.database is None:
        with open(os.path.join(eng.state_dir, "engine.db"), "rb") as f:
            if text.encode() in f.read():
                found.append("database file")
    else:
        dump = subprocess.run(["pg_dump", eng.database], capture_output=True, check=True).stdout
        if text.encode() in dump:
            found.append("database")
    return found


def test_host_deploy_by_password_and_key(ctx):
    h = ctx.host(1)
    # the harness libvirtd serves TLS (harness/libvirt_tls.py), as a deployed
    # host's does: an enrollment has it reload its TLS files online
    ctx.hs.use_libvirt_tls()
    debs = ctx.fast_debs()[0]  # (also installed by test_packaging: built once per run)
    # Certificates of 20 days: within the 30 days the engine warns before an end.
    with Engine(ctx, extra_args=["--host-packages", debs, "--host-cert-days", "20"]) as eng:
        pub = eng.request("GET", "/pki/engine-ssh.pub", token=None).text
        dc = eng.create_dc("dc1")
        cl = eng.create_cluster("cl1", dc["id"])
        with SshServer(root_password=PASSWORD, authorized_keys=[pub], host=h, deploy=True) as srv:
            # Bad input changes nothing.
            base = dict(name="dep1", cluster_id=cl["id"], address=h.addr, port=AGENT_PORT)
            # (ssh with neither password nor use_engine_key only records the access: hosts/soft fencing)
            for ssh, why in (({"port": srv.port, "use_engine_key": False}, "either password"),
                             ({"password": PASSWORD, "use_engine_key": True}, "either password"),
                             ({"password": PASSWORD, "fingerprint": "MD5:aa"}, "fingerprint"),
                             ({"password": PASSWORD, "user": "admin"}, "unknown member")):
                f = expect_fault(eng.request("POST", "/api/hosts", dict(base, ssh=ssh)), 400, why)
                assert PASSWORD not in json.dumps(f), f
            assert eng.get("/api/hosts")["hosts"] == []

            watch = PsWatch(PASSWORD)
            watch.start()
            r = eng.request("POST", "/api/hosts", dict(base, ssh={"port": srv.port, "password": PASSWORD}))
            assert r.status == 202 and r.body["id"], r
            hid = r.body["id"]
            host = eng.host(hid)
            assert host["status"] == "installing" and host["ssh"]["auth"] == "password", host
            job = eng.wait_job(r.body["job"]["id"], timeout=120, status=("finished", "failed"))
            assert job["status"] == "finished", (job, srv.log(), agent_log(srv)[-2000:])
            host = eng.wait_status("hosts", hid, "up", timeout=60)
            watch.halt.set()
            watch.join()
            assert watch.found == [], watch.found
            steps = [s["description"] for s in job["steps"]]
            assert steps[0].startswith(f"connecting to {h.addr}:{srv.port}"), steps
            assert any(s.startswith("checking the host (host key SHA256:") for s in steps), steps
            assert any("key and certificate request on the host" in s for s in steps), steps
            # The package from --host-packages, installed by apt on the host
            # (its own dpkg database: the overlays of tests/harness/sshd.py).
            assert any(s.startswith("installed vireo-agent_") for s in steps), steps
            assert os.path.exists(srv.root_path("/var/lib/dpkg/info/vireo-agent.list"))
            assert os.path.exists(srv.root_path("/usr/sbin/vireo-agent"))
            assert any(s.startswith("configuring and starting vireo-agent") for s in steps), steps
            # libvirt and sanlock configured: the sanlock lock manager, no
            # automatic leases (no host id yet: the host never joined
            # storage), sanlock enabled and started, libvirtd restarted for
            # it. The rest of qemu.conf is kept; the harness's own libvirt
            # configuration (below the host's overlay) is untouched.
            assert "configuring libvirt and sanlock" in steps, steps
            assert "libvirt uses the sanlock lock manager, sanlock runs, libvirtd restarted" in steps, steps
            qemu, qsan, harness_qemu = libvirt_conf(srv, h)
            assert active(qemu, "lock_manager") == ['lock_manager = "sanlock"'], qemu
            diff = list(difflib.unified_diff(harness_qemu.splitlines(), qemu.splitlines(), lineterm="", n=0))
            # the deploy's keys set once, after its marker; every other line
            # (settings and comments) kept as the harness has it, in order
            # (the harness's own settings of those keys, when it has TLS on,
            # replaced)
            own = ("lock_manager", "migrate_tls_x509_cert_dir", "migrate_tls_x509_verify")
            lines = qemu.splitlines()
            marker = lines.index("# Set by vireo-engine host deploy (docs/operations.md):")
            assert lines[marker + 1:marker + 4] == ['lock_manager = "sanlock"'] + QEMU_TLS, diff
            assert [ln for ln in lines if active(ln, ln.split("=")[0].strip()) and ln.split("=")[0].strip() in own] \
                == ['lock_manager = "sanlock"'] + QEMU_TLS, diff
            assert lines[:marker] + lines[marker + 4:] == [ln for ln in harness_qemu.splitlines() if not (
                active(ln, ln.split("=")[0].strip()) and ln.split("=")[0].strip() in own)], diff
            assert active(qsan, "auto_disk_leases") == ["auto_disk_leases = 0"], qsan
            assert active(qsan, "require_lease_for_disks") == ["require_lease_for_disks = 0"], qsan
            assert active(qsan, "host_id") == [], qsan
            assert 'lock_manager = "sanlock"' not in harness_qemu, harness_qemu
            # libvirt's TLS for migrations, with the host's new certificate;
            # libvirtd's TLS socket enabled, libvirtd restarted for it.
            assert "libvirt and QEMU migrate over TLS with the host's certificate" in steps, steps
            assert_libvirt_tls(srv)
            assert srv.units() == ["enable sanlock.service", "start sanlock.service", "try-restart libvirtd.service",
                                   "enable libvirtd-tls.socket", "start libvirtd-tls.socket",
                                   "try-restart libvirtd.service"], srv.units()
            first_conf = libvirt_conf(srv, h)

            # The same machine again, under another agent port: the API
            # cannot tell, its host key does. A failed install is removed.
            r = eng.request("POST", "/api/hosts", dict(base, name="dep1b", port=AGENT_PORT + 3,
                                                       ssh={"port": srv.port, "use_engine_key": True}))
            assert r.status == 202, r
            job = eng.wait_job(r.body["job"]["id"], timeout=60, status=("finished", "failed"))
            assert job["status"] == "failed" and "is host 'dep1' already (the same SSH host key" in job["detail"], job
            assert eng.host(r.body["id"])["status"] == "installfailed"
            assert eng.host(r.body["id"])["ssh"]["fingerprint"] == ""  # not pinned
            eng.call("DELETE", f"/api/hosts/{r.body['id']}", expect=204)
            assert len(srv.units()) == 6  # it went no further
            # The host key seen at the first contact is pinned and shown.
            assert host["ssh"] == {"port": srv.port, "fingerprint": srv.fingerprint(), "auth": "password",
                                   "soft_fencing": False}, host
            # installing -> initializing -> up, in the events.
            msgs = [e["message"] for e in reversed(eng.events()) if e["object_id"] == hid]
            seq = [m for m in msgs if " is initializing" in m or " is up" in m]
            assert seq and "initializing" in seq[0] and " is up" in seq[1], msgs
            assert any("pinned" in m for m in msgs) and any("signed for its key made on the host" in m
                                                            for m in msgs), msgs

            # The engine's CA signed a certificate for dep1 at its address;
            # the key was made on the host and never left it.
            pki = srv.root_path("/etc/vireo/pki")
            crt = first_cert = cert_of(srv)
            openssl("verify", "-CAfile", eng.ca, os.path.join(pki, "host.crt"))
            text = openssl("x509", "-noout", "-text", input=crt)
            assert "Subject: CN = dep1" in text and f"IP Address:{h.addr}" in text and "DNS:dep1" in text, text
            assert "TLS Web Server Authentication" in text and "TLS Web Client Authentication" in text, text
            end = openssl("x509", "-noout", "-enddate", input=crt).strip().split("=", 1)[1]
            left = calendar.timegm(time.strptime(end, "%b %d %H:%M:%S %Y %Z")) - time.time()
            assert 19 * 86400 < left <= 20 * 86400 + 3600, end
            eng.wait_for(lambda: eng.find_events("the certificate of host 'dep1' ends on", hid), 10,
                         what="the event about the certificate's end")
            key = os.path.join(pki, "host.key")
            assert oct(os.stat(key).st_mode & 0o777) == "0o600"
            assert openssl("pkey", "-pubout", "-in", key) == openssl("x509", "-noout", "-pubkey", input=crt)
            with open(key) as f:
                key_body = "".join(f.read().splitlines()[1:-1])[:40]
            assert nothing_holds(eng, key_body) == []
            with open(srv.root_path("/etc/vireo/agent.conf")) as f:
                assert f"--listen 0.0.0.0:{AGENT_PORT}" in f.read()

            # A VM runs on it.
            spec = ctx.vm_spec("dvm1")
            vm = eng.create_vm("dvm1", cl["id"], boot=spec["boot"], disks=spec["disks"], nics=[])
            job, vm = eng.vm_action(vm["id"], "start", timeout=90)
            vm = eng.wait_status("vms", vm["id"], "up", timeout=60)
            assert vm["host_id"] == hid, vm

            # A new certificate (by the engine's key): a new key made on the
            # host, the agent restarted, the host up all along, its VM too.
            seen = set()
            stop = threading.Event()

            def watch_status():
                while not stop.is_set():
                    seen.add(eng.host(hid)["status"])
                    stop.wait(0.1)
            t = threading.Thread(target=watch_status, daemon=True)
            t.start()
            units = len(srv.units())
            r = eng.request("POST", f"/api/hosts/{hid}/enrollcertificate", {"ssh": {"use_engine_key": True}})
            assert r.status == 202, r
            job = eng.wait_job(r.body["job"]["id"], timeout=90, status=("finished", "failed"))
            eng.wait_for(lambda: eng.host(hid)["last_seen"] > 0 and eng.host(hid)["status"] == "up", 30,
                         what="polls after enrollment")
            stop.set()
            t.join()
            assert job["status"] == "finished", job
            assert seen == {"up"}, seen
            # libvirtd took the new certificate online (virt-admin
            # server-update-tls against the host's running libvirtd), no restart
            steps = [s["description"] for s in job["steps"]]
            assert any(s.startswith("libvirt and QEMU migrate over TLS") and s.endswith("libvirtd reloaded them online")
                       for s in steps), steps
            crt2 = cert_of(srv)
            assert crt2 != crt and openssl("x509", "-noout", "-serial", input=crt2) != \
                openssl("x509", "-noout", "-serial", input=crt)
            assert_libvirt_tls(srv)  # QEMU's copy follows the new key
            assert srv.units()[units:] == [], srv.units()  # libvirtd left running (the host stays up)
            assert eng.vm(vm["id"])["status"] == "up"
            eng.vm_action(vm["id"], "stop", timeout=60)

            # Reinstall only from maintenance or installfailed.
            expect_fault(eng.request("POST", f"/api/hosts/{hid}/install", {"ssh": {"use_engine_key": True}}),
                         409, "maintenance or installfailed")
            r = eng.request("POST", f"/api/hosts/{hid}/deactivate")
            assert r.status == 202, r
            eng.wait_status("hosts", hid, "maintenance", timeout=60)

            # A wrong password: installfailed, the step and a clear message,
            # the password nowhere.
            wrong = "Wrong-" + PASSWORD[::-1]
            job = install_job(eng, hid, {"password": wrong}, status="failed")
            host = eng.host(hid)
            assert host["status"] == "installfailed", host
            assert "connecting to" in host["status_detail"] and "refused root's login by password" in \
                host["status_detail"], host
            assert "refused root's login by password" in job["detail"], job
            assert any("installfailed" in e["message"] and e["object_id"] == hid for e in eng.events()), eng.events()
            assert "Failed password for root" in srv.log()
            time.sleep(1.5)  # polls of its monitor (every 0.5 s) would have moved it
            assert eng.host(hid)["status"] == "installfailed"  # its monitor keeps away

            # A host that says it is not Debian, with a terminal escape in
            # what it says: the check stops the install, and the output
            # reaches the job, the host and the events with its control
            # characters replaced.
            p = srv.run("sh", "-c", "rm /etc/os-release && printf 'ID=\"deb\\033[31mian\"\\nVERSION_ID=\"12\"\\n'"
                        " > /etc/os-release")
            assert p.returncode == 0, p
            try:
                job = install_job(eng, hid, {"use_engine_key": True}, status="failed")
            finally:
                p = srv.run("sh", "-c", "rm -f /etc/os-release && ln -s ../usr/lib/os-release /etc/os-release")
                assert p.returncode == 0, p
            assert "cannot be a Vireo host" in job["detail"] and "the host runs deb?[31mian 12" in job["detail"], job
            host = eng.host(hid)
            assert host["status"] == "installfailed" and "deb?[31mian" in host["status_detail"], host
            for what in (job, host, eng.events()):
                assert "\x1b" not in json.dumps(what, ensure_ascii=False), what

            # The engine stops in the middle of an install by password: the
            # password is gone with it, so the job fails and says why.
            r = eng.request("POST", f"/api/hosts/{hid}/install", {"ssh": {"password": PASSWORD}})
            assert r.status == 202, r
            jid = r.body["job"]["id"]
            eng.wait_for(lambda: eng.get(f"/api/jobs/{jid}")["detail"] == "installing packages", 60,
                         interval=0.1, what="the packages step")
            eng.kill()
            eng.start()
            job = eng.wait_job(jid, timeout=30, status=("finished", "failed"))
            assert job["status"] == "failed" and "the root password is never stored" in job["detail"], job
            host = eng.wait_status("hosts", hid, "installfailed", timeout=10)
            assert "engine restarted" in host["status_detail"], host

            # The host is "reinstalled": a new host key is refused against
            # the pin before anything is sent.
            old_fp = srv.fingerprint()
            srv.new_host_key()
            with open(srv.log_path, "rb") as f:
                before = len(f.read())
            job = install_job(eng, hid, {"use_engine_key": True}, status="failed")
            assert "changed" in job["detail"] and old_fp in job["detail"] and srv.fingerprint() in job["detail"], job
            with open(srv.log_path, "rb") as f:
                since = f.read()[before:].decode(errors="replace")
            assert "Accepted" not in since and "Failed" not in since, since
            assert eng.host(hid)["status"] == "installfailed"

            # Confirmed, by the engine's key: installed again and up.
            units = len(srv.units())
            job = install_job(eng, hid, {"use_engine_key": True, "fingerprint": srv.fingerprint()})
            host = eng.wait_status("hosts", hid, "up", timeout=60)
            # Configured again: nothing changed, so libvirtd was left alone.
            steps = [s["description"] for s in job["steps"]]
            assert "libvirt uses the sanlock lock manager, sanlock runs (nothing changed)" in steps, steps
            assert libvirt_conf(srv, h) == first_conf
            # a new key on the host: libvirtd restarted to serve its certificate
            assert srv.units()[units:] == ["enable sanlock.service", "start sanlock.service",
                                           "enable libvirtd-tls.socket", "start libvirtd-tls.socket",
                                           "try-restart libvirtd.service"], srv.units()
            assert_libvirt_tls(srv)
            assert host["ssh"] == {"port": srv.port, "fingerprint": srv.fingerprint(), "auth": "engine_key",
                                   "soft_fencing": False}, host
            assert "Accepted publickey for root" in srv.log()

            # Added twice: refused.
            expect_fault(eng.request("POST", "/api/hosts", dict(base, name="dep2", ssh={"use_engine_key": True,
                                                                                         "port": srv.port})),
                         409, "already at")
            for text in (PASSWORD, wrong):
                assert nothing_holds(eng, text) == [], text
            assert_clean_agent(srv)

            # Another host added by the engine's key alone, with the CLI.
            cli = CliSession(ctx, eng)
            h0 = ctx.host(0)
            with SshServer(authorized_keys=[pub], host=h0, deploy=True) as srv0:
                cli.run("host", "install", "dep1", expect=2)  # says how to log in
                # --wait: the install fails (srv0 takes no password), exit 1
                # with the job's reason, then the host as it ended.
                with tempfile.NamedTemporaryFile("w", suffix=".pw") as pwf:
                    pwf.write("not-root's\n")
                    pwf.flush()
                    p = cli.run("host", "create", "--name", "bad0", "--address", h0.addr, "--cluster", "cl1",
                                "--port", str(AGENT_PORT + 2), "--ssh-password-file", pwf.name, "--ssh-port",
                                str(srv0.port), "--wait", "--timeout", "60", expect=1)
                assert "failed: " in p.stderr and "refused root's login by password" in p.stderr, p
                assert "status: installfailed" in p.stdout, p
                bad0 = [ln.split(": ", 1)[1] for ln in p.stdout.splitlines() if ln.startswith("id: ")][0]
                eng.call("DELETE", f"/api/hosts/{bad0}", expect=204)
                out = json.loads(cli.run("host", "create", "--name", "dep0", "--address", h0.addr, "--cluster", "cl1",
                                         "--port", str(AGENT_PORT + 1), "--ssh-key", "--ssh-port", str(srv0.port),
                                         "--wait", "--timeout", "180", "--json").stdout)
                assert out["status"] == "up", out  # printed once up
                job = [j for j in eng.get("/api/jobs", params={"max": 1000})["jobs"]
                       if j["object_id"] == out["id"] and j["action"] == "install"][0]
                assert job["status"] == "finished", (job, srv0.log())
                host = eng.host(out["id"])
                assert host["ssh"] == {"port": srv0.port, "fingerprint": srv0.fingerprint(),
                                       "auth": "engine_key", "soft_fencing": False}, host
                assert "Subject: CN = dep0" in openssl("x509", "-noout", "-text", input=cert_of(srv0))
                assert "Accepted publickey for root" in srv0.log()

                # Revocation: dep1's certificates before its enrollment and its
                # reinstalls are in the CRL the engine publishes; a removed host's
                # too, and the engine refuses that host's agent from then on.
                r = eng.request("GET", "/pki/crl.pem", token=None)
                assert r.status == 200, r
                assert serial_of(first_cert) in crl_serials(eng, r.text), r.text
                dep0_serial = serial_of(cert_of(srv0))
                assert dep0_serial not in crl_serials(eng, r.text)
                # dep0's key and certificate, kept as a thief would (the clean
                # removes them from the host).
                stolen = tempfile.mkdtemp(prefix="vireo-stolen-", dir="/var/tmp")
                for f in ("host.crt", "host.key", "ca.crt"):
                    shutil.copy(srv0.root_path("/etc/vireo/pki/" + f), stolen)
                s_crt, s_key = os.path.join(stolen, "host.crt"), os.path.join(stolen, "host.key")
                assert ping_ok(stolen_ping_of(h, eng, s_crt, s_key))  # any certificate of the CA gets in

                # Removed with cleaning it: only from maintenance, with clear
                # errors; an unreachable host is kept.
                dep0 = out["id"]
                expect_fault(eng.request("DELETE", f"/api/hosts/{dep0}?clean=true"), 409, "maintenance")
                eng.call("POST", f"/api/hosts/{dep0}/deactivate", expect=202)
                eng.wait_status("hosts", dep0, "maintenance", timeout=60)
                expect_fault(eng.request("DELETE", f"/api/hosts/{dep0}?clean=yes"), 400, "true or false")
                expect_fault(eng.request("DELETE", f"/api/hosts/{dep0}?force=true"), 400, "clean=true only")
                srv0.stop()
                r = eng.request("DELETE", f"/api/hosts/{dep0}?clean=true")
                assert r.status == 202, r
                job = eng.wait_job(r.body["job"]["id"], timeout=60, status=("finished", "failed"))
                assert job["status"] == "failed" and "cleaning host 'dep0' failed, the host is kept" in \
                    job["detail"] and "cannot reach" in job["detail"], job
                assert eng.host(dep0)["status"] == "maintenance"
                assert dep0_serial not in crl_serials(eng, eng.request("GET", "/pki/crl.pem", token=None).text)
                srv0.start()
                p = srv0.run("systemctl", "start", "vireo-agent.service")  # it went with sshd
                assert p.returncode == 0 and srv0.agent_pid(), (p, agent_log(srv0)[-2000:])
                p = cli.run("host", "remove", "dep0", "--clean", "--wait", "--timeout", "120")
                assert p.stdout.strip() == "host dep0 removed", p
                assert eng.request("GET", f"/api/hosts/{dep0}").status == 404
                job = [j for j in eng.get("/api/jobs", params={"max": 1000})["jobs"]
                       if j["object_id"] == dep0 and j["action"] == "remove" and j["status"] == "finished"]
                assert job and "vireo-agent stopped and purged" in job[0]["detail"] and \
                    "libvirt, QEMU and sanlock stay installed" in job[0]["detail"], job
                # On the host: no agent, no key, certificate or agent.conf, the
                # package purged (dpkg forgot it); libvirt's configuration stays.
                assert srv0.agent_pid() is None
                for path in ("/etc/vireo/pki/host.key", "/etc/vireo/pki/host.crt", "/etc/vireo/pki/ca.crt",
                             "/etc/vireo/agent.conf", "/var/lib/dpkg/info/vireo-agent.list", "/usr/sbin/vireo-agent"):
                    assert not os.path.exists(srv0.root_path(path)), path
                assert "lock_manager" in libvirt_conf(srv0, h0)[0]
                for path in list(LIBVIRT_LINKS) + ["/etc/pki/qemu/" + n for n in QEMU_COPIES]:
                    assert srv0.seen_path(path) is None, path  # libvirt's go with the agent's
                with open(srv0.root_path("/var/lib/dpkg/status")) as f:
                    assert "Package: vireo-agent\n" not in f.read()
                crl = eng.request("GET", "/pki/crl.pem", token=None).text
                assert dep0_serial in crl_serials(eng, crl), crl
                # Its key, stolen, no longer talks to the fleet: dep1's agent got
                # the CRL from the engine and refuses it.
                stolen_ping = stolen_ping_of(h, eng, s_crt, s_key)
                eng.wait_for(lambda: not ping_ok(stolen_ping), 20, what="dep1's agent refusing dep0's certificate")
                assert "revoked certificate " + dep0_serial.lower() in agent_log(srv), agent_log(srv)[-2000:]
                with open(srv.root_path("/etc/vireo/pki/crl.pem")) as f:
                    assert dep0_serial in crl_serials(eng, f.read())
                # An agent started by hand with the stolen certificate, added
                # again by hand: the engine refuses it.
                thief = h0.popen([os.path.join(ctx.build, "src", "agent", "vireo-agent"),
                                  "--listen", f"{h0.addr}:{AGENT_PORT + 1}", "--ca", os.path.join(stolen, "ca.crt"),
                                  "--cert", s_crt, "--key", s_key, "--uri", "qemu:///system",
                                  "--storage-root", os.path.join(stolen, "storage"),
                                  "--net-state", os.path.join(stolen, "net.json"),
                                  "--job-dir", os.path.join(stolen, "jobs")],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 start_new_session=True)
                try:
                    again = eng.create_host("dep0b", h0.addr, cl["id"], port=AGENT_PORT + 1)
                    host = eng.wait_for(lambda: (lambda x: x if "revoked" in x["status_detail"] else None)(
                        eng.host(again["id"])), 30, what="the revoked certificate refused")
                    assert host["status"] in ("connecting", "nonresponsive"), host
                    assert "refused the revoked certificate" in eng.log_text()
                finally:
                    thief.terminate()
                    thief.wait(10)
                    shutil.rmtree(stolen, ignore_errors=True)
                assert_clean_agent(srv0)


def test_csr_for_another_name_is_refused(ctx):
    """The signer takes only a request for the host's own name and address
    (through vireo-ssh-probe's sign mode, the engine's own code)."""
    pki = ctx.hs.pki_dir
    exe = os.path.join(ctx.build, "src", "engine", "vireo-ssh-probe")
    with tempfile.TemporaryDirectory() as d:
        key = os.path.join(d, "k")
        for subj, san, ok in (("/CN=dep1", "IP:10.77.0.11,DNS:dep1", True),
                              ("/CN=vh0", "IP:10.77.0.11", False),
                              ("/CN=dep1", "IP:10.77.0.10", False),
                              ("/CN=dep1", "IP:10.77.0.11,DNS:engine", False)):
            csr = subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                                  "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-subj", subj,
                                  "-addext", "subjectAltName=" + san], capture_output=True, text=True,
                                 check=True).stdout
            p = subprocess.run([exe, "--sign", "--ca-dir", pki, "--name", "dep1", "--address", "10.77.0.11"],
                               input=csr, capture_output=True, text=True, timeout=30)
            if ok:
                assert p.returncode == 0 and "BEGIN CERTIFICATE" in p.stdout, p
            else:
                assert p.returncode == 1 and "refusing to sign" in p.stderr, (subj, san, p)
