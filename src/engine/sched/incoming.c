/* The incoming filter (see incoming.h). */
#include "incoming.h"

#include <stdio.h>
#include <string.h>

#include "migpolicy.h"

int vr_incoming_filter(vr_engine *e, json_t *cluster, const char *vm_id, vr_sched_host *hosts, size_t n,
                       vr_error *err)
{
    int limit = vr_migpolicy_max_incoming(json_object_get(cluster, "migration"));
    json_t *rows = NULL;
    if (vr_db_query(e->db, "SELECT migrating_to_host_id AS host_id, count(*) AS n FROM vms"
                    " WHERE status = 'migratingfrom' AND migrating_to_host_id IS NOT NULL AND id != ?"
                    " GROUP BY migrating_to_host_id", DB_ARGS(DB_TEXT(vm_id)), &rows, err) < 0)
        return -1;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) {
        const char *id = json_string_value(json_object_get(r, "host_id")) ?: "";
        int count = (int)json_integer_value(json_object_get(r, "n"));
        for (size_t k = 0; k < n; k++) {
            vr_sched_host *h = &hosts[k];
            if (strcmp(h->id, id) || strcmp(h->status, "up"))
                continue;
            int most = h->cpus > 0 && h->cpus < limit ? (int)h->cpus : limit;
            if (count >= most) {
                snprintf(h->status, sizeof(h->status), "incoming");
                h->incoming = count;
            }
        }
    }
    json_decref(rows);
    return 0;
}
