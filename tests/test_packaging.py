"""Debian packages and systemd units (docs/operations.md#packages):
scripts/build-debs builds vireo-engine, vireo-agent and vireo from the
test build, the packages carry the right files, dependencies and
maintainer scripts, apt resolves their dependencies on this Debian 12,
dpkg unpacks them into a scratch root where systemd-analyze verifies the
units; installed for real with dpkg -i over overlays of /etc, /usr and
/var (in a mount namespace of its own: the machine is untouched), the
engine package's postinst makes the vireo user, the PKI and admin's
password, and the engine it installed serves as that user; the engine
tells systemd it is ready (sd_notify) and logs to the journal with
priorities."""

import os
import shutil
import socket
import subprocess
import tempfile

from harness.engine import REPO_ROOT, Engine, free_port

PACKAGES = ("vireo-engine", "vireo-agent", "vireo")
FILES = {
    "vireo-engine": {"etc/vireo/engine.conf", "lib/systemd/system/vireo-engine.service",
                     "usr/sbin/vireo-engine", "usr/sbin/vireo-pki",
                     "usr/share/doc/vireo-engine/copyright", "usr/share/doc/vireo-engine/operations.md",
                     "usr/share/doc/vireo-engine/rest-api.md", "usr/share/doc/vireo-engine/pki.md",
                     "usr/share/doc/vireo-engine/portal.md", "usr/share/locale/ja/LC_MESSAGES/vireo.mo"},
    "vireo-agent": {"etc/vireo/agent.conf", "lib/systemd/system/vireo-agent.service",
                    "usr/sbin/vireo-agent", "usr/libexec/vireo/vireo-ipmitool", "usr/libexec/vireo/vireo-dhcp-hook",
                    "usr/share/doc/vireo-agent/copyright",
                    "usr/share/doc/vireo-agent/operations.md", "usr/share/doc/vireo-agent/agent-api.md",
                    "usr/share/doc/vireo-agent/pki.md"},
    "vireo": {"usr/bin/vireo", "usr/share/doc/vireo/copyright", "usr/share/doc/vireo/cli.md"},
}
PORTAL_DIR = "usr/share/vireo/portal/"
PORTAL_FILES = {"index.html", "index.html.gz", "app.js", "app.js.gz", "app.css", "app.css.gz"}
# What each must depend on: its libraries (found by dpkg-shlibdeps) and
# the programs it drives.
DEPENDS = {
    "vireo-engine": {"libc6", "libmicrohttpd12", "libsqlite3-0", "libpq5", "libgnutls30", "libjansson4",
                     "libcrypt1", "libssh-4", "adduser", "gnutls-bin", "init-system-helpers"},
    "vireo-agent": {"libc6", "libvirt0", "libsanlock-client1", "libnl-route-3-200", "libxml2",
                    "libvirt-daemon-system", "libvirt-daemon-driver-qemu", "qemu-system-x86", "qemu-utils",
                    "sanlock", "libvirt-sanlock", "mount", "init-system-helpers"},
    "vireo": {"libc6", "libcurl3-gnutls", "libjansson4"},
}


def run(*argv, **kw):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120, **kw)
    assert p.returncode == 0, (argv, p.returncode, p.stdout[-2000:], p.stderr[-2000:])
    return p.stdout


def field(info, name):
    for line in info.splitlines():
        if line.startswith(f" {name}: "):
            return line.split(": ", 1)[1]
    return None


