/* Leftover volumes swept by a new SPM (see orphans.h). */
#include <stdio.h>
#include <string.h>

#include "agentcall.h"
#include "log.h"
#include "orphans.h"
#include "store_spm.h"
#include "vmlease.h"

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

/* Does the engine know image (a disk row, or an unfinished job naming it)? */
static int known(vr_engine *e, const char *image)
{
    vr_error err = {0};
    json_t *row = vr_db_query_one(e->db, "SELECT id FROM disks WHERE id = ?", DB_ARGS(DB_TEXT(image)), &err);
    if (!row && !err.code)
        row = vr_db_query_one(e->db, "SELECT id FROM jobs WHERE status IN ('pending', 'running') AND"
                              " params_json LIKE '%' || ? || '%'", DB_ARGS(DB_TEXT(image)), &err);
    json_decref(row);
    return err.code ? -1 : row != NULL;
}

static bool leftover(vr_engine *e, json_t *v, long long now)
{
    if (strcmp(str(v, "legality"), "ILLEGAL") || !json_is_integer(json_object_get(v, "ctime")))
        return false; /* LEGAL, or metadata unreadable: not ours to judge */
    if (now - json_integer_value(json_object_get(v, "ctime")) < e->orphan_grace_s)
        return false;
    return known(e, str(v, "image")) == 0;
}

/* Sweep one domain through the SPM host; returns how many were removed. */
static int sweep_domain(vr_engine *e, json_t *spm, json_t *sd)
{
    json_t *res = NULL;
    vr_error err = {0};
    if (vr_agent_call_host(e, spm, "Volume.list", json_pack("{s:s}", "domain", str(sd, "id")), &res, &err) < 0) {
        VR_WARN("leftover sweep of storage domain %s skipped: %s", str(sd, "name"), err.message);
        return 0;
    }
    int removed = 0;
    long long now = vr_now();
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(res, "volumes"), i, v) {
        if (!leftover(e, v, now))
            continue;
        json_t *r = NULL;
        vr_error derr = {0};
        if (vr_agent_call_host(e, spm, "Volume.delete",
                               json_pack("{s:s, s:s, s:s}", "domain", str(sd, "id"), "image", str(v, "image"),
                                         "volume", str(v, "volume")), &r, &derr) < 0) {
            VR_WARN("leftover volume %s of image %s on storage domain %s stays: %s", str(v, "volume"),
                    str(v, "image"), str(sd, "name"), derr.message);
        } else {
            removed++;
            vr_event(e, "normal", "", "storagedomain", str(sd, "id"),
                     "removed a leftover volume from storage domain '%s': image %s volume %s (ILLEGAL, made %lld s"
                     " ago by an operation that did not finish; no disk names it)", str(sd, "name"),
                     str(v, "image"), str(v, "volume"), now - json_integer_value(json_object_get(v, "ctime")));
        }
        json_decref(r);
    }
    json_decref(res);
    return removed;
}

void vr_orphans_round(vr_engine *e, json_t *dc, json_t *swept)
{
    if (strcmp(str(dc, "storage_status"), "up") || !json_is_string(json_object_get(dc, "spm_host_id")))
        return;
    char key[96];
    snprintf(key, sizeof(key), "%.40s:%lld", str(dc, "spm_host_id"),
             (long long)json_integer_value(json_object_get(dc, "spm_lver")));
    if (!strcmp(str(swept, str(dc, "id")), key))
        return;
    json_t *spm = vr_store_host_brief(e->db, str(dc, "spm_host_id"));
    json_t *sds = NULL;
    vr_error err = {0};
    if (!spm || vr_db_query(e->db, "SELECT id, name FROM storage_domains WHERE datacenter_id = ? AND"
                            " status = 'active' ORDER BY name", DB_ARGS(DB_TEXT(str(dc, "id"))), &sds, &err) < 0) {
        json_decref(spm);
        return; /* next round */
    }
    size_t i;
    json_t *sd;
    int removed = 0;
    json_array_foreach(sds, i, sd) removed += sweep_domain(e, spm, sd);
    VR_INFO("data center %s: leftover sweep by SPM %s removed %d volume(s)", str(dc, "name"), str(spm, "name"),
            removed);
    json_object_set_new(swept, str(dc, "id"), json_string(key));
    json_decref(sds);
    json_decref(spm);
}

void vr_orphans_leases_round(vr_engine *e, json_t *dc)
{
    if (strcmp(str(dc, "storage_status"), "up") || !json_is_string(json_object_get(dc, "spm_host_id"))) {
        vr_vm_leases_dirty(); /* no SPM now: the next round */
        return;
    }
    json_t *spm = vr_store_host_brief(e->db, str(dc, "spm_host_id"));
    json_t *sds = NULL;
    vr_error err = {0};
    if (!spm || vr_db_query(e->db, "SELECT id, name FROM storage_domains WHERE datacenter_id = ? AND"
                            " status = 'active' AND sd_type = 'data' ORDER BY name", DB_ARGS(DB_TEXT(str(dc, "id"))),
                            &sds, &err) < 0) {
        vr_vm_leases_dirty();
        json_decref(spm);
        return;
    }
    size_t i;
    json_t *sd;
    json_array_foreach(sds, i, sd) vr_vm_leases_sweep(e, spm, str(sd, "id"), str(sd, "name"));
    json_decref(sds);
    json_decref(spm);
}
