"""vireo-engine against a hostile HTTP client: malformed and oversized
request heads, methods the API does not serve, URLs and bodies with invalid
or long non-ASCII UTF-8, and concurrent password guessing. Every refusal
must come promptly, as a status with a JSON fault body that parses; the
lockout must let exactly the allowed number of guesses through
(docs/rest-api.md, Errors)."""

import concurrent.futures
import json
import socket
import ssl
import threading
import time
import urllib.parse

from harness.engine import ADMIN, Engine
from harness.context import one_backend

PROMPT_S = 5  # an answer within this is prompt; the HTTP idle timeout is 30 s
MAX_URL, MAX_HEAD, MAX_HEADERS, MAX_ARGS = 8192, 16384, 100, 64
POOL = 4 * MAX_HEAD  # the library's per-connection memory (api/http.c)


class Raw:
    """The outcome of one hand-made request: status (None if the
    connection closed without an answer), headers, body bytes, seconds,
    and whether the server closed the connection after it."""

    def __init__(self, status, headers, body, secs, closed, raw):
        self.status, self.headers, self.body, self.secs = status, headers, body, secs
        self.closed, self.raw = closed, raw

    def __repr__(self):
        return f"<{self.status} in {self.secs:.2f}s {self.raw[:300]!r}>"


def connect(eng, timeout=PROMPT_S * 2):
    s = socket.create_connection(("127.0.0.1", eng.port), timeout=timeout)
    return eng.ssl_ctx.wrap_socket(s, server_hostname="127.0.0.1")


def read_response(s, t0):
    """One response from s (Content-Length or close delimited)."""
    buf, closed = b"", False
    try:
        while b"\r\n\r\n" not in buf:
            b = s.recv(65536)
            if not b:
                closed = True
                break
            buf += b
        if b"\r\n\r\n" in buf:
            head, _, body = buf.partition(b"\r\n\r\n")
            hdrs = {}
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                hdrs[k.strip().lower().decode()] = v.strip().decode()
            n = int(hdrs.get("content-length", "-1"))
            while (n < 0 or len(body) < n) and not closed:
                b = s.recv(65536)
                if not b:
                    closed = True
                    break
                body += b
            status = int(head.split(b" ")[1])
            return Raw(status, hdrs, body[:n] if n >= 0 else body, time.monotonic() - t0,
                       closed or hdrs.get("connection") == "close", buf)
    except socket.timeout:
        return Raw(None, {}, b"", time.monotonic() - t0, False, buf + b"<<no answer: timeout>>")
    except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
        closed = True
    return Raw(None, {}, b"", time.monotonic() - t0, closed, buf)


def raw_request(eng, data):
    s = connect(eng)
    t0 = time.monotonic()
    try:
        try:
            s.sendall(data)
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
            pass  # refused before all was sent: the answer may still be there
        return read_response(s, t0)
    finally:
        s.close()


def head(method, target, headers=(), token=None, extra=b""):
    lines = [f"{method} ".encode() + target + b" HTTP/1.1", b"Host: 127.0.0.1",
             b"Connection: close"]
    if token:
        lines.append(b"Authorization: Bearer " + token.encode())
    lines += list(headers)
    return b"\r\n".join(lines) + b"\r\n\r\n" + extra


def fault_of(r, status, what):
    """r has the status (or one of them) and a JSON fault body that parses
    as strict UTF-8, with non-empty reason and detail."""
    want = status if isinstance(status, tuple) else (status,)
    assert r.status in want, f"{what}: expected {status}, got {r}"
    assert r.headers.get("content-type") == "application/json", f"{what}: not JSON: {r}"
    assert r.secs < PROMPT_S, f"{what}: answered after {r.secs:.1f}s"
    try:
        body = json.loads(r.body.decode("utf-8", errors="strict"))
    except ValueError as e:
        raise AssertionError(f"{what}: body is not valid UTF-8 JSON ({e}): {r}") from None
    f = body.get("fault") if isinstance(body, dict) else None
    assert isinstance(f, dict) and f.get("reason") and isinstance(f["reason"], str), \
        f"{what}: no fault.reason: {r}"
    assert isinstance(f.get("detail"), str) and f["detail"], f"{what}: no fault.detail: {r}"
    return f


