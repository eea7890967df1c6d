/* Volume plans (volplan.h). */
#include "volplan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentcall.h"
#include "agentjob.h"
#include "jobs.h"
#include "log.h"
#include "quota.h"
#include "sdjobs.h"
#include "store_spm.h"
#include "snapjob_util.h"

#define str vr_sj_str

static long long num(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_boolean(v) ? json_is_true(v) : json_integer_value(v);
}

void vr_volplan_append(json_t *plan, json_t *disk, const char *src_volume)
{
    char id[37], vol[37];
    vr_uuid_new(id);
    vr_uuid_new(vol);
    json_array_append_new(plan, json_pack("{s:s, s:s, s:s, s:s, s:s, s:O}", "disk", id, "volume", vol, "domain",
                                          str(disk, "storage_domain"), "src_disk", str(disk, "id"), "src_volume",
                                          src_volume, "size", json_object_get(disk, "provisioned_size")));
}

json_t *vr_volplan_ref(const char *domain, const char *image, const char *volume)
{
    return json_pack("{s:s, s:s, s:s}", "domain", domain, "image", image, "volume", volume);
}

/* The SPM of the data center of domain sd_id (waited for up to 60 s). */
json_t *vr_volplan_spm(vr_engine *e, const char *job_id, const char *sd_id, vr_error *err)
{
    json_t *sd = vr_db_query_one(e->db, "SELECT datacenter_id FROM storage_domains WHERE id = ?",
                                 DB_ARGS(DB_TEXT(sd_id)), err);
    json_t *spm = sd ? vr_storage_wait_spm(e, job_id, str(sd, "datacenter_id"), 60, err) : NULL;
    if (!sd && !err->code)
        vr_error_set(err, VR_ERR_NOT_FOUND, "storage domain %s is gone", sd_id);
    json_decref(sd);
    return spm;
}

/* Note the members of note (stolen) on entry i of plan, in memory and in
 * the job's stored params.plan (one write), so a run resumed after an
 * engine restart knows how far the last one got. */
static void plan_note(vr_engine *e, const char *job_id, json_t *plan, size_t i, json_t *note)
{
    json_object_update(json_array_get(plan, i), note);
    json_t *p = vr_volplan_job_params(e, job_id);
    json_t *stored = json_array_get(json_object_get(p, "plan"), i);
    if (stored) {
        json_object_update(stored, note);
        vr_job_params_store(e, job_id, p);
    }
    json_decref(p);
    json_decref(note);
}

/* Follow the agent job that makes a volume: 0 done, -1 failed or
 * cancelled (err), VR_VOLPLAN_STOPPED when the engine stops meanwhile. */
static int follow(vr_engine *e, const char *job_id, json_t *host, const char *agent_job, vr_error *err)
{
    char detail[256];
    int rc = vr_agent_job_wait(e, job_id, host, agent_job, 10, 90, 24 * 3600, detail, sizeof(detail), err);
    if (rc == 1)
        return vr_error_set(err, VR_ERR_BAD_STATE, "cancelled");
    if (rc == 2) {
        vr_error_set(err, VR_ERR_UNAVAILABLE, "the engine is stopping");
        return VR_VOLPLAN_STOPPED;
    }
    return rc;
}

int vr_volplan_made_before(vr_engine *e, json_t *spm, json_t *ref, char agent_job[64], vr_error *err)
{
    json_t *info = NULL, *jobs = NULL, *j;
    size_t i;
    *agent_job = 0;
    int rc = vr_agent_call_host(e, spm, "Volume.info", json_incref(ref), &info, err);
    bool legal = rc == 0 && !strcmp(str(info, "legality"), "LEGAL");
    json_decref(info);
    if (rc < 0 && err->code == VR_ERR_NOT_FOUND) {
        vr_error_clear(err);
        return 0;
    }
    if (rc < 0 || legal)
        return legal ? 1 : -1;
    /* half made: by a copy still running on the SPM (the engine died after
     * asking, before noting the answer), to follow rather than start again */
    char name[64];
    snprintf(name, sizeof(name), "volume %s", str(ref, "volume")); /* how the agent names a copy's job */
    if (vr_agent_call_host(e, spm, "Job.list", json_object(), &jobs, err) < 0)
        return -1;
    json_array_foreach(json_object_get(jobs, "jobs"), i, j)
        if (!strcmp(str(j, "kind"), "Volume.copy") && !strcmp(str(j, "vm_name"), name) &&
            !strcmp(str(j, "state"), "running"))
            snprintf(agent_job, 64, "%s", str(j, "id"));
    json_decref(jobs);
    if (*agent_job)
        return 0;
    info = NULL; /* a cut copy's or create's ILLEGAL leftover: the plan's own volume, made again */
    rc = vr_agent_call_host(e, spm, "Volume.delete", json_incref(ref), &info, err);
    json_decref(info);
    return rc < 0 ? -1 : 0;
}

