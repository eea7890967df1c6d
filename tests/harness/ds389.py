"""A real 389 Directory Server (the server of Red Hat IdM/FreeIPA) for
directory-login tests, without systemd: a throwaway instance made by
lib389's installer (the code behind `dscreate from-file`), its database,
logs and run files in a temporary directory, its configuration in
/etc/dirsrv/slapd-NAME (the only place lib389 finds an instance), both
removed on exit. ns-slapd runs in the foreground as our child. LDAPS
serves a certificate of the test PKI (scripts/pki) imported into the
instance's NSS database, so the engine checks it against its own CA.

The directory is 389-DS shaped: users under ou=People with uid and
userPassword (389-DS hashes it, PBKDF2), groups under ou=Groups as
groupOfUniqueNames (uniqueMember, what 389-DS and IdM's compat tree use)
or groupOfNames (member), and an account locked the 389-DS way
(nsAccountLock). The profile binds as a service account that an ACI
lets read and search only what the engine asks for (as IdM's system
accounts under cn=sysaccounts do), not as cn=Directory Manager, which
no ACI limits."""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time

from harness.engine import PKI_SCRIPT, free_port
from harness.slapd import stop_server

NS_SLAPD = "/usr/sbin/ns-slapd"
LIB389_PYTHON = "/usr/bin/python3"  # lib389 is Debian's python3-lib389, not in the tests' interpreter
BASE = "dc=vireo,dc=test"
ADMIN_DN = "cn=Directory Manager"
ADMIN_PW = "ds389-admin-pw"
BIND_DN = f"uid=vireo,cn=sysaccounts,{BASE}"
BIND_PW = "vireo-sysaccount-pw"
# what the engine reads (docs/permissions.md "Directory users"); userPassword is not in it
_READ_ACI = ('(targetattr="objectClass || uid || cn || displayName || mail || description || member || '
             'uniqueMember || memberOf")(version 3.0; acl "vireo engine reads people and groups"; allow (read, search, compare) '
             f'userdn="ldap:///{BIND_DN}";)')
CERT = "vireo-ldap"
NSS_NICK = "Server-Cert"  # the personality 389-DS's cn=RSA,cn=encryption,cn=config names

# lib389 would start the server through systemctl; here there is no
# systemd, so it runs ns-slapd itself (its non-systemd path).
_CREATE = """
import logging, sys
import lib389
from lib389.instance.setup import SetupDs
lib389.DirSrv.with_systemd = lambda self: False
logging.basicConfig(level=logging.WARNING)
sys.exit(0 if SetupDs(log=logging.getLogger("ds389")).create_from_inf(sys.argv[1]) else 1)
"""


def available():
    if not os.access(NS_SLAPD, os.X_OK) or not shutil.which("ldapmodify") or not shutil.which("pk12util"):
        return False
    return subprocess.run([LIB389_PYTHON, "-c", "import lib389"], capture_output=True).returncode == 0


def _ldif(users, groups, locked):
    out = [f"dn: {BASE}\nchangetype: modify\nadd: aci\naci: {_READ_ACI}\n",
           f"dn: cn=sysaccounts,{BASE}\nchangetype: add\nobjectClass: nsContainer\ncn: sysaccounts\n",
           f"dn: {BIND_DN}\nchangetype: add\nobjectClass: account\nobjectClass: simpleSecurityObject\n"
           f"uid: vireo\nuserPassword: {BIND_PW}\n",
           f"dn: ou=People,{BASE}\nobjectClass: organizationalUnit\nou: People\n",
           f"dn: ou=Groups,{BASE}\nobjectClass: organizationalUnit\nou: Groups\n"]
    for uid, pw in users.items():
        out.append(f"dn: uid={uid},ou=People,{BASE}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\n"
                   f"sn: {uid}\ndisplayName: {uid.capitalize()} Tester\nmail: {uid}@vireo.test\n"
                   f"userPassword: {pw}\n" + ("nsAccountLock: true\n" if uid in locked else ""))
    for cn, (cls, members) in groups.items():
        attr = "uniqueMember" if cls == "groupOfUniqueNames" else "member"
        # the member DNs as an administrator might type them: 389-DS
        # compares DNs by their DN syntax, not as strings
        out.append(f"dn: cn={cn},ou=Groups,{BASE}\nobjectClass: {cls}\ncn: {cn}\n"
                   + "".join(f"{attr}: cn={m[1:]},ou=Groups,{BASE}\n" if m.startswith("@")
                             else f"{attr}: UID={m},OU=people,{BASE.upper()}\n" for m in members))
    return "\n".join(out)


MARK = "vireo-test-dir"  # in an instance's /etc/dirsrv/slapd-NAME: the temporary directory it belongs to


def _sweep():
    """Remove the configuration of instances an earlier run left behind
    (killed before it could): theirs is the only state outside /var/tmp."""
    for conf in glob.glob("/etc/dirsrv/slapd-vireo*"):
        try:
            with open(os.path.join(conf, MARK)) as f:
                gone = not os.path.isdir(f.read().strip())
        except OSError:
            gone = False  # not one of ours, or being made now
        if gone:
            shutil.rmtree(conf, ignore_errors=True)


