"""The vireo CLI against a real engine and the harness hosts: login, the
inventory verbs, a VM started with --wait and shut down, events, --json,
and the exit codes of errors (1: the server refused, 2: usage, 3: cannot
reach the server)."""

import json
import os
import subprocess
import tempfile
import time

from harness.engine import Engine


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
                                        f"{self.eng.log_tail(20)}")
        return p

    def json(self, *args):
        return json.loads(self.run(*args, "--json").stdout)


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
        # A name with a quote is refused with the API's message, exit 1.
        p = cli.run("datacenter", "create", "--name", "bad'name", expect=1)
        assert "400" in p.stderr and "name must be" in p.stderr
        # Usage errors never reach the server.
        cli.run("vm", "create", "--name", "x", expect=2)
        cli.run("frobnicate", expect=2)
        # A VM defined, started and waited for, its console seen on its host.
        spec = ctx.vm_spec("cli-vm")
        cli.run("vm", "create", "--name", "cli-vm", "--cluster", "cli-cl", "--memory", "256",
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
        # events --follow prints new events as they are recorded, oldest first.
        follow = subprocess.Popen([cli.bin, "events", "--follow", "--max", "1", "--json"],
                                  stdout=subprocess.PIPE, text=True, env=cli.env)
        vm = cli.json("vm", "start", "cli-vm", "--wait")
        assert vm["status"] in ("poweringup", "up") and vm["host"], vm
        assert vm["nics"][0]["mac"].startswith("56:6f:")
        i = [h.name for h in ctx.hs.hosts].index(vm["host"])
        c = ctx.client(i)
        ctx.wait_console(c, vm["id"], "VIREO-GUEST-READY")
        time.sleep(1.5)  # one more poll of the follower
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
        cli.run("vm", "shutdown", "cli-vm")
        deadline = time.monotonic() + 60
        while cli.json("vm", "show", "cli-vm")["status"] != "down":
            assert time.monotonic() < deadline, "VM never went down"
            time.sleep(0.5)
        assert "VIREO-POWEROFF" in ctx.console(c, vm["id"])
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
