"""A real OpenSSH server for host-deploy tests, without touching the
machine's accounts or its own sshd.

    with SshServer(root_password="pw", authorized_keys=[line]) as srv:
        srv.addr, srv.port, srv.fingerprint() # 127.0.0.1, port, "SHA256:..."
        srv.new_host_key()                    # as if the host were reinstalled
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
"""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time

CACHE = "/var/cache/vireo-sshd"


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
    def __init__(self, root_password=None, authorized_keys=(), host=None, overlays=None):
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

    # ------------------------------------------------------------ process
    def start(self):
        if not os.path.exists(self._p("host_key")):
            self.new_host_key()
        self._accounts()
        script = ("set -e; d=$1; sshd=$2; shift 2; for f in passwd group shadow; do mount --bind \"$d/$f\" \"/etc/$f\";"
                  " done; while [ $# -ge 2 ]; do mount --bind \"$2\" \"$1\"; shift 2; done; "
                  "mount -t tmpfs -o mode=755 tmpfs /run; mkdir -m 755 /run/sshd; "
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

    def stop(self):
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
