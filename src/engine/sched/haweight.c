/* HA reservation as a placement weight (see scheduler.h): for each up
 * host, would the cluster still absorb the loss of any one host if the VM
 * were placed there? The check itself is hareserve.c's. */
#include "scheduler.h"

#include "hareserve.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Hosts x hosts x HA VMs per candidate beyond this: the weight is left
 * out (all 0) rather than slow every placement of a huge cluster. */
#define MAX_WORK 4000000.0

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

int vr_sched_ha_weigh(vr_engine *e, json_t *vm, json_t *cluster, vr_sched_host *hosts, size_t n, vr_error *err)
{
    const char *vm_id = str(vm, "id");
    for (size_t i = 0; i < n; i++)
        hosts[i].ha_penalty = 0;
    /* The cluster's switch off (the default): no weight. */
    if (!json_integer_value(json_object_get(cluster, "ha_reservation_enabled")))
        return 0;
    json_t *self = vr_db_query_one(e->db, "SELECT ha_enabled, status, host_id, memory_mib, vcpus FROM vms WHERE id = ?",
                                   DB_ARGS(DB_TEXT(vm_id)), err);
    if (!self)
        return err->code ? -1 : 0; /* a VM gone meanwhile: nothing to weigh */
    json_t *rows = NULL;
    if (vr_db_query(e->db, "SELECT id, name, host_id, memory_mib, vcpus FROM vms WHERE cluster_id = ? AND"
                    " ha_enabled = 1 AND status != 'down' AND host_id IS NOT NULL AND id != ? ORDER BY name",
                    DB_ARGS(DB_TEXT(str(vm, "cluster_id")), DB_TEXT(vm_id)), &rows, err) < 0) {
        json_decref(self);
        return -1;
    }
    bool is_ha = json_integer_value(json_object_get(self, "ha_enabled")) != 0;
    size_t nv = json_array_size(rows);
    long long mem = json_integer_value(json_object_get(self, "memory_mib"));
    /* A VM that runs is moved: its memory leaves its host. */
    const char *from = strcmp(str(self, "status"), "down") ? str(self, "host_id") : "";
    vr_ha_host *hh = calloc(n + 1, sizeof(*hh));
    vr_ha_vm *vv = calloc(nv + 1, sizeof(*vv));
    if ((!is_ha && nv == 0) || (double)n * (double)n * (double)(nv + 1) > MAX_WORK || !hh || !vv)
        goto out;
    for (size_t i = 0; i < n; i++) {
        hh[i] = (vr_ha_host){.name = hosts[i].name, .up = !strcmp(hosts[i].status, "up"),
                             .free_mib = hosts[i].mem_total_mib - hosts[i].committed_mib,
                             .max_vcpus = hosts[i].max_vcpus};
        if (*from && !strcmp(hosts[i].id, from))
            hh[i].free_mib += mem;
    }
    size_t k = 0, i;
    json_t *r;
    json_array_foreach(rows, i, r)
        for (size_t h = 0; h < n; h++)
            if (!strcmp(hosts[h].id, str(r, "host_id")))
                vv[k++] = (vr_ha_vm){.name = str(r, "name"), .host = h,
                                     .memory_mib = json_integer_value(json_object_get(r, "memory_mib")),
                                     .vcpus = json_integer_value(json_object_get(r, "vcpus"))};
    char detail[512];
    for (size_t c = 0; c < n; c++) {
        if (!hh[c].up)
            continue;
        /* The VM placed on c: c's room shrinks; an HA VM is one more to restart. */
        hh[c].free_mib -= mem;
        vv[k] = (vr_ha_vm){.name = str(vm, "name"), .host = c, .memory_mib = mem,
                           .vcpus = json_integer_value(json_object_get(self, "vcpus"))};
        hosts[c].ha_penalty = !vr_ha_reserve_check(hh, n, vv, k + is_ha, detail, sizeof(detail));
        hh[c].free_mib += mem;
    }
out:
    free(hh);
    free(vv);
    json_decref(rows);
    json_decref(self);
    return 0;
}
