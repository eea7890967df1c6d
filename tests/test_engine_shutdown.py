"""Stopping vireo-engine with SIGTERM: the HTTP server, the host monitors
and job threads end before the database is closed, everything is freed,
the exit status is 0 and comes promptly, and the log has no sanitizer or
LeakSanitizer report (these engines run with leak detection on, which the
runner turns off for daemons). docs/architecture.md, "Stopping"."""

import http.client
import signal
import threading
import time

from harness.engine import Engine

PROMPT_S = 15  # generous: an orderly stop takes well under a second here


def stop_clean(eng, what):
    """SIGTERM; asserts status 0 within PROMPT_S and a clean log."""
    t0 = time.monotonic()
    rc = eng.stop(signal.SIGTERM, timeout=PROMPT_S)
    secs = time.monotonic() - t0
    log = eng.log_text()
    assert rc == 0, f"{what}: exit status {rc} on SIGTERM after {secs:.1f}s\n{eng.log_tail(80)}"
    rep = eng.sanitizer_report()
    assert not rep, f"{what}: sanitizer report at exit:\n{rep}"
    assert log.rstrip().endswith("info: stopped"), f"{what}: no orderly stop\n{eng.log_tail(30)}"
    return secs


class Hammer:
    """Threads sending requests until told to stop; counts what came back.
    Connection errors are expected once the engine goes away, hangs are
    not (each request has a timeout)."""

    def __init__(self, eng, n=6):
        self.eng, self.stop, self.answers, self.errors = eng, threading.Event(), 0, 0
        self.unexpected = []
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True)
                        for i in range(n)]
        for t in self.threads:
            t.start()

    def run(self, i):
        k = 0
        while not self.stop.is_set():
            k += 1
            try:
                if i % 3 == 0:
                    r = self.eng.request("POST", "/api/datacenters", {"name": f"h{i}-{k}"},
                                         timeout=20)
                elif i % 3 == 1:
                    r = self.eng.request("GET", "/api/vms", params={"search": "name=*"},
                                         timeout=20)
                else:
                    r = self.eng.request("POST", "/api/sso/token", {
                        "grant_type": "password", "username": f"nobody{i}@internal",
                        "password": "wrong-password"}, token=None, timeout=20)
                self.answers += 1
                if r.status >= 500:
                    self.unexpected.append(r)
            except (OSError, http.client.HTTPException):
                self.errors += 1
                time.sleep(0.05)

    def join(self):
        self.stop.set()
        for t in self.threads:
            t.join(30)
        assert not any(t.is_alive() for t in self.threads), "a client hung on the stopping engine"


def test_sigterm_is_clean_and_prompt(ctx):
    """An engine that served requests of every kind (logins, failed logins,
    writes, lists, refusals) stops cleanly, and again after a restart."""
    with Engine(ctx, leak_check=True) as eng:
        dc = eng.create_dc("s-dc")
        eng.create_cluster("s-cl", dc["id"])
        eng.login(set_token=False)
        assert eng.request("POST", "/api/sso/token", {"grant_type": "password",
                                                      "username": "x@internal",
                                                      "password": "nope-nope"},
                           token=None).status == 401
        assert eng.request("GET", "/api/nosuch").status == 404
        assert eng.request("GET", "/api/%FF").status == 400
        assert eng.request("CONNECT", "/api").status == 405
        assert eng.list("events")["total"] > 0
        secs = stop_clean(eng, "idle engine")
        assert secs < PROMPT_S
        eng.start()
        assert eng.get(dc["href"])["name"] == "s-dc"
        stop_clean(eng, "restarted engine")


def test_sigterm_under_load_with_monitors_and_a_start_in_flight(ctx):
    """Both harness hosts monitored, clients busy, a VM start job just
    accepted: SIGTERM still ends in an orderly, leak-free exit; the job is
    finished or resumed by the next start, never lost."""
    with Engine(ctx, leak_check=True) as eng:
        dc = eng.create_dc("dc1")
        cl = eng.create_cluster("cl1", dc["id"])
        hosts = [eng.create_host(h.name, h.addr, cl["id"], port=h.port) for h in ctx.hs.hosts]
        for h in hosts:
            eng.wait_status("hosts", h["id"], "up", timeout=30)
        spec = ctx.vm_spec("sd-vm")
        vm = eng.create_vm("sd-vm", cl["id"], memory_mib=spec["memory_mib"], boot=spec["boot"],
                           disks=spec["disks"])
        hammer = Hammer(eng)
        time.sleep(1.0)
        job = eng.start_vm(vm["id"])
        stop_clean(eng, "engine with monitors, clients and a start job")
        hammer.join()
        assert hammer.answers > 0, "the clients got no answer before the stop"
        assert not hammer.unexpected, hammer.unexpected[:5]
        log = eng.log_text()
        assert "stopping (signal 15)" in log, eng.log_tail(30)
        # The accepted start is not lost: finished before the stop, or
        # resumed now.
        eng.start()
        got = eng.wait_job(job, timeout=90)
        assert got["status"] == "finished", f"start job after the restart: {got}\n{eng.log_tail(40)}"
        eng.wait_status("vms", vm["id"], "up", timeout=60)
        # Stop again with a VM up and its host's events streaming.
        stop_clean(eng, "engine with a running VM")
        eng.start()
        r = eng.request("POST", f"/api/vms/{vm['id']}/stop")
        assert r.status in (200, 202), r  # a job where stopping is a long operation
        eng.wait_status("vms", vm["id"], "down", timeout=60)
