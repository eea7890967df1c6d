"""Several libvirt "hosts" on one machine, for Vireo's integration tests.

Each host is

* a network namespace ``vireo-vhN`` with ``eth0`` = 10.77.0.(10+N)/24 (a veth
  whose other end is attached to the bridge ``vireotest0`` = 10.77.0.1/24 in
  the root namespace) and ``lo``;
* a private mount namespace (and UTS namespace, hostname ``vhN``) in which
  per-host directories under the work directory are bind-mounted over
  /etc/libvirt, /run/libvirt, /var/lib/libvirt, /var/log/libvirt,
  /var/cache/libvirt, /etc/pki (libvirt's and QEMU's TLS certificates:
  the host's own, harness/libvirt_tls.py), and a per-host file over
  /etc/hosts (it names every
  host, so libvirt migration between hosts resolves ``vhN``);
* its own ``virtlogd`` and ``libvirtd`` (pidfiles in the host directory), so
  ``qemu:///system`` inside the host talks to that host's libvirtd only;
* optionally the Vireo agent, started as
  ``agent_cmd + ["--listen", "ADDR:PORT", "--ca", ..., "--cert", ...,
  "--key", ..., "--uri", "qemu:///system"]``.

* its own ``sanlock`` daemon (``sanlock=True``, the default): private
  /run/sanlock and /var/log/sanlock.log, started as ``sanlock daemon -w 0
  -l 0`` with an LD_PRELOAD shim (tests/harness/sanlock_shim.c) because this
  sandbox lacks CAP_SYS_RESOURCE; the shim is for the harness only;
* a private ``--storage-root`` (``<host dir>/storage``) where its agent
  mounts storage connections, inside the host's mount namespace, and a
  private ``--net-state`` file (``<host dir>/networks.json``, the agent's
  last good network configuration) and ``--job-dir`` (``<host dir>/jobs``,
  its long jobs' records, read back after an agent restart) and ``--run-dir``
  (``<host dir>/vireo-run``: its DHCP clients' pid, lease and log files);
* opt-in extra NICs (``extra_nics=K``, or ``hs.ensure_extra_nics(K)`` on a
  running set): ``eth1`` .. ``ethK`` in every host, without addresses, each
  a veth whose root end (``vireo-vhNnJ``) is a port of the root-namespace
  bridge ``vireotestJ`` (no address, no VLAN filtering: it forwards tagged
  frames as they are), so the hosts' ethJ share one wire; removed with the
  namespaces and bridges by stop() and cleanup_stale();

Shared block storage (``shared_fs_mb``, default 1024): ``hs.shared_dev`` is a
loop device over a sparse file in the work directory, formatted ext4 and
mounted by nobody: a posixfs storage domain every host's agent mounts in its
own mount namespace (same superblock, so really shared, O_DIRECT works and
sanlock leases on it exclude each other across hosts).

* its own cgroup ``vireo-vhN`` below ours in every cgroup v1 hierarchy and a
  cgroup namespace rooted there: the host's libvirtd puts guests into
  ``/machine/...`` of that namespace (really ``.../vireo-vhN/machine/...``),
  so guests of the same name on two hosts do not collide and cgroup based
  APIs (virsh cpu-stats, memtune) work as on a real host.

A long-lived "holder" process (``sleep infinity``), started as
``nsenter --net=/run/netns/vireo-vhN unshare --mount --uts --cgroup
--propagation private sh holder.sh`` (holder.sh mounts a fresh sysfs, the
cgroup hierarchies and the bind mounts), keeps the namespaces alive.
Everything else runs through the host's ``enter`` script (workdir/vhN/enter,
also handy by hand: ``/var/tmp/vireo-hosts-*/vh0/enter virsh list``), which
joins the host's cgroups and then does ``nsenter -t HOLDER -m -n -u -C``.

Per host (``h = hs.hosts[i]``): name, addr, port, dir, netns, agent_log,
libvirtd_log, virtlogd_log, qemu_log_dir, ca/cert/key paths; run(),
popen(), virsh(), domains(), qemu_pids(); agent_pid, agent_alive(),
start_agent(), wait_agent(), kill_agent(), agent_args(), log_tail();
libvirtd_pid, kill_libvirtd(), start_libvirtd(), destroy_all_domains();
start_bmc(user, password) and bmc_power(): a simulated BMC (ipmi_sim, see
harness/bmc.py) whose chassis power turns the host off and on;
start_sshd(keys), stop_sshd(): an sshd in the host whose sessions have a
systemctl that restarts the host's agent (harness/agentunit.py).

Usage::

    from harness.hosts import HostSet
    with HostSet(n=2, agent_cmd=["build/vireo-agent"]) as hs:
        h = hs.hosts[0]
        h.virsh("list", "--all")

Requires root and the packages installed by scripts/setup.  Only one HostSet
can be running at a time on a machine (fixed namespace and bridge names): a
machine-wide flock (/run/vireo-harness.lock) makes a second one wait (up to
lock_timeout) for the first to stop.  Starting one first removes the
leftovers of an earlier run that crashed.

Environment: VIREO_HARNESS_KEEP=1 keeps the work directory (logs, per-host
libvirt state) after stop().
"""

import atexit
import fcntl
import json
import logging
import os
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
import uuid

from harness.agentunit import AgentUnit
from harness.bmc import Bmc, BmcWatcher, bmc_pids
from harness import libvirt_tls
from harness.sshd import SshServer

__all__ = ["HostSet", "Host", "HarnessError", "cleanup_stale"]

log = logging.getLogger("vireo.harness")

BRIDGE = "vireotest0"
NETNS_PREFIX = "vireo-vh"
WORKDIR_PREFIX = "vireo-hosts-"
STATE_FILE = "/run/vireo-harness.json"
LOCK_FILE = "/run/vireo-harness.lock"
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PKI_SCRIPT = os.path.join(REPO_ROOT, "scripts", "pki")
SANLOCK_SHIM_SRC = os.path.join(REPO_ROOT, "tests", "harness", "sanlock_shim.c")
SANLOCK_LOG = "/var/log/sanlock.log"
SHARED_IMAGE = "shared-storage.img"

# root path -> name of the per-host subdirectory bind-mounted over it
PRIVATE_DIRS = [
    ("/run/sanlock", "sanlock-run"),
    ("/etc/libvirt", "etc"),
    ("/run/libvirt", "run"),
    ("/var/lib/libvirt", "lib"),
    ("/var/log/libvirt", "log"),
    ("/var/cache/libvirt", "cache"),
    # libvirt's lock files of the serial ptys a console holds: each real
    # host has its own, and a shared one lets a console open on one host
    # refuse another host's VM that got the same pty number ("locked by
    # lock file ... held by process N", N the other host's libvirtd)
    ("/run/lock", "lock"),
    # the certificates of libvirt's TLS (CA, host, QEMU's): each host its
    # own, as its agent's (harness/libvirt_tls.py)
    ("/etc/pki", "etc-pki"),
]

URI = "qemu:///system"


class HarnessError(RuntimeError):
    pass


def _run(cmd, check=True, timeout=60, **kw):
    """Run a command in the root namespace, capture text output."""
    kw.setdefault("stdin", subprocess.DEVNULL)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise HarnessError("command failed (%d): %s\n%s%s" % (
            p.returncode, shlex.join(cmd), p.stdout, p.stderr))
    return p


def _pid_alive(pid):
    if not pid:
        return False
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except OSError:
        return False
    # state field follows "(comm)"; a zombie is as good as dead
    return st[st.rindex(")") + 2] not in "ZX"


def _threads_alive(pid):
    """True while any thread of pid has not finished exiting."""
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return False
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                st = f.read()
        except OSError:
            continue
        if st[st.rindex(")") + 2] not in "ZX":
            return True
    return False


def _read_pidfile(path):
    try:
        with open(path) as f:
            s = f.read().strip()
        return int(s) if s else None
    except (OSError, ValueError):
        return None


