"""A real Active Directory domain controller (Samba's AD DC) for
directory-login tests, without systemd: `samba -i` in the foreground as
our child, a throwaway domain in a temporary directory, listening only on
a loopback address of its own (added to lo for the test, removed after),
so its fixed ports (389, 636, ...) meet neither slapd, 389-DS nor the
harness.

Provisioning a domain takes a minute (most of it writing the AD schema),
so it is done once per Samba version into a template directory under
/var/tmp, and each test copies that template: every test still gets a
domain of its own, with its own users. The domain is provisioned as RHV
documentation's AD examples are: RFC 2307 attributes on, no DNS.

LDAPS serves a certificate for the DC's address from a CA of the
domain's own (scripts/pki, in the domain's directory: as an AD domain's
certificate services would issue it), not the engine's CA: the profile
trusts it with its ca_cert. (The certificate Samba makes for itself names
only its host name, VIREODC.vireo.test, with no subject alternative name,
which the engine, checking names as libldap does, would rightly refuse for
an address.)

Users and groups are made with Samba's own Python library (what
samba-tool runs), in one process: samba-tool takes seconds per command.
The profile binds as an ordinary domain user (authenticated users may
read the directory in AD), not as Administrator."""

import fcntl
import json
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time

from harness.engine import PKI_SCRIPT
from harness.slapd import stop_server

SAMBA = "/usr/sbin/samba"
SAMBA_TOOL = "/usr/bin/samba-tool"
SAMBA_PYTHON = "/usr/bin/python3"  # Samba's bindings are Debian's python3-samba, not in the tests' interpreter
SCHEMA = "/usr/share/samba/setup/ad-schema"  # samba-ad-provision
REALM, DOMAIN, NETBIOS = "VIREO.TEST", "VIREO", "VIREODC"
BASE = "DC=vireo,DC=test"
ADMIN_PW = "Samba-Adm1n-pw"
BIND_USER, BIND_PW = "vireo-svc", "Vireo-Svc-pw1"
BIND_DN = f"CN={BIND_USER},CN=Users,{BASE}"
TEMPLATE_LAYOUT = 1  # raise when the provisioning changes: templates made before are then not used

_USERS = """
import json, sys
from samba.auth import system_session
from samba.param import LoadParm
from samba.samdb import SamDB
lp = LoadParm()
lp.load(sys.argv[1])
db = SamDB(url=lp.private_path("sam.ldb"), session_info=system_session(), lp=lp)
spec = json.load(sys.stdin)
for cn in spec["groups"]:
    db.newgroup(cn)
for name, pw in spec["users"].items():
    db.newuser(name, pw, givenname=name.capitalize(), surname="Tester", mailaddress=name + "@vireo.test")
for cn, members in spec["groups"].items():
    if members:
        db.add_remove_group_members(cn, members, add_members_operation=True)
for name in spec["disabled"]:
    db.disable_account("(sAMAccountName=%s)" % name)
"""


def available():
    if not (os.access(SAMBA, os.X_OK) and os.access(SAMBA_TOOL, os.X_OK) and os.path.isdir(SCHEMA)):
        return False
    return subprocess.run([SAMBA_PYTHON, "-c", "import samba.samdb"], capture_output=True).returncode == 0


def _run(argv, **kw):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=300, **kw)
    if p.returncode:
        raise RuntimeError(f"{argv[0]} failed ({p.returncode}): {p.stderr[-2000:]} {p.stdout[-1000:]}")
    return p


def _version():
    return _run([SAMBA, "--version"]).stdout.split()[-1]


def _smb_conf(d, addr, tls):
    """The DC's configuration: its directories in d, LDAP only (the
    engine needs nothing else), on addr only."""
    keys = {"netbios name": NETBIOS, "realm": REALM, "workgroup": DOMAIN,
            "server role": "active directory domain controller", "server services": "ldap",
            "interfaces": addr, "bind interfaces only": "yes", "private dir": f"{d}/private",
            "state directory": f"{d}/state", "cache directory": f"{d}/cache", "lock directory": d,
            "binddns dir": f"{d}/bind-dns", "logging": "file", "log file": f"{d}/log",
            "idmap_ldb:use rfc2307": "yes", **tls}
    with open(os.path.join(d, "etc", "smb.conf"), "w") as f:
        f.write("[global]\n" + "".join(f"\t{k} = {v}\n" for k, v in keys.items()))


