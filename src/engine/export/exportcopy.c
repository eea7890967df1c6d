/* The copies of an export (exportcopy.h): each noted in the job's params
 * (copies, keyed "image/volume": asked, agent_job and agent_host, made)
 * before and after each step, the bookkeeping a volume plan keeps
 * (jobs/volplan.c), so a run resumed after an engine restart follows a
 * copy under way instead of starting it again; and the export domain's
 * volumes of an image cleared before a copy and after a failure. */
#include "exportcopy.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agentcall.h"
#include "agentjob.h"
#include "log.h"
#include "jobs.h"
#include "snapjob_util.h"
#include "store_spm.h"
#include "volplan.h"

#define str vr_sj_str

/* Remove every volume of image on domain (the SPM's Volume.list), layers
 * before the volumes under them (a volume with a child is not deleted):
 * an earlier export's chain goes top down, a round per level. */
static int clear_image(vr_engine *e, json_t *spm, const char *domain, const char *image, vr_error *err)
{
    json_t *res = NULL, *v, *w;
    size_t i, k;
    if (vr_agent_call_host(e, spm, "Volume.list", json_pack("{s:s}", "domain", domain), &res, err) < 0)
        return -1;
    json_t *left = json_array();
    json_array_foreach(json_object_get(res, "volumes"), i, v) if (!strcmp(str(v, "image"), image))
        json_array_append(left, v);
    int rc = 0;
    for (size_t round = 0; rc == 0 && json_array_size(left) && round <= 64; round++) {
        for (i = json_array_size(left); rc == 0 && i-- > 0;) {
            v = json_array_get(left, i);
            bool parent = false;
            json_array_foreach(left, k, w) parent |= !strcmp(str(w, "parent"), str(v, "volume"));
            if (parent)
                continue; /* its layers first */
            json_t *out = NULL;
            if (vr_agent_call_host(e, spm, "Volume.delete", vr_volplan_ref(domain, image, str(v, "volume")), &out,
                                   err) < 0 && err->code != VR_ERR_NOT_FOUND)
                rc = -1;
            json_decref(out);
            if (rc == 0) {
                memset(err, 0, sizeof(*err));
                json_array_remove(left, i);
            }
        }
    }
    if (rc == 0 && json_array_size(left))
        rc = vr_error_set(err, VR_ERR_CONFLICT, "the volumes of image %s on storage domain %s do not form chains"
                          " that can be removed", image, domain);
    json_decref(left);
    json_decref(res);
    return rc;
}

/* The copies a run asked for, noted in the job's params.copies under
 * "image/volume" ({asked, agent_job, agent_host, made}) before and after
 * each step, so a run resumed after an engine restart follows a copy under
 * way on the host that runs it instead of starting it a second time. */
static json_t *copy_note_of(json_t *p, const char *image, const char *volume)
{
    char key[80];
    snprintf(key, sizeof(key), "%s/%s", image, volume);
    return json_object_get(json_object_get(p, "copies"), key);
}

/* Note the members of note (stolen) on the copy of image/volume, in p and
 * in the job's stored params (one write). */
static void copy_note(vr_engine *e, const char *job_id, json_t *p, const char *image, const char *volume,
                      json_t *note)
{
    char key[80];
    snprintf(key, sizeof(key), "%s/%s", image, volume);
    json_t *stored = vr_volplan_job_params(e, job_id);
    json_t *targets[2] = {p, stored};
    for (int k = 0; k < 2; k++) {
        if (!json_is_object(json_object_get(targets[k], "copies")))
            json_object_set_new(targets[k], "copies", json_object());
        json_t *c = json_object_get(json_object_get(targets[k], "copies"), key);
        if (!c)
            json_object_set_new(json_object_get(targets[k], "copies"), key, c = json_object());
        json_object_update(c, note);
    }
    vr_job_params_store(e, job_id, stored);
    json_decref(stored);
    json_decref(note);
}

/* Wait for agent job agent_job on host: 0 done, -1 failed (err), 2 the
 * engine stops meanwhile (the job stays for the next start). */
static int copy_wait(vr_engine *e, const char *job_id, json_t *host, const char *agent_job, int lo, int hi,
                     vr_error *err)
{
    char detail[256];
    int rc = vr_agent_job_wait(e, job_id, host, agent_job, lo, hi, 24 * 3600, detail, sizeof(detail), err);
    if (rc == 1)
        return vr_error_set(err, VR_ERR_BAD_STATE, "cancelled");
    if (rc == 2) {
        vr_error_set(err, VR_ERR_UNAVAILABLE, "the engine is stopping");
        return VR_VOLPLAN_STOPPED;
    }
    return rc == 0 ? 0 : -1;
}

/* A copy an earlier run asked for without noting the agent's answer (the
 * engine stopped in between): 1 whole (LEGAL) on dst_sd, 0 to copy (not
 * there, or a cut copy's ILLEGAL leftover, removed: an export's volume is
 * nobody else's), -1 (err); agent_job gets the SPM's copy into it still
 * running, to follow (vr_volplan_made_before). */
static int copied_before(vr_engine *e, json_t *spm, const char *dst_sd, const char *image, const char *volume,
                         char agent_job[64], vr_error *err)
{
    json_t *ref = vr_volplan_ref(dst_sd, image, volume);
    int rc = vr_volplan_made_before(e, spm, ref, agent_job, err);
    json_decref(ref);
    return rc;
}

