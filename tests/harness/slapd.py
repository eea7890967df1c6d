"""A real OpenLDAP slapd for directory-login tests: a small directory
(ou=people, ou=groups under dc=vireo,dc=test; each user with a
displayName "Uid Tester" and mail uid@vireo.test) served over LDAPS (and
plain LDAP for StartTLS) on 127.0.0.1 with a certificate from the test
PKI (scripts/pki), so the
engine verifies it against its own CA. Used as a context manager; stop()
takes the directory away (a directory that is down), start() brings it
back on the same port."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from harness.engine import PKI_SCRIPT, free_port

SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
BASE = "dc=vireo,dc=test"
ADMIN_DN = f"cn=admin,{BASE}"
ADMIN_PW = "ldap-admin-pw"
CERT = "vireo-ldap"


def stop_server(proc, wait_s=10):
    """SIGTERM a directory server run in the foreground as our child, and
    kill it if it has not ended within wait_s."""
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(wait_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def available():
    return os.access(SLAPD, os.X_OK) and os.access(SLAPADD, os.X_OK)


def _ldif(users, groups):
    out = [f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\no: vireo\ndc: vireo\n",
           f"dn: ou=people,{BASE}\nobjectClass: organizationalUnit\nou: people\n",
           f"dn: ou=groups,{BASE}\nobjectClass: organizationalUnit\nou: groups\n"]
    for uid, pw in users.items():
        # displayName and mail: what a directory search shows of a user
        out.append(f"dn: uid={uid},ou=people,{BASE}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\n"
                   f"sn: {uid}\ndisplayName: {uid.capitalize()} Tester\nmail: {uid}@vireo.test\n"
                   f"userPassword: {pw}\n")
    for cn, members in groups.items():
        out.append(f"dn: cn={cn},ou=groups,{BASE}\nobjectClass: groupOfNames\ncn: {cn}\n"
                   + "".join(f"member: uid={m},ou=people,{BASE}\n" for m in members))
    return "\n".join(out)


class Slapd:
    def __init__(self, pki_dir, users, groups):
        self.dir = tempfile.mkdtemp(prefix="vireo-slapd-", dir="/var/tmp")
        self.port, self.plain_port = free_port(), free_port()
        self.url = f"ldaps://127.0.0.1:{self.port}"
        self.starttls_url = f"ldap://127.0.0.1:{self.plain_port}"  # StartTLS
        self.proc = None
        crt, key = os.path.join(pki_dir, CERT + ".crt"), os.path.join(pki_dir, CERT + ".key")
        if not (os.path.exists(crt) and os.path.exists(key)):
            subprocess.run(["bash", PKI_SCRIPT, "issue", pki_dir, CERT, "--ip", "127.0.0.1"], check=True,
                           capture_output=True, timeout=120)
        os.makedirs(os.path.join(self.dir, "db"))
        self.conf = os.path.join(self.dir, "slapd.conf")
        with open(self.conf, "w") as f:
            f.write("".join(f"include /etc/ldap/schema/{s}.schema\n" for s in ("core", "cosine", "inetorgperson"))
                    + f"modulepath /usr/lib/ldap\nmoduleload back_mdb\npidfile {self.dir}/slapd.pid\n"
                    f"TLSCACertificateFile {pki_dir}/ca.crt\nTLSCertificateFile {crt}\n"
                    f"TLSCertificateKeyFile {key}\n"
                    f"database mdb\nmaxsize 10485760\nsuffix \"{BASE}\"\nrootdn \"{ADMIN_DN}\"\n"
                    f"rootpw {ADMIN_PW}\ndirectory {self.dir}/db\n")
        ldif = os.path.join(self.dir, "data.ldif")
        with open(ldif, "w") as f:
            f.write(_ldif(users, groups))
        subprocess.run([SLAPADD, "-f", self.conf, "-l", ldif], check=True, capture_output=True, timeout=60)

    def start(self, timeout=15):
        self.proc = subprocess.Popen([SLAPD, "-f", self.conf, "-h", f"{self.url}/ {self.starttls_url}/", "-d", "0"],
                                     stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.dir, "log"), "a"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("slapd exited: " + open(os.path.join(self.dir, "log")).read()[-2000:])
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("slapd did not listen")

    def stop(self):
        stop_server(self.proc)
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        return False
