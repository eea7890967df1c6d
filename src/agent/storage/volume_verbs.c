/* Volume.* verbs and VM.resizeDisk (docs/agent-api.md, "Volumes"). */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "devspec.h"
#include "dominfo.h"
#include "jsonx.h"
#include "log.h"
#include "spm_state.h"
#include "verbs.h"
#include "vm_jobs.h"
#include "volume.h"

static int volume_create(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    static const char *const extra[] = {"format", "preallocation", "size", "description", "parent",
                                        "parent_image"};
    static const char *const preallocs[] = {"sparse", "preallocated"};
    vr_volume_ref r;
    vr_volume_spec s = {0};
    const char *prealloc = NULL;
    char pool[37];
    if (vr_volume_ref_params(params, extra, sizeof(extra) / sizeof(extra[0]), &r, err) < 0 ||
        vr_json_str(params, "params", "format", true, &s.format, err) < 0 ||
        vr_json_str(params, "params", "preallocation", true, &prealloc, err) < 0 ||
        vr_json_int(params, "params", "size", true, 1, VR_VOLUME_MAX_SIZE, &s.size, err) < 0 ||
        vr_json_str(params, "params", "description", false, &s.description, err) < 0 ||
        vr_json_str(params, "params", "parent", false, &s.parent, err) < 0 ||
        vr_json_str(params, "params", "parent_image", false, &s.parent_image, err) < 0)
        return -1;
    if (s.parent_image && !s.parent)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "parent_image needs parent");
    if (!vr_str_in(prealloc, VR_NAMES(preallocs)))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "preallocation must be sparse or preallocated");
    s.preallocated = !strcmp(prealloc, "preallocated");
    if (vr_volume_spec_check(&s, err) < 0 ||
        vr_volume_spm_begin(a, r.domain, "create a volume", pool, err) < 0)
        return -1;
    int rc = vr_volume_create(a, &r, &s, err);
    vr_spm_job_end(pool);
    return rc < 0 ? -1 : vr_volume_info(a, &r, result, err);
}

/* Volume.delete {domain, image, volume, wipe?}: wipe zeroes the data
 * first (a disk's wipe_after_delete), as a long job (volume_wipe.c). */
static int volume_delete(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    static const char *const extra[] = {"wipe"};
    vr_volume_ref r;
    bool wipe = false;
    char pool[37];
    if (vr_volume_ref_params(params, extra, 1, &r, err) < 0 ||
        vr_json_bool(params, "params", "wipe", false, &wipe, err) < 0 ||
        vr_volume_spm_begin(a, r.domain, "delete a volume", pool, err) < 0)
        return -1;
    if (wipe) /* (the job ends the SPM job) */
        return vr_volume_wipe_delete_start(a, &r, pool, result, err);
    int rc = vr_volume_delete(a, &r, false, err);
    vr_spm_job_end(pool);
    if (rc < 0)
        return -1;
    *result = json_object();
    return 0;
}

static int volume_info(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    vr_volume_ref r;
    if (vr_volume_ref_params(params, NULL, 0, &r, err) < 0)
        return -1;
    return vr_volume_info(a, &r, result, err);
}

static int volume_list(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    static const char *const keys[] = {"domain"};
    const char *domain;
    if (vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0 ||
        vr_json_str(params, "params", "domain", true, &domain, err) < 0)
        return -1;
    return vr_volume_list(a, domain, result, err);
}

static int volume_extend(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    static const char *const extra[] = {"size"};
    vr_volume_ref r;
    long long size;
    char pool[37];
    if (vr_volume_ref_params(params, extra, 1, &r, err) < 0 ||
        vr_json_int(params, "params", "size", true, 1, VR_VOLUME_MAX_SIZE, &size, err) < 0 ||
        vr_volume_spm_begin(a, r.domain, "extend a volume", pool, err) < 0)
        return -1;
    int rc = vr_volume_extend(a, &r, size, err);
    vr_spm_job_end(pool);
    return rc < 0 ? -1 : vr_volume_info(a, &r, result, err);
}

static int volume_copy(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    static const char *const keys[] = {"src", "dst", "format", "parent"};
    static const char *const formats[] = {"raw", "qcow2"};
    json_t *js, *jd;
    const char *format, *parent = NULL;
    vr_volume_ref src, dst;
    if (vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0 ||
        vr_json_obj(params, "params", "src", true, &js, err) < 0 ||
        vr_json_obj(params, "params", "dst", true, &jd, err) < 0 ||
        vr_json_str(params, "params", "format", true, &format, err) < 0 ||
        vr_json_str(params, "params", "parent", false, &parent, err) < 0 ||
        vr_volume_ref_parse(js, "src", &src, err) < 0 ||
        vr_volume_ref_parse(jd, "dst", &dst, err) < 0)
        return -1;
    if (!vr_str_in(format, VR_NAMES(formats)))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "format must be raw or qcow2");
    if (parent && strcmp(format, "qcow2"))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "a copy with a parent (a layer) must be qcow2");
    return vr_volume_copy_start(a, &src, &dst, !strcmp(format, "raw") ? "raw" : "qcow2", parent, result,
                                err);
}

/* Volume.merge {domain, image, base, top, committed?}: top into its
 * parent base (volume_chain.c). SPM only: it changes the chain. */
