"""GET /metrics: the engine's figures in Prometheus' text format 0.0.4
(docs/operations.md#metrics), read back with the prometheus_client parser
Debian ships (python3-prometheus-client)."""

import collections
import sys
import time
import uuid

from harness.engine import Engine, run_sql
from harness.rpc import RpcError

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:  # a Python other than Debian's (pyenv): use Debian's package
    sys.path.append("/usr/lib/python3/dist-packages")
    from prometheus_client.parser import text_string_to_metric_families

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Names no API path accepts (entity names are [A-Za-z0-9._-]), as an older
# engine or another tool may have stored them: the labels must carry them.
ODD_HOST = 'we"ird\\host\nline2'
ODD_VM = 'odd"vm\\name'


def scrape(eng):
    r = eng.request("GET", "/metrics")
    assert r.status == 200, r
    assert r.headers.get("content-type") == CONTENT_TYPE, r.headers
    fams = {f.name: f for f in text_string_to_metric_families(r.text)}
    return r.text, fams


def samples(fams, family, name=None, **labels):
    """Samples of family (named `name`, default the family's own) whose
    labels include `labels`: [(labels, value)]."""
    f = fams[family]
    return [(s.labels, s.value) for s in f.samples
            if s.name == (name or family) and all(s.labels.get(k) == v for k, v in labels.items())]


def one(fams, family, name=None, **labels):
    got = samples(fams, family, name, **labels)
    assert len(got) == 1, (family, labels, got)
    return got[0][1]


