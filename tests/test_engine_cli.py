"""The vireo CLI against a real engine and the harness hosts: login, the
inventory verbs, --sortby, a VM started with --wait, its NICs and disks hot
plugged and unplugged, a vCPU hot added and its balloon set (each a job
waited for), paused, resumed, shut down and stopped, jobs shown and
cancelled, events, --json, and the exit codes of errors (1: the server
refused, 2: usage, 3: cannot reach the server). Job endings the real engine
cannot be made to produce on cue (cancelled, a job outlasting --timeout)
come from a scripted stand-in engine."""

import http.server
import json
import os
import re
import ssl
import subprocess
import tempfile
import threading
import time

from harness.engine import Engine, ensure_api_cert, free_port
from harness.context import one_backend


class Cli:
    def __init__(self, ctx, eng):
        self.bin = ctx.cli
        self.env = dict(os.environ, VIREO_CONFIG_DIR=tempfile.mkdtemp(prefix="vireo-cli-"))
        self.eng = eng

    def run(self, *args, expect=0, stdin=None):
        p = subprocess.run([self.bin, *args], capture_output=True, text=True, env=self.env,
                           input=stdin, timeout=120)
        assert p.returncode == expect, (f"vireo {' '.join(args)}: exit {p.returncode}, "
                                        f"expected {expect}\n{p.stdout}\n{p.stderr}\n"
                                        f"{self.eng.log_tail(20) if self.eng else ''}")
        return p

    def json(self, *args):
        return json.loads(self.run(*args, "--json").stdout)

    def wait_job(self, job_id, timeout=60):
        deadline = time.monotonic() + timeout
        while (job := self.json("job", "show", job_id))["status"] in ("pending", "running"):
            assert time.monotonic() < deadline, job
            time.sleep(0.3)
        return job


def dead_engine_cli(ctx, eng):
    """A CLI whose session names an engine that is not there: any request
    it makes exits 3, so an exit 2 proves nothing was sent."""
    cli = Cli(ctx, eng)
    path = os.path.join(cli.env["VIREO_CONFIG_DIR"], "session.json")
    with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        json.dump({"url": f"https://127.0.0.1:{free_port()}", "token": "t0k", "ca": eng.ca,
                   "user": "x"}, f)
    return cli


USAGE_ERRORS = [
    ("vm", "nic-add"),                                         # no VM
    ("vm", "nic-add", "cli-vm", "--path", "/x.img"),          # a disk's option
    ("vm", "nic-remove", "cli-vm"),                            # no MAC
    ("vm", "nic-update", "cli-vm", "56:6f:00:00:00:01"),       # nothing to change
    ("vm", "nic-update", "cli-vm", "56:6f:00:00:00:01", "--linked", "maybe"),
    ("vm", "nic-update", "cli-vm", "56:6f:00:00:00:01", "--model", "e1000"),  # not a change's option
    ("vm", "disk-add", "cli-vm", "--serial", "S1"),            # no --path
    ("vm", "disk-add", "cli-vm", "--path", "/x", "--total-bytes-sec", "lots"),
    ("vm", "disk-add", "cli-vm", "--path", "/x", "--readonly=yes"),
    ("vm", "disk-iotune", "cli-vm", "vda"),                    # no limit
    ("vm", "disk-iotune", "cli-vm", "vda", "--read-iops-sec", "-1"),
    ("vm", "set-vcpus", "cli-vm", "two"),
    ("vm", "set-vcpus", "cli-vm", "2", "3"),
    ("vm", "balloon", "cli-vm"),
    ("vm", "balloon", "cli-vm", "0"),
    ("vm", "stop", "cli-vm", "--bridge", "br0"),
    ("vm", "stop", "cli-vm", "--timeout", "0"),
    ("vm", "list", "--sortby", "name;drop"),
    ("job", "cancel"),
    ("job", "cancel", "x", "--wait"),                          # cancel is not a job itself
    ("host", "deactivate", "h1", "--bridge", "br0"),          # a VM's option
    ("host", "deactivate", "h1", "--timeout", "0"),           # maintenance is a job: as a VM's
    ("events", "--follow", "--sortby", "id"),
]


