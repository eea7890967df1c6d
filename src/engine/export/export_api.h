/* REST routes of export domains (docs/rest-api.md "Export and import"):
 * GET /api/storagedomains/ID/vms and .../templates (the VMs and templates
 * whose OVF the export domain holds, read from storage, not from the
 * database), POST /api/storagedomains/ID/vms/VMID/import and
 * .../templates/TID/import; the actions POST /api/vms/ID/export and
 * /api/templates/ID/export are in the kinds' tables (kinds_vms.c,
 * kinds_templates.c). */
#pragma once

#include <stdbool.h>

#include "engine.h"
#include "http.h"
#include "kind.h"

/* True when the authenticated request is for such a path (resp filled). */
bool vr_export_api_handle(vr_engine *e, vr_http_req *req, vr_http_resp *resp);

/* Whether path is such a path (for the request metrics' routes). */
bool vr_export_api_path(const char *path);

/* The VM action "export" and its body members. */
int vr_vm_export_action(vr_call *c, json_t *vm, json_t *body, json_t **reply, vr_error *err);
extern const vr_field vr_export_params[];
extern const size_t vr_export_nparams;

/* The template action "export" and its body members. */
int vr_template_export_action(vr_call *c, json_t *t, json_t *body, json_t **reply, vr_error *err);
extern const vr_field vr_template_export_params[];
extern const size_t vr_template_export_nparams;
