"""Storage domains and disks in the engine (docs/storage.md "Engine",
docs/rest-api.md "Storage domains and disks"): the validation and state
rules through the REST API and the CLI, each refusal proven to change
nothing by reading back; VMs using disks by id; the OpenAPI document
describes the answers. The end-to-end scenario (a posixfs domain on the
harness's shared device, attach, SPM, disks, a VM on one) needs the agents'
storage verbs and sanlock."""

import hashlib
import json
import os
import signal
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from harness import openapi
from harness.context import one_backend
from harness.engine import REPO_ROOT, CliSession, Engine, expect_fault, run_sql
from harness.engine_storage import gone as _gone, hold_convert as _hold_convert, make_disk
from harness.rpc import expect_error

ERR_BAD_STATE, ERR_NOT_FOUND = -32006, -32100

MISSING = "0b7a5a37-1111-4222-8333-444455556666"
SD_A = "5d000000-0000-4000-8000-00000000000a"   # unattached posixfs, with a disk
SD_B = "5d000000-0000-4000-8000-00000000000b"   # unattached posixfs (disks of the VM checks)
SD_ISO = "5d000000-0000-4000-8000-00000000000c"  # unattached iso
SD_LOCAL = "5d000000-0000-4000-8000-00000000000d"  # unattached localfs
SD_M = "5d000000-0000-4000-8000-00000000000e"   # in maintenance, attached to dc2
SD_U = "5d000000-0000-4000-8000-00000000000f"   # active in dc2, its disk used by a VM on a host
SD_X = "5d000000-0000-4000-8000-0000000000f0"   # inactive in dc2 (the master rules)
D_A = "d1000000-0000-4000-8000-00000000000a"
D_OK = "d1000000-0000-4000-8000-00000000000b"
D_LOCKED = "d1000000-0000-4000-8000-00000000000c"
D_SHARED = "d1000000-0000-4000-8000-00000000000d"
D_RACE = "d1000000-0000-4000-8000-00000000000e"
D_RACE2 = "d1000000-0000-4000-8000-0000000000e0"
D_U = "d1000000-0000-4000-8000-00000000000f"
GIB = 1 << 30


def _sd_row(sd_id, name, sd_type="data", storage_type="posixfs", spec="/dev/loop9", vfs="ext4", status="unattached",
            dc=None, total=0, free=0):
    return ("INSERT INTO storage_domains (id, name, sd_type, storage_type, storage_spec, vfs_type, datacenter_id,"
            " status, total_bytes, free_bytes, created_at) VALUES"
            f" ('{sd_id}', '{name}', '{sd_type}', '{storage_type}', '{spec}', '{vfs}',"
            f" {repr(dc) if dc else 'NULL'}, '{status}', {total}, {free}, 1)")


def _disk_row(disk_id, alias, sd_id, size, status="ok", fmt="raw", shareable=0):
    return ("INSERT INTO disks (id, volume_id, alias, storage_domain_id, format, sparse, provisioned_size, status,"
            f" shareable, created_at) VALUES ('{disk_id}', '{disk_id[:-1]}f', '{alias}', '{sd_id}', '{fmt}', 1, {size},"
            f" '{status}', {shareable}, 1)")


def _count(eng, coll):
    return eng.list(coll)["total"]


def _sd_body(host_id, **over):
    b = {"name": "sd-new", "type": "data", "storage_type": "posixfs", "storage_path": "/dev/loop7",
         "vfs_type": "ext4", "host": host_id}
    b.update(over)
    return b