def check_fault(r, status, what):
    """Like fault_of for a harness Response (http.client)."""
    want = status if isinstance(status, tuple) else (status,)
    assert r.status in want, f"{what}: expected {status}, got {r}"
    # r.body is None unless the payload parsed as JSON, which needs valid UTF-8.
    f = (r.body or {}).get("fault") if isinstance(r.body, dict) else None
    assert isinstance(f, dict) and f.get("reason") and f.get("detail"), \
        f"{what}: no JSON fault body: {r}"
    return f


# ------------------------------------------------------------------ the HTTP server

def test_methods_the_api_does_not_serve(ctx):
    with Engine(ctx) as eng:
        for tok in (None, eng.token):
            for method, target in (("CONNECT", b"/api"), ("CONNECT", b"127.0.0.1:443"),
                                   ("TRACE", b"/api"), ("FOO", b"/api/vms"),
                                   ("M-SEARCH", b"*"), ("get", b"/api"), ("PROPFIND", b"/api")):
                what = f"{method} {target!r} token={bool(tok)}"
                r = raw_request(eng, head(method, target, token=tok))
                f = fault_of(r, 405, what)
                assert method in f["detail"], (what, f)
                assert "GET" in r.headers.get("allow", ""), (what, r)
                assert r.closed, f"{what}: connection left open: {r}"
        # CONNECT with a body the server will not read: still answered.
        r = raw_request(eng, head("CONNECT", b"/api", [b"Content-Length: 5"], eng.token, b"hello"))
        fault_of(r, 405, "CONNECT with a body")
        # The methods the API uses still reach it.
        assert eng.request("GET", "/api").status == 200
        assert eng.request("HEAD", "/api").status in (200, 405)
        r = eng.request("PATCH", "/api/datacenters", {})
        assert "does not serve" not in r.text, f"PATCH refused by the server, not the API: {r}"


