/* Volume.copy: qemu-img convert into a new volume, as a long job. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devspec.h"
#include "job_threads.h"
#include "log.h"
#include "long_jobs.h"
#include "qemuimg.h"
#include "spm_state.h"
#include "volume.h"

typedef struct copy_job {
    vr_agent *a;
    vr_volume_ref src, dst;
    char src_path[PATH_MAX], dst_path[PATH_MAX];
    char src_fmt[8], dst_fmt[8];
    char parent[37], parent_fmt[8]; /* a layer over dst's volume parent ("" none) */
    char pool[37];
    vr_long_job *job;
} copy_job;

/* Copies running, so a stopping agent can end them (a qemu-img left
 * behind would go on writing a volume nobody will mark LEGAL). */
static vr_job_threads copies = VR_JOB_THREADS_INIT;

static bool on_progress(void *opaque, double percent)
{
    copy_job *c = opaque;
    char detail[64];
    snprintf(detail, sizeof(detail), "copying: %.0f%%", percent);
    vr_long_job_progress(c->job, (int)percent, detail);
    return vr_job_threads_stopping(&copies) || vr_long_job_cancel_requested(c->job);
}

void vr_volume_copies_stop(int wait_ms)
{
    int left = vr_job_threads_stop(&copies, wait_ms);
    if (left > 0)
        VR_WARN("%d volume copies still cleaning up at exit", left);
}

static void *copy_thread(void *arg)
{
    copy_job *c = arg;
    vr_error err = {0};
    /* O_DIRECT both ways (-t none -T none): shared storage must not keep
     * dirty pages of a volume in this host's cache. */
    int rc = *c->parent ? vr_qemuimg_convert_layer(c->src_path, c->src_fmt, c->dst_path, c->parent, c->parent_fmt,
                                                   "none", on_progress, c, &err)
                        : vr_qemuimg_convert(c->src_path, c->src_fmt, c->dst_path, c->dst_fmt, "none",
                                             on_progress, c, &err);
    if (rc == 0 && vr_long_job_cancel_requested(c->job))
        rc = -ECANCELED; /* asked at the very end: still honoured */
    if (rc == 0 && vr_volume_commit(c->a, &c->dst, &err) < 0)
        rc = -1;
    vr_volume_ref pref = c->dst; /* the parent is read-only from now on (as Volume.create's) */
    snprintf(pref.volume, sizeof(pref.volume), "%s", c->parent);
    if (rc == 0 && *c->parent && vr_volume_update_meta(c->a, &pref, "VOLTYPE", "INTERNAL", &err) < 0)
        rc = -1;
    if (rc < 0)
        vr_volume_discard(c->a, &c->dst);
    char detail[sizeof(err.message) + 64];
    if (rc == 0)
        snprintf(detail, sizeof(detail), "volume %s copied", c->dst.volume);
    else if (rc == -ECANCELED)
        snprintf(detail, sizeof(detail), "cancelled; volume %s removed", c->dst.volume);
    else
        snprintf(detail, sizeof(detail), "%s; volume %s removed", err.message, c->dst.volume);
    vr_spm_job_end(c->pool);
    vr_long_job_finish(c->job, rc == 0 ? VR_JOB_SUCCEEDED : rc == -ECANCELED ? VR_JOB_CANCELLED
                                                                              : VR_JOB_FAILED,
                       detail);
    free(c);
    vr_job_thread_done(&copies);
    return NULL;
}

