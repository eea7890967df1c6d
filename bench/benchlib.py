"""What the engine benchmarks share: waiting for a condition and for an
engine job to end (they poll; the interval is part of what they measure)."""

import time


def wait(pred, timeout, what, interval=0.05):
    """pred()'s first true value, polled every interval seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    raise RuntimeError(f"timed out waiting for {what}")


def job_done(eng, job_id, timeout=600, interval=0.05):
    """The engine job once it ended; RuntimeError unless it finished."""
    def check():
        j = eng.get(f"/api/jobs/{job_id}")
        return j if j["status"] in ("finished", "failed", "cancelled") else None
    j = wait(check, timeout, f"job {job_id}", interval)
    if j["status"] != "finished":
        raise RuntimeError(f"job failed: {j}")
    return j


def bench_cluster(eng, hs):
    """Data center and cluster "bench" holding every harness host of hs,
    all up; returns (cluster, hosts)."""
    dc = eng.create_dc("bench")
    cl = eng.create_cluster("bench", dc["id"])
    hosts = [eng.create_host(h.name, h.addr, cl["id"], port=h.port) for h in hs.hosts]
    for h in hosts:
        eng.wait_status("hosts", h["id"], "up", timeout=60)
    return cl, hosts
