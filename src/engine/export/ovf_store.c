/* The OVF store of data domains (ovf_store.h). What was written is
 * remembered in memory only, as a digest of the text per domain and
 * object: after a restart the first round rewrites every OVF, so nothing
 * written by an engine that died mid-round is believed. An OVF is removed
 * when its VM or template, written by this engine, is gone; one of a VM
 * removed while no round ran (the engine stopped within 5 poll intervals
 * of the removal) stays, and a later import lists it as unregistered.
 * An object that cannot be described now (locked by a job, a disk not ok)
 * keeps the OVF it has: the store lags, it never loses a VM. A VM's OVF
 * carries its snapshots and its disks' chains (exportchain.c). */
#include "ovf_store.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentcall.h"
#include "exportjob.h"
#include "log.h"
#include "ovf.h"
#include "snapjob_util.h"
#include "store_storage.h"

#define str vr_sj_str
#define SWEEP_S 3600 /* RHV rewrites its OVF stores every 60 minutes */

/* A round and a flush before maintenance run one at a time, each
 * describing then writing: the agent's put goes through one <id>.ovf.tmp,
 * and a round that described a VM before a change never writes it after
 * the flush wrote the change. */
static pthread_mutex_t store_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct {
    json_t *written;         /* "sd/id" -> digest of the OVF written there */
    json_t *swept;           /* sd -> when its OVFs were last all written again */
    unsigned long long gen;  /* the tables' write generations at the last round */
    long long full_at;       /* when the last round ran */
    bool clean;              /* it wrote and removed all it meant to */
} store_state;

/* The sum of the write generations of every table an OVF or its place
 * depends on: unchanged, nothing was written to them since (an idle
 * engine does not describe every VM each round). */
static unsigned long long generations(vr_engine *e)
{
    static const char *const tables[] = {"vms", "templates", "disks", "storage_domains", "datacenters", "clusters",
                                         "networks", "vnic_profiles", "snapshots"};
    unsigned long long g = 0;
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
        g += vr_db_table_generation(e->db, tables[i]);
    return g;
}

/* FNV-1a of text: tells a changed OVF from the one written. */
static void digest(const char *text, char out[17])
{
    unsigned long long h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    snprintf(out, 17, "%016llx", h);
}

/* The OVF text of a VM or template row and the domains it belongs on
 * (into *domains, an array); NULL when it cannot be described now. */
static char *describe(vr_engine *e, json_t *row, bool template, json_t *active, json_t **domains)
{
    vr_error err = {0};
    json_t *disks = vr_export_plan_disks(e, row, true, &err), *d;
    if (!disks)
        return NULL;
    /* A VM's snapshots and its disks' chains, as an export keeping them
     * writes them: a fresh engine registers the VM with its snapshots. A
     * snapshot previewed or changing keeps the OVF as it was. */
    json_t *snaps = template ? json_array() : vr_export_chain_plan(e, row, disks, &err);
    if (!snaps) {
        json_decref(disks);
        return NULL;
    }
    json_t *p = json_pack("{s:O, s:O, s:b, s:o}", "vm_row", row, "disks", disks, "template", template, "snapshots",
                          snaps);
    json_t *m = vr_export_ovf_model(e, p);
    char *text = m ? vr_ovf_write(m, &err) : NULL;
    if (!text)
        VR_WARN("the OVF of %s cannot be written: %s", str(row, "id"), err.message);
    *domains = json_array();
    size_t i;
    json_array_foreach(disks, i, d) {
        const char *sd = str(d, "storage_domain");
        json_t *a = json_object_get(active, sd), *x;
        size_t k;
        bool had = false;
        json_array_foreach(*domains, k, x) had |= !strcmp(json_string_value(x), sd);
        if (a && !had)
            json_array_append_new(*domains, json_string(sd));
    }
    if (json_array_size(disks) == 0) { /* no disk on storage: kept on the master */
        const char *sd;
        json_t *a;
        json_object_foreach(active, sd, a) if (json_integer_value(json_object_get(a, "master")) &&
                                               !strcmp(str(a, "datacenter_id"), str(row, "datacenter_id")))
            json_array_append_new(*domains, json_string(sd));
    }
    json_decref(m);
    json_decref(p);
    json_decref(disks);
    return text;
}

/* want: sd -> {id -> text}; keep: "sd/id" of objects left as they are. */
static void collect(vr_engine *e, const char *sql, bool template, json_t *active, json_t *want, json_t *keep)
{
    json_t *rows = NULL, *row;
    size_t i;
    vr_db_query(e->db, sql, NULL, 0, &rows, NULL);
    json_array_foreach(rows, i, row) {
        json_t *domains = NULL, *sd;
        size_t k;
        bool locked = !strcmp(str(row, "status"), template ? "locked" : "imagelocked");
        char *text = locked ? NULL : describe(e, row, template, active, &domains);
        if (!text) { /* every domain's OVF of it stays */
            const char *id;
            json_t *a;
            json_object_foreach(active, id, a) {
                char key[80];
                snprintf(key, sizeof(key), "%s/%s", id, str(row, "id"));
                json_object_set_new(keep, key, json_true());
            }
        }
        json_array_foreach(text ? domains : NULL, k, sd)
            json_object_set_new(json_object_get(want, json_string_value(sd)), str(row, "id"), json_string(text));
        free(text);
        json_decref(domains);
    }
    json_decref(rows);
}

