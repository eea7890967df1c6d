/* Domain status and space from the hosts' reports (see domainmon.h). */
#include <stdio.h>
#include <string.h>

#include "domainmon.h"
#include "store_spm.h"
#include "i18n.h"

#define GIB (1024LL * 1024 * 1024)

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

static long long num(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

/* Low-space events: level 0 fine, 1 under the warning percentage, 2 under
 * the critical size; told once per crossing downwards. */
static void space_events(vr_engine *e, json_t *d, long long total, long long free_b, json_t *warned)
{
    if (total <= 0)
        return;
    int level = free_b < num(d, "critical_space_gib") * GIB ? 2
                : free_b * 100 < total * num(d, "warning_low_space_pct") ? 1 : 0;
    int before = (int)json_integer_value(json_object_get(warned, str(d, "id")));
    json_object_set_new(warned, str(d, "id"), json_integer(level));
    if (level <= before)
        return;
    vr_event(e, level == 2 ? "error" : "warning", "", "storagedomain", str(d, "id"),
             "storage domain '%s' is low on space: %lld MiB free of %lld MiB (%s)", str(d, "name"),
             free_b >> 20, total >> 20,
             level == 2 ? "below the critical threshold: new disks are refused" : "below the warning threshold");
}

void vr_domains_round(vr_engine *e, json_t *dc, json_t *warned)
{
    long long now = vr_now();
    /* a report counts if it came within the last three polls (and the
     * agent's own check within its 10 s period) */
    long long fresh_since = now - 3 * (e->poll_ms / 1000 + 1) - 10;
    json_t *views = vr_store_dc_domain_views(e->db, str(dc, "id"), fresh_since);
    size_t i;
    json_t *d;
    json_array_foreach(views, i, d) {
        const char *st = str(d, "status");
        const char *to = st;
        long long since = num(d, "inactive_since");
        bool seen = num(d, "seen") > 0, anyone = num(d, "up_hosts") > 0;
        if (seen) {
            since = 0;
            to = "active";
        } else if (anyone) {
            if (!since)
                since = now;
            if (!strcmp(st, "active") && now - since > e->grace_s)
                to = "inactive";
        }
        long long total = json_is_integer(json_object_get(d, "r_total")) ? num(d, "r_total") : num(d, "total_bytes");
        long long free_b = json_is_integer(json_object_get(d, "r_free")) ? num(d, "r_free") : num(d, "free_bytes");
        if (vr_store_sd_update_view(e->db, str(d, "id"), st, to, since, total, free_b, num(d, "committed")) > 0 &&
            strcmp(st, to))
            vr_event(e, !strcmp(to, "active") ? "normal" : "error", "", "storagedomain", str(d, "id"),
                     !strcmp(to, "active") ? N_("storage domain '%s' is active again: a host sees it")
                                           : N_("storage domain '%s' is inactive: no host of its data center "
                                             "can see it; retried every autorecovery period"),
                     str(d, "name"));
        space_events(e, d, total, free_b, warned);
    }
    json_decref(views);
}
