#include "hareserve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_memory_desc(const void *a, const void *b)
{
    const vr_ha_vm *x = *(const vr_ha_vm *const *)a, *y = *(const vr_ha_vm *const *)b;
    return x->memory_mib < y->memory_mib ? 1 : x->memory_mib > y->memory_mib ? -1 : strcmp(x->name, y->name);
}

/* Place the HA VMs of host lost on the others; the names of those left
 * without a host go to left (empty when all fit). */
static void absorb(const vr_ha_host *hosts, size_t nhosts, const vr_ha_vm *vms, size_t nvms, size_t lost,
                   long long *free_mib, const vr_ha_vm **order, char *left, size_t len)
{
    size_t n = 0, o = 0;
    for (size_t i = 0; i < nvms; i++)
        if (vms[i].host == lost)
            order[n++] = &vms[i];
    qsort(order, n, sizeof(*order), by_memory_desc);
    for (size_t h = 0; h < nhosts; h++)
        free_mib[h] = hosts[h].free_mib;
    left[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        long best = -1;
        for (size_t h = 0; h < nhosts; h++)
            if (h != lost && hosts[h].up && free_mib[h] >= order[i]->memory_mib &&
                order[i]->vcpus <= hosts[h].max_vcpus && (best < 0 || free_mib[h] > free_mib[best]))
                best = (long)h;
        if (best >= 0)
            free_mib[best] -= order[i]->memory_mib;
        else if (o < len)
            o += (size_t)snprintf(left + o, len - o, "%s'%s' (%lld MiB)", o ? ", " : "", order[i]->name,
                                  order[i]->memory_mib);
    }
}

bool vr_ha_reserve_check(const vr_ha_host *hosts, size_t nhosts, const vr_ha_vm *vms, size_t nvms, char *detail,
                         size_t len)
{
    long long *free_mib = calloc(nhosts + 1, sizeof(*free_mib));
    const vr_ha_vm **order = calloc(nvms + 1, sizeof(*order));
    char left[512];
    size_t checked = 0;
    bool ok = true;
    if (!free_mib || !order) {
        snprintf(detail, len, "out of memory");
        ok = false;
    }
    for (size_t lost = 0; ok && lost < nhosts; lost++) {
        if (!hosts[lost].up)
            continue;
        checked++;
        absorb(hosts, nhosts, vms, nvms, lost, free_mib, order, left, sizeof(left));
        if (left[0]) {
            snprintf(detail, len, "if host '%s' failed, its highly available VM(s) %s could not restart on the"
                     " other up hosts (not enough free memory or vCPUs)", hosts[lost].name, left);
            ok = false;
        }
    }
    if (ok)
        snprintf(detail, len, "%zu highly available VM(s) could restart elsewhere if any one of the %zu up host(s)"
                 " failed", nvms, checked);
    free(free_mib);
    free(order);
    return ok;
}

json_t *vr_ha_reserve_eval(vr_engine *e, const char *cluster_id)
{
    json_t *hrows = NULL, *vrows = NULL, *out = NULL;
    if (vr_db_query(e->db, "SELECT id, name, status, mem_total_mib, committed_mib, max_vcpus FROM hosts"
                    " WHERE cluster_id = ? ORDER BY name, id", DB_ARGS(DB_TEXT(cluster_id)), &hrows, NULL) < 0 ||
        vr_db_query(e->db, "SELECT name, host_id, memory_mib, vcpus FROM vms WHERE cluster_id = ? AND ha_enabled = 1"
                    " AND status != 'down' AND host_id IS NOT NULL ORDER BY name", DB_ARGS(DB_TEXT(cluster_id)),
                    &vrows, NULL) < 0)
        goto out;
    size_t nh = json_array_size(hrows), nv = 0;
    vr_ha_host *hosts = calloc(nh + 1, sizeof(*hosts));
    vr_ha_vm *vms = calloc(json_array_size(vrows) + 1, sizeof(*vms));
    if (hosts && vms) {
        for (size_t i = 0; i < nh; i++) {
            json_t *h = json_array_get(hrows, i);
            hosts[i] = (vr_ha_host){.name = json_string_value(json_object_get(h, "name")),
                                    .up = !strcmp(json_string_value(json_object_get(h, "status")) ?: "", "up"),
                                    .free_mib = json_integer_value(json_object_get(h, "mem_total_mib")) -
                                                json_integer_value(json_object_get(h, "committed_mib")),
                                    .max_vcpus = json_integer_value(json_object_get(h, "max_vcpus"))};
        }
        size_t i;
        json_t *v;
        json_array_foreach(vrows, i, v) {
            const char *hid = json_string_value(json_object_get(v, "host_id"));
            for (size_t h = 0; h < nh; h++)
                if (!strcmp(hid, json_string_value(json_object_get(json_array_get(hrows, h), "id"))))
                    vms[nv++] = (vr_ha_vm){.name = json_string_value(json_object_get(v, "name")), .host = h,
                                           .memory_mib = json_integer_value(json_object_get(v, "memory_mib")),
                                           .vcpus = json_integer_value(json_object_get(v, "vcpus"))};
        }
        char detail[1024];
        bool ok = vr_ha_reserve_check(hosts, nh, vms, nv, detail, sizeof(detail));
        out = json_pack("{s:b, s:s}", "ok", ok, "detail", detail);
    }
    free(hosts);
    free(vms);
out:
    json_decref(hrows);
    json_decref(vrows);
    return out;
}

void vr_ha_reserve_update(vr_engine *e, const char *cluster_id, const char *cluster_name)
{
    json_t *row = vr_db_query_one(e->db, "SELECT ha_reservation_json, ha_reservation_enabled FROM clusters"
                                  " WHERE id = ?", DB_ARGS(DB_TEXT(cluster_id)), NULL);
    /* Switched off (RHV's default): no verdict, no events. */
    json_t *now = json_integer_value(json_object_get(row, "ha_reservation_enabled")) ? vr_ha_reserve_eval(e, cluster_id)
                                                                                      : NULL;
    if (!now) {
        json_decref(row);
        return;
    }
    json_t *was = json_object_get(row, "ha_reservation");
    bool was_ok = !json_is_object(was) || json_is_true(json_object_get(was, "ok")); /* never checked: fine */
    bool ok = json_is_true(json_object_get(now, "ok"));
    if (!json_equal(was, now)) {
        char *text = json_dumps(now, JSON_COMPACT);
        /* The thread is the only writer of verdicts (a PUT switching it off
         * clears it: none written then); the status changed only if the row did. */
        int n = text ? vr_db_exec(e->db, "UPDATE clusters SET ha_reservation_json = ? WHERE id = ? AND"
                                  " ha_reservation_enabled = 1", DB_ARGS(DB_TEXT(text), DB_TEXT(cluster_id)), NULL)
                     : -1;
        free(text);
        const char *detail = json_string_value(json_object_get(now, "detail"));
        if (n > 0 && was_ok && !ok)
            vr_event(e, "warning", "", "cluster", cluster_id, "HA reservation of cluster '%s' lost: %s", cluster_name,
                     detail);
        else if (n > 0 && !was_ok && ok)
            vr_event(e, "normal", "", "cluster", cluster_id, "HA reservation of cluster '%s' restored: %s",
                     cluster_name, detail);
    }
    json_decref(row);
    json_decref(now);
}
