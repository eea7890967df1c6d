"""Mutual TLS refusals and the bad-input battery: nothing a client sends
may crash the agent or touch a VM it did not name."""

import json
import os
import socket
import ssl
import struct
import time

from harness.rpc import AgentClient, RpcError

PARSE, INVALID_REQ, NO_METHOD, INVALID_PARAMS = -32700, -32600, -32601, -32602
ERR_LIMIT, ERR_CONFLICT = -32003, -32004


def refused(fn):
    try:
        c = fn()
        c.call("Host.ping")
    except (ssl.SSLError, ConnectionError, OSError):
        return True
    return False


def test_client_without_valid_certificate_is_refused(ctx):
    h, pki = ctx.host(), ctx.hs.pki_dir
    ca = os.path.join(pki, "ca.crt")
    # No client certificate at all.
    assert refused(lambda: AgentClient(h.addr, h.port, ca, None, None, timeout=10))
    # A certificate from another CA.
    assert refused(lambda: AgentClient(h.addr, h.port, ca, os.path.join(pki, "rogue.crt"),
                                       os.path.join(pki, "rogue.key"), timeout=10))
    # Plain TCP speaking JSON gets nothing back.
    s = socket.create_connection((h.addr, h.port), timeout=10)
    body = b'{"jsonrpc":"2.0","method":"Host.ping","id":1}'
    s.sendall(struct.pack(">I", len(body)) + body)
    data = b""
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    s.close()
    assert b"pong" not in data
    # The engine's certificate still works, and the agent verifies who it is.
    assert ctx.client().call("Host.ping") == {"pong": True}
    assert "connected as 'engine'" in open(h.agent_log).read()


def test_agent_certificate_is_checked_by_clients(ctx):
    h, pki = ctx.host(), ctx.hs.pki_dir
    # A client trusting only the rogue CA must not accept the agent.
    assert refused(lambda: AgentClient(h.addr, h.port, os.path.join(pki, "rogue-ca.crt"),
                                       os.path.join(pki, "engine.crt"),
                                       os.path.join(pki, "engine.key"), timeout=10))


def expect(c, payload, code):
    c.raw_send(payload if isinstance(payload, bytes) else json.dumps(payload).encode())
    reply = c.recv()
    assert "error" in reply, reply
    assert reply["error"]["code"] == code, (payload, reply)
    return reply["error"]["message"]


def test_bad_input_battery(ctx):
    c = ctx.client()
    victim = ctx.boot(c, name="victim")
    base = {"jsonrpc": "2.0", "id": 7}
    expect(c, b"{not json", PARSE)
    expect(c, b"[1,2,3]", INVALID_REQ)
    expect(c, b'"just a string"', INVALID_REQ)
    expect(c, b'{"jsonrpc":"2.0","method":"Host.ping","id":1,"id":2}', PARSE)
    expect(c, {"method": "Host.ping", "id": 1}, INVALID_REQ)
    expect(c, dict(base, method=42), INVALID_REQ)
    expect(c, dict(base, method="Host.ping", params=[1]), INVALID_PARAMS)
    expect(c, dict(base, method="Host.ping", extra=1), INVALID_REQ)
    assert "Nope.nope" in expect(c, dict(base, method="Nope.nope"), NO_METHOD)
    expect(c, dict(base, method="Host.ping", params={"x": 1}), INVALID_PARAMS)
    expect(c, dict(base, method="VM.destroy", params={}), INVALID_PARAMS)
    expect(c, dict(base, method="VM.destroy", params={"uuid": 5}), INVALID_PARAMS)
    expect(c, dict(base, method="VM.destroy", params={"uuid": "x' or 1=1"}), -32001)
    bad_specs = [
        {"name": "a'b", "memory_mib": 64},
        {"name": "<x/>", "memory_mib": 64},
        {"name": 'q"uote', "memory_mib": 64},
        {"name": "ok", "memory_mib": "64"},
        {"name": "ok", "memory_mib": 64, "surprise": True},
        {"name": "ok", "memory_mib": 1 << 40},
        {"name": "ok"},
        {"name": "ok", "memory_mib": 64, "disks": [{"path": "relative.img"}]},
        {"name": "ok", "memory_mib": 64, "disks": [{"path": "/x\n.img"}]},
        {"name": "ok", "memory_mib": 64, "disks": [{"path": "/x.img", "bus": "floppy"}]},
        {"name": "ok", "memory_mib": 64, "nics": [{"mac": "01:00:5e:00:00:01"}]},
        {"name": "ok", "memory_mib": 64, "nics": [{"bridge": "br0'; rm -rf /"}]},
        {"name": "ok", "memory_mib": 64, "boot": {"kernel": "/k", "cmdline": 3}},
        {"name": "ok", "memory_mib": 64, "boot": {"kernel": "/k"},
         "disks": [{"path": "/x.img", "address": {"type": "pci", "slot": "0x05'/>"}}]},
        {"name": "ok", "memory_mib": 64, "cpu_model": "</model><evil/>"},
    ]
    for spec in bad_specs:
        expect(c, dict(base, method="VM.create", params=spec), INVALID_PARAMS)
    # Limits from the reference documents.
    k = ctx.vm_spec()
    lim = [dict(k, max_vcpus=241),
           dict(k, disks=[{"path": f"/d{i}.img", "bus": "ide"} for i in range(5)]),
           dict(k, disks=[{"path": f"/d{i}.img"} for i in range(29)]),
           dict(k, disks=[{"path": f"/d{i}.img"} for i in range(15)],
                nics=[{} for _ in range(16)])]
    for spec in lim:
        expect(c, dict(base, method="VM.create", params=spec), ERR_LIMIT)
    # Names with quotes never reach libvirt; the name of a running VM is taken.
    expect(c, dict(base, method="VM.create", params=ctx.vm_spec(name="victim")), -32002)
    # A request without id is a notification: no reply, but it is processed.
    c.raw_send(json.dumps({"jsonrpc": "2.0", "method": "Host.ping"}).encode())
    assert c.call("Host.ping") == {"pong": True}
    # Oversized frame: an error, then the agent hangs up (the stream can't resync).
    c2 = ctx.client()
    c2.raw_send(b"", length=64 * 1024 * 1024)
    r = c2.recv()
    assert r["error"]["code"] == INVALID_REQ and "limit" in r["error"]["message"]
    try:
        c2.recv()
        raise AssertionError("connection stayed open after an oversized frame")
    except (ConnectionError, ssl.SSLError, OSError):
        pass
    # A truncated frame then a vanished client.
    c3 = ctx.client()
    c3.raw_send(b'{"jsonrpc":', length=500)
    c3.close()
    # A client that stalls mid-frame is dropped after the I/O timeout.
    c4 = ctx.client()
    c4.raw_send(b'{"jsonrpc"', length=100)
    time.sleep(8)  # --io-timeout 2, three strikes
    try:
        c4.sock.settimeout(5)
        c4.recv()
        raise AssertionError("stalled client was not dropped")
    except (ConnectionError, ssl.SSLError, OSError):
        pass
    # Many half-open connections: the agent keeps serving.
    raw = [socket.create_connection((ctx.host().addr, ctx.host().port)) for _ in range(10)]
    assert ctx.client().call("Host.ping") == {"pong": True}
    for s in raw:
        s.close()
    # After all that, the victim is untouched and still answers.
    c5 = ctx.client()
    vms = {v["name"]: v for v in c5.call("VM.list")["vms"]}
    assert vms["victim"]["state"] == "running" and len(vms) == 1
    ctx.wait_console(c5, victim["uuid"], "VIREO-ECHO survived", send="echo survived\n")