/* Every VM and template described into want (sd -> {id -> text}). */
static void collect_all(vr_engine *e, json_t *active, json_t *want, json_t *keep)
{
    collect(e, "SELECT v.id AS id, v.name AS name, v.description AS description, v.status AS status, v.memory_mib AS"
            " memory_mib, v.vcpus AS vcpus, v.spec_json, v.created_at AS created_at, c.datacenter_id AS datacenter_id"
            " FROM vms v JOIN clusters c ON c.id = v.cluster_id", false, active, want, keep);
    collect(e, "SELECT t.id AS id, t.name AS name, t.description AS description, t.status AS status, t.memory_mib AS"
            " memory_mib, t.vcpus AS vcpus, t.spec_json, t.created_at AS created_at, c.datacenter_id AS datacenter_id"
            " FROM templates t JOIN clusters c ON c.id = t.cluster_id", true, active, want, keep);
}

static int ovf_call(vr_engine *e, json_t *spm, const char *verb, json_t *params, vr_error *err)
{
    json_t *res = NULL;
    int rc = vr_agent_call_host(e, spm, verb, params, &res, err);
    json_decref(res);
    return rc;
}

static void remove_ovf(vr_engine *e, store_state *s, json_t *spm, const char *sd, const char *id, const char *key)
{
    vr_error err = {0};
    if (ovf_call(e, spm, "Ovf.remove", json_pack("{s:s, s:s}", "domain", sd, "vm", id), &err) == 0) {
        VR_INFO("OVF of %s removed from the store of domain %s", id, sd);
        json_object_del(s->written, key);
    } else {
        s->clean = false;
        VR_WARN("OVF of %s stays in the store of domain %s for now: %s", id, sd, err.message);
    }
}

/* A sweep: every OVF of the domain is written again. An OVF there of a
 * VM or template this engine does not know stays: it is what a domain
 * imported from another engine brings, listed as unregistered. */
static void sweep(store_state *s, const char *sd)
{
    json_t *gone = json_array(), *g, *v;
    const char *key;
    size_t n = strlen(sd), i;
    json_object_foreach(s->written, key, v) if (!strncmp(key, sd, n) && key[n] == '/')
        json_array_append_new(gone, json_string(key));
    json_array_foreach(gone, i, g) json_object_del(s->written, json_string_value(g));
    json_decref(gone);
    json_object_set_new(s->swept, sd, json_integer(vr_now()));
}

static void store_domain(vr_engine *e, store_state *s, const char *sd, json_t *a, json_t *mine, json_t *keep)
{
    json_t *spm = vr_storage_spm_host(e, str(a, "datacenter_id"), NULL), *text;
    if (!spm || strcmp(str(spm, "status"), "up")) {
        json_decref(spm);
        s->clean = false; /* no SPM now: next round */
        return;
    }
    json_t *last = json_object_get(s->swept, sd);
    if (!last || vr_now() - json_integer_value(last) >= SWEEP_S)
        sweep(s, sd);
    const char *id, *key;
    json_object_foreach(mine, id, text) {
        char k[80], dg[17];
        snprintf(k, sizeof(k), "%s/%s", sd, id);
        digest(json_string_value(text), dg);
        if (!strcmp(str(s->written, k), dg))
            continue;
        vr_error err = {0};
        if (ovf_call(e, spm, "Ovf.put", json_pack("{s:s, s:s, s:O}", "domain", sd, "vm", id, "ovf", text), &err) == 0) {
            json_object_set_new(s->written, k, json_string(dg));
        } else {
            s->clean = false;
            VR_WARN("the OVF of %s cannot be written into the store of domain %s: %s", id, sd, err.message);
        }
    }
    json_t *gone = json_array(), *g;
    size_t n = strlen(sd), i;
    void *tmp;
    json_object_foreach_safe(s->written, tmp, key, text) /* written here once, gone now */
        if (!strncmp(key, sd, n) && key[n] == '/' && !json_object_get(mine, key + n + 1) && !json_object_get(keep, key))
            json_array_append_new(gone, json_string(key));
    json_array_foreach(gone, i, g) remove_ovf(e, s, spm, sd, json_string_value(g) + n + 1, json_string_value(g));
    json_decref(gone);
    json_decref(spm);
}

