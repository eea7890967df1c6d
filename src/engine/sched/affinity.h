/* Affinity groups (docs/availability.md "Affinity groups"): sets of VMs of
 * one cluster that should run on one host (positive) or on different
 * hosts (negative). An enforcing group filters the scheduler's candidate
 * hosts; a soft one only weighs them (a host that would break fewer soft
 * groups wins before CPU load and free memory are compared). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "engine.h"
#include "hostview.h"

/* One group as placement sees it for one VM. */
typedef struct vr_affinity_rule {
    char group[65];      /* the group's name, for reasons */
    bool positive, enforcing;
    char (*hosts)[37];   /* where the group's other VMs run now */
    char (*vms)[65];     /* the name of one of them on each of those hosts (NULL: unknown) */
    size_t nhosts;
} vr_affinity_rule;

/* Apply rules to the candidates: enforcing rules filter hosts out (status
 * "affinity", with the group and one of its VMs in affinity_group and
 * affinity_vm: running there for a negative group, elsewhere for a
 * positive one), soft rules set each host's affinity_penalty (how many it
 * would break). Returns how many hosts were filtered; why (if len > 0)
 * then names the groups that filtered them ("" when none did). Pure: no
 * database, unit-tested (tests/unit/test_affinity.c). */
size_t vr_affinity_apply(const vr_affinity_rule *rules, size_t nrules, vr_sched_host *hosts, size_t n, char *why,
                         size_t len);

/* The rules for placing vm_id: each group it belongs to, with the hosts
 * its other members run on (VMs not down that have a host). 0, or -1 on
 * a database error. Free with vr_affinity_rules_free. */
int vr_affinity_rules_for(vr_engine *e, const char *vm_id, vr_affinity_rule **out, size_t *n, vr_error *err);
void vr_affinity_rules_free(vr_affinity_rule *rules, size_t n);

/* Filter and weigh hosts for vm_id (rules_for, then apply); appends the
 * groups' reason to why when hosts were filtered. Returns how many were
 * filtered, or -1 on a database error (err set). */
long vr_affinity_filter_vm(vr_engine *e, const char *vm_id, vr_sched_host *hosts, size_t n, char *why, size_t len,
                           vr_error *err);
