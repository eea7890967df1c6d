/* VMs: their SQL as the API reads and writes them. The hardware lives in
 * one spec document (spec_json); NIC MACs come from the MAC pool in the
 * same transaction as the row that uses them. */
#include <stdlib.h>
#include <string.h>

#include "macpool.h"
#include "store.h"
#include "store_storage.h"

static const char *str(json_t *b, const char *k)
{
    return json_string_value(json_object_get(b, k)) ?: "";
}

static long long num(json_t *b, const char *k)
{
    return json_integer_value(json_object_get(b, k));
}

/* high_availability's members as the columns keep them. */
static long long ha_enabled(json_t *b)
{
    return json_is_true(json_object_get(json_object_get(b, "high_availability"), "enabled"));
}

static long long ha_priority(json_t *b)
{
    return json_integer_value(json_object_get(json_object_get(b, "high_availability"), "priority"));
}

/* lease: set by the kind's check as lease_sd (a domain id, or "" for none)
 * when the body changes it; absent: keep. */
static bool lease_given(json_t *b)
{
    return json_is_string(json_object_get(b, "lease_sd"));
}

static const char *lease_sd(json_t *b)
{
    const char *s = str(b, "lease_sd");
    return *s ? s : NULL;
}

static const vr_search vm_search[] = {
    {"name", "lower(name) LIKE ? ESCAPE '\\'", true, true, false, "name, * as wildcard"},
    {"status", "status = ?", false, true, false, "the VM's status"},
    {"host", "host_id IN (SELECT id FROM hosts WHERE lower(name) LIKE ? ESCAPE '\\')", true, true, false,
     "name of the host it runs on, * as wildcard"},
    {"cluster", "cluster_id IN (SELECT id FROM clusters WHERE lower(name) LIKE ? ESCAPE '\\')", true, true,
     false, "cluster name, * as wildcard"},
    {"migrating_to", "status = 'migratingfrom' AND migrating_to_host_id IN (SELECT id FROM hosts WHERE lower(name)"
     " LIKE ? ESCAPE '\\')", true, true, false,
     "name of the host it is migrating to (the destination's incoming VMs), * as wildcard"},
};

/* Give every NIC of spec without a MAC one from the pool (in the caller's
 * transaction). */
static int allocate_macs(vr_engine *e, const char *vm_id, json_t *spec, vr_error *err)
{
    size_t i;
    json_t *nic;
    json_array_foreach(json_object_get(spec, "nics"), i, nic) {
        char mac[18];
        if (json_object_get(nic, "mac"))
            continue;
        if (vr_macpool_allocate(e, vm_id, mac, err) < 0)
            return -1;
        json_object_set_new(nic, "mac", json_string(mac));
    }
    return 0;
}

static int finish(vr_engine *e, int rc, vr_error *err)
{
    if (rc < 0) {
        vr_db_rollback(e->db);
        return -1;
    }
    return vr_db_commit(e->db, err);
}

/* The placement policy given (checked by the kind), as stored; NULL: none given. */
static char *placement_text(json_t *b)
{
    json_t *p = json_object_get(b, "placement_policy");
    return json_is_object(p) ? json_dumps(p, JSON_COMPACT) : NULL;
}

