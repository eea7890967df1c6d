/* Import of a template from an export domain (exportjob.h; docs/storage.md
 * "Export domains"). As a VM's import: the OVF (master/templates/) is read
 * and checked at the request, the template row and its disks are
 * recorded locked with the job, whose params hold the volume plan (each
 * disk copied by the SPM from the export domain into the data domain); a
 * failure, or a rerun after an engine restart that finds a volume it made,
 * removes what was made: the outcome is a whole template or none. */
#include "exportjob.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "jobs.h"
#include "register.h"
#include "sdjobs.h"
#include "snapjob_util.h"
#include "vm_spec.h"
#include "volplan.h"

#define str vr_sj_str

void vr_template_import_run(vr_engine *e, const char *job_id, const char *tmpl_id, const char *user)
{
    json_t *p = vr_volplan_job_params(e, job_id), *plan = json_object_get(p, "plan");
    vr_error err = {0};
    vr_job_update(e, job_id, "running", "copying the template's disks from the export domain");
    int rc = json_is_array(plan) ? vr_volplan_run(e, job_id, plan, false, &err)
                                 : vr_error_set(&err, VR_ERR_INTERNAL, "the job's parameters cannot be read");
    if (rc == VR_VOLPLAN_STOPPED) {
        json_decref(p);
        return;
    }
    if (!json_is_array(plan))
        vr_db_begin(e->db, NULL); /* vr_volplan_run leaves one open: committed below either way */
    /* in vr_volplan_run's transaction: the disks ok (or gone) with the row */
    vr_db_exec(e->db, rc == 0 ? "UPDATE templates SET status = 'ok' WHERE id = ?" : "DELETE FROM templates WHERE id = ?",
               DB_ARGS(DB_TEXT(tmpl_id)), NULL);
    vr_db_commit(e->db, NULL);
    char what[300];
    vr_i18n_format(what, sizeof(what), "import of template '%s' from storage domain '%s'", str(p, "name"),
                   str(p, "domain_name"));
    vr_volplan_ended(e, job_id, user, "template", tmpl_id, what, rc, &err);
    json_decref(p);
}

/* The template's name checked free (and its id, unless clone). */
static int check_free(vr_engine *e, json_t *m, const char *id, const char *name, bool clone, vr_error *err)
{
    if (!vr_valid_name(name))
        return vr_error_set(err, VR_ERR_CONFLICT, "the exported template's name is not a valid name (1-64 of A-Z a-z"
                            " 0-9 . _ -): give name");
    json_t *had = clone ? NULL : vr_db_query_one(e->db, "SELECT name FROM templates WHERE id = ?", DB_ARGS(DB_TEXT(id)),
                                                 err);
    if (had)
        vr_error_set(err, VR_ERR_CONFLICT, "template %s exists already (as '%s'); import it with clone: true for a new"
                     " template with new ids", id, str(had, "name"));
    json_decref(had);
    had = err->code ? NULL : vr_db_query_one(e->db, "SELECT id FROM templates WHERE name = ? AND version_number = 1",
                                             DB_ARGS(DB_TEXT(name)), err);
    if (had)
        vr_error_set(err, VR_ERR_CONFLICT, "a template named '%s' exists already: give another name", name);
    json_decref(had);
    if (!err->code && !json_is_true(json_object_get(m, "template")))
        vr_error_set(err, VR_ERR_CONFLICT, "'%s' under the templates of the export domain is a VM", str(m, "name"));
    return err->code ? -1 : 0;
}

/* The template row, its disks (locked) and the job, in one transaction. */
static int record(vr_engine *e, json_t *m, json_t *cl, const char *name, json_t *spec, json_t *plan, json_t *params,
                  const char *user, const char *job_id, const char *new_id, vr_error *err)
{
    int rc = vr_db_begin(e->db, err);
    if (rc == 0 && vr_template_row_insert(e, new_id, m, cl, name, spec, "locked", err) < 0)
        rc = -1;
    if (rc == 0 && vr_import_insert_disks(e, plan, new_id, err) < 0)
        rc = -1;
    char desc[200];
    vr_i18n_format(desc, sizeof(desc), "Import template '%s' from storage domain '%s'", name,
                   str(params, "domain_name"));
    if (rc == 0 && vr_storage_job_insert(e, job_id, "import", "template", new_id, desc, params, user, err) < 0)
        rc = -1;
    if (rc == 0 && vr_db_commit(e->db, err) < 0)
        rc = -1;
    if (rc < 0)
        vr_db_rollback(e->db);
    return rc;
}

int vr_template_import_submit(vr_engine *e, json_t *sd, const char *id, json_t *body, const char *user,
                              char job_id[37], char new_id[37], vr_error *err)
{
    bool clone = json_is_true(json_object_get(body, "clone"));
    json_t *cl = NULL, *dsd = NULL, *plan = NULL, *mem = NULL, *spec = NULL;
    json_t *m = vr_import_read(e, sd, id, true, body, &cl, &dsd, err);
    const char *name = m && *str(body, "name") ? str(body, "name") : str(m, "name");
    if (m && check_free(e, m, id, name, clone, err) == 0) {
        plan = vr_import_plan(m, str(sd, "id"), str(dsd, "id"), clone);
        mem = vr_import_members(e, m, plan, str(cl, "datacenter_id"));
        spec = vr_vm_spec_build(mem, json_integer_value(json_object_get(m, "vcpus")),
                                json_integer_value(json_object_get(m, "memory_mib")), err);
    }
    vr_uuid_new(job_id);
    if (clone)
        vr_uuid_new(new_id);
    else
        snprintf(new_id, 37, "%s", id);
    int rc = spec ? 0 : -1;
    if (rc == 0) {
        json_t *params = json_pack("{s:s, s:s, s:s, s:s, s:b, s:O}", "domain", str(sd, "id"), "domain_name",
                                   str(sd, "name"), "name", name, "template", id, "clone", clone, "plan", plan);
        rc = record(e, m, cl, name, spec, plan, params, user, job_id, new_id, err);
        json_decref(params);
    }
    json_decref(spec);
    json_decref(mem);
    json_decref(plan);
    json_decref(m);
    json_decref(dsd);
    json_decref(cl);
    if (rc == 0)
        vr_job_spawn(e, job_id, new_id, user, vr_template_import_run);
    return rc;
}
