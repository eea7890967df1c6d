/* Quotas: their SQL (store_quotas.c). A quota belongs to a data center;
 * its per-cluster and per-storage-domain limits are JSON lists checked by
 * the kind (api/kinds_quotas.c). VMs and disks name it in quota_id. */
#pragma once

#include "store.h"

extern const vr_store vr_store_quotas;
