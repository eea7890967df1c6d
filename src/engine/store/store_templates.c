/* Templates' SQL (store_templates.h). Rows are made and removed by the
 * template jobs (jobs/templjobs.c); the API reads and renames them here. */
#include "store_templates.h"

#include <string.h>

static const vr_search tmpl_search[] = {
    {"name", "lower(name) LIKE ? ESCAPE '\\'", true, true, false, "name, * as wildcard"},
    {"status", "status = ?", false, true, false, "the template's status"},
};

static int tmpl_insert(vr_engine *e, const char *id, json_t *b, vr_error *err)
{
    (void)e, (void)id, (void)b;
    return vr_error_set(err, VR_ERR_INTERNAL, "templates are made by their job (a defect)");
}

static int tmpl_update(vr_engine *e, json_t *row, json_t *b, vr_error *err)
{
    const char *id = json_string_value(json_object_get(row, "id")) ?: "";
    if (!strcmp(id, VR_BLANK_TEMPLATE))
        return vr_error_set(err, VR_ERR_CONFLICT, "the Blank template cannot change");
    int n = vr_db_exec(e->db, "UPDATE templates SET description = ? WHERE id = ?",
                       DB_ARGS(DB_TEXT(json_string_value(json_object_get(b, "description")) ?: ""), DB_TEXT(id)),
                       err);
    return n < 0 ? -1 : n == 0 ? vr_error_set(err, VR_ERR_BAD_STATE, "the template was removed meanwhile") : 0;
}

static int tmpl_remove(vr_engine *e, json_t *row, vr_error *err)
{
    (void)e, (void)row;
    return vr_error_set(err, VR_ERR_INTERNAL, "templates are removed by their job (a defect)");
}

const vr_store vr_store_templates = {
    .select = "SELECT t.id AS id, t.name AS name, t.description AS description, t.cluster_id AS cluster_id,"
              " t.memory_mib AS memory_mib, t.vcpus AS vcpus, t.spec_json AS spec_json,"
              " t.base_template_id AS base_template_id, t.version_number AS version_number,"
              " t.version_name AS version_name, t.status AS status, t.created_at AS created_at FROM templates t",
    .id_expr = "t.id", .order = "name, version_number, id", .table = "templates",
    .search = tmpl_search, .nsearch = sizeof(tmpl_search) / sizeof(tmpl_search[0]),
    .insert = tmpl_insert, .update = tmpl_update, .remove = tmpl_remove,
};
