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

/* 1 when the query (one bound text) finds a row, 0 when not, -1 when the
 * database cannot tell. */
static int found(vr_engine *e, const char *sql, const char *arg)
{
    vr_error err = {0};
    json_t *row = vr_db_query_one(e->db, sql, DB_ARGS(DB_TEXT(arg)), &err);
    json_decref(row);
    return err.code ? -1 : row != NULL;
}

#define JOB_MENTIONS "SELECT id FROM jobs WHERE status IN ('pending', 'running') AND params_json LIKE '%' || ? || '%'"

/* Does anything the engine keeps name volume v of a known image: a disk
 * (its leaf), a snapshot, a stateless VM's layers, or a volume built on
 * it (others: the domain's whole listing)? 1 yes, 0 no, -1 cannot tell. */
static int layer_named(vr_engine *e, json_t *v, json_t *others)
{
    const char *vol = str(v, "volume");
    size_t i;
    json_t *o;
    json_array_foreach(others, i, o) {
        if (!strcmp(str(o, "parent"), vol) && !strcmp(str(o, "image"), str(v, "image")))
            return 1;
    }
    static const char *const sql[] = {
        "SELECT id FROM disks WHERE volume_id = ?",
        "SELECT id FROM snapshots WHERE volumes_json LIKE '%' || ? || '%'",
        "SELECT id FROM vms WHERE stateless_json LIKE '%' || ? || '%'",
        JOB_MENTIONS,
    };
    for (size_t k = 0; k < sizeof(sql) / sizeof(sql[0]); k++) {
        int rc = found(e, sql[k], vol);
        if (rc)
            return rc;
    }
    return 0;
}

/* Is volume v (of a Volume.list answer, all: the whole list) a leftover?
 * *layer tells whether its image is one the engine knows. */
static bool leftover(vr_engine *e, json_t *v, json_t *all, long long now, bool *layer)
{
    if (strcmp(str(v, "legality"), "ILLEGAL") || !json_is_integer(json_object_get(v, "ctime")))
        return false; /* LEGAL, or metadata unreadable: not ours to judge */
    if (now - json_integer_value(json_object_get(v, "ctime")) < e->orphan_grace_s)
        return false;
    const char *image = str(v, "image");
    if (found(e, JOB_MENTIONS, image) != 0)
        return false; /* a job works on the image (or the database is away) */
    int disk = found(e, "SELECT id FROM disks WHERE id = ?", image);
    *layer = disk == 1;
    /* an unknown image's volume, or a layer of a known one nobody names
     * (a snapshot layer whose SPM died before the engine recorded it) */
    return disk == 0 || (disk == 1 && layer_named(e, v, all) == 0);
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
    json_t *all = json_object_get(res, "volumes");
    json_array_foreach(all, i, v) {
        bool layer = false;
        if (!leftover(e, v, all, now, &layer))
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
                     " ago by an operation that did not finish; %s)", str(sd, "name"),
                     str(v, "image"), str(v, "volume"), now - json_integer_value(json_object_get(v, "ctime")),
                     layer ? "a layer of a known disk that no disk, snapshot or job names" : "no disk names it");
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
    /* again once a grace period (at least a minute) has passed: what was
     * too young at the last sweep is old enough now */
    json_t *last = json_object_get(swept, str(dc, "id"));
    long long period = e->orphan_grace_s > 60 ? e->orphan_grace_s : 60;
    if (!strcmp(str(last, "key"), key) && vr_now() - json_integer_value(json_object_get(last, "at")) < period)
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
    json_object_set_new(swept, str(dc, "id"), json_pack("{s:s, s:I}", "key", key, "at", (json_int_t)vr_now()));
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
