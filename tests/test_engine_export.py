"""Export domains (docs/storage.md "Export domains", docs/rest-api.md
"Export and import"): a stopped VM whose disk holds a marker is exported
to an export domain (its volume collapsed, its OVF written on storage and
read back here with an XML parser: a description full of XML's special
characters survives as text); the domain lists it from the OVF; it is
imported as a clone (new ids and MACs) and, once the original is gone,
as itself (same ids and MAC); the marker is read back from each imported
volume. Refusals change nothing: a data domain as the target, a second
export without exclusive, an import of a VM that exists, and hostile OVFs
on storage (a DTD with entities, broken XML) listed with their error and
refused at import. Faults: an export or an import cut by the SPM agent's
death leaves nothing; one cut by an engine kill resumes, copying each
volume once.

Then the data domain's OVF store (docs/storage.md "The OVF store of data
domains"): the VM's OVF is there, rewritten when the VM changes and gone
with a removed VM; a template made from the VM is stored too. The template
goes through the export domain (exported, removed, imported back, a VM
made from it), with a thin VM over it exported collapsed and imported
without it. The VM changed just before the domain's maintenance carries
the change (the store is written at maintenance). Engine A detaches the
domain and stops; a second engine with its own database
imports it, lists the VM and the template as unregistered, registers both
(the VM by the CLI: same id, disk and MAC, its NIC on the profile of the
same name; what is refused changes nothing) and boots the VM: the guest
reads the marker from the disk. The clone kept with its snapshot is
registered with it too (an OVF whose chain is not the domain's volumes
refused), and with the snapshot taken after its OVF was written: a
recovered snapshot; each restored reads the write made before it.

The scenario needs storage and a host: it runs once (on the suite's last
database backend)."""

import json
import time
import uuid
import xml.etree.ElementTree as ET

from harness.engine import CliSession, Engine
from harness.engine_storage import leave_storage, scrub_domain, spm_index, storage_dc
from harness.export_faults import (copied_once_across_engine_kill, disk_content, drop_disks, export_cut_by_the_spm,
                                   export_domain, fault, import_cut_by_the_spm, last_backend, leave_engine_a,
                                   reads_at, run_job, stored, vfile, write_at)

MIB = 1 << 20
MARK = b"VIREO-EXPORT-MARKER-" + uuid.uuid4().hex.encode()
HOSTILE = 'a <b>"quoted"</b> & \'apostrophe\' ]]> <!ENTITY x "y">'
OVF_NS = "http://schemas.dmtf.org/ovf/envelope/1/"
RASD = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"


