#!/usr/bin/env python3
"""The browser portals (docs/portal.md) in a real headless Chromium against
an engine holding 10,000 VMs (put in by SQL).

Measures, each the median of --runs cold loads (a fresh browser profile
every time, so nothing is cached): bytes transferred for the first screen
(page, script, CSS, fonts: what goes over the wire, gzip'ed), time to
interactive (navigation start to the login form rendered and answering,
performance.mark("vireo-ready")); then, logged in, the time until the VM
list shows its first page of 10,000, the next page, a search, and how many
rows the page holds (paging: never all 10,000).

usage: bench/portal_bench.py [--build build] [--vms 10000] [--runs 5]"""

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(TOP, "tests"))
from harness import browser  # noqa: E402
from harness.engine import Engine, local_pki  # noqa: E402


def populate(db, nvms):
    """One data center, one cluster, nvms stopped VMs."""
    c = sqlite3.connect(db)
    now = int(time.time())
    dc, cl = str(uuid.uuid4()), str(uuid.uuid4())
    c.execute("INSERT INTO datacenters (id, name, created_at) VALUES (?,?,?)", (dc, "benchdc", now))
    c.execute("INSERT INTO clusters (id, name, datacenter_id, created_at) VALUES (?,?,?,?)", (cl, "benchcl", dc, now))
    spec = json.dumps({"disks": [], "nics": [], "serial_console": True, "vnc": False})
    c.executemany("INSERT INTO vms (id, name, cluster_id, status, memory_mib, vcpus, spec_json, created_at)"
                  " VALUES (?,?,?, 'down', 1024, 2, ?, ?)",
                  [(str(uuid.uuid4()), f"vm{i:05d}", cl, spec, now) for i in range(nvms)])
    c.commit()
    c.close()


def ms_until(b, act, pred, what, timeout=30):
    """Milliseconds (the page's clock) from just before act() until pred()
    holds."""
    t0 = b.js("return performance.now()")
    act()
    deadline = time.monotonic() + timeout
    while True:  # polled every 10 ms (each poll is a WebDriver round trip or two)
        try:
            if pred():
                break
        except Exception:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"no {what} after {timeout}s")
        time.sleep(0.01)
    return b.js("return performance.now()") - t0


def rows(b):
    return len(b.all("[data-list=vms] tbody tr"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--vms", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    why = browser.available()
    if why:
        sys.exit(why)
    portal = os.path.join(build, "portal")
    subprocess.run([os.path.join(TOP, "scripts", "build-portal"), portal], check=True, stdout=subprocess.DEVNULL)
    pki = local_pki()
    shots = os.path.join(build, "bench-artifacts", "portal")
    eng = Engine(binary=os.path.join(build, "src", "engine", "vireo-engine"), pki_dir=pki, debug=False,
                 extra_args=["--portal-dir", portal])
    try:
        eng.start()
        eng.stop()
        populate(os.path.join(eng.state_dir, "engine.db"), a.vms)
        eng.start()
        base = f"https://127.0.0.1:{eng.port}"
        sizes, tti, first, nxt, search, shown = [], [], [], [], [], []
        for i in range(a.runs):
            with browser.Browser(shots) as b:
                b.open(base + "/admin")
                b.find("#login-user")
                tti.append(b.js("return performance.getEntriesByName('vireo-ready')[0].startTime"))
                sizes.append(b.js("return performance.getEntriesByType('navigation').concat("
                                  "performance.getEntriesByType('resource'))"
                                  ".reduce((s, e) => s + e.transferSize, 0)"))
                b.type("#login-user", "admin@internal")
                b.type("#login-password", eng.admin_password)
                first.append(ms_until(b, b.find("#login-submit").click,
                                      lambda: rows(b) == 20  # the total as a number, not as the language writes it
                                      and b.find(".vireo-total").get_attribute("data-total") == str(a.vms),
                                      "the first page of VMs"))
                shown.append(rows(b))
                nxt.append(ms_until(b, b.find("[data-list=vms] button[aria-label='Next page']").click,
                                    lambda: b.text("[data-list=vms] tbody tr:first-child .vireo-name") == "vm00020",
                                    "page 2"))
                box = b.type("#search-vms", f"name=vm{a.vms - 1:05d}")
                search.append(ms_until(b, lambda: box.send_keys("\n"), lambda: rows(b) == 1,
                                       "the search's one VM"))
                if i == 0:
                    b.shot("bench-vms-page2-search")
        med = statistics.median
        print(f"VMs in the engine: {a.vms}; runs: {a.runs} (cold: a fresh profile each)")
        print(f"first load transferred: {med(sizes) / 1024:.0f} KiB (min {min(sizes) / 1024:.0f}, max {max(sizes) / 1024:.0f})")
        print(f"time to interactive:    {med(tti):.0f} ms (min {min(tti):.0f}, max {max(tti):.0f})")
        print(f"login to first page:    {med(first):.0f} ms")
        print(f"next page:              {med(nxt):.0f} ms")
        print(f"search (name=...):      {med(search):.0f} ms")
        print(f"rows in the page:       {max(shown)} of {a.vms}")
    finally:
        eng.close(ok=False)
        shutil.rmtree(eng.state_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