class DS389:
    """users: {uid: password}; groups: {cn: (objectClass, [uid or @cn of a group...])};
    locked: uids whose account is inactivated (nsAccountLock)."""

    def __init__(self, pki_dir, users, groups, locked=()):
        self.dir = tempfile.mkdtemp(prefix="vireo-ds389-", dir="/var/tmp")
        os.chmod(self.dir, 0o755)
        self.name = "vireo" + os.path.basename(self.dir).rsplit("-", 1)[-1].lower().replace("_", "")
        self.conf_dir = f"/etc/dirsrv/slapd-{self.name}"
        self.port, self.plain_port = free_port(), free_port()
        self.url = f"ldaps://127.0.0.1:{self.port}"
        self.starttls_url = f"ldap://127.0.0.1:{self.plain_port}"  # StartTLS, once security is on
        self.proc = None
        _sweep()
        try:
            self._create(pki_dir)
            # LDAPS on (in dse.ldif, through the server itself) and the entries, in one start
            self._start(plain_only=True)
            self._ldap_modify([], "dn: cn=config\nchangetype: modify\nreplace: nsslapd-security\n"
                                  "nsslapd-security: on\n-\nreplace: nsslapd-securePort\n"
                                  f"nsslapd-securePort: {self.port}\n\n"
                                  # memberOf on users, groups of groups included, as IdM has it
                                  "dn: cn=MemberOf Plugin,cn=plugins,cn=config\nchangetype: modify\n"
                                  "replace: nsslapd-pluginEnabled\nnsslapd-pluginEnabled: on\n-\n"
                                  "replace: memberOfGroupAttr\nmemberOfGroupAttr: member\n"
                                  "memberOfGroupAttr: uniqueMember\n")
            self.stop()  # plugins are enabled at a start
            self._start(plain_only=True)
            self._ldap_modify(["-a"], _ldif(users, groups, set(locked)))
            self.stop()
        except Exception:
            self._remove()
            raise

    def _run(self, argv, **kw):
        p = subprocess.run(argv, capture_output=True, text=True, timeout=120, **kw)
        if p.returncode:
            raise RuntimeError(f"{argv[0]} failed ({p.returncode}): {p.stderr[-2000:]} {p.stdout[-1000:]}")
        return p

    def _create(self, pki_dir):
        d = self.dir
        os.makedirs("/run/dirsrv", exist_ok=True)  # the pid file's directory (tmpfiles.d makes it under systemd)
        shutil.chown("/run/dirsrv", "dirsrv", "dirsrv")
        inf = os.path.join(d, "instance.inf")
        with open(inf, "w") as f:
            f.write("[general]\nstart = False\nsystemd = False\nselinux = False\nfull_machine_name = localhost\n"
                    f"strict_host_checking = False\n[slapd]\ninstance_name = {self.name}\n"
                    f"port = {self.plain_port}\nsecure_port = {self.port}\nroot_password = {ADMIN_PW}\n"
                    "self_sign_cert = False\n"
                    + "".join(f"{k} = {d}/{v}\n" for k, v in (
                        ("db_dir", "db"), ("db_home_dir", "db"), ("backup_dir", "bak"), ("ldif_dir", "ldif"),
                        ("log_dir", "log"), ("lock_dir", "lock"), ("run_dir", "run"), ("ldapi", "run/ldapi"),
                        ("tmp_dir", "tmp"), ("inst_dir", "inst")))
                    + f"[backend-userroot]\nsuffix = {BASE}\ncreate_suffix_entry = True\n")
        self._run([LIB389_PYTHON, "-c", _CREATE, inf])
        with open(os.path.join(self.conf_dir, MARK), "w") as f:
            f.write(d + "\n")
        # The test PKI's certificate and key into the instance's NSS database.
        crt, key = os.path.join(pki_dir, CERT + ".crt"), os.path.join(pki_dir, CERT + ".key")
        if not (os.path.exists(crt) and os.path.exists(key)):
            self._run(["bash", PKI_SCRIPT, "issue", pki_dir, CERT, "--ip", "127.0.0.1"])
        p12, p12pw = os.path.join(d, "server.p12"), os.path.join(d, "p12.pw")
        with open(p12pw, "w") as f:
            f.write("p12-pw\n")
        self._run(["certtool", "--load-certificate", crt, "--load-privkey", key, "--to-p12", "--outder",
                   "--outfile", p12, "--p12-name", NSS_NICK, "--password", "p12-pw"])
        db, pin = f"sql:{self.conf_dir}", os.path.join(self.conf_dir, "pwdfile.txt")
        self._run(["pk12util", "-i", p12, "-d", db, "-k", pin, "-w", p12pw])
        self._run(["certutil", "-A", "-d", db, "-f", pin, "-n", "Vireo CA", "-t", "CT,,",
                   "-i", os.path.join(pki_dir, "ca.crt")])
        for f in os.listdir(self.conf_dir):
            shutil.chown(os.path.join(self.conf_dir, f), "dirsrv", "dirsrv")

    def _ldap_modify(self, extra, ldif):
        self._run(["ldapmodify", "-x", "-H", f"ldap://127.0.0.1:{self.plain_port}", "-D", ADMIN_DN,
                   "-w", ADMIN_PW, *extra], input=ldif)

    def _start(self, plain_only=False, timeout=60):
        # -d 0: in the foreground, our child, so stop() is a signal to it
        self.proc = subprocess.Popen([NS_SLAPD, "-D", self.conf_dir, "-i", f"/run/dirsrv/slapd-{self.name}.pid",
                                      "-d", "0"], stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.dir, "stderr"), "a"))
        port = self.plain_port if plain_only else self.port
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                errors = os.path.join(self.dir, "log", "errors")
                raise RuntimeError("ns-slapd exited: " + (open(errors).read()[-2000:] if os.path.exists(errors)
                                                           else ""))
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                if not plain_only:
                    socket.create_connection(("127.0.0.1", self.plain_port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("ns-slapd did not listen")

    def start(self):
        return self._start()

    def stop(self):
        stop_server(self.proc, 30)  # ns-slapd writes its database out before it ends
        self.proc = None

    def _remove(self):
        self.stop()
        shutil.rmtree(self.conf_dir, ignore_errors=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self._remove()
        return False
