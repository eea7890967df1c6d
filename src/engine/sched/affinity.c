/* Affinity groups in placement (see affinity.h). */
#include "affinity.h"

#include "i18n.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The index of host_id among the hosts r's VMs run on, or -1. */
static long runs_there(const vr_affinity_rule *r, const char *host_id)
{
    for (size_t i = 0; i < r->nhosts; i++)
        if (!strcmp(r->hosts[i], host_id))
            return (long)i;
    return -1;
}

size_t vr_affinity_apply(const vr_affinity_rule *rules, size_t nrules, vr_sched_host *hosts, size_t n, char *why,
                         size_t len)
{
    size_t filtered = 0, o = 0;
    if (len)
        why[0] = '\0';
    for (size_t i = 0; i < n; i++)
        hosts[i].affinity_penalty = 0;
    for (size_t k = 0; k < nrules; k++) {
        const vr_affinity_rule *r = &rules[k];
        size_t out = 0;
        /* A positive group whose other VMs run nowhere yet binds nothing. */
        if (r->positive && r->nhosts == 0)
            continue;
        for (size_t i = 0; i < n; i++) {
            long at = runs_there(r, hosts[i].id);
            bool breaks = r->positive ? at < 0 : at >= 0;
            if (!breaks)
                continue;
            if (!r->enforcing) {
                hosts[i].affinity_penalty++;
            } else if (!strcmp(hosts[i].status, "up")) {
                /* Hosts already filtered keep their first reason and are
                 * not counted twice. */
                out++;
                snprintf(hosts[i].status, sizeof(hosts[i].status), "affinity");
                /* The VM it would meet there, or the first it would leave. */
                size_t vi = at >= 0 ? (size_t)at : 0;
                snprintf(hosts[i].affinity_group, sizeof(hosts[i].affinity_group), "%s", r->group);
                snprintf(hosts[i].affinity_vm, sizeof(hosts[i].affinity_vm), "%s", r->vms ? r->vms[vi] : "?");
                hosts[i].affinity_positive = r->positive;
            }
        }
        if (out && len) {
            /* Catalog messages, each group's nested in the join, so a
             * failed placement's reason reads whole in Japanese. */
            char one[256], joined[512];
            if (r->positive)
                vr_i18n_format(one, sizeof(one), "%zu host(s) filtered out by enforcing positive affinity group '%s'"
                               " (its VMs run elsewhere)", out, r->group);
            else
                vr_i18n_format(one, sizeof(one), "%zu host(s) filtered out by enforcing negative affinity group '%s'"
                               " (its other VMs run there)", out, r->group);
            if (o)
                vr_i18n_format(joined, sizeof(joined), "%s; %s", why, one);
            snprintf(why, len, "%s", o ? joined : one);
            o = strlen(why);
        }
        filtered += out;
    }
    return filtered;
}

void vr_affinity_rules_free(vr_affinity_rule *rules, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rules[i].hosts);
        free(rules[i].vms);
    }
    free(rules);
}

int vr_affinity_rules_for(vr_engine *e, const char *vm_id, vr_affinity_rule **out, size_t *n, vr_error *err)
{
    *out = NULL;
    *n = 0;
    json_t *groups = NULL;
    if (vr_db_query(e->db, "SELECT g.id AS id, g.name AS name, g.positive AS positive, g.enforcing AS enforcing"
                    " FROM affinity_groups g JOIN affinity_group_vms m ON m.group_id = g.id WHERE m.vm_id = ?"
                    " ORDER BY g.name, g.id", DB_ARGS(DB_TEXT(vm_id)), &groups, err) < 0)
        return -1;
    size_t ng = json_array_size(groups);
    vr_affinity_rule *rules = ng ? calloc(ng, sizeof(*rules)) : NULL;
    if (ng && !rules) {
        json_decref(groups);
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory");
    }
    for (size_t i = 0; i < ng; i++) {
        json_t *g = json_array_get(groups, i), *hosts = NULL;
        vr_affinity_rule *r = &rules[i];
        snprintf(r->group, sizeof(r->group), "%s", json_string_value(json_object_get(g, "name")) ?: "");
        r->positive = json_integer_value(json_object_get(g, "positive")) != 0;
        r->enforcing = json_integer_value(json_object_get(g, "enforcing")) != 0;
        /* One row per host (the first VM by name there), as the
         * verdict names one. */
        if (vr_db_query(e->db, "SELECT v.host_id AS host_id, MIN(v.name) AS vm FROM affinity_group_vms m JOIN vms v"
                        " ON v.id = m.vm_id WHERE m.group_id = ? AND m.vm_id != ? AND v.status != 'down'"
                        " AND v.host_id IS NOT NULL GROUP BY v.host_id ORDER BY v.host_id",
                        DB_ARGS(DB_TEXT(json_string_value(json_object_get(g, "id")) ?: ""), DB_TEXT(vm_id)),
                        &hosts, err) < 0) {
            json_decref(groups);
            vr_affinity_rules_free(rules, ng);
            return -1;
        }
        size_t nh = json_array_size(hosts);
        r->hosts = nh ? calloc(nh, sizeof(*r->hosts)) : NULL;
        r->vms = nh ? calloc(nh, sizeof(*r->vms)) : NULL;
        for (size_t k = 0; r->hosts && r->vms && k < nh; k++) {
            json_t *row = json_array_get(hosts, k);
            snprintf(r->vms[r->nhosts], sizeof(*r->vms), "%s", json_string_value(json_object_get(row, "vm")) ?: "");
            snprintf(r->hosts[r->nhosts++], sizeof(*r->hosts), "%s",
                     json_string_value(json_object_get(row, "host_id")) ?: "");
        }
        json_decref(hosts);
    }
    json_decref(groups);
    *out = rules;
    *n = ng;
    return 0;
}

long vr_affinity_filter_vm(vr_engine *e, const char *vm_id, vr_sched_host *hosts, size_t n, char *why, size_t len,
                           vr_error *err)
{
    vr_affinity_rule *rules;
    size_t nr;
    if (vr_affinity_rules_for(e, vm_id, &rules, &nr, err) < 0)
        return -1;
    size_t o = strlen(why);
    size_t out = vr_affinity_apply(rules, nr, hosts, n, why + o, o < len ? len - o : 0);
    vr_affinity_rules_free(rules, nr);
    return (long)out;
}
