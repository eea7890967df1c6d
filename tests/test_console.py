"""Consoles through one-time tickets (docs/rest-api.md "Consoles"): one
real guest with a serial console and VNC on a harness host, reached through
the engine's WebSocket proxy and the agent's VM.attachConsole: the serial
console shows the guest's marker and answers a typed command, the VNC
handshake completes with the ticket as password and a framebuffer update
arrives, used / expired / foreign tickets are refused with events; the
CLI's `vireo vm console` and the portals use the same path. In Chromium,
issue 12's administrator end to end: log in, the host made through its
dialog comes up, the VM made through its dialog starts from its row and
its status follows live, then (in Japanese) the serial terminal
(xterm.js) shows the marker and answers typed keys, refits to the window,
and noVNC draws the screen, with no CSP violation. One guest serves the
whole file (run once, SQLite)."""

import contextlib
import os
import struct
import subprocess
import time

from harness import browser
from harness.context import Skip
from harness.engine import REPO_ROOT, CliSession, Engine
from harness.wsclient import Refused, WebSocket

READY = b"VIREO-GUEST-READY"
PW = "console-pw-1"


def _des_key(password):
    """VNC authentication's DES key: the password's first 8 bytes, each
    with its bits in reverse order (RFB 3.8, 7.2.2)."""
    key = password.encode()[:8].ljust(8, b"\0")
    return bytes(int(f"{b:08b}"[::-1], 2) for b in key)


def _vnc_response(password, challenge):
    try:
        from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    except ImportError:
        from cryptography.hazmat.primitives.ciphers.algorithms import TripleDES
    from cryptography.hazmat.primitives.ciphers import Cipher, modes
    enc = Cipher(TripleDES(_des_key(password) * 3), modes.ECB()).encryptor()
    return enc.update(challenge) + enc.finalize()


def _vnc_session(ws, password):
    """RFB over the WebSocket up to the first framebuffer update; returns
    (width, height, first bytes of the update) or raises on a refusal."""
    version = ws.recv_exact(12)
    assert version.startswith(b"RFB 003."), version
    ws.send(b"RFB 003.008\n")
    n = ws.recv_exact(1)[0]
    types = ws.recv_exact(n)
    assert 2 in types, f"VNC authentication not offered: {types!r}"  # a password is required
    ws.send(bytes([2]))
    challenge = ws.recv_exact(16)
    ws.send(_vnc_response(password, challenge))
    result = struct.unpack(">I", ws.recv_exact(4))[0]
    if result != 0:
        reason = ws.recv_exact(struct.unpack(">I", ws.recv_exact(4))[0])
        raise PermissionError(reason.decode())
    ws.send(bytes([1]))  # ClientInit: shared
    w, h = struct.unpack(">HH", ws.recv_exact(4))
    ws.recv_exact(16)  # pixel format
    ws.recv_exact(struct.unpack(">I", ws.recv_exact(4))[0])  # desktop name
    ws.send(struct.pack(">BBHHHH", 3, 0, 0, 0, w, h))  # FramebufferUpdateRequest, full
    update = ws.recv_exact(4, timeout=20)
    return w, h, update


def _ticket(eng, vm_id, token=None, **body):
    kw = {"token": token} if token else {}
    return eng.call("POST", f"/api/vms/{vm_id}/ticket", body, **kw)


def _refused(eng, path, status, detail, **kw):
    try:
        WebSocket.open(eng, path, **kw).close()
    except Refused as r:
        assert r.status == status and detail in r.body, (r.status, r.body)
        return
    raise AssertionError(f"{path} was not refused")