def test_storage_rules_rest_and_cli(ctx):
    # The hosts here never answer; a long grace keeps them "connecting" so the
    # VM states this test writes are not turned "unknown" under it.
    with Engine(ctx, grace_s=3600) as eng:
        dc = eng.create_dc("sdc1")
        dc2 = eng.create_dc("sdc2")
        cl = eng.create_cluster("scl1", dc["id"])
        # Hosts without agents (nobody listens there): never up.
        hosts = [eng.create_host(f"shost{i}", "127.0.0.1", cl["id"], port=9) for i in range(2)]
        run_sql(eng, _sd_row(SD_A, "sd-a", total=100 * GIB, free=60 * GIB),
             _sd_row(SD_B, "sd-b"), _sd_row(SD_ISO, "sd-iso", sd_type="iso"),
             _sd_row(SD_LOCAL, "sd-local", storage_type="localfs", spec="/srv/sd", vfs=""),
             _sd_row(SD_M, "sd-m", status="maintenance", dc=dc2["id"]),
             _disk_row(D_A, "disk-a", SD_A, 2 * GIB), _disk_row(D_OK, "disk-ok", SD_B, GIB),
             _disk_row(D_LOCKED, "disk-locked", SD_B, GIB, status="locked"),
             _disk_row(D_SHARED, "disk-shared", SD_B, GIB, shareable=1))
        n_sd, n_disks = _count(eng, "storagedomains"), _count(eng, "disks")
        assert (n_sd, n_disks) == (5, 4)

        # The representation: storage flattened, space derived, booleans.
        a = eng.get(f"/api/storagedomains/{SD_A}")
        assert a["status"] == "unattached" and a["master"] is False and a["datacenter_id"] is None, a
        assert (a["storage_type"], a["storage_path"], a["vfs_type"]) == ("posixfs", "/dev/loop9", "ext4"), a
        assert a["used_bytes"] == 40 * GIB and a["available_bytes"] == 60 * GIB, a
        assert a["committed_bytes"] == 2 * GIB, a
        assert (a["warning_low_space_pct"], a["critical_space_gib"]) == (10, 5), a
        assert "host" not in a and "storage_spec" not in a, a
        d = eng.get(f"/api/disks/{D_SHARED}")
        assert d["shareable"] is True and d["sparse"] is True and d["storage_domain"] == SD_B, d
        assert eng.get(f"/api/storagedomains/{SD_B}/disks")["total"] == 3
        assert [s["name"] for s in eng.get(f"/api/datacenters/{dc2['id']}/storagedomains")["storagedomains"]] == ["sd-m"]
        assert eng.list("storagedomains", search="type=iso")["storagedomains"][0]["id"] == SD_ISO
        # Data centers and hosts show the SPM side (nothing elected here).
        got = eng.get(dc["href"])
        assert got["spm_host"] is None and got["master_storage_domain"] is None, got
        assert got["storage_status"], got
        h = eng.get(hosts[0]["href"])
        assert h["spm_priority"] == 5 and h["spm"] == "none", h

        # ---- creating a domain: every bad body is refused, nothing stored.
        hid = hosts[0]["id"]
        bad = [
            (_sd_body(hid, storage_path="dev/loop7"), 400, "storage_path"),
            (_sd_body(hid, storage_path="/mnt/../etc"), 400, ".."),
            (_sd_body(hid, storage_path="/mnt/.."), 400, ".."),
            (_sd_body(hid, storage_path="/mnt/a\nb"), 400, "storage_path"),
            (_sd_body(hid, storage_path="/mnt/a,b"), 400, "commas"),
            (_sd_body(hid, mount_options="ro,exec;x"), 400, "mount_options"),
            (_sd_body(hid, mount_options="ro,,rw"), 400, "mount_options"),
            (_sd_body(hid, mount_options="ro -o exec"), 400, "mount_options"),
            (_sd_body(hid, mount_options="UID=0"), 400, "mount_options"),
            (_sd_body(hid, vfs_type="Ext4"), 400, "vfs_type"),
            (_sd_body(hid, vfs_type="ext4 -o"), 400, "vfs_type"),
            ({k: v for k, v in _sd_body(hid).items() if k != "vfs_type"}, 400, "vfs_type"),
            (_sd_body(hid, storage_type="nfs", vfs_type=None), 400, "storage_address"),
            (_sd_body(hid, storage_address="srv1"), 400, "storage_address"),
            (_sd_body(hid, storage_type="nfs", vfs_type=None, storage_address="srv;x"), 400, "storage_address"),
            (_sd_body(hid, nfs_version="4.1"), 400, "nfs_version"),
            (_sd_body(hid, storage_type="localfs", vfs_type=None, mount_options="ro"), 400, "mount_options"),
            (_sd_body(hid, type="backup"), 400, "type"),
            (_sd_body(hid, name="sd'x"), 400, "name"),
            (_sd_body(hid, name="<sd>"), 400, "name"),
            (_sd_body(hid, description="x" * 5000), 400, "description"),
            (_sd_body(hid, import_="yes"), 400, None),
            (_sd_body(hid, import_=None, **{"import": "yes"}), 400, "import"),
            (_sd_body(hid, warning_low_space_pct=101), 400, "warning_low_space_pct"),
            (_sd_body(hid, critical_space_gib=-1), 400, "critical_space_gib"),
            (_sd_body(MISSING), 400, "no host"),
            (_sd_body(hid, datacenter_id=dc["id"]), 400, "datacenter_id"),
            (_sd_body(hid, storage_path=12), 400, "storage_path"),
            ({"name": "sd-x", "type": "data"}, 400, "missing"),
            (_sd_body(hid), 409, "must be up"),   # the host is not up
            (_sd_body(hid, name="sd-a"), 409, None),
        ]
        for body, status, detail in bad:
            body = {k: v for k, v in body.items() if v is not None}
            expect_fault(eng.request("POST", "/api/storagedomains", body), status, detail)
        expect_fault(eng.request("POST", f"/api/datacenters/{dc['id']}/storagedomains", _sd_body(hid)), 400, "attach")
        expect_fault(eng.request("POST", "/api/storagedomains", raw=b'{"name": "x", "name": "y"}'), 400)
        assert _count(eng, "storagedomains") == n_sd

        # ---- updates: only name, description and the space thresholds.
        expect_fault(eng.request("PUT", f"/api/storagedomains/{SD_A}", {"warning_low_space_pct": 101}), 400)
        expect_fault(eng.request("PUT", f"/api/storagedomains/{SD_A}", {"storage_path": "/x"}), 400, "unknown")
        expect_fault(eng.request("PUT", f"/api/storagedomains/{SD_A}", {"status": "active"}), 400, "unknown")
        r = eng.call("PUT", f"/api/storagedomains/{SD_A}", {"critical_space_gib": 0, "warning_low_space_pct": 20})
        assert (r["critical_space_gib"], r["warning_low_space_pct"], r["name"]) == (0, 20, "sd-a"), r

        # ---- the state machine: attach, activate, maintenance, detach, remove.
        before = eng.get(f"/api/storagedomains/{SD_ISO}")
        expect_fault(eng.request("POST", f"/api/storagedomains/{SD_ISO}/attach", {"datacenter": MISSING}), 400,
               "no data center")
        expect_fault(eng.request("POST", f"/api/storagedomains/{SD_ISO}/attach", {}), 400, "datacenter")
        expect_fault(eng.request("POST", f"/api/storagedomains/{SD_ISO}/attach", {"datacenter": dc["id"], "x": 1}), 400)
        expect_fault(eng.request("POST", f"/api/storagedomains/{SD_ISO}/attach", {"datacenter": dc["id"]}), 409,
               "data domain first")
        expect_fault(eng.request("POST", f"/api/storagedomains/{SD_LOCAL}/attach", {"datacenter": dc["id"]}), 409,
               "one host")
        expect_fault(eng.request("POST", f"/api/storagedomains/{SD_M}/attach", {"datacenter": dc["id"]}), 409,
               "unattached")
        for action in ("activate", "maintenance", "detach"):
            expect_fault(eng.request("POST", f"/api/storagedomains/{SD_ISO}/{action}"), 409)
        expect_fault(eng.request("POST", f"/api/storagedomains/{SD_M}/maintenance"), 409, "must be active")
        expect_fault(eng.request("DELETE", f"/api/storagedomains/{SD_M}"), 409, "unattached")
        expect_fault(eng.request("DELETE", f"/api/storagedomains/{SD_A}", params={"format": "yes"}), 400, "format")
        # format=true needs an up host (none is here) and an unattached domain; host only with it.
        expect_fault(eng.request("DELETE", f"/api/storagedomains/{SD_A}", params={"format": "true"}), 409, "no host is up")
        expect_fault(eng.request("DELETE", f"/api/storagedomains/{SD_A}", params={"format": "true", "host": hosts[0]["id"]}),
               409, "must be up")
        expect_fault(eng.request("DELETE", f"/api/storagedomains/{SD_A}", params={"format": "true", "host": MISSING}), 400,
               "no host")
        expect_fault(eng.request("DELETE", f"/api/storagedomains/{SD_A}", params={"format": "true", "host": "h'x"}), 400,
               "host")
        expect_fault(eng.request("DELETE", f"/api/storagedomains/{SD_A}", params={"host": hosts[0]["id"]}), 400,
               "format=true only")
        expect_fault(eng.request("DELETE", f"/api/storagedomains/{SD_M}", params={"format": "true"}), 409, "unattached")
        assert eng.get(f"/api/storagedomains/{SD_A}")["status"] == "unattached"
        assert eng.get(f"/api/storagedomains/{SD_ISO}") == before
        assert eng.get(f"/api/storagedomains/{SD_M}")["status"] == "maintenance"
        assert eng.get(dc["href"])["master_storage_domain"] is None
        assert eng.list("jobs")["total"] == 0

        # ---- disks: bad bodies and refused states change nothing.
        def disk(**over):
            b = {"alias": "dnew", "storage_domain": SD_B, "provisioned_size": GIB}
            b.update(over)
            return {k: v for k, v in b.items() if v is not None}
        for body, status, detail in [
            (disk(provisioned_size=0), 400, "provisioned_size"),
            (disk(provisioned_size=(64 << 40) + 512), 400, "provisioned_size"),
            (disk(provisioned_size=1000), 400, "512"),
            (disk(provisioned_size="1G"), 400, "provisioned_size"),
            (disk(format="qcow2"), 400, "format"),
            (disk(shareable=True), 400, "raw"),
            (disk(interface="scsi"), 400, "interface"),
            (disk(storage_domain=MISSING), 400, "no storage domain"),
            (disk(alias="a<b"), 400, "alias"),
            (disk(alias=None), 400, "alias"),
            (disk(description="x\u0001"), 400, "description"),
            (disk(size=5), 400, "unknown"),
            (disk(), 409, "unattached"),   # the domain is not active
        ]:
            expect_fault(eng.request("POST", "/api/disks", body), status, detail)
        expect_fault(eng.request("DELETE", f"/api/disks/{D_LOCKED}"), 409, "locked")
        expect_fault(eng.request("POST", f"/api/disks/{D_LOCKED}/copy", {"storage_domain": SD_A}), 409, "locked")
        expect_fault(eng.request("POST", f"/api/disks/{D_OK}/extend", {"provisioned_size": GIB // 2}), 400, "only grows")
        expect_fault(eng.request("POST", f"/api/disks/{D_OK}/extend", {"provisioned_size": GIB + 1}), 400, "512")
        expect_fault(eng.request("POST", f"/api/disks/{D_OK}/extend", {"provisioned_size": 65 << 40}), 400)
        expect_fault(eng.request("POST", f"/api/disks/{D_OK}/copy", {"storage_domain": MISSING}), 400, "no storage domain")
        expect_fault(eng.request("POST", f"/api/disks/{D_OK}/copy", {"storage_domain": SD_B}), 400, "already")
        expect_fault(eng.request("POST", f"/api/disks/{D_OK}/copy", {"storage_domain": SD_A}), 409)
        expect_fault(eng.request("POST", f"/api/disks/{D_OK}/extend", {"provisioned_size": 2 * GIB}), 409, "unattached")
        expect_fault(eng.request("DELETE", f"/api/disks/{D_OK}"), 409, "unattached")
        assert _count(eng, "disks") == n_disks
        assert eng.get(f"/api/disks/{D_OK}")["status"] == "ok" and eng.get(f"/api/disks/{D_OK}")["provisioned_size"] == GIB
        assert eng.get(f"/api/disks/{D_LOCKED}")["status"] == "locked"
        r = eng.call("PUT", f"/api/disks/{D_OK}", {"alias": "disk-ok2", "bootable": True})
        assert r["alias"] == "disk-ok2" and r["bootable"] is True, r
        expect_fault(eng.request("PUT", f"/api/disks/{D_OK}", {"provisioned_size": 2 * GIB}), 400, "unknown")
        expect_fault(eng.request("PUT", f"/api/disks/{D_OK}", {"storage_domain": SD_A}), 409)

        # ---- VMs use disks by id: one VM per disk unless shareable.
        expect_fault(eng.request("POST", "/api/vms", {"name": "svm0", "cluster_id": cl["id"], "memory_mib": 64,
                                                "disks": [{"disk": MISSING}]}), 400, "no disk")
        expect_fault(eng.request("POST", "/api/vms", {"name": "svm0", "cluster_id": cl["id"], "memory_mib": 64,
                                                "disks": [{"disk": D_LOCKED}]}), 409, "locked")
        expect_fault(eng.request("POST", "/api/vms", {"name": "svm0", "cluster_id": cl["id"], "memory_mib": 64,
                                                "disks": [{"disk": D_OK, "path": "/x"}]}), 400, "not both")
        expect_fault(eng.request("POST", "/api/vms", {"name": "svm0", "cluster_id": cl["id"], "memory_mib": 64,
                                                "disks": [{"disk": "../../etc"}]}), 400)
        expect_fault(eng.request("POST", "/api/vms", {"name": "svm0", "cluster_id": cl["id"], "memory_mib": 64,
                                                "disks": [{"disk": D_OK, "interface": "floppy"}]}), 400, "interface")
        assert _count(eng, "vms") == 0
        vm1 = eng.create_vm("svm1", cl["id"], memory_mib=64,
                            disks=[{"disk": D_OK, "interface": "virtio_scsi", "bootable": True},
                                   {"path": "/var/lib/x.img"}])
        assert vm1["disks"][0] == {"disk": D_OK, "bus": "virtio-scsi", "bootable": True}, vm1
        rows = eng.get(f"/api/vms/{vm1['id']}/disks")["disks"]
        assert [x["target"] for x in rows] == ["sda", "vda"], rows
        expect_fault(eng.request("POST", "/api/vms", {"name": "svm2", "cluster_id": cl["id"], "memory_mib": 64,
                                                "disks": [{"disk": D_OK}]}), 409, "svm1")
        vm2 = eng.create_vm("svm2", cl["id"], memory_mib=64, disks=[{"disk": D_SHARED}])
        expect_fault(eng.request("POST", f"/api/vms/{vm2['id']}/disks", {"disk": D_OK}), 409, "svm1")
        expect_fault(eng.request("POST", f"/api/vms/{vm2['id']}/disks", {"disk": MISSING}), 400, "no disk")
        expect_fault(eng.request("PUT", vm2["href"], {"disks": [{"disk": D_OK}]}), 409, "svm1")
        assert eng.get(vm2["href"])["disks"] == [{"disk": D_SHARED}]
        r = eng.request("POST", f"/api/vms/{vm1['id']}/disks", {"disk": D_SHARED, "interface": "sata"})
        assert r.status == 201 and r.body["disk"] == D_SHARED and r.body["target"] == "sdb", r
        expect_fault(eng.request("DELETE", f"/api/disks/{D_SHARED}"), 409, "used by VM")
        # Start needs the disk's domain active: the start fails, the VM stays down.
        eng.call("DELETE", f"/api/vms/{vm1['id']}/disks/sdb", expect=204)
        eng.call("DELETE", f"/api/vms/{vm1['id']}/disks/vda", expect=204)
        # Six requests giving one disk to six VMs at once: one wins, whether
        # the disk is added to existing VMs or named in new VMs' bodies.
        run_sql(eng, _disk_row(D_RACE, "disk-race", SD_B, GIB), _disk_row(D_RACE2, "disk-race2", SD_B, GIB))
        racers = [eng.create_vm(f"race{i}", cl["id"], memory_mib=64) for i in range(6)]
        with ThreadPoolExecutor(6) as pool:
            got = list(pool.map(lambda v: eng.request("POST", f"/api/vms/{v['id']}/disks", {"disk": D_RACE}),
                                racers))
            made = list(pool.map(lambda i: eng.request("POST", "/api/vms", {
                "name": f"racer{i}", "cluster_id": cl["id"], "memory_mib": 64, "disks": [{"disk": D_RACE2}]}),
                range(6)))
        for rs in (got, made):
            assert sorted(r.status for r in rs) == [201] + [409] * 5, rs
            assert all("not shareable" in r.body["fault"]["detail"] for r in rs if r.status == 409), rs
        assert [bool(eng.get(v["href"])["disks"]) for v in racers].count(True) == 1
        for v in racers + [r.body for r in made if r.status == 201]:
            eng.call("DELETE", v["href"], expect=204)
        run_sql(eng, f"DELETE FROM disks WHERE id IN ('{D_RACE}', '{D_RACE2}')")

        # ---- hosts' SPM priority.
        expect_fault(eng.request("PUT", hosts[0]["href"], {"spm_priority": 11}), 400, "spm_priority")
        expect_fault(eng.request("PUT", hosts[0]["href"], {"spm": "spm"}), 400, "unknown")
        assert eng.call("PUT", hosts[0]["href"], {"spm_priority": -1})["spm_priority"] == -1
        assert eng.get(hosts[0]["href"])["spm_priority"] == -1

        # ---- the CLI on the same rules.
        cli = CliSession(ctx, eng)
        table = cli.run("sd", "list").stdout
        assert "sd-a" in table and "sd-m" in table and "maintenance" in table, table
        assert json.loads(cli.run("sd", "show", "sd-b", "--json").stdout)["id"] == SD_B
        cli.run("sd", "--help")
        cli.run("sd", "create", "--name", "sd-c", "--storage-type", "posixfs", "--path", "/dev/x", "--host",
                "shost0", expect=2)   # no --type
        cli.run("sd", "create", "--name", "sd-c", "--type", "data", "--storage-type", "posixfs", "--path", "/dev/x",
                "--vfs-type", "ext4", "--host", "shost0", "--datacenter", "sdc1", expect=2)
        p = cli.run("sd", "create", "--name", "sd-c", "--type", "data", "--storage-type", "posixfs", "--path",
                    "/dev/../x", "--vfs-type", "ext4", "--host", "shost0", expect=1)
        assert ".." in p.stderr, p.stderr
        p = cli.run("sd", "attach", "sd-iso", "--datacenter", "nosuch", expect=1)
        assert "nosuch" in p.stderr, p.stderr
        cli.run("sd", "attach", "sd-iso", expect=2)
        p = cli.run("sd", "remove", "sd-m", expect=1)
        assert "409" in p.stderr, p.stderr
        p = cli.run("sd", "remove", "sd-a", "--format", expect=1)
        assert "409" in p.stderr and "no host is up" in p.stderr, p.stderr
        p = cli.run("sd", "remove", "sd-a", "--format", "--host", "shost1", expect=1)
        assert "must be up" in p.stderr, p.stderr
        p = cli.run("sd", "remove", "sd-a", "--host", "shost1", expect=1)
        assert "format=true only" in p.stderr, p.stderr
        cli.run("sd", "maintenance", "sd-b", expect=1)
        cli.run("disk", "extend", "disk-ok2", "--size", "big", expect=2)
        p = cli.run("disk", "create", "--alias", "dx", "--storage-domain", "sd-b", "--size", str(GIB), expect=1)
        assert "unattached" in p.stderr, p.stderr
        p = cli.run("disk", "delete", "disk-locked", expect=1)
        assert "locked" in p.stderr, p.stderr
        cli.run("disk", "delete", "no-such-disk", expect=1)
        assert "disk-ok2" in cli.run("disk", "list").stdout
        assert _count(eng, "storagedomains") == n_sd and _count(eng, "disks") == n_disks
        # A domain whose disks VMs use stays; an unattached one goes with its disks' rows.
        expect_fault(eng.request("DELETE", f"/api/storagedomains/{SD_B}"), 409, "used by VM")
        cli.run("sd", "remove", "sd-a")
        expect_fault(eng.request("GET", f"/api/disks/{D_A}"), 404)
        assert _count(eng, "storagedomains") == n_sd - 1

        # ---- maintenance is refused (409 naming the VM) while a VM on a host
        # uses a disk of the domain; once the VM is down it is allowed.
        run_sql(eng, _sd_row(SD_U, "sd-used", status="active", dc=dc2["id"]), _disk_row(D_U, "disk-used", SD_U, GIB))
        vmu = eng.create_vm("svm-used", cl["id"], memory_mib=64, disks=[{"disk": D_U}])
        run_sql(eng, f"UPDATE vms SET status = 'up', host_id = '{hosts[0]['id']}' WHERE id = '{vmu['id']}'")
        expect_fault(eng.request("POST", f"/api/storagedomains/{SD_U}/maintenance"), 409,
                     "used by 1 running VM(s): 'svm-used'")
        # As the master and the last active data domain of dc2: refused while a
        # VM runs in dc2, and while dc2's other data domain is inactive (the
        # role has nowhere to go).
        cl2 = eng.create_cluster("scl2", dc2["id"])
        vmx = eng.create_vm("svm-dc2", cl2["id"], memory_mib=64)
        run_sql(eng, f"UPDATE storage_domains SET master = 1 WHERE id = '{SD_U}'",
                f"UPDATE vms SET status = 'up', host_id = '{hosts[0]['id']}' WHERE id = '{vmx['id']}'")
        expect_fault(eng.request("POST", f"/api/storagedomains/{SD_U}/maintenance"), 409,
                     "last active data domain of its data center, where 1 VM(s) run (first: 'svm-dc2')")
        run_sql(eng, f"UPDATE vms SET status = 'down', host_id = NULL WHERE id = '{vmx['id']}'",
                _sd_row(SD_X, "sd-x", status="inactive", dc=dc2["id"]))
        expect_fault(eng.request("POST", f"/api/storagedomains/{SD_U}/maintenance"), 409,
                     "no other data domain is active to take the role (1 locked or inactive)")
        assert eng.get(f"/api/storagedomains/{SD_U}")["status"] in ("active", "inactive")
        run_sql(eng, f"DELETE FROM storage_domains WHERE id = '{SD_X}'",
                f"UPDATE storage_domains SET master = 0 WHERE id = '{SD_U}'")
        eng.call("DELETE", vmx["href"], expect=204)
        assert eng.get(f"/api/storagedomains/{SD_U}")["status"] in ("active", "inactive")
        # A disk moves while its VMs are down, or live while one is up; not
        # while one is in another state (paused here).
        run_sql(eng, f"UPDATE vms SET status = 'paused' WHERE id = '{vmu['id']}'")
        expect_fault(eng.request("POST", f"/api/disks/{D_U}/move", {"storage_domain": SD_B}), 409,
                     "which is paused: a disk moves while its VM is down or up")
        expect_fault(eng.request("POST", f"/api/disks/{D_U}/move", {"storage_domain": SD_U}), 400, "already")
        expect_fault(eng.request("POST", f"/api/disks/{D_U}/move", {"storage_domain": MISSING}), 400,
                     "no storage domain")
        expect_fault(eng.request("POST", f"/api/disks/{D_LOCKED}/move", {"storage_domain": SD_U}), 409, "locked")
        p = cli.run("disk", "move", "disk-used", "--storage-domain", "sd-b", expect=1)
        assert "svm-used" in p.stderr and "409" in p.stderr, p.stderr
        assert eng.get(f"/api/disks/{D_U}")["storage_domain"] == SD_U and eng.list("jobs")["total"] == 0
        # A disk in doubt after a live move (docs/storage.md "A live move in
        # doubt"; the live scenario is in test_storage_end_to_end): resolved
        # only with its VMs down and one of its two domains; nothing else
        # takes it, its VM does not start; every refusal changes nothing.
        expect_fault(eng.request("POST", f"/api/disks/{D_OK}/resolve", {"storage_domain": SD_B}), 409,
                     "is not in doubt (it is ok): there is nothing to resolve")
        run_sql(eng, f"UPDATE disks SET status = 'indoubt', doubt_domain_id = '{SD_B}' WHERE id = '{D_U}'")
        got = eng.get(f"/api/disks/{D_U}")
        assert (got["status"], got["storage_domain"], got["doubt_storage_domain"]) == ("indoubt", SD_U, SD_B), got
        expect_fault(eng.request("POST", f"/api/disks/{D_U}/resolve", {"storage_domain": SD_B}), 409,
                     "used by VM 'svm-used', which is paused: a disk in doubt is resolved with its VMs down")
        run_sql(eng, f"UPDATE vms SET status = 'down', host_id = NULL WHERE id = '{vmu['id']}'")
        expect_fault(eng.request("POST", f"/api/disks/{D_U}/resolve", {"storage_domain": SD_ISO}), 400,
                     f"disk 'disk-used' has no copy on storage domain '{SD_ISO}'")
        expect_fault(eng.request("POST", f"/api/disks/{D_U}/resolve", {"storage_domain": MISSING}), 400,
                     "no storage domain")
        expect_fault(eng.request("POST", f"/api/disks/{D_U}/resolve", {}), 400, "storage_domain")
        doubt = f"disk 'disk-used' is in doubt after a live move: which of its two copies the guest wrote last is" \
                f" not known; resolve it first (POST /api/disks/{D_U}/resolve"
        expect_fault(eng.request("POST", f"{vmu['href']}/start"), 409, doubt)
        expect_fault(eng.request("POST", f"/api/disks/{D_U}/move", {"storage_domain": SD_B}), 409, doubt)
        expect_fault(eng.request("POST", f"/api/disks/{D_U}/extend", {"provisioned_size": 2 * GIB}), 409, doubt)
        expect_fault(eng.request("DELETE", f"/api/disks/{D_U}"), 409, doubt)
        expect_fault(eng.request("POST", f"{vmu['href']}/snapshots", {}), 409, doubt)
        expect_fault(eng.request("POST", "/api/templates", {"name": "tpl-doubt", "vm": vmu["id"]}), 409, doubt)
        expect_fault(eng.request("POST", f"{vmu['href']}/clone", {"name": "svm-doubt-clone"}), 409, doubt)
        assert eng.list("templates")["total"] == 1 and eng.list("jobs")["total"] == 0  # Blank only
        n_vm2_disks = len(eng.get(vm2["href"])["disks"])
        expect_fault(eng.request("POST", f"{vm2['href']}/disks", {"disk": D_U}), 409, doubt)
        assert len(eng.get(vm2["href"])["disks"]) == n_vm2_disks
        p = cli.run("disk", "resolve", "disk-used", "--sd", "sd-iso", expect=1)
        assert "400" in p.stderr and "has no copy" in p.stderr, p.stderr
        cli.run("disk", "resolve", "disk-used", expect=2)  # no --sd
        got = eng.get(f"/api/disks/{D_U}")
        assert (got["status"], got["storage_domain"], got["doubt_storage_domain"]) == ("indoubt", SD_U, SD_B), got
        assert eng.get(vmu["href"])["status"] == "down" and eng.list("jobs")["total"] == 0
        run_sql(eng, f"UPDATE disks SET status = 'ok', doubt_domain_id = NULL WHERE id = '{D_U}'")
        assert eng.call("POST", f"/api/storagedomains/{SD_U}/maintenance")["status"] == "maintenance"

        # ---- the answers fit the OpenAPI document.
        with open(os.path.join(REPO_ROOT, "docs", "openapi.json")) as f:
            doc = json.load(f)
        for path in ("/api/storagedomains", f"/api/storagedomains/{SD_B}", "/api/disks", f"/api/disks/{D_OK}",
                     f"/api/storagedomains/{SD_B}/disks", dc["href"], hosts[0]["href"], vm2["href"],
                     f"/api/vms/{vm1['id']}/disks"):
            r = eng.request("GET", path)
            openapi.validate_response(doc, "GET", path, r.status, json.dumps(r.body).encode())


def _live_move(ctx, eng, cl, sd_id, sd2_id, vol_file, spm_client):
    """A running VM's disk moves live (docs/storage.md "Moving the disk of a
    running VM"): what the guest wrote before reads back after the pivot
    (the VM runs on the target's volume, its host mirrored it) and after a
    fresh boot from the target; the source volume is gone, also with the
    engine killed right after accepting the move. First a mirror
    QEMU runs already (as one an agent killed mid-copy leaves), slowed to 1
    MiB/s: the move follows it instead of starting another, and cancelled
    before the pivot leaves the VM on the source and no target volume. Last
    a move in doubt: the disk indoubt, its VM refused a start, resolved
    (across an engine restart) keeping the copy the guest wrote last."""
    t_live = time.monotonic()
    lv = make_disk(eng, sd_id, "d-live", 16 << 20, fmt="cow")
    ctx.hs.hosts[0].run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 1M 8M", vol_file(0, sd_id, lv)], check=True)
    full = make_disk(eng, sd_id, "d-full", 64 << 20)  # raw, sparse: vdc, filled below
    spec = ctx.vm_spec("vm-live")
    vm = eng.create_vm("vm-live", cl["id"], memory_mib=spec["memory_mib"], boot=spec["boot"],
                       disks=spec["disks"] + [{"disk": lv["id"]}, {"disk": full["id"]}])

    def boot():
        r = eng.request("POST", f"{vm['href']}/start")
        assert eng.wait_job(r.body["job"]["id"], timeout=120)["status"] == "finished", eng.log_tail(40)
        v = eng.wait_status("vms", vm["id"], "up", timeout=90)
        i = next(n for n, x in enumerate(ctx.hs.hosts) if x.name == v["host"])
        ctx.wait_console(ctx.client(i), vm["id"], "VIREO-GUEST-READY")
        return i, ctx.client(i)

    def readmark(c):
        before = ctx.console(c, vm["id"]).count("VIREO-MARK vdb 3 ")
        text = ctx.wait_console(c, vm["id"], "VIREO-MARK vdb 3 ", count=before + 1, send="readmark vdb 3\n")
        return text.rsplit("VIREO-MARK vdb 3 ", 1)[1].split()[0]

    def copies():
        """The host's VM.blockCopy jobs of this VM."""
        return [j for j in c.call("Job.list")["jobs"] if j["kind"] == "VM.blockCopy" and j["vm_uuid"] == vm["id"]]
    i, c = boot()
    ctx.wait_console(c, vm["id"], "VIREO-MARKED vdb 3 0", send="mark vdb 3 livemark\n")
    h = ctx.hs.hosts[i]
    spm_client().call("Volume.create", domain=sd2_id, image=lv["id"], volume=lv["volume_id"], format="qcow2",
                      preallocation="sparse", size=16 << 20, description="")
    h.virsh("blockcopy", "vm-live", "vdb", vol_file(i, sd2_id, lv), "--reuse-external", "--format", "qcow2",
            "--bandwidth", "1")
    r = eng.request("POST", f"/api/disks/{lv['id']}/move", {"storage_domain": sd2_id})
    assert r.status == 202, r
    eng.wait_for(lambda: [j["state"] for j in copies()] == ["running"], timeout=30, what="the host following the mirror")
    eng.call("POST", f"/api/jobs/{r.body['job']['id']}/cancel")
    job = eng.wait_job(r.body["job"]["id"], timeout=60, status=("finished", "failed", "cancelled"))
    assert job["status"] == "cancelled", (job, eng.log_tail(30))
    got = eng.get(f"/api/disks/{lv['id']}")
    assert (got["status"], got["storage_domain"]) == ("ok", sd_id), got
    xml = h.virsh("dumpxml", "vm-live")
    assert vol_file(i, sd_id, lv) in xml and vol_file(i, sd2_id, lv) not in xml, xml
    assert "<mirror" not in xml, xml
    for x in ("", ".meta", ".lease"):
        assert h.run(["test", "-e", vol_file(i, sd2_id, lv) + x]).returncode != 0, x
    assert [j["state"] for j in copies()] == ["cancelled"], copies()
    assert readmark(c) == "livemark"

    # the engine killed right after accepting the move: restarted, it runs
    # the job again from where the disk row and the host say it is
    r = eng.request("POST", f"/api/disks/{lv['id']}/move", {"storage_domain": sd2_id})
    assert r.status == 202, r
    eng.restart(sig=signal.SIGKILL)
    job = eng.wait_job(r.body["job"]["id"], timeout=120)
    assert job["status"] == "finished" and job["progress"] == 100, (job, eng.log_tail(40))
    assert [s for s in job["steps"] if "mirroring the disk" in s["description"]], job["steps"]
    got = eng.get(f"/api/disks/{lv['id']}")
    assert (got["status"], got["storage_domain"], got["volume_id"]) == ("ok", sd2_id, lv["volume_id"]), got
    assert eng.get(vm["href"])["status"] == "up"
    xml = h.virsh("dumpxml", "vm-live")
    assert vol_file(i, sd2_id, lv) in xml and vol_file(i, sd_id, lv) not in xml, xml
    assert [j["state"] for j in copies()] == ["succeeded", "cancelled"], copies()  # (newest first)
    for x in ("", ".meta", ".lease"):
        assert h.run(["test", "-e", vol_file(i, sd_id, lv) + x]).returncode != 0, x
    info = c.call("Volume.info", domain=sd2_id, image=lv["id"], volume=lv["volume_id"])
    assert (info["legality"], info["format"]) == ("LEGAL", "qcow2"), info
    assert readmark(c) == "livemark"
    # asked again for where the disk runs (as a job that lost its answer does)
    dst = {"domain": sd2_id, "image": lv["id"], "volume": lv["volume_id"]}
    assert c.call("VM.blockCopy", uuid=vm["id"], target="vdb", dst=dst, abort=True) == {"on": "target"}
    eng.vm_action(vm["id"], "stop")
    eng.wait_status("vms", vm["id"], "down", timeout=60)
    i, c = boot()
    assert readmark(c) == "livemark"
    assert vol_file(i, sd2_id, lv) in ctx.hs.hosts[i].virsh("dumpxml", "vm-live")

    # The domain's file system full under the guest (docs/storage.md, "Disks
    # stop on write errors"): the VM is paused with reason enospc and a
    # warning naming its disk, through the engine; room made again, its host
    # resumes it and the guest's writes end well.
    t_full = time.monotonic()
    h = ctx.hs.hosts[i]
    mnt = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(vol_file(i, sd_id, full)))))
    avail = int(h.run(["df", "-B1", "--output=avail", mnt], check=True).stdout.split()[-1])
    filler = os.path.join(mnt, "vireo-test-filler")
    h.run(["fallocate", "-l", str(avail - (16 << 20)), filler], check=True)
    try:
        c.call("VM.sendConsole", uuid=vm["id"], text="fill vdc 48\n")
        got = eng.wait_for(lambda: (lambda v: v if (v["status"], v["pause_reason"]) == ("paused", "enospc") else None)(
            eng.vm(vm["id"])), timeout=120, what="the VM paused for want of space")
        eng.wait_for(lambda: eng.find_events("paused due to no storage space error (disk d-full", vm["id"]),
                     timeout=10, what="the no-space event naming the disk")
        assert "VIREO-FILLED vdc" not in ctx.console(c, vm["id"]), got
    finally:
        h.run(["rm", "-f", filler], check=True)
    ctx.wait_console(c, vm["id"], "VIREO-FILLED vdc 0", timeout=120)
    got = eng.wait_for(lambda: (lambda v: v if v["status"] == "up" and not v["pause_reason"] else None)(
        eng.vm(vm["id"])), timeout=30, what="the VM up again")
    print(f"  a full domain pauses the VM, room resumes it: {time.monotonic() - t_full:.1f} s")

    def pivot_lost(to_sd, mark=None, drop_record=False):
        """Move the disk live to to_sd, its pivot's answer lost and the VM
        stopped before the engine asks again: the agent killed right after
        libvirt confirmed the pivot (its job record says "pivoted", the job
        never ended) while the engine is held (SIGSTOP); with drop_record
        the record is lost too. The agent restarted, the guest writes mark
        (on the target), the VM stops, the engine goes on: the move's job."""
        h = ctx.hs.hosts[i]
        jobdir = os.path.join(h.dir, "jobs")
        known = set(os.listdir(jobdir))
        r = eng.request("POST", f"/api/disks/{lv['id']}/move", {"storage_domain": to_sd})
        assert r.status == 202, r
        rec, end = None, time.monotonic() + 60
        while rec is None and time.monotonic() < end:
            # only committed records: a *.json.tmp may hold "pivoted" a
            # moment before the rename makes it the record (CI saw that).
            for n in sorted(set(os.listdir(jobdir)) - known):
                if not n.endswith(".json"):
                    continue
                try:
                    with open(os.path.join(jobdir, n)) as f:
                        got = json.load(f)
                except (OSError, ValueError):
                    continue
                if got.get("kind") == "VM.blockCopy" and got.get("outcome") == "pivoted":
                    os.kill(h.agent_pid, signal.SIGKILL)
                    os.kill(eng.proc.pid, signal.SIGSTOP)
                    rec = got
                    break
            time.sleep(0.001)
        assert rec, h.log_tail(30)
        try:
            h.kill_agent(signal.SIGKILL)
            with open(os.path.join(jobdir, rec["id"] + ".json")) as f:
                assert json.load(f)["state"] == "running"  # killed between the pivot and the job's end
            if drop_record:
                os.unlink(os.path.join(jobdir, rec["id"] + ".json"))
            h.start_agent(wait=True)
            a = ctx.client(i)
            if not drop_record:
                job = next(j for j in a.call("Job.list")["jobs"] if j["id"] == rec["id"])
                assert (job["state"], job.get("interrupted"), job.get("outcome")) == ("failed", True, "pivoted"), job
            assert vol_file(i, to_sd, lv) in h.virsh("dumpxml", "vm-live")
            if mark:
                marked = ctx.console(a, vm["id"]).count("VIREO-MARKED vdb 3 0")
                ctx.wait_console(a, vm["id"], "VIREO-MARKED vdb 3 0", count=marked + 1, send=f"mark vdb 3 {mark}\n")
            h.virsh("destroy", "vm-live")
        finally:
            os.kill(eng.proc.pid, signal.SIGCONT)
        return eng.wait_job(r.body["job"]["id"], timeout=120, status=("finished", "failed", "cancelled"))

    # The host's record says "pivoted": the move ends on the target (never
    # removing it) and what the guest wrote after the pivot reads back.
    job = pivot_lost(sd_id, mark="aftermark")
    assert job["status"] == "finished", (job, eng.log_tail(40))
    got = eng.get(f"/api/disks/{lv['id']}")
    assert (got["status"], got["storage_domain"]) == ("ok", sd_id), got
    h = ctx.hs.hosts[i]
    for x in ("", ".meta", ".lease"):
        assert h.run(["test", "-e", vol_file(i, sd2_id, lv) + x]).returncode != 0, x
    eng.wait_status("vms", vm["id"], "down", timeout=60)
    i, c = boot()
    assert readmark(c) == "aftermark"
    # The record lost too: in doubt, both copies stay, the disk row keeps
    # naming its source, the disk is indoubt with the target recorded, and
    # the job fails naming both (docs/storage.md "A live move in doubt").
    # The guest wrote doubtmark after the pivot: on the target only.
    job = pivot_lost(sd2_id, mark="doubtmark", drop_record=True)
    assert job["status"] == "failed" and "in doubt" in job["detail"] and lv["volume_id"] in job["detail"], job
    assert f"/api/disks/{lv['id']}/resolve" in job["detail"], job
    got = eng.get(f"/api/disks/{lv['id']}")
    assert (got["status"], got["storage_domain"], got["doubt_storage_domain"]) == ("indoubt", sd_id, sd2_id), got
    h = ctx.hs.hosts[i]
    for sd in (sd_id, sd2_id):
        assert h.run(["test", "-e", vol_file(i, sd, lv)]).returncode == 0, sd
    ev = eng.get("/api/events", params={"search": "message=*in doubt*", "max": "5"})["events"]
    assert ev and ev[0]["severity"] == "error", ev
    eng.wait_status("vms", vm["id"], "down", timeout=60)
    # Nothing starts from either copy until a person chooses one.
    expect_fault(eng.request("POST", f"{vm['href']}/start"), 409, "disk 'd-live' is in doubt after a live move")
    expect_fault(eng.request("POST", f"/api/disks/{lv['id']}/resolve", {"storage_domain": MISSING}), 400,
                 "no storage domain")
    assert eng.get(vm["href"])["status"] == "down"
    got = eng.get(f"/api/disks/{lv['id']}")
    assert (got["status"], got["storage_domain"], got["doubt_storage_domain"]) == ("indoubt", sd_id, sd2_id), got
    # Resolved keeping the copy the guest wrote last (the target's), the
    # engine killed right after accepting it: the restarted engine runs the
    # job again; the disk row names the target, the source copy is gone,
    # and the VM boots from the target reading doubtmark.
    r = eng.request("POST", f"/api/disks/{lv['id']}/resolve", {"storage_domain": sd2_id})
    assert r.status == 202, r
    eng.restart(sig=signal.SIGKILL)
    job = eng.wait_job(r.body["job"]["id"], timeout=120)
    assert job["status"] == "finished", (job, eng.log_tail(40))
    got = eng.get(f"/api/disks/{lv['id']}")
    assert (got["status"], got["storage_domain"], got["doubt_storage_domain"]) == ("ok", sd2_id, None), got
    for x in ("", ".meta", ".lease"):
        assert h.run(["test", "-e", vol_file(i, sd_id, lv) + x]).returncode != 0, x
    assert h.run(["test", "-e", vol_file(i, sd2_id, lv)]).returncode == 0
    expect_fault(eng.request("POST", f"/api/disks/{lv['id']}/resolve", {"storage_domain": sd2_id}), 409,
                 "not in doubt")
    i, c = boot()
    assert readmark(c) == "doubtmark"
    assert vol_file(i, sd2_id, lv) in ctx.hs.hosts[i].virsh("dumpxml", "vm-live")
    eng.vm_action(vm["id"], "stop")
    eng.wait_status("vms", vm["id"], "down", timeout=60)
    eng.call("DELETE", vm["href"], expect=204)
    for d in (lv, full):
        r = eng.request("DELETE", f"/api/disks/{d['id']}")
        assert eng.wait_job(r.body["job"]["id"], timeout=60)["status"] == "finished"
    print(f"  live disk move (four boots): {time.monotonic() - t_live:.1f} s")


