#include "hostview.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HV_SELECT "SELECT id, name, cluster_id, status, cpu_percent, mem_total_mib, virt_mode," \
                  " max_vcpus, cpus, committed_mib, pending_vcpus, net_names FROM hosts"

typedef struct hv_entry {
    vr_sched_host h;
    char cluster_id[37];
    char *name; /* owned; sort key */
    char *nets; /* owned; ",red,blue,": the networks it runs */
} hv_entry;

/* A flat array kept sorted by (name, id): a cluster's hosts come out in
 * placement order with no sort per placement. A few hundred entries, so
 * inserts by memmove are cheap. */
struct vr_hostview {
    pthread_mutex_t lock;
    /* Held from reading a row to storing it: two refreshes of one host
     * cannot land out of order (an older row over a fresher booking). */
    pthread_mutex_t refresh_lock;
    hv_entry *v;
    size_t n, cap;
};

static int cmp_key(const char *name, const char *id, const hv_entry *b)
{
    int c = strcmp(name, b->name);
    return c ? c : strcmp(id, b->h.id);
}

static void fill(hv_entry *x, json_t *row)
{
    vr_sched_host *h = &x->h;
    snprintf(h->id, sizeof(h->id), "%s", json_string_value(json_object_get(row, "id")) ?: "");
    snprintf(h->name, sizeof(h->name), "%s", json_string_value(json_object_get(row, "name")) ?: "");
    snprintf(x->cluster_id, sizeof(x->cluster_id), "%s",
             json_string_value(json_object_get(row, "cluster_id")) ?: "");
    snprintf(h->status, sizeof(h->status), "%s", json_string_value(json_object_get(row, "status")) ?: "");
    snprintf(h->virt_mode, sizeof(h->virt_mode), "%s",
             json_string_value(json_object_get(row, "virt_mode")) ?: "");
    h->cpu_percent = json_number_value(json_object_get(row, "cpu_percent"));
    h->mem_total_mib = json_integer_value(json_object_get(row, "mem_total_mib"));
    h->committed_mib = json_integer_value(json_object_get(row, "committed_mib"));
    h->pending_vcpus = json_integer_value(json_object_get(row, "pending_vcpus"));
    h->max_vcpus = json_integer_value(json_object_get(row, "max_vcpus"));
    h->cpus = json_integer_value(json_object_get(row, "cpus"));
}

/* Remove host_id if present. Called with the lock held. */
static void drop(vr_hostview *v, const char *host_id)
{
    for (size_t i = 0; i < v->n; i++) {
        if (strcmp(v->v[i].h.id, host_id))
            continue;
        free(v->v[i].name);
        free(v->v[i].nets);
        memmove(&v->v[i], &v->v[i + 1], (v->n - i - 1) * sizeof(hv_entry));
        v->n--;
        return;
    }
}

/* Insert a row at its sorted place. Called with the lock held. */
static int put(vr_hostview *v, json_t *row)
{
    const char *name = json_string_value(json_object_get(row, "name")) ?: "";
    const char *id = json_string_value(json_object_get(row, "id")) ?: "";
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        hv_entry *nv = realloc(v->v, cap * sizeof(hv_entry));
        if (!nv)
            return -1;
        v->v = nv;
        v->cap = cap;
    }
    char *nm = strdup(name), *nets = strdup(json_string_value(json_object_get(row, "net_names")) ?: "");
    if (!nm || !nets) {
        free(nm);
        free(nets);
        return -1;
    }
    size_t lo = 0, hi = v->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cmp_key(name, id, &v->v[mid]) > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(&v->v[lo + 1], &v->v[lo], (v->n - lo) * sizeof(hv_entry));
    hv_entry *x = &v->v[lo];
    memset(x, 0, sizeof(*x));
    x->name = nm;
    x->nets = nets;
    fill(x, row);
    v->n++;
    return 0;
}