def _disaster_recovery(ctx, sd_id, sd_name, vm, mac, profile, tpl_id, snap):
    """A fresh engine (its own database) imports the data domain, lists the
    VMs and the template in its OVF store as unregistered, registers them
    (same ids, disks, MAC, NIC on the profile of the same name) and boots
    the VM: the guest reads the marker from the disk. The VM with a
    snapshot (snap) is registered with it (same ids; an OVF whose chain is
    not the domain's volumes refused, nothing made) although its OVF (put
    back as engine A's store had it before the last snapshot) does not know
    its newest layer: that layer's snapshot is recovered; the disk reads
    the last write, each snapshot restored the write made before it."""
    h = ctx.hs.hosts[0]
    eng = Engine(ctx, poll_ms=1000, grace_s=6)
    eng.__enter__()
    attached = False
    try:
        dc = eng.create_dc("dc-dr")
        cl = eng.create_cluster("cl-dr", dc["id"])
        host = eng.create_host(h.name, h.addr, cl["id"], port=h.port)
        eng.wait_status("hosts", host["id"], "up", timeout=60)
        run_job(eng, eng.request("POST", "/api/storagedomains", {
            "name": sd_name, "type": "data", "storage_type": "posixfs", "storage_path": ctx.hs.shared_dev,
            "vfs_type": "ext4", "host": host["id"], "import": True}), timeout=120)
        unreg = f"/api/storagedomains/{sd_id}/vms"
        fault(eng.request("GET", unreg, params={"unregistered": "true"}), 409, "must be active")
        run_job(eng, eng.request("POST", f"/api/storagedomains/{sd_id}/attach", {"datacenter": dc["id"]}), timeout=240)
        attached = True
        eng.wait_status("storagedomains", sd_id, "active", timeout=60)
        eng.wait_for(lambda: eng.request("GET", unreg, params={"unregistered": "true"}).status == 200, timeout=30,
                     what="a host that sees the imported domain")
        agent = ctx.client(0)
        agent.call("Ovf.put", domain=sd_id, vm=snap["vm"], ovf=snap["ovf"])
        listed = eng.get(unreg, params={"unregistered": "true"})["vms"]
        assert sorted((v["id"], v["name"], v["description"], v["memory_mib"]) for v in listed) == sorted(
            [(vm["id"], "vm-exp", HOSTILE + " v3", 256), (snap["vm"], "vm-exp-clone", HOSTILE, 192)]), listed
        lv = {v["id"]: v for v in listed}
        assert lv[vm["id"]]["nics"][0]["mac"] == mac and "snapshots" not in lv[vm["id"]], lv
        assert [(x["id"], x["description"], [d.get("volume") for d in x["disks"] if "disk" in d])
                for x in lv[snap["vm"]]["snapshots"]] == [(snap["snapshot"], "before", [snap["base"]])], lv

        # refused, nothing made: no cluster, a cluster of nowhere, an id not in the store
        reg = f"{unreg}/{vm['id']}/register"
        fault(eng.request("POST", reg, {}), 400)
        fault(eng.request("POST", reg, {"cluster": "nosuch"}), 400, "no cluster")
        fault(eng.request("POST", f"{unreg}/{uuid.uuid4()}/register", {"cluster": cl["id"]}), 404)
        assert eng.list("vms")["total"] == 0

        cli = CliSession(ctx, eng)  # the CLI lists and registers by name
        assert json.loads(cli.run("sd", "vms", sd_name, "--unregistered", "--json").stdout)["vms"] == listed
        rv = json.loads(cli.run("sd", "register-vm", sd_name, "vm-exp", "--cluster", "cl-dr", "--json").stdout)
        assert (rv["id"], rv["name"], rv["status"], rv["description"]) == (vm["id"], "vm-exp", "down", HOSTILE + " v3")
        assert rv["nics"][0]["mac"] == mac and rv["nics"][0]["profile"], rv
        prof = eng.get(f"/api/vnicprofiles/{rv['nics'][0]['profile']}")
        assert prof["name"] == profile, prof
        assert [d.get("disk") or d.get("path") for d in rv["disks"]] == [d.get("disk") or d.get("path")
                                                                         for d in vm["disks"]], rv
        fault(eng.request("POST", reg, {"cluster": cl["id"]}), 409, "registered already")

        # the VM with a snapshot: an OVF whose chain names a volume not on the domain is refused,
        # nothing made
        text, bad = agent.call("Ovf.get", domain=sd_id, vm=snap["vm"])["ovf"], str(uuid.uuid4())
        agent.call("Ovf.put", domain=sd_id, vm=bad,
                   ovf=text.replace(snap["vm"], bad).replace(snap["base"], str(uuid.uuid4())))
        fault(eng.request("POST", f"{unreg}/{bad}/register", {"cluster": cl["id"]}), 409, "not on storage domain")
        agent.call("Ovf.remove", domain=sd_id, vm=bad)
        assert eng.list("vms")["total"] == 1
        # registered with the chain on the domain: the OVF's snapshot kept, the layer it does not know a
        # recovered snapshot; the disk reads the newest write, each snapshot restored reads its own
        eng.call("POST", f"{unreg}/{snap['vm']}/register", {"cluster": cl["id"]}, expect=201)
        ss, d = eng.get(f"/api/vms/{snap['vm']}/snapshots")["snapshots"], snap["disk"]
        assert [(x["id"], x["type"], x["status"], x["volumes"]) for x in ss] == [
            (snap["snapshot"], "regular", "ok", {d: snap["base"]}), (ss[-1]["id"], "regular", "ok", {d: snap["leaf"]})]
        assert ss[0]["description"] == "before" and f"found on storage domain '{sd_name}'" in ss[1]["description"], ss
        assert eng.get(f"/api/disks/{d}")["volume_id"] == snap["newest"]
        for x, now, was in ((None, "0x33", "0x22"), (ss[1], "0x22", "0x33"), (ss[0], "0x11", "0x22")):
            if x:
                run_job(eng, eng.request("POST", f"/api/snapshots/{x['id']}/restore"))
            assert reads_at(ctx, eng, sd_id, d, now) and not reads_at(ctx, eng, sd_id, d, was), (x, now)
        assert eng.get(unreg, params={"unregistered": "true"})["vms"] == []

        # the template: listed apart, refused as a VM, registered with its disk as its own
        tunreg = f"/api/storagedomains/{sd_id}/templates"
        tl = eng.get(tunreg, params={"unregistered": "true"})["templates"]
        assert [(t["id"], t["name"], t["template"]) for t in tl] == [(tpl_id, "tpl-dr", True)], tl
        fault(eng.request("POST", f"{unreg}/{tpl_id}/register", {"cluster": cl["id"]}), 409, "is a template")
        fault(eng.request("POST", f"{tunreg}/{tpl_id}/register", {"cluster": cl["id"], "reassign_bad_macs": True}),
              400)
        t = eng.call("POST", f"{tunreg}/{tpl_id}/register", {"cluster": cl["id"]}, expect=201)
        assert (t["id"], t["name"], t["status"], t["description"]) == (tpl_id, "tpl-dr", "ok", "dr"), t
        tdisk = [d["disk"] for d in t["spec"]["disks"] if "disk" in d]
        assert len(tdisk) == 1 and eng.get(f"/api/disks/{tdisk[0]}")["status"] == "ok", t
        fault(eng.request("POST", f"{rv['href']}/disks", {"disk": tdisk[0]}), 409, "belongs to template")
        assert eng.get(tunreg, params={"unregistered": "true"})["templates"] == []

        # it boots on the registered definition and reads the marker from its disk (without its
        # NIC: the harness hosts do not carry vireomgmt)
        eng.call("DELETE", f"{rv['href']}/nics/{mac}", expect=204)
        run_job(eng, eng.request("POST", f"{rv['href']}/start"), timeout=120)
        eng.wait_status("vms", rv["id"], "up", timeout=90)
        c = ctx.client(0)
        ctx.wait_console(c, rv["id"], "VIREO-GUEST-READY")
        text = ctx.wait_console(c, rv["id"], "VIREO-MARK vdb 8 ", send="readmark vdb 8\n")
        assert text.rsplit("VIREO-MARK vdb 8 ", 1)[1].split()[0] == MARK.decode(), text[-500:]
        eng.vm_action(rv["id"], "stop")
        eng.wait_status("vms", rv["id"], "down", timeout=60)
        assert eng.request("DELETE", rv["href"]).status == 204
    finally:
        try:
            for v in eng.list("vms")["vms"]:
                eng.request("POST", f"{v['href']}/stop")
                eng.wait_status("vms", v["id"], "down", timeout=60)
                eng.request("DELETE", v["href"])
            for t in eng.list("templates")["templates"]:
                if t["name"] != "Blank":
                    eng.wait_job(eng.request("DELETE", t["href"]).body["job"]["id"], timeout=60)
            if attached:
                leave_storage(eng, sd_id, [d["id"] for d in eng.list("disks")["disks"]])
            else:
                eng.request("DELETE", f"/api/storagedomains/{sd_id}")
        finally:
            eng.__exit__(None, None, None)
            scrub_domain(ctx, sd_id)