@one_backend  # the hosts, sanlock and storage; the rules test runs on both databases
def test_storage_end_to_end(ctx):
    """A posixfs domain on the harness's shared ext4: created through one
    host, attached (master, SPM elected), disks made on it by the SPM, one
    used by a VM that starts from it, grown live, then removed; a fresh
    engine imports the domain and finds the disks again from storage."""
    hs = ctx.hs
    # The shared storage outlives engines (the other backend's pass, other
    # tests): this run's domain has a name of its own.
    name = "sd-e2e-" + uuid.uuid4().hex[:8]
    t_start = time.monotonic()

    def sd_dir(i, domain):
        """Where host i sees domain on the shared storage."""
        return os.path.join(hs.hosts[i].storage_root, hs.shared_dev.replace("/", "_"), domain)
    with Engine(ctx, poll_ms=1000, grace_s=6) as eng:
        dc = eng.create_dc("dc-e2e")
        cl = eng.create_cluster("cl-e2e", dc["id"])
        hosts = [eng.create_host(h.name, h.addr, cl["id"], port=h.port) for h in hs.hosts]
        for h in hosts:
            eng.wait_status("hosts", h["id"], "up", timeout=30)
        r = eng.request("POST", "/api/storagedomains", {
            "name": name, "type": "data", "storage_type": "posixfs", "storage_path": hs.shared_dev,
            "vfs_type": "ext4", "mount_options": "noatime", "host": hosts[0]["id"], "critical_space_gib": 0})
        assert r.status == 202, r
        sd_id = r.body["id"]
        assert eng.get(f"/api/storagedomains/{sd_id}")["status"] in ("locked", "unattached")
        job = eng.wait_job(r.body["job"]["id"], timeout=120)
        assert job["status"] == "finished", (job, eng.log_tail(40))
        sd = eng.get(f"/api/storagedomains/{sd_id}")
        assert sd["status"] == "unattached" and sd["total_bytes"] > 0 and sd["free_bytes"] > 0, sd
        # An import that cannot bring a new domain in fails and leaves no row:
        # the only domain there is known already, or (other runs' domains
        # on the shared storage) none has the name asked for.
        r = eng.request("POST", "/api/storagedomains", {
            "name": name + "-x", "type": "data", "storage_type": "posixfs", "storage_path": hs.shared_dev,
            "vfs_type": "ext4", "host": hosts[0]["id"], "import": True})
        assert r.status == 202, r
        job2 = eng.wait_job(r.body["job"]["id"], timeout=60)
        assert job2["status"] == "failed", job2
        assert "already known" in job2["detail"] or "none is named" in job2["detail"], job2
        assert [s["id"] for s in eng.list("storagedomains")["storagedomains"]] == [sd_id]

        r = eng.request("POST", f"/api/storagedomains/{sd_id}/attach", {"datacenter": dc["id"]})
        assert r.status == 202, r
        job = eng.wait_job(r.body["job"]["id"], timeout=240)
        assert job["status"] == "finished", (job, eng.log_tail(60))
        sd = eng.get(f"/api/storagedomains/{sd_id}")
        assert sd["status"] == "active" and sd["master"] is True and sd["datacenter_id"] == dc["id"], sd
        d = eng.get(dc["href"])
        assert d["master_storage_domain"] == sd_id and d["spm_host"], d
        spm = eng.get(f"/api/hosts/{d['spm_host']}")
        assert spm["spm"] == "spm", spm

        # Disks by the SPM: a preallocated raw one and a sparse qcow2 one.
        mib = 1 << 20
        made = {}
        for alias, fmt, sparse, size in (("d-raw", "raw", False, 64 * mib), ("d-cow", "cow", True, 128 * mib)):
            r = eng.request("POST", "/api/disks", {"alias": alias, "storage_domain": sd_id, "format": fmt,
                                                   "sparse": sparse, "provisioned_size": size})
            assert r.status == 202, r
            job = eng.wait_job(r.body["job"]["id"], timeout=120)
            assert job["status"] == "finished", (job, eng.log_tail(40))
            made[alias] = disk = eng.get(f"/api/disks/{r.body['id']}")
            assert disk["status"] == "ok" and disk["provisioned_size"] == size, disk
            assert disk["actual_size"] >= (size if not sparse else 0), disk
        assert eng.get(f"/api/storagedomains/{sd_id}")["committed_bytes"] == 192 * mib
        # The monitor tells each downward crossing once: under the warning
        # percentage (every domain is under 100 %), then under the critical size.
        low = f"storage domain '{name}' is low on space"
        eng.call("PUT", f"/api/storagedomains/{sd_id}", {"warning_low_space_pct": 100})
        eng.wait_for(lambda: eng.find_events(low, sd_id), timeout=30, what="the low-space warning")
        # Too big for the domain once its critical space counts: 422, nothing made.
        eng.call("PUT", f"/api/storagedomains/{sd_id}", {"critical_space_gib": 1})
        crit = eng.wait_for(lambda: [ev for ev in eng.find_events(low, sd_id) if "critical" in ev["message"]],
                            timeout=30, what="the critical-space event")
        assert crit[0]["severity"] == "error", crit
        warn = [ev for ev in eng.find_events(low, sd_id) if "warning threshold" in ev["message"]]
        assert len(warn) == 1 and warn[0]["severity"] == "warning", warn
        n = eng.list("disks")["total"]
        r = eng.request("POST", "/api/disks", {"alias": "d-big", "storage_domain": sd_id, "format": "raw",
                                               "sparse": False, "provisioned_size": 512 * mib})
        expect_fault(r, 422, "critical")
        assert eng.list("disks")["total"] == n
        eng.call("PUT", f"/api/storagedomains/{sd_id}", {"critical_space_gib": 0, "warning_low_space_pct": 10})
        # Offline grow through the SPM.
        cow = made["d-cow"]
        r = eng.request("POST", f"/api/disks/{cow['id']}/extend", {"provisioned_size": 192 * mib})
        job = eng.wait_job(r.body["job"]["id"], timeout=60)
        assert job["status"] == "finished", (job, eng.log_tail(40))
        assert eng.get(f"/api/disks/{cow['id']}")["provisioned_size"] == 192 * mib

        # A VM boots with the qcow2 disk beside its root image.
        spec = ctx.vm_spec("vm-sd")
        vm = eng.create_vm("vm-sd", cl["id"], memory_mib=spec["memory_mib"], boot=spec["boot"],
                           disks=spec["disks"] + [{"disk": cow["id"]}])
        r = eng.request("POST", f"{vm['href']}/start")
        assert r.status == 202, r
        job = eng.wait_job(r.body["job"]["id"], timeout=120)
        assert job["status"] == "finished", (job, eng.log_tail(40))
        vm = eng.wait_status("vms", vm["id"], "up", timeout=90)
        h = next(x for x in hs.hosts if x.name == vm["host"])
        xml = h.virsh("dumpxml", "vm-sd")
        assert f"{sd_id}/images/{cow['id']}/{cow['volume_id']}" in xml, xml
        expect_fault(eng.request("DELETE", f"/api/disks/{cow['id']}"), 409, "used by VM")
        # The only data domain (the master) stays while a VM runs in its data center.
        expect_fault(eng.request("POST", f"/api/storagedomains/{sd_id}/maintenance"), 409,
                     "last active data domain")
        # Grown live through the VM's host.
        r = eng.request("POST", f"/api/disks/{cow['id']}/extend", {"provisioned_size": 256 * mib})
        job = eng.wait_job(r.body["job"]["id"], timeout=60)
        assert job["status"] == "finished", (job, eng.log_tail(40))
        assert eng.get(f"/api/disks/{cow['id']}")["provisioned_size"] == 256 * mib
        eng.vm_action(vm["id"], "stop")
        eng.wait_status("vms", vm["id"], "down", timeout=60)
        # Started again, the disk keeps the PCI address of its first start.
        stored = [d for d in eng.get(vm["href"])["devices"]
                  if d.get("kind") == "disk" and f"/images/{cow['id']}/" in d.get("path", "")]
        assert len(stored) == 1 and stored[0].get("address"), eng.get(vm["href"])["devices"]
        r = eng.request("POST", f"{vm['href']}/start")
        assert eng.wait_job(r.body["job"]["id"], timeout=120)["status"] == "finished", eng.log_tail(40)
        vm = eng.wait_status("vms", vm["id"], "up", timeout=90)
        i = next(n for n, x in enumerate(hs.hosts) if x.name == vm["host"])
        sent = ctx.client(i).call("VM.get", uuid=vm["id"])["spec"]["disks"]
        vol = [d for d in sent if d.get("volume", {}).get("image") == cow["id"]]
        assert len(vol) == 1 and vol[0].get("address") == stored[0]["address"], (sent, stored)
        assert vol[0]["format"] == "qcow2" and vol[0]["volume"]["domain"] == sd_id, vol
        # Paused on its host behind the engine's back (virsh suspend: libvirt
        # reason user): the monitor's poll says why; resumed, the reason goes.
        t_pause = time.monotonic()
        assert eng.get(vm["href"])["pause_reason"] is None
        hs.hosts[i].virsh("suspend", "vm-sd")

        def vm_is(status, reason):
            got = eng.get(vm["href"])
            return got if (got["status"], got["pause_reason"]) == (status, reason) else None
        eng.wait_for(lambda: vm_is("paused", "user"), timeout=15, what="vm-sd paused, pause_reason user")
        hs.hosts[i].virsh("resume", "vm-sd")
        eng.wait_for(lambda: vm_is("up", None), timeout=15, what="vm-sd up again, no pause_reason")
        print(f"  pause_reason through the monitor: {time.monotonic() - t_pause:.1f} s")
        eng.vm_action(vm["id"], "stop")
        eng.wait_status("vms", vm["id"], "down", timeout=60)
        eng.call("DELETE", vm["href"], expect=204)   # a domain whose disks VMs name is not removed

        print(f"  up to the second domain: {time.monotonic() - t_start:.1f} s")
        # A second domain on the same storage, attached as a regular one;
        # the raw disk is copied there by the SPM's own job.
        r = eng.request("POST", "/api/storagedomains", {
            "name": name + "-2", "type": "data", "storage_type": "posixfs", "storage_path": hs.shared_dev,
            "vfs_type": "ext4", "host": hosts[1]["id"], "critical_space_gib": 0})
        sd2_id = r.body["id"]
        job = eng.wait_job(r.body["job"]["id"], timeout=120)
        assert job["status"] == "finished", (job, eng.log_tail(40))
        r = eng.request("POST", f"/api/storagedomains/{sd2_id}/attach", {"datacenter": dc["id"]})
        job = eng.wait_job(r.body["job"]["id"], timeout=240)
        assert job["status"] == "finished", (job, eng.log_tail(60))
        sd2 = eng.get(f"/api/storagedomains/{sd2_id}")
        assert sd2["status"] == "active" and sd2["master"] is False, sd2
        # A copy held half way (its qemu-img stopped), then cancelled:
        # qemu-img is killed, the partial volume removed, the source intact.
        # Then one whose SPM agent is killed (-9) mid-copy: the restarted
        # agent reads its job back as interrupted, the engine's job learns
        # that and has the (re-elected) SPM remove the ILLEGAL volume. Last,
        # an engine killed mid-copy: the restarted engine follows the agent's
        # copy again and the job finishes.
        def spm_now():
            spm_id = eng.wait_for(lambda: eng.get(dc["href"])["spm_host"], timeout=60, what="an SPM")
            i = next(n for n, h in enumerate(hosts) if h["id"] == spm_id)
            return i, hs.hosts[i]

        def sha(i, path):
            return hs.hosts[i].run(["sha256sum", path], check=True).stdout.split()[0]
        t_copies = time.monotonic()
        spm_i, spm_h = spm_now()
        src = make_disk(eng, sd_id, "d-src", 96 * mib)
        src_file = lambda i: os.path.join(sd_dir(i, sd_id), "images", src["id"], src["volume_id"])  # noqa: E731
        spm_h.run(["dd", "if=/dev/urandom", "of=" + src_file(spm_i), "bs=1M", "count=96", "conv=notrunc,fsync"],
                  check=True)
        src_sha = sha(spm_i, src_file(spm_i))
        for how in ("cancel", "kill", "engine"):
            n_disks = eng.list("disks")["total"]
            spm_i, spm_h = spm_now()  # (the kill may have moved the role)
            r = eng.request("POST", f"/api/disks/{src['id']}/copy", {"storage_domain": sd2_id})
            assert r.status == 202, r
            job_id = r.body["job"]["id"]
            pid = _hold_convert(spm_h, src["volume_id"])
            copy = next(d for d in eng.list("disks", max=100)["disks"] if d["storage_domain"] == sd2_id
                        and d["alias"] == "d-src")
            part = os.path.join(sd_dir(spm_i, sd2_id), "images", copy["id"], copy["volume_id"])
            # (its .meta, ILLEGAL, comes first; qemu-img makes the data file)
            assert spm_h.run(["test", "-f", part + ".meta"]).returncode == 0
            assert eng.get(f"/api/jobs/{job_id}")["status"] == "running"
            if how == "engine":
                eng.restart(sig=signal.SIGKILL)
                os.kill(pid, signal.SIGCONT)
                job = eng.wait_job(job_id, timeout=120)
                assert job["status"] == "finished", (job, eng.log_tail(30))
                got = eng.get(f"/api/disks/{copy['id']}")
                assert got["status"] == "ok" and eng.get(f"/api/disks/{src['id']}")["status"] == "ok", got
                assert sha(spm_i, part) == src_sha, "the copy differs from its source"
                r = eng.request("DELETE", f"/api/disks/{copy['id']}")
                assert eng.wait_job(r.body["job"]["id"], timeout=60)["status"] == "finished"
                break
            if how == "cancel":
                eng.call("POST", f"/api/jobs/{job_id}/cancel")
                job = eng.wait_job(job_id, timeout=60, status=("finished", "failed", "cancelled"))
                assert job["status"] == "cancelled", (job, eng.log_tail(30))
            else:
                agent_job = ctx.client(spm_i).call("Job.list")["jobs"][0]
                assert agent_job["kind"] == "Volume.copy" and agent_job["state"] == "running", agent_job
                spm_h.kill_agent()
                spm_h.start_agent(wait=True)
                job = eng.wait_job(job_id, timeout=120)
                assert job["status"] == "failed" and "interrupted" in job["detail"], (job, eng.log_tail(30))
                back = ctx.client(spm_i).call("Job.get", id=agent_job["id"])
                assert back["state"] == "failed" and back["interrupted"] is True, back
                assert copy["volume_id"] in back["detail"] and "ILLEGAL" in back["detail"], back
            eng.wait_for(lambda: _gone(pid), timeout=10, what="qemu-img killed")
            for x in ("", ".meta", ".lease"):
                assert spm_h.run(["test", "-e", part + x]).returncode != 0, f"{how}: the partial volume stays"
            expect_fault(eng.request("GET", f"/api/disks/{copy['id']}"), 404)
            assert eng.list("disks")["total"] == n_disks
            assert eng.get(f"/api/disks/{src['id']}")["status"] == "ok"
            assert sha(spm_i, src_file(spm_i)) == src_sha
        r = eng.request("DELETE", f"/api/disks/{src['id']}")
        assert eng.wait_job(r.body["job"]["id"], timeout=60)["status"] == "finished"
        print(f"  copies cancelled / cut by an agent kill / across an engine kill: {time.monotonic() - t_copies:.1f} s")

        # A disk create and a disk delete cut off by an engine kill while
        # their SPM call is under way (the SPM's agent held meanwhile): the
        # restarted engine settles both through the SPM - the new disk is
        # ok on its LEGAL volume, the deleted one is gone with its volume.
        spm_i, spm_h = spm_now()
        victim = make_disk(eng, sd_id, "d-victim", 8 * mib)
        apid = spm_h.agent_pid
        os.kill(apid, signal.SIGSTOP)
        try:
            rc_ = eng.request("POST", "/api/disks", {"alias": "d-cut", "storage_domain": sd_id, "format": "cow",
                                                     "sparse": True, "provisioned_size": 8 * mib})
            rd_ = eng.request("DELETE", f"/api/disks/{victim['id']}")
            assert rc_.status == 202 and rd_.status == 202, (rc_, rd_)
            cut = [rc_.body["job"]["id"], rd_.body["job"]["id"]]
            eng.wait_for(lambda: all("on the SPM" in eng.get(f"/api/jobs/{j}")["detail"] for j in cut), timeout=30,
                         what="both jobs calling the SPM")
            eng.restart(sig=signal.SIGKILL)
        finally:
            os.kill(apid, signal.SIGCONT)
        jobs = [eng.wait_job(j, timeout=120) for j in cut]
        assert [j["status"] for j in jobs] == ["finished", "finished"], (jobs, eng.log_tail(30))
        new = eng.get(f"/api/disks/{rc_.body['id']}")
        assert new["status"] == "ok", new
        info = ctx.client(spm_i).call("Volume.info", domain=sd_id, image=new["id"], volume=new["volume_id"])
        assert info["legality"] == "LEGAL" and info["format"] == "qcow2", info
        expect_fault(eng.request("GET", f"/api/disks/{victim['id']}"), 404)
        vols = ctx.client(spm_i).call("Volume.list", domain=sd_id)["volumes"]
        assert not [v for v in vols if v["image"] == victim["id"]], vols
        r = eng.request("DELETE", f"/api/disks/{new['id']}")
        assert eng.wait_job(r.body["job"]["id"], timeout=60)["status"] == "finished"

        # wipe_after_delete: the volume's blocks are zeros before its name
        # goes (a hard link the test took before the delete reads them
        # back); a disk without it keeps its data in such a link.
        t_wipe = time.monotonic()
        spm_i, spm_h = spm_now()
        for alias, wipe in (("d-wipe", True), ("d-keep", False)):
            dk = make_disk(eng, sd_id, alias, 4 * mib, sparse=False)
            if wipe:
                assert eng.call("PUT", f"/api/disks/{dk['id']}", {"wipe_after_delete": True})["wipe_after_delete"]
            vol = os.path.join(sd_dir(spm_i, sd_id), "images", dk["id"], dk["volume_id"])
            held = os.path.join(sd_dir(spm_i, sd_id), "held-" + dk["id"])
            spm_h.run(["dd", "if=/dev/urandom", "of=" + vol, "bs=1M", "count=4", "conv=notrunc,fsync"], check=True)
            before = sha(spm_i, vol)
            spm_h.run(["ln", vol, held], check=True)
            try:
                r = eng.request("DELETE", f"/api/disks/{dk['id']}")
                job = eng.wait_job(r.body["job"]["id"], timeout=60)
                assert job["status"] == "finished", (job, eng.log_tail(30))
                assert spm_h.run(["test", "-e", vol]).returncode != 0, "the volume stays"
                wiped_step = [s for s in job["steps"] if "wiping" in s["description"]]
                zero = spm_h.run(["cmp", "-n", str(4 * mib), held, "/dev/zero"]).returncode == 0
                if wipe:  # by the SPM's own job, the engine's following it
                    assert zero and wiped_step, (job["steps"], before)
                    assert [j for j in ctx.client(spm_i).call("Job.list")["jobs"] if j["kind"] == "Volume.delete" and
                            j["vm_name"] == "volume " + dk["volume_id"] and j["state"] == "succeeded"]
                else:
                    assert not zero and not wiped_step and sha(spm_i, held) == before, job["steps"]
            finally:
                spm_h.run(["rm", "-f", held])
        print(f"  wipe after delete: {time.monotonic() - t_wipe:.1f} s")

        raw = made["d-raw"]
        r = eng.request("POST", f"/api/disks/{raw['id']}/copy", {"storage_domain": sd2_id})
        assert r.status == 202, r
        expect_fault(eng.request("DELETE", f"/api/disks/{raw['id']}"), 409, "locked")   # being copied
        job = eng.wait_job(r.body["job"]["id"], timeout=120)
        assert job["status"] == "finished" and job["progress"] == 100, (job, eng.log_tail(40))
        copies = eng.get(f"/api/storagedomains/{sd2_id}/disks")["disks"]
        assert [(c["alias"], c["format"], c["provisioned_size"], c["status"]) for c in copies] == \
            [("d-raw", "raw", 64 * mib, "ok")], copies
        assert eng.get(f"/api/disks/{raw['id']}")["status"] == "ok"
        # The master into maintenance while the second domain is active: the
        # SPM moves the master role and its SDM lease there (a job, cut by an
        # engine kill while the SPM's agent is held: the restarted engine
        # runs it again). Storage, the API and sanlock agree; never two SPMs.
        t_master = time.monotonic()
        spm_i, spm_h = spm_now()

        def md(i, domain):
            text = hs.hosts[i].run(["cat", os.path.join(sd_dir(i, domain), "dom_md", "metadata")], check=True).stdout
            return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)

        def sdm_holders(domain):
            return [n for n, h in enumerate(hs.hosts)
                    if [x for x in h.sanlock("status").stdout.splitlines()
                        if x.startswith(f"r {domain}:SDM:") and not x.endswith((" ADD", " REM"))]]
        mv0 = int(md(spm_i, sd_id)["MASTER_VERSION"])
        assert md(spm_i, sd_id)["ROLE"] == "Master" and md(spm_i, sd2_id)["ROLE"] == "Regular"
        apid = spm_h.agent_pid
        os.kill(apid, signal.SIGSTOP)
        try:
            r = eng.request("POST", f"/api/storagedomains/{sd_id}/maintenance")
            assert r.status == 200 and r.body["status"] == "locked" and r.body["master"] is True, r
            move = r.body["job"]["id"]
            eng.wait_for(lambda: "moving the master role" in eng.get(f"/api/jobs/{move}")["detail"], timeout=30,
                         what="the master move under way")
            eng.restart(sig=signal.SIGKILL)
        finally:
            os.kill(apid, signal.SIGCONT)
        job = eng.wait_job(move, timeout=120)
        assert job["status"] == "finished", (job, eng.log_tail(40))
        sd, sd2 = eng.get(f"/api/storagedomains/{sd_id}"), eng.get(f"/api/storagedomains/{sd2_id}")
        assert (sd["status"], sd["master"], sd2["status"], sd2["master"]) == ("maintenance", False, "active", True)
        assert eng.get(dc["href"])["master_storage_domain"] == sd2_id
        m1, m2 = md(spm_i, sd_id), md(spm_i, sd2_id)
        assert (m1["ROLE"], m2["ROLE"], m2["POOL_UUID"]) == ("Regular", "Master", dc["id"]), (m1, m2)
        assert int(m2["MASTER_VERSION"]) == int(m1["MASTER_VERSION"]) == mv0 + 1, (m1, m2)
        assert eng.find_events(f"moved from storage domain '{name}' to '{name}-2'", dc["id"])
        assert sdm_holders(sd2_id) == [spm_i] and sdm_holders(sd_id) == [], spm_i
        assert eng.wait_for(lambda: eng.get(dc["href"])["spm_host"], timeout=30) == hosts[spm_i]["id"]
        # The old master is a regular domain now: active again, hosts rejoin it.
        assert eng.call("POST", f"/api/storagedomains/{sd_id}/activate")["master"] is False
        # one connection per host for the whole wait: a new one per poll piles
        # up on the agent (the context closes its clients only after the test)
        agents = [ctx.client(i) for i in range(len(hs.hosts))]
        eng.wait_for(lambda: all({d["domain"]: d for d in a.call("Storage.status")["domains"]}
                                 .get(sd_id, {}).get("lockspace") == "joined" for a in agents),
                     timeout=60, what="every host back in the lockspace of " + sd_id)
        # No host can become a second SPM on the demoted master: its metadata says Regular.
        other = next(i for i in range(len(hs.hosts)) if i != spm_i)
        rep = {d["domain"]: d for d in ctx.client(other).call("Storage.status")["domains"]}
        e = expect_error(ERR_BAD_STATE, ctx.client(other).call, "SPM.start", pool=dc["id"], master=sd_id,
                         host_id=rep[sd_id]["host_id"])
        assert "no longer the master" in e.message, e.message
        assert sdm_holders(sd_id) == [] and sdm_holders(sd2_id) == [spm_i]
        print(f"  master role moved (across an engine kill): {time.monotonic() - t_master:.1f} s")

        # A floating disk moves to the second domain: the SPM copies it (a
        # move cancelled half way leaves the source as it was), then the
        # disk names the new domain (same image and volume ids) and its
        # volume on the old one is gone with its metadata and lease.
        t_move = time.monotonic()
        cli = CliSession(ctx, eng)
        mv = make_disk(eng, sd_id, "d-mv", 16 * mib, fmt="cow")
        mv_file = lambda i, dom: os.path.join(sd_dir(i, dom), "images", mv["id"], mv["volume_id"])  # noqa: E731
        spm_h.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 4M", mv_file(spm_i, sd_id)], check=True)
        r = eng.request("POST", f"/api/disks/{mv['id']}/move", {"storage_domain": sd2_id})
        assert r.status == 202, r
        pid = _hold_convert(spm_h, mv["volume_id"])
        assert eng.get(f"/api/disks/{mv['id']}")["status"] == "locked"
        eng.call("POST", f"/api/jobs/{r.body['job']['id']}/cancel")
        job = eng.wait_job(r.body["job"]["id"], timeout=60, status=("finished", "failed", "cancelled"))
        assert job["status"] == "cancelled", (job, eng.log_tail(30))
        eng.wait_for(lambda: _gone(pid), timeout=10, what="qemu-img killed")
        got = eng.get(f"/api/disks/{mv['id']}")
        assert (got["status"], got["storage_domain"]) == ("ok", sd_id), got
        assert spm_h.run(["test", "-e", mv_file(spm_i, sd2_id) + ".meta"]).returncode != 0
        for x in ("", ".meta", ".lease"):
            assert spm_h.run(["test", "-e", mv_file(spm_i, sd_id) + x]).returncode == 0, x
        moved = json.loads(cli.run("disk", "move", "d-mv", "--storage-domain", name + "-2", "--wait",
                                   "--json").stdout)
        assert (moved["status"], moved["storage_domain"], moved["volume_id"], moved["format"]) == \
            ("ok", sd2_id, mv["volume_id"], "cow"), moved
        for x in ("", ".meta", ".lease"):
            assert spm_h.run(["test", "-e", mv_file(spm_i, sd_id) + x]).returncode != 0, x
        info = ctx.client(spm_i).call("Volume.info", domain=sd2_id, image=mv["id"], volume=mv["volume_id"])
        assert (info["legality"], info["format"], info["capacity"]) == ("LEGAL", "qcow2", 16 * mib), info
        p = spm_h.run(["qemu-io", "-r", "-f", "qcow2", "-c", "read -P 0x5a 0 4M", "-c", "read -P 0 4M 12M",
                       mv_file(spm_i, sd2_id)])
        assert p.returncode == 0 and "verification failed" not in p.stdout + p.stderr, p
        expect_fault(eng.request("POST", f"/api/disks/{mv['id']}/move", {"storage_domain": sd2_id}), 400, "already")
        r = eng.request("DELETE", f"/api/disks/{mv['id']}")
        assert eng.wait_job(r.body["job"]["id"], timeout=60)["status"] == "finished"
        print(f"  disk move (cancelled, then done): {time.monotonic() - t_move:.1f} s")
        _live_move(ctx, eng, cl, sd_id, sd2_id, lambda i, dom, d: os.path.join(sd_dir(i, dom), "images", d["id"],
                                                                                d["volume_id"]),
                   lambda: ctx.client(spm_now()[0]))
        # The CLI on the same jobs: --wait prints the object once its job ended.
        made_cli = json.loads(cli.run("disk", "create", "--alias", "d-cli", "--storage-domain", name + "-2",
                                      "--size", str(8 * mib), "--format", "raw", "--wait", "--json").stdout)
        assert made_cli["status"] == "ok" and made_cli["storage_domain"] == sd2_id, made_cli
        cli.run("disk", "delete", made_cli["id"], "--wait")
        cli.run("disk", "delete", copies[0]["id"], "--wait")
        assert eng.get(f"/api/storagedomains/{sd2_id}/disks")["total"] == 0
        # The second domain, now the master, lost: its metadata torn on
        # storage, no host sees it valid. Once it is inactive the storage
        # thread has the SPM (still running: its lockspace is intact) move
        # the role back to the first domain. Put back, the second domain is
        # a regular active one and goes to maintenance at once.
        t_lost = time.monotonic()
        spm_i, spm_h = spm_now()
        md2 = os.path.join(sd_dir(spm_i, sd2_id), "dom_md", "metadata")
        spm_h.run(["cp", "-p", md2, md2 + ".keep"], check=True)
        spm_h.run(["sed", "-i", "s/^DESCRIPTION=/DESCRIPTION=torn-/", md2], check=True)
        eng.wait_for(lambda: eng.find_events("is lost (no host sees it)", dc["id"]), timeout=60,
                     what="the lost-master event")
        eng.wait_for(lambda: eng.get(dc["href"])["master_storage_domain"] == sd_id, timeout=120,
                     what="the master role back on the first domain")
        sd2 = eng.get(f"/api/storagedomains/{sd2_id}")
        assert (sd2["status"], sd2["master"], eng.get(f"/api/storagedomains/{sd_id}")["master"]) == \
            ("inactive", False, True), sd2
        assert md(spm_i, sd_id)["ROLE"] == "Master" and int(md(spm_i, sd_id)["MASTER_VERSION"]) == mv0 + 2
        spm_i, spm_h = spm_now()
        assert sdm_holders(sd_id) == [spm_i] and sdm_holders(sd2_id) == [], spm_i
        # Put back (its metadata still says Master, an older version), it
        # goes to maintenance at once and the SPM detaches it below as the
        # regular domain it is.
        spm_h.run(["mv", md2 + ".keep", md2], check=True)
        print(f"  lost master replaced: {time.monotonic() - t_lost:.1f} s")
        t_second = time.monotonic()
        assert "maintenance" in cli.run("sd", "maintenance", name + "-2").stdout
        assert md(spm_i, sd2_id)["ROLE"] == "Master"
        # Every host leaves its lockspace (sanlock and the agent agree); the
        # storage stays mounted, the master being on it too.
        for i, h in enumerate(hs.hosts):
            eng.wait_for(lambda: not [x for x in h.sanlock("status").stdout.splitlines() if sd2_id in x],
                         timeout=30, what=f"{h.name} out of the lockspace of {sd2_id}")
            rep = {d["domain"]: d for d in ctx.client(i).call("Storage.status")["domains"]}
            assert rep[sd2_id]["lockspace"] == "free" and rep[sd_id]["lockspace"] == "joined", rep
        # Attached (in maintenance): removal from storage is refused, by the
        # engine and by the agent itself; nothing changes.
        expect_fault(eng.request("DELETE", f"/api/storagedomains/{sd2_id}", params={"format": "true"}), 409, "unattached")
        e = expect_error(ERR_BAD_STATE, ctx.client(1).call, "Storage.remove", domain=sd2_id)
        assert "attached to data center" in e.message, e.message
        assert eng.get(f"/api/storagedomains/{sd2_id}")["status"] == "maintenance"
        assert hs.hosts[1].run(["test", "-f", sd_dir(1, sd2_id) + "/dom_md/metadata"]).returncode == 0
        detached = json.loads(cli.run("sd", "detach", name + "-2", "--wait", "--json").stdout)
        assert detached["status"] == "unattached" and detached["datacenter_id"] is None, detached
        # Removed from storage through the host that made it (a job).
        cli.run("sd", "remove", name + "-2", "--format", "--host", hosts[1]["name"], "--wait")
        expect_fault(eng.request("GET", f"/api/storagedomains/{sd2_id}"), 404)
        assert hs.hosts[1].run(["test", "-e", sd_dir(1, sd2_id)]).returncode != 0

        print(f"  second domain to maintenance, detached, removed: {time.monotonic() - t_second:.1f} s")
        t_last = time.monotonic()
        # The cow disk gets a second layer on storage (as a snapshot leaves
        # it): the import below must find one disk, whose volume is the leaf.
        spm_i, _ = spm_now()
        leaf_id = str(uuid.uuid4())
        ctx.client(spm_i).call("Volume.create", domain=sd_id, image=cow["id"], volume=leaf_id, format="qcow2",
                               preallocation="sparse", size=256 * mib, parent=cow["volume_id"], description="")
        # The raw disk goes; the other stays on storage for the import.
        r = eng.request("DELETE", f"/api/disks/{made['d-raw']['id']}")
        assert r.status == 202, r
        job = eng.wait_job(r.body["job"]["id"], timeout=60)
        assert job["status"] == "finished", (job, eng.log_tail(40))
        expect_fault(eng.request("GET", f"/api/disks/{made['d-raw']['id']}"), 404)

        # Maintenance, then detached through the SPM (the master goes last).
        expect_fault(eng.request("POST", f"/api/storagedomains/{sd_id}/detach"), 409, "maintenance")
        sd = eng.call("POST", f"/api/storagedomains/{sd_id}/maintenance")
        assert sd["status"] == "maintenance", sd
        r = eng.request("POST", f"/api/storagedomains/{sd_id}/detach")
        assert r.status == 202, r
        job = eng.wait_job(r.body["job"]["id"], timeout=240)
        assert job["status"] == "finished", (job, eng.log_tail(60))
        sd = eng.get(f"/api/storagedomains/{sd_id}")
        assert sd["status"] == "unattached" and sd["master"] is False and sd["datacenter_id"] is None, sd
        assert eng.get(dc["href"])["master_storage_domain"] is None
        # The data center lost its last domain: the monitor has its SPM give
        # the lease back (a host holding a lease in the domain's lockspace
        # cannot leave it, and the domain cannot be removed from storage).
        eng.wait_for(lambda: eng.get(dc["href"])["spm_host"] is None, timeout=60, what="the SPM lease released")
        eng.call("DELETE", f"/api/storagedomains/{sd_id}", expect=204)
        assert eng.list("disks")["total"] == 0

    print(f"  the master detached, the engine stopped: {time.monotonic() - t_last:.1f} s")
    # A fresh engine finds the domain and its disk on storage.
    with Engine(ctx, poll_ms=1000, grace_s=6) as eng2:
        dc2 = eng2.create_dc("dc-imp")
        cl2 = eng2.create_cluster("cl-imp", dc2["id"])
        h2 = eng2.create_host(hs.hosts[0].name, hs.hosts[0].addr, cl2["id"], port=hs.hosts[0].port)
        eng2.wait_status("hosts", h2["id"], "up", timeout=30)
        r = eng2.request("POST", "/api/storagedomains", {
            "name": name, "type": "data", "storage_type": "posixfs", "storage_path": hs.shared_dev,
            "vfs_type": "ext4", "host": h2["id"], "import": True})
        assert r.status == 202, r
        job = eng2.wait_job(r.body["job"]["id"], timeout=120)
        assert job["status"] == "finished", (job, eng2.log_tail(40))
        sd = eng2.get(f"/api/storagedomains/{sd_id}")
        assert sd["name"] == name and sd["status"] == "unattached", sd
        disks = eng2.list("disks")["disks"]
        assert [(x["id"], x["alias"], x["format"], x["status"]) for x in disks] == \
            [(cow["id"], "d-cow", "cow", "ok")], disks
        assert disks[0]["provisioned_size"] == 256 * mib and disks[0]["volume_id"] == leaf_id, disks
        # Removed from storage by any up host: the directory and the rows go.
        r = eng2.request("DELETE", f"/api/storagedomains/{sd_id}", params={"format": "true"})
        assert r.status == 202, r
        job = eng2.wait_job(r.body["job"]["id"], timeout=60)
        assert job["status"] == "finished", (job, eng2.log_tail(40))
        expect_fault(eng2.request("GET", f"/api/storagedomains/{sd_id}"), 404)
        assert eng2.list("disks")["total"] == 0
        p = hs.hosts[0].run(["ls", "-a", os.path.dirname(sd_dir(0, sd_id))])
        assert p.returncode == 0 and sd_id not in p.stdout, p.stdout
        e = expect_error(ERR_NOT_FOUND, ctx.client(0).call, "Storage.remove", domain=sd_id)
        assert "not on any storage" in e.message, e.message