def _check_ws_serial_graphics_refusals(eng, vm, other):
    vm_id = vm["id"]
    # Serial: the log's tail (the boot's marker) first, then live; a typed
    # command's answer comes back.
    t = _ticket(eng, vm_id)
    assert t["console"] == "serial" and len(t["ticket"]) == 32 and t["seconds"] == 30, t
    assert t["url"] == f"/api/vms/{vm_id}/console?ticket={t['ticket']}", t
    ws = WebSocket.open(eng, t["url"])
    ws.recv_until(READY, timeout=60)  # the first look: the guest may still be booting (TCG on a busy machine)
    ws.recv_until(b"VIREO-ECHO through-the-proxy", send=b"echo through-the-proxy\n", timeout=30)
    ws.close()
    eng.wait_for(lambda: eng.find_events(f"serial console of VM '{vm['name']}' opened by admin@internal"),
                 what="console opened event")
    # The same ticket again: refused, and an event says so.
    _refused(eng, t["url"], 401, "the console ticket was already used")
    assert eng.find_events("console connection to VM %s refused: the console ticket was already used" % vm_id)
    # An expired one (1 s), one never issued, none at all.
    short = _ticket(eng, vm_id, seconds=1)
    time.sleep(1.3)
    _refused(eng, short["url"], 401, "the console ticket has expired")
    _refused(eng, f"/api/vms/{vm_id}/console?ticket=" + "A" * 32, 401, "the console ticket is unknown")
    _refused(eng, f"/api/vms/{vm_id}/console", 401, "no ticket")
    # A ticket of this VM at another VM's console: 403 (and not taken).
    t2 = _ticket(eng, vm_id)
    _refused(eng, f"/api/vms/{other['id']}/console?ticket={t2['ticket']}", 403, "issued for another VM")
    # Another user's token with admin's ticket: 403 (checked before taking
    # it), though carol may open this VM's consoles herself (UserRole).
    carol_user = eng.call("POST", "/api/users", {"name": "carol@internal", "password": PW}, expect=201)
    roles = {r["name"]: r["id"] for r in eng.get("/api/roles", params={"max": 1000})["roles"]}
    eng.call("POST", "/api/permissions", {"role_id": roles["UserRole"], "object_type": "vm", "object_id": vm_id,
                                          "user_id": carol_user["id"]}, expect=201)
    carol = eng.login("carol@internal", PW, set_token=False)
    _refused(eng, t2["url"], 403, "was issued to another user, not carol@internal",
             headers={"Authorization": "Bearer " + carol})
    assert _ticket(eng, vm_id, token=carol)["console"] == "serial"
    # Dave, without a permission on the VM, gets no ticket and cannot use
    # one: console access is a permission (connect_to_vm).
    eng.call("POST", "/api/users", {"name": "dave@internal", "password": PW}, expect=201)
    dave = eng.login("dave@internal", PW, set_token=False)
    r = eng.request("POST", f"/api/vms/{vm_id}/ticket", {}, token=dave)
    assert r.status == 403 and "connect_to_vm" in r.body["fault"]["detail"], r
    _refused(eng, t2["url"], 403, "user 'dave@internal' may not", headers={"Authorization": "Bearer " + dave})
    # Admin's own token with the ticket works once.
    ws = WebSocket.open(eng, t2["url"], headers={"Authorization": "Bearer " + eng.token})
    ws.recv_until(READY, timeout=20)
    ws.close()
    # Not a WebSocket; a VM that is down; bad bodies.
    r = eng.request("GET", f"/api/vms/{vm_id}/console?ticket=x", token=None)
    assert r.status == 400 and "WebSocket" in r.body["fault"]["detail"], r
    r = eng.request("POST", f"/api/vms/{other['id']}/ticket", {})
    assert r.status == 409 and "has a console only while it runs" in r.body["fault"]["detail"], r
    for body in ({"console": "spice"}, {"seconds": 0}, {"seconds": 301}, {"x": 1}):
        assert eng.request("POST", f"/api/vms/{vm_id}/ticket", body).status == 400, body

    # Graphics: the ticket is the VNC password; the handshake completes and
    # a framebuffer update arrives.
    g = _ticket(eng, vm_id, console="graphics")
    ws = WebSocket.open(eng, g["url"], protocols=["binary"])
    assert ws.headers.get("sec-websocket-protocol") == "binary", ws.headers
    w, h, update = _vnc_session(ws, g["ticket"])
    assert w > 0 and h > 0 and update[0] == 0, (w, h, update)  # message type 0: FramebufferUpdate
    ws.close()
    # A graphics session with a wrong password is refused by QEMU itself.
    g2 = _ticket(eng, vm_id, console="graphics")
    ws = WebSocket.open(eng, g2["url"])
    try:
        _vnc_session(ws, "wrong-password")
        raise AssertionError("VNC accepted a wrong password")
    except PermissionError:
        pass
    finally:
        ws.close()
    _refused(eng, g["url"], 401, "already used")


def _check_cli(ctx, eng, vm):
    cli = CliSession(ctx, eng)
    p = subprocess.Popen([cli.bin, "vm", "console", vm["name"]], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli.env)
    try:
        os.set_blocking(p.stdout.fileno(), False)
        got, deadline, last = b"", time.monotonic() + 40, 0
        while b"VIREO-ECHO from-the-cli" not in got:
            assert time.monotonic() < deadline, got[-1500:]
            if READY in got and time.monotonic() - last > 3:
                p.stdin.write(b"echo from-the-cli\n")
                p.stdin.flush()
                last = time.monotonic()
            time.sleep(0.2)
            got += p.stdout.read() or b""
            assert p.poll() is None, (got, p.stderr.read())
        p.stdin.close()  # end of input ends the session
        assert p.wait(timeout=15) == 0, p.stderr.read()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    # A VM without a serial console: the CLI says why.
    r = cli.run("vm", "console", "nope-no-such-vm", expect=1)
    assert "nope-no-such-vm" in r.stderr, r.stderr


