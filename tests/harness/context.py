"""Shared state of one test run: the harness hosts (started once), guest
assets copied where QEMU can read them, clients with the right
certificates, and helpers that wait for guest console markers."""

import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid as uuidlib

from harness.engine import REPO_ROOT, local_pki
from harness.hosts import HostSet
from harness.rpc import AgentClient, RpcError

GUEST_FILES = ("vmlinux", "initrd.img", "root.img", "cmdline")


class Skip(Exception):
    """Raised by a test that cannot run on this machine; the runner reports
    it as skipped (never as passed)."""


def one_backend(fn=None, *, backend=None):
    """Marks a slow engine scenario whose subject is the hosts, not the
    database: the runner runs it on one backend instead of each — the last
    (PostgreSQL when the suite has one), or `backend` ("sqlite") when given,
    so the slow scenarios are shared out between the two. Its rules stay in
    tests on both. Use as @one_backend or @one_backend(backend="sqlite")."""
    def mark(f):
        f.one_backend = backend or True
        return f
    return mark(fn) if fn is not None else mark


class Context:
    def __init__(self, build, guest):
        self.build = build
        self.guest_src = guest
        self.agent = os.path.join(build, "src", "agent", "vireo-agent")
        self.cli = os.path.join(build, "src", "cli", "vireo")
        self._hs = None
        self._clients = []
        self._fast_debs = None
        # Sanitizer findings must crash the agent loudly, and we grep for them.
        os.environ.setdefault("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=1")
        os.environ.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")

    def fast_debs(self):
        """The packages of this build as `scripts/build-debs --fast` makes
        them, built once per run (about 9 s each time; test_host_deploy and
        test_packaging's install test both want them): (directory, paths in
        the order the script prints them). Tests only read them."""
        if self._fast_debs is None:
            out = tempfile.mkdtemp(prefix="vireo-fast-debs-", dir="/var/tmp")
            p = subprocess.run([os.path.join(REPO_ROOT, "scripts", "build-debs"), "--build", self.build,
                                "--out", out, "--fast"], capture_output=True, text=True, timeout=300)
            if p.returncode != 0:
                shutil.rmtree(out, ignore_errors=True)
                raise AssertionError(f"scripts/build-debs --fast failed: {p.stdout}{p.stderr}")
            self._fast_debs = (out, p.stdout.split())
        return self._fast_debs

    # -- hosts ---------------------------------------------------------
    @property
    def pki_dir(self):
        """The run's PKI (CA, engine certificate; host certificates once the
        hosts start): an engine-only test gets it without starting the
        harness hosts, so it never waits for the machine-wide lock."""
        return local_pki()

    @property
    def hs(self):
        if self._hs is None:
            workdir = "/var/tmp/vireo-test-run"
            hs = HostSet(n=2, workdir=workdir, pki_dir=self.pki_dir,
                         agent_cmd=[self.agent, "--io-timeout", "2", "--debug",
                                    "--monitor-timeout", "4", "--sanlock-io-timeout", "5"])
            hs.start()
            self._hs = hs
            gdir = os.path.join(hs.shared_dir, "guest")
            os.makedirs(gdir, exist_ok=True)
            os.chmod(gdir, 0o755)
            for f in GUEST_FILES:
                dst = os.path.join(gdir, f)
                shutil.copyfile(os.path.join(self.guest_src, f), dst)
                os.chmod(dst, 0o644)
            self.guest = gdir
            with open(os.path.join(gdir, "cmdline")) as fh:
                self.cmdline = fh.read().strip()
        return self._hs

    def host(self, i=0):
        return self.hs.hosts[i]

    def client(self, i=0, name="engine", ca=None):
        h = self.host(i)
        pki = self.hs.pki_dir
        cert = os.path.join(pki, f"{name}.crt") if name else None
        key = os.path.join(pki, f"{name}.key") if name else None
        c = AgentClient(h.addr, h.port, ca or os.path.join(pki, "ca.crt"), cert, key)
        self._clients.append(c)
        return c

    # -- VMs -----------------------------------------------------------
    def vm_spec(self, name=None, **over):
        self.hs  # noqa: B018 - makes sure guest assets are in place
        spec = {
            "name": name or "t-" + uuidlib.uuid4().hex[:8],
            "memory_mib": 256,
            "vcpus": 1,
            "boot": {"kernel": os.path.join(self.guest, "vmlinux"),
                     "initrd": os.path.join(self.guest, "initrd.img"),
                     "cmdline": self.cmdline},
            "disks": [{"path": os.path.join(self.guest, "root.img"), "readonly": True}],
        }
        spec.update(over)
        return spec

    def scratch_disk(self, name, size_mib=16):
        path = os.path.join(self.hs.shared_dir, name)
        with open(path, "wb") as f:
            f.truncate(size_mib * 1024 * 1024)
        os.chmod(path, 0o666)
        return path

    def console(self, c, uuid):
        return c.call("VM.getConsoleLog", uuid=uuid, max_bytes=1024 * 1024)["text"]

    def wait_console(self, c, uuid, marker, timeout=90, count=1, send=None, resend_s=3):
        """Wait until marker appears `count` times in the console log;
        if send is given, type it into the console every resend_s seconds
        (a command typed before the guest's shell reads is lost; one that
        takes longer than resend_s runs, and answers, twice)."""
        deadline = time.monotonic() + timeout
        last_send = 0
        # Hundreds of these waits per suite run, most for a command's answer
        # (a few tenths of a second): a fixed 0.5 s pause lost ~0.25 s on
        # each. The log is a file read on the agent: looking every 0.2 s
        # costs it little.
        pause = 0.05
        while time.monotonic() < deadline:
            text = self.console(c, uuid)
            if text.count(marker) >= count:
                return text
            if send and time.monotonic() - last_send > resend_s:
                c.call("VM.sendConsole", uuid=uuid, text=send)
                last_send = time.monotonic()
            time.sleep(pause)
            pause = min(0.2, pause * 2)
        raise AssertionError(f"console of {uuid} never showed {marker!r} x{count}; tail:\n"
                             + self.console(c, uuid)[-1500:])

    def qemu_pid(self, name, i=0):
        """PID of the QEMU running VM `name` on harness host i."""
        for pid in self.host(i).qemu_pids():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if f"guest={name},".encode() in f.read():
                        return pid
            except OSError:
                pass
        raise AssertionError(f"no QEMU process for VM {name!r} on host {i}")

    def boot(self, c, **over):
        vm = c.call("VM.create", self.vm_spec(**over))
        self.wait_console(c, vm["uuid"], "VIREO-GUEST-READY")
        return vm

    # -- bookkeeping ---------------------------------------------------
    def after_test(self):
        """Close clients and destroy every VM the test left on any host."""
        for c in self._clients:
            c.close()
        self._clients = []
        if self._hs is None:
            return
        for i, h in enumerate(self._hs.hosts):
            if not h.agent_alive():
                raise AssertionError(f"agent on {h.name} died; log tail:\n{h.log_tail()}")
            with self.client(i) as c:
                for vm in c.call("VM.list")["vms"]:
                    if vm["owned"]:
                        try:
                            c.call("VM.destroy", uuid=vm["uuid"])
                        except RpcError:
                            pass
            for dom in h.virsh("list", "--name").split():
                h.virsh("destroy", dom)
        self._clients = []

    def sanitizer_reports(self):
        if self._hs is None:
            return ""
        found = []
        for h in self._hs.hosts:
            text = open(h.agent_log, errors="replace").read() if os.path.exists(h.agent_log) else ""
            for pat in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
                if pat in text:
                    found.append(f"{h.name}: {pat}\n" + text[text.index(pat) - 200:][:3000])
        return "\n".join(found)

    def close(self):
        for c in self._clients:
            c.close()
        if self._fast_debs is not None:
            shutil.rmtree(self._fast_debs[0], ignore_errors=True)
        if self._hs is not None:
            self._hs.stop()
