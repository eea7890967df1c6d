/* VM.blockCopy: the host side of a live storage migration (docs/storage.md
 * "Moving the disk of a running VM"). The SPM already made the destination
 * volume on the target domain (same image and volume ids, empty); this
 * host has QEMU mirror the disk into it (libvirt block copy, the whole
 * chain read through, REUSE_EXT: the volume is ours, not libvirt's) while
 * the guest runs and writes, then pivots the disk onto it once the mirror
 * is in step. The VM is on the source until the pivot, on the target from
 * it: a failure or a cancel before the pivot aborts the mirror and leaves
 * the VM where it was.
 *
 * The copy is a long job (progress, Job.cancel) under the VM's job, so no
 * snapshot, merge or migration overlaps. Asked again (an engine that lost
 * the answer), the verb says the disk is there already, or follows the
 * mirror QEMU still runs, instead of starting another. With abort: true
 * it stops such a mirror without pivoting and says where the disk runs:
 * the engine removes the target only when that is the source. */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "devspec.h"
#include "dominfo.h"
#include "domxml.h"
#include "job_threads.h"
#include "jsonx.h"
#include "log.h"
#include "long_jobs.h"
#include "verbs.h"
#include "vm_jobs.h"
#include "storage/volume.h"

typedef struct copy_run {
    vr_agent *a;
    virDomainPtr dom; /* holds the VM's job until the thread ends */
    char uuid[VIR_UUID_STRING_BUFLEN], target[16], job_id[37];
    vr_volume_ref dst;
    vr_long_job *job;
} copy_run;

/* Copies running, so a stopping agent ends them before libvirt goes. */
static vr_job_threads copies = VR_JOB_THREADS_INIT;

/* The same, by VM and disk: asked again while one runs (an engine that
 * lost the answer), the verb names its job rather than wait for the VM's
 * job the copy holds. */
#define MAX_RUNS 64
static pthread_mutex_t runs_lock = PTHREAD_MUTEX_INITIALIZER;
static copy_run *runs[MAX_RUNS];

static void registered(copy_run *c, bool in)
{
    pthread_mutex_lock(&runs_lock);
    for (int i = 0; i < MAX_RUNS; i++)
        if (in ? !runs[i] : runs[i] == c) {
            runs[i] = in ? c : NULL;
            break;
        }
    pthread_mutex_unlock(&runs_lock);
}

/* The job of the copy of the VM's disk target into dst, if one runs. */
static bool running_job(const char *uuid, const char *target, const vr_volume_ref *dst, char job_id[37])
{
    bool found = false;
    pthread_mutex_lock(&runs_lock);
    for (int i = 0; i < MAX_RUNS && !found; i++)
        if (runs[i] && uuid && !strcasecmp(runs[i]->uuid, uuid) && !strcmp(runs[i]->target, target) &&
            !memcmp(&runs[i]->dst, dst, sizeof(*dst))) {
            memcpy(job_id, runs[i]->job_id, 37);
            found = true;
        }
    pthread_mutex_unlock(&runs_lock);
    return found;
}

static bool must_stop(copy_run *c)
{
    return vr_job_threads_stopping(&copies) || vr_long_job_cancel_requested(c->job);
}

static void sleep_ms(int ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&t, NULL);
}

/* <disk type='file'><driver type=F/><source file=P/></disk> */
static int fill_dest(xmlTextWriterPtr w, const void *path, const void *format)
{
    if (xmlTextWriterStartElement(w, BAD_CAST "disk") < 0 ||
        xmlTextWriterWriteAttribute(w, BAD_CAST "type", BAD_CAST "file") < 0 ||
        xmlTextWriterStartElement(w, BAD_CAST "driver") < 0 ||
        xmlTextWriterWriteAttribute(w, BAD_CAST "type", BAD_CAST format) < 0 || xmlTextWriterEndElement(w) < 0 ||
        xmlTextWriterStartElement(w, BAD_CAST "source") < 0 ||
        xmlTextWriterWriteAttribute(w, BAD_CAST "file", BAD_CAST path) < 0 || xmlTextWriterEndElement(w) < 0)
        return -1;
    return xmlTextWriterEndElement(w);
}

