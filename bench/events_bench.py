#!/usr/bin/env python3
"""Events long poll (docs/rest-api.md "Events"): how many followers the
engine holds at once, what that costs the engine and other requests, and
how soon a new event reaches them, next to the 1 s poll the portal used
before. Runs an engine of the given build without harness hosts;
--postgresql uses $VIREO_TEST_PG_URI.

  bench/events_bench.py --build build-asan --pki /var/tmp/pki [--waiters 500] [--postgresql]

The followers are threads of this script, each on its own HTTPS
connection: GET /api/events?search=after=LAST&wait=60. Latencies run from
just before the POST that makes the event to each follower's answer.
"""

import argparse
import http.client
import json
import os
import random
import statistics
import sys
import threading
import time
import types
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from harness.engine import Engine  # noqa: E402


def engine_threads(eng):
    with open(f"/proc/{eng.proc.pid}/status") as f:
        return int(next(line.split()[1] for line in f if line.startswith("Threads:")))


def get(eng, path, params, timeout=90):
    """One GET on a new connection: (status, body, seconds)."""
    conn = http.client.HTTPSConnection("127.0.0.1", eng.port, context=eng.ssl_ctx, timeout=timeout)
    t0 = time.monotonic()
    try:
        conn.request("GET", path + "?" + urllib.parse.urlencode(params),
                     headers={"Authorization": "Bearer " + eng.token})
        r = conn.getresponse()
        body = json.loads(r.read() or b"null")
        return r.status, body, time.monotonic()
    finally:
        conn.close()


def last_id(eng):
    return eng.get("/api/events", params={"max": 1})["events"][0]["id"]


def followers(eng, n, wait_s, after):
    """Start n long polls; returns (threads, answers: list of (status, body, t_answer))."""
    answers = []
    lock = threading.Lock()

    def one():
        try:
            a = get(eng, "/api/events", {"search": f"after={after}", "wait": wait_s})
        except Exception as e:  # noqa: BLE001 - counted as a failure
            a = (0, repr(e), time.monotonic())
        with lock:
            answers.append(a)

    ts = [threading.Thread(target=one, daemon=True) for _ in range(n)]
    for t in ts:
        t.start()
    return ts, answers


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def long_poll_round(eng, n, name):
    """n followers held, then one create: (latencies in s, held seconds check)."""
    after = last_id(eng)
    ts, answers = followers(eng, n, 60, after)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and eng.request("GET", "/api/events", params={"max": 1}).status != 200:
        time.sleep(0.1)
    time.sleep(2.0 + n / 100)  # every follower connected and parked
    early = len(answers)
    threads_held = engine_threads(eng)
    other = []
    for _ in range(9):
        t0 = time.monotonic()
        assert eng.request("GET", "/api/datacenters").status == 200
        other.append(time.monotonic() - t0)
    t0 = time.monotonic()
    eng.call("POST", "/api/datacenters", {"name": name}, expect=201)
    for t in ts:
        t.join(90)
    ok = [a for a in answers if a[0] == 200 and a[1]["events"]]
    lat = [a[2] - t0 for a in ok]
    return {"n": n, "early": early, "answered": len(ok), "failed": len(answers) - len(ok),
            "threads_held": threads_held, "other_ms": statistics.median(other) * 1000, "lat": lat}


