/* Snapshots' SQL (docs/storage.md "Snapshots"). Rows are written only by
 * the snapshot jobs (jobs/snapjobs.c); the API reads them here. */
#include <string.h>

#include "store_snapshots.h"

static const vr_search snap_search[] = {
    {"description", "lower(description) LIKE ? ESCAPE '\\'", true, true, false, "description, * as wildcard"},
    {"status", "status = ?", false, true, false, "the snapshot's status"},
    {"type", "type = ?", false, true, false, "regular or preview_backup"},
    {"vm", "vm_id IN (SELECT id FROM vms WHERE lower(name) LIKE ? ESCAPE '\\')", true, true, false,
     "the VM's name, * as wildcard"},
};

static int snap_insert(vr_engine *e, const char *id, json_t *b, vr_error *err)
{
    (void)e, (void)id, (void)b;
    return vr_error_set(err, VR_ERR_INTERNAL, "snapshots are made by their job (a defect)");
}

static int snap_update(vr_engine *e, json_t *row, json_t *b, vr_error *err)
{
    const char *desc = json_string_value(json_object_get(b, "description")) ?: "";
    const char *id = json_string_value(json_object_get(row, "id")) ?: "";
    int n = vr_db_exec(e->db, "UPDATE snapshots SET description = ? WHERE id = ?", DB_ARGS(DB_TEXT(desc), DB_TEXT(id)),
                       err);
    return n < 0 ? -1 : n == 0 ? vr_error_set(err, VR_ERR_BAD_STATE, "the snapshot was removed meanwhile") : 0;
}

static int snap_remove(vr_engine *e, json_t *row, vr_error *err)
{
    (void)e, (void)row;
    return vr_error_set(err, VR_ERR_INTERNAL, "snapshots are removed by their job (a defect)");
}

const vr_store vr_store_snapshots = {
    .select = "SELECT id, vm_id, description, type, status, quiesced, created_at, config_json AS config_json,"
              " volumes_json AS volumes_json, CASE WHEN memory_json IS NULL THEN 0 ELSE 1 END AS persist_memorystate, seq"
              " FROM snapshots",
    .id_expr = "id", .order = "created_at, seq, id", .table = "snapshots",
    .search = snap_search, .nsearch = sizeof(snap_search) / sizeof(snap_search[0]),
    .insert = snap_insert, .update = snap_update, .remove = snap_remove,
};

json_t *vr_snapshots_of_vm(vr_engine *e, const char *vm_id, vr_error *err)
{
    json_t *rows = NULL;
    if (vr_db_query(e->db, "SELECT id, vm_id, description, type, status, quiesced, created_at,"
                    " config_json AS config_json, volumes_json AS volumes_json, memory_json FROM snapshots WHERE vm_id = ?"
                    " ORDER BY created_at, seq, id", DB_ARGS(DB_TEXT(vm_id)), &rows, err) < 0)
        return NULL;
    return rows;
}