def _admin_scenario(b, eng, cl, h, spec):
    """Issue 12's administrator, in the browser: log in, make the host
    through its dialog and see it come up, make the VM through its dialog
    and start it there, its status following live (no reload). The dialog
    has no kernel or disk fields (a VM gets those from a template or its
    disks' own pages): the guest's boot and disk are PUT through the API."""
    b.type("#login-user", "admin@internal")
    b.type("#login-password", eng.admin_password)
    b.click("#login-submit")
    b.click("#tab-hosts")
    b.click("#new-hosts")
    b.type("#host-name", h.name)
    b.type("#host-address", h.addr)
    b.type("#host-port", str(h.port))
    b.wait(lambda: b.find("#host-cluster").get_attribute("value") == cl["id"], what="the cluster chosen")
    b.click("#create-host-submit")
    status = lambda name: b.find(f"[data-list] tr[data-name='{name}'] [data-status]").get_attribute("data-status")
    b.wait(lambda: status(h.name) == "up", 40, "the new host shown up")
    host = eng.list("hosts", search=f"name={h.name}")["hosts"][0]
    assert host["status"] == "up" and host["port"] == h.port, host
    b.click("#tab-vms")
    b.click("#new-vms")
    b.type("#vm-name", "con1")
    b.type("#vm-memory", "256")
    b.click("#create-vm-submit")
    b.wait(lambda: not b.all("#create-vm"), what="the dialog closed")
    b.wait_text("[data-list=vms]", "con1")
    vm = eng.list("vms", search="name=con1")["vms"][0]
    assert (vm["cluster_id"], vm["memory_mib"]) == (cl["id"], 256), vm
    eng.call("PUT", f"/api/vms/{vm['id']}", {"boot": spec["boot"], "disks": spec["disks"], "vnc": True})
    b.click("[data-list=vms] tr[data-name='con1'] button[data-action=start]")
    b.wait(lambda: status("con1") == "up", 60, "con1 shown up")
    assert b.js("return performance.getEntriesByType('navigation').length") == 1  # never reloaded
    return host, eng.vm(vm["id"])


# The serial terminal's whole buffer as text (terminal.jsx), and its size.
TERM_TEXT = "return document.querySelector('[data-console-terminal]').vireoText()"
TERM_SIZE = "return document.querySelector('[data-console-terminal]').vireoSize()"


def _term_line(b, line, timeout=30):
    """Wait until the terminal holds `line` as a whole line."""
    b.wait(lambda: line in [x.rstrip() for x in b.js(TERM_TEXT).split("\n")], timeout, f"the line {line!r}")


