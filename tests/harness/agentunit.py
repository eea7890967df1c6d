"""The harness hosts' stand-in for the ``vireo-agent`` systemd unit, for
soft fencing (docs/fencing.md "Soft fencing"): the engine logs in to a
host over SSH and runs ``systemctl restart vireo-agent.service``, as on a
real host.

A harness host's sshd (``Host.start_sshd``, harness/sshd.py) has this
module's ``systemctl`` script bind-mounted over /usr/bin/systemctl in its
own mount namespace (nothing else on the machine sees it). The script
knows one thing, ``restart vireo-agent[.service]``: it appends a request
to the unit's ``requests`` file and waits (up to 120 s) for its answer;
the HostSet's watcher thread (harness/bmc.py BmcWatcher) restarts the
host's agent the way systemd does - SIGTERM and SIGCONT (so a stopped
process handles it), SIGKILL after 10 s, then the same command line again
- waits until it listens, and answers with the exit status. Any other
unit or verb fails as systemctl would (exit 5 / 1).

    h.start_sshd([engine_pubkey])     # sshd and the unit
    h.agent_unit.restarts             # restarts done so far
"""

import logging
import os
import signal
import subprocess

log = logging.getLogger("vireo.harness")

SYSTEMCTL = """#!/bin/sh
# vireo test harness: systemctl of a harness host, for its vireo-agent unit only
dir=%(dir)s
case "$1" in
restart|try-restart|reload-or-restart) ;;
*) echo "harness systemctl: only 'restart vireo-agent' is provided" >&2; exit 1 ;;
esac
case "$2" in
vireo-agent|vireo-agent.service) ;;
*) echo "Unit $2 not found." >&2; exit 5 ;;
esac
id=$$.$(date +%%s%%N)
echo "$id" >> "$dir/requests"
i=0
while [ $i -lt 1200 ]; do
    if [ -f "$dir/done.$id" ]; then
        rc=$(cat "$dir/done.$id"); rm -f "$dir/done.$id"; exit "$rc"
    fi
    sleep 0.1; i=$((i + 1))
done
echo "Job for vireo-agent.service timed out." >&2
exit 1
"""


class AgentUnit:
    """The vireo-agent "unit" of one harness Host (see the module docstring)."""

    def __init__(self, host):
        self.host = host
        self.dir = os.path.join(host.dir, "agent-unit")
        os.makedirs(self.dir, exist_ok=True)
        self.script = os.path.join(self.dir, "systemctl")
        with open(self.script, "w") as f:
            f.write(SYSTEMCTL % {"dir": self.dir})
        os.chmod(self.script, 0o755)
        open(os.path.join(self.dir, "requests"), "a").close()
        self._done = len(self._requests())
        self.restarts = 0

    def _requests(self):
        with open(os.path.join(self.dir, "requests")) as f:
            return f.read().split()

    def apply_pending(self):
        """Carry out the restart requests not answered yet, in order."""
        for rid in self._requests()[self._done:]:
            self._done += 1
            rc = 0
            try:
                self._restart()
            except Exception:
                log.exception("agent unit of %s: restart failed", self.host.name)
                rc = 1
            with open(os.path.join(self.dir, "done.%s.tmp" % rid), "w") as f:
                f.write("%d\n" % rc)
            os.rename(os.path.join(self.dir, "done.%s.tmp" % rid), os.path.join(self.dir, "done.%s" % rid))

    def _restart(self):
        h = self.host
        log.info("agent unit of %s: restart", h.name)
        if h.agent is not None and h.agent.poll() is None:
            h.agent.send_signal(signal.SIGTERM)
            h.agent.send_signal(signal.SIGCONT)
            try:
                h.agent.wait(10)
            except subprocess.TimeoutExpired:
                h.agent.kill()
                h.agent.wait(10)
        h.start_agent(wait=True)
        self.restarts += 1