def engine_cpu_s(eng):
    with open(f"/proc/{eng.proc.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def burst_round(eng, n, events):
    """n followers who may see none of the events (a user without
    permissions) held while the administrator makes `events` data centers
    back to back: the engine's CPU for the burst (each wake runs every held
    listing again; wakes in a burst are served together), and how many
    followers were answered (none should be)."""
    t0 = time.monotonic()
    for i in range(events):
        eng.call("POST", "/api/datacenters", {"name": f"quiet{i}"}, expect=201)
    alone = time.monotonic() - t0
    eng.call("POST", "/api/users", {"name": "evbench@internal", "password": "bench-pass"}, expect=201)
    user = eng.login("evbench@internal", "bench-pass", set_token=False)
    admin, eng.token = eng.token, user
    try:
        ts, answers = followers(eng, n, 60, last_id_as(eng, admin))
    finally:
        eng.token = admin
    time.sleep(2.0 + n / 100)
    cpu0, t0 = engine_cpu_s(eng), time.monotonic()
    for i in range(events):
        eng.call("POST", "/api/datacenters", {"name": f"burst{i}"}, expect=201)
    took = time.monotonic() - t0
    time.sleep(1.0)
    cpu = engine_cpu_s(eng) - cpu0
    answered = len(answers)
    return {"n": n, "events": events, "seconds": took, "cpu": cpu, "answered": answered, "alone": alone}


def last_id_as(eng, token):
    return eng.get("/api/events", params={"max": 1}, token=token)["events"][0]["id"]


def poll_round(eng, creates, interval=1.0):
    """The old follower: GET after=LAST every interval s; creates at random
    moments; latency from each create to the poll that saw it."""
    seen = {}
    stop = threading.Event()
    after = [last_id(eng)]

    def poller():
        while not stop.is_set():
            st, body, t = get(eng, "/api/events", {"search": f"after={after[0]}"})
            for e in body["events"]:
                seen.setdefault(e["message"], t)
                after[0] = max(after[0], e["id"])
            stop.wait(interval)

    th = threading.Thread(target=poller, daemon=True)
    th.start()
    lat = []
    for i in range(creates):
        time.sleep(random.uniform(0.3, 1.7))
        name = f"poll{i}-{random.randrange(1 << 30)}"
        t0 = time.monotonic()
        eng.call("POST", "/api/datacenters", {"name": name}, expect=201)
        msg = f"data center '{name}' was created by admin@internal"
        deadline = time.monotonic() + 10
        while msg not in seen and time.monotonic() < deadline:
            time.sleep(0.01)
        lat.append(seen[msg] - t0)
    stop.set()
    th.join(5)
    return lat


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--pki", required=True, help="a scripts/pki directory with ca.crt and engine.crt/.key")
    ap.add_argument("--postgresql", action="store_true")
    ap.add_argument("--waiters", type=int, default=500)
    ap.add_argument("--creates", type=int, default=10, help="events for the 1 s poll's latency")
    a = ap.parse_args()
    ctx = types.SimpleNamespace(build=os.path.abspath(a.build), engine_db="postgresql" if a.postgresql else "sqlite")
    with Engine(ctx, pki_dir=a.pki) as eng:
        idle_threads = engine_threads(eng)
        single = [long_poll_round(eng, 1, f"lp1-{i}")["lat"][0] for i in range(a.creates)]
        many = long_poll_round(eng, a.waiters, "lpmany")
        polled = poll_round(eng, a.creates)
        burst = burst_round(eng, a.waiters, 50)
        ms = lambda s: f"{s * 1000:.0f} ms"  # noqa: E731
        print(f"database: {ctx.engine_db}; engine threads idle: {idle_threads}, "
              f"with {many['n']} held: {many['threads_held']}")
        print(f"held {many['n']}: answered before the event: {many['early']}, answered with it: "
              f"{many['answered']}, failed: {many['failed']}; GET /api/datacenters meanwhile: "
              f"{many['other_ms']:.1f} ms (median of 9)")
        print("| Follower | median | p95 | max |")
        print("|---|---|---|---|")
        rows = (("long poll, 1 waiter", single), (f"long poll, {many['n']} waiters", many["lat"]),
                ("poll every 1 s", polled))
        for label, xs in rows:
            print(f"| {label} | {ms(statistics.median(xs))} | {ms(pct(xs, 95))} | {ms(max(xs))} |")
        print(f"ratio 1 s poll / long poll (median): 1 waiter {statistics.median(polled) / statistics.median(single):.1f}x,"
              f" {many['n']} waiters {statistics.median(polled) / statistics.median(many['lat']):.1f}x")
        print("requests per idle minute per follower: poll every 1 s 60, long poll (wait=25, the portal's) 2.4")
        print(f"burst: {burst['events']} events in {burst['seconds']:.2f} s with {burst['n']} held followers who see"
              f" none of them (without followers: {burst['alone']:.2f} s): engine CPU {burst['cpu']:.2f} s,"
              f" followers answered {burst['answered']}")


if __name__ == "__main__":
    main()
