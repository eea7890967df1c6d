"""A small JSON-RPC 2.0 client for vireo-agent over mutual TLS (stdlib only).

Framing: 4-byte big-endian length, then the JSON payload (docs/agent-api.md).
Tests use it both for well-behaved calls and to send deliberately broken
frames (raw_send)."""

import json
import socket
import ssl
import struct


class RpcError(Exception):
    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class AgentClient:
    def __init__(self, host, port, ca, cert, key, timeout=60.0, server_name=None):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(ca)
        if cert:
            ctx.load_cert_chain(cert, key)
        ctx.check_hostname = True
        raw = socket.create_connection((host, port), timeout=timeout)
        self.sock = ctx.wrap_socket(raw, server_hostname=server_name or host)
        self.next_id = 1
        self.notifications = []

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- framing -------------------------------------------------------
    def raw_send(self, payload: bytes, length=None):
        n = len(payload) if length is None else length
        self.sock.sendall(struct.pack(">I", n) + payload)

    def _recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("connection closed by agent")
            buf += chunk
        return buf

    def recv(self):
        (n,) = struct.unpack(">I", self._recv_exact(4))
        return json.loads(self._recv_exact(n))

    # -- calls ---------------------------------------------------------
    def call(self, method, params=None, **kw):
        if params is None:
            params = kw
        rid = self.next_id
        self.next_id += 1
        msg = {"jsonrpc": "2.0", "method": method, "params": params, "id": rid}
        self.raw_send(json.dumps(msg).encode())
        while True:
            reply = self.recv()
            if "method" in reply and "id" not in reply:
                self.notifications.append(reply)
                continue
            if reply.get("id") != rid:
                continue
            if "error" in reply:
                raise RpcError(reply["error"]["code"], reply["error"]["message"])
            return reply["result"]

    def wait_event(self, pred, timeout=60.0):
        """Return the first queued or arriving notification matching pred."""
        import time
        deadline = time.monotonic() + timeout
        while True:
            for i, n in enumerate(self.notifications):
                if pred(n["params"]):
                    return self.notifications.pop(i)["params"]
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no matching event")
            self.sock.settimeout(left)
            try:
                msg = self.recv()
            finally:
                self.sock.settimeout(None)
            if "method" in msg and "id" not in msg:
                self.notifications.append(msg)


def expect_error(code, fn, *args, **kw):
    """Call fn and require it to fail with the JSON-RPC error code; returns
    the RpcError."""
    try:
        fn(*args, **kw)
    except RpcError as e:
        assert e.code == code, f"expected error {code}, got {e.code}: {e.message}"
        return e
    raise AssertionError(f"expected error {code}, call succeeded")