def test_debs_build_install_and_units(ctx):
    work = tempfile.mkdtemp(prefix="vireo-debs-test-", dir="/var/tmp")
    try:
        out = run(os.path.join(REPO_ROOT, "scripts", "build-debs"), "--build", ctx.build,
                  "--out", os.path.join(work, "debs"), "--version", "0.1.0-7")
        debs = dict(zip(PACKAGES, out.split()))
        arch = run("dpkg", "--print-architecture").strip()
        assert list(debs.values()) == [os.path.join(work, "debs", f"{p}_0.1.0-7_{arch}.deb") for p in PACKAGES], out

        for pkg, deb in debs.items():
            info = run("dpkg-deb", "-I", deb)
            assert (field(info, "Package"), field(info, "Version"), field(info, "Architecture")) == \
                (pkg, "0.1.0-7", arch), info
            deps = {d.split()[0] for d in field(info, "Depends").split(", ")}
            assert DEPENDS[pkg] <= deps, (pkg, DEPENDS[pkg] - deps)
            listing = run("dpkg-deb", "-c", deb).splitlines()
            files = {ln.split()[-1][2:] for ln in listing if not ln.startswith("d")}
            # The engine's: the built portal as well, whose asset names carry hashes.
            portal = {f for f in files if f.startswith(PORTAL_DIR)}
            if pkg == "vireo-engine":
                assert PORTAL_FILES <= {f[len(PORTAL_DIR):] for f in portal}, portal
                assert any(f.endswith(".woff2") for f in portal), portal
            files -= portal
            assert files == FILES[pkg], (pkg, files ^ FILES[pkg])
            assert all(" root/root " in ln for ln in listing), listing
            if pkg != "vireo":
                ctrl = os.path.join(work, f"ctrl-{pkg}")
                run("dpkg-deb", "-e", deb, ctrl)
                assert sorted(os.listdir(ctrl)) == ["conffiles", "control", "postinst", "postrm", "prerm"]
                with open(os.path.join(ctrl, "conffiles")) as f:
                    assert f.read().split() == [f"/etc/vireo/{pkg.split('-')[1]}.conf"]
                unit = f"{pkg}.service"
                for s in ("postinst", "prerm", "postrm"):
                    path = os.path.join(ctrl, s)
                    assert os.access(path, os.X_OK), path
                    run("sh", "-n", path)
                    with open(path) as f:
                        assert unit in f.read(), (s, unit)

        # apt finds every dependency on this Debian (nothing installed: -s).
        sim = run("apt-get", "install", "-s", "-q", *debs.values())
        for pkg in PACKAGES:
            assert f"Inst {pkg} " in sim or f"Reinst {pkg} " in sim, sim[-3000:]

        # dpkg unpacks them into a scratch root: its own database, no
        # maintainer script run (there is no system to configure there).
        root = os.path.join(work, "root")
        for d in ("var/lib/dpkg/info", "var/lib/dpkg/updates"):
            os.makedirs(os.path.join(root, d))
        for f in ("status", "available"):
            open(os.path.join(root, "var/lib/dpkg", f), "w").close()
        run("dpkg", f"--root={root}", "--force-depends", "--unpack", *debs.values())
        status = run("dpkg-query", f"--root={root}", "-W", "-f", "${Package} ${Status}\n")
        assert sorted(status.splitlines()) == sorted(f"{p} install ok unpacked" for p in PACKAGES), status
        for pkg in PACKAGES:
            listed = run("dpkg-query", f"--root={root}", "-L", pkg).split()
            for f in FILES[pkg]:
                # Configuration files wait as .dpkg-new until configured.
                on_disk = f + ".dpkg-new" if f.startswith("etc/") else f
                assert "/" + f in listed and os.path.exists(os.path.join(root, on_disk)), (pkg, f)
        assert os.access(os.path.join(root, "usr/sbin/vireo-engine"), os.X_OK)
        out = run(os.path.join(root, "usr/sbin/vireo-engine"), "--help")
        assert "--pki DIR" in out, out

        # The units, where dpkg put them, verified by systemd against the
        # root's binaries (this system's own units complete the root).
        shutil.copytree("/lib/systemd/system", os.path.join(root, "lib/systemd/system"), dirs_exist_ok=True,
                        symlinks=True)
        p = subprocess.run(["systemd-analyze", "verify", f"--root={root}",
                            "/lib/systemd/system/vireo-engine.service", "/lib/systemd/system/vireo-agent.service"],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0 and not p.stdout.strip() and not p.stderr.strip(), (p.stdout, p.stderr)
        # The configuration the units read gives each daemon its options.
        for unit, conf, var in (("vireo-engine.service", "engine.conf", "VIREO_ENGINE_OPTS"),
                                ("vireo-agent.service", "agent.conf", "VIREO_AGENT_OPTS")):
            with open(os.path.join(root, "lib/systemd/system", unit)) as f:
                text = f.read()
            assert f"EnvironmentFile=/etc/vireo/{conf}" in text and f"${var}" in text, unit
            assert "Type=notify" in text and "Restart=on-failure" in text, unit
            with open(os.path.join(root, "etc/vireo", conf + ".dpkg-new")) as f:
                assert f"\n{var}=\"--" in f.read(), conf
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_engine_tells_systemd_and_the_journal(ctx):
    """Type=notify: READY=1 once the API serves, STOPPING=1 on SIGTERM;
    with stderr on the journal ($JOURNAL_STREAM), lines carry syslog
    priorities instead of timestamps."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock_path = os.path.join(tempfile.mkdtemp(prefix="vireo-notify-"), "notify")
    sock.bind(sock_path)
    sock.settimeout(10)
    eng = Engine(ctx, login=False)
    with open(eng.log_path, "ab"):
        pass
    st = os.stat(eng.log_path)
    saved = {k: os.environ.get(k) for k in ("NOTIFY_SOCKET", "JOURNAL_STREAM")}
    os.environ.update(NOTIFY_SOCKET=sock_path, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}")
    try:
        with eng:
            msg = sock.recv(4096).decode()
            assert msg.split("\n")[0] == "READY=1" and "STATUS=" in msg, msg
            assert eng.request("GET", "/api", token=None).status in (200, 401)
            eng.stop()
            assert sock.recv(4096).decode() == "STOPPING=1"
            log = eng.log_text()  # (the state dir goes at the block's end)
            assert "<6>info: vireo-engine serving https://" in log, log[-2000:]
            assert "<6>info: stopped" in log and "Z info: " not in log, log[-2000:]
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        sock.close()
        shutil.rmtree(os.path.dirname(sock_path), ignore_errors=True)


# Runs in a private mount namespace: overlays over the system's directories
# take every write of dpkg and the maintainer scripts; then the engine the
# package installed is started as the unit would (user vireo, its state
# directory, the options of /etc/vireo/engine.conf) and asked over HTTPS.
INSTALL_AND_SERVE = r"""
set -eu
W=$1; PORT=$2; shift 2
for d in /etc /usr /var/lib /var/log /var/cache; do
    n=$(echo "$d" | tr / _)
    mkdir -p "$W/up$n" "$W/wk$n"
    mount -t overlay overlay -o "lowerdir=$d,upperdir=$W/up$n,workdir=$W/wk$n" "$d"
done
dpkg -i "$@" >"$W/dpkg.log" 2>&1
echo "home=$(getent passwd vireo | cut -d: -f6)"
for f in /etc/vireo/pki/ca.key /etc/vireo/pki/engine.key /etc/vireo/pki/engine.crt /etc/vireo/admin-password; do
    echo "mode $f=$(stat -c '%a %U %G' "$f")"
done
echo "vireo reads ca.key=$(setpriv --reuid=vireo --regid=vireo --init-groups head -c 27 /etc/vireo/pki/ca.key 2>&1)"
dpkg-statoverride --add root root 0600 /etc/vireo/pki/ca.key
chmod 0600 /etc/vireo/pki/ca.key; chgrp root /etc/vireo/pki/ca.key
/var/lib/dpkg/info/vireo-engine.postinst configure 0 >>"$W/dpkg.log" 2>&1  # as an upgrade runs it
echo "override ca.key=$(stat -c '%a %U %G' /etc/vireo/pki/ca.key)"
dpkg-statoverride --remove /etc/vireo/pki/ca.key
for u in vireo-engine vireo-agent; do
    echo "enabled $u=$(readlink /etc/systemd/system/multi-user.target.wants/$u.service || true)"
done
install -d -o vireo -g vireo -m 0700 /var/lib/vireo-engine
. /etc/vireo/engine.conf
# shellcheck disable=SC2086
setpriv --reuid=vireo --regid=vireo --init-groups /usr/sbin/vireo-engine $VIREO_ENGINE_OPTS \
    --listen "127.0.0.1:$PORT" >"$W/engine.log" 2>&1 &
PID=$!
/usr/bin/python3 - "$PORT" <<'PY'
import http.client, json, ssl, sys, time
ctx = ssl.create_default_context(cafile="/etc/vireo/pki/ca.crt")
def req(method, path, body=None, token=None, lang=None):
    c = http.client.HTTPSConnection("localhost", int(sys.argv[1]), context=ctx, timeout=10)
    h = {"Content-Type": "application/json"}
    if lang:
        h["Accept-Language"] = lang
    if token:
        h["Authorization"] = "Bearer " + token
    c.request(method, path, json.dumps(body) if body else None, h)
    r = c.getresponse()
    return r.status, r.read().decode()
for _ in range(150):
    try:
        req("GET", "/api/openapi.json")
        break
    except OSError:
        time.sleep(0.2)
with open("/etc/vireo/admin-password") as f:
    pw = f.read().strip()
st, body = req("POST", "/api/sso/token", {"grant_type": "password", "username": "admin@internal", "password": pw})
print(f"login={st}")
st, body = req("GET", "/metrics", token=json.loads(body)["access_token"] if st == 200 else None)
print(f"metrics={st} {'vireo_engine_info' in body}")
st, body = req("GET", "/admin")
print(f"admin={st} {'/portal/app.js' in body}")
st, body = req("GET", "/api/datacenters", lang="ja")
print(f"japanese={st} {'トークン' in body}")
PY
echo "user=$(ps -o user= -p "$PID")"
kill "$PID"
wait "$PID" || true
"""


def test_installed_engine_package_serves(ctx):
    work = tempfile.mkdtemp(prefix="vireo-install-test-", dir="/var/tmp")
    try:
        debs = ctx.fast_debs()[1]  # (also served by test_host_deploy: built once per run)
        p = subprocess.run(["unshare", "-m", "--propagation", "private", "bash", "-c", INSTALL_AND_SERVE,
                            "install", work, str(free_port()), *debs], capture_output=True, text=True,
                           timeout=120)

        def logs():
            out = []
            for f in ("dpkg.log", "engine.log"):
                try:
                    with open(os.path.join(work, f), errors="replace") as fh:
                        out.append(f"--- {f}\n" + fh.read()[-3000:])
                except OSError:
                    pass
            return "\n".join(out)
        assert p.returncode == 0, (p.stdout, p.stderr[-2000:], logs())
        got = dict(ln.split("=", 1) for ln in p.stdout.splitlines() if "=" in ln)
        assert got["home"] == "/var/lib/vireo-engine", got
        # The engine reads its own key, the CA's key (it signs the
        # certificates of the hosts it deploys) and the first password
        # through its group; nobody else reads them.
        assert got["mode /etc/vireo/pki/ca.key"] == "640 root vireo", got
        # An administrator's dpkg-statoverride keeps the CA key from it,
        # also when the package is configured again.
        assert got["vireo reads ca.key"].startswith("-----BEGIN "), got  # so it signs hosts' certificates
        assert got["override ca.key"] == "600 root root", got
        assert got["mode /etc/vireo/pki/engine.key"] == "640 root vireo", got
        assert got["mode /etc/vireo/pki/engine.crt"] == "644 root vireo", got
        assert got["mode /etc/vireo/admin-password"] == "640 root vireo", got
        for u in ("vireo-engine", "vireo-agent"):
            assert got[f"enabled {u}"] == f"/lib/systemd/system/{u}.service", got
        assert got["login"] == "200" and got["metrics"] == "200 True", (got, logs())
        assert got["admin"] == "200 True", (got, logs())  # the packaged portal, read by the vireo user
        assert got["japanese"] == "401 True", (got, logs())  # the packaged catalog
        assert got["user"] == "vireo", got
        # Nothing of it reached the machine.
        assert not os.path.exists("/etc/vireo/engine.conf") and not os.path.exists("/usr/sbin/vireo-engine")
    finally:
        shutil.rmtree(work, ignore_errors=True)
