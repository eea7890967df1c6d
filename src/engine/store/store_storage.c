/* Storage domains and disks: their SQL as the API reads and writes them.
 * Rows are created "locked" (their job completes them: sdjobs.c,
 * diskjobs.c); the space columns are the storage monitor's. A domain's
 * committed bytes are the sum of its disks' provisioned sizes, computed
 * at read time so they never drift from the disks. */
#include "store_storage.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devspec.h"

static const char *str(json_t *b, const char *k)
{
    return json_string_value(json_object_get(b, k)) ?: "";
}

static long long num(json_t *b, const char *k)
{
    json_t *v = json_object_get(b, k);
    return json_is_boolean(v) ? json_is_true(v) : json_integer_value(v);
}

/* ---- storage domains ---- */

static const vr_search sd_search[] = {
    {"name", "lower(name) LIKE ? ESCAPE '\\'", true, true, false, "name, * as wildcard"},
    {"status", "status = ?", false, true, false, "the domain's status"},
    {"type", "type = ?", false, true, false, "data, iso or export"},
    {"datacenter", "datacenter_id IN (SELECT id FROM datacenters WHERE lower(name) LIKE ? ESCAPE '\\')", true, true,
     false, "data center name, * as wildcard"},
};

/* The agent's spec of a connection: server:/path for NFS, else the path. */
static void conn_spec(json_t *b, char *out, size_t len)
{
    if (!strcmp(str(b, "storage_type"), "nfs"))
        snprintf(out, len, "%s:%s", str(b, "storage_address"), str(b, "storage_path"));
    else
        snprintf(out, len, "%s", str(b, "storage_path"));
}

static int sd_insert(vr_engine *e, const char *id, json_t *b, vr_error *err)
{
    char spec[1400];
    conn_spec(b, spec, sizeof(spec));
    return vr_db_exec(e->db, "INSERT INTO storage_domains (id, name, description, sd_type, storage_type, storage_spec,"
                      " vfs_type, mount_options, nfs_version, status, warning_low_space_pct, critical_space_gib,"
                      " created_at) VALUES (?,?,?,?,?,?,?,?,?, 'locked', ?,?,?)",
                      DB_ARGS(DB_TEXT(id), DB_TEXT(str(b, "name")), DB_TEXT(str(b, "description")),
                              DB_TEXT(str(b, "type")), DB_TEXT(str(b, "storage_type")), DB_TEXT(spec),
                              DB_TEXT(str(b, "vfs_type")), DB_TEXT(str(b, "mount_options")),
                              DB_TEXT(str(b, "nfs_version")), DB_INT(num(b, "warning_low_space_pct")),
                              DB_INT(num(b, "critical_space_gib")), DB_INT(vr_now())), err) < 0 ? -1 : 0;
}

static int sd_update(vr_engine *e, json_t *row, json_t *b, vr_error *err)
{
    int n = vr_db_exec(e->db, "UPDATE storage_domains SET name = ?, description = ?, warning_low_space_pct = ?,"
                       " critical_space_gib = ? WHERE id = ?",
                       DB_ARGS(DB_TEXT(str(b, "name")), DB_TEXT(str(b, "description")),
                               DB_INT(num(b, "warning_low_space_pct")), DB_INT(num(b, "critical_space_gib")),
                               DB_TEXT(str(row, "id"))), err);
    return n < 0 ? -1 : n == 0 ? vr_error_set(err, VR_ERR_BAD_STATE, "the storage domain was removed meanwhile") : 0;
}

/* An unattached domain goes with its disks' rows (the volumes stay on
 * storage: an import finds them again). */
