/* The storage thread (see storagemon.h). */
#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "domainmon.h"
#include "orphans.h"
#include "sdmaster.h"
#include "vmlease.h"
#include "spm.h"
#include "storagemon.h"
#include "store_spm.h"

static void *storage_thread(void *arg)
{
    vr_engine *e = arg;
    setpriority(PRIO_PROCESS, (id_t)gettid(), 5);
    json_t *warned = json_object(); /* low-space events told (domainmon.h) */
    json_t *swept = json_object();  /* the SPM each data center was swept by (orphans.h) */
    while (!e->stopping) {
        long long next = vr_now_ms() + e->poll_ms;
        json_t *dcs = vr_store_dcs_with_master(e->db);
        bool leases = vr_vm_leases_take_dirty();
        size_t i;
        json_t *dc;
        json_array_foreach(dcs, i, dc) {
            if (e->stopping)
                break;
            vr_domains_round(e, dc, warned);
            vr_sd_master_lost_round(e, dc);
            vr_spm_round(e, dc);
            vr_orphans_round(e, dc, swept);
            if (leases)
                vr_orphans_leases_round(e, dc);
            vr_vm_leases_ha_round(e, dc);
        }
        json_decref(dcs);
        dcs = vr_store_dcs_without_master(e->db);
        json_array_foreach(dcs, i, dc) vr_spm_release(e, dc);
        json_decref(dcs);
        while (!e->stopping && vr_now_ms() < next)
            usleep(100 * 1000);
    }
    json_decref(warned);
    json_decref(swept);
    vr_engine_thread_leave(e);
    return NULL;
}

int vr_storagemon_start(vr_engine *e, vr_error *err)
{
    return vr_engine_thread_start(e, storage_thread, "storage", err);
}