int vr_volume_copy_start(vr_agent *a, const vr_volume_ref *src, const vr_volume_ref *dst,
                         const char *format, const char *parent, json_t **result, vr_error *err)
{
    copy_job *c = calloc(1, sizeof(*c));
    if (!c)
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory copying volume %s", src->volume);
    c->a = a;
    c->src = *src;
    c->dst = *dst;
    vr_md md = {0};
    const char *sfmt;
    long long cap = 0;
    if (vr_volume_resolve(a, src, c->src_path, sizeof(c->src_path), &sfmt, err) < 0 ||
        vr_volume_read_meta(a, src, &md, err) < 0) {
        free(c);
        return -1;
    }
    snprintf(c->src_fmt, sizeof(c->src_fmt), "%s", sfmt);
    snprintf(c->dst_fmt, sizeof(c->dst_fmt), "%s", format);
    vr_md_get_ll(&md, "CAPACITY", &cap);
    vr_volume_spec spec = {.format = format, .size = cap,
                           .description = vr_md_get(&md, "DESCRIPTION"), .parent = parent};
    int prc = 0;
    if (parent) { /* a LEGAL volume of dst's image, no bigger than src */
        vr_volume_ref pref = *dst;
        char ppath[PATH_MAX];
        const char *pfmt = NULL;
        vr_md pmd = {0};
        long long pcap = 0;
        snprintf(pref.volume, sizeof(pref.volume), "%s", parent);
        prc = vr_valid_uuid(parent) ? 0 : vr_error_set(err, VR_ERR_INVALID_PARAMS, "parent must be a volume UUID");
        if (prc == 0 && (vr_volume_resolve(a, &pref, ppath, sizeof(ppath), &pfmt, err) < 0 ||
                         vr_volume_read_meta(a, &pref, &pmd, err) < 0))
            prc = -1;
        vr_md_get_ll(&pmd, "CAPACITY", &pcap);
        vr_md_clear(&pmd);
        if (prc == 0 && pcap > cap)
            prc = vr_error_set(err, VR_ERR_INVALID_PARAMS, "parent volume %s (%lld bytes) is bigger than volume %s",
                               parent, pcap, src->volume);
        snprintf(c->parent, sizeof(c->parent), "%s", parent);
        snprintf(c->parent_fmt, sizeof(c->parent_fmt), "%s", pfmt ? pfmt : "");
    }
    if (prc < 0 || vr_volume_spec_check(&spec, err) < 0 ||
        vr_volume_path(a, dst, "", c->dst_path, sizeof(c->dst_path), err) < 0 ||
        vr_volume_spm_begin(a, dst->domain, "copy a volume", c->pool, err) < 0) {
        vr_md_clear(&md);
        free(c);
        return -1;
    }
    int rc = vr_volume_begin(a, dst, &spec, err);
    vr_md_clear(&md);
    char name[64], detail[128];
    snprintf(name, sizeof(name), "volume %s", dst->volume);
    snprintf(detail, sizeof(detail), "copying volume %s to %s", src->volume, dst->volume);
    if (rc == 0 && !(c->job = vr_long_job_new(a, "Volume.copy", "", name, detail)))
        rc = vr_error_set(err, VR_ERR_INTERNAL, "out of memory copying volume %s", src->volume);
    if (rc < 0) {
        if (err->code != VR_ERR_CONFLICT)
            vr_volume_discard(a, dst);
        vr_spm_job_end(c->pool);
        free(c);
        return -1;
    }
    char left[200];
    snprintf(left, sizeof(left), "volume %s of image %s on storage domain %s is left ILLEGAL (the SPM removes it)",
             dst->volume, dst->image, dst->domain);
    vr_long_job_on_interrupt(c->job, left);
    json_t *info = NULL;
    vr_error ignore = {0};
    vr_volume_info(a, dst, &info, &ignore);
    *result = json_pack("{s:s, s:o?}", "job", vr_long_job_id(c->job), "volume", info);
    if (vr_job_thread_start(&copies, copy_thread, c) < 0) {
        vr_volume_discard(a, dst);
        vr_spm_job_end(c->pool);
        vr_long_job_finish(c->job, VR_JOB_FAILED, "cannot start the copy thread");
        free(c);
        json_decref(*result);
        *result = NULL;
        return vr_error_set(err, VR_ERR_INTERNAL, "cannot start copying volume %s", src->volume);
    }
    VR_INFO("volume copy %s -> %s started", src->volume, dst->volume);
    return 0;
}
