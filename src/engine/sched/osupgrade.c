/* The InClusterUpgrade filter and weight (see osupgrade.h). */
#include "osupgrade.h"

#include "placement.h"
#include "policy.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int vr_os_major(const char *version)
{
    if (!version || !isdigit((unsigned char)*version))
        return -1;
    long v = strtol(version, NULL, 10);
    return v > 1000000 ? -1 : (int)v;
}

static bool known(const char *id, const char *version)
{
    return id && *id && strcmp(id, "unknown") && vr_os_major(version) >= 0;
}

vr_upgrade_verdict vr_upgrade_judge(const char *src_id, const char *src_version, const char *dst_id,
                                    const char *dst_version, bool *newer)
{
    if (newer)
        *newer = false;
    if (!known(dst_id, dst_version))
        return VR_UPGRADE_UNKNOWN;
    if (!known(src_id, src_version))
        return VR_UPGRADE_OK;
    if (strcmp(src_id, dst_id))
        return VR_UPGRADE_OTHER;
    int s = vr_os_major(src_version), d = vr_os_major(dst_version);
    if (d < s)
        return VR_UPGRADE_OLDER;
    if (newer)
        *newer = d > s;
    return VR_UPGRADE_OK;
}

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

/* "debian 12" (what a reason names), or "unknown". */
static void os_name(json_t *os, char *buf, size_t len)
{
    if (!known(str(os, "id"), str(os, "version")))
        snprintf(buf, len, "%s", *str(os, "id") && strcmp(str(os, "id"), "unknown") ? str(os, "id") : "unknown");
    else
        snprintf(buf, len, "%s %s", str(os, "id"), str(os, "version"));
}

int vr_upgrade_filter(vr_engine *e, json_t *cluster, const char *source_id, vr_sched_host *hosts, size_t n,
                      vr_error *err)
{
    if (!source_id || !*source_id)
        return 0; /* a start: any host */
    vr_sched_policy p;
    vr_policy_parse(json_object_get(cluster, "scheduling"), &p);
    if (p.name != VR_POLICY_UPGRADE)
        return 0;
    /* The candidates are the view's hosts of the cluster, and the source. */
    json_t *rows = NULL;
    if (vr_db_query(e->db, "SELECT id, capabilities_json FROM hosts WHERE cluster_id = (SELECT cluster_id FROM hosts"
                    " WHERE id = ?) OR id = ?", DB_ARGS(DB_TEXT(source_id), DB_TEXT(source_id)), &rows, err) < 0)
        return -1;
    json_t *src = NULL, *r;
    size_t i;
    json_array_foreach(rows, i, r)
        if (!strcmp(str(r, "id"), source_id))
            src = json_object_get(json_object_get(r, "capabilities"), "os");
    char src_name[48];
    os_name(src, src_name, sizeof(src_name));
    json_array_foreach(rows, i, r) {
        json_t *os = json_object_get(json_object_get(r, "capabilities"), "os");
        for (size_t k = 0; k < n; k++) {
            vr_sched_host *h = &hosts[k];
            if (strcmp(h->id, str(r, "id")) || strcmp(h->status, "up"))
                continue;
            bool newer;
            vr_upgrade_verdict v = vr_upgrade_judge(str(src, "id"), str(src, "version"), str(os, "id"),
                                                    str(os, "version"), &newer);
            os_name(os, h->os, sizeof(h->os));
            snprintf(h->os_source, sizeof(h->os_source), "%s", src_name);
            static const char *const marks[] = {[VR_UPGRADE_UNKNOWN] = "osunknown", [VR_UPGRADE_OTHER] = "osother",
                                                [VR_UPGRADE_OLDER] = "osolder"};
            if (v != VR_UPGRADE_OK)
                snprintf(h->status, sizeof(h->status), "%s", marks[v]);
            /* a newer OS first: the VM will not come back to the old one */
            h->upgrade_penalty = v == VR_UPGRADE_OK && !newer && known(str(src, "id"), str(src, "version"));
        }
    }
    json_decref(rows);
    return 0;
}

/* Append "what" to the list in buf (at most a few: the message stays short). */
static void add(char *buf, size_t len, size_t *n, const char *what)
{
    if (++*n > 4) {
        if (*n == 5 && strlen(buf) + 6 < len)
            strcat(buf, ", ...");
        return;
    }
    size_t o = strlen(buf);
    snprintf(buf + o, len - o, "%s%s", o ? ", " : "", what);
}

int vr_upgrade_preconditions(vr_engine *e, const char *cluster_id, vr_error *err)
{
    json_t *hosts = NULL, *vms = NULL;
    if (vr_db_query(e->db, "SELECT name, capabilities_json FROM hosts WHERE cluster_id = ? ORDER BY name",
                    DB_ARGS(DB_TEXT(cluster_id)), &hosts, err) < 0 ||
        vr_db_query(e->db, "SELECT name, status, placement_json FROM vms WHERE cluster_id = ? AND status != 'down'"
                    " ORDER BY name", DB_ARGS(DB_TEXT(cluster_id)), &vms, err) < 0) {
        json_decref(hosts);
        return -1;
    }
    char in_way[600] = "", one[200];
    size_t n = 0, i;
    json_t *r;
    json_array_foreach(hosts, i, r) {
        json_t *os = json_object_get(json_object_get(r, "capabilities"), "os");
        if (!known(str(os, "id"), str(os, "version"))) {
            snprintf(one, sizeof(one), "host '%s' (OS version not known)", str(r, "name"));
            add(in_way, sizeof(in_way), &n, one);
        }
    }
    json_array_foreach(vms, i, r) {
        vr_place_affinity a = vr_placement_affinity(json_object_get(r, "placement"));
        if (a != VR_PLACE_MIGRATABLE) {
            snprintf(one, sizeof(one), "VM '%s' (%s)", str(r, "name"), vr_place_affinity_names[a]);
            add(in_way, sizeof(in_way), &n, one);
        } else if (!strcmp(str(r, "status"), "suspended")) {
            snprintf(one, sizeof(one), "VM '%s' (suspended)", str(r, "name"));
            add(in_way, sizeof(in_way), &n, one);
        }
    }
    json_decref(hosts);
    json_decref(vms);
    if (!n)
        return 0;
    return vr_error_set(err, VR_ERR_BAD_STATE, "the in_cluster_upgrade policy needs every host's OS version known"
                        " and every running VM free to migrate: %s", in_way);
}