static void store_round(vr_engine *e, store_state *s)
{
    /* Read before the round: a change made during it runs the next. A
     * round still runs each minute, for the hourly rewrite. */
    unsigned long long gen = generations(e);
    if (s->clean && gen == s->gen && vr_now() - s->full_at < 60)
        return;
    s->gen = gen;
    s->full_at = vr_now();
    s->clean = true;
    json_t *rows = NULL, *row, *active = json_object(), *want = json_object(), *keep = json_object(), *mine;
    size_t i;
    pthread_mutex_lock(&store_lock); /* described and written as one step */
    vr_db_query(e->db, "SELECT id, datacenter_id, master FROM storage_domains WHERE sd_type = 'data' AND"
                " status = 'active' AND datacenter_id IS NOT NULL", NULL, 0, &rows, NULL);
    json_array_foreach(rows, i, row) {
        json_object_set(active, str(row, "id"), row);
        json_object_set_new(want, str(row, "id"), json_object());
    }
    json_decref(rows);
    collect_all(e, active, want, keep);
    const char *sd;
    json_object_foreach(want, sd, mine) if (!e->stopping) store_domain(e, s, sd, json_object_get(active, sd), mine, keep);
    pthread_mutex_unlock(&store_lock);
    json_decref(keep);
    json_decref(want);
    json_decref(active);
}

static void *store_thread(void *arg)
{
    vr_engine *e = arg;
    store_state s = {json_object(), json_object(), 0, 0, false};
    while (!e->stopping) {
        long long next = vr_now_ms() + 5LL * e->poll_ms; /* changes within a round are written once */
        store_round(e, &s);
        while (!e->stopping && vr_now_ms() < next)
            usleep(100 * 1000);
    }
    json_decref(s.written);
    json_decref(s.swept);
    vr_engine_thread_leave(e);
    return NULL;
}

int vr_ovfstore_start(vr_engine *e, vr_error *err)
{
    return vr_engine_thread_start(e, store_thread, "OVF store", err);
}

json_t *vr_ovfstore_unregistered(vr_engine *e, json_t *sd, bool templates, vr_error *err)
{
    if (strcmp(str(sd, "status"), "active")) {
        vr_error_set(err, VR_ERR_CONFLICT, "storage domain '%s' is %s; it must be active", str(sd, "name"),
                     str(sd, "status"));
        return NULL;
    }
    json_t *all = vr_export_domain_vms(e, sd, false, err), *out = json_array(), *m;
    size_t i;
    json_array_foreach(json_object_get(all, "vms"), i, m) {
        bool t = json_is_true(json_object_get(m, "template")), unreadable = json_object_get(m, "error") != NULL;
        if (unreadable ? templates : t != templates)
            continue;
        json_t *had = vr_db_query_one(e->db, templates ? "SELECT id FROM templates WHERE id = ?"
                                                       : "SELECT id FROM vms WHERE id = ?",
                                      DB_ARGS(DB_TEXT(str(m, "id"))), NULL);
        if (!had)
            json_array_append(out, m);
        json_decref(had);
    }
    bool ok = all != NULL;
    json_decref(all);
    if (!ok) {
        json_decref(out);
        return NULL;
    }
    return json_pack("{s:o}", templates ? "templates" : "vms", out);
}

int vr_ovfstore_flush(vr_engine *e, const char *sd_id, vr_error *err)
{
    json_t *row = vr_db_query_one(e->db, "SELECT id, name, datacenter_id, master FROM storage_domains WHERE id = ? AND"
                                  " sd_type = 'data' AND status = 'active' AND datacenter_id IS NOT NULL",
                                  DB_ARGS(DB_TEXT(sd_id)), err);
    if (!row)
        return err->code ? -1 : 0; /* no store to write */
    json_t *active = json_pack("{s:O}", sd_id, row), *want = json_pack("{s:{}}", sd_id), *keep = json_object(), *text;
    pthread_mutex_lock(&store_lock); /* after a round under way: what it described may be older */
    collect_all(e, active, want, keep);
    json_t *spm = vr_storage_spm_host(e, str(row, "datacenter_id"), NULL);
    int rc = 0;
    if (!spm || strcmp(str(spm, "status"), "up")) {
        vr_error_set(err, VR_ERR_CONFLICT, "the OVF store of storage domain '%s' cannot be written: its data center"
                     " has no up SPM", str(row, "name"));
        rc = 1;
    }
    const char *id;
    json_object_foreach(rc == 0 ? json_object_get(want, sd_id) : NULL, id, text)
        if (rc == 0 && ovf_call(e, spm, "Ovf.put", json_pack("{s:s, s:s, s:O}", "domain", sd_id, "vm", id, "ovf", text),
                                err) < 0)
            rc = -1;
    pthread_mutex_unlock(&store_lock);
    if (rc == 0)
        VR_INFO("OVF store of domain %s written before its maintenance (%zu OVFs)", sd_id,
                json_object_size(json_object_get(want, sd_id)));
    json_decref(spm);
    json_decref(keep);
    json_decref(want);
    json_decref(active);
    json_decref(row);
    return rc;
}
