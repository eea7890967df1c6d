#!/usr/bin/env python3
"""HOST SIMULATOR (for scale benchmarks only, not a test double for real
behaviour): N fake vireo-agents in one process, each a mutual-TLS JSON-RPC
server on 127.0.0.1:BASE+i speaking the agent protocol (docs/agent-api.md)
well enough for the engine to monitor it: Host.getCapabilities,
Host.getStats, VM.list (the VMs the bench assigned to it), VM.create,
VM.destroy, VM.get, Host.ping.

usage: host_simulator.py --pki DIR --cert NAME --hosts N --base-port P --vms-file F
  --vms-file: JSON {"<host index>": ["<vm uuid>", ...]} of VMs each host runs.
Prints "ready" on stdout once every port listens."""

import argparse
import asyncio
import json
import ssl
import struct
import sys


def caps(i):
    return {"hostname": f"sim{i}", "host_uuid": f"00000000-0000-4000-8000-{i:012d}",
            "cpu_model": "simulated", "cpu_flags": ["fpu"], "virt_mode": "kvm",
            "default_domain_type": "kvm", "max_vcpus": 240,
            "cpu_topology": {"sockets": 2, "cores_per_socket": 16, "threads_per_core": 2,
                             "cpus": 64, "mhz": 2600},
            "memory_kib": 512 * 1024 * 1024, "numa_nodes": 2, "libvirt_version": "9.0.0",
            "qemu_version": "7.2.0", "machine_types": ["pc", "q35"], "nics": []}


def stats(i, nvms):
    return {"cpu_percent": float((i * 7) % 90), "memory": {"total_kib": 512 * 1024 * 1024,
            "free_kib": 400 * 1024 * 1024, "available_kib": 400 * 1024 * 1024,
            "used_by_vms_kib": nvms * 1024 * 1024}, "ksm": {"running": False, "pages_shared": 0,
            "pages_sharing": 0}, "load_average": [1.0, 1.0, 1.0], "nics": [], "vm_count": nvms,
            "uptime_s": 1000}


class SimHost:
    def __init__(self, index, vms):
        self.index = index
        self.vms = {u: "running" for u in vms}

    def handle(self, method, params):
        if method == "Host.ping":
            return {"pong": True}
        if method == "Host.getCapabilities":
            return caps(self.index)
        if method == "Host.getStats":
            return stats(self.index, len(self.vms))
        if method == "VM.list":
            return {"vms": [{"uuid": u, "name": u[:8], "state": s, "owned": True}
                            for u, s in self.vms.items()]}
        if method == "VM.create":
            self.vms[params["uuid"]] = "running"
            return {"uuid": params["uuid"], "name": params["name"], "state": "running",
                    "owned": True, "devices": [], "domain_type": "kvm"}
        if method in ("VM.destroy", "VM.get"):
            if params.get("uuid") not in self.vms:
                raise KeyError(-32001)
            if method == "VM.destroy":
                del self.vms[params["uuid"]]
            return {}
        raise KeyError(-32601)

    async def serve(self, reader, writer):
        try:
            while True:
                hdr = await reader.readexactly(4)
                (n,) = struct.unpack(">I", hdr)
                req = json.loads(await reader.readexactly(n))
                try:
                    reply = {"jsonrpc": "2.0", "id": req.get("id"),
                             "result": self.handle(req["method"], req.get("params") or {})}
                except KeyError as e:
                    code = e.args[0] if isinstance(e.args[0], int) else -32602
                    reply = {"jsonrpc": "2.0", "id": req.get("id"),
                             "error": {"code": code, "message": "simulated error"}}
                body = json.dumps(reply).encode()
                writer.write(struct.pack(">I", len(body)) + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pki", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--hosts", type=int, required=True)
    ap.add_argument("--base-port", type=int, required=True)
    ap.add_argument("--vms-file", required=True)
    a = ap.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(f"{a.pki}/{a.cert}.crt", f"{a.pki}/{a.cert}.key")
    ctx.load_verify_locations(f"{a.pki}/ca.crt")
    ctx.verify_mode = ssl.CERT_REQUIRED
    assign = json.load(open(a.vms_file))
    servers = []
    for i in range(a.hosts):
        h = SimHost(i, assign.get(str(i), []))
        servers.append(await asyncio.start_server(h.serve, "127.0.0.1", a.base_port + i, ssl=ctx,
                                                  backlog=16))
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
