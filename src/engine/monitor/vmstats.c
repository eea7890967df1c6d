#include "vmstats.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rpcclient.h"
#include "statshistory.h"

struct vr_vmstats {
    pthread_mutex_t lock;
    json_t *vms;   /* vm id -> {"host": id, "at": ms, "stats": {...}} */
    json_t *hosts; /* host id -> ms of the last attempt */
};

vr_vmstats *vr_vmstats_new(void)
{
    vr_vmstats *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    pthread_mutex_init(&s->lock, NULL);
    s->vms = json_object();
    s->hosts = json_object();
    return s;
}

void vr_vmstats_free(vr_vmstats *s)
{
    if (!s)
        return;
    json_decref(s->vms);
    json_decref(s->hosts);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* Keep only VMs of other hosts and those of host_id listed in keep. */
static void prune(vr_vmstats *s, const char *host_id, json_t *keep)
{
    const char *id;
    json_t *v, *tmp;
    json_object_foreach_safe(s->vms, tmp, id, v) {
        if (!strcmp(json_string_value(json_object_get(v, "host")) ?: "", host_id) &&
            (!keep || !json_object_get(keep, id)))
            json_object_del(s->vms, id);
    }
}

void vr_vmstats_forget_host(vr_vmstats *s, const char *host_id)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    prune(s, host_id, NULL);
    json_object_del(s->hosts, host_id);
    pthread_mutex_unlock(&s->lock);
}

/* Whether host_id's figures are due; if so, note this attempt. */
static bool host_due(vr_vmstats *s, const char *host_id, long long now, int poll_ms)
{
    long long every = 4LL * poll_ms < VR_VMSTATS_INTERVAL_MS ? 4LL * poll_ms : VR_VMSTATS_INTERVAL_MS;
    pthread_mutex_lock(&s->lock);
    json_t *at = json_object_get(s->hosts, host_id);
    bool due = !at || now - json_integer_value(at) >= every;
    if (due)
        json_object_set_new(s->hosts, host_id, json_integer(now));
    pthread_mutex_unlock(&s->lock);
    return due;
}

void vr_vmstats_poll(vr_engine *e, vr_rpc_client *c, const char *host_id)
{
    vr_vmstats *s = e->vmstats;
    if (!s || !host_due(s, host_id, vr_now_ms(), e->poll_ms))
        return;
    json_t *res = NULL, *rows = NULL;
    vr_error err = {0};
    if (vr_rpc_call(c, "VM.getAllStats", NULL, &res, &err) < 0 || !json_is_array(json_object_get(res, "vms"))) {
        VR_DEBUG("host %s: no VM statistics: %s", host_id, err.code ? err.message : "malformed reply");
        json_decref(res);
        pthread_mutex_lock(&s->lock);
        prune(s, host_id, NULL); /* none rather than stale ones */
        pthread_mutex_unlock(&s->lock);
        return;
    }
    /* Only VMs the engine placed on this host: an external domain, or one
     * recorded elsewhere, is not ours to report. */
    if (vr_db_query(e->db, "SELECT id FROM vms WHERE host_id = ? AND status != 'down'",
                    DB_ARGS(DB_TEXT(host_id)), &rows, NULL) < 0) {
        json_decref(res);
        return;
    }
    json_t *ours = json_object();
    size_t i;
    json_t *v;
    json_array_foreach(rows, i, v) json_object_set_new(ours, json_string_value(json_object_get(v, "id")), json_true());
    json_decref(rows);
    long long now = vr_now_ms();
    pthread_mutex_lock(&s->lock);
    json_array_foreach(json_object_get(res, "vms"), i, v) {
        const char *uuid = json_string_value(json_object_get(v, "uuid"));
        if (!uuid || !json_object_get(ours, uuid))
            continue;
        json_object_set_new(s->vms, uuid, json_pack("{s:s, s:I, s:O}", "host", host_id, "at", (json_int_t)now,
                                                    "stats", v));
        vr_statshist_vm(e->statshist, uuid, v, now);
        json_object_set_new(ours, uuid, json_false()); /* seen */
    }
    /* Keep what was just read: ours and reported (marked false above). */
    json_t *keep = json_object();
    const char *id;
    json_object_foreach(ours, id, v) if (json_is_false(v)) json_object_set_new(keep, id, json_true());
    prune(s, host_id, keep);
    pthread_mutex_unlock(&s->lock);
    json_decref(keep);
    json_decref(ours);
    json_decref(res);
}

json_t *vr_vmstats_snapshot(vr_vmstats *s)
{
    if (!s)
        return json_object();
    pthread_mutex_lock(&s->lock);
    json_t *copy = json_deep_copy(s->vms);
    pthread_mutex_unlock(&s->lock);
    return copy ? copy : json_object();
}

json_t *vr_vmstats_guest_info(vr_vmstats *s, const char *vm_id)
{
    if (!s || !vm_id)
        return NULL;
    pthread_mutex_lock(&s->lock);
    json_t *gi = json_object_get(json_object_get(json_object_get(s->vms, vm_id), "stats"), "guest_info");
    json_t *copy = json_is_object(gi) ? json_deep_copy(gi) : NULL;
    pthread_mutex_unlock(&s->lock);
    return copy;
}