def _kill(pid, sig):
    try:
        os.kill(pid, sig)
        return True
    except ProcessLookupError:
        return False


def _wait_gone(pids, timeout):
    deadline = time.monotonic() + timeout
    pids = [p for p in pids if p]
    while True:
        left = [p for p in pids if _pid_alive(p)]
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.05)


def _terminate(pids, timeout=5.0):
    """SIGTERM, wait, then SIGKILL; returns pids still alive at the end."""
    pids = [p for p in pids if p and p != os.getpid()]
    for p in pids:
        _kill(p, signal.SIGTERM)
    left = _wait_gone(pids, timeout)
    for p in left:
        _kill(p, signal.SIGKILL)
    return _wait_gone(left, 5.0)


def _tail(path, n=40):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 16384))
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return "(no %s)" % path
    return "\n".join(data.splitlines()[-n:])


def _netns_list():
    p = _run(["ip", "netns", "list"], check=False)
    names = []
    for line in p.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        if name.startswith(NETNS_PREFIX):
            names.append(name)
    return names


def _netns_pids(name):
    p = _run(["ip", "netns", "pids", name], check=False)
    return [int(x) for x in p.stdout.split() if x.isdigit()]


def _harness_mount_pids(marker):
    """Pids of processes whose mount namespace has a bind mount over
    /run/libvirt coming from a path that contains `marker` (a harness
    workdir or the generic prefix): they belong to some harness host even if
    its network namespace is gone."""
    pids = []
    me = os.getpid()
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == me:
            continue
        try:
            with open("/proc/%s/mountinfo" % d) as f:
                for line in f:
                    fields = line.split(" ")
                    if len(fields) > 4 and fields[4] == "/run/libvirt" and marker in fields[3]:
                        pids.append(int(d))
                        break
        except OSError:
            continue
    return pids


def _loops_of(path):
    """Loop devices attached to the file path."""
    p = _run(["losetup", "-j", path], check=False)
    return [line.split(":", 1)[0] for line in p.stdout.splitlines() if line.strip()]


def _umount_under(path):
    """Unmount (lazily) every mount point in the root namespace below path."""
    path = os.path.realpath(path)
    try:
        with open("/proc/self/mountinfo") as f:
            mps = [line.split(" ")[4] for line in f]
    except OSError:
        return
    for mp in sorted(mps, key=len, reverse=True):
        mp = mp.encode().decode("unicode_escape")
        if mp == path or mp.startswith(path + "/"):
            subprocess.run(["umount", "-l", mp], capture_output=True)


def _rmtree(path):
    if not path or not os.path.lexists(path):
        return
    _umount_under(path)
    shutil.rmtree(path, ignore_errors=True)
    if os.path.lexists(path):
        _run(["rm", "-rf", "--one-file-system", path], check=False)


def _others_can_traverse(path):
    path = os.path.realpath(path)
    while True:
        st = os.stat(path)
        if not st.st_mode & stat.S_IXOTH:
            return False
        if path == "/":
            return True
        path = os.path.dirname(path)


def _copy_dir_skeleton(src, dst, depth=3, skip=(), files=False):
    """Recreate src's directories (owner, group, mode) below dst; copy
    regular files too when files=True."""
    src = src.rstrip("/")
    os.makedirs(dst, exist_ok=True)
    if not os.path.isdir(src):
        return
    for root, dirs, fnames in os.walk(src):
        rel = os.path.relpath(root, src)
        level = 0 if rel == "." else rel.count("/") + 1
        dirs[:] = [d for d in dirs
                   if not any(re.fullmatch(pat, d) for pat in skip)] if level < depth else []
        target = dst if rel == "." else os.path.join(dst, rel)
        os.makedirs(target, exist_ok=True)
        st = os.stat(root)
        os.chown(target, st.st_uid, st.st_gid)
        os.chmod(target, stat.S_IMODE(st.st_mode))
        if files:
            for fn in fnames:
                s = os.path.join(root, fn)
                if os.path.isfile(s) and not os.path.islink(s):
                    t = os.path.join(target, fn)
                    shutil.copy2(s, t)
                    fst = os.stat(s)
                    os.chown(t, fst.st_uid, fst.st_gid)


def _set_conf(path, settings, comment="vireo test harness"):
    """Set `key = value` lines in a libvirt-style config file: active lines
    for these keys are removed, the settings appended."""
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        lines = []
    keys = set(settings)
    out = [l for l in lines
           if not (re.match(r"\s*([A-Za-z_0-9]+)\s*=", l)
                   and re.match(r"\s*([A-Za-z_0-9]+)", l).group(1) in keys)]
    out.append("")
    out.append("# --- %s ---" % comment)
    for k, v in settings.items():
        out.append("%s = %s" % (k, v))
    mode = stat.S_IMODE(os.stat(path).st_mode) if os.path.exists(path) else 0o644
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    os.chmod(path, mode)


def _q(s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


def _cgroup_v1_hierarchies():
    """The cgroup v1 hierarchies mounted in the root namespace, as a list of
    (mountpoint, mount options, this process's cgroup path).  Empty if there
    are none (cgroup v2 only) or they look unusual (mounted from a non-root
    cgroup, i.e. we are inside a container's cgroup namespace)."""
    mounts = []
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                pre, _, post = line.partition(" - ")
                fs = post.split()
                if len(fs) < 3 or fs[0] != "cgroup":
                    continue
                pf = pre.split()
                if pf[3] != "/":
                    return []
                opts = [o for o in fs[2].split(",") if o not in ("rw", "ro")]
                mounts.append((pf[4], opts))
        placement = {}
        with open("/proc/self/cgroup") as f:
            for line in f:
                hid, ctrls, path = line.rstrip("\n").split(":", 2)
                if hid != "0" and ctrls:
                    placement[frozenset(ctrls.split(","))] = path
    except OSError:
        return []
    out = []
    for mp, opts in mounts:
        cur = [path for ctrls, path in placement.items() if ctrls <= set(opts)]
        if len(cur) != 1:
            return []
        out.append((mp, opts, cur[0]))
    return out


def _rm_cgroup_tree(path):
    """rmdir a cgroup directory and its children, deepest first."""
    if not os.path.isdir(path):
        return True
    for _ in range(50):
        for root, dirs, _files in os.walk(path, topdown=False):
            try:
                os.rmdir(root)
            except OSError:
                pass
        if not os.path.isdir(path):
            return True
        time.sleep(0.1)
    return False


def _stale_cgroups():
    found = []
    for mp, _opts, cur in _cgroup_v1_hierarchies():
        for base in {mp, os.path.normpath(mp + "/" + cur)}:
            try:
                names = os.listdir(base)
            except OSError:
                continue
            for n in names:
                if re.fullmatch(r"vireo-vh\d+", n) and os.path.isdir(os.path.join(base, n)):
                    found.append(os.path.join(base, n))
    return found


# ---------------------------------------------------------------- cleanup of
# earlier runs and the process-wide registry


def _load_state():
    try:
        with open(STATE_FILE) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def _save_state(state):
    tmp = STATE_FILE + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state, f)
    os.replace(tmp, STATE_FILE)


def _acquire_lock(timeout):
    """Take the machine-wide harness lock (flock, so a crashed holder
    releases it).  Waits up to timeout seconds for another run to finish."""
    f = open(LOCK_FILE, "a+")
    deadline = time.monotonic() + timeout
    told = False
    while True:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            f.seek(0)
            owner = f.read().strip() or "?"
            if time.monotonic() >= deadline:
                f.close()
                raise HarnessError("another harness run (pid %s) holds %s" % (owner, LOCK_FILE))
            if not told:
                log.warning("waiting for another harness run (pid %s) to finish", owner)
                told = True
            time.sleep(0.5)
    f.seek(0)
    f.truncate()
    f.write("%d\n" % os.getpid())
    f.flush()
    return f


