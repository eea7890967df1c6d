"""docs/openapi.json: a valid OpenAPI 3.0.3 document covering docs/rest-api.md
and the engine's real output shapes, and the validator in harness/openapi.py
(which the engine tests use on live responses) accepting exactly those
shapes. None of these tests needs a running engine or harness hosts."""

import copy
import json
import os
import re

from harness import openapi

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REST_MD = os.path.join(TOP, "docs", "rest-api.md")

# Examples shaped exactly like the engine's output (taken from a run of the
# engine against the host simulator).
DC_ID = "0b6f1c9e-5d1a-4a8e-9a43-2f3c1d7e8a10"
CL_ID = "c1a241da-b444-45c7-9739-9b73b4e654e8"
HOST_ID = "75c29706-56e0-46cb-8e24-9e4c35409020"
VM_ID = "56070a3f-30f3-420f-ad0d-1443cc46bfc4"
JOB_ID = "61076bd4-e836-4c67-a84d-807fb0e57334"
T0 = 1795310217

DC = {"id": DC_ID, "name": "dc1", "description": "first", "created_at": T0, "spm_host": None,
      "master_storage_domain": None, "storage_status": "uninitialized", "quota_mode": "disabled", "href": f"/api/datacenters/{DC_ID}"}
CLUSTER = {"id": CL_ID, "name": "cl1", "description": "", "datacenter_id": DC_ID, "cpu_type": "qemu64",
           "virt_mode": "kvm", "created_at": T0, "href": f"/api/clusters/{CL_ID}",
           "scheduling_policy": {"name": "none", "properties": {}},
           "migration_policy": {"policy": "minimal_downtime", "bandwidth_mibps": 52, "max_downtime_ms": 300,
                                "convergence_step_s": 15, "stall_timeout_s": 240, "max_outgoing": 2, "max_incoming": 2,
                                "auto_converge": None, "compression": False},
           "fencing_policy": {"enabled": True, "skip_if_sd_active": False, "skip_if_connectivity_broken": True,
                              "threshold": 50},
           "mac_pool_id": "00000000-0000-4000-8000-00000000ac01",
           "ha_reservation": {"enabled": True, "ok": True,
                              "detail": "0 highly available VM(s) could restart elsewhere if any one of the 1 up"
                                        " host(s) failed"},
           "datacenter": {"id": DC_ID, "href": f"/api/datacenters/{DC_ID}"}}
CAPS = {"hostname": "vh0", "host_uuid": "0ed10ec1-e62c-4416-9b0c-a1a39e3b20a1", "cpu_model": "kvm64",
        "cpu_flags": ["fpu", "vme"],
        "cpu_topology": {"sockets": 1, "cores_per_socket": 2, "threads_per_core": 1, "cpus": 2, "mhz": 2596},
        "memory_kib": 4810964, "numa_nodes": 1, "virt_mode": "kvm-emulated", "default_domain_type": "qemu",
        "max_vcpus": 240, "libvirt_version": "9.0.0", "qemu_version": "7.2.22",
        "machine_types": ["pc-i440fx-7.2", "pc", "q35"],
        "nics": [{"name": "eth0", "mac": "02:fc:00:00:00:01", "state": "up", "bridge": False}],
        "os": {"id": "debian", "version": "12", "pretty_name": "Debian GNU/Linux 12 (bookworm)",
               "kernel": "6.1.0-28-amd64"}}
STATS = {"cpu_percent": 3.2, "memory": {"total_kib": 24684092, "free_kib": 24092552,
                                        "available_kib": 24108288, "used_by_vms_kib": 262144},
         "ksm": {"running": False, "pages_shared": 0, "pages_sharing": 0},
         "load_average": [0.31, 0.22, 0.1],
         "nics": [{"name": "eth0", "rx_bytes": 167038944, "tx_bytes": 182740, "rx_bytes_per_s": 512.0,
                   "tx_bytes_per_s": 96.5}],
         "vm_count": 1, "uptime_s": 771}
HOST = {"id": HOST_ID, "name": "h0", "description": "", "cluster_id": CL_ID, "address": "127.0.0.1",
        "port": 54321, "status": "up", "status_detail": "", "last_seen": T0 + 5, "capabilities": CAPS,
        "os": CAPS["os"], "stats": STATS, "created_at": T0, "spm_priority": 5, "spm": "none", "href": f"/api/hosts/{HOST_ID}",
        "ssh": None, "power_management": {"enabled": True, "agents": [{
            "type": "ipmilan", "address": "10.0.0.5", "port": 623, "username": "admin",
            "options": {"lanplus": True}, "order": 1, "concurrent": False}]},
        "ssh": {"port": 22, "fingerprint": "", "soft_fencing": False}}
HOST_NEW = dict(HOST, status="installing", last_seen=0, capabilities=None, os=None, stats=None,
                ssh={"port": 22, "fingerprint": "", "auth": "password", "soft_fencing": False})