def _template_round_trip(ctx, eng, cli, st, exp_id, exp_name, tpl_id, store):
    """The template through the export domain: exported (its OVF under
    master/templates, apart from the VMs; a hostile one beside it listed
    with its error), refused again without exclusive, replaced with it
    across an engine kill;
    a thin VM over it exported (collapsed); both removed; the VM imported
    while the engine lacks the template (its disk is flat: it needs none);
    the template imported back by the CLI (same ids), its disk holding the
    marker, a thin VM made from it. The template keeps its id, so the data
    domain's OVF store holds it again for the disaster recovery below."""
    sd_id, cl = st["sd_id"], st["cl"]
    texp = f"/api/templates/{tpl_id}/export"
    fault(eng.request("POST", texp, {"storage_domain": st["sd_name"]}), 409, "export domain")
    fault(eng.request("POST", "/api/templates/00000000-0000-0000-0000-000000000000/export",
                      {"storage_domain": exp_id}), 409, "Blank")
    fault(eng.request("POST", texp, {"storage_domain": exp_id, "collapse_snapshots": True}), 400)
    j = run_job(eng, eng.request("POST", texp, {"storage_domain": exp_name}))
    assert (j["action"], j["object_type"], j["object_id"]) == ("export", "template", tpl_id), j
    t = eng.get(f"/api/templates/{tpl_id}")
    assert t["status"] == "ok", t
    tdisk = [d["disk"] for d in t["spec"]["disks"] if "disk" in d]
    c = ctx.client(0)
    root = ET.fromstring(c.call("Ovf.get", domain=exp_id, vm=tpl_id, template=True)["ovf"].encode())
    assert (root.findtext("Content/Name"), root.findtext("Content/IsTemplate")) == ("tpl-dr", "true")
    assert tpl_id not in c.call("Ovf.list", domain=exp_id)["vms"] and \
        c.call("Ovf.list", domain=exp_id, template=True)["vms"] == [tpl_id]
    assert [v["image"] for v in c.call("Volume.list", domain=exp_id)["volumes"]].count(tdisk[0]) == 1
    fault(eng.request("POST", texp, {"storage_domain": exp_id}), 409, "already exported")
    bad = str(uuid.uuid4())  # a hostile template OVF: listed with its error, refused at import
    ctx.client(st["spm_i"]).call("Ovf.put", domain=exp_id, vm=bad, template=True,
                                 ovf='<?xml version="1.0"?><!DOCTYPE e [<!ENTITY a "b">]><e>&a;</e>')
    # replaced (exclusive) across an engine kill: the restarted engine resumes the job (the old OVF
    # removed first, a copy under way followed), the template ok again, one whole volume and the OVF
    r = eng.request("POST", texp, {"storage_domain": exp_id, "exclusive": True})
    assert r.status == 202, r
    eng.kill()
    eng.start()
    job = eng.wait_job(r.body["job"]["id"], timeout=180)
    assert job["status"] == "finished" and eng.get(t["href"])["status"] == "ok", (job, eng.log_tail(60))
    vols = [v for v in c.call("Volume.list", domain=exp_id)["volumes"] if v["image"] == tdisk[0]]
    assert [v["legality"] for v in vols] == ["LEGAL"], vols
    assert sorted(c.call("Ovf.list", domain=exp_id, template=True)["vms"]) == sorted([tpl_id, bad])
    eng.wait_for(lambda: eng.request("GET", f"/api/storagedomains/{exp_id}/templates").status == 200, timeout=30,
                 what="a host that sees the export domain again")
    listed = {x["id"]: x for x in json.loads(cli.run("sd", "templates", exp_name, "--json").stdout)["templates"]}
    assert sorted(listed) == sorted([tpl_id, bad]) and "DTD" in listed[bad]["error"], listed
    x = listed[tpl_id]
    assert (x["name"], x["template"], x["description"]) == ("tpl-dr", True, "dr"), x
    fault(eng.request("POST", f"/api/storagedomains/{exp_id}/templates/{bad}/import",
                      {"cluster": cl["id"], "storage_domain": sd_id, "clone": True}), 409, "DTD")
    timp = f"/api/storagedomains/{exp_id}/templates/{tpl_id}/import"
    fault(eng.request("POST", timp, {"cluster": cl["id"], "storage_domain": sd_id}), 409, "exists already")
    fault(eng.request("POST", timp, {"cluster": cl["id"]}), 400)

    # a thin VM over it, exported: the chain collapsed into one flat volume
    j = run_job(eng, eng.request("POST", f"/api/templates/{tpl_id}/createvm", {"name": "vm-thin"}))
    thin = eng.get(f"/api/vms/{j['object_id']}")
    thin_disk = [d["disk"] for d in thin["disks"] if "disk" in d]
    run_job(eng, eng.request("POST", f"{thin['href']}/export", {"storage_domain": exp_id}))
    fault(eng.request("DELETE", t["href"]), 409, "vm-thin")
    assert eng.request("DELETE", thin["href"]).status == 204
    drop_disks(eng, thin_disk)
    run_job(eng, eng.request("DELETE", t["href"]))
    # (its OVF may stay in the store: written by the engine before the kill, it is a stray to this one)

    # the thin VM imported where the template is not: it stands alone
    run_job(eng, eng.request("POST", f"/api/storagedomains/{exp_id}/vms/{thin['id']}/import",
                            {"cluster": cl["id"], "storage_domain": sd_id}))
    assert MARK in disk_content(eng, thin_disk[0])
    assert eng.request("DELETE", thin["href"]).status == 204
    drop_disks(eng, thin_disk)

    # the template back, as itself; a VM from it
    out = cli.run("sd", "import-template", exp_name, "tpl-dr", "--cluster", cl["name"], "--domain", st["sd_name"],
                  "--wait", "--json").stdout
    t2 = eng.get(f"/api/templates/{json.loads(out)['id']}")
    assert (t2["id"], t2["name"], t2["status"], t2["description"]) == (tpl_id, "tpl-dr", "ok", "dr"), t2
    assert [d["disk"] for d in t2["spec"]["disks"] if "disk" in d] == tdisk, t2
    assert MARK in disk_content(eng, tdisk[0])
    j = run_job(eng, eng.request("POST", f"/api/templates/{tpl_id}/createvm", {"name": "vm-thin2"}))
    v2 = eng.get(f"/api/vms/{j['object_id']}")
    assert v2["status"] == "down" and len([d for d in v2["disks"] if "disk" in d]) == 1, v2
    assert eng.request("DELETE", v2["href"]).status == 204
    drop_disks(eng, [d["disk"] for d in v2["disks"] if "disk" in d])
    for gone in (thin["id"], v2["id"]):  # no longer in the store when the domain goes
        stored(eng, store, sd_id, gone, None)
    stored(eng, store, sd_id, tpl_id, lambda r: r.findtext("Content/IsTemplate") == "true")


