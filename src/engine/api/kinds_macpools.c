/* MAC pools (docs/networks.md "MAC pools"), described by their table like
 * every kind. The rules a table cannot say: ranges (store/macpool.c),
 * pools overlapping only when both allow duplicates, the Default pool and
 * pools used by a cluster staying. */
#include <stdio.h>
#include <string.h>

#include "devspec.h"
#include "dispatch.h"
#include "macpool.h"
#include "store_networks.h"

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

/* Ranges checked, and against every other pool (self_id: this one). */
static int mp_check(vr_call *c, const char *self_id, json_t *b, vr_error *err)
{
    if (!vr_valid_text(str(b, "description")))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "description must be text without control characters");
    json_t *ranges = json_object_get(b, "ranges");
    if (vr_macpool_check_ranges(ranges, err) < 0)
        return -1;
    json_t *rows = NULL, *r;
    if (vr_db_query(c->e->db, "SELECT id, name, ranges_json, allow_duplicates FROM mac_pools WHERE id != ? ORDER BY"
                    " name", DB_ARGS(DB_TEXT(self_id)), &rows, err) < 0)
        return -1;
    bool dup = json_is_true(json_object_get(b, "allow_duplicates"));
    int rc = 0;
    size_t i;
    json_array_foreach(rows, i, r) {
        char where[40];
        if (!(dup && json_integer_value(json_object_get(r, "allow_duplicates"))) &&
            vr_macpool_overlap(ranges, json_object_get(r, "ranges"), where, sizeof(where))) {
            rc = vr_error_set(err, VR_ERR_CONFLICT, "the ranges overlap MAC pool '%s' (%s): pools may overlap only"
                              " when both allow duplicates", str(r, "name"), where);
            break;
        }
    }
    json_decref(rows);
    return rc;
}

static int mp_check_create(vr_call *c, json_t *b, vr_error *err)
{
    return mp_check(c, "", b, err);
}

static int mp_check_update(vr_call *c, json_t *row, json_t *b, vr_error *err)
{
    if (!strcmp(str(row, "id"), VR_MACPOOL_DEFAULT_ID) && strcmp(str(b, "name"), "Default"))
        return vr_error_set(err, VR_ERR_CONFLICT, "the Default MAC pool keeps its name");
    return mp_check(c, str(row, "id"), b, err);
}

static int mp_check_delete(vr_call *c, json_t *row, vr_error *err)
{
    if (!strcmp(str(row, "id"), VR_MACPOOL_DEFAULT_ID))
        return vr_error_set(err, VR_ERR_CONFLICT, "the Default MAC pool cannot be removed");
    json_t *cl = vr_db_query_one(c->e->db, "SELECT name FROM clusters WHERE mac_pool_id = ? ORDER BY name LIMIT 1",
                                 DB_ARGS(DB_TEXT(str(row, "id"))), err);
    int rc = cl ? vr_error_set(err, VR_ERR_CONFLICT, "MAC pool '%s' is used by cluster '%s': give the cluster another"
                               " pool first", str(row, "name"), str(cl, "name")) : err->code ? -1 : 0;
    json_decref(cl);
    return rc;
}

static void mp_present(vr_engine *e, json_t *row)
{
    json_t *d = json_object_get(row, "allow_duplicates");
    if (json_is_integer(d))
        json_object_set_new(row, "allow_duplicates", json_boolean(json_integer_value(d)));
    (void)e;
}

static const vr_field mp_fields[] = {
    {"id", VR_FT_ID, 0, .doc = "Assigned by the engine (the Default pool's is fixed)."},
    {"name", VR_FT_NAME, VR_F_REQ | VR_F_CREATE | VR_F_UPDATE | VR_F_SORT, .doc = "Unique; 'Default' is the"
     " engine's own pool (--mac-pool)."},
    {"description", VR_FT_STR, VR_F_CREATE | VR_F_UPDATE, 0, 4096, .dflt = "\"\""},
    {"ranges", VR_FT_JSON, VR_F_REQ | VR_F_CREATE | VR_F_UPDATE, .schema = "MacRanges",
     .doc = "1-16 ranges [{from, to}] of unicast MACs, each keeping its first octet, not overlapping each other nor"
            " another pool's (unless both allow duplicates). Addresses already given outside new ranges stay."},
    {"allow_duplicates", VR_FT_BOOL, VR_F_CREATE | VR_F_UPDATE, .dflt = "false",
     .doc = "The pool may overlap other pools that allow duplicates too (the engine still gives an address to one"
            " NIC at a time)."},
    {"macs_in_use", VR_FT_INT, 0, 0, 1LL << 48, .doc = "Addresses this pool has given that NICs still hold."},
    {"created_at", VR_FT_TIME, VR_F_SORT, .doc = NULL},
};

const vr_kind vr_kind_macpools = {
    .collection = "macpools", .type = "macpool", .title = "MAC pool", .schema = "MacPool", .tag = "MAC pools",
    .store = &vr_store_macpools, .fields = mp_fields, .nfields = VR_ARRAY_SIZE(mp_fields),
    .check_create = mp_check_create, .check_update = mp_check_update, .check_delete = mp_check_delete,
    .present = mp_present,
};