@one_backend(backend="sqlite")
def test_oversized_heads_get_json_refusals(ctx):
    with Engine(ctx) as eng:
        tok = eng.token
        shapes = {
            "path": (lambda n: head("GET", b"/api/" + b"a" * n, token=tok), 414),
            "query": (lambda n: head("GET", b"/api/vms?search=" + b"a" * n, token=tok), 414),
            "header": (lambda n: head("GET", b"/api", [b"X-A: " + b"a" * n], tok), 431),
            # Lines of 100 bytes: always over 100 of them here.
            "headers": (lambda n: head("GET", b"/api", [b"X-%d: %s" % (i, b"b" * 90)
                                                        for i in range(n // 100)], tok), 431),
        }
        # Around 32 KiB (where the library used to reset or hang) densely,
        # then up to well past the old pool size.
        sizes = list(range(MAX_HEAD + 100, MAX_HEAD + 2000, 499)) + \
            list(range(31000, 34000, 37)) + list(range(34000, 40000, 1499))
        # 340 header records fill the library's pool before our check
        cases = [(name, n) for name in shapes for n in sizes if not (name == "headers" and n > 34000)]

        def check(case):
            name, n = case
            make, status = shapes[name]
            try:
                fault_of(raw_request(eng, make(n)), status, f"{name} {n}")
            except AssertionError as e:
                return str(e)[:300]
            return None
        # Four connections at a time (each request has its own): the ~350
        # TLS handshakes one after the other took most of the test's time.
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            wrong = [w for w in pool.map(check, cases) if w]
        assert not wrong, f"{len(wrong)} heads not refused as expected:\n  " + \
            "\n  ".join(wrong[:20])
        # Just within the limits: served (404/200/400 from the API, not 414/431).
        r = raw_request(eng, head("GET", b"/api/" + b"a" * (MAX_URL - len("/api/")), token=tok))
        assert r.status == 404, f"a target of exactly {MAX_URL} bytes: {r}"
        r = raw_request(eng, head("GET", b"/api/" + b"a" * (MAX_URL - 4), token=tok))
        fault_of(r, 414, f"a target of {MAX_URL + 1} bytes")
        # head() adds three lines (Host, Connection, Authorization).
        lines = [b"X-%d: x" % i for i in range(MAX_HEADERS)]
        r = raw_request(eng, head("GET", b"/api", lines[:MAX_HEADERS - 4], tok))
        assert r.status == 200, f"{MAX_HEADERS - 1} header lines: {r}"
        r = raw_request(eng, head("GET", b"/api", lines, tok))
        fault_of(r, 431, f"{MAX_HEADERS + 3} header lines")
        assert eng.request("GET", "/api").status == 200


@one_backend
def test_heads_beyond_the_pool_are_closed_promptly(ctx):
    """Heads near and over the library's per-connection memory: its own
    414/431 (not JSON) or, within a few hundred bytes of the pool size, a
    close without a status (libmicrohttpd 0.9.75) - but never a hang."""
    with Engine(ctx) as eng:
        slow = []
        for n in list(range(POOL - 1500, POOL + 1500, 53)) + [100_000, 1_000_000]:
            for data in (head("GET", b"/api/" + b"a" * n),
                         head("GET", b"/api", [b"X-A: " + b"a" * n])):
                r = raw_request(eng, data)
                if r.secs >= PROMPT_S or not r.closed or r.status not in (None, 414, 431):
                    slow.append(f"{n}: {r}")
        assert not slow, "heads left hanging or wrongly answered:\n  " + "\n  ".join(slow[:10])
        assert eng.request("GET", "/api").status == 200


def test_queries_are_bounded(ctx):
    with Engine(ctx) as eng:
        tok = eng.token
        # Many parameters used to leave the connection hanging (the
        # library's pool ran out while recording them).
        for n in (MAX_ARGS + 1, 300, 1000, 3000):
            r = raw_request(eng, head("GET", b"/api/vms?" + b"&".join([b"a=1"] * n), token=tok))
            f = fault_of(r, (400, 414), f"{n} query parameters")
            if len(b"a=1&") * n < MAX_URL:
                assert "parameters" in f["detail"], f
        r = raw_request(eng, head("GET", b"/api/vms?" + b"&".join([b"a=1"] * MAX_ARGS), token=tok))
        assert r.status == 200, f"{MAX_ARGS} query parameters: {r}"
        # Our own parser decodes like the library did.
        eng.create_dc("q-dc.1")
        eng.create_dc("q-dc.2")
        got = eng.get("/api/datacenters?search=name%3Dq-dc.1&max=5")
        assert [d["name"] for d in got["datacenters"]] == ["q-dc.1"], got
        got = eng.get("/api/datacenters?search=name%3Dq-*+and+name%3D*.1&page=1")
        assert got["total"] == 1, got
        got = eng.get("/api/datacenters?&&search=name=nomatch&")
        assert got["total"] == 0, got
        # A key without '=' has no value: as if absent (as before).
        assert eng.get("/api/datacenters?max&page")["total"] == 2
        # Repeated parameters: the first counts.
        got = eng.get("/api/datacenters?max=1&max=500")
        assert len(got["datacenters"]) == 1 and got["total"] == 2, got


def test_body_limits_and_expect(ctx):
    with Engine(ctx) as eng:
        tok = eng.token
        # A client that waits for "100 Continue" is refused before sending.
        big = str(2 << 20).encode()
        r = raw_request(eng, head("POST", b"/api/datacenters",
                                  [b"Content-Type: application/json", b"Content-Length: " + big,
                                   b"Expect: 100-continue"], tok))
        fault_of(r, 413, "Expect: 100-continue with 2 MiB")
        # Chunked bodies over the limit: 413 too.
        chunk = b"x" * 65536
        body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(20)) + b"0\r\n\r\n"
        r = raw_request(eng, head("POST", b"/api/datacenters",
                                  [b"Content-Type: application/json",
                                   b"Transfer-Encoding: chunked"], tok, body))
        fault_of(r, 413, "chunked body of 1.25 MiB")
        assert eng.request("GET", "/api").status == 200


def test_keepalive_requests_each_get_their_own_state(ctx):
    """Two requests on one connection: the second's query and path are its
    own (per-request state is made when its request line arrives)."""
    with Engine(ctx) as eng:
        eng.create_dc("ka1")
        s = connect(eng)
        try:
            for target, want in ((b"/api/datacenters?search=name%3Dka1", 1),
                                 (b"/api/datacenters?search=name%3Dnone", 0),
                                 (b"/api/datacenters", 1)):
                s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                          + eng.token.encode() + b"\r\n\r\n")
                r = read_response(s, time.monotonic())
                assert r.status == 200 and not r.closed, r
                assert json.loads(r.body)["total"] == want, (target, r)
        finally:
            s.close()


def test_malformed_requests_answered_promptly(ctx):
    """What the library refuses itself: a status (its own HTML), promptly."""
    with Engine(ctx) as eng:
        for data, status in ((b"GET /api HTTP/9.9\r\nHost: x\r\n\r\n", 505),
                             (b"GET /api HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 400),
                             (b"abc garbage\r\n\r\n", 400),
                             (b"GET /api HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400),
                             (b"POST /api/datacenters HTTP/1.1\r\nHost: x\r\n"
                              b"Transfer-Encoding: chunked\r\n\r\nzz\r\n\r\n", 400)):
            r = raw_request(eng, data)
            assert r.status == status and r.secs < PROMPT_S and r.closed, (data[:40], r)
        assert eng.request("GET", "/api").status == 200


# ------------------------------------------------------------------ UTF-8 in faults and events

@one_backend(backend="sqlite")
def test_invalid_utf8_in_urls_gets_json_faults(ctx):
    with Engine(ctx) as eng:
        targets = [b"/api/datacenters/\xff", b"/api/%FF", b"/api/vms/%C3", b"/api/\xc3\x28",
                   b"/api/%ff%fe/x", b"/api/datacenters/%00", b"/api/vms%ED%A0%80",
                   b"/api/vms?search=name%3D%FF", b"/api/vms?search=name=\xff",
                   b"/api/events?search=message%3D%C3", b"/api/vms?max=%FF", b"/api/vms?%FF=1",
                   b"/api/vms?search=name%3Da%00b", b"/\xff\xfe", b"/api/sso/token?\xff"]
        def check(case):
            tok, t, method = case
            fault_of(raw_request(eng, head(method, t, token=tok)), 400, f"{method} {t!r} token={bool(tok)}")
        # four connections at a time (each request has its own); the first
        # failure is raised here
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(check, [(tok, t, method) for tok in (None, eng.token) for t in targets
                                  for method in ("GET", "POST", "DELETE")]))
        # Valid non-ASCII in the path is no error of its own: the API's
        # answer (404 with the name quoted) still has a fault that parses.
        for n in (1, 40, 63, 200):
            for pre in ("", "a", "ab"):
                r = raw_request(eng, head("GET", ("/api/" + pre + "é" * n).encode()
                                          .replace(b"\xc3", b"%C3").replace(b"\xa9", b"%A9"),
                                          token=eng.token))
                fault_of(r, 404, f"non-ASCII collection name {pre!r}+{n}")
        assert eng.request("GET", "/api").status == 200


def test_long_non_ascii_text_keeps_faults_and_events(ctx):
    """Texts that fill the engine's message buffers with multi-byte
    characters, at every offset: the fault and the event are still there."""
    with Engine(ctx) as eng:
        for pre in range(4):
            for ch in ("é", "漢", "😀"):
                # A search clause quoted back in the detail.
                s = "a" * pre + ch * (990 // len(ch.encode()))
                r = eng.request("GET", "/api/vms", params={"search": s})
                check_fault(r, 400, f"search of {len(s.encode())} bytes, offset {pre}")
                # Names: refused with a fault.
                r = eng.request("POST", "/api/datacenters", {"name": "a" * pre + ch * 400})
                check_fault(r, 400, f"long non-ASCII name, offset {pre}")
                # A path component quoted in a 404.
                name = "a" * pre + ch * (120 // len(ch.encode()))
                r = eng.request("GET", "/api/" + urllib.parse.quote(name))
                check_fault(r, 404, f"long non-ASCII collection, offset {pre}")
        # A failed login quotes the user name in its event: names long
        # enough to be cut, at every offset, still leave a readable event.
        users = ["x" * pre + "é" * 600 for pre in range(4)] + ["😀" * 300 + "y"]
        for u in users:
            r = eng.request("POST", "/api/sso/token", {"grant_type": "password", "username": u,
                                                       "password": "wrong-password"}, token=None)
            check_fault(r, 401, "long non-ASCII user")
        r = eng.request("GET", "/api/events", params={"max": 1000})
        assert r.status == 200 and isinstance(r.body, dict), f"events list: {r}"
        failed = [e for e in r.body["events"] if "failed login" in (e.get("message") or "")]
        assert len(failed) == len(users), [e.get("message", "")[:60] for e in r.body["events"]]
        assert all(isinstance(e["message"], str) and e["message"] for e in r.body["events"]), \
            "an event lost its message"
        for e in failed:
            assert len(e["message"].encode()) < 1024 and e["user"], e
        # Descriptions are stored whole, non-ASCII included.
        dc = eng.create_dc("utf8dc")
        desc = "ü" * 1000
        assert eng.call("PUT", dc["href"], {"description": desc})["description"] == desc


# ------------------------------------------------------------------ lockout under concurrency

def burst(eng, user, passwords):
    """Send one token request per password at the same moment, each on its
    own connection opened (TLS handshake done) beforehand; returns the
    statuses in order."""
    socks = [connect(eng, timeout=30) for _ in passwords]
    ready = threading.Barrier(len(passwords))
    out = [None] * len(passwords)

    def one(i):
        body = json.dumps({"grant_type": "password", "username": user,
                           "password": passwords[i]}).encode()
        data = (b"POST /api/sso/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)) + body
        ready.wait()
        t0 = time.monotonic()
        socks[i].sendall(data)
        out[i] = read_response(socks[i], t0)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(passwords))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for s in socks:
        s.close()
    for r in out:
        assert r is not None and r.status is not None, out
        if r.status != 200:
            fault_of(r, (401, 429), f"burst for {user}")
    return [r.status for r in out]


def test_lockout_holds_under_concurrent_guesses(ctx):
    with Engine(ctx) as eng:
        # A fresh name: exactly 3 of 24 simultaneous guesses are evaluated.
        got = burst(eng, "race@internal", ["wrong-%d" % i for i in range(24)])
        assert sorted(got) == [401] * 3 + [429] * 21, got
        msgs = [e["message"] for e in eng.events()]
        assert sum("failed login for 'race@internal'" in m for m in msgs) == 3, msgs
        # Right passwords at once are all let in: waiting for the checks
        # in flight is not a failure.
        got = burst(eng, ADMIN, [eng.admin_password] * 16)
        assert got == [200] * 16, got
        # Two failures, then a burst of right passwords: with one failure
        # left, one is checked at a time; the first resets the count and
        # every one gets in (none is locked out on behalf of the others).
        for _ in range(2):
            r = eng.request("POST", "/api/sso/token", {"grant_type": "password", "username": ADMIN,
                                                       "password": "wrong"}, token=None)
            check_fault(r, 401, "admin wrong password")
        got = burst(eng, ADMIN, [eng.admin_password] * 4)
        assert got == [200] * 4, got
        # The same for the admin, and then the right password is refused
        # while the lockout lasts...
        got = burst(eng, ADMIN, ["wrong-%d" % i for i in range(24)])
        assert sorted(got) == [401] * 3 + [429] * 21, got
        r = eng.request("POST", "/api/sso/token", {"grant_type": "password", "username": ADMIN,
                                                   "password": eng.admin_password}, token=None)
        check_fault(r, 429, "right password while locked out")
        # ...and accepted after it (1 s after the third failure).
        time.sleep(1.5)
        eng.login()
        # After a lockout has run out, one more guess is evaluated, then
        # the next (2 s) lockout holds against a burst too.
        got = burst(eng, "race@internal", ["wrong-%d" % i for i in range(12)])
        assert sorted(got) == [401] + [429] * 11, got
        msgs = [e["message"] for e in eng.events()]
        assert sum("failed login for 'race@internal'" in m for m in msgs) == 4, msgs