@one_backend
def test_cli_end_to_end(ctx):
    with Engine(ctx, login=False) as eng:
        cli = Cli(ctx, eng)
        url = f"https://127.0.0.1:{eng.port}"
        # Not logged in yet; wrong password; then a session file only we can read.
        cli.run("vm", "list", expect=1)
        p = cli.run("login", "--url", url, "--ca", eng.ca, "--password-file", "-", expect=1,
                    stdin="wrong-password\n")
        assert "401" in p.stderr
        cli.run("login", "--url", url, "--ca", eng.ca, "--password-file", eng.password_file)
        session = os.path.join(cli.env["VIREO_CONFIG_DIR"], "session.json")
        assert oct(os.stat(session).st_mode & 0o777) == "0o600"
        # Inventory through the CLI, checked through the API.
        cli.run("datacenter", "create", "--name", "cli-dc")
        cli.run("cluster", "create", "--name", "cli-cl", "--datacenter", "cli-dc")
        for h in ctx.hs.hosts:
            cli.run("host", "create", "--name", h.name, "--address", h.addr, "--port", str(h.port),
                    "--cluster", "cli-cl")
        deadline = time.monotonic() + 30
        while len(cli.json("host", "list", "--search", "status=up")["hosts"]) < 2:
            assert time.monotonic() < deadline, "hosts never came up"
            time.sleep(0.5)
        table = cli.run("host", "list").stdout
        assert "NAME" in table and "up" in table and ctx.hs.hosts[0].name in table
        # --sortby: ascending, '-' descending; a field the list does not sort by is the server's 400.
        names = sorted(h.name for h in ctx.hs.hosts)
        assert [h["name"] for h in cli.json("host", "list", "--sortby", "name")["hosts"]] == names
        assert [h["name"] for h in cli.json("host", "list", "--sortby", "-name")["hosts"]] == names[::-1]
        assert cli.run("host", "list", "--sortby", "-name").stdout.index(names[-1]) < \
            cli.run("host", "list", "--sortby", "-name").stdout.index(names[0])
        p = cli.run("host", "list", "--sortby", "memory_mib", expect=1)
        assert "400" in p.stderr and "memory_mib" in p.stderr, p.stderr
        # A name with a quote is refused with the API's message, exit 1.
        p = cli.run("datacenter", "create", "--name", "bad'name", expect=1)
        assert "400" in p.stderr and "name must be" in p.stderr
        # Usage errors never reach the server.
        cli.run("vm", "create", "--name", "x", expect=2)
        cli.run("frobnicate", expect=2)
        # A VM defined, started and waited for, its console seen on its host.
        spec = ctx.vm_spec("cli-vm")
        cli.run("vm", "create", "--name", "cli-vm", "--cluster", "cli-cl", "--memory", "256", "--max-vcpus", "2",
                "--kernel", spec["boot"]["kernel"], "--initrd", spec["boot"]["initrd"],
                "--cmdline", spec["boot"]["cmdline"], "--disk", spec["disks"][0]["path"] + ",ro",
                "--nic", "user")
        # update: PUT of what is given; usage errors stay local.
        up = cli.json("vm", "update", "cli-vm", "--memory", "300", "--description", "resized")
        assert (up["memory_mib"], up["description"], up["name"]) == (300, "resized", "cli-vm"), up
        assert cli.json("vm", "show", "cli-vm")["memory_mib"] == 300
        # A boot option changes that field only (the kernel and initrd stay).
        up = cli.json("vm", "update", "cli-vm", "--cmdline", spec["boot"]["cmdline"] + " quiet")
        assert up["boot"] == dict(spec["boot"], cmdline=spec["boot"]["cmdline"] + " quiet"), up
        cli.run("vm", "update", "cli-vm", "--cmdline", spec["boot"]["cmdline"])
        cli.run("vm", "update", "cli-vm", expect=2)                        # nothing to change
        cli.run("vm", "update", "cli-vm", "--address", "x", expect=2)      # not a VM option
        p = cli.run("vm", "update", "cli-vm", "--memory", "8", expect=1)   # the API says no
        assert "400" in p.stderr
        cli.run("cluster", "update", "cli-cl", "--cpu-type", "qemu64")
        mig = cli.json("cluster", "update", "cli-cl", "--migration-policy", "suspend_workload",
                       "--migration-downtime", "600", "--migration-step", "5",
                       "--migration-stall-timeout", "90", "--migration-max-outgoing", "3",
                       "--migration-max-incoming", "4")["migration_policy"]
        assert (mig["policy"], mig["max_downtime_ms"], mig["bandwidth_mibps"], mig["convergence_step_s"],
                mig["stall_timeout_s"], mig["max_outgoing"], mig["max_incoming"]) == \
            ("suspend_workload", 600, 52, 5, 90, 3, 4), mig
        cli.run("cluster", "update", "cli-cl", "--migration-bandwidth", "fast", expect=2)
        p = cli.run("cluster", "update", "cli-cl", "--migration-policy", "warp", expect=1)
        assert "migration_policy.policy" in p.stderr, p.stderr
        # events --follow prints new events as they are recorded, oldest first.
        follow = subprocess.Popen([cli.bin, "events", "--follow", "--max", "1", "--json"],
                                  stdout=subprocess.PIPE, text=True, env=cli.env)
        vm = cli.json("vm", "start", "cli-vm", "--wait")
        assert vm["status"] in ("poweringup", "up") and vm["host"], vm
        assert vm["nics"][0]["mac"].startswith("56:6f:")
        i = [h.name for h in ctx.hs.hosts].index(vm["host"])
        c = ctx.client(i)
        ctx.wait_console(c, vm["id"], "VIREO-GUEST-READY")
        time.sleep(1.5)  # the follower prints what its long poll brought
        follow.terminate()
        out, _ = follow.communicate(timeout=10)
        assert follow.returncode == 0, out
        followed = [json.loads(line) for line in out.splitlines()]
        ids = [e["id"] for e in followed]
        assert ids == sorted(set(ids)), ids  # in order, none twice
        assert any("scheduler placed VM 'cli-vm'" in e["message"] for e in followed), followed
        assert any("started on host" in e["message"] for e in followed), followed
        assert "cli-vm" in cli.run("vm", "list").stdout
        cli.run("vm", "start", "cli-vm", expect=1)  # already running: 409
        running_vm_devices(ctx, cli, c, vm)
        # Usage errors are caught before any request; an unknown VM is refused (1).
        dead = dead_engine_cli(ctx, eng)
        dead.run("vm", "nic-list", "cli-vm", expect=3)  # the control: it would have tried
        for args in USAGE_ERRORS:
            dead.run(*args, expect=2)
        for args in (("vm", "nic-list", "no-such-vm"), ("vm", "stop", "no-such-vm", "--wait"),
                     ("vm", "set-vcpus", "no-such-vm", "2"), ("vm", "balloon", "no-such-vm", "64"),
                     ("vm", "disk-remove", "no-such-vm", "vda", "--wait")):
            p = cli.run(*args, expect=1)
            assert "no vm named 'no-such-vm'" in p.stderr, (args, p.stderr)
        # A change that cannot apply live waits for the next start.
        assert cli.json("vm", "update", "cli-vm", "--memory", "320")["pending_changes"] == ["memory_mib"]
        # Without --wait an action prints its job's reference.
        p = cli.run("vm", "shutdown", "cli-vm")
        job_id = re.search(r"^id: (\S+)$", p.stdout, re.M).group(1)
        assert f"href: /api/jobs/{job_id}" in p.stdout, p.stdout
        assert cli.wait_job(job_id)["status"] == "finished"
        deadline = time.monotonic() + 60
        while cli.json("vm", "show", "cli-vm")["status"] != "down":
            assert time.monotonic() < deadline, "VM never went down"
            time.sleep(0.5)
        assert "VIREO-POWEROFF" in ctx.console(c, vm["id"])
        # An ended job cannot be cancelled (409); an unknown one is 404.
        p = cli.run("job", "cancel", job_id, expect=1)
        assert "409" in p.stderr, p.stderr
        p = cli.run("job", "cancel", "no-such-job", expect=1)
        assert "404" in p.stderr, p.stderr
        jobs = cli.json("job", "list", "--sortby", "-created_at", "--max", "1000")["jobs"]
        assert [j["created_at"] for j in jobs] == sorted((j["created_at"] for j in jobs), reverse=True)
        assert job_id in [j["id"] for j in jobs if j["created_at"] == jobs[0]["created_at"]], jobs[:3]
        # Started again with what was pending; stop --wait prints the VM down.
        vm2 = cli.json("vm", "start", "cli-vm", "--wait")
        assert vm2["pending_changes"] == [] and vm2["memory_mib"] == 320, vm2
        down = cli.json("vm", "stop", "cli-vm", "--wait")
        assert down["status"] == "down" and down.get("host") is None, down
        assert cli.json("job", "list", "--search", "action=stop")["jobs"][0]["status"] == "finished"
        events = cli.json("events", "--max", "50")["events"]
        msgs = [e["message"] for e in events]
        assert any("scheduler placed VM 'cli-vm'" in m for m in msgs), msgs
        assert "SEVERITY" in cli.run("events", "--max", "5").stdout
        cli.run("vm", "delete", "cli-vm")
        cli.run("vm", "show", "cli-vm", expect=1)
        # Logout revokes the token; afterwards the CLI asks for a login.
        cli.run("logout")
        cli.run("vm", "list", expect=1)
    # The engine is gone: a stale session cannot reach it (exit 3).
    cli.run("login", "--url", url, "--ca", eng.ca, "--password-file", "-", expect=3,
            stdin=eng.admin_password + "\n")