/* Whether disk target runs on volume v now. */
static bool runs_on(vr_agent *a, virDomainPtr dom, const char *target, const vr_volume_ref *v)
{
    vr_volume_ref cur;
    return vr_dom_disk_volume(a, dom, target, &cur) && !strcmp(cur.domain, v->domain) &&
           !strcmp(cur.image, v->image) && !strcmp(cur.volume, v->volume);
}

/* Stop the mirror without pivoting and wait until QEMU let it go. */
static void abort_mirror(virDomainPtr dom, const char *target)
{
    virDomainBlockJobInfo info;
    if (virDomainBlockJobAbort(dom, target, 0) < 0)
        virResetLastError();
    for (int i = 0; i < 100 && virDomainGetBlockJobInfo(dom, target, &info, 0) == 1; i++)
        sleep_ms(50);
}

/* After the mirror's job: 0 when the disk runs on the target. A pivot
 * libvirt confirmed is the answer even when the VM stopped since (its
 * definition gone): the guest wrote to the target from then on. */
static int landed(copy_run *c, bool pivoted, vr_error *err)
{
    if (pivoted)
        return 0;
    return vr_error_set(err, VR_ERR_STORAGE, "the copy of disk %s of VM %s ended before its pivot; the disk runs on"
                        " its source as before", c->target, virDomainGetName(c->dom));
}

/* Follow the mirror; pivot once it is in step. 0 on the target, 1
 * cancelled (or the agent stopping), -1 failed; the VM is on the source
 * unless 0. */
static int mirror(copy_run *c, vr_error *err)
{
    const char *vm = virDomainGetName(c->dom);
    bool pivoted = false;
    int pause_ms = 20, last = -1, settle = 0;
    for (;;) {
        virDomainBlockJobInfo info;
        int r = virDomainGetBlockJobInfo(c->dom, c->target, &info, 0);
        if (r < 0 && pivoted) { /* the VM stopped after its pivot */
            virResetLastError();
            return landed(c, true, err);
        }
        if (r < 0) {
            vr_libvirt_error(err, "cannot follow the copy of disk %s of VM %s", c->target, vm);
            abort_mirror(c->dom, c->target);
            return -1;
        }
        if (r == 0) /* the job is gone: pivoted, or QEMU ended it */
            return landed(c, pivoted, err);
        if (pivoted) { /* libvirt lets the job go at once, or within moments */
            if (++settle > 1500)
                return landed(c, true, err);
            sleep_ms(20);
            continue;
        }
        if (must_stop(c)) {
            abort_mirror(c->dom, c->target);
            return 1;
        }
        int pct = info.end > 0 ? (int)(info.cur * 99 / info.end) : 0;
        if (pct != last) {
            char detail[64];
            snprintf(detail, sizeof(detail), "mirroring: %d%%", pct);
            vr_long_job_progress(c->job, pct, detail);
            last = pct;
        }
        /* In step (or nearly: a guest writing keeps cur a little behind
         * end): pivot. Refused while QEMU has not said "ready" yet: asked
         * again at the next look. */
        if (info.end > 0 && info.cur >= info.end - info.end / 100) {
            /* On the host's disk before and after: an agent killed while
             * libvirt pivots leaves "pivoting" (in doubt), one killed
             * after leaves "pivoted", so that the engine never takes a
             * pivoted disk for one on its source (docs/storage.md). */
            vr_long_job_set_outcome(c->job, "pivoting");
            if (virDomainBlockJobAbort(c->dom, c->target, VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT) == 0) {
                pivoted = true;
                vr_long_job_set_outcome(c->job, "pivoted");
            } else {
                virResetLastError();
                vr_long_job_set_outcome(c->job, "");
            }
        }
        sleep_ms(pause_ms);
        pause_ms = pause_ms * 2 > 200 ? 200 : pause_ms * 2;
    }
}

