/* REST routes of export domains (export_api.h, docs/rest-api.md "Export
 * and import"): the VMs and templates on an export domain, read from
 * storage, their import, and the VM's and template's export actions. */
#include "export_api.h"

#include <stdio.h>
#include <string.h>

#include "api.h"
#include "devspec.h"
#include "dispatch.h"
#include "exportjob.h"
#include "fault.h"
#include "i18n.h"
#include "kind.h"
#include "ovf_store.h"
#include "register.h"

#define ID_MAX 65

const vr_field vr_export_params[] = {
    {"storage_domain", VR_FT_STR, VR_F_REQ | VR_F_CREATE, 1, 255,
     .doc = "The export domain, by id or name: active, attached to the VM's data center."},
    {"collapse_snapshots", VR_FT_BOOL, VR_F_CREATE, .dflt = "true",
     .doc = "Each disk's chain collapsed into one volume; false: each chain copied volume by volume (same ids and"
            " parents) and the VM's snapshots listed in its OVF, so an import restores them."},
    {"exclusive", VR_FT_BOOL, VR_F_CREATE, .dflt = "false",
     .doc = "Replace an earlier export of the VM on the domain (false: such an export is a 409)."},
};
const size_t vr_export_nparams = VR_ARRAY_SIZE(vr_export_params);

const vr_field vr_template_export_params[] = {
    {"storage_domain", VR_FT_STR, VR_F_REQ | VR_F_CREATE, 1, 255,
     .doc = "The export domain, by id or name: active, attached to the template's data center."},
    {"exclusive", VR_FT_BOOL, VR_F_CREATE, .dflt = "false",
     .doc = "Replace an earlier export of the template on the domain (false: such an export is a 409)."},
};
const size_t vr_template_export_nparams = VR_ARRAY_SIZE(vr_template_export_params);

static const vr_field import_params[] = {
    {"cluster", VR_FT_STR, VR_F_REQ | VR_F_CREATE, 1, 255, .doc = "The new VM's cluster, by id or name."},
    {"storage_domain", VR_FT_STR, VR_F_REQ | VR_F_CREATE, 1, 255,
     .doc = "The active data domain of the cluster's data center the disks are copied into, by id or name."},
    {"name", VR_FT_NAME, VR_F_CREATE, .doc = "The new VM's name (default: the exported VM's)."},
    {"clone", VR_FT_BOOL, VR_F_CREATE, .dflt = "false",
     .doc = "New VM and disk ids and new MACs (false: the exported ids and MACs are kept)."},
};

static const vr_field register_params[] = {
    {"cluster", VR_FT_STR, VR_F_REQ | VR_F_CREATE, 1, 255,
     .doc = "The VM's cluster, by id or name: in the data center the domain is attached to."},
    {"name", VR_FT_NAME, VR_F_CREATE, .doc = "The VM's name (default: the name in its OVF)."},
    {"reassign_bad_macs", VR_FT_BOOL, VR_F_CREATE, .dflt = "false",
     .doc = "A NIC whose MAC another VM holds gets a new one from the pool (false: such a MAC is a 409)."},
};

int vr_vm_export_action(vr_call *c, json_t *vm, json_t *body, json_t **reply, vr_error *err)
{
    char job[37];
    if (vr_vm_export_submit(c->e, vm, body, c->user, job, err) < 0)
        return -1;
    *reply = json_pack("{s:s}", "job_id", job);
    return 0;
}

int vr_template_export_action(vr_call *c, json_t *t, json_t *body, json_t **reply, vr_error *err)
{
    char job[37];
    if (vr_template_export_submit(c->e, t, body, c->user, job, err) < 0)
        return -1;
    *reply = json_pack("{s:s}", "job_id", job);
    return 0;
}

/* "/api/storagedomains/<id>/vms", ".../templates", ".../vms/<vm>/import",
 * ".../vms/<vm>/register", ".../templates/<template>/import" or
 * ".../templates/<template>/register": the
 * domain, the collection (coll: "vms" or "templates") and the VM or
 * template and action (vm "" for a listing). */
static bool parse(const char *path, char sd[ID_MAX], char coll[16], char vm[ID_MAX], char action[16])
{
    static const char pre[] = "/api/storagedomains/";
    if (strncmp(path, pre, sizeof(pre) - 1))
        return false;
    const char *p = path + sizeof(pre) - 1, *slash = strchr(p, '/');
    if (!slash || slash == p || slash - p >= ID_MAX)
        return false;
    snprintf(sd, ID_MAX, "%.*s", (int)(slash - p), p);
    vm[0] = action[0] = '\0';
    if (!strcmp(slash, "/vms") || !strcmp(slash, "/templates")) {
        snprintf(coll, 16, "%s", slash + 1);
        return true;
    }
    bool tmpl = !strncmp(slash, "/templates/", 11);
    if (strncmp(slash, "/vms/", 5) && !tmpl)
        return false;
    snprintf(coll, 16, tmpl ? "templates" : "vms");
    p = slash + (tmpl ? 11 : 5);
    slash = strchr(p, '/');
    if (!slash || slash == p || slash - p >= ID_MAX || (strcmp(slash, "/import") && strcmp(slash, "/register")))
        return false;
    snprintf(vm, ID_MAX, "%.*s", (int)(slash - p), p);
    snprintf(action, 16, "%s", slash + 1);
    return true;
}