/* Entry i of plan: a copy of src (followed to its end) or, with thin, a
 * layer over the template volume src in its image. A copy an earlier run
 * started is followed again on the host that runs it. */
static int make_volume(vr_engine *e, const char *job_id, json_t *spm, json_t *plan, size_t i, bool thin,
                       vr_error *err)
{
    json_t *res = NULL, *p, *v = json_array_get(plan, i);
    if (*str(v, "agent_job")) {
        json_t *host = vr_store_host_brief(e->db, str(v, "agent_host"));
        int rc = host ? follow(e, job_id, host, str(v, "agent_job"), err)
                      : vr_error_set(err, VR_ERR_NOT_FOUND, "the host that made volume %s is gone", str(v, "volume"));
        json_decref(host);
        return rc;
    }
    if (json_is_true(json_object_get(v, "asked"))) {
        char agent_job[64];
        json_t *ref = vr_volplan_ref(str(v, "domain"), str(v, "disk"), str(v, "volume"));
        int had = vr_volplan_made_before(e, spm, ref, agent_job, err);
        json_decref(ref);
        if (had != 0)
            return had > 0 ? 0 : -1;
        if (*agent_job) { /* under way on the SPM: followed, not asked again */
            plan_note(e, job_id, plan, i, json_pack("{s:s, s:s}", "agent_job", agent_job, "agent_host",
                                                    str(spm, "id")));
            return follow(e, job_id, spm, agent_job, err);
        }
    }
    plan_note(e, job_id, plan, i, json_pack("{s:b}", "asked", 1));
    if (thin) {
        p = vr_volplan_ref(str(v, "domain"), str(v, "disk"), str(v, "volume"));
        json_object_set_new(p, "format", json_string("qcow2"));
        json_object_set_new(p, "preallocation", json_string("sparse"));
        json_object_set(p, "size", json_object_get(v, "size"));
        json_object_set_new(p, "parent", json_string(str(v, "src_volume")));
        json_object_set_new(p, "parent_image", json_string(str(v, "src_disk")));
        int rc = vr_agent_call_host(e, spm, "Volume.create", p, &res, err);
        json_decref(res);
        return rc;
    }
    /* src_domain: a copy from another domain (an import from an export domain) */
    const char *src_sd = *str(v, "src_domain") ? str(v, "src_domain") : str(v, "domain");
    p = json_pack("{s:o, s:o, s:s}", "src", vr_volplan_ref(src_sd, str(v, "src_disk"), str(v, "src_volume")), "dst",
                  vr_volplan_ref(str(v, "domain"), str(v, "disk"), str(v, "volume")), "format", "qcow2");
    if (*str(v, "parent")) /* a layer of a chain over the entry before it (an import keeping snapshots) */
        json_object_set_new(p, "parent", json_string(str(v, "parent")));
    if (vr_agent_call_host(e, spm, "Volume.copy", p, &res, err) < 0)
        return -1;
    plan_note(e, job_id, plan, i, json_pack("{s:s, s:s}", "agent_job", str(res, "job"), "agent_host", str(spm, "id")));
    json_decref(res);
    return follow(e, job_id, spm, str(v, "agent_job"), err);
}

/* Volume.delete of ref (borrowed) through its data center's SPM. The SPM
 * asked may be one whose agent just restarted under the job (that is how
 * a copy gets interrupted): it refuses (not SPM) or cannot be reached
 * until the role settles, so ask the data center's SPM again for up to a
 * minute, as settle_copy() in diskcopy.c does. What still fails stays,
 * ILLEGAL, for the leftover sweep. */
