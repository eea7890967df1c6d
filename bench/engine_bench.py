#!/usr/bin/env python3
"""vireo-engine at scale, against the HOST SIMULATOR (bench/host_simulator.py:
fake agents, used only for scale): 400 hosts and 10,000 VMs in the
database, all hosts monitored live over mutual TLS.

Measures: engine RSS; latency p50/p99 of GET /api/vms (one page) and GET one
VM, side by side with the bare HTTPS+auth round trip (GET /api) as the
peer; requests/s on 2 cores (wrk if installed, else a thread pool); time
to place one VM among 400 hosts (bench/sched_bench).

With --postgresql the engine runs on a throwaway PostgreSQL server
(scripts/pg-test-server) instead of its SQLite file; the rows are loaded
with psql's COPY.

usage: bench/engine_bench.py [--build build] [--hosts 400] [--vms 10000] [--postgresql]"""

import argparse
import http.client
import json
import os
import shutil
import sqlite3
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
PORT, BASE = 18443, 30000
PG_DIR = "/var/tmp/vireo-bench-pg"  # the postgres user must reach it: not under the 0700 work dir


def rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return -1


class Api:
    def __init__(self, ca):
        self.ctx = ssl.create_default_context(cafile=ca)
        self.conn = http.client.HTTPSConnection("127.0.0.1", PORT, context=self.ctx)
        self.token = None

    def req(self, method, path, body=None):
        h = {"Content-Type": "application/json"}
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        self.conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
        r = self.conn.getresponse()
        data = r.read()
        return r.status, (json.loads(data) if data else None)


def start_engine(build, work, pki, database=None):
    log = open(os.path.join(work, "engine.log"), "a")
    extra = ["--database", database] if database else []
    return subprocess.Popen([f"{build}/src/engine/vireo-engine", "--pki", pki, "--listen",
                             f"127.0.0.1:{PORT}", "--state-dir", f"{work}/state",
                             "--https-cert", f"{pki}/api.crt", "--https-key", f"{pki}/api.key",
                             "--admin-password-file", f"{work}/pw"] + extra, stdout=log, stderr=log)


def wait_port(ca):
    for _ in range(100):
        try:
            Api(ca).req("GET", "/api/openapi.json")
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("engine did not come up")


class PgLoader:
    """Just enough of sqlite3's connection interface for populate(): rows
    are collected and sent with one COPY per table through psql."""

    def __init__(self, uri):
        self.uri, self.tables = uri, {}

    def execute(self, sql, row):
        self.executemany(sql, [row])

    def executemany(self, sql, rows):
        table = sql.split()[2]
        cols = sql[sql.index("(") + 1:sql.index(")")].replace(" ", "").split(",")
        consts = sql[sql.index("VALUES"):].split("(", 1)[1].rsplit(")", 1)[0].split(",")
        consts = [v.strip() for v in consts]
        out = self.tables.setdefault(table, (cols, []))[1]
        for row in rows:
            it = iter(row)
            out.append([next(it) if v == "?" else v.strip("'") for v in consts])

    def commit(self):
        for table, (cols, rows) in self.tables.items():
            data = "".join("\t".join(str(v) for v in r) + "\n" for r in rows)
            subprocess.run(["psql", self.uri, "-qc", f"COPY {table} ({', '.join(cols)}) FROM STDIN"],
                           input=data, text=True, check=True)

    def close(self):
        pass