def _template():
    """The provisioned, empty domain to copy (made once, under a lock;
    scripts/setup makes it, through this module's main)."""
    tdir = f"/var/tmp/vireo-samba-ad-{_version()}-{TEMPLATE_LAYOUT}"
    with open(tdir + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(os.path.join(tdir, ".done")):
            shutil.rmtree(tdir, ignore_errors=True)
            os.makedirs(tdir)
            _run([SAMBA_TOOL, "domain", "provision", "--targetdir", tdir, "--use-rfc2307", "--realm", REALM,
                  "--domain", DOMAIN, "--server-role", "dc", "--dns-backend", "NONE", "--host-name", NETBIOS.lower(),
                  "--adminpass", ADMIN_PW, "--option", "interfaces=127.0.0.1", "--option", "bind interfaces only=yes"])
            open(os.path.join(tdir, ".done"), "w").close()
    return tdir


def _free_address():
    """A loopback address nothing listens on (127.83.0.0/16: away from
    127.0.0.1, where the engine, slapd and 389-DS listen)."""
    have = subprocess.run(["ip", "-o", "addr", "show", "dev", "lo"], capture_output=True, text=True).stdout
    while True:
        addr = f"127.83.{random.randint(0, 255)}.{random.randint(1, 254)}"
        if f" {addr}/" not in have:
            return addr


class SambaAD:
    """users: {sAMAccountName: password}; groups: {cn: [member sAMAccountName or group cn...]};
    disabled: accounts disabled (userAccountControl ACCOUNTDISABLE)."""

    def __init__(self, users, groups, disabled=()):
        template = _template()
        self.dir = tempfile.mkdtemp(prefix="vireo-samba-", dir="/var/tmp")
        self.addr = _free_address()
        self.url = f"ldaps://{self.addr}"
        self.proc = None
        self._lo = False
        try:
            shutil.rmtree(self.dir)
            shutil.copytree(template, self.dir, symlinks=True)
            _run(["ip", "addr", "add", f"{self.addr}/32", "dev", "lo"])
            self._lo = True
            pki_dir, cert = os.path.join(self.dir, "pki"), "dc"
            _run(["bash", PKI_SCRIPT, "init", pki_dir])
            _run(["bash", PKI_SCRIPT, "issue", pki_dir, cert, "--ip", self.addr])
            self.ca_file = os.path.join(pki_dir, "ca.crt")
            key = os.path.join(self.dir, "private", "tls-key.pem")
            shutil.copy(os.path.join(pki_dir, cert + ".key"), key)
            os.chmod(key, 0o600)  # samba refuses a key others may read
            _smb_conf(self.dir, self.addr, {"tls enabled": "yes", "tls keyfile": key,
                                            "tls certfile": os.path.join(pki_dir, cert + ".crt"),
                                            "tls cafile": os.path.join(pki_dir, "ca.crt")})
            spec = {"users": {BIND_USER: BIND_PW, **users}, "groups": groups, "disabled": list(disabled)}
            _run([SAMBA_PYTHON, "-c", _USERS, self.conf], input=json.dumps(spec))
        except Exception:
            self._remove()
            raise

    @property
    def conf(self):
        return os.path.join(self.dir, "etc", "smb.conf")

    def start(self, timeout=60):
        self.proc = subprocess.Popen([SAMBA, "-i", "-M", "single", "-s", self.conf], stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.dir, "stderr"), "a"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("samba exited: " + open(os.path.join(self.dir, "stderr")).read()[-2000:])
            try:
                socket.create_connection((self.addr, 636), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("samba did not listen on LDAPS")

    def stop(self):
        stop_server(self.proc, 20)
        self.proc = None

    def _remove(self):
        self.stop()
        if self._lo:
            subprocess.run(["ip", "addr", "del", f"{self.addr}/32", "dev", "lo"], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except Exception:
            self._remove()
            raise

    def __exit__(self, *exc):
        self._remove()
        return False


if __name__ == "__main__":
    print(_template())