static void unmake_one(vr_engine *e, const char *job_id, json_t *ref)
{
    for (int tries = 0;; tries++) {
        vr_error err = {0};
        json_t *res = NULL, *spm = vr_volplan_spm(e, job_id, str(ref, "domain"), &err);
        int rc = spm ? vr_agent_call_host(e, spm, "Volume.delete", json_incref(ref), &res, &err) : -1;
        json_decref(res);
        json_decref(spm);
        if (rc == 0 || err.code == VR_ERR_NOT_FOUND)
            return;
        if (!spm || (err.code != VR_ERR_NOT_SPM && err.code != VR_ERR_IO) || tries >= 30 || e->stopping) {
            VR_WARN("job %s: volume %s of image %s stays for the leftover sweep: %s", job_id, str(ref, "volume"),
                    str(ref, "image"), err.message);
            return;
        }
        sleep(2);
    }
}

/* Remove the volumes of plan, last first: a chain's layers (entries after
 * their parent) go before the volumes under them. With thin, each layer
 * goes before the template volume's link in its image. */
static void unmake(vr_engine *e, const char *job_id, json_t *plan, bool thin)
{
    for (size_t i = json_array_size(plan); i-- > 0;) {
        json_t *v = json_array_get(plan, i);
        json_t *ref = vr_volplan_ref(str(v, "domain"), str(v, "disk"), str(v, "volume"));
        unmake_one(e, job_id, ref);
        json_decref(ref);
        if (thin) { /* the template volume's link in the new image */
            ref = vr_volplan_ref(str(v, "domain"), str(v, "disk"), str(v, "src_volume"));
            unmake_one(e, job_id, ref);
            json_decref(ref);
        }
    }
}

void vr_volplan_ended(vr_engine *e, const char *job_id, const char *user, const char *type, const char *id,
                  const char *what, int rc, vr_error *err)
{
    if (rc == 0) {
        vr_event(e, "normal", user, type, id, "%s done", what);
        vr_job_update(e, job_id, "finished", "");
    } else {
        vr_event(e, "error", user, type, id, "%s failed: %s", what, err->message);
        vr_job_update(e, job_id, "failed", err->message);
    }
}

/* Make every volume of plan (or none: a failure removes what was made),
 * then, in one transaction, its disks ok (or gone). The caller's own row
 * changes follow in that transaction; it commits. */
int vr_volplan_run(vr_engine *e, const char *job_id, json_t *plan, bool thin, vr_error *err)
{
    json_t *spm = NULL, *v;
    size_t i;
    int rc = 0;
    json_array_foreach(plan, i, v) {
        if (json_is_true(json_object_get(v, "made")))
            continue; /* by an earlier run of the job */
        if (!spm && !(spm = vr_volplan_spm(e, job_id, str(v, "domain"), err)))
            rc = -1;
        if (rc == 0)
            rc = make_volume(e, job_id, spm, plan, i, thin, err);
        if (rc != 0)
            break;
        plan_note(e, job_id, plan, i, json_pack("{s:b}", "made", 1));
    }
    if (rc == VR_VOLPLAN_STOPPED || (rc < 0 && e->stopping && err->code == VR_ERR_UNAVAILABLE)) {
        json_decref(spm); /* the job stays running: the next start resumes it where it is */
        return VR_VOLPLAN_STOPPED;
    }
    if (rc < 0)
        unmake(e, job_id, plan, thin);
    json_decref(spm);
    vr_db_begin(e->db, NULL);
    json_array_foreach(plan, i, v) {
        if (rc == 0)
            vr_db_exec(e->db, "UPDATE disks SET status = 'ok' WHERE id = ?", DB_ARGS(DB_TEXT(str(v, "disk"))), NULL);
        else
            vr_db_exec(e->db, "DELETE FROM disks WHERE id = ?", DB_ARGS(DB_TEXT(str(v, "disk"))), NULL);
    }
    return rc;
}

json_t *vr_volplan_job_params(vr_engine *e, const char *job_id)
{
    json_t *row = vr_db_query_one(e->db, "SELECT params_json FROM jobs WHERE id = ?", DB_ARGS(DB_TEXT(job_id)), NULL);
    json_t *p = json_incref(json_object_get(row, "params"));
    json_decref(row);
    return p ? p : json_object();
}