static int sd_remove(vr_engine *e, json_t *row, vr_error *err)
{
    if (vr_db_begin(e->db, err) < 0)
        return -1;
    int n = vr_db_exec(e->db, "DELETE FROM disks WHERE storage_domain_id IN (SELECT id FROM storage_domains"
                       " WHERE id = ? AND status = 'unattached')", DB_ARGS(DB_TEXT(str(row, "id"))), err);
    /* VMs lose their leases on it (docs/availability.md "VM leases"). */
    if (n >= 0)
        n = vr_db_exec(e->db, "UPDATE vms SET lease_sd_id = NULL WHERE lease_sd_id IN (SELECT id FROM storage_domains"
                       " WHERE id = ? AND status = 'unattached')", DB_ARGS(DB_TEXT(str(row, "id"))), err);
    if (n >= 0)
        n = vr_db_exec(e->db, "DELETE FROM storage_domains WHERE id = ? AND status = 'unattached'",
                       DB_ARGS(DB_TEXT(str(row, "id"))), err);
    if (n <= 0) {
        vr_db_rollback(e->db);
        return n < 0 ? -1 : vr_error_set(err, VR_ERR_CONFLICT, "storage domain '%s' changed meanwhile (no longer"
                                         " unattached)", str(row, "name"));
    }
    return vr_db_commit(e->db, err);
}

const vr_store vr_store_storagedomains = {
    .select = "SELECT s.id AS id, s.name AS name, s.description AS description, s.sd_type AS type,"
              " s.storage_type AS storage_type, s.storage_spec AS storage_spec, s.vfs_type AS vfs_type,"
              " s.mount_options AS mount_options, s.nfs_version AS nfs_version, s.datacenter_id AS datacenter_id,"
              " s.status AS status, s.master AS master, s.total_bytes AS total_bytes, s.free_bytes AS free_bytes,"
              " CASE WHEN s.total_bytes > s.free_bytes THEN s.total_bytes - s.free_bytes ELSE 0 END AS used_bytes,"
              " s.free_bytes AS available_bytes,"
              " (SELECT coalesce(sum(d.provisioned_size), 0) FROM disks d WHERE d.storage_domain_id = s.id)"
              " AS committed_bytes, s.warning_low_space_pct AS warning_low_space_pct,"
              " s.critical_space_gib AS critical_space_gib, s.created_at AS created_at FROM storage_domains s",
    .id_expr = "s.id", .order = "name, id", .table = "storage_domains",
    .search = sd_search, .nsearch = sizeof(sd_search) / sizeof(sd_search[0]),
    .insert = sd_insert, .update = sd_update, .remove = sd_remove,
};

/* ---- disks ---- */

static const vr_search disk_search[] = {
    {"alias", "lower(alias) LIKE ? ESCAPE '\\'", true, true, false, "alias, * as wildcard"},
    {"status", "status = ?", false, true, false, "the disk's status"},
    {"storage_domain", "storage_domain IN (SELECT id FROM storage_domains WHERE lower(name) LIKE ? ESCAPE '\\')",
     true, true, false, "storage domain name, * as wildcard"},
};

static int disk_insert(vr_engine *e, const char *id, json_t *b, vr_error *err)
{
    char vol[37];
    vr_uuid_new(vol);
    return vr_db_exec(e->db, "INSERT INTO disks (id, volume_id, alias, description, storage_domain_id, format, sparse,"
                      " provisioned_size, interface, bootable, shareable, read_only, wipe_after_delete, status,"
                      " created_at, quota_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?, 'locked', ?, ?)",
                      DB_ARGS(DB_TEXT(id), DB_TEXT(vol), DB_TEXT(str(b, "alias")), DB_TEXT(str(b, "description")),
                              DB_TEXT(str(b, "storage_domain")), DB_TEXT(str(b, "format")), DB_INT(num(b, "sparse")),
                              DB_INT(num(b, "provisioned_size")), DB_TEXT(str(b, "interface")),
                              DB_INT(num(b, "bootable")), DB_INT(num(b, "shareable")), DB_INT(num(b, "read_only")),
                              DB_INT(num(b, "wipe_after_delete")), DB_INT(vr_now()),
                              *str(b, "quota") ? DB_TEXT(str(b, "quota")) : DB_NULL), err) < 0 ? -1 : 0;
}

static int disk_update(vr_engine *e, json_t *row, json_t *b, vr_error *err)
{
    int n = vr_db_exec(e->db, "UPDATE disks SET alias = ?, description = ?, interface = ?, bootable = ?,"
                       " wipe_after_delete = ?, quota_id = ? WHERE id = ?",
                       DB_ARGS(DB_TEXT(str(b, "alias")), DB_TEXT(str(b, "description")), DB_TEXT(str(b, "interface")),
                               DB_INT(num(b, "bootable")), DB_INT(num(b, "wipe_after_delete")),
                               *str(b, "quota") ? DB_TEXT(str(b, "quota")) : DB_NULL, DB_TEXT(str(row, "id"))), err);
    return n < 0 ? -1 : n == 0 ? vr_error_set(err, VR_ERR_BAD_STATE, "the disk was removed meanwhile") : 0;
}

