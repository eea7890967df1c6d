/* Live snapshots and live merges of a running VM's volume chains
 * (docs/storage.md, "Volume chains"). The SPM makes and removes volumes;
 * this host only switches the running QEMU between them:
 *  - VM.snapshot: the SPM already made a qcow2 layer over each disk's
 *    current volume; libvirt points the disks at them in one atomic,
 *    disk-only external snapshot (quiesced through the guest agent when
 *    asked and possible). No libvirt snapshot metadata is kept: the chain
 *    lives on the storage domain.
 *  - VM.merge: block commit of `top` into its parent `base`, pivoting when
 *    top is the active layer; the SPM then drops top (Volume.merge with
 *    committed=true).
 * Both run under the VM's job, so no other change of the VM overlaps. */
#include <libxml/xmlwriter.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "devspec.h"
#include "dominfo.h"
#include "jsonx.h"
#include "log.h"
#include "verbs.h"
#include "vm_jobs.h"
#include "storage/volume.h"
#include "storage/volume_memory.h"

#define MERGE_DEADLINE_S 50 /* below the engine's 60 s storage verb timeout */

typedef struct snap_disk {
    const char *target;
    vr_volume_ref vol;
    char path[PATH_MAX];
} snap_disk;

/* The new layer must sit right on what the disk runs on now. */
static int check_layer(vr_agent *a, virDomainPtr dom, snap_disk *d, vr_error *err)
{
    vr_volume_ref cur;
    const char *fmt;
    vr_md md = {0};
    if (!vr_dom_disk_volume(a, dom, d->target, &cur))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                            "disk %s of VM %s is not a volume of a storage domain", d->target,
                            virDomainGetName(dom));
    if (vr_volume_resolve(a, &d->vol, d->path, sizeof(d->path), &fmt, err) < 0 ||
        vr_volume_read_meta(a, &d->vol, &md, err) < 0)
        return -1;
    const char *p = vr_md_get(&md, "PUUID");
    bool ok = p && !strcmp(p, cur.volume) && !strcmp(cur.image, d->vol.image) &&
              !strcmp(cur.domain, d->vol.domain) && !strcmp(fmt, "qcow2");
    vr_md_clear(&md);
    if (!ok)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                            "volume %s is not a qcow2 layer over volume %s, which disk %s of VM %s "
                            "runs on", d->vol.volume, cur.volume, d->target, virDomainGetName(dom));
    return 0;
}

#define W(x)                                                                                       \
    do {                                                                                           \
        if ((x) < 0)                                                                               \
            goto fail;                                                                             \
    } while (0)

/* <domainsnapshot> naming every disk: the given ones external, others no. */
static char *snapshot_xml(virDomainPtr dom, const snap_disk *disks, int n, const char *mem_path)
{
    xmlDocPtr doc = NULL;
    json_t *targets = NULL;
    char *out = NULL;
    xmlBufferPtr buf = xmlBufferCreate();
    xmlTextWriterPtr w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
    if (!w || vr_dom_doc(dom, &doc, NULL) < 0)
        goto fail;
    targets = vr_dom_xpath_strings(doc, "/domain/devices/disk/target/@dev");
    W(xmlTextWriterStartElement(w, BAD_CAST "domainsnapshot"));
    if (mem_path) { /* the memory too, into a memory volume (volume_memory.c) */
        W(xmlTextWriterStartElement(w, BAD_CAST "memory"));
        W(xmlTextWriterWriteAttribute(w, BAD_CAST "snapshot", BAD_CAST "external"));
        W(xmlTextWriterWriteAttribute(w, BAD_CAST "file", BAD_CAST mem_path));
        W(xmlTextWriterEndElement(w));
    }
    W(xmlTextWriterStartElement(w, BAD_CAST "disks"));
    size_t i;
    json_t *t;
    json_array_foreach(targets, i, t) {
        const char *name = json_string_value(t);
        const snap_disk *d = NULL;
        for (int k = 0; k < n; k++)
            if (!strcmp(disks[k].target, name))
                d = &disks[k];
        W(xmlTextWriterStartElement(w, BAD_CAST "disk"));
        W(xmlTextWriterWriteAttribute(w, BAD_CAST "name", BAD_CAST name));
        if (!d) {
            W(xmlTextWriterWriteAttribute(w, BAD_CAST "snapshot", BAD_CAST "no"));
        } else {
            W(xmlTextWriterWriteAttribute(w, BAD_CAST "snapshot", BAD_CAST "external"));
            W(xmlTextWriterWriteAttribute(w, BAD_CAST "type", BAD_CAST "file"));
            W(xmlTextWriterStartElement(w, BAD_CAST "driver"));
            W(xmlTextWriterWriteAttribute(w, BAD_CAST "type", BAD_CAST "qcow2"));
            W(xmlTextWriterEndElement(w));
            W(xmlTextWriterStartElement(w, BAD_CAST "source"));
            W(xmlTextWriterWriteAttribute(w, BAD_CAST "file", BAD_CAST d->path));
            W(xmlTextWriterEndElement(w));
        }
        W(xmlTextWriterEndElement(w));
    }
    W(xmlTextWriterEndDocument(w));
    xmlFreeTextWriter(w);
    w = NULL;
    out = strdup((const char *)xmlBufferContent(buf));
fail:
    if (w)
        xmlFreeTextWriter(w);
    if (buf)
        xmlBufferFree(buf);
    if (doc)
        xmlFreeDoc(doc);
    json_decref(targets);
    return out;
}

