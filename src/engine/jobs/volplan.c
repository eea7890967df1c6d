/* Volume plans (volplan.h). */
#include "volplan.h"

#include <stdio.h>
#include <string.h>

#include "agentcall.h"
#include "agentjob.h"
#include "jobs.h"
#include "quota.h"
#include "sdjobs.h"
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

/* One volume of the plan: a copy of src (followed to its end) or, with
 * thin, a layer over the template volume src in its image. */
static int make_volume(vr_engine *e, const char *job_id, json_t *spm, json_t *v, bool thin, vr_error *err)
{
    json_t *res = NULL, *p;
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
    if (vr_agent_call_host(e, spm, "Volume.copy", p, &res, err) < 0)
        return -1;
    char detail[256];
    char agent_job[64];
    snprintf(agent_job, sizeof(agent_job), "%s", str(res, "job"));
    json_decref(res);
    int rc = vr_agent_job_wait(e, job_id, spm, agent_job, 10, 90, 24 * 3600, detail, sizeof(detail), err);
    if (rc == 1)
        return vr_error_set(err, VR_ERR_BAD_STATE, "cancelled");
    return rc == 0 ? 0 : rc == 2 ? vr_error_set(err, VR_ERR_UNAVAILABLE, "the engine is stopping") : -1;
}

/* Remove the volumes of plan (best effort; a link first, then its layer is
 * not needed: deleting the layer leaves the link, which goes next). */
static void unmake(vr_engine *e, json_t *spm, json_t *plan, bool thin)
{
    json_t *v;
    size_t i;
    json_array_foreach(plan, i, v) {
        json_t *res = NULL;
        vr_error err = {0};
        if (!spm)
            return;
        vr_agent_call_host(e, spm, "Volume.delete", vr_volplan_ref(str(v, "domain"), str(v, "disk"), str(v, "volume")), &res,
                           &err);
        json_decref(res);
        if (thin) /* the template volume's link in the new image */
            vr_agent_call_host(e, spm, "Volume.delete", vr_volplan_ref(str(v, "domain"), str(v, "disk"), str(v, "src_volume")),
                               &res, &err);
        json_decref(res);
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
        if (!spm && !(spm = vr_volplan_spm(e, job_id, str(v, "domain"), err)))
            rc = -1;
        if (rc == 0)
            rc = make_volume(e, job_id, spm, v, thin, err);
        if (rc < 0)
            break;
    }
    if (rc < 0)
        unmake(e, spm, plan, thin);
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

