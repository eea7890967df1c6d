/* Templates (/api/templates): made from a stopped VM and removed by jobs
 * (202); POST /api/templates/ID/createvm makes a VM from one, thin or
 * clone (docs/storage.md "Templates", RHV TR ch. 7). */
#include <string.h>

#include "devspec.h"
#include "dispatch.h"
#include "export_api.h"
#include "kind.h"
#include "perm.h"
#include "quota.h"
#include "store_templates.h"
#include "templjobs.h"

static int tmpl_create_job(vr_call *c, const char *id, json_t *body, char job[37], vr_error *err)
{
    const char *desc = json_string_value(json_object_get(body, "description")) ?: "";
    if (!vr_valid_text(desc) || !vr_valid_text(json_string_value(json_object_get(body, "version_name")) ?: ""))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "description and version_name must be text without control"
                            " characters");
    if (!json_object_get(body, "vm"))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "vm is required: a template is made from a VM");
    bool sub = json_object_get(body, "base_template") != NULL;
    if (!sub && !json_object_get(body, "name"))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "name is required (a sub-version takes its base's name)");
    if (sub && json_object_get(body, "name"))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "a sub-version takes its base template's name: give"
                            " version_name instead of name");
    return vr_template_create_submit(c->e, id, body, c->user, job, err);
}

static int tmpl_remove_job(vr_call *c, json_t *row, char job[37], vr_error *err)
{
    return vr_template_remove_submit(c->e, row, c->user, job, err);
}

static int tmpl_createvm(vr_call *c, json_t *row, json_t *body, json_t **reply, vr_error *err)
{
    char job[37], vm[37];
    if (!vr_valid_text(json_string_value(json_object_get(body, "description")) ?: ""))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "description must be text without control characters");
    vr_quota_lock(); /* the quota check and the VM's rows are one step */
    int rc = vr_template_newvm_submit(c->e, row, body, c->user, job, vm, err);
    vr_quota_unlock();
    if (rc < 0)
        return -1;
    vr_perm_grant_owner(c->e, c->user, "vm", vm, VR_USERVMMANAGER_ROLE_ID, NULL); /* its creator manages it */
    *reply = json_pack("{s:s}", "job_id", job); /* the job's object_id names the VM */
    return 0;
}

static const vr_field createvm_params[] = {
    {"name", VR_FT_NAME, VR_F_REQ | VR_F_CREATE, .doc = "The new VM's name."},
    {"cluster_id", VR_FT_REF, VR_F_CREATE, .ref = "clusters", .doc = "Its cluster (default: the template's)."},
    {"description", VR_FT_STR, VR_F_CREATE, 0, 4096, .doc = NULL},
    {"clone", VR_FT_BOOL, VR_F_CREATE,
     .doc = "true: independent copies of the template's disks; false (default): thin qcow2 layers over them (the"
            " template cannot be removed while the VM exists)."},
    {"version", VR_FT_ENUM, VR_F_CREATE, .values = VR_STRS("latest"),
     .doc = "latest: the newest sub-version of this template's family instead of this one."},
    {"quota", VR_FT_REF, VR_F_CREATE, .ref = "quotas",
     .doc = "The quota the VM and its disks count against (default: the data center's only quota)."},
};

static const vr_action tmpl_actions[] = {
    {"createvm", "Make a VM from the template, thin or clone, with its hardware (a job whose object_id is the VM)",
     true, tmpl_createvm, createvm_params, VR_ARRAY_SIZE(createvm_params)},
    {"export", "Copy the template's disks and its OVF description to an export domain of its data center (a job;"
     " docs/storage.md \"Export domains\")", true, vr_template_export_action, vr_template_export_params, 2},
};

static const vr_field tmpl_fields[] = {
    {"id", VR_FT_ID, 0, .doc = NULL},
    {"name", VR_FT_NAME, VR_F_CREATE | VR_F_SORT,
     .doc = "Required for a base template; a sub-version has its base's name."},
    {"description", VR_FT_STR, VR_F_CREATE | VR_F_UPDATE, 0, 4096, .dflt = "\"\""},
    {"vm", VR_FT_REF, VR_F_CREATE | VR_F_OPT, .ref = "vms",
     .doc = "The stopped VM it is made from (required at create; not kept)."},
    {"base_template", VR_FT_REF, VR_F_CREATE | VR_F_OPT, .ref = "templates",
     .doc = "Make a sub-version of this base template (not kept: see base_template_id)."},
    {"base_template_id", VR_FT_ID, VR_F_NULL, .doc = "Its base template when it is a sub-version."},
    {"version_number", VR_FT_INT, VR_F_SORT, 1, 1 << 30, .doc = "1 for a base template, counting up."},
    {"version_name", VR_FT_STR, VR_F_CREATE, 0, 64, .dflt = "\"\""},
    {"cluster_id", VR_FT_ID, VR_F_NULL, .doc = "The cluster of the VM it was made from (null: Blank)."},
    {"memory_mib", VR_FT_INT, 0, 0, 1LL << 40, .doc = NULL},
    {"vcpus", VR_FT_INT, 0, 0, 240, .doc = NULL},
    {"spec", VR_FT_JSON, 0, .schema = "TemplateSpec",
     .doc = "The hardware new VMs get: boot, disks (the template's disks), NICs (each VM gets its own MACs)."},
    {"status", VR_FT_ENUM, VR_F_SORT, .values = VR_STRS("ok", "locked"),
     .doc = "locked while a job makes or removes it."},
    {"created_at", VR_FT_TIME, VR_F_SORT, .doc = NULL},
};

const vr_kind vr_kind_templates = {
    .collection = "templates", .type = "template", .title = "template", .schema = "Template", .tag = "Templates",
    .store = &vr_store_templates, .fields = tmpl_fields, .nfields = VR_ARRAY_SIZE(tmpl_fields),
    .actions = tmpl_actions, .nactions = VR_ARRAY_SIZE(tmpl_actions),
    .create_job = tmpl_create_job, .remove_job = tmpl_remove_job,
};