def _keep_snapshots(ctx, eng, c, st, cv, disk, exp_id):
    """An export keeping snapshots (collapse_snapshots false): the clone
    (down) takes a snapshot through the API between two writes; exported,
    its chain is on the export domain volume by volume (same ids, the
    layer's .meta naming the base; again with exclusive, the earlier chain
    removed first) and its OVF lists the snapshot (the listing too);
    hostile chains (a loop, a snapshot volume off the chain) listed with
    their error and refused at import; imported as a clone, the
    new VM has the snapshot (new ids) and reads the second write, previewing
    the snapshot reads the first (an export then refused), undo the second,
    restoring the first. The replacing export is cut by an engine kill
    while the SPM copies the base: the restarted engine follows that copy
    (each volume copied once: the SPM's Job.list) and the export finishes.
    The ids of the export, for its import as itself."""
    h0, sd_id, cl = ctx.hs.hosts[0], st["sd_id"], st["cl"]
    spm = ctx.client(spm_index(eng, st))

    def meta(v):
        text = h0.run(["cat", vfile(ctx, exp_id, disk, v) + ".meta"], check=True).stdout
        return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)

    def reads(d, pattern):
        return reads_at(ctx, eng, sd_id, d, pattern)

    base = eng.get(f"/api/disks/{disk}")["volume_id"]
    write_at(ctx, sd_id, disk, base, "0x11")
    run_job(eng, eng.request("POST", f"{cv['href']}/snapshots", {"description": "before"}))
    snap = eng.get(f"{cv['href']}/snapshots")["snapshots"]
    leaf = eng.get(f"/api/disks/{disk}")["volume_id"]
    assert leaf != base and [s["volumes"] for s in snap] == [{disk: base}], snap
    write_at(ctx, sd_id, disk, leaf, "0x22")
    run_job(eng, eng.request("POST", f"{cv['href']}/export", {"storage_domain": exp_id, "collapse_snapshots": False}))
    # replaced (exclusive): the earlier chain removed top down, then copied again, across an engine
    # kill while the base is copied: the copy under way followed, none started twice
    copied_once_across_engine_kill(ctx, eng, st, f"{cv['href']}/export", {
        "storage_domain": exp_id, "collapse_snapshots": False, "exclusive": True}, base, (base, leaf))
    assert eng.get(cv["href"])["status"] == "down"
    vols = {v["volume"]: v for v in c.call("Volume.list", domain=exp_id)["volumes"] if v["image"] == disk}
    assert sorted(vols) == sorted([base, leaf]) and {v["legality"] for v in vols.values()} == {"LEGAL"}, vols
    assert (meta(leaf)["PUUID"], meta(leaf)["VOLTYPE"], meta(leaf)["FORMAT"]) == (base, "LEAF", "COW")
    assert (meta(base)["PUUID"], meta(base)["VOLTYPE"]) == (str(uuid.UUID(int=0)), "INTERNAL")
    root = ET.fromstring(c.call("Ovf.get", domain=exp_id, vm=cv["id"])["ovf"].encode())
    listed = [(x.get("{%s}id" % OVF_NS), x.findtext("Description")) for x in root.findall("Content/Section/Snapshot")]
    assert listed == [(snap[0]["id"], "before")], listed
    parents = {x.get("{%s}diskId" % OVF_NS): x.get("{%s}parentRef" % OVF_NS) for x in root.findall("Section/Disk")}
    assert parents[leaf] == base and parents[base] == "", parents
    listed = {v["id"]: v for v in eng.get(f"/api/storagedomains/{exp_id}/vms")["vms"]}
    ld = [d for d in listed[cv["id"]]["disks"] if d.get("disk") == disk][0]
    assert ld["chain"] == [{"volume": base, "parent": ""}, {"volume": leaf, "parent": base}], ld
    assert [(x["id"], x["description"], [d.get("volume") for d in x["disks"] if "disk" in d])
            for x in listed[cv["id"]]["snapshots"]] == [(snap[0]["id"], "before", [base])], listed[cv["id"]]

    # hostile chains: listed with their error, refused at import, nothing made
    text, ref = c.call("Ovf.get", domain=exp_id, vm=cv["id"])["ovf"], f'ovf:parentRef="{base}"'
    assert text.count(ref) == 1
    bad = {str(uuid.uuid4()): (text.replace(ref, f'ovf:parentRef="{leaf}"'), "a loop"),
           str(uuid.uuid4()): (text.replace(ref, 'ovf:parentRef=""'), "not in the chain")}
    vms = eng.list("vms")["total"]
    for vid, (ovf, _) in bad.items():
        spm.call("Ovf.put", domain=exp_id, vm=vid, ovf=ovf.replace(cv["id"], vid))
    listed = {v["id"]: v for v in eng.get(f"/api/storagedomains/{exp_id}/vms")["vms"]}
    for vid, (_, why) in bad.items():
        assert why in listed[vid]["error"], listed[vid]
        fault(eng.request("POST", f"/api/storagedomains/{exp_id}/vms/{vid}/import",
                          {"cluster": cl["id"], "storage_domain": sd_id, "clone": True}), 409, why)
        spm.call("Ovf.remove", domain=exp_id, vm=vid)
    assert eng.list("vms")["total"] == vms

    j = run_job(eng, eng.request("POST", f"/api/storagedomains/{exp_id}/vms/{cv['id']}/import",
                                {"cluster": cl["id"], "storage_domain": sd_id, "clone": True, "name": "vm-exp-snap"}))
    sv = eng.get(f"/api/vms/{j['object_id']}")
    sdisk = [d["disk"] for d in sv["disks"] if "disk" in d]
    ss = eng.get(f"{sv['href']}/snapshots")["snapshots"]
    assert [(s["description"], s["type"], s["status"]) for s in ss] == [("before", "regular", "ok")], ss
    assert ss[0]["id"] != snap[0]["id"] and list(ss[0]["volumes"]) == sdisk and sdisk != [disk], (ss, sdisk)
    assert ss[0]["volumes"][sdisk[0]] not in (base, leaf, eng.get(f"/api/disks/{sdisk[0]}")["volume_id"]), ss
    assert reads(sdisk[0], "0x22") and not reads(sdisk[0], "0x11")
    run_job(eng, eng.request("POST", f"/api/snapshots/{ss[0]['id']}/preview"))
    assert reads(sdisk[0], "0x11") and not reads(sdisk[0], "0x22")
    fault(eng.request("POST", f"{sv['href']}/export", {"storage_domain": exp_id, "collapse_snapshots": False}),
          409, "previewed")
    run_job(eng, eng.request("POST", f"/api/snapshots/{ss[0]['id']}/undo"))
    assert reads(sdisk[0], "0x22") and not reads(sdisk[0], "0x11")
    run_job(eng, eng.request("POST", f"/api/snapshots/{ss[0]['id']}/restore"))
    assert reads(sdisk[0], "0x11") and not reads(sdisk[0], "0x22")
    assert eng.request("DELETE", sv["href"]).status == 204
    drop_disks(eng, sdisk)
    return {"snapshot": snap[0]["id"], "base": base, "leaf": leaf}