static int disk_remove(vr_engine *e, json_t *row, vr_error *err)
{
    int n = vr_db_exec(e->db, "DELETE FROM disks WHERE id = ? AND status != 'locked'", DB_ARGS(DB_TEXT(str(row, "id"))),
                       err);
    return n < 0 ? -1 : n == 0 ? vr_error_set(err, VR_ERR_CONFLICT, "disk '%s' is busy (locked by a job)",
                                              str(row, "alias")) : 0;
}

const vr_store vr_store_disks = {
    .select = "SELECT id, volume_id, alias, description, storage_domain_id AS storage_domain, format, sparse,"
              " provisioned_size, actual_size, interface, bootable, shareable, read_only, wipe_after_delete, status,"
              " created_at, quota_id AS quota, doubt_domain_id AS doubt_storage_domain FROM disks",
    .id_expr = "id", .order = "alias, id", .table = "disks",
    .search = disk_search, .nsearch = sizeof(disk_search) / sizeof(disk_search[0]),
    .insert = disk_insert, .update = disk_update, .remove = disk_remove,
};

/* ---- shared reads ---- */

json_t *vr_storage_spm_host(vr_engine *e, const char *dc_id, vr_error *err)
{
    return vr_db_query_one(e->db, "SELECT h.id AS id, h.name AS name, h.address AS address, h.port AS port,"
                           " h.status AS status FROM datacenters d JOIN hosts h ON h.id = d.spm_host_id"
                           " WHERE d.id = ?", DB_ARGS(DB_TEXT(dc_id)), err);
}

json_t *vr_storage_disk_users(vr_engine *e, const char *disk_id, vr_error *err)
{
    /* The LIKE narrows the scan; the spec's disks decide. */
    char pattern[80];
    snprintf(pattern, sizeof(pattern), "%%%s%%", disk_id);
    json_t *rows, *out = json_array();
    if (vr_db_query(e->db, "SELECT id, name, status, host_id, spec_json FROM vms WHERE spec_json LIKE ?",
                    DB_ARGS(DB_TEXT(pattern)), &rows, err) < 0) {
        json_decref(out);
        return NULL;
    }
    size_t i, j;
    json_t *vm, *d;
    json_array_foreach(rows, i, vm) {
        bool uses = false;
        json_array_foreach(json_object_get(json_object_get(vm, "spec"), "disks"), j, d)
            uses |= !strcmp(json_string_value(json_object_get(d, "disk")) ?: "", disk_id);
        if (uses) {
            json_object_del(vm, "spec");
            json_array_append(out, vm);
        }
    }
    json_decref(rows);
    return out;
}

json_t *vr_storage_domain_running_users(vr_engine *e, const char *sd_id, vr_error *err)
{
    json_t *disks = NULL, *vms = NULL, *out = NULL, *row, *d;
    size_t i, j;
    if (vr_db_query(e->db, "SELECT id FROM disks WHERE storage_domain_id = ?", DB_ARGS(DB_TEXT(sd_id)), &disks,
                    err) < 0 ||
        vr_db_query(e->db, "SELECT name, spec_json, coalesce(lease_sd_id, '') AS lease FROM vms"
                    " WHERE host_id IS NOT NULL ORDER BY name", DB_NOARGS, &vms, err) < 0)
        goto out;
    json_t *ids = json_object();
    json_array_foreach(disks, i, row) json_object_set_new(ids, str(row, "id"), json_true());
    out = json_array();
    json_array_foreach(vms, i, row) {
        bool uses = !strcmp(str(row, "lease"), sd_id);
        json_array_foreach(json_object_get(json_object_get(row, "spec"), "disks"), j, d)
            uses |= json_object_get(ids, json_string_value(json_object_get(d, "disk")) ?: "") != NULL;
        if (uses)
            json_array_append(out, json_object_get(row, "name"));
    }
    json_decref(ids);
out:
    json_decref(disks);
    json_decref(vms);
    return out;
}