SPEC = {"boot": {"kernel": "/k"}, "disks": [{"path": "/d.img", "format": "qcow2", "bus": "virtio"}],
        "nics": [{"bridge": "br0", "model": "virtio", "mac": "56:6f:ca:41:7e:49"}, {"mac": "56:6f:ee:89:8e:40"}],
        "max_vcpus": 4, "serial_console": True, "vnc": True}
SPEC_MEMBERS = ("boot", "disks", "nics", "max_vcpus", "max_memory_mib", "serial_console", "vnc")
VM_DOWN = dict({"id": VM_ID, "name": "vm1", "description": "", "cluster_id": CL_ID, "host_id": None,
                "host": None, "migrating_to_host_id": None, "migrating_to_host": None, "status": "down", "memory_mib": 256, "vcpus": 2, "devices": None,
                "pending_changes": [], "high_availability": {"enabled": False, "priority": 0}, "stop_reason": "", "pause_reason": None, "lease": None, "quota": None, "placement_policy": {"affinity": "migratable", "hosts": []},
                "guest_info": None, "created_at": T0, "href": f"/api/vms/{VM_ID}"}, **SPEC)
DEVICES = [
    {"kind": "disk", "target": "vda", "bus": "virtio", "path": "/d.img", "device": "disk",
     "alias": "virtio-disk0",
     "address": {"type": "pci", "domain": "0x0000", "bus": "0x00", "slot": "0x04", "function": "0x0"}},
    {"kind": "nic", "mac": "56:6f:ca:41:7e:49", "model": "virtio", "bridge": "br0", "ifname": "vnet0",
     "alias": "net0",
     "address": {"type": "pci", "domain": "0x0000", "bus": "0x00", "slot": "0x03", "function": "0x0"}},
    {"kind": "graphics", "type": "vnc", "port": "5900", "listen": "0.0.0.0"}]
GUEST_INFO = {"hostname": "vireo-guest", "os": {"id": "vireo-guest", "name": "Vireo test guest"},
              "ips": ["192.0.2.10"], "updated_at": T0,
              "interfaces": [{"name": "eth0", "mac": "56:6f:ca:41:7e:49", "addresses": [
                  {"type": "ipv4", "address": "192.0.2.10", "prefix": 24}]}]}
VM_UP = dict(VM_DOWN, host_id=HOST_ID, host="h0", status="up", devices=DEVICES, guest_info=GUEST_INFO)
EVENT = {"id": 29, "time": T0 + 1, "severity": "normal", "user": "", "object_type": "host",
         "object_id": HOST_ID, "message": "host 'h0' is up"}
EVENT_USER = {"id": 3, "time": T0, "severity": "warning", "user": "bob", "object_type": "user",
              "object_id": "", "message": "failed login for 'bob'"}
JOB = {"id": JOB_ID, "action": "start", "description": "Start VM 'web1'", "object_type": "vm",
       "object_id": VM_ID, "status": "finished", "detail": "", "progress": 100, "user": "admin@internal",
       "steps": [{"description": "scheduling", "status": "finished", "started_at": T0, "ended_at": T0},
                 {"description": "starting on host", "status": "finished", "started_at": T0,
                  "ended_at": T0 + 1}],
       "created_at": T0, "updated_at": T0 + 1, "href": f"/api/jobs/{JOB_ID}"}
JOB_REF = {"job": {"id": JOB_ID, "href": f"/api/jobs/{JOB_ID}"}}
TOKEN = {"access_token": "0123456789abcdef" * 4, "token_type": "bearer", "expires_in": 3600}
ROOT = {"product": "vireo", "collections": ["datacenters", "clusters", "hosts", "vms", "events", "jobs"]}


def fault(reason, detail="something"):
    return {"fault": {"reason": reason, "detail": detail}}


def rejects(fn, *args, contains=(), **kw):
    """fn(*args) must raise AssertionError whose message has every `contains`."""
    try:
        fn(*args, **kw)
    except AssertionError as e:
        msg = str(e)
        for c in (contains if isinstance(contains, (list, tuple)) else [contains]):
            assert c in msg, f"expected {c!r} in the error, got: {msg}"
        return msg
    raise AssertionError(f"accepted what it should refuse: {args[1:]}")


def md_operations():
    """(METHOD, templated path) pairs that docs/rest-api.md promises."""
    text = open(REST_MD).read()
    colls, writable = [], set()
    for m in re.finditer(r"^\| `(\w+)` \| ([^|]*) \|", text, re.M):
        colls.append(m.group(1))
        if "read-only" not in m.group(2):
            writable.add(m.group(1))
    assert {"datacenters", "clusters", "hosts", "vms", "events", "jobs"} <= set(colls), colls
    ops = set()
    for m in re.finditer(r"\b(GET|POST|PUT|DELETE) (/api[A-Za-z0-9_/.|]*)", text):
        method, segs = m.group(1), m.group(2).rstrip(".").split("/")
        targets = [segs]
        if len(segs) > 2 and segs[2] == "C":
            # The conventions line: every collection is listed, only
            # writable ones have single-object CRUD.
            whole = colls if (method == "GET" and len(segs) == 3) else sorted(writable)
            targets = [segs[:2] + [c] + segs[3:] for c in whole]
        for t in targets:
            for last in t[-1].split("|"):
                ops.add((method, "/".join(["{id}" if s == "ID" else "{child_id}" if s == "CHILD" else s
                                           for s in t[:-1] + [last]])))
    return ops


