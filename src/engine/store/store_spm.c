/* SQL of storage monitoring and SPM election (see store_spm.h). */
#include <stdio.h>
#include <string.h>

#include "store_spm.h"

#define MAX_HOST_ID 250 /* sanlock's limit with 512-byte sectors and 1 MiB align is 2000;
                           VDSM and we keep to 250 (docs/storage.md) */

int vr_store_host_dc(vr_db *db, const char *host_id, char dc[37])
{
    json_t *r = vr_db_query_one(db, "SELECT c.datacenter_id AS dc FROM hosts h JOIN clusters c"
                                " ON c.id = h.cluster_id WHERE h.id = ?",
                                DB_ARGS(DB_TEXT(host_id)), NULL);
    const char *s = r ? json_string_value(json_object_get(r, "dc")) : NULL;
    int rc = s ? 0 : -1;
    if (s)
        snprintf(dc, 37, "%s", s);
    json_decref(r);
    return rc;
}

json_t *vr_store_dc_domains_to_connect(vr_db *db, const char *dc)
{
    json_t *rows = NULL;
    /* locked = being attached, unless its detach job locked it: hosts must
     * then let go of it, not join it again */
    if (vr_db_query(db, "SELECT id, name, status, master, storage_type, storage_spec, vfs_type,"
                    " mount_options, nfs_version FROM storage_domains d WHERE datacenter_id = ?"
                    " AND status IN ('locked', 'active', 'inactive') AND NOT EXISTS (SELECT 1 FROM jobs j"
                    " WHERE j.object_id = d.id AND j.action = 'detach' AND j.status IN ('pending', 'running'))"
                    " ORDER BY master DESC, id",
                    DB_ARGS(DB_TEXT(dc)), &rows, NULL) < 0)
        return NULL;
    return rows;
}

json_t *vr_store_dc_domains_attached(vr_db *db, const char *dc)
{
    json_t *rows = NULL;
    if (vr_db_query(db, "SELECT id, name, status, master, storage_type, storage_spec, vfs_type, mount_options,"
                    " nfs_version, CASE WHEN EXISTS (SELECT 1 FROM jobs j WHERE j.object_id = d.id AND j.action = 'detach'"
                    " AND j.status IN ('pending', 'running')) THEN 1 ELSE 0 END AS detaching FROM storage_domains d"
                    " WHERE datacenter_id = ? ORDER BY master DESC, id", DB_ARGS(DB_TEXT(dc)), &rows, NULL) < 0)
        return NULL;
    return rows;
}

int vr_store_host_spm_id(vr_db *db, const char *dc, const char *host_id, int *spm_id,
                         vr_error *err)
{
    for (int attempt = 0; attempt < 5; attempt++) {
        json_t *r = vr_db_query_one(db, "SELECT spm_id FROM host_storage_ids WHERE datacenter_id = ?"
                                    " AND host_id = ?", DB_ARGS(DB_TEXT(dc), DB_TEXT(host_id)), err);
        if (r) {
            *spm_id = (int)json_integer_value(json_object_get(r, "spm_id"));
            json_decref(r);
            return 0;
        }
        if (err && err->code)
            return -1;
        /* the lowest id nobody in this data center holds */
        json_t *rows = NULL;
        if (vr_db_query(db, "SELECT spm_id FROM host_storage_ids WHERE datacenter_id = ? ORDER BY spm_id",
                        DB_ARGS(DB_TEXT(dc)), &rows, err) < 0)
            return -1;
        int want = 1;
        size_t i;
        json_t *row;
        json_array_foreach(rows, i, row) {
            if (json_integer_value(json_object_get(row, "spm_id")) == want)
                want++;
        }
        json_decref(rows);
        if (want > MAX_HOST_ID)
            return vr_error_set(err, VR_ERR_LIMIT, "data center %s has no free host id (at most %d hosts)",
                                dc, MAX_HOST_ID);
        vr_error e2 = {0};
        if (vr_db_exec(db, "INSERT INTO host_storage_ids (datacenter_id, host_id, spm_id) VALUES (?, ?, ?)",
                       DB_ARGS(DB_TEXT(dc), DB_TEXT(host_id), DB_INT(want)), &e2) >= 0) {
            *spm_id = want;
            return 0;
        }
        if (e2.code != VR_ERR_CONFLICT) { /* a racing monitor took that id: try again */
            if (err)
                *err = e2;
            return -1;
        }
    }
    return vr_error_set(err, VR_ERR_CONFLICT, "cannot assign a host id in data center %s", dc);
}