def _release_lock(f):
    if f is None:
        return
    try:
        f.seek(0)
        f.truncate()
        fcntl.flock(f, fcntl.LOCK_UN)
    finally:
        f.close()


def cleanup_stale(verbose=True, _locked=False):
    """Remove everything an earlier (crashed) harness run may have left:
    processes in vireo-vh* namespaces or in harness mount namespaces (agents,
    libvirtd, virtlogd, qemu, holders), the namespaces, veths, the bridge, and
    the work directories recorded in the state file.  Refuses (HarnessError)
    while another live process runs a HostSet."""
    if not _locked:
        with _registry_lock:
            if _registry:
                raise HarnessError("cleanup_stale() while a HostSet of this process runs")
        lockf = _acquire_lock(0)
        try:
            return cleanup_stale(verbose, _locked=True)
        finally:
            _release_lock(lockf)
    state = _load_state()
    found = []
    pids = set()
    for ns in _netns_list():
        found.append("netns " + ns)
        pids.update(_netns_pids(ns))
    pids.update(_harness_mount_pids("/" + WORKDIR_PREFIX))
    stale_cg = _stale_cgroups()
    for cg in stale_cg:
        for root, _dirs, _files in os.walk(cg):
            try:
                with open(os.path.join(root, "cgroup.procs")) as f:
                    pids.update(int(x) for x in f.read().split())
            except OSError:
                pass
    for wd in set(state.get("workdirs", []) + state.get("scan", [])):
        pids.update(_harness_mount_pids(wd + "/"))
        pids.update(bmc_pids(wd + "/"))
    pids.discard(os.getpid())
    if pids:
        found.append("%d processes" % len(pids))
        for p in pids:
            _kill(p, signal.SIGKILL)
        left = _wait_gone(list(pids), 10)
        if left:
            log.warning("stale processes did not die: %s", left)
    for ns in _netns_list():
        _run(["ip", "netns", "del", ns], check=False)
    p = _run(["ip", "-o", "link", "show"], check=False)
    for line in p.stdout.splitlines():
        m = re.match(r"\d+: ([^:@]+)[:@]", line)
        if m and (m.group(1).startswith(NETNS_PREFIX) or m.group(1) == BRIDGE or
                  re.fullmatch(BRIDGE[:-1] + r"[1-9]", m.group(1))):
            found.append("link " + m.group(1))
            _run(["ip", "link", "del", m.group(1)], check=False)
    for cg in stale_cg:
        found.append("cgroup " + cg)
        _rm_cgroup_tree(cg)
    for img in state.get("loops", []):
        for dev in _loops_of(img):
            found.append("loop " + dev)
            _run(["losetup", "-d", dev], check=False)
    if state.get("loops"):
        state["loops"] = []
        _save_state(state)
    for wd in state.get("workdirs", []):
        if os.path.lexists(wd):
            found.append("workdir " + wd)
            _rmtree(wd)
    if state.get("workdirs") or state.get("scan"):
        state["workdirs"] = []
        state["scan"] = []
        _save_state(state)
    if found and verbose:
        log.warning("removed leftovers of an earlier harness run: %s", ", ".join(found))
    return found


_registry = []
_registry_lock = threading.RLock()
_handlers_installed = False
_prev_handlers = {}


def _stop_all():
    with _registry_lock:
        sets = list(_registry)
    for hs in sets:
        try:
            hs.stop()
        except Exception:  # pragma: no cover - best effort at exit
            log.exception("stopping HostSet failed")


def _on_signal(signum, frame):
    _stop_all()
    prev = _prev_handlers.get(signum)
    if callable(prev):
        prev(signum, frame)
        return
    if prev == signal.SIG_IGN:
        return
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install_handlers():
    global _handlers_installed
    if _handlers_installed:
        return
    atexit.register(_stop_all)
    if threading.current_thread() is threading.main_thread():
        for s in (signal.SIGTERM, signal.SIGINT):
            _prev_handlers[s] = signal.getsignal(s)
            signal.signal(s, _on_signal)
    _handlers_installed = True


# ---------------------------------------------------------------- hosts