static void *copy_thread(void *arg)
{
    copy_run *c = arg;
    vr_error err = {0};
    int rc = mirror(c, &err);
    char detail[sizeof(err.message) + 64];
    if (rc == 0) {
        snprintf(detail, sizeof(detail), "disk %s runs on volume %s of storage domain %s", c->target,
                 c->dst.volume, c->dst.domain);
        VR_INFO("VM %s: disk %s pivoted onto storage domain %s", virDomainGetName(c->dom), c->target,
                c->dst.domain);
    } else if (rc == 1 && !vr_long_job_cancel_requested(c->job)) { /* the agent stops */
        snprintf(detail, sizeof(detail), "the agent stopped; disk %s runs on its source as before", c->target);
        rc = -1;
    } else if (rc == 1) {
        snprintf(detail, sizeof(detail), "cancelled; disk %s runs on its source as before", c->target);
    } else {
        snprintf(detail, sizeof(detail), "%s", err.message);
    }
    registered(c, false);
    vr_vm_job_end_free(c->dom);
    vr_long_job_finish(c->job, rc == 0 ? VR_JOB_SUCCEEDED : rc == 1 ? VR_JOB_CANCELLED : VR_JOB_FAILED, detail);
    free(c);
    vr_job_thread_done(&copies);
    return NULL;
}

void vr_blockcopies_stop(int wait_ms)
{
    int left = vr_job_threads_stop(&copies, wait_ms);
    if (left > 0)
        VR_WARN("%d block copies still running at exit", left);
}

/* Start (or take over) the mirror; the thread owns c from then on. */
static int start(copy_run *c, const char *path, const char *format, bool adopt, json_t **result, vr_error *err)
{
    const char *vm = virDomainGetName(c->dom);
    if (!adopt) {
        char *xml = NULL;
        if (vr_domxml_render(fill_dest, path, format, &xml, err) < 0)
            return -1;
        int r = virDomainBlockCopy(c->dom, c->target, xml, NULL, 0, VIR_DOMAIN_BLOCK_COPY_REUSE_EXT);
        free(xml);
        if (r < 0)
            return vr_libvirt_error(err, "cannot start copying disk %s of VM %s", c->target, vm);
    }
    char detail[128], left[256];
    virDomainGetUUIDString(c->dom, c->uuid);
    snprintf(detail, sizeof(detail), "mirroring disk %s to storage domain %s", c->target, c->dst.domain);
    if (!(c->job = vr_long_job_new(c->a, "VM.blockCopy", c->uuid, vm, detail))) {
        abort_mirror(c->dom, c->target);
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory copying disk %s of VM %s", c->target, vm);
    }
    snprintf(left, sizeof(left), "QEMU may still mirror disk %s into volume %s of storage domain %s; the VM runs on"
             " its source (VM.blockCopy with abort stops the mirror)", c->target, c->dst.volume, c->dst.domain);
    vr_long_job_on_interrupt(c->job, left);
    *result = json_pack("{s:s, s:b}", "job", vr_long_job_id(c->job), "adopted", adopt);
    VR_INFO("VM %s: disk %s mirrored to storage domain %s%s", vm, c->target, c->dst.domain,
            adopt ? " (the mirror already running, followed)" : "");
    snprintf(c->job_id, sizeof(c->job_id), "%s", vr_long_job_id(c->job));
    registered(c, true);
    if (vr_job_thread_start(&copies, copy_thread, c) == 0)
        return 0;
    registered(c, false);
    abort_mirror(c->dom, c->target);
    vr_long_job_finish(c->job, VR_JOB_FAILED, "cannot start the copy thread");
    json_decref(*result);
    *result = NULL;
    return vr_error_set(err, VR_ERR_INTERNAL, "cannot start copying disk %s of VM %s", c->target, vm);
}