def _check_browser(b, eng, vm, portal_dir):
    from selenium.webdriver.common.keys import Keys
    from test_portal import PICK_LANG
    # In Japanese: the console's words change, the terminal works the same.
    b.js(PICK_LANG, "ja")
    b.wait_text("#tab-vms", "仮想マシン")
    b.click(f"[data-console='{vm['name']}']")
    b.wait_text("[data-console-state=serial]", "シリアルコンソール: 接続済み", timeout=20)
    b.wait(lambda: READY.decode() in b.js(TERM_TEXT), 30, "the guest's marker in the terminal")
    # Keystrokes go raw: Backspace is DEL, which the guest's line discipline
    # applies (the answer has no X); Enter is CR.
    keys = b.find("[data-console-terminal] .xterm-helper-textarea")
    keys.send_keys("echo from-the-browserX" + Keys.BACKSPACE + "\n")
    _term_line(b, "VIREO-ECHO from-the-browser")
    # UTF-8 both ways; wide characters. One character per send_keys, a
    # moment apart: ChromeDriver types characters off the keyboard layout as
    # text input events, and a burst of them once reached the guest as the
    # first one only (a rehearsal: the guest answered "VIREO-ECHO 日").
    # A character lost on the way (a loaded machine) leaves a line the guest
    # answers otherwise: typed again, after Ctrl-U clears what it holds.
    for attempt in range(3):
        keys.send_keys(Keys.CONTROL + "u")
        for ch in "echo 日本語の端末":
            keys.send_keys(ch)
            time.sleep(0.1)
        keys.send_keys("\n")
        try:
            _term_line(b, "VIREO-ECHO 日本語の端末", timeout=10)
            break
        except AssertionError:
            if attempt == 2:
                raise
    assert "VIREO-ECHO 日本語の端末" in b.text("[data-console-terminal] .xterm-rows")  # drawn on screen
    b.shot("serial")
    # The terminal refits to its box when the window changes.
    cols, rows = b.js(TERM_SIZE)
    assert cols > 80 and rows >= 20, (cols, rows)
    b.driver.set_window_size(900, 800)
    b.wait(lambda: b.js(TERM_SIZE)[0] < cols, 10, "fewer columns in a narrower window")
    b.driver.set_window_size(1280, 800)
    b.wait(lambda: b.js(TERM_SIZE)[0] == cols, 10, "the columns back")
    assert not b.all("style"), "an inline <style> element"  # xterm's CSS went into adopted sheets
    b.click("[data-console-tab=graphics]")
    b.wait(lambda: b.js("return window.__vireoVncDrawn === true"), 40, "a drawn noVNC canvas")
    b.shot("graphics")
    problems = [m for m in b.console() if "Content Security Policy" in m["message"] or "Refused to" in m["message"]]
    assert not problems, problems
    b.click("[data-console-close]")
    b.wait(lambda: not b.all("#console"), 10, "the console closed")
    b.js(PICK_LANG, "en")
    b.wait_text("#tab-vms", "Virtual machines")
    # The running VM's statistics (the engine's history, docs/rest-api.md): drawn as SVG.
    b.click(f"tr[data-name='{vm['name']}'] button[data-action=stats]")
    b.wait(lambda: int(b.find("#stats [data-samples]").get_attribute("data-samples")) > 0, 20,
           "a sample of the VM's history")
    assert b.all("#stats [data-chart=cpu] [data-points]") and b.all("#stats [data-chart=memory] [data-latest]")
    b.shot("vm-statistics")
    b.click("[data-stats-close]")
    # The VM Portal has the same button.
    b.open(f"https://127.0.0.1:{eng.port}/vm")
    b.wait(lambda: b.all(f"[data-console='{vm['name']}']"), 15, "the VM Portal's console button")
    # The consoles' code is loaded on demand, not with the portal.
    with open(os.path.join(portal_dir, "app.js"), encoding="utf-8") as fh:
        first = fh.read()
    with open(os.path.join(portal_dir, "console.js"), encoding="utf-8") as fh:
        lazy = fh.read()
    assert "credentialsrequired" in lazy and "credentialsrequired" not in first
    assert "xterm-helper-textarea" in lazy and "xterm-helper-textarea" not in first


def test_consoles_through_tickets(ctx):
    from test_portal import _portal_dir
    portal_dir = _portal_dir(ctx)
    if not os.path.exists(os.path.join(portal_dir, "console.css")):  # a build from before the terminal
        subprocess.run([os.path.join(REPO_ROOT, "scripts", "build-portal"), portal_dir], check=True,
                       capture_output=True, timeout=600)
    no_browser = browser.available()
    with Engine(ctx, extra_args=["--portal-dir", portal_dir]) as eng, contextlib.ExitStack() as stack:
        dc = eng.create_dc("dc1")
        cl = eng.create_cluster("cl1", dc["id"])
        h = ctx.hs.hosts[0]
        spec = ctx.vm_spec("con1")
        if no_browser:
            host = eng.create_host(h.name, h.addr, cl["id"], port=h.port)
            eng.wait_status("hosts", host["id"], "up", timeout=30)
            vm = eng.create_vm("con1", cl["id"], boot=spec["boot"], disks=spec["disks"], nics=[], vnc=True)
            job = eng.call("POST", f"/api/vms/{vm['id']}/start", expect=202)
            done = eng.wait_job(job["job"]["id"], timeout=60)
            assert done["status"] == "finished", (done, eng.log_tail(30))
            eng.wait_status("vms", vm["id"], "up", timeout=60)
        else:
            b = stack.enter_context(browser.Browser(os.path.join(ctx.build, "test-artifacts", "console")))
            b.open(f"https://127.0.0.1:{eng.port}/admin")
            host, vm = _admin_scenario(b, eng, cl, h, spec)
        other = eng.create_vm("con2", cl["id"], boot=spec["boot"], disks=spec["disks"], nics=[])
        _check_ws_serial_graphics_refusals(eng, vm, other)
        _check_cli(ctx, eng, vm)
        if not no_browser:
            _check_browser(b, eng, vm, portal_dir)
        # A stopping engine cuts open consoles (their relays are engine
        # threads it waits for) and exits cleanly; the VM keeps running.
        ws = WebSocket.open(eng, _ticket(eng, vm["id"])["url"])
        ws.recv_until(READY, timeout=20)
        rc = eng.stop()
        assert rc == 0, (rc, eng.log_tail(30))
        try:
            while ws.closed is None:
                ws.recv_frame(timeout=5)
        except ConnectionError:
            pass  # closed without a close frame: also cut
        eng.start()
        assert eng.get(f"/api/vms/{vm['id']}")["status"] == "up"
    if no_browser:
        raise Skip(no_browser)
