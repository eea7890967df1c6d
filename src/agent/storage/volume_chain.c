/* Volume chains: qcow2 layers over a parent, and merging a layer into its
 * parent (docs/storage.md, "Volume chains"). The chain's shape lives only
 * in the volumes' .meta files (PUUID, VOLTYPE) and the qcow2 headers
 * (backing file = the parent's UUID, relative to the image directory), so
 * a domain read by a fresh engine still knows every chain. Every step is
 * ordered so that a crash between two of them leaves a chain that reads
 * the same data, and asking again finishes the job. */
#include "volume.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "devspec.h"
#include "log.h"
#include "qcow2hdr.h"
#include "qemuimg.h"

static const char *fmt_of(const vr_md *md)
{
    const char *f = vr_md_get(md, "FORMAT");
    return f && !strcmp(f, "COW") ? "qcow2" : "raw";
}

int vr_volume_children(vr_agent *a, const vr_volume_ref *r, char (*out)[37], int max,
                       vr_error *err)
{
    char dir[PATH_MAX];
    if (vr_volume_path(a, r, "", dir, sizeof(dir), err) < 0)
        return -1;
    *strrchr(dir, '/') = 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0; /* no image directory: no children */
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len != 36 + 5 || strcmp(e->d_name + 36, ".meta"))
            continue;
        vr_volume_ref c = *r;
        memcpy(c.volume, e->d_name, 36);
        c.volume[36] = 0;
        if (!vr_valid_uuid(c.volume) || !strcmp(c.volume, r->volume))
            continue;
        vr_md md = {0};
        vr_error ignore = {0};
        if (vr_volume_read_meta(a, &c, &md, &ignore) == 0) {
            const char *p = vr_md_get(&md, "PUUID");
            if (p && !strcmp(p, r->volume)) {
                if (out && n < max)
                    memcpy(out[n], c.volume, 37);
                n++;
            }
        }
        vr_md_clear(&md);
    }
    closedir(d);
    return n;
}

int vr_volume_create_layer(vr_agent *a, const vr_volume_ref *r, const vr_volume_spec *s,
                           vr_error *err)
{
    vr_volume_ref parent = *r;
    snprintf(parent.volume, sizeof(parent.volume), "%s", s->parent);
    if (s->parent_image && strcmp(s->parent_image, r->image)) {
        vr_volume_ref owner = parent;
        snprintf(owner.image, sizeof(owner.image), "%s", s->parent_image);
        if (!vr_valid_uuid(s->parent_image))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "parent_image must be an image UUID");
        if (vr_volume_link_shared(a, &owner, r->image, err) < 0)
            return -1;
    }
    char ppath[PATH_MAX], data[PATH_MAX];
    const char *pfmt;
    vr_md pmd = {0};
    long long pcap = 0;
    if (vr_volume_resolve(a, &parent, ppath, sizeof(ppath), &pfmt, err) < 0 ||
        vr_volume_read_meta(a, &parent, &pmd, err) < 0)
        return -1;
    vr_md_get_ll(&pmd, "CAPACITY", &pcap);
    vr_md_clear(&pmd);
    if (s->size < pcap)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                            "size %lld is smaller than parent volume %s (%lld bytes)", s->size,
                            parent.volume, pcap);
    if (vr_volume_begin(a, r, s, err) < 0)
        return -1;
    int rc = vr_volume_path(a, r, "", data, sizeof(data), err);
    if (rc == 0)
        rc = vr_qcow2_create_overlay(data, parent.volume, pfmt, s->size, err); /* no process start */
    if (rc == 0)
        rc = vr_volume_commit(a, r, err);
    /* The parent is read-only from now on: INTERNAL says so to anyone who
     * reads the domain (VDSM's rule); a template's volume stays SHARED. */
    if (rc == 0 && !vr_volume_is_link(a, &parent))
        rc = vr_volume_update_meta(a, &parent, "VOLTYPE", "INTERNAL", err);
    if (rc < 0) {
        vr_volume_discard(a, r);
        return -1;
    }
    VR_INFO("volume %s/%s/%s created over %s", r->domain, r->image, r->volume, parent.volume);
    return 0;
}

