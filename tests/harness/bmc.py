"""A simulated BMC per harness host: ``ipmi_sim`` (Debian's openipmi)
answering IPMI over LAN on the test bridge's address (10.77.0.1, port
9100+N for host vhN), which every host's namespace reaches, so a proxy
host's ``fence_ipmilan`` can drive it (docs/fencing.md).

Chassis power goes through ipmi_sim's ``chassis_control`` hook: a small
script that records the requested state (``power``) and appends it to
``requests``; a watcher thread of the HostSet applies each request in
order to the host:

* power off: SIGKILL the host's agent, its QEMUs and its libvirtd (its
  namespaces, virtlogd and sanlock stay: the "hardware" is still there);
* power on: start libvirtd and the agent again.

A host's sshd (``Host.start_sshd``) goes with its power: stopped at power
off, started again at power on. The same watcher thread serves the hosts'
agent units (harness/agentunit.py).

``applied`` says what the host is now. Usage::

    addr, port = hs.hosts[1].start_bmc("admin", "secret")
    ... fence_ipmilan -a addr -u port ...
    hs.hosts[1].bmc_power()   # "on" or "off", as applied

ipmi_sim runs in the root namespace; its command line names the host's
directory, so HostSet.stop() and cleanup_stale() find it."""

import logging
import os
import signal
import subprocess
import threading
import time

log = logging.getLogger("vireo.harness")

BMC_PORT_BASE = 9100

POWER_SCRIPT = """#!/bin/sh
# ipmi_sim chassis_control hook: DEV get PARM... | DEV set PARM VAL...
dir=$(dirname "$0")
dev=$1; op=$2; shift 2
if [ "$op" = get ]; then
    for p in "$@"; do
        case $p in
        power) echo "power:$(cat "$dir/power")" ;;
        boot) echo "boot:default" ;;
        esac
    done
    exit 0
fi
while [ $# -ge 2 ]; do
    case $1 in
    power) echo "$2" > "$dir/power.tmp" && mv "$dir/power.tmp" "$dir/power"; echo "$2" >> "$dir/requests" ;;
    esac
    shift 2
done
"""

EMU = """mc_setbmc 0x20
mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr
sel_enable 0x20 1000 0x0a
mc_enable 0x20
"""


def _lan_conf(name, addr, port, script, user, password):
    auths = "none md2 md5 straight"
    return "\n".join([
        'name "%s"' % name,
        "set_working_mc 0x20",
        "  startlan 1",
        "    addr %s %d" % (addr, port),
        "    priv_limit admin",
        "    allowed_auths_callback " + auths,
        "    allowed_auths_user " + auths,
        "    allowed_auths_operator " + auths,
        "    allowed_auths_admin " + auths,
        "    guid a123456789abcdefa123456789abcdef",
        "  endlan",
        '  chassis_control "%s 0x20"' % script,
        '  user 2 true "%s" "%s" admin 10 %s' % (user, password, auths),
        ""])


def bmc_pids(prefix):
    """ipmi_sim processes whose command line names a path under prefix."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and os.path.basename(argv[0]) == b"ipmi_sim" and \
                any(a.startswith(prefix.encode()) for a in argv):
            out.append(int(d))
    return out


class Bmc:
    """The BMC of one Host (see the module docstring)."""

    def __init__(self, host, user, password):
        self.host = host
        self.user, self.password = user, password
        self.dir = os.path.join(host.dir, "bmc")
        self.addr = host.hs.subnet + ".1"
        self.port = BMC_PORT_BASE + host.index
        self.proc = None
        self._done = 0  # requests applied so far
        os.makedirs(os.path.join(self.dir, "state"), exist_ok=True)
        script = os.path.join(self.dir, "power.sh")
        with open(script, "w") as f:
            f.write(POWER_SCRIPT)
        os.chmod(script, 0o755)
        for name, text in (("power", "1\n"), ("applied", "1\n"), ("requests", ""), ("sim.emu", EMU),
                           ("lan.conf", _lan_conf(host.name, self.addr, self.port, script, user, password))):
            with open(os.path.join(self.dir, name), "w") as f:
                f.write(text)
        os.chmod(os.path.join(self.dir, "lan.conf"), 0o600)

    def start(self):
        logf = open(os.path.join(self.dir, "ipmi_sim.log"), "ab")
        self.proc = subprocess.Popen(
            ["ipmi_sim", "-n", "-c", os.path.join(self.dir, "lan.conf"), "-f", os.path.join(self.dir, "sim.emu"),
             "-s", os.path.join(self.dir, "state")],
            stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
        logf.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # listening once ipmitool gets an answer
            p = subprocess.run(["ipmitool", "-I", "lan", "-H", self.addr, "-p", str(self.port), "-U", "nobody",
                                "-P", "x", "-N", "1", "-R", "1", "mc", "info"], capture_output=True)
            if b"invalid user" in p.stderr.lower():  # an answer: it listens
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.3)
        raise RuntimeError("ipmi_sim of %s did not start: %s" % (self.host.name, open(
            os.path.join(self.dir, "ipmi_sim.log"), errors="replace").read()[-2000:]))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None

    def press_power(self, on):
        """As if someone pressed the chassis power button (what the
        chassis_control hook does for an IPMI power command)."""
        v = "1" if on else "0"
        with open(os.path.join(self.dir, "power"), "w") as f:
            f.write(v + "\n")
        with open(os.path.join(self.dir, "requests"), "a") as f:
            f.write(v + "\n")

    def applied(self):
        with open(os.path.join(self.dir, "applied")) as f:
            return "on" if f.read().strip() == "1" else "off"

    def apply_pending(self):
        """Carry out the power requests not applied yet, in order."""
        with open(os.path.join(self.dir, "requests")) as f:
            reqs = f.read().split()
        for want in reqs[self._done:]:
            self._done += 1
            on = want == "1"
            if on == (self.applied() == "on"):
                continue
            h = self.host
            log.info("BMC of %s: power %s", h.name, "on" if on else "off")
            if on:
                h.start_libvirtd()
                if h.hs.agent_cmd:
                    h.start_agent(wait=True)
                if h.sshd is not None:  # a machine that is on answers SSH again
                    h.sshd.start()
            else:
                if h.sshd is not None:
                    h.sshd.stop()
                h.kill_agent(signal.SIGKILL)
                for pid in h.qemu_pids():
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
                h.kill_libvirtd(signal.SIGKILL)
            with open(os.path.join(self.dir, "applied"), "w") as f:
                f.write("1\n" if on else "0\n")


class BmcWatcher(threading.Thread):
    """Applies the power requests of every started BMC of a HostSet."""

    def __init__(self, hs):
        super().__init__(daemon=True, name="bmc-watcher")
        self.hs = hs
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.wait(0.2):
            for h in self.hs.hosts:
                for dev in (h.bmc, h.agent_unit):  # agent_unit: harness/agentunit.py
                    if dev is None:
                        continue
                    try:
                        dev.apply_pending()
                    except Exception:  # keep serving the other hosts; the test sees the host stay off
                        log.exception("%s: applying a request failed", h.name)