int vr_hostview_new(vr_db *db, vr_hostview **out, vr_error *err)
{
    json_t *rows;
    if (vr_db_query(db, HV_SELECT, DB_NOARGS, &rows, err) < 0)
        return -1;
    vr_hostview *v = calloc(1, sizeof(*v));
    if (!v) {
        json_decref(rows);
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory");
    }
    pthread_mutex_init(&v->lock, NULL);
    pthread_mutex_init(&v->refresh_lock, NULL);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        if (put(v, row) < 0) {
            json_decref(rows);
            vr_hostview_free(v);
            return vr_error_set(err, VR_ERR_INTERNAL, "out of memory");
        }
    }
    json_decref(rows);
    *out = v;
    return 0;
}

void vr_hostview_free(vr_hostview *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++) {
        free(v->v[i].name);
        free(v->v[i].nets);
    }
    free(v->v);
    pthread_mutex_destroy(&v->lock);
    pthread_mutex_destroy(&v->refresh_lock);
    free(v);
}

void vr_hostview_refresh(vr_hostview *v, vr_db *db, const char *host_id)
{
    if (!v)
        return;
    vr_error err = {0};
    pthread_mutex_lock(&v->refresh_lock);
    json_t *row = vr_db_query_one(db, HV_SELECT " WHERE id = ?", DB_ARGS(DB_TEXT(host_id)), &err);
    if (row || !err.code) { /* on database trouble keep the old numbers until the next poll */
        pthread_mutex_lock(&v->lock);
        /* A rename moves the entry, so always re-insert. */
        drop(v, host_id);
        if (row)
            put(v, row);
        pthread_mutex_unlock(&v->lock);
    }
    pthread_mutex_unlock(&v->refresh_lock);
    json_decref(row);
}

void vr_hostview_recount(vr_hostview *v, vr_db *db, const char *host_id)
{
    /* A migrating VM counts on both hosts until it lands: the source still
     * runs it, the destination must have room when it arrives. */
    vr_db_exec(db, "UPDATE hosts SET committed_mib = (SELECT coalesce(sum(memory_mib), 0) FROM vms"
               " WHERE (host_id = ? AND status != 'down') OR (migrating_to_host_id = ? AND status = 'migratingfrom')),"
               " pending_vcpus = (SELECT coalesce(sum(vcpus), 0) FROM vms WHERE host_id = ?"
               " AND status IN ('waitforlaunch', 'poweringup')) WHERE id = ?",
               DB_ARGS(DB_TEXT(host_id), DB_TEXT(host_id), DB_TEXT(host_id), DB_TEXT(host_id)), NULL);
    vr_hostview_refresh(v, db, host_id);
}

int vr_hostview_cluster(vr_hostview *v, const char *cluster_id, vr_sched_host **out, size_t *n)
{
    return vr_hostview_cluster_nets(v, cluster_id, NULL, 0, out, n);
}

/* The first of names that nets (",a,b,") does not hold; NULL when it holds every one. */
static const char *first_missing(const char *nets, const char *const *names, size_t nnames)
{
    for (size_t i = 0; i < nnames; i++) {
        const char *p = nets;
        size_t len = strlen(names[i]);
        bool found = false;
        while (!found && (p = strstr(p, names[i]))) {
            found = p > nets && p[-1] == ',' && p[len] == ',';
            p += len;
        }
        if (!found)
            return names[i];
    }
    return NULL;
}

int vr_hostview_cluster_nets(vr_hostview *v, const char *cluster_id, const char *const *nets, size_t nnets,
                             vr_sched_host **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&v->lock);
    vr_sched_host *hs = v->n ? malloc(v->n * sizeof(*hs)) : NULL;
    if (v->n && !hs) {
        pthread_mutex_unlock(&v->lock);
        return -1;
    }
    for (size_t i = 0; i < v->n; i++)
        if (!strcmp(v->v[i].cluster_id, cluster_id)) {
            hs[*n] = v->v[i].h;
            hs[*n].affinity_penalty = 0;
            hs[*n].missing_net = nnets ? first_missing(v->v[i].nets, nets, nnets) : NULL;
            hs[*n].lacks_network = hs[*n].missing_net != NULL;
            (*n)++;
        }
    pthread_mutex_unlock(&v->lock);
    if (*n == 0) {
        free(hs);
        hs = NULL;
    }
    *out = hs;
    return 0;
}
