"""A real OpenSSH server for host-deploy tests, without touching the
machine's accounts or its own sshd.

    with SshServer(root_password="pw", authorized_keys=[line]) as srv:
        srv.addr, srv.port, srv.fingerprint() # 127.0.0.1, port, "SHA256:..."
        srv.new_host_key()                    # as if the host were reinstalled
        srv.run("systemctl", "start", "vireo-agent")  # as in an SSH session (deploy=True)
    SshServer(host=ctx.host(0), ...)          # inside a harness host, on its address
    SshServer(..., overlays={"/usr/bin/systemctl": script})  # a file over a path, for sshd's sessions only

The sshd binary is Debian's: /usr/sbin/sshd when openssh-server is
installed, else extracted from `apt-get download openssh-server` into
/var/cache/vireo-sshd (nothing is installed; its libraries are already on
the machine). It runs in a mount namespace of its own (unshare -m), where
private copies of /etc/passwd, /etc/group and /etc/shadow are bind-mounted:
they add sshd's privilege-separation user and give root the test password,
and a tmpfs on /run holds /run/sshd. The machine's files never change.
Listens on 127.0.0.1 (or, with host=, inside that harness host's
namespaces on its address: tests/harness/hosts.py Host) with its own host
key, config and authorized_keys.

A host the engine deploys (`deploy=True`, with host=) gets what a real
host has and a harness host lacks, in sshd's mount namespace only (so in
every SSH session, and for the agent started from one):

* a system of its own to install packages into: overlays over /etc, /usr,
  /var/lib, /var/log and /var/cache take every write (dpkg, apt, the
  deploy's files) into the server's directory; the machine is untouched.
  The host's own bind mounts below them (its libvirt directories,
  /etc/hosts, sanlock's log) are mounted again on top. Its apt installs no
  Recommends (this machine cannot fetch them; a real host would);
* its own /run/vireo;
* its own view of /etc/libvirt and /etc/pki: overlays over the harness
  host's libvirt configuration and certificates, so what the deploy writes
  there (qemu.conf's lock manager and migration TLS, qemu-sanlock.conf,
  the links to the host's certificate) is seen at
  `srv.root_path("/etc/libvirt/...")` while the host's running libvirtd
  keeps the harness's configuration;
* a service manager: /usr/bin/systemctl is a small stand-in for systemd
  that runs vireo-agent.service as the installed unit says - its
  ConditionPathExists, EnvironmentFile and ExecStart - (start, stop,
  restart, is-active, status; enable and daemon-reload do nothing), the
  agent's output in `srv.agent_log`. stop() ends the agent too. For
  libvirtd.service and sanlock.service it records each request (`srv.units()`:
  ["enable sanlock.service", "try-restart libvirtd.service", ...]) and
  answers start/restart/is-active by asking the host's daemon, but never
  restarts one: they are the harness host's libvirtd and sanlock, which
  other tests share, and a libvirtd restarted with the deploy's lock
  manager would register every later QEMU of the host with sanlock (see
  Host.use_lock_manager, opt-in per test).

`srv.root_path("/etc/vireo/pki/host.crt")` is where a file the host wrote
there is seen from outside.
"""

import glob
import os
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time

CACHE = "/var/cache/vireo-sshd"