/* VM.snapshot {uuid, disks: [{target, volume: {domain, image, volume}}],
 * quiesce?, memory?} -> {disks: [...], quiesced}; memory: an ILLEGAL memory
 * volume that the guest's memory is saved into in the same atomic
 * snapshot (the SPM seals it afterwards). */
static int vm_snapshot(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    static const char *const keys[] = {"uuid", "disks", "quiesce", "memory"};
    static const char *const dkeys[] = {"target", "volume"};
    json_t *jdisks, *jd;
    bool quiesce = false;
    snap_disk disks[VR_MAX_STORAGE];
    size_t i;
    if (vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0 ||
        vr_json_arr(params, "params", "disks", true, &jdisks, err) < 0 ||
        vr_json_bool(params, "params", "quiesce", false, &quiesce, err) < 0)
        return -1;
    if (!json_is_array(jdisks) || json_array_size(jdisks) < 1 ||
        json_array_size(jdisks) > VR_MAX_STORAGE)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                            "params.disks must be an array of 1 to %d disks", VR_MAX_STORAGE);
    int n = 0;
    json_array_foreach(jdisks, i, jd) {
        json_t *jv;
        char where[32];
        snprintf(where, sizeof(where), "disks[%zu]", i);
        memset(&disks[n], 0, sizeof(disks[n]));
        if (vr_json_check_keys(jd, where, VR_NAMES(dkeys), err) < 0 ||
            vr_json_str(jd, where, "target", true, &disks[n].target, err) < 0 ||
            vr_json_obj(jd, where, "volume", true, &jv, err) < 0 ||
            vr_volume_ref_parse(jv, where, &disks[n].vol, err) < 0)
            return -1;
        if (!vr_valid_target(disks[n].target))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.target '%s' is not a disk target",
                                where, disks[n].target);
        for (int k = 0; k < n; k++)
            if (!strcmp(disks[k].target, disks[n].target))
                return vr_error_set(err, VR_ERR_INVALID_PARAMS, "disk %s is named twice",
                                    disks[n].target);
        n++;
    }
    char mem_path[PATH_MAX] = "";
    if (json_object_get(params, "memory")) {
        vr_volume_ref mr;
        if (vr_volume_ref_parse(json_object_get(params, "memory"), "params.memory", &mr, err) < 0 ||
            vr_memory_volume_path(a, &mr, false, mem_path, sizeof(mem_path), err) < 0)
            return -1;
    }
    virDomainPtr dom;
    if (vr_vm_job_begin_lookup(a, params, "VM.snapshot", &dom, err) < 0)
        return -1;
    int rc = 0;
    for (int k = 0; k < n && rc == 0; k++)
        rc = check_layer(a, dom, &disks[k], err);
    char *xml = rc == 0 ? snapshot_xml(dom, disks, n, *mem_path ? mem_path : NULL) : NULL;
    if (rc == 0 && !xml)
        rc = vr_error_set(err, VR_ERR_INTERNAL, "cannot build the snapshot XML of VM %s",
                          virDomainGetName(dom));
    unsigned flags = (*mem_path ? 0 : VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY) | VIR_DOMAIN_SNAPSHOT_CREATE_REUSE_EXT |
                     VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA | VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC;
    bool quiesced = false;
    char quiesce_why[256] = "";
    if (rc == 0) {
        virDomainSnapshotPtr snap = NULL;
        /* A guest without a guest agent cannot freeze its file systems:
         * the snapshot is still crash-consistent, and says it was not
         * quiesced (RHV does the same). */
        if (quiesce) {
            snap = virDomainSnapshotCreateXML(dom, xml, flags | VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE);
            quiesced = snap != NULL;
            if (!snap) {
                virErrorPtr e = virGetLastError();
                snprintf(quiesce_why, sizeof(quiesce_why), "%s", e && e->message ? e->message : "unknown reason");
                VR_INFO("VM %s: quiesced snapshot impossible (%s); taking it unquiesced",
                        virDomainGetName(dom), quiesce_why);
                /* A freeze that timed out (vm_guestinfo.c bounds the agent's
                 * answers) may still have frozen the guest: thaw it, so it
                 * does not stay frozen under the crash-consistent snapshot.
                 * Without an agent this fails at once, and is ignored. */
                if (virDomainFSThaw(dom, NULL, 0, 0) < 0)
                    virResetLastError();
            }
        }
        if (!snap)
            snap = virDomainSnapshotCreateXML(dom, xml, flags);
        if (!snap)
            rc = vr_libvirt_error(err, "cannot snapshot the disks of VM %s", virDomainGetName(dom));
        else
            virDomainSnapshotFree(snap);
    }
    free(xml);
    if (rc == 0) {
        json_t *out = json_array();
        for (int k = 0; k < n; k++)
            json_array_append_new(out, json_pack("{s:s, s:{s:s, s:s, s:s}}", "target",
                                                 disks[k].target, "volume", "domain",
                                                 disks[k].vol.domain, "image", disks[k].vol.image,
                                                 "volume", disks[k].vol.volume));
        *result = json_pack("{s:o, s:b}", "disks", out, "quiesced", quiesced);
        if (*quiesce_why) /* why a quiesce asked for did not happen */
            json_object_set_new(*result, "quiesce_error", json_string(quiesce_why));
        VR_INFO("VM %s: live snapshot of %d disk(s)%s", virDomainGetName(dom), n,
                quiesced ? ", quiesced" : "");
    }
    vr_vm_job_end_free(dom);
    return rc < 0 ? -1 : 0;
}

