"""Every agent error is a reply: valid UTF-8, bounded, sent at once, with
the reason, however long and non-ASCII the text it quotes.

Error texts used to be cut at 512 bytes, possibly inside a multi-byte
character; jansson then refused the reply and the agent sent nothing, so
the caller waited for its timeout (issue 7). These tests read the reply
frame as raw bytes and decode it strictly."""

import json
import struct
import time

ERR_LIBVIRT, ERR_INVALID_REQUEST, ERR_NO_METHOD, ERR_INVALID_PARAMS = -32000, -32600, -32601, -32602
CLIENT_TIMEOUT = 30  # the caller gives up here; a reply must come well before
MESSAGE_LIMIT = 512  # vr_error.message, NUL included


def raw_call(c, method, params, rid=1):
    """One request; returns (reply as parsed JSON, seconds it took). The
    frame must be strict UTF-8: a decoding error fails the test."""
    c.sock.settimeout(CLIENT_TIMEOUT)
    msg = {"jsonrpc": "2.0", "method": method, "params": params, "id": rid}
    t0 = time.monotonic()
    c.raw_send(json.dumps(msg, ensure_ascii=False).encode("utf-8"))
    while True:
        (n,) = struct.unpack(">I", c._recv_exact(4))
        reply = json.loads(c._recv_exact(n).decode("utf-8", errors="strict"))
        if reply.get("id") == rid:
            return reply, time.monotonic() - t0


def check_error(reply, code):
    assert "error" in reply, f"expected an error reply, got {reply}"
    err = reply["error"]
    assert err["code"] == code, f"expected {code}, got {err}"
    message = err["message"]
    assert 0 < len(message.encode("utf-8")) < MESSAGE_LIMIT, len(message.encode("utf-8"))
    assert "\ufffd" not in message[:20], message  # the start is intact
    return message


def test_long_non_ascii_disk_path_fails_promptly(ctx):
    c = ctx.client()
    # About 500 bytes of path, almost all two-byte characters; libvirt's
    # message quotes it, so the agent's error text is longer than its
    # buffer. Three alignments: wherever the text is cut, one of them puts
    # the cut inside a character.
    for pad in range(3):
        path = "/nonexistent-vireo/" + "x" * pad + "\u00e9" * 238 + "/disk.img"
        assert 490 <= len(path.encode()) <= 512
        spec = ctx.vm_spec(disks=[{"path": path}])
        reply, took = raw_call(c, "VM.create", spec, rid=10 + pad)
        assert took < 10, f"the error reply took {took:.1f}s"
        message = check_error(reply, ERR_LIBVIRT)
        assert message.startswith(f"cannot start VM '{spec['name']}'"), message
        # libvirt's reason, at the end of the text, survives the shortening.
        assert message.endswith(("No such file or directory", "does not exist")), message
        assert spec["name"] not in ctx.host().domains()
    # The connection and the agent are fine afterwards.
    assert c.call("Host.ping") == {"pong": True}


def test_long_non_ascii_names_in_refusals(ctx):
    c = ctx.client()
    # An unknown method quoting 600 bytes of three-byte characters.
    reply, took = raw_call(c, "VM." + "\u20ac" * 200, {}, rid=2)
    assert took < 5
    message = check_error(reply, ERR_NO_METHOD)
    assert message.startswith("unknown method 'VM.\u20ac"), message
    # An unknown VM.create member, cut anywhere but inside a character.
    for pad in range(3):
        member = "x" * pad + "\u00e9" * 300
        reply, took = raw_call(c, "VM.create", dict(ctx.vm_spec(), **{member: 1}), rid=3 + pad)
        assert took < 5
        check_error(reply, ERR_INVALID_PARAMS)
    # Invalid UTF-8 from the client: the refusal is still valid UTF-8.
    c.raw_send(b'{"jsonrpc":"2.0","method":"\xff\xfe' + b"\xc3" * 600 + b'","id":9}')
    (n,) = struct.unpack(">I", c._recv_exact(4))
    reply = json.loads(c._recv_exact(n).decode("utf-8", errors="strict"))
    assert reply["error"]["code"] in (-32700, ERR_INVALID_REQUEST), reply
    assert c.call("Host.ping") == {"pong": True}
