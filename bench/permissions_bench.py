#!/usr/bin/env python3
"""Filtered views (docs/permissions.md): the cost of a user's list, which
carries the permission filter, next to the same list for admin@internal
(unfiltered). 5,000 VMs and 50,000 events put in by SQL; the user holds
UserRole on one VM. Runs an engine of the given build without harness
hosts; --postgresql uses $VIREO_TEST_PG_URI.

  bench/permissions_bench.py --build build-release [--pki DIR] [--postgresql]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import types
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from harness.engine import Engine, local_pki, run_sql  # noqa: E402

VMS, EVENTS, ROUNDS = 5000, 50000, 9


def fill(eng, cluster):
    ids = [str(uuid.uuid4()) for _ in range(VMS)]
    vms = ("INSERT INTO vms (id, name, cluster_id, status, memory_mib, vcpus, spec_json, created_at) VALUES "
           + ",".join(f"('{i}','bvm{n}','{cluster}','down',128,1,'{{}}',0)" for n, i in enumerate(ids)))
    evs = ("INSERT INTO events (time, severity, user_name, object_type, object_id, message) VALUES "
           + ",".join(f"(0,'normal','x','vm','{ids[n % VMS]}','ev {n}')" for n in range(EVENTS)))
    if eng.database is None:
        run_sql(eng, vms, evs)
    else:  # too long for a command line
        with tempfile.NamedTemporaryFile("w", suffix=".sql") as f:
            f.write(vms + ";" + evs + ";")
            f.flush()
            subprocess.run(["psql", eng.database, "-v", "ON_ERROR_STOP=1", "-qf", f.name], check=True)
    return ids


def median_ms(eng, path, token):
    times = []
    for _ in range(ROUNDS):
        t0 = time.monotonic()
        r = eng.request("GET", path, token=token)
        times.append((time.monotonic() - t0) * 1000)
        assert r.status == 200, r
    return statistics.median(times), r.body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--pki", help="a scripts/pki directory with ca.crt and engine.crt/.key (default: made here)")
    ap.add_argument("--postgresql", action="store_true")
    a = ap.parse_args()
    ctx = types.SimpleNamespace(build=os.path.abspath(a.build), pki_dir=a.pki or local_pki(),
                                engine_db="postgresql" if a.postgresql else "sqlite")
    with Engine(ctx) as eng:
        dc = eng.create_dc("bdc")
        cl = eng.create_cluster("bcl", dc["id"])
        ids = fill(eng, cl["id"])
        u = eng.call("POST", "/api/users", {"name": "bench@internal", "password": "bench-pass"}, expect=201)
        role = next(r["id"] for r in eng.get("/api/roles", params={"max": 100})["roles"] if r["name"] == "UserRole")
        eng.call("POST", "/api/permissions", {"role_id": role, "object_type": "vm", "object_id": ids[7],
                                              "user_id": u["id"]}, expect=201)
        user = eng.login("bench@internal", "bench-pass", set_token=False)
        print(f"| Request ({ctx.engine_db}) | admin@internal | user (UserRole on 1 VM) |")
        print("|---|---|---|")
        for path in ("/api/vms", "/api/events", f"/api/vms/{ids[7]}"):
            (ta, ba), (tu, bu) = median_ms(eng, path, eng.token), median_ms(eng, path, user)
            label = path if len(path) < 20 else "/api/vms/ID"
            totals = f" (total {ba['total']} / {bu['total']})" if "total" in ba else ""
            print(f"| GET {label}{totals} | {ta:.0f} ms | {tu:.0f} ms |")


if __name__ == "__main__":
    main()
