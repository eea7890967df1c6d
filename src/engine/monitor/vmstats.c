#include "vmstats.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rpcclient.h"

struct vr_vmstats {
    pthread_mutex_t lock;
    json_t *vms; /* vm id -> {"host": id, "at": ms, "stats": {...}} */
};

vr_vmstats *vr_vmstats_new(void)
{
    vr_vmstats *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    pthread_mutex_init(&s->lock, NULL);
    s->vms = json_object();
    return s;
}

void vr_vmstats_free(vr_vmstats *s)
{
    if (!s)
        return;
    json_decref(s->vms);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* Keep only VMs of other hosts and those of host_id listed in keep. */
static void prune(vr_vmstats *s, const char *host_id, json_t *keep)
{
    pthread_mutex_lock(&s->lock);
    const char *id;
    json_t *v, *tmp;
    json_object_foreach_safe(s->vms, tmp, id, v) {
        if (!strcmp(json_string_value(json_object_get(v, "host")) ?: "", host_id) &&
            (!keep || !json_object_get(keep, id)))
            json_object_del(s->vms, id);
    }
    pthread_mutex_unlock(&s->lock);
}

void vr_vmstats_forget_host(vr_vmstats *s, const char *host_id)
{
    if (s)
        prune(s, host_id, NULL);
}

static bool due(vr_vmstats *s, const char *vm_id, const char *host_id, long long now)
{
    pthread_mutex_lock(&s->lock);
    json_t *v = json_object_get(s->vms, vm_id);
    bool d = !v || strcmp(json_string_value(json_object_get(v, "host")) ?: "", host_id) ||
             now - json_integer_value(json_object_get(v, "at")) >= VR_VMSTATS_INTERVAL_MS;
    pthread_mutex_unlock(&s->lock);
    return d;
}

void vr_vmstats_poll(vr_engine *e, vr_rpc_client *c, const char *host_id, json_t *running)
{
    vr_vmstats *s = e->vmstats;
    if (!s)
        return;
    /* Only VMs the engine placed on this host: an external domain, or one
     * recorded elsewhere, is not ours to report. */
    json_t *rows = NULL;
    if (vr_db_query(e->db, "SELECT id FROM vms WHERE host_id = ? AND status != 'down'",
                    DB_ARGS(DB_TEXT(host_id)), &rows, NULL) < 0)
        return;
    json_t *ours = json_object();
    size_t i;
    json_t *v;
    json_array_foreach(rows, i, v) json_object_set_new(ours, json_string_value(json_object_get(v, "id")), json_true());
    json_decref(rows);
    json_t *keep = json_object();
    json_array_foreach(running, i, v) {
        const char *uuid = json_string_value(json_object_get(v, "uuid"));
        if (!uuid || !json_is_true(json_object_get(v, "owned")) || !json_object_get(ours, uuid))
            continue;
        json_object_set_new(keep, uuid, json_true());
        /* A VM whose QEMU does not answer would hold the call until its
         * timeout; its last figures stay. */
        if (json_is_false(json_object_get(v, "responsive")) || !due(s, uuid, host_id, vr_now_ms()))
            continue;
        json_t *params = json_pack("{s:s}", "uuid", uuid), *st = NULL;
        vr_error err = {0};
        int rc = vr_rpc_call(c, "VM.getStats", params, &st, &err); /* params stolen */
        if (rc < 0 || !json_is_object(st)) {
            VR_DEBUG("VM %s: no statistics: %s", uuid, err.message);
            json_decref(st);
            if (err.code == VR_ERR_IO)
                break; /* the connection is gone: the monitor's next call finds out */
            continue;
        }
        pthread_mutex_lock(&s->lock);
        json_object_set_new(s->vms, uuid, json_pack("{s:s, s:I, s:o}", "host", host_id,
                                                     "at", (json_int_t)vr_now_ms(), "stats", st));
        pthread_mutex_unlock(&s->lock);
    }
    prune(s, host_id, keep);
    json_decref(keep);
    json_decref(ours);
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
