"""The start of host deploy over SSH (issue 13, docs/operations.md#host-deploy-over-ssh):
the engine's SSH key made at its first start and served at
/pki/engine-ssh.pub; root logins by password and by that key to a real
OpenSSH server (tests/harness/sshd.py), the host key's fingerprint shown
and, once pinned, a changed key refused before anything is sent; the host
check read over SSH."""

import json
import os
import stat
import subprocess

from harness.engine import Engine
from harness.sshd import SshServer

ERR_CONFLICT, ERR_IO, ERR_FORBIDDEN = -32004, -32008, -32101
PASSWORD = "root-test-pw-42"


def probe(ctx, port, *args, expect=0, address="127.0.0.1"):
    exe = os.path.join(ctx.build, "src", "engine", "vireo-ssh-probe")
    p = subprocess.run([exe, "--address", address, "--port", str(port), *args], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == expect, (args, p.returncode, p.stdout, p.stderr[-2000:])
    return json.loads(p.stdout)


def test_engine_ssh_key_and_host_logins(ctx):
    with Engine(ctx) as eng:
        key = os.path.join(eng.state_dir, "engine_ssh_ed25519")
        assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
        # Public, like the token endpoint: no bearer needed.
        r = eng.request("GET", "/pki/engine-ssh.pub", token=None)
        assert r.status == 200 and r.headers["content-type"].startswith("text/plain"), r
        pub = r.text
        assert pub.startswith("ssh-ed25519 ") and pub.count("\n") == 1 and " vireo-engine@" in pub, pub
        with open(key + ".pub") as f:
            assert f.read() == pub
        subprocess.run(["ssh-keygen", "-l", "-f", key + ".pub"], check=True, capture_output=True)
        assert eng.request("POST", "/pki/engine-ssh.pub", token=None).status == 405
        # The same key after a restart; a key others can read is refused.
        eng.restart()
        assert eng.request("GET", "/pki/engine-ssh.pub", token=None).text == pub
        eng.stop()
        os.chmod(key, 0o644)
        eng.start(wait=False)
        assert eng.wait_exit(15) == 1 and "readable by others" in eng.log_text()
        os.chmod(key, 0o600)
        eng.start()

        pwfile = os.path.join(eng.state_dir, "root-pw")
        with open(pwfile, "w") as f:
            f.write(PASSWORD + "\n")
        with SshServer(root_password=PASSWORD, authorized_keys=[pub]) as srv:
            fp = srv.fingerprint()
            # First contact by key: the fingerprint is shown, the check runs.
            got = probe(ctx, srv.port, "--key", key)
            assert got["fingerprint"] == fp and fp.startswith("SHA256:"), got
            chk = got["check"]
            assert chk["arch"] == "x86_64" and chk["os"].startswith("debian "), chk
            assert chk["problems"] == [] and chk["found"]["libvirtd"] is True, chk
            assert isinstance(chk["hw_virt"], bool) and isinstance(chk["warnings"], list), chk
            # By password, with the pinned key.
            assert probe(ctx, srv.port, "--password-file", pwfile, "--fingerprint", fp)["fingerprint"] == fp
            # A wrong password: refused, and never echoed.
            with open(pwfile + "2", "w") as f:
                f.write("wrong-" + PASSWORD + "\n")
            got = probe(ctx, srv.port, "--password-file", pwfile + "2", expect=1)
            assert got["code"] == ERR_FORBIDDEN and "password" in got["error"], got
            assert PASSWORD not in json.dumps(got)
            assert "Failed password for root" in srv.log()

            # The host is "reinstalled": its new key is refused against the
            # pin, before the password is sent.
            srv.new_host_key()
            with open(srv.log_path, "rb") as f:
                before = len(f.read())
            got = probe(ctx, srv.port, "--password-file", pwfile, "--fingerprint", fp, expect=1)
            assert got["code"] == ERR_CONFLICT and got["fingerprint"] == srv.fingerprint() != fp, got
            assert fp in got["error"] and srv.fingerprint() in got["error"] and "changed" in got["error"], got
            with open(srv.log_path, "rb") as f:
                since = f.read()[before:].decode(errors="replace")
            assert "Connection from" in since and "password" not in since and "Accepted" not in since, since
            # Confirming the new key works.
            assert probe(ctx, srv.port, "--password-file", pwfile, "--fingerprint", srv.fingerprint())
            assert "Accepted password for root" in srv.log()
        # A harness host with its own sshd, by the engine's key, on its address.
        h0 = ctx.host(0)
        with SshServer(authorized_keys=[pub], host=h0) as srv:
            got = probe(ctx, srv.port, "--key", key, address=h0.addr)
            assert got["fingerprint"] == srv.fingerprint() and got["check"]["problems"] == [], got
            assert "Accepted publickey for root" in srv.log(), srv.log()
        # Nothing listening any more.
        got = probe(ctx, srv.port, "--key", key, expect=1)
        assert got["code"] == ERR_IO and "cannot reach 127.0.0.1" in got["error"], got