def doc_operations(doc):
    return {(m.upper(), p) for p, item in doc["paths"].items() for m in item if m in openapi.METHODS}


# ------------------------------------------------------------- the document
def test_openapi_document_parses(ctx):
    raw = open(openapi.DOC_PATH, encoding="utf-8").read()
    doc = json.loads(raw, object_pairs_hook=openapi._no_duplicates)
    assert doc["openapi"] == "3.0.3"
    assert doc["info"]["title"] and doc["info"]["version"]
    assert set(doc) <= {"openapi", "info", "servers", "paths", "components", "security", "tags",
                        "externalDocs"}, sorted(doc)
    assert doc["security"] == [{"bearerAuth": []}]
    scheme = doc["components"]["securitySchemes"]["bearerAuth"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    for p in doc["paths"]:
        assert p.startswith("/api"), p
    # The embedded copy is a C string: no NUL bytes.
    assert "\x00" not in raw


def test_openapi_covers_rest_api_md(ctx):
    doc = openapi.load()
    promised, documented = md_operations(), doc_operations(doc)
    missing = promised - documented
    assert not missing, f"in docs/rest-api.md but not in docs/openapi.json: {sorted(missing)}"
    extra = documented - promised - {("GET", "/api"), ("GET", "/api/openapi.json")}
    assert not extra, f"in docs/openapi.json but not in docs/rest-api.md: {sorted(extra)}"
    # Spot checks that the parsing of rest-api.md found what it should.
    for op in (("POST", "/api/vms/{id}/resume"), ("DELETE", "/api/sso/token"), ("GET", "/api/events"),
               ("PUT", "/api/hosts/{id}"), ("GET", "/api/jobs/{id}")):
        assert op in promised, op


def test_openapi_refs_resolve(ctx):
    doc = openapi.load()
    refs = openapi.check_refs(doc)
    assert len(refs) > 20
    for kind, entries in doc["components"].items():
        if kind == "securitySchemes":
            continue
        for name in entries:
            assert f"#/components/{kind}/{name}" in refs, f"components/{kind}/{name} is never used"


def test_openapi_operations_well_formed(ctx):
    doc = openapi.load()
    ids = set()
    public = {("POST", "/api/sso/token"), ("GET", "/api/openapi.json")}
    for path, item in doc["paths"].items():
        templated = set(re.findall(r"\{([^}]+)\}", path))
        for method in (m for m in item if m in openapi.METHODS):
            op, name = item[method], f"{method.upper()} {path}"
            assert op.get("operationId") and op["operationId"] not in ids, name
            ids.add(op["operationId"])
            params = openapi._parameters(doc, item, op)
            assert {n for n, where in params if where == "path"} == templated, name
            resp = op["responses"]
            assert resp and all(re.fullmatch(r"[1-5]\d\d", code) for code in resp), name
            if (method.upper(), path) in public:
                assert op.get("security") == [], f"{name} must be public"
            elif op.get("security") == [{}, {"bearerAuth": []}]:
                # a console's WebSocket: its ticket is the credential, a bearer token optional
                assert path.endswith("/console") and "401" in resp and "403" in resp, name
            else:
                assert "security" not in op, f"{name} must use the global bearer scheme"
                assert "401" in resp, f"{name} needs a 401"
            for code, r in resp.items():
                r = openapi._deref(doc, r)
                if code == "204":
                    assert "content" not in r, name
                elif code.startswith(("4", "5")) and "content" in r:
                    assert r["content"]["application/json"]["schema"] == \
                        {"$ref": "#/components/schemas/Fault"}, f"{name} {code}"
                elif code.startswith("2"):
                    assert "content" in r, f"{name} {code} needs a body schema"
            if "application/json" in op.get("requestBody", {}).get("content", {}):
                # JSON bodies; an image upload (octet-stream) is streamed, not parsed
                assert "400" in resp and "413" in resp, f"{name}: strict bodies give 400 and 413"
                schema = openapi._deref(doc, op["requestBody"]["content"]["application/json"]["schema"])
                assert schema.get("additionalProperties") is False, f"{name}: unknown members are refused"
            if "201" in resp or "202" in resp:
                code = "201" if "201" in resp else "202"
                assert "Location" in openapi._deref(doc, resp[code]).get("headers", {}), name
    # Lists take search/max/page; events only max; jobs nothing.
    for coll in ("datacenters", "clusters", "hosts", "vms", "events", "jobs"):
        op = doc["paths"][f"/api/{coll}"]["get"]
        names = {n for n, _ in openapi._parameters(doc, doc["paths"][f"/api/{coll}"], op)}
        extra = {"wait"} if coll == "events" else set()  # the events' long poll
        assert names == {"search", "sortby", "max", "page"} | extra, (coll, names)


def test_openapi_status_enums_match_rest_api_md(ctx):
    doc = openapi.load()
    text = open(REST_MD).read()
    machines = text.split("## Status machines", 1)[1]
    host_line = re.search(r"^- Host:(.*?)(?=^- VM:)", machines, re.M | re.S).group(1)
    vm_line = re.search(r"^- VM:(.*)", machines, re.M | re.S).group(1)
    want_host = list(dict.fromkeys(re.findall(r"`(\w+)`", host_line)))
    want_vm = list(dict.fromkeys(re.findall(r"`(\w+)`", vm_line)))
    s = doc["components"]["schemas"]
    assert sorted(s["HostStatus"]["enum"]) == sorted(want_host), (s["HostStatus"]["enum"], want_host)
    assert sorted(s["VmStatus"]["enum"]) == sorted(want_vm), (s["VmStatus"]["enum"], want_vm)
    jobs = re.search(r'"status":"([a-z|]+)"', text).group(1).split("|")
    assert sorted(s["JobStatus"]["enum"]) == sorted(jobs)


# The entity schemas are generated from the engine's kind tables
# (src/engine/api/kinds_*.c); test_engine_kinds checks the document the live
# engine serves against this file and lints it.


# ------------------------------------------------------------ the validator
def test_openapi_validator_accepts_engine_shapes(ctx):
    doc = openapi.load()
    ok = [
        ("GET", "/api", 200, ROOT),
        ("GET", "/api/openapi.json", 200, doc),
        ("GET", "/api/openapi.json", 500, None),
        ("POST", "/api/sso/token", 200, TOKEN),
        ("POST", "/api/sso/token", 401, fault("Unauthorized", "wrong user name or password")),
        ("POST", "/api/sso/token", 429, fault("Too Many Requests")),
        ("DELETE", "/api/sso/token", 204, None),
        ("DELETE", "/api/sso/token", 204, b""),
        ("GET", "/api/datacenters?search=name%3Ddc*&max=10&page=2", 200, {"datacenters": [DC], "total": 1}),
        ("GET", "/api/datacenters", 200, {"datacenters": [], "total": 0}),
        ("POST", "/api/datacenters", 201, DC),
        ("POST", "/api/datacenters", 409, fault("Conflict")),
        ("POST", "/api/datacenters", 413, fault("Request Entity Too Large")),
        ("GET", f"/api/datacenters/{DC_ID}", 200, DC),
        ("GET", "/api/datacenters/nope/", 404, fault("Not Found", "no data center with id 'nope'")),
        ("PUT", f"/api/datacenters/{DC_ID}", 200, DC),
        ("DELETE", f"/api/datacenters/{DC_ID}", 204, None),
        ("DELETE", f"/api/datacenters/{DC_ID}", 409, fault("Conflict")),
        ("GET", "/api/clusters", 200, {"clusters": [CLUSTER], "total": 1}),
        ("POST", "/api/clusters", 201, CLUSTER),
        ("PUT", f"/api/clusters/{CL_ID}", 409, fault("Conflict")),
        ("GET", "/api/hosts?search=status%3Dup", 200, {"hosts": [HOST, HOST_NEW], "total": 2}),
        ("POST", "/api/hosts", 201, HOST_NEW),
        ("GET", f"/api/hosts/{HOST_ID}", 200, HOST),
        ("PUT", f"/api/hosts/{HOST_ID}", 200, HOST),
        ("POST", f"/api/hosts/{HOST_ID}/deactivate", 202, JOB_REF),
        ("POST", f"/api/hosts/{HOST_ID}/deactivate", 409, fault("Conflict")),
        ("POST", f"/api/hosts/{HOST_ID}/activate", 200,
         dict(HOST, status="installing", status_detail="activating")),
        ("DELETE", f"/api/hosts/{HOST_ID}", 204, None),
        ("GET", "/api/vms", 200, {"vms": [VM_DOWN, VM_UP], "total": 2}),
        ("POST", "/api/vms", 201, VM_DOWN),
        ("POST", "/api/vms", 422, fault("Unprocessable Entity", "the MAC pool is exhausted")),
        ("GET", f"/api/vms/{VM_ID}", 200, VM_UP),
        ("GET", f"/api/vms/{VM_ID}", 200, dict(VM_DOWN, devices=[], nics=[], disks=[])),
        ("PUT", f"/api/vms/{VM_ID}", 200, VM_DOWN),
        ("POST", f"/api/vms/{VM_ID}/start", 202, JOB_REF),
        ("POST", f"/api/vms/{VM_ID}/start", 409, fault("Conflict")),
        ("POST", f"/api/vms/{VM_ID}/stop", 202, JOB_REF),
        ("POST", f"/api/vms/{VM_ID}/pause", 202, JOB_REF),
        ("POST", f"/api/vms/{VM_ID}/resume", 409, fault("Conflict")),
        ("POST", f"/api/vms/{VM_ID}/shutdown", 202, JOB_REF),
        ("POST", f"/api/vms/{VM_ID}/reboot", 202, JOB_REF),
        ("POST", f"/api/vms/{VM_ID}/balloon", 202, JOB_REF),
        ("PUT", f"/api/vms/{VM_ID}", 202, JOB_REF),
        ("GET", f"/api/vms/{VM_ID}/nics", 200, {"nics": [{
            "id": "56:6f:ca:41:7e:49", "vm_id": VM_ID, "mac": "56:6f:ca:41:7e:49", "bridge": "br0",
            "model": "virtio", "href": f"/api/vms/{VM_ID}/nics/56:6f:ca:41:7e:49"}], "total": 1}),
        ("POST", f"/api/vms/{VM_ID}/nics", 202, JOB_REF),
        ("DELETE", f"/api/vms/{VM_ID}/disks/vdb", 204, None),
        ("PUT", f"/api/vms/{VM_ID}/disks/vda", 200, {
            "id": "vda", "vm_id": VM_ID, "path": "/d.img", "target": "vda", "iotune": {"total_iops_sec": 5},
            "href": f"/api/vms/{VM_ID}/disks/vda"}),
        ("POST", f"/api/jobs/{JOB_ID}/cancel", 200, dict(JOB, status="running", detail="starting on host")),
        ("POST", f"/api/jobs/{JOB_ID}/cancel", 409, fault("Conflict")),
        ("DELETE", f"/api/vms/{VM_ID}", 204, None),
        ("GET", "/api/events?max=5", 200, {"events": [EVENT, EVENT_USER], "total": 2}),
        ("GET", "/api/events", 400, fault("Bad Request", "max must be an integer from 1 to 1000")),
        ("GET", "/api/jobs", 200, {"jobs": [JOB, dict(JOB, status="pending", detail="")], "total": 2}),
        ("GET", f"/api/jobs/{JOB_ID}", 200, dict(JOB, status="failed", detail="no host can run it")),
        ("GET", f"/api/jobs/{JOB_ID}", 404, fault("Not Found")),
        ("GET", "/api/vms", 401, fault("Unauthorized", "token expired; log in again")),
    ]
    for method, path, status, body in ok:
        openapi.validate_response(doc, method, path, status, body)
    # Raw bytes are parsed as JSON.
    openapi.validate_response(doc, "GET", "/api", 200, json.dumps(ROOT).encode())


def test_openapi_validator_rejects_broken_responses(ctx):
    doc = openapi.load()
    v = openapi.validate_response

    def without(d, key):
        d = copy.deepcopy(d)
        del d[key]
        return d

    # Routing and statuses.
    rejects(v, doc, "GET", "/api/nothing", 200, {}, contains="no documented path")
    rejects(v, doc, "PATCH", "/api/vms", 200, {}, contains=["method not documented", "GET, POST"])
    rejects(v, doc, "GET", f"/api/vms/{VM_ID}", 201, VM_DOWN, contains=["/api/vms/{id}", "not documented"])
    rejects(v, doc, "GET", "/api/events", 404, fault("Not Found"), contains="status not documented")
    rejects(v, doc, "DELETE", f"/api/vms/{VM_ID}", 204, {"x": 1}, contains="without a body")
    rejects(v, doc, "GET", "/api/vms", 200, None, contains="got none")
    # Missing required members, at every depth.
    rejects(v, doc, "GET", f"/api/datacenters/{DC_ID}", 200, without(DC, "href"),
            contains="body: missing required member 'href'")
    rejects(v, doc, "GET", "/api/hosts", 200, {"hosts": [HOST]}, contains="missing required member 'total'")
    rejects(v, doc, "GET", "/api/vms", 200, {"vms": [VM_UP, without(VM_DOWN, "disks")], "total": 2},
            contains="body.vms[1]: missing required member 'disks'")
    rejects(v, doc, "POST", "/api/datacenters", 400, {"fault": {"reason": "Bad Request"}},
            contains="body.fault: missing required member 'detail'")
    rejects(v, doc, "POST", f"/api/vms/{VM_ID}/start", 202, {"job": {"id": JOB_ID}},
            contains="body.job: missing required member 'href'")
    caps = without(CAPS, "max_vcpus")
    rejects(v, doc, "GET", f"/api/hosts/{HOST_ID}", 200, dict(HOST, capabilities=caps),
            contains="body.capabilities: missing required member 'max_vcpus'")
    # Wrong types (and bool is not an integer, float is not an integer).
    rejects(v, doc, "GET", f"/api/hosts/{HOST_ID}", 200, dict(HOST, port="54321"),
            contains="body.port: expected integer, got string")
    rejects(v, doc, "GET", f"/api/hosts/{HOST_ID}", 200, dict(HOST, last_seen=True),
            contains="body.last_seen: expected integer, got boolean")
    rejects(v, doc, "GET", f"/api/vms/{VM_ID}", 200, dict(VM_DOWN, memory_mib=256.0),
            contains="body.memory_mib: expected integer, got number")
    rejects(v, doc, "GET", "/api/datacenters", 200, {"datacenters": DC, "total": 1},
            contains="body.datacenters: expected array, got object")
    spec = copy.deepcopy(SPEC)
    spec["nics"][1]["mac"] = 42
    rejects(v, doc, "GET", f"/api/vms/{VM_ID}", 200, dict(VM_DOWN, nics=spec["nics"]),
            contains="body.nics[1].mac: expected string, got integer")
    stats = copy.deepcopy(STATS)
    stats["ksm"]["running"] = 0
    rejects(v, doc, "GET", f"/api/hosts/{HOST_ID}", 200, dict(HOST, stats=stats),
            contains="body.stats.ksm.running: expected boolean")
    rejects(v, doc, "GET", "/api/events", 200, {"events": [dict(EVENT, id="29")], "total": 1},
            contains="body.events[0].id: expected integer")
    rejects(v, doc, "POST", "/api/sso/token", 200, dict(TOKEN, expires_in="3600"),
            contains="body.expires_in: expected integer")
    # null only where documented (host_id, capabilities, devices...).
    rejects(v, doc, "GET", f"/api/vms/{VM_ID}", 200, dict(VM_DOWN, disks=None),
            contains="body.disks: null is not allowed")
    rejects(v, doc, "GET", f"/api/clusters/{CL_ID}", 200, dict(CLUSTER, description=None),
            contains="body.description: null is not allowed")
    # Unknown members where additionalProperties is false.
    rejects(v, doc, "GET", f"/api/clusters/{CL_ID}", 200, dict(CLUSTER, datacenters="dc1"),
            contains="body: unknown member 'datacenters'")
    rejects(v, doc, "GET", "/api/jobs", 200, {"jobs": [JOB], "total": 1, "more": True},
            contains="body: unknown member 'more'")
    rejects(v, doc, "GET", "/api/vms", 401, {"fault": {"reason": "Unauthorized", "detail": "x", "code": 1}},
            contains="body.fault: unknown member 'code'")
    spec = copy.deepcopy(SPEC)
    spec["disks"][0]["size"] = 10
    rejects(v, doc, "GET", f"/api/vms/{VM_ID}", 200, dict(VM_DOWN, disks=spec["disks"]),
            contains="body.disks[0]: unknown member 'size'")
    # Bad enum values.
    rejects(v, doc, "GET", f"/api/hosts/{HOST_ID}", 200, dict(HOST, status="Up"),
            contains=["body.status", '"Up" is not one of', "nonoperational"])
    rejects(v, doc, "GET", "/api/vms", 200, {"vms": [dict(VM_UP, status="running")], "total": 1},
            contains="body.vms[0].status")
    rejects(v, doc, "GET", f"/api/jobs/{JOB_ID}", 200, dict(JOB, status="done"), contains="body.status")
    rejects(v, doc, "GET", f"/api/clusters/{CL_ID}", 200, dict(CLUSTER, virt_mode="tcg"),
            contains="body.virt_mode")
    rejects(v, doc, "POST", "/api/sso/token", 200, dict(TOKEN, token_type="Bearer"),
            contains="body.token_type")
    rejects(v, doc, "GET", "/api/events", 200, {"events": [dict(EVENT, severity="info")], "total": 1},
            contains="body.events[0].severity")
    # Formats and patterns.
    rejects(v, doc, "GET", f"/api/datacenters/{DC_ID}", 200, dict(DC, id="dc-1"), contains="body.id")
    rejects(v, doc, "GET", f"/api/datacenters/{DC_ID}", 200, dict(DC, href=f"/api/clusters/{DC_ID}"),
            contains="body.href")
    rejects(v, doc, "POST", "/api/sso/token", 200, dict(TOKEN, access_token="abc"),
            contains="body.access_token")
    rejects(v, doc, "GET", f"/api/hosts/{HOST_ID}", 200, dict(HOST, port=0), contains="below the minimum")
    rejects(v, doc, "GET", "/api", 200, dict(ROOT, collections=["vms", "widgets"]),
            contains="body.collections[1]")


def test_openapi_validate_request(ctx):
    doc = openapi.load()
    r = openapi.validate_request
    good = [
        ("POST", "/api/sso/token", {"grant_type": "password", "username": "admin@internal", "password": "pw"},
         None),
        ("POST", "/api/sso/token", {"grant_type": "password", "username": "a", "password": "b", "scope": ""},
         "application/x-www-form-urlencoded"),
        ("POST", "/api/sso/token", "grant_type=password&username=admin%40internal&password=p%26w",
         "application/x-www-form-urlencoded"),
        ("POST", "/api/sso/token", b'{"grant_type":"password","username":"u","password":"p"}', None),
        ("DELETE", "/api/sso/token", None, None),
        ("GET", "/api/vms?search=name%3Dweb*%20and%20status%3Dup&max=1000&page=3", None, None),
        ("GET", "/api/events?max=1", None, None),
        ("POST", "/api/datacenters", {"name": "dc1"}, None),
        ("PUT", f"/api/datacenters/{DC_ID}", {}, None),
        ("POST", "/api/clusters", {"name": "cl1", "datacenter_id": DC_ID, "cpu_type": "Skylake-Client",
                                   "virt_mode": "any", "description": "x"}, None),
        ("PUT", f"/api/clusters/{CL_ID}", {"datacenter_id": DC_ID, "virt_mode": "kvm"}, None),
        ("POST", "/api/hosts", {"name": "h0", "address": "fe80::1", "cluster_id": CL_ID, "port": 1}, None),
        ("PUT", f"/api/hosts/{HOST_ID}", {"name": "h0.example"}, None),
        ("POST", "/api/vms", {"name": "web1", "cluster_id": CL_ID, "memory_mib": 16}, None),
        ("POST", "/api/vms", {"name": "web1", "cluster_id": CL_ID, "memory_mib": 4194304, "vcpus": 240,
                              "max_vcpus": 240, "max_memory_mib": 4194304, "description": "",
                              "boot": {"kernel": "/k", "initrd": "/i", "cmdline": "console=ttyS0"},
                              "disks": [{"path": "/a.img", "format": "raw", "bus": "sata", "readonly": True,
                                         "device": "cdrom"}],
                              "nics": [{}, {"bridge": "br0", "model": "e1000"}],
                              "serial_console": False, "vnc": True}, None),
        ("PUT", f"/api/vms/{VM_ID}", {"memory_mib": 512, "vcpus": 2}, None),
        ("POST", f"/api/vms/{VM_ID}/start", None, None),
        ("POST", f"/api/hosts/{HOST_ID}/deactivate", None, None),
    ]
    for method, path, body, ct in good:
        r(doc, method, path, body, content_type=ct)
    vm = {"name": "web1", "cluster_id": CL_ID, "memory_mib": 256}
    rejects(r, doc, "POST", "/api/vms", {"name": "web1", "cluster_id": CL_ID},
            contains=["POST /api/vms", "body: missing required member 'memory_mib'"])
    rejects(r, doc, "POST", "/api/vms", dict(vm, memory_mib="256"), contains="body.memory_mib: expected integer")
    rejects(r, doc, "POST", "/api/vms", dict(vm, memory_mib=8), contains="below the minimum 16")
    rejects(r, doc, "POST", "/api/vms", dict(vm, vcpus=241), contains="above the maximum 240")
    rejects(r, doc, "POST", "/api/vms", dict(vm, vnc={"listen": "0.0.0.0"}), contains="body.vnc")
    rejects(r, doc, "POST", "/api/vms", dict(vm, nics=[{"mac": "56:6f:00:00:00:01"}]),
            contains="body.nics[0]: unknown member 'mac'")
    rejects(r, doc, "POST", "/api/vms", dict(vm, disks=[{"format": "raw"}]),
            contains="body.disks[0]: missing required member 'path'")
    rejects(r, doc, "POST", "/api/vms", dict(vm, disks=[{"path": "rel.img"}]), contains="body.disks[0].path")
    rejects(r, doc, "POST", "/api/vms", dict(vm, disks=[{"path": "/a", "bus": "scsi"}]),
            contains="body.disks[0].bus")
    rejects(r, doc, "POST", "/api/vms", dict(vm, boot={"kernel": "/k", "menu": True}),
            contains="body.boot: unknown member 'menu'")
    rejects(r, doc, "POST", "/api/vms", dict(vm, boot={"order": ["floppy"]}), contains="body.boot.order")
    rejects(r, doc, "POST", "/api/vms", dict(vm, name="-web"), contains="body.name")
    rejects(r, doc, "POST", "/api/vms", dict(vm, name="x" * 65), contains="body.name")
    rejects(r, doc, "PUT", f"/api/vms/{VM_ID}", {"cluster": CL_ID}, contains="unknown member 'cluster'")
    rejects(r, doc, "PUT", f"/api/hosts/{HOST_ID}", {"port": 1}, contains="unknown member 'port'")
    rejects(r, doc, "POST", "/api/clusters", {"name": "c", "datacenter_id": DC_ID, "virt_mode": "tcg"},
            contains="body.virt_mode")
    rejects(r, doc, "POST", "/api/clusters", {"name": "c"}, contains="missing required member 'datacenter_id'")
    rejects(r, doc, "POST", "/api/hosts", {"name": "h", "address": "a b", "cluster_id": CL_ID},
            contains="body.address")
    rejects(r, doc, "POST", "/api/datacenters", {"name": "dc", "colour": "red"},
            contains="body: unknown member 'colour'")
    rejects(r, doc, "POST", "/api/datacenters", ["dc"], contains="body: expected object, got array")
    rejects(r, doc, "POST", "/api/datacenters", None, contains="request body is required")
    rejects(r, doc, "POST", "/api/sso/token", {"grant_type": "client_credentials", "username": "u",
                                               "password": "p"}, contains="body.grant_type")
    rejects(r, doc, "POST", "/api/sso/token", "grant_type=password&username=u",
            content_type="application/x-www-form-urlencoded", contains="missing required member 'password'")
    rejects(r, doc, "POST", "/api/sso/token", {"grant_type": "password"}, content_type="text/plain",
            contains="content type text/plain not documented")
    rejects(r, doc, "POST", f"/api/vms/{VM_ID}/start", {"force": True}, contains="takes no request body")
    rejects(r, doc, "GET", "/api/vms?max=0", None, contains="query.max: 0 is below the minimum 1")
    rejects(r, doc, "GET", "/api/vms?max=ten", None, contains="query.max: expected integer")
    rejects(r, doc, "GET", "/api/vms?page=0", None, contains="query.page")
    rejects(r, doc, "GET", "/api/vms?sort=name", None, contains="unknown parameter 'sort'")
    rejects(r, doc, "GET", "/api/events?offset=2", None, contains="unknown parameter 'offset'")
    rejects(r, doc, "GET", "/api/jobs?limit=5", None, contains="unknown parameter 'limit'")


def test_openapi_validator_schema_subset(ctx):
    """The keywords the validator implements, on small schemas."""
    doc = {"components": {"schemas": {
        "A": {"$ref": "#/components/schemas/B"},
        "B": {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}},
              "additionalProperties": {"type": "string"}},
        "a/b": {"type": "boolean"}}}}
    val = openapi.validate
    val(doc, {"$ref": "#/components/schemas/A"}, {"n": 1, "x": "s"})
    rejects(val, doc, {"$ref": "#/components/schemas/A"}, {"n": 1, "x": 2}, contains="body.x: expected string")
    rejects(val, doc, {"$ref": "#/components/schemas/A"}, {"x": "s"}, contains="missing required member 'n'")
    val(doc, {"$ref": "#/components/schemas/a~1b"}, True)
    rejects(val, doc, {"$ref": "#/components/schemas/C"}, 1, contains="does not resolve")
    rejects(openapi.check_refs, {"x": {"$ref": "#/nope"}}, contains="at #/x")
    val(doc, {"type": "string", "nullable": True}, None)
    rejects(val, doc, {"type": "string"}, None, contains="null is not allowed")
    val(doc, {"type": "number"}, 1)
    val(doc, {"type": "number"}, 1.5)
    rejects(val, doc, {"type": "number"}, False, contains="expected number, got boolean")
    val(doc, {"enum": [1, "a"]}, 1.0)
    rejects(val, doc, {"enum": [1]}, True, contains="is not one of")
    val(doc, {"type": "string", "format": "uuid"}, "6F1D2A4E-3C1B-4F57-9D7E-0A4B2C3D4E5F")
    rejects(val, doc, {"type": "string", "format": "uuid"}, "6f1d2a4e3c1b4f579d7e0a4b2c3d4e5f", contains="UUID")
    rejects(val, doc, {"type": "array", "uniqueItems": True}, [1, 2, 1], contains="body[2]: duplicate of body[0]")
    rejects(val, doc, {"type": "array", "items": {"type": "integer"}}, [1, [2]], contains="body[1]")
    rejects(val, doc, {"type": "integer", "minimum": 1, "exclusiveMinimum": True}, 1, contains="minimum")
    rejects(val, doc, {"type": "integer", "multipleOf": 5}, 12, contains="multiple of 5")
    rejects(val, doc, {"type": "object", "properties": {"a b": {"type": "string"}}}, {"a b": 1},
            contains="body['a b']")
    both = {"oneOf": [{"type": "integer"}, {"type": "number"}]}
    val(doc, both, 1.5)
    rejects(val, doc, both, 2, contains="matches 2 of oneOf")
    rejects(val, doc, both, "x", contains="matches none of oneOf")
    val(doc, {"anyOf": [{"type": "integer"}, {"type": "number"}]}, 2)
    rejects(val, doc, {"anyOf": [{"type": "integer"}]}, "x", contains="anyOf")
    all_of = {"allOf": [{"type": "object", "required": ["a"]}, {"type": "object", "required": ["b"]}]}
    val(doc, all_of, {"a": 1, "b": 2})
    rejects(val, doc, all_of, {"a": 1}, contains="missing required member 'b'")
    rejects(val, doc, {"not": {"type": "string"}}, "x", contains="'not'")
    rejects(val, doc, {"type": "object", "additionalProperties": False, "properties": {}}, {"z": 1},
            contains="unknown member 'z'")
    # Path matching: literal segments win over templates; trailing slash and
    # query strings do not matter.
    real = openapi.load()
    assert openapi.find_operation(real, "GET", "/api/openapi.json")[0] == "/api/openapi.json"
    t, _, _, params = openapi.find_operation(real, "POST", f"/api/vms/{VM_ID}/start/?x=1")
    assert t == "/api/vms/{id}/start" and params == {"id": VM_ID}
    rejects(openapi.find_operation, real, "POST", f"/api/vms/{VM_ID}/start/now", contains="no documented path")
