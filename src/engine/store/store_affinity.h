/* Affinity groups: their SQL (store_affinity.c). A group belongs to a
 * cluster; its members are rows of affinity_group_vms (a VM removed
 * leaves its groups with it: ON DELETE CASCADE). */
#pragma once

#include "store.h"

extern const vr_store vr_store_affinity_groups;