# The stand-in for systemd in a deployed harness host (module docstring):
# vireo-agent.service as its unit runs it, nothing else.
SYSTEMCTL = r"""#!/bin/sh
# systemctl of a test host (tests/harness/sshd.py): runs vireo-agent.service only
PIDF=/run/vireo/vireo-agent.pid
LOG=@LOG@
UNIT=/lib/systemd/system/vireo-agent.service
verb=$1; shift
while [ "${1#--}" != "$1" ]; do shift; done
case "$verb" in daemon-reload) exit 0 ;; esac
# libvirtd and sanlock are the harness host's own daemons: requests are
# recorded in @UNITS@, checked against the daemon, never carried out
# (module docstring). libvirtd's TLS socket: the harness libvirtd listens
# for TLS already (harness/libvirt_tls.py).
case "$1" in libvirtd-tls.socket)
    echo "$verb $1" >> @UNITS@
    case "$verb" in enable|start) exit 0 ;; *) echo "systemctl stand-in: $verb is not supported" >&2; exit 1 ;; esac ;;
esac
case "${1%.service}" in libvirtd|sanlock)
    u=${1%.service}
    echo "$verb $u.service" >> @UNITS@
    if [ $u = sanlock ]; then alive() { sanlock client status >/dev/null 2>&1; }
    else alive() { virsh -q -c qemu:///system version >/dev/null 2>&1; }; fi
    case "$verb" in
    enable|disable|try-restart) exit 0 ;;
    start|restart|is-active) alive && exit 0; echo "$u is not running" >&2; exit 3 ;;
    status) alive && echo "Active: active (running)" && exit 0; echo "Active: inactive (dead)"; exit 3 ;;
    *) echo "systemctl stand-in: $verb is not supported" >&2; exit 1 ;;
    esac ;;
esac
[ "${1%.service}" = vireo-agent ] && [ -r $UNIT ] || { echo "Unit $1 not found." >&2; exit 5; }
running() { [ -s $PIDF ] && kill -0 "$(cat $PIDF)" 2>/dev/null; }
stop() {
    running || return 0
    pid=$(cat $PIDF); kill "$pid"
    i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
    kill -9 "$pid" 2>/dev/null; rm -f $PIDF; return 0
}
case "$verb" in
enable|disable) exit 0 ;;
stop) stop ;;
start|restart)
    [ "$verb" = start ] && running && exit 0
    stop
    for c in $(sed -n 's/^ConditionPathExists=//p' $UNIT); do
        [ -e "$c" ] || { echo "=== $(date +%T) $verb: condition $c failed, skipped" >> $LOG; exit 0; }
    done
    set -a
    for f in $(sed -n 's/^EnvironmentFile=-\{0,1\}//p' $UNIT); do . "$f"; done
    set +a
    # the harness's sanitizer settings (the runner's for its daemons)
    export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    eval "set -- $(sed -n 's/^ExecStart=//p' $UNIT)"
    echo "=== $(date +%T) systemctl $verb: $*" >> $LOG
    setsid "$@" >> $LOG 2>&1 < /dev/null &
    echo $! > $PIDF ;;
is-active) running && { echo active; exit 0; }; echo inactive; exit 3 ;;
status) running && echo "Active: active (running)" || echo "Active: inactive (dead)"; tail -n 15 $LOG; running ;;
*) echo "systemctl stand-in: $verb is not supported" >&2; exit 1 ;;
esac
"""


