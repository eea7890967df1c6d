/* Memory volumes (docs/storage.md "Memory volumes"): a running VM's memory
 * saved to a raw volume of a storage domain, so the VM can be restored on
 * any host that sees the domain (suspend to disk, snapshots with memory).
 *
 *  - Volume.createMemory (SPM): an ILLEGAL raw sparse volume marked
 *    CONTENT=MEMORY, for a VM's host to save into.
 *  - VM.save (the VM's host): virDomainSaveFlags into that volume's file;
 *    the domain is gone afterwards.
 *  - Volume.sealMemory (SPM): LEGAL only once the file holds a complete
 *    libvirt save image. libvirt writes its header with the magic
 *    "LibvirtQemudPart" first and turns it into "LibvirtQemudSave" only when
 *    the whole image is written, so a save cut off at any point (agent,
 *    libvirtd or host killed) is never believed.
 * VM.restore (vm_lifecycle.c) starts a VM from a LEGAL memory volume. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "jsonx.h"
#include "log.h"
#include "spm_state.h"
#include "verbs.h"
#include "vm_jobs.h"
#include "volume.h"
#include "volume_memory.h"

#define CONTENT_KEY "CONTENT"
#define MEMORY "MEMORY"
#define SAVE_MAGIC "LibvirtQemudSave"

/* The volume's .meta says it is a memory volume of the wanted legality. */
static int check_memory(vr_agent *a, const vr_volume_ref *r, const char *legality, vr_error *err)
{
    vr_md md = {0};
    if (vr_volume_read_meta(a, r, &md, err) < 0)
        return -1;
    const char *c = vr_md_get(&md, CONTENT_KEY), *leg = vr_md_get(&md, "LEGALITY");
    int rc = 0;
    if (!c || strcmp(c, MEMORY))
        rc = vr_error_set(err, VR_ERR_INVALID_PARAMS, "volume %s (image %s, domain %s) is not a memory volume",
                          r->volume, r->image, r->domain);
    else if (legality && (!leg || strcmp(leg, legality)))
        rc = vr_error_set(err, VR_ERR_BAD_STATE, "memory volume %s (image %s, domain %s) is %s, not %s", r->volume,
                          r->image, r->domain, leg ? leg : "without legality", legality);
    vr_md_clear(&md);
    return rc;
}

int vr_memory_volume_path(vr_agent *a, const vr_volume_ref *r, bool legal, char *path, size_t size, vr_error *err)
{
    if (check_memory(a, r, legal ? "LEGAL" : "ILLEGAL", err) < 0)
        return -1;
    return vr_volume_path(a, r, "", path, size, err);
}

static int create_memory(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    static const char *const extra[] = {"size", "description"};
    vr_volume_ref r;
    vr_volume_spec s = {.format = "raw"};
    char pool[37], path[PATH_MAX];
    if (vr_volume_ref_params(params, extra, 2, &r, err) < 0 ||
        vr_json_int(params, "params", "size", true, 1, VR_VOLUME_MAX_SIZE, &s.size, err) < 0 ||
        vr_json_str(params, "params", "description", false, &s.description, err) < 0 ||
        vr_volume_spec_check(&s, err) < 0 || vr_volume_spm_begin(a, r.domain, "create a memory volume", pool, err) < 0)
        return -1;
    int rc = vr_volume_begin(a, &r, &s, err);
    if (rc == 0)
        rc = vr_volume_update_meta(a, &r, CONTENT_KEY, MEMORY, err);
    /* An empty file: libvirt truncates and writes it; the host that saves
     * (any host, not only the SPM) must be able to open it. */
    int fd = rc == 0 && vr_volume_path(a, &r, "", path, sizeof(path), err) == 0
                 ? open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0660) : -1;
    if (rc == 0 && fd < 0 && !err->code)
        vr_error_set(err, VR_ERR_STORAGE, "cannot create %s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    if (rc < 0 || fd < 0) {
        vr_volume_discard(a, &r);
        vr_spm_job_end(pool);
        return -1;
    }
    vr_spm_job_end(pool);
    VR_INFO("memory volume %s/%s/%s created for a save", r.domain, r.image, r.volume);
    return vr_volume_info(a, &r, result, err);
}

/* Whether path holds a complete libvirt save image. */
static int save_complete(const char *path, vr_error *err)
{
    char magic[sizeof(SAVE_MAGIC) - 1];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return vr_error_set(err, VR_ERR_STORAGE, "cannot open %s: %s", path, strerror(errno));
    ssize_t n = pread(fd, magic, sizeof(magic), 0);
    close(fd);
    if (n != (ssize_t)sizeof(magic) || memcmp(magic, SAVE_MAGIC, sizeof(magic)))
        return vr_error_set(err, VR_ERR_BAD_STATE, "%s does not hold a complete saved memory image (libvirt's"
                            " save was cut off or never ran)", path);
    return 0;
}

static int seal_memory(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    vr_volume_ref r;
    char pool[37], path[PATH_MAX];
    vr_md md = {0};
    if (vr_volume_ref_params(params, NULL, 0, &r, err) < 0 || check_memory(a, &r, NULL, err) < 0 ||
        vr_volume_read_meta(a, &r, &md, err) < 0)
        return -1;
    bool legal = !strcmp(vr_md_get(&md, "LEGALITY") ?: "", "LEGAL");
    vr_md_clear(&md);
    if (legal) /* sealed before: asking again is fine */
        return vr_volume_info(a, &r, result, err);
    if (vr_volume_spm_begin(a, r.domain, "seal a memory volume", pool, err) < 0)
        return -1;
    int rc = vr_volume_path(a, &r, "", path, sizeof(path), err);
    if (rc == 0)
        rc = save_complete(path, err);
    if (rc == 0)
        rc = vr_volume_commit(a, &r, err);
    vr_spm_job_end(pool);
    if (rc < 0)
        return -1;
    VR_INFO("memory volume %s/%s/%s sealed (LEGAL)", r.domain, r.image, r.volume);
    return vr_volume_info(a, &r, result, err);
}

static int vm_save(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    static const char *const keys[] = {"uuid", "memory"};
    vr_volume_ref r;
    char path[PATH_MAX];
    virDomainPtr dom;
    if (vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0 ||
        vr_volume_ref_parse(json_object_get(params, "memory"), "params.memory", &r, err) < 0 ||
        vr_memory_volume_path(a, &r, false, path, sizeof(path), err) < 0 ||
        vr_vm_job_begin_lookup(a, params, "VM.save", &dom, err) < 0)
        return -1;
    char name[128];
    snprintf(name, sizeof(name), "%s", virDomainGetName(dom));
    VR_INFO("VM %s: saving its memory to volume %s", name, r.volume);
    int rc = virDomainSaveFlags(dom, path, NULL, 0);
    if (rc < 0)
        vr_libvirt_error(err, "cannot save the memory of VM %s to %s", name, path);
    else {
        VR_INFO("VM %s: memory saved; the VM no longer runs here", name);
        *result = json_object();
    }
    vr_vm_job_end_free(dom);
    return rc < 0 ? -1 : 0;
}

const vr_verb vr_memory_verbs[] = {
    {"Volume.createMemory", create_memory},
    {"Volume.sealMemory", seal_memory},
    {"VM.save", vm_save},
    {NULL, NULL},
};