def populate(db, nhosts, nvms):
    c = PgLoader(db) if db.startswith("postgresql://") else sqlite3.connect(db)
    now = int(time.time())
    dc, cl = str(uuid.uuid4()), str(uuid.uuid4())
    c.execute("INSERT INTO datacenters (id, name, created_at) VALUES (?,?,?)", (dc, "dc", now))
    c.execute("INSERT INTO clusters (id, name, datacenter_id, created_at) VALUES (?,?,?,?)",
              (cl, "cl", dc, now))
    hosts = [str(uuid.uuid4()) for _ in range(nhosts)]
    c.executemany("INSERT INTO hosts (id, name, cluster_id, address, port, status, created_at,"
                  " mem_total_mib, virt_mode, max_vcpus, cpus) VALUES (?,?,?,?,?, 'up', ?,"
                  " 524288, 'kvm', 240, 64)",
                  [(h, f"host{i:03d}", cl, "127.0.0.1", BASE + i, now) for i, h in enumerate(hosts)])
    assign = {}
    rows = []
    spec = json.dumps({"disks": [], "nics": [], "serial_console": True, "vnc": False})
    for i in range(nvms):
        vid, hi = str(uuid.uuid4()), i % nhosts
        assign.setdefault(str(hi), []).append(vid)
        rows.append((vid, f"vm{i:05d}", cl, hosts[hi], 1024, 2, spec, now))
    c.executemany("INSERT INTO vms (id, name, cluster_id, host_id, status, memory_mib, vcpus,"
                  " spec_json, created_at) VALUES (?,?,?,?, 'up', ?,?,?,?)", rows)
    c.commit()
    c.close()
    return assign, rows[nvms // 2][0]


def timed(api, path, n):
    t = []
    for _ in range(n):
        t0 = time.perf_counter()
        st, _ = api.req("GET", path)
        t.append((time.perf_counter() - t0) * 1000)
        assert st == 200, (path, st)
    t.sort()
    return statistics.median(t), t[int(len(t) * 0.99) - 1]


def rps(ca, token, path, seconds=10):
    if shutil.which("wrk"):
        out = subprocess.run(["wrk", "-t2", "-c16", f"-d{seconds}s", "-H",
                              f"Authorization: Bearer {token}", f"https://127.0.0.1:{PORT}{path}"],
                             capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Requests/sec:"):
                return float(line.split()[1]), "wrk -t2 -c16"
    count, stop = [0], time.monotonic() + seconds

    def worker():
        a = Api(ca)
        a.token = token
        while time.monotonic() < stop:
            a.req("GET", path)
            count[0] += 1
    ts = [threading.Thread(target=worker) for _ in range(8)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    return count[0] / seconds, "8 Python threads (client-bound)"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--hosts", type=int, default=400)
    ap.add_argument("--vms", type=int, default=10000)
    ap.add_argument("--postgresql", action="store_true", help="engine on a throwaway PostgreSQL server")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    work = tempfile.mkdtemp(prefix="vireo-engine-bench-", dir="/var/tmp")
    pki = f"{work}/pki"
    for args in (["init", pki], ["issue", pki, "engine"], ["issue", pki, "api", "--ip", "127.0.0.1"],
                 ["issue", pki, "sim", "--ip", "127.0.0.1"]):
        subprocess.run([f"{TOP}/scripts/pki", *args], check=True, capture_output=True)
    open(f"{work}/pw", "w").write("bench-password\n")
    ca = f"{pki}/ca.crt"
    procs = []
    database = None
    if a.postgresql:
        database = subprocess.run([f"{TOP}/scripts/pg-test-server", "start", PG_DIR, "5496", "bench"],
                                  capture_output=True, text=True, check=True).stdout.strip()
    try:
        eng = start_engine(build, work, pki, database)
        wait_port(ca)
        eng.terminate()
        eng.wait()
        assign, vm_id = populate(database or f"{work}/state/engine.db", a.hosts, a.vms)
        json.dump(assign, open(f"{work}/vms.json", "w"))
        # In production the agents run on their own machines; here the
        # simulator shares the 2 cores, so it runs niced to stand in for
        # CPU that is not the engine's.
        sim = subprocess.Popen(["nice", "-n", "15", sys.executable, f"{TOP}/bench/host_simulator.py", "--pki", pki,
                                "--cert", "sim", "--hosts", str(a.hosts), "--base-port", str(BASE),
                                "--vms-file", f"{work}/vms.json"], stdout=subprocess.PIPE, text=True)
        procs.append(sim)
        assert sim.stdout.readline().strip() == "ready"
        eng = start_engine(build, work, pki, database)
        procs.append(eng)
        wait_port(ca)
        api = Api(ca)
        st, tok = api.req("POST", "/api/sso/token", {"grant_type": "password",
                                                     "username": "admin@internal",
                                                     "password": "bench-password"})
        api.token = tok["access_token"]
        time.sleep(8)  # every host polled at least twice
        st, hosts = api.req("GET", "/api/hosts?search=status=up&max=1")
        up = hosts["total"]
        r = {"hosts_up": up, "rss_mib": rss_mib(eng.pid)}
        timed(api, "/api", 50)  # warm up
        r["peer_p50"], r["peer_p99"] = timed(api, "/api", 500)
        r["list_p50"], r["list_p99"] = timed(api, "/api/vms", 300)
        r["one_p50"], r["one_p99"] = timed(api, f"/api/vms/{vm_id}", 500)
        r["rps_one"], r["rps_how"] = rps(ca, api.token, f"/api/vms/{vm_id}")
        r["rss_mib_after"] = rss_mib(eng.pid)
        out = subprocess.run([f"{build}/bench/sched_bench", "choose", str(a.hosts), "2000"],
                             capture_output=True, text=True, check=True).stdout.strip()
        r["choose"] = out
        out = subprocess.run([f"{build}/bench/sched_bench", "pick", database or f"{work}/state/engine.db",
                              vm_id, "200"], capture_output=True, text=True, check=True).stdout.strip()
        r["pick"] = out
    finally:
        for p in procs:
            p.terminate()
            p.wait()
        if database:
            subprocess.run([f"{TOP}/scripts/pg-test-server", "destroy", PG_DIR], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    print(f"{a.hosts} simulated hosts ({r['hosts_up']} up), {a.vms} VMs, "
          f"{'PostgreSQL' if database else 'SQLite'} database")
    print(f"engine RSS: {r['rss_mib']:.1f} MiB, after load {r['rss_mib_after']:.1f} MiB (goal <= 50)")
    print(f"GET /api (peer: HTTPS + auth only): p50 {r['peer_p50']:.2f} ms, p99 {r['peer_p99']:.2f} ms")
    print(f"GET /api/vms (100 of {a.vms}): p50 {r['list_p50']:.2f} ms, p99 {r['list_p99']:.2f} ms "
          f"(x{r['list_p50'] / r['peer_p50']:.1f} of peer; goal p99 <= 10)")
    print(f"GET /api/vms/ID: p50 {r['one_p50']:.2f} ms, p99 {r['one_p99']:.2f} ms "
          f"(x{r['one_p50'] / r['peer_p50']:.1f} of peer; goal p99 <= 10)")
    print(f"requests/s GET one VM: {r['rps_one']:.0f} ({r['rps_how']})")
    print(f"placement among {a.hosts} hosts: {r['choose']}; {r['pick']} (goal <= 1 ms)")
    print(json.dumps(r))


if __name__ == "__main__":
    main()