/* Is volume v in the backing chain of disk target (live XML)? */
static bool in_chain(virDomainPtr dom, const char *target, const char *path)
{
    xmlDocPtr doc;
    if (vr_dom_doc(dom, &doc, NULL) < 0)
        return false;
    char xp[160];
    snprintf(xp, sizeof(xp), "/domain/devices/disk[target/@dev='%s']//source/@file", target);
    json_t *files = vr_dom_xpath_strings(doc, xp);
    xmlFreeDoc(doc);
    bool found = false;
    size_t i;
    json_t *f;
    json_array_foreach(files, i, f) if (!strcmp(json_string_value(f), path)) found = true;
    json_decref(files);
    return found;
}

static void sleep_ms(int ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&t, NULL);
}

/* Run the block commit to its end (and pivot for the active layer). */
static int block_commit(virDomainPtr dom, const char *target, const char *base, const char *top,
                        bool active, vr_error *err)
{
    unsigned flags = VIR_DOMAIN_BLOCK_COMMIT_RELATIVE | (active ? VIR_DOMAIN_BLOCK_COMMIT_ACTIVE : 0);
    if (virDomainBlockCommit(dom, target, base, top, 0, flags) < 0)
        return vr_libvirt_error(err, "cannot start merging disk %s of VM %s", target,
                                virDomainGetName(dom));
    time_t end = time(NULL) + MERGE_DEADLINE_S;
    bool pivoted = false;
    /* Small layers commit in milliseconds: look again soon, then back off
     * to 100 ms (a query of QEMU's block job is cheap; libvirt's own wait
     * is event-driven, and a fixed 100 ms poll cost most of the gap). */
    int pause_ms = 5;
    while (time(NULL) < end) {
        virDomainBlockJobInfo info;
        int r = virDomainGetBlockJobInfo(dom, target, &info, 0);
        if (r < 0)
            return vr_libvirt_error(err, "cannot follow the merge of disk %s of VM %s", target,
                                    virDomainGetName(dom));
        if (r == 0) /* no job left: a plain commit finished, or the pivot did */
            return (!active || pivoted) ? 0
                                        : vr_error_set(err, VR_ERR_STORAGE,
                                                       "the merge of disk %s of VM %s ended "
                                                       "before it could pivot", target,
                                                       virDomainGetName(dom));
        if (active && !pivoted && info.end > 0 && info.cur == info.end) {
            if (virDomainBlockJobAbort(dom, target, VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT) == 0)
                pivoted = true;
            /* not ready yet: qemu still copies what the guest just wrote */
        }
        sleep_ms(pause_ms);
        pause_ms = pause_ms * 2 > 100 ? 100 : pause_ms * 2;
    }
    virDomainBlockJobAbort(dom, target, 0);
    return vr_error_set(err, VR_ERR_STORAGE,
                        "merging disk %s of VM %s did not finish within %d s; it was cancelled and "
                        "the disk runs on its chain as before", target, virDomainGetName(dom),
                        MERGE_DEADLINE_S);
}