def sshd_binary():
    if os.access("/usr/sbin/sshd", os.X_OK):
        return "/usr/sbin/sshd"
    exe = os.path.join(CACHE, "root", "usr", "sbin", "sshd")
    if not os.access(exe, os.X_OK):
        os.makedirs(CACHE, exist_ok=True)
        subprocess.run(["apt-get", "download", "-q", "openssh-server"], cwd=CACHE, check=True,
                       capture_output=True, timeout=120)
        deb = sorted(glob.glob(os.path.join(CACHE, "openssh-server_*.deb")))[-1]
        subprocess.run(["dpkg-deb", "-x", deb, os.path.join(CACHE, "root")], check=True, timeout=60)
    return exe


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SshServer:
    def __init__(self, root_password=None, authorized_keys=(), host=None, deploy=False, overlays=None):
        self.dir = tempfile.mkdtemp(prefix="vireo-sshd-", dir="/var/tmp")
        os.chmod(self.dir, 0o700)
        self.host = host
        self.addr = host.addr if host else "127.0.0.1"
        self.port = _free_port()
        self.root_password = root_password
        self.authorized_keys = list(authorized_keys)
        self.overlays = dict(overlays or {})  # path -> file bind-mounted over it for sshd's sessions
        self.proc = None
        self.log_path = os.path.join(self.dir, "sshd.log")
        self.deploy = deploy
        if deploy and not host:
            raise ValueError("deploy=True needs host=")
        self.agent_log = os.path.join(self.dir, "agent.log")
        self.units_log = os.path.join(self.dir, "units.log")

    def units(self):
        """The systemctl requests for libvirtd and sanlock so far."""
        try:
            with open(self.units_log) as f:
                return f.read().splitlines()
        except OSError:
            return []

    # ------------------------------------------------------------ files
    def _p(self, name):
        return os.path.join(self.dir, name)

    def new_host_key(self):
        """A fresh host key (the host "reinstalled"); a running server is
        restarted to use it."""
        for f in ("host_key", "host_key.pub"):
            if os.path.exists(self._p(f)):
                os.unlink(self._p(f))
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", self._p("host_key")], check=True)
        if self.proc:
            self.stop()
            self.start()

    def fingerprint(self):
        out = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", self._p("host_key.pub")],
                             capture_output=True, text=True, check=True).stdout
        return out.split()[1]

    def _accounts(self):
        with open("/etc/passwd") as f:
            passwd = f.read()
        with open("/etc/group") as f:
            group = f.read()
        if "\nsshd:" not in "\n" + passwd:
            passwd += "sshd:x:64999:65534::/run/sshd:/usr/sbin/nologin\n"
        lines = []
        with open("/etc/shadow") as f:
            for ln in f.read().splitlines():
                name, _, rest = ln.partition(":")
                if name == "root":
                    if self.root_password is not None:
                        h = subprocess.run(["openssl", "passwd", "-6", "-stdin"], input=self.root_password,
                                           capture_output=True, text=True, check=True).stdout.strip()
                    else:
                        h = "*"  # no password login
                    rest = h + ":" + rest.split(":", 1)[1]
                lines.append(name + ":" + rest)
        for name, text, mode in (("passwd", passwd, 0o644), ("group", group, 0o644),
                                 ("shadow", "\n".join(lines) + "\n", 0o600)):
            with open(self._p(name), "w") as f:
                f.write(text)
            os.chmod(self._p(name), mode)
        with open(self._p("authorized_keys"), "w") as f:
            f.write("".join(k if k.endswith("\n") else k + "\n" for k in self.authorized_keys))
        with open(self._p("sshd_config"), "w") as f:
            f.write(f"""Port {self.port}
ListenAddress {self.addr}
HostKey {self._p("host_key")}
PidFile none
AuthorizedKeysFile {self._p("authorized_keys")}
StrictModes no
UsePAM no
PermitRootLogin yes
PasswordAuthentication {"yes" if self.root_password is not None else "no"}
KbdInteractiveAuthentication no
PubkeyAuthentication yes
LogLevel VERBOSE
""")

    OVERLAID = ("/etc", "/usr", "/var/lib", "/var/log", "/var/cache")

    # the host's own directories the deploy writes into, seen through an
    # overlay of their own (module docstring)
    OWN_OVERLAID = ("/etc/libvirt", "/etc/pki")

    def root_path(self, path):
        """Where a file the deployed host wrote at path is, from outside."""
        for d in self.OWN_OVERLAID:
            if path.startswith(d + "/"):
                return os.path.join(self._p("up" + d.replace("/", "_")), path[len(d) + 1:])
        for d in self.OVERLAID:
            if path.startswith(d + "/"):
                return os.path.join(self._p("up" + d.replace("/", "_")), path[len(d) + 1:])
        if path.startswith("/run/vireo/"):
            return os.path.join(self._p("run-vireo"), path[len("/run/vireo/"):])
        raise ValueError(path)

    def seen_path(self, path):
        """Where the deployed host reads path from, from outside, or None
        when it has none: its overlay's upper layer, else (for /etc/pki and
        /etc/libvirt) the harness host's own directory below it; a whiteout
        (a file the host removed) is none."""
        from harness.hosts import PRIVATE_DIRS
        up = self.root_path(path)
        if os.path.lexists(up):
            st = os.lstat(up)
            return None if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0 else up
        for target, sub in PRIVATE_DIRS:
            if target in self.OWN_OVERLAID and path.startswith(target + "/"):
                low = os.path.join(self.host.dir, sub, path[len(target) + 1:])
                return low if os.path.lexists(low) else None
        return None

    def _host_view(self):
        """The mounts of the private view (see the module docstring), as
        shell lines run in sshd's mount namespace before it starts."""
        from harness.hosts import PRIVATE_DIRS, SANLOCK_LOG
        lines = []
        for d in self.OVERLAID:
            n = d.replace("/", "_")
            os.makedirs(self._p("up" + n), exist_ok=True)
            os.makedirs(self._p("wk" + n), exist_ok=True)
            lines.append(f"mount -t overlay overlay -o lowerdir={d},upperdir=$1/up{n},workdir=$1/wk{n} {d}")
        # the host's own mounts below the overlaid directories, again on top
        for target, sub in PRIVATE_DIRS:
            if target in self.OWN_OVERLAID:  # the deploy's writes stay here (module docstring)
                n = target.replace("/", "_")
                for d in ("up" + n, "wk" + n):
                    os.makedirs(self._p(d), exist_ok=True)
                lines.append(f"mount -t overlay overlay -o lowerdir={os.path.join(self.host.dir, sub)},"
                             f"upperdir=$1/up{n},workdir=$1/wk{n} {target}")
            elif target.startswith(self.OVERLAID) and not target.startswith("/run"):
                lines.append(f"mount --bind {os.path.join(self.host.dir, sub)} {target}")
        lines.append(f"mount --bind {os.path.join(self.host.dir, 'hosts')} /etc/hosts")
        lines.append(f"mount --bind {self.host.sanlock_log} {SANLOCK_LOG}")
        apt = self._p("up_etc/apt/apt.conf.d")
        os.makedirs(apt, exist_ok=True)
        with open(os.path.join(apt, "99vireo-test-host"), "w") as f:
            f.write('APT::Install-Recommends "false";\n')
        for d in ("run-vireo", "run-sshd"):
            os.makedirs(self._p(d), exist_ok=True)
        for d in ("/run/vireo", "/run/sshd"):
            os.makedirs(d, exist_ok=True)  # mount points only
        lines += ["mount --bind \"$1/run-sshd\" /run/sshd", "mount --bind \"$1/run-vireo\" /run/vireo",
                  "mount --bind \"$1/systemctl\" /usr/bin/systemctl"]
        with open(self._p("systemctl"), "w") as f:
            f.write(SYSTEMCTL.replace("@LOG@", self.agent_log).replace("@UNITS@", self.units_log))
        os.chmod(self._p("systemctl"), 0o755)
        return "; ".join(lines)

    # ------------------------------------------------------------ process
    def start(self):
        if not os.path.exists(self._p("host_key")):
            self.new_host_key()
        self._accounts()
        # $1 the server's directory, $2 sshd, then TARGET SOURCE pairs of overlays
        view = self._host_view().replace("$1", "$d") + "; " if self.deploy else ""
        own_run = "" if self.deploy else "mount -t tmpfs -o mode=755 tmpfs /run; mkdir -m 755 /run/sshd; "
        script = ("set -e; d=$1; sshd=$2; shift 2; " + view +
                  "for f in passwd group shadow; do mount --bind \"$d/$f\" \"/etc/$f\"; done; "
                  "while [ $# -ge 2 ]; do mount --bind \"$2\" \"$1\"; shift 2; done; " + own_run +
                  "exec \"$sshd\" -D -e -f \"$d/sshd_config\"")
        pairs = [x for target, src in sorted(self.overlays.items()) for x in (target, src)]
        with open(self.log_path, "ab") as log:
            prefix = self.host.nsenter() if self.host else []
            self.proc = subprocess.Popen(prefix + ["unshare", "-m", "--propagation", "private", "sh", "-c", script,
                                                   "sshd-wrapper", self.dir, sshd_binary()] + pairs,
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"sshd exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with socket.create_connection((self.addr, self.port), timeout=1) as s:
                    if s.recv(64).startswith(b"SSH-2.0-"):
                        return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"sshd not answering on {self.addr}:{self.port}:\n{self.log()}")

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def run(self, *cmd, timeout=60):
        """Run cmd as the server's sessions would (its mount namespace and
        the host's network): a CompletedProcess with text output."""
        return subprocess.run(["nsenter", "-t", str(self.proc.pid), "-m", "-n", "--", *cmd], capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def agent_pid(self):
        """The pid of the agent the systemctl stand-in started, or None."""
        try:
            with open(self._p("run-vireo/vireo-agent.pid")) as f:
                pid = int(f.read().strip())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None

    def stop(self):
        pid = self.agent_pid() if self.deploy else None
        if pid:
            os.kill(pid, signal.SIGTERM)
            for _ in range(100):
                try:
                    os.kill(pid, 0)
                except OSError:
                    break
                time.sleep(0.1)
            else:
                os.kill(pid, signal.SIGKILL)
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        return False