def wait_up_again(cli, timeout=30):
    """While libvirt waits for the guest to release an unplugged device the
    agent's health check may call the VM not responding for a moment (see
    the agent's vm_health.c); device changes are refused (409) until it is
    up again."""
    deadline = time.monotonic() + timeout
    while (st := cli.json("vm", "show", "cli-vm")["status"]) != "up":
        assert time.monotonic() < deadline, st
        time.sleep(0.3)


def running_vm_devices(ctx, cli, c, vm):
    """NICs and disks of the running cli-vm plugged and unplugged, its I/O
    limits, vCPUs and balloon changed: each a job that --wait waits for,
    seen through the CLI, on the host and in the guest."""
    vid = vm["id"]
    first_mac = vm["nics"][0]["mac"]
    assert [n["mac"] for n in cli.json("vm", "nic-list", "cli-vm")["nics"]] == [first_mac]
    assert first_mac in cli.run("vm", "nic-list", "cli-vm").stdout
    nic = cli.json("vm", "nic-add", "cli-vm", "--model", "virtio", "--wait")
    hot_mac = nic["mac"]
    assert nic["id"] == hot_mac != first_mac and hot_mac.startswith("56:6f:"), nic
    assert [n["mac"] for n in cli.json("vm", "nic-list", "cli-vm")["nics"]] == [first_mac, hot_mac]
    assert hot_mac in [d.get("mac") for d in c.call("VM.get", uuid=vid)["devices"]]
    ctx.wait_console(c, vid, "VIREO-NICS eth0 eth1", send="nics\n")
    path = ctx.scratch_disk("cli-hot1.img")
    disk = cli.json("vm", "disk-add", "cli-vm", "--path", path, "--serial", "CLI1", "--wait")
    assert (disk["target"], disk["path"], disk["serial"]) == ("vdb", path, "CLI1"), disk
    assert [d["target"] for d in cli.json("vm", "disk-list", "cli-vm")["disks"]] == ["vda", "vdb"]
    table = cli.run("vm", "disk-list", "cli-vm").stdout
    assert "TARGET" in table and path in table, table
    ctx.wait_console(c, vid, "vdb", send="disks\n")
    # Without --wait: the job's reference; the job then seen with 'job show'.
    p = cli.run("vm", "disk-iotune", "cli-vm", "vdb", "--total-bytes-sec", "1048576")
    job_id = re.search(r"^id: (\S+)$", p.stdout, re.M).group(1)
    job = cli.wait_job(job_id)
    assert job["status"] == "finished" and job["action"] == "set_iotune", job
    assert cli.json("vm", "disk-list", "cli-vm")["disks"][1]["iotune"] == {"total_bytes_sec": 1048576}
    tuned = cli.json("vm", "disk-iotune", "cli-vm", "vdb", "--total-iops-sec", "500", "--wait")
    assert tuned["target"] == "vdb" and tuned["iotune"] == {"total_iops_sec": 500}, tuned
    # vCPUs: live within max_vcpus (the guest sees it); above it the API says no.
    v = cli.json("vm", "set-vcpus", "cli-vm", "2", "--wait")
    assert v["vcpus"] == 2 and v["pending_changes"] == [], v
    assert c.call("VM.getStats", uuid=vid)["vcpus_current"] == 2
    ctx.wait_console(c, vid, "VIREO-CPUS 2", send="cpus\n")
    p = cli.run("vm", "set-vcpus", "cli-vm", "3", expect=1)
    assert "400" in p.stderr, p.stderr
    # The balloon: the job, then the guest's memory on the host.
    assert cli.json("vm", "balloon", "cli-vm", "200", "--wait")["id"] == vid
    deadline = time.monotonic() + 60
    while c.call("VM.getStats", uuid=vid)["balloon"]["current_kib"] != 200 * 1024:
        assert time.monotonic() < deadline, c.call("VM.getStats", uuid=vid)["balloon"]
        time.sleep(1)
    p = cli.run("vm", "balloon", "cli-vm", "100000", expect=1)
    assert "422" in p.stderr, p.stderr
    # Power jobs waited for: the VM as it is after each.
    assert cli.json("vm", "pause", "cli-vm", "--wait")["status"] == "paused"
    assert c.call("VM.getStats", uuid=vid)["state"] == "paused"
    assert cli.json("vm", "resume", "cli-vm", "--wait")["status"] == "up"
    # Unplugged: gone from the lists and the host; nothing printed.
    assert cli.run("vm", "nic-remove", "cli-vm", hot_mac, "--wait").stdout == ""
    assert [n["mac"] for n in cli.json("vm", "nic-list", "cli-vm")["nics"]] == [first_mac]
    assert hot_mac not in [d.get("mac") for d in c.call("VM.get", uuid=vid)["devices"]]
    wait_up_again(cli)
    assert cli.run("vm", "disk-remove", "cli-vm", "vdb", "--wait").stdout == ""
    assert [d["target"] for d in cli.json("vm", "disk-list", "cli-vm")["disks"]] == ["vda"]
    wait_up_again(cli)
    p = cli.run("vm", "nic-remove", "cli-vm", hot_mac, expect=1)
    assert "404" in p.stderr, p.stderr
    # A plug the host refuses: the job fails, exit 1 with its reason; nothing stored.
    p = cli.run("vm", "disk-add", "cli-vm", "--path", "/nonexistent/x.img", "--wait", expect=1)
    assert re.search(r"vireo: job \S+ failed: .+", p.stderr), p.stderr
    assert [d["target"] for d in cli.json("vm", "disk-list", "cli-vm")["disks"]] == ["vda"]