int vr_volume_link_shared(vr_agent *a, const vr_volume_ref *src, const char *image, vr_error *err)
{
    vr_volume_ref dst = *src;
    snprintf(dst.image, sizeof(dst.image), "%s", image);
    char from[PATH_MAX], to[PATH_MAX], dir[PATH_MAX];
    vr_md md = {0};
    if (vr_volume_read_meta(a, src, &md, err) < 0)
        return -1;
    const char *leg = vr_md_get(&md, "LEGALITY"), *vt = vr_md_get(&md, "VOLTYPE");
    bool legal = leg && !strcmp(leg, "LEGAL"), shared = vt && !strcmp(vt, "SHARED");
    bool base = vr_md_get(&md, "PUUID") && !strcmp(vr_md_get(&md, "PUUID"), VR_VOLUME_NO_PARENT);
    vr_md_clear(&md);
    if (!legal || !base)
        return vr_error_set(err, VR_ERR_BAD_STATE, "volume %s of image %s cannot be shared: only a LEGAL base "
                            "volume (a template's) can", src->volume, src->image);
    /* SHARED first, in the owner's directory: the links then carry it. The
     * .meta is rewritten by rename, so later writes through one link never
     * change the other's file. */
    if (!shared && vr_volume_update_meta(a, src, "VOLTYPE", "SHARED", err) < 0)
        return -1;
    if (vr_volume_path(a, &dst, "", dir, sizeof(dir), err) < 0)
        return -1;
    *strrchr(dir, '/') = 0;
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        return vr_error_set(err, VR_ERR_STORAGE, "cannot create image directory %s: %s", dir, strerror(errno));
    static const char *const suffixes[] = {"", ".meta"};
    for (size_t i = 0; i < 2; i++) {
        if (vr_volume_path(a, src, suffixes[i], from, sizeof(from), err) < 0 ||
            vr_volume_path(a, &dst, suffixes[i], to, sizeof(to), err) < 0)
            return -1;
        if (link(from, to) < 0 && errno != EEXIST)
            return vr_error_set(err, VR_ERR_STORAGE, "cannot link %s to %s: %s", from, to, strerror(errno));
    }
    return 0;
}

bool vr_volume_is_link(vr_agent *a, const vr_volume_ref *r)
{
    vr_md md = {0};
    vr_error ignore = {0};
    bool link = vr_volume_read_meta(a, r, &md, &ignore) == 0 && vr_md_get(&md, "IMAGE") &&
                strcmp(vr_md_get(&md, "IMAGE"), r->image);
    vr_md_clear(&md);
    return link;
}

void vr_volume_relabel_parent(vr_agent *a, const vr_volume_ref *child, const char *parent)
{
    vr_volume_ref p = *child;
    snprintf(p.volume, sizeof(p.volume), "%s", parent);
    vr_error e = {0};
    if (vr_volume_is_link(a, &p)) /* a template's volume stays SHARED */
        return;
    int n = vr_volume_children(a, &p, NULL, 0, &e);
    if (n == 0 && vr_volume_update_meta(a, &p, "VOLTYPE", "LEAF", &e) < 0)
        VR_WARN("volume %s: cannot mark it LEAF again: %s", p.volume, e.message);
}

/* Point every child of top at base: qcow2 header (offline only: a running
 * VM's host already did it through the block commit) and PUUID. */