class Host:
    """One test host.  Created by HostSet; see the module docstring."""

    def __init__(self, hs, index):
        self.hs = hs
        self.index = index
        self.name = "vh%d" % index
        self.netns = NETNS_PREFIX + str(index)
        self.veth = NETNS_PREFIX + str(index)     # root end of the veth pair
        self.addr = "%s.%d" % (hs.subnet, 10 + index)
        self.port = hs.port
        self.dir = os.path.join(hs.workdir, self.name)
        self.holder = None            # Popen of the holder
        self.agent = None             # Popen of the agent
        self.bmc = None               # its simulated BMC (start_bmc, harness/bmc.py)
        self.sshd = None              # its sshd (start_sshd, harness/sshd.py)
        self.agent_unit = None        # its vireo-agent "unit" (start_sshd, harness/agentunit.py)
        self.agent_log = os.path.join(self.dir, "agent.log")
        self.libvirtd_log = os.path.join(self.dir, "log", "libvirtd.log")
        self.virtlogd_log = os.path.join(self.dir, "log", "virtlogd.log")
        self.qemu_log_dir = os.path.join(self.dir, "log", "qemu")
        self.libvirtd_pidfile = os.path.join(self.dir, "libvirtd.pid")
        self.virtlogd_pidfile = os.path.join(self.dir, "virtlogd.pid")
        self.host_uuid = str(uuid.uuid5(uuid.NAMESPACE_DNS, "%s.vireo-test" % self.name))
        self.enter_script = os.path.join(self.dir, "enter")
        self.storage_root = os.path.join(self.dir, "storage")
        self.sanlock_log = os.path.join(self.dir, "sanlock.log")
        self.sanlock_pidfile = os.path.join(self.dir, "sanlock-run", "sanlock.pid")
        self.cgroups = []             # per-host cgroup dirs (root namespace paths)
        self.etc_pki = os.path.join(self.dir, "etc-pki")  # its /etc/pki

    def __repr__(self):
        return "<Host %s %s:%d>" % (self.name, self.addr, self.port)

    # ------------------------------------------------------------ paths
    @property
    def ca(self):
        return os.path.join(self.hs.pki_dir, "ca.crt")

    @property
    def cert(self):
        return os.path.join(self.hs.pki_dir, self.name + ".crt")

    @property
    def key(self):
        return os.path.join(self.hs.pki_dir, self.name + ".key")

    @property
    def holder_pid(self):
        return self.holder.pid if self.holder else None

    @property
    def agent_pid(self):
        return self.agent.pid if self.agent and self.agent.poll() is None else None

    @property
    def libvirtd_pid(self):
        pid = _read_pidfile(self.libvirtd_pidfile)
        return pid if _pid_alive(pid) else None

    @property
    def sanlock_pid(self):
        pid = _read_pidfile(self.sanlock_pidfile)
        return pid if _pid_alive(pid) and _comm(pid) == "sanlock" else None

    @property
    def virtlogd_pid(self):
        pid = _read_pidfile(self.virtlogd_pidfile)
        return pid if _pid_alive(pid) else None

    def nsenter(self):
        """Command prefix that runs a command inside this host."""
        if not self.holder or self.holder.poll() is not None:
            raise HarnessError("%s: holder process is not running" % self.name)
        return [self.enter_script]

    # ------------------------------------------------------------ commands
    def run(self, cmd, check=False, timeout=120, input=None, **kw):
        """Run cmd (a list) inside this host's namespaces; returns a
        CompletedProcess with text stdout/stderr."""
        if isinstance(cmd, str):
            cmd = ["sh", "-c", cmd]
        if input is None:
            kw.setdefault("stdin", subprocess.DEVNULL)
        p = subprocess.run(self.nsenter() + list(cmd), capture_output=True,
                           text=True, timeout=timeout, input=input, **kw)
        if check and p.returncode != 0:
            raise HarnessError("%s: command failed (%d): %s\n%s%s" % (
                self.name, p.returncode, shlex.join(cmd), p.stdout, p.stderr))
        return p

    def popen(self, cmd, **kw):
        """Start cmd inside this host without waiting (subprocess.Popen)."""
        return subprocess.Popen(self.nsenter() + list(cmd), **kw)

    def virsh(self, *args, timeout=120):
        """Run `virsh -c qemu:///system ARGS` in this host; returns stdout,
        raises HarnessError (with stderr) on failure."""
        p = self.run(["virsh", "-c", URI] + [str(a) for a in args], timeout=timeout)
        if p.returncode != 0:
            raise HarnessError("%s: virsh %s failed (%d): %s" % (
                self.name, shlex.join([str(a) for a in args]), p.returncode,
                (p.stderr or p.stdout).strip()))
        return p.stdout

    def domains(self, all=True):
        """Names of the domains libvirt knows on this host."""
        out = self.virsh("list", "--name", *(["--all"] if all else []))
        return [l.strip() for l in out.splitlines() if l.strip()]

    def qemu_pids(self):
        return [p for p in _netns_pids(self.netns)
                if _comm(p).startswith("qemu-system")]

    # ------------------------------------------------------------ setup
    def _prepare(self):
        _rmtree(self.dir)       # state of an earlier run in a given workdir
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        # per-host copies of libvirt's directories
        etc = os.path.join(self.dir, "etc")
        shutil.copytree("/etc/libvirt", etc, symlinks=True, dirs_exist_ok=True)
        for sub in ("qemu", "qemu/autostart", "qemu/networks/autostart",
                    "storage", "storage/autostart", "secrets", "nwfilter-bindings"):
            d = os.path.join(etc, sub)
            if not os.path.isdir(d):
                continue
            for fn in os.listdir(d):
                p = os.path.join(d, fn)
                if os.path.isfile(p) or os.path.islink(p):
                    if sub == "qemu" and not fn.endswith(".xml"):
                        continue
                    os.unlink(p)
        for sub in ("qemu/autostart", "qemu/networks/autostart"):
            os.makedirs(os.path.join(etc, sub), exist_ok=True)
        qemu_settings = {
            "namespaces": "[ ]",
        }
        if self.hs.libvirt_tls:
            qemu_settings.update(libvirt_tls.qemu_settings())
        qemu_settings.update(self.hs.qemu_conf)
        _set_conf(os.path.join(etc, "qemu.conf"), qemu_settings)
        libvirtd_settings = {
            "host_uuid": _q(self.host_uuid),
            "log_outputs": _q("%d:file:/var/log/libvirt/libvirtd.log" % self.hs.log_level),
        }
        if self.hs.libvirt_tcp:
            libvirtd_settings.update({
                "listen_tls": "0",
                "listen_tcp": "1",
                "auth_tcp": _q("none"),
                "listen_addr": _q(self.addr),
            })
        if self.hs.libvirt_tls:
            libvirtd_settings.update(libvirt_tls.libvirtd_settings(self.addr))
        libvirtd_settings.update(self.hs.libvirtd_conf)
        _set_conf(os.path.join(etc, "libvirtd.conf"), libvirtd_settings)
        _set_conf(os.path.join(etc, "virtlogd.conf"), {
            "log_outputs": _q("%d:file:/var/log/libvirt/virtlogd.log" % self.hs.log_level),
        })

        _copy_dir_skeleton("/var/lib/libvirt", os.path.join(self.dir, "lib"),
                           skip=(r"domain-.*",))
        _copy_dir_skeleton("/var/log/libvirt", os.path.join(self.dir, "log"), depth=1)
        # the QEMU capabilities cache saves libvirtd a few seconds of probing
        _copy_dir_skeleton("/var/cache/libvirt", os.path.join(self.dir, "cache"),
                           files=True)
        run = os.path.join(self.dir, "run")
        os.makedirs(run, exist_ok=True)
        os.chmod(run, 0o755)
        # cheap, so always: a running set can turn TLS on (use_libvirt_tls)
        libvirt_tls.install(self.etc_pki, self.ca, self.cert, self.key)
        for d in ("sanlock-run", "storage"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
            os.chmod(os.path.join(self.dir, d), 0o755)
        os.makedirs(os.path.join(self.dir, "lock"), exist_ok=True)
        os.chmod(os.path.join(self.dir, "lock"), 0o1777)  # as /run/lock
        open(self.sanlock_log, "a").close()

        with open(os.path.join(self.dir, "hosts"), "w") as f:
            f.write("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
            f.write("%s.1\tvireo-root\n" % self.hs.subnet)
            for h in self.hs.hosts:
                f.write("%s\t%s\n" % (h.addr, h.name))
        with open(os.path.join(self.dir, "hostname"), "w") as f:
            f.write(self.name + "\n")

    def _setup_net(self):
        ns = self.netns
        _run(["ip", "netns", "add", ns])
        _run(["ip", "link", "add", self.veth, "type", "veth",
              "peer", "name", "eth0", "netns", ns])
        _run(["ip", "link", "set", self.veth, "master", BRIDGE, "up"])
        _run(["ip", "-n", ns, "link", "set", "lo", "up"])
        _run(["ip", "-n", ns, "addr", "add", self.addr + "/24", "dev", "eth0"])
        _run(["ip", "-n", ns, "link", "set", "eth0", "up"])
        _run(["ip", "-n", ns, "route", "add", "default", "via", self.hs.subnet + ".1"])

    def _setup_extra_nic(self, j):
        """ethJ in the host, its root end a port of bridge vireotestJ."""
        root = "%s%dn%d" % (NETNS_PREFIX, self.index, j)
        _run(["ip", "link", "add", root, "type", "veth", "peer", "name", "eth%d" % j,
              "netns", self.netns])
        _run(["ip", "link", "set", root, "master", BRIDGE[:-1] + str(j), "up"])
        _run(["ip", "-n", self.netns, "link", "set", "eth%d" % j, "up"])

    def _make_cgroups(self):
        """Create this host's cgroup (a child of our own cgroup in every v1
        hierarchy); the holder moves into it and then unshares the cgroup
        namespace, so the host's libvirtd sees it as the root and puts its
        guests into .../vireo-vhN/machine/... instead of the machine-wide
        /machine, where same-named guests of two hosts would collide."""
        self.cgroups = []
        mounts = []
        if not self.hs.cgroups:
            return mounts
        for mp, opts, cur in _cgroup_v1_hierarchies():
            parent = os.path.normpath(mp + "/" + cur)
            d = os.path.join(parent, "vireo-" + self.name)
            _rm_cgroup_tree(d)
            os.mkdir(d)
            self.cgroups.append(d)
            if "cpuset" in opts:
                for fn in ("cpuset.cpus", "cpuset.mems"):
                    with open(os.path.join(parent, fn)) as f:
                        val = f.read().strip()
                    with open(os.path.join(d, fn), "w") as f:
                        f.write(val)
            mounts.append((mp, opts))
        return mounts

    def _start_holder(self):
        ready = os.path.join(self.dir, "holder.ready")
        if os.path.exists(ready):
            os.unlink(ready)
        cg_mounts = self._make_cgroups()
        lines = ["set -e",
                 # a sysfs of this network namespace (as `ip netns exec`
                 # does); it hides the root namespace's cgroup mounts
                 "mount -t sysfs -o nosuid,nodev,noexec sysfs /sys"]
        if cg_mounts:
            lines.append("mount -t tmpfs -o mode=755,nosuid,nodev,noexec cgroup /sys/fs/cgroup")
            for mp, opts in cg_mounts:
                lines.append("mkdir -p %s" % shlex.quote(mp))
                lines.append("mount -t cgroup -o %s cgroup %s" % (
                    shlex.quote(",".join(opts)), shlex.quote(mp)))
        for target, sub in PRIVATE_DIRS:
            lines.append("mount --bind %s %s" % (
                shlex.quote(os.path.join(self.dir, sub)), shlex.quote(target)))
        lines.append("mount --bind %s /etc/hosts" % shlex.quote(os.path.join(self.dir, "hosts")))
        lines.append("mount --bind %s %s" % (shlex.quote(self.sanlock_log), SANLOCK_LOG))
        lines.append("hostname %s" % shlex.quote(self.name))
        lines.append("touch %s" % shlex.quote(ready))
        lines.append("exec sleep infinity")
        holder_sh = os.path.join(self.dir, "holder.sh")
        with open(holder_sh, "w") as f:
            f.write("\n".join(lines) + "\n")
        for target, _ in PRIVATE_DIRS:
            os.makedirs(target, exist_ok=True)
        if not os.path.exists(SANLOCK_LOG):
            open(SANLOCK_LOG, "a").close()
        join = "".join('echo $$ > %s\n' % shlex.quote(os.path.join(d, "cgroup.procs"))
                       for d in self.cgroups)
        unshare = ["unshare", "--mount", "--uts", "--propagation", "private"]
        if self.cgroups:
            unshare.append("--cgroup")
        wrapper = "set -e\n%sexec nsenter --net=/run/netns/%s %s sh %s\n" % (
            join, self.netns, shlex.join(unshare), shlex.quote(holder_sh))
        with open(os.path.join(self.dir, "holder.log"), "ab") as logf:
            self.holder = subprocess.Popen(
                ["sh", "-c", wrapper],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                start_new_session=True)
        deadline = time.monotonic() + 10
        while not os.path.exists(ready):
            if self.holder.poll() is not None:
                raise HarnessError("%s: holder exited (%s):\n%s" % (
                    self.name, self.holder.returncode,
                    _tail(os.path.join(self.dir, "holder.log"))))
            if time.monotonic() > deadline:
                raise HarnessError("%s: holder not ready after 10 s" % self.name)
            time.sleep(0.02)
        # the command prefix for everything run inside this host: join the
        # host's cgroups, then its namespaces
        flags = "-m -n -u" + (" -C" if self.cgroups else "")
        with open(self.enter_script, "w") as f:
            f.write("#!/bin/sh\n# run a command inside test host %s\nset -e\n%s"
                    "exec nsenter -t %d %s -- \"$@\"\n" % (
                        self.name, join, self.holder.pid, flags))
        os.chmod(self.enter_script, 0o755)

    # ------------------------------------------------------------ libvirt
    def start_virtlogd(self):
        if self.virtlogd_pid:
            return
        self.run(["virtlogd", "-d", "-p", self.virtlogd_pidfile], check=True)

    def start_libvirtd(self, wait=True, timeout=60):
        """Start this host's libvirtd (if not running); wait until virsh
        works."""
        if not self.libvirtd_pid:
            args = ["libvirtd", "-d", "-p", self.libvirtd_pidfile]
            if self.hs.libvirt_tcp or self.hs.libvirt_tls:
                args.append("--listen")
            self.run(args, check=True)
        if wait:
            self.wait_libvirtd(timeout)

    def wait_libvirtd(self, timeout=60):
        deadline = time.monotonic() + timeout
        last = None
        while True:
            p = self.run(["virsh", "-q", "-c", URI, "version"], timeout=timeout)
            if p.returncode == 0:
                return
            last = p.stderr.strip()
            if not self.libvirtd_pid and time.monotonic() > deadline - timeout + 5:
                raise HarnessError("%s: libvirtd is not running: %s\n--- %s:\n%s" % (
                    self.name, last, self.libvirtd_log, _tail(self.libvirtd_log)))
            if time.monotonic() > deadline:
                raise HarnessError("%s: libvirtd did not answer in %ss: %s\n--- %s:\n%s" % (
                    self.name, timeout, last, self.libvirtd_log, _tail(self.libvirtd_log)))
            time.sleep(0.1)

    def kill_libvirtd(self, sig=signal.SIGTERM, timeout=10):
        """Signal this host's libvirtd and wait until it is gone (running
        guests survive, as with a real libvirtd restart)."""
        pid = self.libvirtd_pid
        if not pid:
            return
        _kill(pid, sig)
        if _wait_gone([pid], timeout):
            raise HarnessError("%s: libvirtd %d did not exit" % (self.name, pid))

    def use_lock_manager(self, on=True):
        """Switch this host's libvirtd to libvirt's sanlock lock manager
        (qemu.conf lock_manager = "sanlock", no automatic disk leases) or
        back to none, restarting libvirtd (guests keep running). Opt-in per
        test, never the default: with it every QEMU registers with the
        host's sanlock daemon, so no VM could start while a test has that
        daemon killed. Only switch while the host runs no VM. A running
        agent is restarted (it would keep a closed libvirt connection)."""
        etc = os.path.join(self.dir, "etc")
        if on:
            _set_conf(os.path.join(etc, "qemu-sanlock.conf"), {
                "auto_disk_leases": "0", "require_lease_for_disks": "0"})
            _set_conf(os.path.join(etc, "qemu.conf"), {"lock_manager": _q("sanlock")})
        else:
            _set_conf(os.path.join(etc, "qemu.conf"), {"lock_manager": _q("nop")})
        self.kill_libvirtd()
        self.start_libvirtd()
        if self.agent_alive():  # its libvirt connection went with libvirtd
            self.kill_agent(sig=signal.SIGTERM)
            self.start_agent(wait=True)

    def set_os_release(self, text=None):
        """Give this host another operating system as its agent reads it:
        text bind-mounted over /etc/os-release in the host's own mount
        namespace (the machine's file is untouched; a symlink there is
        followed, so /usr/lib/os-release is covered too), or the machine's
        back with None. A running agent is restarted: the engine reads
        capabilities when it connects. Only while the host runs no VM."""
        if getattr(self, "_os_release_mounted", False):
            self.run(["umount", "/etc/os-release"], check=True)
            self._os_release_mounted = False
        if text is not None:
            path = os.path.join(self.dir, "os-release")
            with open(path, "w") as f:
                f.write(text)
            self.run(["mount", "--bind", path, "/etc/os-release"], check=True)
            self._os_release_mounted = True
        if self.agent_alive():
            self.kill_agent(sig=signal.SIGTERM)
            self.start_agent(wait=True)

    def destroy_all_domains(self):
        """virsh destroy every running domain (best effort, in parallel)."""
        _wait_destroys(self._start_destroys())

    def _start_destroys(self):
        if not (self.holder and self.holder.poll() is None and self.libvirtd_pid):
            return []
        try:
            names = self.domains(all=False)
        except Exception as e:
            log.warning("%s: cannot list domains: %s", self.name, e)
            return []
        # libvirt's destroy takes ~1.2 s per guest (SIGTERM, then polling)
        return [(self, d, self.popen(["virsh", "-c", URI, "destroy", d],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True))
                for d in names]

    # ------------------------------------------------------------ sanlock
    def start_sanlock(self, timeout=30):
        """Start this host's sanlock daemon (if not running) and wait until
        `sanlock client status` answers."""
        if not self.sanlock_pid:
            self.run(["env", "LD_PRELOAD=" + self.hs.sanlock_shim, "sanlock", "daemon",
                      "-w", "0", "-l", "0", "-U", "root", "-G", "root", "-e", self.name],
                     check=True)
        deadline = time.monotonic() + timeout
        while True:
            p = self.run(["sanlock", "client", "status"], timeout=timeout)
            if p.returncode == 0 and self.sanlock_pid:
                return
            if time.monotonic() > deadline:
                raise HarnessError("%s: sanlock does not answer: %s\n--- %s:\n%s" % (
                    self.name, (p.stderr or p.stdout).strip(), self.sanlock_log,
                    _tail(self.sanlock_log)))
            time.sleep(0.1)

    def kill_sanlock(self, sig=signal.SIGKILL, timeout=10):
        """Signal this host's sanlock daemon and wait until it and its
        helper process are gone (SIGKILL = the host lost its leases'
        renewer, as in a crash). The helper holds the daemon's pid-file
        lock until it exits, so a new daemon could not start before."""
        pids = [p for p in _netns_pids(self.netns) if _comm(p).startswith("sanlock")]
        if self.sanlock_pid and self.sanlock_pid not in pids:
            pids.append(self.sanlock_pid)
        for p in pids:
            _kill(p, sig)
        left = _wait_gone(pids, timeout)
        # A killed leader shows as a zombie while its other threads still
        # finish their exit (sanlock's wait for in-flight direct I/O): its
        # pid-file lock goes only with the last thread.
        deadline = time.monotonic() + timeout
        while not left and any(_threads_alive(p) for p in pids):
            if time.monotonic() > deadline:
                left = [p for p in pids if _threads_alive(p)]
                break
            time.sleep(0.05)
        if left:
            raise HarnessError("%s: sanlock %s did not exit" % (self.name, left))

    def sanlock(self, *args, timeout=60):
        """Run `sanlock client ARGS` inside this host; returns the
        CompletedProcess (sanlock prints results on stdout)."""
        return self.run(["sanlock", "client"] + [str(a) for a in args], timeout=timeout)

    # ------------------------------------------------------------ agent
    def agent_args(self):
        """The standard agent command line for this host."""
        if not self.hs.agent_cmd:
            raise HarnessError("no agent_cmd given to HostSet")
        return list(self.hs.agent_cmd) + [
            "--listen", "%s:%d" % (self.addr, self.port),
            "--ca", self.ca, "--cert", self.cert, "--key", self.key,
            "--uri", URI, "--storage-root", self.storage_root,
            "--net-state", os.path.join(self.dir, "networks.json"),
            "--job-dir", os.path.join(self.dir, "jobs"),
            "--run-dir", os.path.join(self.dir, "vireo-run")] + (
            # libvirtd listens on plain TCP only: migrations go qemu+tcp://
            # (else the default, qemu+tls://)
            ["--migration-transport", "tcp"] if self.hs.libvirt_tcp and not self.hs.libvirt_tls else [])

    def start_bmc(self, user, password):
        """Give this host a simulated BMC (harness/bmc.py): ipmi_sim on
        the bridge address whose chassis power off kills the host's agent,
        QEMUs and libvirtd, and power on starts them again. Returns its
        (address, port)."""
        with self.hs._lock:
            if self.bmc is not None and (self.bmc.user, self.bmc.password) != (user, password):
                self.bmc.stop()  # another test's credentials: a new BMC
                self.bmc = None
            if self.bmc is None:
                bmc = Bmc(self, user, password)
                bmc.start()
                self.bmc = bmc
                self.hs._start_bmc_watcher()
        return self.bmc.addr, self.bmc.port

    def start_sshd(self, authorized_keys):
        """Give this host an sshd on its address (harness/sshd.py) letting
        root in with authorized_keys, whose sessions find the harness's
        systemctl for the vireo-agent unit (harness/agentunit.py). It goes
        with the BMC's power. Returns its (address, port)."""
        with self.hs._lock:
            if self.sshd is None:
                self.agent_unit = AgentUnit(self)
                self.sshd = SshServer(authorized_keys=authorized_keys, host=self,
                                      overlays={"/usr/bin/systemctl": self.agent_unit.script})
                self.sshd.start()
                self.hs._start_bmc_watcher()
        return self.sshd.addr, self.sshd.port

    def stop_sshd(self):
        with self.hs._lock:
            if self.sshd is not None:
                self.sshd.__exit__(None, None, None)
            self.sshd = self.agent_unit = None

    def bmc_power(self):
        """"on" or "off": the power state the BMC last applied."""
        return self.bmc.applied() if self.bmc else "on"

    def start_agent(self, cmd=None, wait=False, timeout=30, env=None):
        """Start the agent inside this host (argv = agent_args() unless cmd
        is given), output appended to self.agent_log.  With wait=True, wait
        until its port accepts connections."""
        if self.agent_pid:
            raise HarnessError("%s: agent already running (pid %d)" % (self.name, self.agent_pid))
        argv = list(cmd) if cmd is not None else self.agent_args()
        with open(self.agent_log, "ab") as f:
            f.write(("=== %s starting agent: %s\n" % (
                time.strftime("%H:%M:%S"), shlex.join(argv))).encode())
            f.flush()
            self.agent = subprocess.Popen(
                self.nsenter() + argv, stdin=subprocess.DEVNULL, stdout=f,
                stderr=subprocess.STDOUT, start_new_session=True,
                env=env)
        if wait:
            self.wait_agent(timeout)
        return self.agent

    def wait_agent(self, timeout=30):
        """Wait until ADDR:PORT accepts TCP connections from the root
        namespace; raises HarnessError (with the agent's log) if the agent
        exits or the time runs out."""
        deadline = time.monotonic() + timeout
        while True:
            if self.agent is not None and self.agent.poll() is not None:
                raise HarnessError("%s: agent exited with %s:\n%s" % (
                    self.name, self.agent.returncode, _tail(self.agent_log)))
            try:
                with socket.create_connection((self.addr, self.port), timeout=1):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise HarnessError("%s: agent not listening on %s:%d after %ss:\n%s" % (
                    self.name, self.addr, self.port, timeout, _tail(self.agent_log)))
            time.sleep(0.05)

    def agent_alive(self):
        """True while the agent process started by start_agent() runs."""
        return self.agent_pid is not None

    def log_tail(self, n=60, which="agent"):
        """Last n lines of this host's agent log (or "libvirtd",
        "virtlogd", "holder" log)."""
        path = {"agent": self.agent_log, "libvirtd": self.libvirtd_log,
                "virtlogd": self.virtlogd_log,
                "holder": os.path.join(self.dir, "holder.log")}[which]
        return _tail(path, n)

    def kill_agent(self, sig=signal.SIGKILL, wait=True, timeout=10):
        """Send sig to the agent; with wait=True (default) wait for it to
        exit and return its exit status (negative = killed by signal)."""
        if not self.agent:
            return None
        if self.agent.poll() is None:
            self.agent.send_signal(sig)
        if not wait:
            return None
        try:
            return self.agent.wait(timeout)
        except subprocess.TimeoutExpired:
            raise HarnessError("%s: agent did not exit after signal %s" % (self.name, sig))

    # ------------------------------------------------------------ teardown
    def _stop(self, errors):
        if self.bmc is not None:
            self.bmc.stop()
        if self.sshd is not None:
            self.sshd.__exit__(None, None, None)
        if self.agent is not None:
            if self.agent.poll() is None:
                self.agent.terminate()
                try:
                    self.agent.wait(5)
                except subprocess.TimeoutExpired:
                    self.agent.kill()
                    try:
                        self.agent.wait(5)
                    except subprocess.TimeoutExpired:
                        errors.append("%s: agent %d does not die" % (self.name, self.agent.pid))
        for pf, comm in ((self.sanlock_pidfile, "sanlock"),
                         (self.libvirtd_pidfile, "libvirtd"),
                         (self.virtlogd_pidfile, "virtlogd")):
            pid = _read_pidfile(pf)
            if _pid_alive(pid) and _comm(pid) == comm:
                _terminate([pid])
        # anything else still in the host (qemu, stray children)
        rest = set(_netns_pids(self.netns)) if self.netns in _netns_list() else set()
        rest.update(_harness_mount_pids(self.dir + "/"))
        if self.holder is not None:
            rest.discard(self.holder.pid)
        left = _terminate(sorted(rest), timeout=3)
        if left:
            errors.append("%s: processes do not die: %s" % (self.name, left))
        if self.holder is not None:
            if self.holder.poll() is None:
                self.holder.kill()
            try:
                self.holder.wait(5)
            except subprocess.TimeoutExpired:
                errors.append("%s: holder %d does not die" % (self.name, self.holder.pid))
        if self.netns in _netns_list():
            p = _run(["ip", "netns", "del", self.netns], check=False)
            if p.returncode:
                errors.append("%s: ip netns del: %s" % (self.name, p.stderr.strip()))
        if os.path.exists("/sys/class/net/" + self.veth):
            _run(["ip", "link", "del", self.veth], check=False)
        for d in self.cgroups:
            if not _rm_cgroup_tree(d):
                errors.append("%s: cannot remove cgroup %s" % (self.name, d))


def _wait_destroys(procs, timeout=60):
    for h, dom, p in procs:
        try:
            _, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            err = "timed out"
        if p.returncode != 0:
            log.warning("%s: virsh destroy %s: %s", h.name, dom, (err or "").strip())


def _comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


class HostSet:
    """N test hosts; see the module docstring.

    Parameters:
      n          number of hosts (vh0 .. vh{n-1})
      workdir    directory for all state (created; removed by stop()).
                 Default: a new /var/tmp/vireo-hosts-XXXX.
      agent_cmd  argv prefix of the agent (list, or a string split with
                 shlex), or None to start no agent.
      pki_dir    directory with the CA and certificates; created (in
                 workdir/pki) if None.  Missing files are created with
                 scripts/pki, existing ones are kept.
      port       agent TCP port on every host (default 54321)
      subnet     first three octets of the test network (default 10.77.0)
      libvirt_tls  let each libvirtd listen on ADDR:16514 with TLS (the
                 harness CA and each host's own certificate, also for
                 QEMU's migration stream: harness/libvirt_tls.py), so the
                 agents migrate over qemu+tls:// (their default); turned
                 on in a running set by use_libvirt_tls()
      libvirt_tcp  also let each libvirtd listen on ADDR:16509, plain TCP
                 without auth (qemu+tcp:// peer-to-peer migration: agents
                 get --migration-transport tcp unless libvirt_tls)
      qemu_conf, libvirtd_conf  dicts of extra per-host settings
                 (values are written verbatim: quote strings yourself)
      keep       keep workdir after stop() (also: VIREO_HARNESS_KEEP=1)
      start_agents  start the agents in start() (default True if agent_cmd)
      lock_timeout  seconds to wait while another process runs a HostSet
                 (a machine-wide flock on /run/vireo-harness.lock)
      sanlock    run a sanlock daemon in every host (default True)
      shared_fs_mb  size of the shared ext4 on a loop device (hs.shared_dev);
                 0 for none
      extra_nics  extra NICs per host (eth1..ethK on bridges vireotest1..K,
                 see the module docstring; default 0)
      cgroups    give each host its own cgroup (v1) and cgroup namespace so
                 its libvirtd manages guest cgroups as on a real host
                 (default True; without it guests run without cgroups and
                 e.g. virsh cpu-stats fails)
    """

    def __init__(self, n=2, workdir=None, agent_cmd=None, pki_dir=None,
                 port=54321, subnet="10.77.0", libvirt_tcp=False, libvirt_tls=False,
                 qemu_conf=None, libvirtd_conf=None, keep=None,
                 start_agents=True, log_level=3, agent_timeout=30,
                 cgroups=True, lock_timeout=900, sanlock=True, shared_fs_mb=1024,
                 extra_nics=0):
        if not 1 <= n <= 200:
            raise ValueError("n must be 1..200")
        if isinstance(agent_cmd, str):
            agent_cmd = shlex.split(agent_cmd)
        self.n = n
        self.agent_cmd = list(agent_cmd) if agent_cmd else None
        self.port = port
        self.subnet = subnet
        self.libvirt_tcp = libvirt_tcp
        self.libvirt_tls = libvirt_tls
        self.qemu_conf = dict(qemu_conf or {})
        self.libvirtd_conf = dict(libvirtd_conf or {})
        if keep is None:
            keep = os.environ.get("VIREO_HARNESS_KEEP", "") not in ("", "0")
        self.keep = keep
        self.start_agents = start_agents
        self.log_level = log_level
        self.agent_timeout = agent_timeout
        self.cgroups = cgroups
        self.lock_timeout = lock_timeout
        self.use_sanlock = sanlock
        self.shared_fs_mb = shared_fs_mb
        self.extra_nics = 0           # made so far; extra_nics is made in start()
        self._want_extra_nics = extra_nics
        self.shared_dev = None        # loop device of the shared ext4
        self.shared_image = None
        self.sanlock_shim = None
        self._lockf = None
        self._workdir_arg = workdir
        self._pki_arg = pki_dir
        self.workdir = None
        self.shared_dir = None
        self.pki_dir = None
        self.hosts = []
        self._own_workdir = False
        self._remove_paths = []
        self._started = False
        self._stopped = False
        self._bridge = False
        self._lock = threading.RLock()
        self._bmc_watcher = None
        self.start_seconds = None

    def _start_bmc_watcher(self):
        if self._bmc_watcher is None:
            self._bmc_watcher = BmcWatcher(self)
            self._bmc_watcher.start()

    def __enter__(self):
        if not self._started:
            self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def __getitem__(self, i):
        return self.hosts[i]

    def __iter__(self):
        return iter(self.hosts)

    def __len__(self):
        return len(self.hosts)

    # ------------------------------------------------------------ start
    def start(self):
        if self._started:
            raise HarnessError("HostSet already started")
        if os.geteuid() != 0:
            raise HarnessError("the test harness needs root")
        for tool in ("ip", "nsenter", "unshare", "libvirtd", "virtlogd", "virsh"):
            if not shutil.which(tool):
                raise HarnessError("%s not found: run scripts/setup" % tool)
        self._started = True
        t0 = time.monotonic()
        with _registry_lock:
            for other in _registry:
                if other is not self:
                    raise HarnessError("another HostSet is running in this process; stop it first")
            _install_handlers()
            _registry.append(self)
        try:
            self._start()
        except BaseException:
            log.error("HostSet start failed; tearing down")
            self.stop()
            raise
        self.start_seconds = time.monotonic() - t0
        log.info("HostSet(%d) started in %.1fs (workdir %s)", self.n,
                 self.start_seconds, self.workdir)
        return self

    def _start(self):
        self._lockf = _acquire_lock(self.lock_timeout)
        cleanup_stale(_locked=True)
        if self._workdir_arg:
            self.workdir = os.path.abspath(self._workdir_arg)
            os.makedirs(self.workdir, exist_ok=True)
        else:
            self.workdir = tempfile.mkdtemp(prefix=WORKDIR_PREFIX, dir="/var/tmp")
            self._own_workdir = True
        os.chmod(self.workdir, 0o755)
        if _others_can_traverse(self.workdir):
            self.shared_dir = os.path.join(self.workdir, "shared")
        else:
            # the qemu user must reach guest images in shared_dir
            self.shared_dir = tempfile.mkdtemp(prefix=WORKDIR_PREFIX + "shared-", dir="/var/tmp")
        self.hosts = [Host(self, i) for i in range(self.n)]
        if self.use_sanlock:
            self.sanlock_shim = os.path.join(self.workdir, "sanlock_shim.so")
        if self.shared_fs_mb:
            self.shared_image = os.path.join(self.workdir, SHARED_IMAGE)
        # what stop() (or cleanup_stale() after a crash) removes
        if self._own_workdir:
            self._remove_paths = [self.workdir]
        else:
            self._remove_paths = [h.dir for h in self.hosts]
            self._remove_paths += [os.path.join(self.workdir, f)
                                   for f in (SHARED_IMAGE, "sanlock_shim.so")]
            if not self._pki_arg:
                self._remove_paths.append(os.path.join(self.workdir, "pki"))
        if not self.shared_dir.startswith(self.workdir + "/") or not self._own_workdir:
            self._remove_paths.append(self.shared_dir)
        state = _load_state()
        state.setdefault("workdirs", [])    # removed by cleanup_stale
        state.setdefault("scan", [])        # only searched for processes
        state["workdirs"] += self._remove_paths
        state["scan"].append(self.workdir)
        _save_state(state)
        os.makedirs(self.shared_dir, exist_ok=True)
        os.chmod(self.shared_dir, 0o755)

        self._make_pki()
        self._make_shared_storage()

        _run(["ip", "link", "add", BRIDGE, "type", "bridge"])
        self._bridge = True
        _run(["ip", "addr", "add", self.subnet + ".1/24", "dev", BRIDGE])
        _run(["ip", "link", "set", BRIDGE, "up"])

        for h in self.hosts:
            h._prepare()
            h._setup_net()
            h._start_holder()
        self.ensure_extra_nics(self._want_extra_nics)
        for h in self.hosts:
            h.start_virtlogd()
        for h in self.hosts:
            h.start_libvirtd(wait=False)
        for h in self.hosts:
            h.wait_libvirtd()
        if self.use_sanlock:
            for h in self.hosts:
                h.start_sanlock()
        if self.agent_cmd and self.start_agents:
            for h in self.hosts:
                h.start_agent()
            for h in self.hosts:
                h.wait_agent(self.agent_timeout)

    def ensure_extra_nics(self, k):
        """Give every host NICs eth1..ethK (module docstring), making only
        those that do not exist yet; safe on a running set."""
        with self._lock:
            for j in range(self.extra_nics + 1, k + 1):
                br = BRIDGE[:-1] + str(j)
                _run(["ip", "link", "add", br, "type", "bridge"])
                _run(["ip", "link", "set", br, "up"])
                self.extra_nics = j
                for h in self.hosts:
                    h._setup_extra_nic(j)

    def use_libvirt_tls(self):
        """Turn libvirt TLS on in a running set (libvirt_tls above): each
        libvirtd restarts listening with TLS (running guests survive) and
        each agent restarts to migrate over qemu+tls://. Call it before the
        test's guests start: their agents restart."""
        with self._lock:
            if self.libvirt_tls:
                return
            self.libvirt_tls = True
            for h in self.hosts:
                etc = os.path.join(h.dir, "etc")
                _set_conf(os.path.join(etc, "libvirtd.conf"), libvirt_tls.libvirtd_settings(h.addr))
                _set_conf(os.path.join(etc, "qemu.conf"), libvirt_tls.qemu_settings())
                h.kill_libvirtd()
                h.start_libvirtd()
                if self.agent_cmd and h.agent_alive():
                    h.kill_agent()
                    h.start_agent(wait=True)

    def _make_shared_storage(self):
        """The shim sanlock needs here, and the shared ext4 on a loop
        device (see the module docstring)."""
        if self.use_sanlock:
            if not shutil.which("sanlock"):
                raise HarnessError("sanlock not found: run scripts/setup")
            _run(["cc", "-shared", "-fPIC", "-O2", "-o", self.sanlock_shim,
                  SANLOCK_SHIM_SRC, "-ldl"])
        if not self.shared_fs_mb:
            return
        with open(self.shared_image, "wb") as f:
            f.truncate(self.shared_fs_mb * 1024 * 1024)
        _run(["mkfs.ext4", "-q", "-F", "-E", "nodiscard,lazy_itable_init=1",
              "-L", "vireo-shared", self.shared_image])
        self.shared_dev = _run(["losetup", "-f", "--show", self.shared_image]).stdout.strip()
        state = _load_state()
        state.setdefault("loops", []).append(self.shared_image)
        _save_state(state)

    def _drop_shared_storage(self, errors):
        if not self.shared_image:
            return
        for dev in _loops_of(self.shared_image):
            p = _run(["losetup", "-d", dev], check=False)
            if p.returncode:
                errors.append("losetup -d %s: %s" % (dev, p.stderr.strip()))
        state = _load_state()
        state["loops"] = [f for f in state.get("loops", []) if f != self.shared_image]
        _save_state(state)

    def _make_pki(self):
        if self._pki_arg:
            self.pki_dir = os.path.abspath(self._pki_arg)
        else:
            self.pki_dir = os.path.join(self.workdir, "pki")
        os.makedirs(self.pki_dir, exist_ok=True)
        d = self.pki_dir

        def pki(*args, env=None):
            e = dict(os.environ)
            e.update(env or {})
            _run(["bash", PKI_SCRIPT] + list(args), env=e)

        def need(*names):
            return not all(os.path.exists(os.path.join(d, x)) for x in names)

        pki("init", d)
        if need("engine.crt", "engine.key"):
            pki("issue", d, "engine")
        for h in self.hosts:
            if need(h.name + ".crt", h.name + ".key"):
                pki("issue", d, h.name, "--ip", h.addr)
        # A second, unrelated CA.  Its leaf certificate looks like a
        # perfectly good engine *and* host certificate (CN=engine, SANs of
        # every host name and address); only the signature chain is wrong.
        if need("rogue-ca.crt", "rogue.crt", "rogue.key"):
            rd = os.path.join(d, "rogue")
            pki("init", rd, env={"PKI_CA_CN": "Vireo Rogue CA"})
            args = ["issue", rd, "engine"]
            for h in self.hosts:
                args += ["--ip", h.addr, "--dns", h.name]
            pki(*args)
            shutil.copy2(os.path.join(rd, "ca.crt"), os.path.join(d, "rogue-ca.crt"))
            shutil.copy2(os.path.join(rd, "engine.crt"), os.path.join(d, "rogue.crt"))
            shutil.copy2(os.path.join(rd, "engine.key"), os.path.join(d, "rogue.key"))
            os.chmod(os.path.join(d, "rogue.key"), 0o600)

    # ------------------------------------------------------------ stop
    def stop(self):
        """Tear everything down; safe to call more than once and after a
        failed start.  Raises HarnessError if something could not be
        removed (after trying everything)."""
        with self._lock:
            if not self._started or self._stopped:
                return
            self._stopped = True
            if self._bmc_watcher is not None:
                self._bmc_watcher.stopping.set()
                self._bmc_watcher.join(30)
            if self._lockf is None:
                # start() failed before it owned the machine: nothing of
                # ours to tear down, and the namespaces/bridge that exist
                # belong to another run
                with _registry_lock:
                    if self in _registry:
                        _registry.remove(self)
                return
            errors = []
            # first destroy all guests through libvirt, all at once
            procs = []
            for h in self.hosts:
                try:
                    procs += h._start_destroys()
                except Exception as e:
                    errors.append("%s: destroy domains: %s" % (h.name, e))
            _wait_destroys(procs)
            for h in self.hosts:
                try:
                    h._stop(errors)
                except Exception as e:
                    errors.append("%s: %s" % (h.name, e))
            # final sweep: anything still in one of our mount namespaces
            if self.workdir:
                left = _terminate(_harness_mount_pids(self.workdir + "/"), timeout=3)
                if left:
                    errors.append("processes do not die: %s" % left)
            self._drop_shared_storage(errors)
            for j in range(1, self.extra_nics + 1):
                _run(["ip", "link", "del", BRIDGE[:-1] + str(j)], check=False)
            if self._bridge:
                p = _run(["ip", "link", "del", BRIDGE], check=False)
                if p.returncode and os.path.exists("/sys/class/net/" + BRIDGE):
                    errors.append("ip link del %s: %s" % (BRIDGE, p.stderr.strip()))
            if self.workdir:
                _umount_under(self.workdir)
            if not self.keep:
                for d in self._remove_paths:
                    _rmtree(d)
            else:
                log.warning("keeping harness workdir %s", self.workdir)
            try:
                state = _load_state()
                state["workdirs"] = [w for w in state.get("workdirs", [])
                                     if w not in self._remove_paths]
                state["scan"] = [w for w in state.get("scan", []) if w != self.workdir]
                _save_state(state)
            except OSError:
                pass
            with _registry_lock:
                if self in _registry:
                    _registry.remove(self)
            _release_lock(self._lockf)
            self._lockf = None
            if errors:
                raise HarnessError("HostSet teardown problems:\n  " + "\n  ".join(errors))