bool vr_export_api_path(const char *path)
{
    char sd[ID_MAX], coll[16], vm[ID_MAX], action[16];
    return parse(path, sd, coll, vm, action);
}

static int do_import(vr_call *c, json_t *sd, const char *vm_id, const char *coll, bool reg, vr_error *err)
{
    bool tmpl = !strcmp(coll, "templates");
    /* a template has no MACs: its body is register's first two members */
    vr_kind pk = {.fields = reg ? register_params : import_params,
                  .nfields = tmpl && reg ? 2 : reg ? VR_ARRAY_SIZE(register_params) : VR_ARRAY_SIZE(import_params),
                  .title = reg ? "register" : "import", .collection = reg ? "register" : "import"};
    vr_call pc = *c;
    pc.kind = &pk;
    json_t *body = vr_body_parse(&pc, false, err);
    if (!body || vr_kind_check_body(&pc, body, NULL, err) < 0) {
        json_decref(body);
        return -1;
    }
    /* Whoever may make a VM in the cluster and work with the domain. */
    json_t *where = json_pack("{s:O}", "cluster_id", json_object_get(body, "cluster"));
    char job[37], id[37];
    int rc = vr_authorize_user(c->e, c->user, tmpl ? &vr_kind_templates : &vr_kind_vms, where, "create", err);
    json_decref(where);
    if (rc == 0 && !vr_valid_uuid(vm_id))
        rc = vr_error_set(err, VR_ERR_NOT_FOUND, "no VM with id '%.64s' on storage domain '%s'", vm_id,
                          json_string_value(json_object_get(sd, "name")));
    if (rc == 0 && !reg)
        rc = tmpl ? vr_template_import_submit(c->e, sd, vm_id, body, c->user, job, id, err)
                  : vr_vm_import_submit(c->e, sd, vm_id, body, c->user, job, id, err);
    else if (rc == 0)
        rc = tmpl ? vr_template_register(c->e, sd, vm_id, body, err) : vr_vm_register(c->e, sd, vm_id, body, err);
    json_decref(body);
    json_t *vm = rc == 0 && reg ? vr_kind_get(c->e, tmpl ? &vr_kind_templates : &vr_kind_vms, vm_id, err) : NULL;
    if (vm) {
        c->resp->status = 201;
        c->resp->body = vm;
        snprintf(c->resp->location, sizeof(c->resp->location), "%s", json_string_value(json_object_get(vm, "href")));
    } else if (rc == 0 && !reg)
        vr_reply_job(c, job);
    return vm || !reg ? rc : -1;
}

bool vr_export_api_handle(vr_engine *e, vr_http_req *req, vr_http_resp *resp)
{
    char sd_id[ID_MAX], coll[16], vm_id[ID_MAX], action[16];
    if (!parse(req->path, sd_id, coll, vm_id, action))
        return false;
    vr_call c = {.e = e, .req = req, .resp = resp, .kind = &vr_kind_storagedomains, .user = req->user};
    vr_error err = {0};
    bool list = !vm_id[0], reg = !strcmp(action, "register");
    json_t *sd = NULL, *out = NULL;
    if (list ? strcmp(req->method, "GET") && strcmp(req->method, "HEAD") : strcmp(req->method, "POST")) {
        vr_http_fault(resp, 405, "Method Not Allowed", list ? N_("use GET for the VMs on a storage domain")
                      : reg ? N_("use POST to register a VM") : N_("use POST to import a VM"));
        return true;
    }
    if (vr_valid_uuid(sd_id))
        sd = vr_kind_get(e, &vr_kind_storagedomains, sd_id, &err);
    else
        vr_error_set(&err, VR_ERR_NOT_FOUND, "no %s with id '%.64s'", vr_kind_storagedomains.title, sd_id);
    const char *type = json_string_value(json_object_get(sd, "type")) ?: "", *unreg = vr_http_arg(req, "unregistered");
    bool store = unreg && !strcmp(unreg, "true");
    if (sd && vr_authorize(&c, &vr_kind_storagedomains, sd, list ? "get" : "import", &err) == 0) {
        if (list && store && strcmp(type, "data"))
            vr_error_set(&err, VR_ERR_CONFLICT, "storage domain '%s' is not a data domain: only data domains keep an"
                         " OVF store", json_string_value(json_object_get(sd, "name")));
        else if (list && store)
            out = vr_ovfstore_unregistered(e, sd, !strcmp(coll, "templates"), &err);
        else if (list && strcmp(type, "export"))
            vr_error_set(&err, VR_ERR_CONFLICT, "storage domain '%s' is not an export domain (the VMs and templates in"
                         " a data domain's OVF store are listed with ?unregistered=true)",
                         json_string_value(json_object_get(sd, "name")));
        else if (list)
            out = vr_export_domain_vms(e, sd, !strcmp(coll, "templates"), &err);
        else if (do_import(&c, sd, vm_id, coll, reg, &err) == 0) {
            json_decref(sd);
            return true;
        }
    }
    if (out) {
        resp->status = 200;
        resp->body = out;
    } else {
        if (!err.code)
            vr_error_set(&err, VR_ERR_INTERNAL, "the storage domain's OVFs cannot be read");
        vr_fault(resp, &err);
    }
    json_decref(sd);
    return true;
}