int vr_volplan_run_vm(vr_engine *e, const char *job_id, json_t *params, const char *new_id, const char *step,
                      vr_error *err)
{
    json_t *plan = json_object_get(params, "plan");
    vr_job_update(e, job_id, "running", step);
    int rc = json_is_array(plan) ? vr_volplan_run(e, job_id, plan, false, err)
                                 : vr_error_set(err, VR_ERR_INTERNAL, "the job's parameters cannot be read");
    if (rc == VR_VOLPLAN_STOPPED)
        return rc;
    if (rc == 0)
        vr_db_exec(e->db, "UPDATE vms SET status = 'down' WHERE id = ? AND status = 'imagelocked'",
                   DB_ARGS(DB_TEXT(new_id)), NULL);
    else /* nothing half made: the VM goes (its MACs with it) */
        vr_db_exec(e->db, "DELETE FROM vms WHERE id = ?", DB_ARGS(DB_TEXT(new_id)), NULL);
    return rc;
}

/* The VM's definition as a template keeps it: engine disks swapped for
 * the template's, NICs without their MACs (each VM gets its own). */
json_t *vr_volplan_spec(json_t *spec, json_t *plan)
{
    json_t *out = json_deep_copy(spec), *d, *v;
    size_t i, k;
    json_array_foreach(json_object_get(out, "disks"), i, d) {
        json_object_del(d, "address");
        json_array_foreach(plan, k, v) if (!strcmp(str(d, "disk"), str(v, "src_disk")))
            json_object_set_new(d, "disk", json_string(str(v, "disk")));
    }
    json_array_foreach(json_object_get(out, "nics"), i, d) {
        json_object_del(d, "mac");
        json_object_del(d, "address");
    }
    return out;
}

int vr_volplan_insert_disk(vr_engine *e, json_t *src, const char *id, const char *vol, const char *tmpl_id,
                       const char *parent_disk, vr_error *err)
{
    return vr_db_exec(e->db, "INSERT INTO disks (id, volume_id, alias, description, storage_domain_id, format, sparse,"
                      " provisioned_size, interface, bootable, shareable, read_only, wipe_after_delete, status,"
                      " created_at, template_id, parent_disk_id) VALUES (?,?,?,?,?, 'cow', 1, ?,?,?, 0, ?, 0,"
                      " 'locked', ?,?,?)",
                      DB_ARGS(DB_TEXT(id), DB_TEXT(vol), DB_TEXT(str(src, "alias")), DB_TEXT(str(src, "description")),
                              DB_TEXT(str(src, "storage_domain")), DB_INT(num(src, "provisioned_size")),
                              DB_TEXT(*str(src, "interface") ? str(src, "interface") : "virtio"),
                              DB_INT(num(src, "bootable")), DB_INT(tmpl_id != NULL), DB_INT(vr_now()),
                              tmpl_id ? DB_TEXT(tmpl_id) : DB_NULL, parent_disk ? DB_TEXT(parent_disk) : DB_NULL),
                      err) < 0 ? -1 : 0;
}

int vr_volplan_take_quota(vr_engine *e, const char *user, json_t *body, json_t *sizes, const char *cluster,
                          json_t *plan, char quota[37], vr_error *err)
{
    char dc[37], what[100];
    vr_quota_dc_of_cluster(e, cluster, dc);
    snprintf(what, sizeof(what), "VM '%.64s'", str(body, "name"));
    json_t *need = json_object(), *v;
    size_t i;
    json_array_foreach(plan, i, v) {
        json_t *have = json_object_get(need, str(v, "domain"));
        json_object_set_new(need, str(v, "domain"), json_integer(json_integer_value(have) + num(v, "size")));
    }
    vr_quota_ask ask = {what, dc, cluster, num(sizes, "vcpus"), num(sizes, "memory_mib"), need};
    int rc = vr_quota_take(e, user, json_string_value(json_object_get(body, "quota")), &ask, quota, err);
    json_decref(need);
    return rc;
}

int vr_volplan_disk_quota(vr_engine *e, const char *disk_id, const char *quota, vr_error *err)
{
    if (!*quota)
        return 0;
    return vr_db_exec(e->db, "UPDATE disks SET quota_id = ? WHERE id = ?", DB_ARGS(DB_TEXT(quota), DB_TEXT(disk_id)),
                      err) < 0 ? -1 : 0;
}

json_t *vr_volplan_disk_row(vr_engine *e, const char *id, vr_error *err)
{
    return vr_db_query_one(e->db, "SELECT id, volume_id, alias, description, storage_domain_id AS storage_domain,"
                           " provisioned_size, interface, bootable, shareable, status, template_id FROM disks"
                           " WHERE id = ?", DB_ARGS(DB_TEXT(id)), err);
}