/* Volume src_volume of disk d copied to dst_sd as volume (with a parent:
 * a layer over that volume, holding src's own layer); a copy an earlier
 * run made is kept, one it started is followed. 0, -1 (err) or
 * VR_VOLPLAN_STOPPED. */
static int copy_volume(vr_engine *e, const char *job_id, json_t *p, json_t *spm, const char *dst_sd, json_t *d,
                       const char *src_volume, const char *volume, const char *parent, int lo, int hi, vr_error *err)
{
    const char *image = str(d, "disk");
    json_t *n = copy_note_of(p, image, volume), *res = NULL;
    int rc;
    if (json_is_true(json_object_get(n, "made")))
        return 0;
    if (*str(n, "agent_job")) { /* under way when the engine stopped: followed where it runs */
        json_t *host = vr_store_host_brief(e->db, str(n, "agent_host"));
        rc = host ? copy_wait(e, job_id, host, str(n, "agent_job"), lo, hi, err)
                  : vr_error_set(err, VR_ERR_NOT_FOUND, "the host that made volume %s is gone", volume);
        json_decref(host);
    } else {
        char agent_job[64] = "";
        rc = json_is_true(json_object_get(n, "asked")) ?
            copied_before(e, spm, dst_sd, image, volume, agent_job, err) : 0;
        if (rc == 0 && !*agent_job) {
            copy_note(e, job_id, p, image, volume, json_pack("{s:b}", "asked", 1));
            json_t *a = json_pack("{s:o, s:o, s:s}", "src", vr_volplan_ref(str(d, "storage_domain"), image,
                                                                            src_volume),
                                  "dst", vr_volplan_ref(dst_sd, image, volume), "format",
                                  !strcmp(str(d, "format"), "raw") ? "raw" : "qcow2");
            if (*parent)
                json_object_set_new(a, "parent", json_string(parent));
            rc = vr_agent_call_host(e, spm, "Volume.copy", a, &res, err);
            snprintf(agent_job, sizeof(agent_job), "%s", str(res, "job"));
            json_decref(res);
        }
        if (rc == 0) {
            copy_note(e, job_id, p, image, volume, json_pack("{s:s, s:s}", "agent_job", agent_job, "agent_host",
                                                             str(spm, "id")));
            rc = copy_wait(e, job_id, spm, agent_job, lo, hi, err);
        } else if (rc == 1) {
            rc = 0;
        }
    }
    if (rc == 0)
        copy_note(e, job_id, p, image, volume, json_pack("{s:b}", "made", 1));
    return rc;
}

/* True when an earlier run of the job asked for a copy into image: its
 * volumes there are this export's, not an earlier one's to clear. */
static bool image_begun(json_t *p, const char *image)
{
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "%s/", image);
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(p, "copies"), key, v)
        if (!strncmp(key, prefix, strlen(prefix)) && json_is_true(json_object_get(v, "asked")))
            return true;
    return false;
}

/* Disk d's volumes on dst_sd: its chain volume by volume, base first
 * (the same ids and parents; the base collapsed, so a thin disk's
 * template stays behind), or the whole chain collapsed into one. */
int vr_export_copy_disk(vr_engine *e, const char *job_id, json_t *p, json_t *spm, const char *dst_sd, json_t *d, int lo,
                     int hi, vr_error *err)
{
    if (!image_begun(p, str(d, "disk")) && clear_image(e, spm, dst_sd, str(d, "disk"), err) < 0)
        return -1;
    json_t *chain = json_object_get(d, "chain"), *v;
    size_t i, n = json_array_size(chain);
    if (!n)
        return copy_volume(e, job_id, p, spm, dst_sd, d, str(d, "src_volume"), str(d, "volume"), "", lo, hi, err);
    json_array_foreach(chain, i, v) {
        int rc = copy_volume(e, job_id, p, spm, dst_sd, d, str(v, "volume"), str(v, "volume"), str(v, "parent"),
                             lo + (int)((size_t)(hi - lo) * i / n), lo + (int)((size_t)(hi - lo) * (i + 1) / n), err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* After a failed copy the images' volumes go from dst_sd: nothing half
 * made stays (the earlier export's OVF went first, so none is left naming
 * them). The SPM may be the host whose agent just restarted under the
 * copy (that is how it got cut): it is asked again for up to a minute
 * while it refuses (not SPM) or cannot be reached; what still fails stays
 * ILLEGAL for the leftover sweep. */
void vr_export_clear_after_failure(vr_engine *e, const char *job_id, const char *dst_sd, json_t *disks)
{
    json_t *d;
    size_t i;
    json_array_foreach(disks, i, d) {
        for (int tries = 0;; tries++) {
            vr_error err = {0};
            json_t *spm = vr_volplan_spm(e, job_id, dst_sd, &err);
            int rc = spm ? clear_image(e, spm, dst_sd, str(d, "disk"), &err) : -1;
            json_decref(spm);
            if (rc == 0)
                break;
            if ((err.code != VR_ERR_NOT_SPM && err.code != VR_ERR_IO) || tries >= 30 || e->stopping) {
                VR_WARN("job %s: the volumes of image %s on storage domain %s stay for the leftover sweep: %s",
                        job_id, str(d, "disk"), dst_sd, err.message);
                break;
            }
            sleep(2);
        }
    }
}