VM_ID = "0b5d3c1e-6a57-4e0c-9a43-1f3b2d6c7e80"


class FakeEngine(http.server.ThreadingHTTPServer):
    """HTTPS on 127.0.0.1 with the harness's engine-api certificate: POST
    /api/vms/VM_ID/ACTION answers 202 with a job whose GETs walk through
    `statuses` (the last one repeats); GET /api/vms/VM_ID is the VM."""

    def __init__(self, ctx):
        self.statuses, self.requests = [], []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def reply(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                outer.requests.append(("GET", self.path))
                if self.path == "/api/jobs/job-1":
                    st = outer.statuses.pop(0) if len(outer.statuses) > 1 else outer.statuses[0]
                    self.reply(200, {"id": "job-1", "status": st, "progress": 10,
                                     "detail": f"why it is {st}"})
                elif self.path == f"/api/vms/{VM_ID}":
                    self.reply(200, {"id": VM_ID, "name": "fake", "status": "down"})
                else:
                    self.reply(404, {"fault": {"reason": "Not Found", "detail": self.path}})

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.requests.append((self.command, self.path))
                self.reply(202, {"job": {"id": "job-1", "href": "/api/jobs/job-1"}})

            do_DELETE = do_POST

        super().__init__(("127.0.0.1", 0), Handler)
        crt, key = ensure_api_cert(ctx.hs.pki_dir)
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(crt, key)
        self.socket = tls.wrap_socket(self.socket, server_side=True)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def test_cli_job_wait_outcomes(ctx):
    """--wait ends with the job: finished prints the VM (exit 0); failed and
    cancelled exit 1 with the job's detail; a job not ended by --timeout
    exits 1; statuses it does not know keep it waiting."""
    fake = FakeEngine(ctx)
    try:
        cli = Cli(ctx, None)
        path = os.path.join(cli.env["VIREO_CONFIG_DIR"], "session.json")
        with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            json.dump({"url": f"https://127.0.0.1:{fake.server_address[1]}", "token": "t0k",
                       "ca": os.path.join(ctx.hs.pki_dir, "ca.crt"), "user": "x"}, f)
        fake.statuses = ["pending", "running", "migrating", "finished"]
        assert cli.json("vm", "stop", VM_ID, "--wait")["name"] == "fake"
        assert fake.requests[-1] == ("GET", f"/api/vms/{VM_ID}"), fake.requests
        for ending in ("cancelled", "failed"):
            fake.statuses = ["running", ending]
            p = cli.run("vm", "pause", VM_ID, "--wait", expect=1)
            assert f"vireo: job job-1 {ending}: why it is {ending}" in p.stderr, p.stderr
            assert p.stdout == "" and fake.requests[-1] == ("GET", "/api/jobs/job-1"), p.stdout
        fake.statuses = ["running"]
        t0 = time.monotonic()
        p = cli.run("vm", "balloon", VM_ID, "64", "--wait", "--timeout", "1", expect=1)
        assert "still running after 1 s" in p.stderr and time.monotonic() - t0 < 10, p.stderr
        # Without --wait: the reference only, the job never polled.
        n = len(fake.requests)
        p = cli.run("vm", "nic-remove", VM_ID, "56:6f:00:00:00:01")
        assert "id: job-1\nhref: /api/jobs/job-1" in p.stdout, p.stdout
        assert fake.requests[n:] == [("DELETE", f"/api/vms/{VM_ID}/nics/56%3A6f%3A00%3A00%3A00%3A01")], \
            fake.requests[n:]
    finally:
        fake.shutdown()
        fake.server_close()