def test_metrics(ctx):
    h0 = ctx.hs.hosts[0]
    with Engine(ctx) as eng:
        # Without a valid token: 401, nothing served.
        for tok in (None, "0" * 64):
            r = eng.request("GET", "/metrics", token=tok)
            assert r.status == 401 and "vireo_" not in r.text, r
        assert eng.request("POST", "/metrics").status == 405

        dc = eng.create_dc("dc1")
        cl = eng.create_cluster("cl1", dc["id"])
        host = eng.create_host(h0.name, h0.addr, cl["id"], port=h0.port)
        eng.wait_status("hosts", host["id"], "up", timeout=30)
        spec = ctx.vm_spec("metrics1")
        vm = eng.create_vm("metrics1", cl["id"], boot=spec["boot"], disks=spec["disks"], nics=[{}])
        eng.create_vm("idle1", cl["id"])
        job = eng.wait_job(eng.start_vm(vm["id"]), timeout=60)
        assert job["status"] == "finished", job
        eng.wait_status("vms", vm["id"], "up", timeout=30)
        # Rows with names the API refuses, put in directly (no monitor runs
        # for a host added behind the engine's back).
        odd_host, odd_vm = str(uuid.uuid4()), str(uuid.uuid4())
        run_sql(eng,
                "INSERT INTO hosts (id, name, cluster_id, address, port, status, created_at) VALUES "
                f"('{odd_host}', '{ODD_HOST}', '{cl['id']}', '10.77.0.99', 54321, 'maintenance', 1)",
                "INSERT INTO vms (id, name, cluster_id, status, memory_mib, vcpus, spec_json, created_at) "
                f"VALUES ('{odd_vm}', '{ODD_VM}', '{cl['id']}', 'down', 128, 1, '{{}}', 1)")
        eng.request("GET", "/api/vms/00000000-0000-0000-0000-000000000000")  # a 404
        eng.request("GET", "/api/nonsense/x/y")

        # The VM's statistics arrive with its host's next poll (read again
        # every 10 s: its CPU time may still be 0 at the first read).
        def vm_stats():
            text, fams = scrape(eng)
            cpu = samples(fams, "vireo_vm_cpu_seconds", "vireo_vm_cpu_seconds_total", vm_id=vm["id"])
            return (text, fams) if cpu and cpu[0][1] > 0 else None
        text, fams = eng.wait_for(vm_stats, timeout=15, what="the VM's statistics in /metrics")
        # The last hour kept for the portals' charts (docs/rest-api.md "Statistics history"): the
        # host's first poll is a sample; the VM's comes with its second reading (rates need two).
        hist = eng.get(f"/api/hosts/{host['id']}/statistics/history")
        assert (hist["step_s"], hist["slots"]) == (60, 60) and len(hist["samples"]) >= 1, hist
        hs = hist["samples"][-1]
        assert hs["memory_total_bytes"] > 64 * 2**20 and 0 < hs["memory_used_bytes"] < hs["memory_total_bytes"], hs
        assert 0 <= hs["cpu_percent"] <= 100 and hs["net_rx_bytes_per_s"] >= 0 and abs(hs["time"] - time.time()) < 120
        vs = eng.wait_for(lambda: eng.get(f"/api/vms/{vm['id']}/statistics/history")["samples"], timeout=15,
                          what="the VM's first history sample")
        assert len(vs) == 1 and 0 <= vs[0]["cpu_percent"] <= 100 and vs[0]["memory_total_bytes"] == 256 * 2**20, vs
        assert eng.get(f"/api/vms/{odd_vm}/statistics/history")["samples"] == []  # never ran
        assert eng.request("GET", f"/api/vms/{uuid.uuid4()}/statistics/history").status == 404
        assert eng.request("GET", "/api/hosts/not-an-id/statistics/history").status == 404
        assert eng.request("POST", f"/api/hosts/{host['id']}/statistics/history", {}).status == 405

        # Counts per status match the API's lists; every status is there.
        vms = eng.list("vms", max=1000)["vms"]
        want = collections.Counter(v["status"] for v in vms)
        got = {lab["status"]: val for lab, val in samples(fams, "vireo_vms")}
        assert {s: n for s, n in got.items() if n} == dict(want), (got, want)
        assert got["down"] == 2 and got["up"] == 1 and "poweringup" in got, got
        hosts = eng.list("hosts", max=1000)["hosts"]
        got = {lab["status"]: val for lab, val in samples(fams, "vireo_hosts") if val}
        assert got == dict(collections.Counter(h["status"] for h in hosts)), got
        jobs = eng.list("jobs", max=1000)["jobs"]
        got = {lab["status"]: val for lab, val in samples(fams, "vireo_jobs") if val}
        assert got == dict(collections.Counter(j["status"] for j in jobs)), got

        # Odd names: escaped in the text, the same names once parsed.
        assert 'host="we\\"ird\\\\host\\nline2"' in text, [ln for ln in text.splitlines() if "ird" in ln]
        assert 'vm="odd\\"vm\\\\name"' in text
        assert one(fams, "vireo_host_info", host_id=odd_host, host=ODD_HOST, status="maintenance") == 1
        assert one(fams, "vireo_vm_info", vm_id=odd_vm, vm=ODD_VM, status="down", host="") == 1
        assert one(fams, "vireo_vm_info", vm_id=vm["id"], vm="metrics1", host=h0.name, cluster="cl1") == 1

        # The host's figures, from its monitor's last poll.
        assert one(fams, "vireo_host_memory_total_bytes", host=h0.name) > 64 * 2**20
        assert 0 <= one(fams, "vireo_host_cpu_usage_ratio", host=h0.name) <= 1
        assert one(fams, "vireo_host_network_receive_bytes", "vireo_host_network_receive_bytes_total",
                   host=h0.name, nic="eth0") > 0
        assert len(samples(fams, "vireo_host_load_average", host=h0.name)) == 3
        assert one(fams, "vireo_host_memory_committed_bytes", host=h0.name) == 256 * 2**20
        assert not samples(fams, "vireo_host_memory_total_bytes", host_id=odd_host)  # never polled
        # The running VM's figures (read from its agent), none for the others.
        assert one(fams, "vireo_vm_cpu_seconds", "vireo_vm_cpu_seconds_total", vm_id=vm["id"]) > 0
        assert one(fams, "vireo_vm_memory_balloon_bytes", vm_id=vm["id"]) == 256 * 2**20
        assert one(fams, "vireo_vm_memory_configured_bytes", vm_id=odd_vm) == 128 * 2**20
        assert not samples(fams, "vireo_vm_cpu_seconds", "vireo_vm_cpu_seconds_total", vm_id=odd_vm)
        assert one(fams, "vireo_vm_disk_capacity_bytes", vm_id=vm["id"], disk="vda") == 8 * 2**20
        assert samples(fams, "vireo_vm_disk_read_requests", "vireo_vm_disk_read_requests_total", vm_id=vm["id"])
        # What the monitor read: the agent's VM.getAllStats (ours only, one call).
        with ctx.client(0) as c:
            all_stats = c.call("VM.getAllStats")["vms"]
            assert vm["id"] in [v["uuid"] for v in all_stats], all_stats
            mine = next(v for v in all_stats if v["uuid"] == vm["id"])
            assert mine["state"] == "running" and mine["disks"][0]["name"] == "vda", mine
            try:
                c.call("VM.getAllStats", uuid=vm["id"])
                raise AssertionError("VM.getAllStats took a parameter")
            except RpcError as e:
                assert e.code == -32602, e
        # (NICs without a host device, as here, have no counters: none is made up.)
        assert not samples(fams, "vireo_vm_network_transmit_bytes", "vireo_vm_network_transmit_bytes_total",
                           vm_id=vm["id"])

        # API requests per route class; ids and unknown paths never become labels.
        routes = {lab["route"] for lab, _ in samples(fams, "vireo_api_requests", "vireo_api_requests_total")}
        assert {"/api/vms", "/api/vms/{id}", "/api/vms/{id}/start", "/api/jobs/{id}", "/api/sso/token",
                "/api/{unknown}", "/metrics"} <= routes, routes
        assert not any(vm["id"] in r or "nonsense" in r for r in routes), routes
        assert one(fams, "vireo_api_requests", "vireo_api_requests_total", method="GET",
                   route="/api/vms/{id}", code="404") == 1
        assert one(fams, "vireo_api_requests", "vireo_api_requests_total", method="GET",
                   route="/metrics", code="401") == 2
        n = one(fams, "vireo_api_request_duration_seconds", "vireo_api_request_duration_seconds_count",
                method="POST", route="/api/vms/{id}/start")
        inf = one(fams, "vireo_api_request_duration_seconds", "vireo_api_request_duration_seconds_bucket",
                  method="POST", route="/api/vms/{id}/start", le="+Inf")
        assert n == inf == 1, (n, inf)
        # Database timings: every statement is counted.
        for kind in ("read", "write"):
            assert one(fams, "vireo_db_statement_duration_seconds", "vireo_db_statement_duration_seconds_count",
                       kind=kind) > 10
        assert one(fams, "vireo_engine_info", database=eng.database and "postgresql" or "sqlite") == 1
