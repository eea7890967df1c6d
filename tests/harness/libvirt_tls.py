"""libvirt TLS between the harness hosts, as the agent's default
`--migration-transport tls` needs it (docs/migration.md "Transport").

Every host's mount namespace has its own /etc/pki (the host directory's
``etc-pki``, see hosts.PRIVATE_DIRS): install() puts there, where libvirt
and QEMU look by default, the harness CA and the host's own certificate -
the one its agent serves with (``pki_dir/vhN.crt``, CN and SAN the host's
name and address, TLS server and client use, as the engine signs a host's
certificate on join, docs/operations.md):

* libvirtd as server (``listen_tls``) and as the client of a peer-to-peer
  migration (``qemu+tls://vh1/system``): /etc/pki/CA/cacert.pem,
  /etc/pki/libvirt/{servercert,clientcert}.pem,
  /etc/pki/libvirt/private/{serverkey,clientkey}.pem;
* QEMU's migration stream (``VIR_MIGRATE_TLS``: libvirt gives both QEMUs a
  tls-creds-x509 object on ``migrate_tls_x509_cert_dir``): /etc/pki/qemu/
  {ca-cert,server-cert,server-key,client-cert,client-key}.pem, the keys
  readable by the QEMU user's group only.

Both ends check the peer: libvirt the server's certificate against the
URI's host name and the client's against the CA
(``tls_no_verify_certificate = 0``), QEMU likewise
(``migrate_tls_x509_verify = 1``).
"""

import os
import pwd
import shutil

QEMU_CERT_DIR = "/etc/pki/qemu"
CA_FILE = "CA/cacert.pem"       # below /etc/pki: the CA libvirt trusts
TLS_PORT = 16514                # libvirtd's TLS port (16509: plain TCP)


def _qemu_gid():
    for user in ("libvirt-qemu", "qemu"):
        try:
            return pwd.getpwnam(user).pw_gid
        except KeyError:
            pass
    return None


def install(etc_pki, ca, cert, key):
    """Copy the CA and the host's certificate and key into etc_pki (the
    host's /etc/pki, seen from outside) under libvirt's and QEMU's default
    names."""
    gid = _qemu_gid()
    layout = [
        (CA_FILE, ca, 0o644, None),
        ("libvirt/servercert.pem", cert, 0o644, None),
        ("libvirt/clientcert.pem", cert, 0o644, None),
        ("libvirt/private/serverkey.pem", key, 0o600, None),
        ("libvirt/private/clientkey.pem", key, 0o600, None),
        ("qemu/ca-cert.pem", ca, 0o644, None),
        ("qemu/server-cert.pem", cert, 0o644, None),
        ("qemu/client-cert.pem", cert, 0o644, None),
        # QEMU runs as its own user: its group may read the key, no one else
        ("qemu/server-key.pem", key, 0o640 if gid is not None else 0o644, gid),
        ("qemu/client-key.pem", key, 0o640 if gid is not None else 0o644, gid),
    ]
    for rel, src, mode, group in layout:
        dst = os.path.join(etc_pki, rel)
        os.makedirs(os.path.dirname(dst), mode=0o755, exist_ok=True)
        shutil.copyfile(src, dst)
        os.chmod(dst, mode)
        if group is not None:
            os.chown(dst, 0, group)
    os.chmod(os.path.join(etc_pki, "libvirt", "private"), 0o700)


def libvirtd_settings(addr):
    """libvirtd.conf: listen for TLS on the host's address (libvirtd
    started with --listen), clients must show a certificate of the CA."""
    return {"listen_tls": "1", "listen_addr": '"%s"' % addr, "auth_tls": '"none"',
            "tls_no_verify_certificate": "0"}


def qemu_settings():
    """qemu.conf: QEMU's migration stream with the host's certificate,
    the peer's checked."""
    return {"migrate_tls_x509_cert_dir": '"%s"' % QEMU_CERT_DIR, "migrate_tls_x509_verify": "1"}
