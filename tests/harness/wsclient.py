"""A small WebSocket client (RFC 6455) for the console tests, over the
engine's HTTPS port: the handshake, masked frames out, frames in. Written
here (no third-party module) so each frame the engine sends can be seen.

    ws = WebSocket.open(eng, f"/api/vms/{vm_id}/console?ticket={t}")
    ws.send(b"echo hi\\n")
    data = ws.recv_until(b"VIREO-ECHO hi", timeout=10)
"""

import base64
import hashlib
import os
import socket
import ssl
import struct
import time

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Refused(Exception):
    """The engine answered the upgrade with an HTTP status, not 101."""

    def __init__(self, status, body):
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body


class WebSocket:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""     # received, not yet parsed as frames
        self.stream = b""  # data frames' bytes not yet taken by recv_exact
        self.closed = None  # (code, reason) once a close frame arrived

    @classmethod
    def open(cls, eng, path, headers=None, protocols=None, timeout=15):
        raw = socket.create_connection(("127.0.0.1", eng.port), timeout=timeout)
        sock = eng.ssl_ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{eng.port}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        if protocols:
            lines.append("Sec-WebSocket-Protocol: " + ", ".join(protocols))
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                raise ConnectionError(f"the engine closed the connection; got {head!r}")
            head += chunk
        head, rest = head.split(b"\r\n\r\n", 1)
        status_line, *hdr_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        hdrs = {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in hdr_lines)}
        if status != 101:
            body = rest
            want = int(hdrs.get("content-length", "0"))
            while len(body) < want:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                body += chunk
            sock.close()
            raise Refused(status, body.decode("utf-8", "replace"))
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        assert hdrs.get("sec-websocket-accept") == accept, hdrs
        ws = cls(sock)
        ws.headers = hdrs
        ws.buf = rest
        return ws

    def send(self, data, opcode=0x2):
        if isinstance(data, str):
            data = data.encode()
        mask = os.urandom(4)
        n = len(data)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(head + mask + masked)

    def _need(self, n, deadline):
        while len(self.buf) < n:
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except (socket.timeout, ssl.SSLWantReadError):
                raise TimeoutError("no WebSocket frame in time") from None
            if not chunk:
                raise ConnectionError("connection closed")
            self.buf += chunk

    def recv_frame(self, timeout=10):
        """(opcode, payload) of the next frame."""
        deadline = time.monotonic() + timeout
        self._need(2, deadline)
        b0, b1 = self.buf[0], self.buf[1]
        assert not b1 & 0x80, "the server masked a frame"
        n, at = b1 & 0x7F, 2
        if n == 126:
            self._need(4, deadline)
            n, at = struct.unpack(">H", self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10, deadline)
            n, at = struct.unpack(">Q", self.buf[2:10])[0], 10
        self._need(at + n, deadline)
        payload, self.buf = self.buf[at:at + n], self.buf[at + n:]
        op = b0 & 0x0F
        if op == 0x8:
            self.closed = (struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None,
                           payload[2:].decode("utf-8", "replace"))
        return op, payload

    def recv(self, timeout=10):
        """Payload bytes of the next data frame (b"" once closed)."""
        while True:
            op, payload = self.recv_frame(timeout)
            if op in (0x1, 0x2, 0x0):
                return payload
            if op == 0x8:
                return b""

    def recv_exact(self, n, timeout=10):
        """Exactly n bytes of the data frames' stream (RFB reads)."""
        deadline = time.monotonic() + timeout
        while len(self.stream) < n:
            chunk = self.recv(max(0.1, deadline - time.monotonic()))
            if not chunk:
                raise ConnectionError(f"closed after {len(self.stream)} of {n} bytes: {self.closed}")
            self.stream += chunk
        out, self.stream = self.stream[:n], self.stream[n:]
        return out

    def recv_until(self, marker, timeout=30, send=None, every=3.0):
        """Bytes received until marker is among them; `send` is typed again
        every `every` seconds meanwhile (a guest may not read it at once)."""
        deadline = time.monotonic() + timeout
        got, last = b"", 0.0
        while marker not in got:
            now = time.monotonic()
            if now > deadline:
                raise AssertionError(f"no {marker!r} on the console; got {got[-1500:]!r}")
            if send is not None and now - last >= every:
                self.send(send)
                last = now
            try:
                got += self.recv(min(1.0, deadline - now))
            except TimeoutError:
                pass
        return got

    def close(self):
        try:
            self.send(struct.pack(">H", 1000), opcode=0x8)
        except OSError:
            pass
        self.sock.close()