static int adopt_children(vr_agent *a, const vr_volume_ref *base, const vr_volume_ref *top,
                          const char *base_fmt, bool rewrite_header, vr_error *err)
{
    char kids[8][37];
    int n = vr_volume_children(a, top, kids, 8, err);
    if (n < 0)
        return -1;
    if (n > 8)
        return vr_error_set(err, VR_ERR_CONFLICT, "volume %s has %d children; at most 8 are merged",
                            top->volume, n);
    for (int i = 0; i < n; i++) {
        vr_volume_ref k = *top;
        memcpy(k.volume, kids[i], 37);
        char kpath[PATH_MAX];
        if (vr_volume_path(a, &k, "", kpath, sizeof(kpath), err) < 0)
            return -1;
        if (rewrite_header && vr_qemuimg_rebase_unsafe(kpath, base->volume, base_fmt, err) < 0)
            return -1;
        if (vr_volume_update_meta(a, &k, "PUUID", base->volume, err) < 0)
            return -1;
    }
    return 0;
}

int vr_volume_merge(vr_agent *a, const vr_volume_ref *base, const vr_volume_ref *top,
                    bool committed, json_t **out, vr_error *err)
{
    if (strcmp(base->domain, top->domain) || strcmp(base->image, top->image))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS,
                            "base and top must be volumes of the same image");
    vr_md bmd = {0}, tmd = {0};
    if (vr_volume_read_meta(a, base, &bmd, err) < 0)
        return -1;
    if (vr_md_get(&bmd, "VOLTYPE") && !strcmp(vr_md_get(&bmd, "VOLTYPE"), "SHARED")) {
        vr_md_clear(&bmd);
        return vr_error_set(err, VR_ERR_CONFLICT, "volume %s is a template's (SHARED): nothing is merged into it",
                            base->volume);
    }
    char base_fmt[8];
    snprintf(base_fmt, sizeof(base_fmt), "%s", fmt_of(&bmd));
    vr_md_clear(&bmd);
    vr_error why = {0};
    if (vr_volume_read_meta(a, top, &tmd, &why) < 0) {
        if (why.code != VR_ERR_NOT_FOUND) {
            *err = why;
            return -1;
        }
        /* Already merged and removed: finished by an earlier call. */
        return vr_volume_info(a, base, out, err);
    }
    const char *tp = vr_md_get(&tmd, "PUUID"), *tl = vr_md_get(&tmd, "LEGALITY");
    char voltype[16];
    snprintf(voltype, sizeof(voltype), "%s",
             vr_md_get(&tmd, "VOLTYPE") ? vr_md_get(&tmd, "VOLTYPE") : "LEAF");
    bool parent_ok = tp && !strcmp(tp, base->volume);
    bool legal = tl && !strcmp(tl, "LEGAL");
    vr_md_clear(&tmd);
    if (!parent_ok)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "volume %s is not a layer over volume %s",
                            top->volume, base->volume);
    char tpath[PATH_MAX], bpath[PATH_MAX];
    if (vr_volume_path(a, top, "", tpath, sizeof(tpath), err) < 0 ||
        vr_volume_path(a, base, "", bpath, sizeof(bpath), err) < 0)
        return -1;
    if (legal) {
        /* 1. Data. top over base reads the same before, during and after
         * the commit (qemu-img empties top only at the end). */
        int nb = vr_volume_children(a, base, NULL, 0, err);
        if (nb < 0)
            return -1;
        if (nb > 1)
            return vr_error_set(err, VR_ERR_CONFLICT,
                                "volume %s has %d layers over it (a preview?): merging one would "
                                "change what the others read", base->volume, nb);
        if (!committed && vr_qemuimg_commit(tpath, bpath, err) < 0)
            return -1;
        /* From here top is spent: ILLEGAL says so, and tells a repeated
         * call to go straight to the steps below. */
        if (vr_volume_update_meta(a, top, "LEGALITY", "ILLEGAL", err) < 0)
            return -1;
    }
    /* 2. Children read base directly (same data now). 3. Base takes top's
     * place; top goes. */
    if (adopt_children(a, base, top, base_fmt, !committed, err) < 0 ||
        vr_volume_update_meta(a, base, "VOLTYPE", voltype, err) < 0 ||
        vr_volume_delete(a, top, false, err) < 0)
        return -1;
    VR_INFO("volume %s merged into %s (%s)", top->volume, base->volume,
            committed ? "committed live" : "qemu-img commit");
    return vr_volume_info(a, base, out, err);
}