def test_export_import(ctx):
    eng = Engine(ctx, poll_ms=1000, grace_s=6)
    eng.__enter__()
    if not last_backend(eng):
        eng.__exit__(None, None, None)
        return
    sd_id = exp_id = None
    moved = False
    t0 = time.monotonic()
    try:
        st = storage_dc(ctx, eng, "exp")
        sd_id, cl = st["sd_id"], st["cl"]
        exp_id, exp_name = export_domain(ctx, eng, st)

        # A disk whose bytes hold a marker (uploaded raw), a VM with it and a NIC.
        disk = eng.call("POST", "/api/disks", {"alias": "data", "storage_domain": sd_id, "format": "raw",
                                               "provisioned_size": MIB, "content": "upload"}, expect=201)
        image = bytearray(MIB)
        image[4096:4096 + len(MARK)] = MARK
        r = eng.request("PUT", f"/api/disks/{disk['id']}/content", raw=bytes(image),
                        headers={"Content-Type": "application/octet-stream"}, timeout=60)
        assert r.status == 200, r
        mgmt = [n for n in eng.get(f"/api/datacenters/{st['dc']['id']}/networks")["networks"]][0]
        prof = eng.get(f"/api/networks/{mgmt['id']}/vnicprofiles")["vnicprofiles"][0]
        spec = ctx.vm_spec("vm-exp")
        vm = eng.create_vm("vm-exp", cl["id"], memory_mib=192, vcpus=2, description=HOSTILE, boot=spec["boot"],
                           disks=spec["disks"] + [{"disk": disk["id"]}], nics=[{"profile": prof["id"]}])
        mac = vm["nics"][0]["mac"]
        export = f"{vm['href']}/export"

        # ---- refused, nothing changed
        jobs = eng.list("jobs")["total"]
        fault(eng.request("POST", export, {"storage_domain": st["sd_name"]}), 409, "export domain")
        fault(eng.request("POST", export, {"storage_domain": "nosuch"}), 400, "no storage domain")
        fault(eng.request("POST", export, {}), 400)
        fault(eng.request("POST", export, {"storage_domain": exp_id, "collapse_snapshots": "no"}), 400)
        fault(eng.request("GET", f"/api/storagedomains/{sd_id}/vms"), 409, "not an export domain")
        assert eng.list("jobs")["total"] == jobs

        # ---- export: the collapsed volume and the OVF on the domain
        j = run_job(eng, eng.request("POST", export, {"storage_domain": exp_name}))
        assert (j["action"], j["object_id"]) == ("export", vm["id"]), j
        assert eng.get(vm["href"])["status"] == "down"
        c = ctx.client(0)
        vols = [v for v in c.call("Volume.list", domain=exp_id)["volumes"] if v["image"] == disk["id"]]
        assert [(v["legality"], v["capacity"]) for v in vols] == [("LEGAL", MIB)], vols
        text = c.call("Ovf.get", domain=exp_id, vm=vm["id"])["ovf"]
        root = ET.fromstring(text.encode())
        assert root.tag == "{%s}Envelope" % OVF_NS, root.tag
        content = root.find("Content")
        assert content.findtext("Name") == "vm-exp" and content.findtext("Description") == HOSTILE, text
        items = content.find("Section[@{http://www.w3.org/2001/XMLSchema-instance}type="
                             "'ovf:VirtualHardwareSection_Type']").findall("Item")
        kinds = {}
        for it in items:
            kinds.setdefault(it.findtext("{%s}ResourceType" % RASD), []).append(it)
        assert kinds["4"][0].findtext("{%s}VirtualQuantity" % RASD) == "192"
        assert kinds["3"][0].findtext("{%s}cpu_per_socket" % RASD) == "2"
        nic = kinds["10"][0]
        assert nic.findtext("{%s}MACAddress" % RASD) == mac and nic.findtext("{%s}Connection" % RASD) == mgmt["name"]
        hrefs = [it.findtext("{%s}HostResource" % RASD) for it in kinds["17"]]
        assert f"{disk['id']}/{vols[0]['volume']}" in hrefs, hrefs
        assert root.find("References/File").get("{%s}href" % OVF_NS) == f"{disk['id']}/{vols[0]['volume']}"

        # again: refused without exclusive, replaced with it
        fault(eng.request("POST", export, {"storage_domain": exp_id}), 409, "already exported")
        st["spm_i"] = export_cut_by_the_spm(ctx, eng, st, vm, disk, exp_id)
        c = ctx.client(0)  # the agent killed may have been host 0's: a new connection
        cli = CliSession(ctx, eng)  # the CLI replaces it
        cli.run("vm", "export", "vm-exp", "--domain", exp_name, "--exclusive", "--wait")
        vols = [v for v in c.call("Volume.list", domain=exp_id)["volumes"] if v["image"] == disk["id"]]
        assert len(vols) == 1 and vols[0]["legality"] == "LEGAL", vols

        # ---- the domain's VMs, from storage
        listed = json.loads(cli.run("sd", "vms", exp_name, "--json").stdout)["vms"]
        assert eng.get(f"/api/storagedomains/{exp_id}/vms")["vms"] == listed
        assert [(v["id"], v["name"], v["description"], v["memory_mib"]) for v in listed] == \
            [(vm["id"], "vm-exp", HOSTILE, 192)], listed

        # ---- import: not over the existing VM; as a clone with new ids and MACs
        imp = f"/api/storagedomains/{exp_id}/vms/{vm['id']}/import"
        fault(eng.request("POST", imp, {"cluster": cl["name"], "storage_domain": sd_id}), 409, "exists already")
        fault(eng.request("POST", imp, {"cluster": cl["name"], "storage_domain": exp_id, "clone": True}), 409,
              "active data domain")
        fault(eng.request("POST", imp, {"storage_domain": sd_id}), 400)
        # cut by the SPM agent's death: nothing left (no VM, disk row or volume); the CLI's import succeeds
        st["spm_i"] = import_cut_by_the_spm(ctx, eng, st, exp_id, vm["id"], vols[0]["volume"])
        c = ctx.client(0)
        out = cli.run("sd", "import-vm", exp_name, "vm-exp", "--cluster", cl["name"], "--domain", st["sd_name"],
                      "--clone", "--name", "vm-exp-clone", "--wait", "--json").stdout
        cv = eng.get(f"/api/vms/{json.loads(out)['id']}")
        assert cv["id"] != vm["id"] and cv["name"] == "vm-exp-clone" and cv["status"] == "down", cv
        assert cv["nics"][0]["mac"] != mac and cv["nics"][0]["profile"] == prof["id"], cv
        cdisk = [d["disk"] for d in cv["disks"] if "disk" in d]
        assert len(cdisk) == 1 and cdisk[0] != disk["id"], cv
        assert cv["disks"][0].get("path") == spec["disks"][0]["path"], cv
        assert MARK in disk_content(eng, cdisk[0])
        kept = _keep_snapshots(ctx, eng, c, st, cv, cdisk[0], exp_id)

        # ---- the original gone, imported as itself: same id, disk id and MAC
        assert eng.request("DELETE", vm["href"]).status == 204
        r = eng.request("DELETE", f"/api/disks/{disk['id']}")
        if r.status == 202:
            run_job(eng, r)
        j = run_job(eng, eng.request("POST", imp, {"cluster": cl["id"], "storage_domain": sd_id}))
        iv = eng.get(vm["href"])
        assert iv["name"] == "vm-exp" and iv["description"] == HOSTILE and iv["nics"][0]["mac"] == mac, iv
        assert [d["disk"] for d in iv["disks"] if "disk" in d] == [disk["id"]], iv
        assert MARK in disk_content(eng, disk["id"])
        fault(eng.request("POST", imp, {"cluster": cl["id"], "storage_domain": sd_id}), 409, "exists already")

        # ---- hostile OVFs on storage: listed with their error, refused at import, nothing made
        spm = ctx.client(st["spm_i"])
        bad = {
            str(uuid.uuid4()): ('<?xml version="1.0"?><!DOCTYPE e [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">'
                                ']><ovf:Envelope xmlns:ovf="%s"><Content><Name>&b;</Name></Content></ovf:Envelope>'
                                % OVF_NS, "DTD"),
            str(uuid.uuid4()): ('<?xml version="1.0"?><!DOCTYPE e SYSTEM "http://127.0.0.1:1/x.dtd"><e/>', "DTD"),
            str(uuid.uuid4()): ("<ovf:Envelope><Content>", "well-formed"),
        }
        for vid, (ovf, _) in bad.items():
            spm.call("Ovf.put", domain=exp_id, vm=vid, ovf=ovf)
        vms = eng.list("vms")["total"]
        listed = {v["id"]: v for v in eng.get(f"/api/storagedomains/{exp_id}/vms")["vms"]}
        for vid, (_, why) in bad.items():
            assert why in listed[vid]["error"], listed[vid]
            fault(eng.request("POST", f"/api/storagedomains/{exp_id}/vms/{vid}/import",
                              {"cluster": cl["id"], "storage_domain": sd_id, "clone": True}), 409, why)
        assert listed[vm["id"]]["name"] == "vm-exp"
        # a thin export (another manager's: TemplateId names its template) needs that template here
        thin_id, base = str(uuid.uuid4()), str(uuid.uuid4())
        blank = "<TemplateId>00000000-0000-0000-0000-000000000000</TemplateId>"
        assert blank in text
        spm.call("Ovf.put", domain=exp_id, vm=thin_id, ovf=text.replace(vm["id"], thin_id).replace(
            blank, f"<TemplateId>{base}</TemplateId><TemplateName>gold</TemplateName>"))
        fault(eng.request("POST", f"/api/storagedomains/{exp_id}/vms/{thin_id}/import",
                          {"cluster": cl["id"], "storage_domain": sd_id, "clone": True}), 409,
              f"thin over template {base} ('gold')")
        spm.call("Ovf.remove", domain=exp_id, vm=thin_id)
        assert eng.list("vms")["total"] == vms

        print(f"  export and import: {time.monotonic() - t0:.1f} s")
        t0 = time.monotonic()
        # ---- the data domain's OVF store: the VM's OVF, rewritten when it changes, gone with the VM
        store = ctx.client(0)
        stored(eng, store, sd_id, iv["id"], lambda r: r.findtext("Content/Name") == "vm-exp")
        stored(eng, store, sd_id, cv["id"], lambda r: r.findtext("Content/Name") == "vm-exp-clone")
        eng.call("PUT", iv["href"], {"description": HOSTILE + " v2", "memory_mib": 256})  # 256: enough to boot
        stored(eng, store, sd_id, iv["id"], lambda r: r.findtext("Content/Description") == HOSTILE + " v2")
        assert eng.get(f"/api/storagedomains/{sd_id}/vms", params={"unregistered": "true"})["vms"] == []
        r = eng.request("POST", "/api/templates", {"name": "tpl-dr", "vm": iv["id"], "description": "dr"})
        run_job(eng, r)
        tpl_id = r.body["id"]
        stored(eng, store, sd_id, tpl_id, lambda r: r.findtext("Content/IsTemplate") == "true")
        _template_round_trip(ctx, eng, cli, st, exp_id, exp_name, tpl_id, store)
        fault(eng.request("GET", f"/api/storagedomains/{exp_id}/vms", params={"unregistered": "true"}), 409,
              "not a data domain")
        assert eng.request("DELETE", cv["href"]).status == 204
        drop_disks(eng, cdisk)
        stored(eng, store, sd_id, cv["id"], None)
        # its export that kept the snapshot, imported as itself across an engine kill while the SPM copies
        # the base (that copy followed, each volume copied once): the same VM, snapshot and volume ids, the
        # chain reading the second write; the OVF store keeps it with its chain and snapshot
        j = copied_once_across_engine_kill(ctx, eng, st, f"/api/storagedomains/{exp_id}/vms/{cv['id']}/import",
                                           {"cluster": cl["id"], "storage_domain": sd_id}, kept["base"],
                                           (kept["base"], kept["leaf"]))
        assert reads_at(ctx, eng, sd_id, cdisk[0], "0x22") and not reads_at(ctx, eng, sd_id, cdisk[0], "0x11")
        assert j["object_id"] == cv["id"] and eng.get(f"/api/disks/{cdisk[0]}")["volume_id"] == kept["leaf"], j
        ss = eng.get(f"{cv['href']}/snapshots")["snapshots"]
        assert [(x["id"], x["description"], x["volumes"]) for x in ss] == \
            [(kept["snapshot"], "before", {cdisk[0]: kept["base"]})], ss
        stored(eng, store, sd_id, cv["id"], lambda r: [x.get("{%s}id" % OVF_NS) for x in
                                                       r.findall("Content/Section/Snapshot")] == [kept["snapshot"]])
        kept.update(vm=cv["id"], disk=cdisk[0], ovf=store.call("Ovf.get", domain=sd_id, vm=cv["id"])["ovf"])
        # a snapshot newer than that OVF (the second engine puts it back: as if engine A died before its
        # next round), then a third write on the new leaf
        run_job(eng, eng.request("POST", f"{cv['href']}/snapshots", {"description": "after"}))
        kept["newest"] = eng.get(f"/api/disks/{cdisk[0]}")["volume_id"]
        write_at(ctx, sd_id, cdisk[0], kept["newest"], "0x33")

        # ---- engine A lets the domain go (the VM stays on it), a fresh engine registers the VM
        leave_storage(eng, exp_id, [])
        exp_id = None
        # changed just before the maintenance, which writes the OVF store first (no round to wait for)
        eng.call("PUT", iv["href"], {"description": HOSTILE + " v3"})
        eng.call("POST", f"/api/storagedomains/{sd_id}/maintenance")
        run_job(eng, eng.request("POST", f"/api/storagedomains/{sd_id}/detach"), timeout=240)
        eng.wait_for(lambda: eng.get(st["dc"]["href"])["spm_host"] is None, timeout=60, what="the SPM lease released")
        moved = True
        print(f"  the OVF store, the domain detached: {time.monotonic() - t0:.1f} s")
    finally:
        if moved:
            eng.__exit__(None, None, None)
        else:
            leave_engine_a(ctx, eng, sd_id, exp_id)
    if moved:
        t0 = time.monotonic()
        _disaster_recovery(ctx, sd_id, st["sd_name"], iv, mac, prof["name"], tpl_id, kept)
        print(f"  a second engine registered the VM and template, booted the VM: {time.monotonic() - t0:.1f} s")