static int vm_insert(vr_engine *e, const char *id, json_t *b, vr_error *err)
{
    json_t *spec = json_object_get(b, "spec");
    if (vr_db_begin(e->db, err) < 0)
        return -1;
    int rc = vr_db_exec(e->db, "INSERT INTO vms (id, name, description, cluster_id, status, memory_mib,"
                        " vcpus, spec_json, created_at, ha_enabled, ha_priority, quota_id)"
                        " VALUES (?,?,?,?, 'down', ?,?, '{}', ?, ?, ?, ?)",
                        DB_ARGS(DB_TEXT(id), DB_TEXT(str(b, "name")), DB_TEXT(str(b, "description")),
                                DB_TEXT(str(b, "cluster_id")), DB_INT(num(b, "memory_mib")),
                                DB_INT(num(b, "vcpus")), DB_INT(vr_now()), DB_INT(ha_enabled(b)),
                                DB_INT(ha_priority(b)), *str(b, "quota") ? DB_TEXT(str(b, "quota")) : DB_NULL), err);
    if (rc >= 0)
        rc = allocate_macs(e, id, spec, err);
    if (rc >= 0)
        rc = vr_storage_disks_claim(e, spec, id, err);
    if (rc >= 0 && lease_sd(b))
        rc = vr_db_exec(e->db, "UPDATE vms SET lease_sd_id = ? WHERE id = ?", DB_ARGS(DB_TEXT(lease_sd(b)), DB_TEXT(id)),
                        err);
    char *text = rc >= 0 ? json_dumps(spec, JSON_COMPACT) : NULL;
    char *place = placement_text(b);
    if (rc >= 0)
        rc = vr_db_exec(e->db, "UPDATE vms SET spec_json = ?, placement_json = ? WHERE id = ?",
                        DB_ARGS(DB_TEXT(text), place ? DB_TEXT(place) : DB_NULL, DB_TEXT(id)), err);
    free(text);
    free(place);
    return finish(e, rc, err);
}

/* Two device lists are the same (a missing list is an empty one). */
static bool same_list(json_t *a, json_t *b)
{
    if (json_array_size(a) == 0 && json_array_size(b) == 0)
        return true;
    return json_equal(a, b);
}

/* NICs keep their MACs by position; new ones get MACs from the pool,
 * removed ones free theirs. The row must not have changed state since it
 * was read (the update's checks depended on it). */
static int vm_update(vr_engine *e, json_t *row, json_t *b, vr_error *err)
{
    const char *id = str(row, "id");
    json_t *spec = json_object_get(b, "spec"), *old_nics = json_object_get(row, "nics");
    if (vr_db_begin(e->db, err) < 0)
        return -1;
    /* The update was checked against the devices read before: if a NIC or
     * disk was added or removed meanwhile (/nics, /disks, a hot plug job),
     * writing the old lists back would lose it. */
    json_t *cur = vr_db_query_one(e->db, "SELECT spec_json FROM vms WHERE id = ?", DB_ARGS(DB_TEXT(id)), err);
    json_t *cspec = json_object_get(cur, "spec");
    bool moved = !cur || !same_list(json_object_get(cspec, "nics"), old_nics) ||
                 !same_list(json_object_get(cspec, "disks"), json_object_get(row, "disks"));
    json_decref(cur);
    if (moved) {
        vr_db_rollback(e->db);
        return err->code ? -1 : vr_error_set(err, VR_ERR_CONFLICT, "VM '%s' changed meanwhile (its devices); read it"
                                             " again", str(row, "name"));
    }
    size_t i;
    json_t *n;
    json_array_foreach(json_object_get(spec, "nics"), i, n) {
        json_t *mac = json_object_get(json_array_get(old_nics, i), "mac");
        if (mac)
            json_object_set(n, "mac", mac);
    }
    int rc = allocate_macs(e, id, spec, err);
    if (rc >= 0)
        rc = vr_storage_disks_claim(e, spec, id, err);
    for (size_t k = json_array_size(json_object_get(spec, "nics")); rc >= 0 && k < json_array_size(old_nics); k++)
        rc = vr_db_exec(e->db, "DELETE FROM macs WHERE mac = ?",
                        DB_ARGS(DB_TEXT(str(json_array_get(old_nics, k), "mac"))), err);
    /* Only a down VM's lease changes (the kind checked; this re-checks). */
    if (rc >= 0 && lease_given(b)) {
        rc = vr_db_exec(e->db, "UPDATE vms SET lease_sd_id = ? WHERE id = ? AND status = 'down'",
                        DB_ARGS(lease_sd(b) ? DB_TEXT(lease_sd(b)) : DB_NULL, DB_TEXT(id)), err);
        if (rc == 0)
            rc = vr_error_set(err, VR_ERR_BAD_STATE, "VM '%s' is no longer down; its lease changes only while it is"
                              " down", str(row, "name"));
    }
    char *text = json_dumps(spec, JSON_COMPACT), *place = placement_text(b);
    json_t *pending = json_object_get(b, "pending_changes");
    char *ptext = json_array_size(pending) ? json_dumps(pending, JSON_COMPACT) : NULL;
    if (rc >= 0) {
        rc = vr_db_exec(e->db, "UPDATE vms SET name = ?, description = ?, memory_mib = ?, vcpus = ?,"
                        " spec_json = ?, pending_json = ?, placement_json = coalesce(?, placement_json),"
                        " ha_enabled = ?, ha_priority = ?, quota_id = ? WHERE id = ?"
                        " AND (status = 'down') = (? = 'down')",
                        DB_ARGS(DB_TEXT(str(b, "name")), DB_TEXT(str(b, "description")),
                                DB_INT(num(b, "memory_mib")), DB_INT(num(b, "vcpus")), DB_TEXT(text),
                                ptext ? DB_TEXT(ptext) : DB_NULL, place ? DB_TEXT(place) : DB_NULL,
                                DB_INT(ha_enabled(b)), DB_INT(ha_priority(b)),
                                *str(b, "quota") ? DB_TEXT(str(b, "quota")) : DB_NULL, DB_TEXT(id),
                                DB_TEXT(str(row, "status"))), err);
        if (rc == 0)
            rc = vr_error_set(err, VR_ERR_CONFLICT, "VM '%s' changed meanwhile; read it again",
                              str(row, "name"));
    }
    free(text);
    free(ptext);
    free(place);
    return finish(e, rc, err);
}