int vr_store_host_domain_seen(vr_db *db, const char *host_id, const char *domain_id, bool valid,
                              double delay_ms, long long total, long long free_b, const char *error,
                              long long now)
{
    return vr_db_exec(db, "INSERT INTO host_domain_status (host_id, domain_id, valid, delay_ms, total_bytes,"
                      " free_bytes, error, checked_at, invalid_since) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                      " ON CONFLICT (host_id, domain_id) DO UPDATE SET valid = excluded.valid,"
                      " delay_ms = excluded.delay_ms, total_bytes = excluded.total_bytes,"
                      " free_bytes = excluded.free_bytes, error = excluded.error,"
                      " checked_at = excluded.checked_at, invalid_since = CASE"
                      " WHEN excluded.valid = 1 THEN 0"
                      " WHEN host_domain_status.invalid_since = 0 THEN excluded.checked_at"
                      " ELSE host_domain_status.invalid_since END",
                      DB_ARGS(DB_TEXT(host_id), DB_TEXT(domain_id), DB_INT(valid ? 1 : 0),
                              DB_REAL(delay_ms), DB_INT(total), DB_INT(free_b), DB_TEXT(error ?: ""),
                              DB_INT(now), DB_INT(valid ? 0 : now)),
                      NULL) < 0 ? -1 : 0;
}

long long vr_store_host_blind_for(vr_db *db, const char *host_id, const char *domain_id,
                                  long long now, long long fresh_since, char *error, size_t len)
{
    json_t *r = vr_db_query_one(
        db, "SELECT s.invalid_since AS since, s.error, (SELECT count(*) FROM host_domain_status o JOIN hosts h"
        " ON h.id = o.host_id WHERE o.domain_id = s.domain_id AND o.host_id != s.host_id"
        " AND o.valid = 1 AND o.checked_at >= ? AND h.status = 'up') AS others"
        " FROM host_domain_status s WHERE s.host_id = ? AND s.domain_id = ?",
        DB_ARGS(DB_INT(fresh_since), DB_TEXT(host_id), DB_TEXT(domain_id)), NULL);
    long long since = r ? json_integer_value(json_object_get(r, "since")) : 0;
    long long others = r ? json_integer_value(json_object_get(r, "others")) : 0;
    snprintf(error, len, "%s", r ? json_string_value(json_object_get(r, "error")) ?: "" : "");
    json_decref(r);
    return since && others ? now - since : 0;
}

json_t *vr_store_dcs_with_master(vr_db *db)
{
    json_t *rows = NULL;
    if (vr_db_query(db, "SELECT id, name, master_domain_id, spm_host_id, spm_id, spm_lver, storage_status,"
                    " master_version FROM datacenters WHERE master_domain_id IS NOT NULL ORDER BY id",
                    DB_NOARGS, &rows, NULL) < 0)
        return NULL;
    return rows;
}

json_t *vr_store_dcs_without_master(vr_db *db)
{
    json_t *rows = NULL;
    if (vr_db_query(db, "SELECT id, name, master_domain_id, spm_host_id, spm_id, spm_lver, storage_status"
                    " FROM datacenters WHERE master_domain_id IS NULL AND spm_host_id IS NOT NULL ORDER BY id",
                    DB_NOARGS, &rows, NULL) < 0)
        return NULL;
    return rows;
}