int vr_storage_dc_hosts(vr_engine *e, const char *dc_id, vr_error *err)
{
    json_t *r = vr_db_query_one(e->db, "SELECT count(*) AS n FROM hosts h JOIN clusters c ON c.id = h.cluster_id"
                                " WHERE c.datacenter_id = ?", DB_ARGS(DB_TEXT(dc_id)), err);
    int n = r ? (int)json_integer_value(json_object_get(r, "n")) : -1;
    json_decref(r);
    return n;
}

json_t *vr_storage_conn(json_t *sd)
{
    json_t *c = json_pack("{s:s, s:s}", "type", str(sd, "storage_type"), "spec", str(sd, "storage_spec"));
    if (*str(sd, "vfs_type"))
        json_object_set_new(c, "vfs_type", json_string(str(sd, "vfs_type")));
    if (*str(sd, "mount_options"))
        json_object_set_new(c, "options", json_string(str(sd, "mount_options")));
    if (*str(sd, "nfs_version"))
        json_object_set_new(c, "version", json_string(str(sd, "nfs_version")));
    return c;
}

json_t *vr_storage_disk_get(vr_engine *e, const char *disk_id, vr_error *err)
{
    return vr_db_query_one(e->db, "SELECT d.id AS id, d.volume_id AS volume_id, d.alias AS alias,"
                           " d.description AS description, d.storage_domain_id AS storage_domain,"
                           " d.format AS format, d.sparse AS sparse, d.provisioned_size AS provisioned_size,"
                           " d.shareable AS shareable, d.wipe_after_delete AS wipe_after_delete, d.status AS status,"
                           " s.datacenter_id AS datacenter_id, s.status AS sd_status, s.name AS sd_name, s.free_bytes AS free_bytes,"
                           " s.critical_space_gib AS critical_space_gib, d.doubt_domain_id AS doubt_domain"
                           " FROM disks d JOIN storage_domains s ON s.id = d.storage_domain_id WHERE d.id = ?",
                           DB_ARGS(DB_TEXT(disk_id)), err);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int vr_storage_disks_claim(vr_engine *e, json_t *spec, const char *vm_id, vr_error *err)
{
    const char *ids[VR_MAX_STORAGE];
    size_t n = 0, i;
    json_t *d;
    json_array_foreach(json_object_get(spec, "disks"), i, d) {
        const char *id = json_string_value(json_object_get(d, "disk"));
        if (id && n < VR_MAX_STORAGE)
            ids[n++] = id;
    }
    qsort(ids, n, sizeof(ids[0]), cmp_str); /* one lock order: no deadlock between claimers */
    for (i = 0; i < n; i++) {
        if (i && !strcmp(ids[i], ids[i - 1]))
            continue;
        if (vr_db_exec(e->db, "UPDATE disks SET status = status WHERE id = ?", DB_ARGS(DB_TEXT(ids[i])), err) < 0)
            return -1;
        json_t *row = vr_db_query_one(e->db, "SELECT alias, shareable FROM disks WHERE id = ?",
                                      DB_ARGS(DB_TEXT(ids[i])), err);
        if (!row) { /* a disk the caller's job is about to record (a clone, a VM from a template) */
            if (err->code)
                return -1;
            continue;
        }
        bool shared = json_integer_value(json_object_get(row, "shareable")) != 0;
        json_t *users = shared ? json_array() : vr_storage_disk_users(e, ids[i], err), *u;
        size_t k;
        int rc = users ? 0 : -1;
        json_array_foreach(users, k, u)
            if (rc == 0 && strcmp(json_string_value(json_object_get(u, "id")) ?: "", vm_id ? vm_id : ""))
                rc = vr_error_set(err, VR_ERR_CONFLICT, "disk '%s' is used by VM '%s' and is not shareable",
                                  json_string_value(json_object_get(row, "alias")) ?: ids[i],
                                  json_string_value(json_object_get(u, "name")) ?: "?");
        json_decref(users);
        json_decref(row);
        if (rc < 0)
            return -1;
    }
    return 0;
}