/* Only a VM still down goes: one that started meanwhile stays. */
static int vm_remove(vr_engine *e, json_t *row, vr_error *err)
{
    int n = vr_db_exec(e->db, "DELETE FROM vms WHERE id = ? AND status = 'down'", DB_ARGS(DB_TEXT(str(row, "id"))),
                       err);
    return n < 0 ? -1 : n == 0 ? vr_error_set(err, VR_ERR_CONFLICT, "VM '%s' changed meanwhile (no longer down)",
                                              str(row, "name")) : 0;
}

const vr_store vr_store_vms = {
    .select = "SELECT v.id AS id, v.name AS name, v.description AS description, v.cluster_id AS cluster_id,"
              " v.host_id AS host_id, (SELECT name FROM hosts WHERE id = v.host_id) AS host,"
              " CASE WHEN v.status = 'migratingfrom' THEN v.migrating_to_host_id END AS migrating_to_host_id,"
              " (SELECT name FROM hosts WHERE id = v.migrating_to_host_id AND v.status = 'migratingfrom')"
              " AS migrating_to_host,"
              " v.status AS status, v.memory_mib AS memory_mib, v.vcpus AS vcpus, v.spec_json AS spec_json,"
              " v.devices_json AS devices_json, v.created_at AS created_at,"
              " v.pending_json AS pending_changes_json, v.placement_json AS placement_policy_json,"
              " '{\"enabled\":' || CASE WHEN v.ha_enabled = 1 THEN 'true' ELSE 'false' END ||"
              " ',\"priority\":' || v.ha_priority || '}' AS high_availability_json,"
              " v.stop_reason AS stop_reason,"
              " CASE WHEN v.status = 'paused' AND v.pause_reason <> '' THEN v.pause_reason END AS pause_reason,"
              " CASE WHEN v.lease_sd_id IS NULL THEN NULL ELSE '{\"storage_domain\":\"' || v.lease_sd_id || '\"}' END"
              " AS lease_json, v.quota_id AS quota FROM vms v",
    .id_expr = "v.id", .order = "name, id", .table = "vms",
    .search = vm_search, .nsearch = sizeof(vm_search) / sizeof(vm_search[0]),
    .insert = vm_insert, .update = vm_update, .remove = vm_remove,
};
