/* Hosts: their SQL as the API reads and writes them (the monitors keep
 * the status and numbers columns: monitor/hostmon.c). */
#include <stdlib.h>

#include "revoke.h"
#include "store.h"

static const char *str(json_t *b, const char *k)
{
    return json_string_value(json_object_get(b, k)) ?: "";
}

static const vr_search host_search[] = {
    {"name", "lower(name) LIKE ? ESCAPE '\\'", true, true, false, "name, * as wildcard"},
    {"status", "status = ?", false, true, false, "the host's status"},
    {"cluster", "cluster_id IN (SELECT id FROM clusters WHERE lower(name) LIKE ? ESCAPE '\\')", true, true,
     false, "cluster name, * as wildcard"},
};

static int host_insert(vr_engine *e, const char *id, json_t *b, vr_error *err)
{
    char *pm = json_dumps(json_object_get(b, "power_management"), JSON_COMPACT);
    /* ssh: the stored form only (deploy/deployjob.h), never a password;
     * with auth when the engine installs the host. */
    json_t *sj = json_object_get(b, "ssh");
    char *ssh = json_is_object(sj) ? json_dumps(sj, JSON_COMPACT) : NULL;
    int rc = vr_db_exec(e->db, "INSERT INTO hosts (id, name, description, cluster_id, address, port,"
                        " status, status_detail, spm_priority, created_at, pm_json, ssh_json)"
                        " VALUES (?,?,?,?,?,?, 'installing', ?, ?, ?, ?, ?)",
                        DB_ARGS(DB_TEXT(id), DB_TEXT(str(b, "name")), DB_TEXT(str(b, "description")),
                                DB_TEXT(str(b, "cluster_id")), DB_TEXT(str(b, "address")),
                                DB_INT(json_integer_value(json_object_get(b, "port"))),
                                DB_TEXT(json_object_get(sj, "auth") ? "installing over SSH" : ""),
                                DB_INT(json_integer_value(json_object_get(b, "spm_priority"))), DB_INT(vr_now()),
                                pm ? DB_TEXT(pm) : DB_NULL, ssh ? DB_TEXT(ssh) : DB_NULL), err) < 0 ? -1 : 0;
    free(pm);
    free(ssh);
    return rc;
}

static int host_update(vr_engine *e, json_t *row, json_t *b, vr_error *err)
{
    char *pm = json_dumps(json_object_get(b, "power_management"), JSON_COMPACT);
    char *ssh = json_dumps(json_object_get(b, "ssh"), JSON_COMPACT);
    int n = vr_db_exec(e->db, "UPDATE hosts SET name = ?, description = ?, spm_priority = ?, pm_json = ?,"
                       " ssh_json = ? WHERE id = ?",
                       DB_ARGS(DB_TEXT(str(b, "name")), DB_TEXT(str(b, "description")),
                               DB_INT(json_integer_value(json_object_get(b, "spm_priority"))),
                               pm ? DB_TEXT(pm) : DB_NULL, ssh ? DB_TEXT(ssh) : DB_NULL, DB_TEXT(str(row, "id"))),
                       err);
    free(pm);
    free(ssh);
    return n < 0 ? -1 : n == 0 ? vr_error_set(err, VR_ERR_BAD_STATE, "the host was removed meanwhile") : 0;
}

/* Only a host still in maintenance (or installfailed) goes: a racing
 * activation or reinstall wins. */
static int host_remove(vr_engine *e, json_t *row, vr_error *err)
{
    json_t *cert = vr_db_query_one(e->db, "SELECT cert_serial FROM hosts WHERE id = ?",
                                   DB_ARGS(DB_TEXT(str(row, "id"))), err);
    if (!cert && err && err->code)
        return -1;
    int n = vr_db_exec(e->db, "DELETE FROM hosts WHERE id = ? AND status IN ('maintenance', 'installfailed')",
                       DB_ARGS(DB_TEXT(str(row, "id"))), err);
    /* Its certificate goes with it (docs/pki.md "Revocation"). */
    if (n > 0 && vr_cert_revoke(e, str(cert, "cert_serial"), str(row, "name"), "host removed", err) < 0)
        n = -1;
    json_decref(cert);
    return n < 0 ? -1 : n == 0 ? vr_error_set(err, VR_ERR_CONFLICT, "host '%s' changed meanwhile (no longer in"
                                              " maintenance or installfailed)", str(row, "name")) : 0;
}

const vr_store vr_store_hosts = {
    .select = "SELECT id, name, description, cluster_id, address, port, status, status_detail, last_seen,"
              " spm_priority, CASE WHEN EXISTS (SELECT 1 FROM datacenters d WHERE d.spm_host_id = hosts.id)"
              " THEN 'spm' ELSE 'none' END AS spm,"
              " capabilities_json, stats_json, created_at, pm_json AS power_management_json, ssh_json,"
              " status_detail_id, status_detail_args FROM hosts",
    .id_expr = "id", .order = "name, id", .table = "hosts",
    .search = host_search, .nsearch = sizeof(host_search) / sizeof(host_search[0]),
    .insert = host_insert, .update = host_update, .remove = host_remove,
};