/* VM.blockCopy {uuid, target, dst: {domain, image, volume}, abort?}
 *  -> {job, adopted} while it copies; {on: "target"} when the disk runs on
 *  dst already; with abort: {on: "source"|"target"} after stopping any
 *  mirror of the disk. */
static int vm_block_copy(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    static const char *const keys[] = {"uuid", "target", "dst", "abort"};
    const char *target, *format;
    json_t *jd;
    bool abort_it = false;
    copy_run *c = calloc(1, sizeof(*c));
    if (!c)
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory");
    char path[PATH_MAX];
    if (vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0 ||
        vr_json_str(params, "params", "target", true, &target, err) < 0 ||
        vr_json_obj(params, "params", "dst", true, &jd, err) < 0 ||
        vr_json_bool(params, "params", "abort", false, &abort_it, err) < 0 ||
        vr_volume_ref_parse(jd, "dst", &c->dst, err) < 0)
        goto fail;
    if (!vr_valid_target(target)) {
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "params.target '%s' is not a disk target", target);
        goto fail;
    }
    snprintf(c->target, sizeof(c->target), "%s", target);
    c->a = a;
    char running[37];
    if (!abort_it && running_job(json_string_value(json_object_get(params, "uuid")), target, &c->dst, running)) {
        *result = json_pack("{s:s, s:b}", "job", running, "adopted", 1);
        free(c);
        return 0;
    }
    if ((!abort_it && vr_volume_resolve(a, &c->dst, path, sizeof(path), &format, err) < 0) ||
        vr_vm_job_begin_lookup(a, params, "VM.blockCopy", &c->dom, err) < 0)
        goto fail;
    const char *vm = virDomainGetName(c->dom);
    vr_volume_ref cur;
    virDomainBlockJobInfo info;
    int busy = virDomainGetBlockJobInfo(c->dom, target, &info, 0);
    if (!vr_dom_disk_volume(a, c->dom, target, &cur)) {
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "disk %s of VM %s is not a volume of a storage domain", target, vm);
    } else if (busy < 0) {
        vr_libvirt_error(err, "cannot read the block jobs of disk %s of VM %s", target, vm);
    } else if (abort_it || runs_on(a, c->dom, target, &c->dst)) {
        if (busy == 1 && info.type == VIR_DOMAIN_BLOCK_JOB_TYPE_COPY && !runs_on(a, c->dom, target, &c->dst))
            abort_mirror(c->dom, target);
        *result = json_pack("{s:s}", "on", runs_on(a, c->dom, target, &c->dst) ? "target" : "source");
        VR_INFO("VM %s: disk %s is on the %s of its copy%s", vm, target, json_string_value(json_object_get(*result,
                "on")), abort_it ? " (abort asked)" : "");
        vr_vm_job_end_free(c->dom);
        free(c);
        return 0;
    } else if (!strcmp(cur.domain, c->dst.domain) || strcmp(cur.image, c->dst.image) ||
               strcmp(cur.volume, c->dst.volume)) {
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "volume %s of storage domain %s is not a copy of disk %s of VM %s"
                     " (it runs on volume %s of image %s on storage domain %s)", c->dst.volume, c->dst.domain,
                     target, vm, cur.volume, cur.image, cur.domain);
    } else if (busy == 1 && info.type != VIR_DOMAIN_BLOCK_JOB_TYPE_COPY) {
        vr_error_set(err, VR_ERR_BAD_STATE, "disk %s of VM %s has another block job running; try again later",
                     target, vm);
    } else if (start(c, path, format, busy == 1, result, err) == 0) {
        return 0; /* (c is the thread's now) */
    }
    vr_vm_job_end_free(c->dom);
fail:
    free(c);
    return -1;
}

const vr_verb vr_blockcopy_verbs[] = {
    {"VM.blockCopy", vm_block_copy},
    {NULL, NULL},
};