/* VM.merge {uuid, target, base: {domain,image,volume}, top: {...}} */
static int vm_merge(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    static const char *const keys[] = {"uuid", "target", "base", "top"};
    const char *target;
    json_t *jb, *jt;
    vr_volume_ref base, top, cur;
    if (vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0 ||
        vr_json_str(params, "params", "target", true, &target, err) < 0 ||
        vr_json_obj(params, "params", "base", true, &jb, err) < 0 ||
        vr_json_obj(params, "params", "top", true, &jt, err) < 0 ||
        vr_volume_ref_parse(jb, "base", &base, err) < 0 ||
        vr_volume_ref_parse(jt, "top", &top, err) < 0)
        return -1;
    if (!vr_valid_target(target))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "params.target '%s' is not a disk target",
                            target);
    char bpath[PATH_MAX], tpath[PATH_MAX];
    vr_md md = {0};
    if (vr_volume_path(a, &base, "", bpath, sizeof(bpath), err) < 0 ||
        vr_volume_path(a, &top, "", tpath, sizeof(tpath), err) < 0 ||
        vr_volume_read_meta(a, &top, &md, err) < 0)
        return -1;
    const char *p = vr_md_get(&md, "PUUID");
    bool over = p && !strcmp(p, base.volume);
    vr_md_clear(&md);
    if (!over)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "volume %s is not a layer over volume %s",
                            top.volume, base.volume);
    virDomainPtr dom;
    if (vr_vm_job_begin_lookup(a, params, "VM.merge", &dom, err) < 0)
        return -1;
    int rc = 0;
    if (!vr_dom_disk_volume(a, dom, target, &cur))
        rc = vr_error_set(err, VR_ERR_INVALID_PARAMS,
                          "disk %s of VM %s is not a volume of a storage domain", target,
                          virDomainGetName(dom));
    else if (!in_chain(dom, target, tpath) || !in_chain(dom, target, bpath))
        rc = vr_error_set(err, VR_ERR_INVALID_PARAMS,
                          "volumes %s and %s are not both in the chain of disk %s of VM %s",
                          base.volume, top.volume, target, virDomainGetName(dom));
    bool active = rc == 0 && !strcmp(cur.volume, top.volume);
    if (rc == 0)
        rc = block_commit(dom, target, bpath, tpath, active, err);
    if (rc == 0) {
        vr_volume_ref now;
        if (!vr_dom_disk_volume(a, dom, target, &now))
            now = cur;
        *result = json_pack("{s:s, s:b, s:{s:s, s:s, s:s}}", "target", target, "active", active,
                            "volume", "domain", now.domain, "image", now.image, "volume",
                            now.volume);
        VR_INFO("VM %s: disk %s: volume %s merged into %s%s", virDomainGetName(dom), target,
                top.volume, base.volume, active ? " (active layer, pivoted)" : "");
    }
    vr_vm_job_end_free(dom);
    return rc < 0 ? -1 : 0;
}

const vr_verb vr_snapshot_verbs[] = {
    {"VM.snapshot", vm_snapshot},
    {"VM.merge", vm_merge},
    {NULL, NULL},
};
