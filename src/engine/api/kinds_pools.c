/* VM pools (/api/vmpools): the wish (size, prestarted, per-user maximum,
 * stateless) is recorded here; the pool thread (jobs/poolmon.c) makes the
 * VMs. allocatevm and releasevm hand VMs to users and take them back. */
#include <stdio.h>
#include <string.h>

#include "devspec.h"
#include "dispatch.h"
#include "kind.h"
#include "poolmon.h"
#include "store_pools.h"
#include "store_templates.h"

static int check(vr_call *c, json_t *body, vr_error *err)
{
    json_int_t size = json_integer_value(json_object_get(body, "size"));
    json_int_t pre = json_integer_value(json_object_get(body, "prestarted"));
    if (!vr_valid_text(json_string_value(json_object_get(body, "description")) ?: ""))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "description must be text without control characters");
    if (pre > size)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "prestarted (%lld) cannot exceed size (%lld)",
                            (long long)pre, (long long)size);
    (void)c;
    return 0;
}

static int pool_check_create(vr_call *c, json_t *body, vr_error *err)
{
    if (check(c, body, err) < 0)
        return -1;
    json_t *t = vr_db_query_one(c->e->db, "SELECT status FROM templates WHERE id = ?",
                                DB_ARGS(DB_TEXT(json_string_value(json_object_get(body, "template_id")) ?: "")), err);
    int rc = t && strcmp(json_string_value(json_object_get(t, "status")) ?: "", "ok")
                 ? vr_error_set(err, VR_ERR_CONFLICT, "the template is not ready (%s)",
                                json_string_value(json_object_get(t, "status")))
                 : err->code ? -1 : 0;
    json_decref(t);
    return rc;
}

static int pool_check_update(vr_call *c, json_t *row, json_t *body, vr_error *err)
{
    (void)row;
    return check(c, body, err);
}

static void pool_present(vr_engine *e, json_t *row)
{
    json_object_set_new(row, "stateless", json_boolean(json_integer_value(json_object_get(row, "stateless"))));
    json_t *vms = NULL;
    vr_db_query(e->db, "SELECT id, name, status, pool_user AS user FROM vms WHERE pool_id = ? ORDER BY name",
                DB_ARGS(DB_TEXT(json_string_value(json_object_get(row, "id")) ?: "")), &vms, NULL);
    json_object_set_new(row, "vms", vms ? vms : json_array());
}

static int pool_allocate(vr_call *c, json_t *row, json_t *body, json_t **reply, vr_error *err)
{
    char vm[37], job[37];
    (void)body;
    if (vr_pool_allocate(c->e, row, c->user, vm, job, err) < 0)
        return -1;
    char href[80];
    snprintf(href, sizeof(href), "/api/vms/%s", vm);
    *reply = json_pack("{s:s, s:s, s:o}", "vm_id", vm, "href", href, "start_job", *job ? json_string(job) : json_null());
    return 0;
}

static int pool_release(vr_call *c, json_t *row, json_t *body, json_t **reply, vr_error *err)
{
    const char *vm = json_string_value(json_object_get(body, "vm")) ?: "";
    if (vr_pool_release(c->e, row, vm, c->user, err) < 0)
        return -1;
    *reply = json_pack("{s:s}", "vm_id", vm);
    return 0;
}

static const vr_field release_params[] = {
    {"vm", VR_FT_REF, VR_F_REQ | VR_F_CREATE, .ref = "vms", .doc = "The pool VM to take back."},
};

static const vr_action pool_actions[] = {
    {"allocatevm", "Give the caller a free VM of the pool (started if down); 200 {vm_id, href, start_job}", false,
     pool_allocate, NULL, 0},
    {"releasevm", "Take a VM back into the pool (an automatic pool's VM is stopped); 200 {vm_id}", false, pool_release,
     release_params, VR_ARRAY_SIZE(release_params)},
};

static const vr_field pool_fields[] = {
    {"id", VR_FT_ID, 0, .doc = NULL},
    {"name", VR_FT_NAME, VR_F_REQ | VR_F_CREATE | VR_F_UPDATE | VR_F_SORT,
     .doc = "Its VMs are named NAME-1, NAME-2..."},
    {"description", VR_FT_STR, VR_F_CREATE | VR_F_UPDATE, 0, 4096, .dflt = "\"\""},
    {"cluster_id", VR_FT_REF, VR_F_REQ | VR_F_CREATE | VR_F_FIXED, .ref = "clusters", .doc = NULL},
    {"template_id", VR_FT_REF, VR_F_REQ | VR_F_CREATE | VR_F_FIXED, .ref = "templates",
     .doc = "Its VMs are thin VMs of this template."},
    {"type", VR_FT_ENUM, VR_F_CREATE | VR_F_FIXED, .values = VR_STRS("automatic", "manual"), .dflt = "\"automatic\"",
     .doc = "automatic: a VM comes back to the pool when its user's session ends (it went down); manual: it stays"
            " the user's until released."},
    {"size", VR_FT_INT, VR_F_CREATE | VR_F_UPDATE | VR_F_SORT, 0, 1000, .dflt = "1",
     .doc = "VMs kept; a shrink removes only free, stopped VMs."},
    {"prestarted", VR_FT_INT, VR_F_CREATE | VR_F_UPDATE, 0, 1000, .dflt = "0",
     .doc = "Free VMs kept running, ready to hand out."},
    {"max_user_vms", VR_FT_INT, VR_F_CREATE | VR_F_UPDATE, 1, 1000, .dflt = "1", .doc = NULL},
    {"stateless", VR_FT_BOOL, VR_F_CREATE | VR_F_FIXED, .dflt = "false",
     .doc = "Every run starts from the template's state: what a run writes is thrown away when it stops."},
    {"vm_count", VR_FT_INT, 0, 0, 1LL << 40, .doc = NULL},
    {"allocated", VR_FT_INT, 0, 0, 1LL << 40, .doc = "VMs handed to users."},
    {"vms", VR_FT_JSON, VR_F_OPT, .schema = "PoolVms", .doc = "Its VMs: id, name, status, user."},
    {"created_at", VR_FT_TIME, VR_F_SORT, .doc = NULL},
};

const vr_kind vr_kind_pools = {
    .collection = "vmpools", .type = "vmpool", .title = "VM pool", .schema = "VmPool", .tag = "Templates",
    .store = &vr_store_pools, .fields = pool_fields, .nfields = VR_ARRAY_SIZE(pool_fields),
    .actions = pool_actions, .nactions = VR_ARRAY_SIZE(pool_actions),
    .check_create = pool_check_create, .check_update = pool_check_update, .present = pool_present,
};