json_t *vr_store_spm_candidates(vr_db *db, const char *dc)
{
    json_t *rows = NULL;
    if (vr_db_query(db, "SELECT h.id, h.name, h.address, h.port, h.spm_priority, i.spm_id FROM hosts h"
                    " JOIN clusters c ON c.id = h.cluster_id LEFT JOIN host_storage_ids i"
                    " ON i.host_id = h.id AND i.datacenter_id = c.datacenter_id"
                    " WHERE c.datacenter_id = ? AND h.status = 'up' AND h.spm_priority >= 0"
                    " ORDER BY h.spm_priority DESC, random()",
                    DB_ARGS(DB_TEXT(dc)), &rows, NULL) < 0)
        return NULL;
    return rows;
}

int vr_store_dc_set_spm(vr_db *db, const char *dc, const char *host_id, long long spm_id,
                        long long lver, const char *storage_status)
{
    return vr_db_exec(db, "UPDATE datacenters SET spm_host_id = ?, spm_id = ?, spm_lver = ?,"
                      " storage_status = ? WHERE id = ?",
                      DB_ARGS(host_id ? DB_TEXT(host_id) : DB_NULL, DB_INT(spm_id), DB_INT(lver),
                              DB_TEXT(storage_status), DB_TEXT(dc)),
                      NULL) < 0 ? -1 : 0;
}

json_t *vr_store_host_brief(vr_db *db, const char *host_id)
{
    return vr_db_query_one(db, "SELECT id, name, address, port, status FROM hosts WHERE id = ?",
                           DB_ARGS(DB_TEXT(host_id)), NULL);
}

json_t *vr_store_dc_domain_views(vr_db *db, const char *dc, long long fresh_since)
{
    json_t *rows = NULL;
    if (vr_db_query(
            db, "SELECT d.id, d.name, d.status, d.inactive_since, d.total_bytes, d.free_bytes,"
            " d.warning_low_space_pct, d.critical_space_gib,"
            " (SELECT count(*) FROM host_domain_status s JOIN hosts h ON h.id = s.host_id"
            "   WHERE s.domain_id = d.id AND s.valid = 1 AND s.checked_at >= ? AND h.status = 'up') AS seen,"
            " (SELECT count(*) FROM hosts h JOIN clusters c ON c.id = h.cluster_id"
            "   WHERE c.datacenter_id = d.datacenter_id AND h.status = 'up') AS up_hosts,"
            " (SELECT s.total_bytes FROM host_domain_status s WHERE s.domain_id = d.id AND s.valid = 1"
            "   ORDER BY s.checked_at DESC LIMIT 1) AS r_total,"
            " (SELECT s.free_bytes FROM host_domain_status s WHERE s.domain_id = d.id AND s.valid = 1"
            "   ORDER BY s.checked_at DESC LIMIT 1) AS r_free,"
            " (SELECT coalesce(sum(k.provisioned_size), 0) FROM disks k WHERE k.storage_domain_id = d.id)"
            "   AS committed"
            " FROM storage_domains d WHERE d.datacenter_id = ? AND d.status IN ('active', 'inactive')"
            " ORDER BY d.id",
            DB_ARGS(DB_INT(fresh_since), DB_TEXT(dc)), &rows, NULL) < 0)
        return NULL;
    return rows;
}

int vr_store_sd_update_view(vr_db *db, const char *id, const char *from, const char *to,
                            long long inactive_since, long long total, long long free_b,
                            long long committed)
{
    return vr_db_exec(db, "UPDATE storage_domains SET status = ?, inactive_since = ?, total_bytes = ?,"
                      " free_bytes = ?, committed_bytes = ? WHERE id = ? AND status = ?",
                      DB_ARGS(DB_TEXT(to), DB_INT(inactive_since), DB_INT(total), DB_INT(free_b),
                              DB_INT(committed), DB_TEXT(id), DB_TEXT(from)),
                      NULL);
}

int vr_store_dc_raise_master_version(vr_db *db, const char *dc, long long version)
{
    return vr_db_exec(db, "UPDATE datacenters SET master_version = ? WHERE id = ? AND master_version < ?",
                      DB_ARGS(DB_INT(version), DB_TEXT(dc), DB_INT(version)), NULL) < 0 ? -1 : 0;
}