static int volume_merge(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    static const char *const keys[] = {"domain", "image", "base", "top", "committed"};
    const char *d, *i, *b, *t;
    bool committed = false;
    vr_volume_ref base, top;
    char pool[37];
    if (vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0 ||
        vr_json_str(params, "params", "domain", true, &d, err) < 0 ||
        vr_json_str(params, "params", "image", true, &i, err) < 0 ||
        vr_json_str(params, "params", "base", true, &b, err) < 0 ||
        vr_json_str(params, "params", "top", true, &t, err) < 0 ||
        vr_json_bool(params, "params", "committed", false, &committed, err) < 0)
        return -1;
    json_t *jb = json_pack("{s:s, s:s, s:s}", "domain", d, "image", i, "volume", b);
    json_t *jt = json_pack("{s:s, s:s, s:s}", "domain", d, "image", i, "volume", t);
    int rc = vr_volume_ref_parse(jb, "base", &base, err) < 0 ||
                     vr_volume_ref_parse(jt, "top", &top, err) < 0
                 ? -1
                 : 0;
    json_decref(jb);
    json_decref(jt);
    if (rc < 0 || vr_volume_spm_begin(a, base.domain, "merge volumes", pool, err) < 0)
        return -1;
    rc = vr_volume_merge(a, &base, &top, committed, result, err);
    vr_spm_job_end(pool);
    return rc;
}

/* The volume whose data file disk `target` of dom is, if any: its file is
 * <storage_root>/<conn>/<domain>/images/<image>/<volume> (given by
 * reference at create time or hot plugged). */
bool vr_dom_disk_volume(vr_agent *a, virDomainPtr dom, const char *target, vr_volume_ref *r)
{
    xmlDocPtr doc;
    char xp[96], want[PATH_MAX], orig[PATH_MAX], file[PATH_MAX];
    if (vr_dom_doc(dom, &doc, NULL) < 0)
        return false;
    snprintf(xp, sizeof(xp), "/domain/devices/disk[target/@dev='%s']/source/@file", target);
    json_t *files = vr_dom_xpath_strings(doc, xp);
    xmlFreeDoc(doc);
    const char *f = json_string_value(json_array_get(files, 0));
    snprintf(orig, sizeof(orig), "%s", f ? f : "");
    json_decref(files);
    memcpy(file, orig, sizeof(file));
    size_t n = strlen(a->storage_root);
    if (strncmp(file, a->storage_root, n) || file[n] != '/')
        return false;
    /* <conn>/<domain>/images/<image>/<volume>: the last four components */
    char *part[4], *p = file + strlen(file);
    for (int i = 3; i >= 0; i--) {
        while (p > file + n && p[-1] != '/')
            p--;
        part[i] = p;
        if (p <= file + n + 1)
            return false;
        *--p = 0;
    }
    if (strcmp(part[1], "images") || strlen(part[0]) != 36 || strlen(part[2]) != 36 ||
        strlen(part[3]) != 36)
        return false;
    snprintf(r->domain, sizeof(r->domain), "%s", part[0]);
    snprintf(r->image, sizeof(r->image), "%s", part[2]);
    snprintf(r->volume, sizeof(r->volume), "%s", part[3]);
    /* only a path this agent would itself resolve the reference to */
    return vr_volume_path(a, r, "", want, sizeof(want), NULL) == 0 &&
           !strcmp(want, orig);
}

/* Grow a running VM's disk (QEMU block_resize through libvirt); the guest
 * sees the new size at once. A volume's CAPACITY follows: this host has the
 * volume open, and the SPM does not change a volume a VM uses. */
static int vm_resize_disk(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    static const char *const keys[] = {"uuid", "target", "size"};
    const char *target;
    long long size;
    virDomainPtr dom;
    if (vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0 ||
        vr_json_str(params, "params", "target", true, &target, err) < 0 ||
        vr_json_int(params, "params", "size", true, 1, VR_VOLUME_MAX_SIZE, &size, err) < 0)
        return -1;
    if (!vr_valid_target(target))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "params.target '%s' is not a disk target",
                            target);
    if (size % 512)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "size %lld is not a multiple of 512 bytes",
                            size);
    if (vr_vm_job_begin_lookup(a, params, "VM.resizeDisk", &dom, err) < 0)
        return -1;
    int rc = -1;
    virDomainBlockInfo bi;
    vr_volume_ref r;
    if (virDomainGetBlockInfo(dom, target, &bi, 0) < 0)
        vr_libvirt_error(err, "VM %s has no disk %s", virDomainGetName(dom), target);
    else if ((unsigned long long)size < bi.capacity)
        vr_error_set(err, VR_ERR_INVALID_PARAMS,
                     "disk %s of VM %s is %llu bytes; it can only grow (asked %lld)", target,
                     virDomainGetName(dom), bi.capacity, size);
    else if ((unsigned long long)size > bi.capacity &&
             virDomainBlockResize(dom, target, (unsigned long long)size,
                                  VIR_DOMAIN_BLOCK_RESIZE_BYTES) < 0)
        vr_libvirt_error(err, "cannot resize disk %s of VM %s", target, virDomainGetName(dom));
    else
        rc = 0;
    bool is_vol = rc == 0 && vr_dom_disk_volume(a, dom, target, &r);
    if (is_vol && vr_volume_set_capacity(a, &r, size, err) < 0)
        rc = -1;
    if (rc == 0) {
        VR_INFO("VM %s: disk %s resized to %lld bytes", virDomainGetName(dom), target, size);
        *result = json_pack("{s:s, s:I}", "target", target, "size", (json_int_t)size);
        if (is_vol)
            json_object_set_new(*result, "volume",
                                json_pack("{s:s, s:s, s:s}", "domain", r.domain, "image", r.image,
                                          "volume", r.volume));
    }
    vr_vm_job_end_free(dom);
    return rc;
}

const vr_verb vr_volume_verbs[] = {
    {"Volume.create", volume_create},
    {"Volume.delete", volume_delete},
    {"Volume.info", volume_info},
    {"Volume.list", volume_list},
    {"Volume.extend", volume_extend},
    {"Volume.copy", volume_copy},
    {"Volume.merge", volume_merge},
    {"VM.resizeDisk", vm_resize_disk},
    {NULL, NULL},
};
