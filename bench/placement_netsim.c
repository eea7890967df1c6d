/* Engine placement with network filters at scale, against "netsim": a
 * simulated fleet that is only rows in a fresh SQLite database (no agents,
 * no monitors): one data center with NETS VLAN networks (each with its
 * default vNIC profile), one cluster, N up hosts with varied load, each
 * running every network except a deterministic few (hosts i % 4 == 0 lack
 * net03, i % 5 == 0 lack net12: the networks' filter leaves 60 %), and a
 * VM with 4 NICs on net00, net03, net07 and net12. It times:
 *   pick:    vr_sched_pick, the engine's whole decision (cluster row, the
 *            VM's networks from its NICs' profiles, the in-memory host
 *            view with the network filter, placement policy, affinity,
 *            filters and weights, the winner's row);
 *   memory:  the in-memory part alone (host view copy with the network
 *            filter, then filters and weights).
 * and checks every pick runs all four networks.
 * usage: placement_netsim [N (400)] [ITER (2000)]; docs/performance.md. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scheduler.h"
#include "store_networks.h"

#define NETS 20

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int die(const char *what, vr_error *err)
{
    fprintf(stderr, "netsim: %s: %s\n", what, err->message);
    return 1;
}

/* The simulated fleet; the VM's row (with its spec) in *vm. */
static int simulate(vr_engine *e, int n, json_t **vm, vr_error *err)
{
    const char *dc = "5e000000-0000-4000-8000-000000000001", *cl = "5e000000-0000-4000-8000-000000000002";
    if (vr_db_exec(e->db, "INSERT INTO datacenters (id, name, created_at) VALUES (?, 'simdc', 0)",
                   DB_ARGS(DB_TEXT(dc)), err) < 0 ||
        vr_db_exec(e->db, "INSERT INTO clusters (id, name, datacenter_id, created_at) VALUES (?, 'simcl', ?, 0)",
                   DB_ARGS(DB_TEXT(cl), DB_TEXT(dc)), err) < 0 || vr_db_begin(e->db, err) < 0)
        return -1;
    char prof[NETS][37];
    for (int k = 0; k < NETS; k++) {
        char id[37], name[16];
        snprintf(id, sizeof(id), "5e000000-0000-4000-8001-%012d", k);
        snprintf(name, sizeof(name), "net%02d", k);
        if (vr_net_insert(e, id, dc, name, "", true, 100 + k, 1500, "", "", err) < 0)
            return -1;
        json_t *p = vr_db_query_one(e->db, "SELECT id FROM vnic_profiles WHERE network_id = ?", DB_ARGS(DB_TEXT(id)),
                                    err);
        if (!p)
            return -1;
        snprintf(prof[k], sizeof(prof[k]), "%s", json_string_value(json_object_get(p, "id")));
        json_decref(p);
    }
    for (int i = 0; i < n; i++) {
        char id[37], name[32], nets[NETS * 8] = ",";
        snprintf(id, sizeof(id), "5e000000-0000-4000-8002-%012d", i);
        snprintf(name, sizeof(name), "simhost%04d", i);
        for (int k = 0; k < NETS; k++)
            if (!(k == 3 && i % 4 == 0) && !(k == 12 && i % 5 == 0))
                snprintf(nets + strlen(nets), sizeof(nets) - strlen(nets), "net%02d,", k);
        if (vr_db_exec(e->db, "INSERT INTO hosts (id, name, cluster_id, address, port, status, created_at,"
                       " cpu_percent, mem_total_mib, virt_mode, max_vcpus, cpus, committed_mib, net_names)"
                       " VALUES (?, ?, ?, '192.0.2.1', 54321, 'up', 0, ?, 524288, 'kvm', 240, 64, ?, ?)",
                       DB_ARGS(DB_TEXT(id), DB_TEXT(name), DB_TEXT(cl), DB_REAL((double)((i * 7) % 90)),
                               DB_INT((long long)(i % 13) * 1024), DB_TEXT(nets)), err) < 0)
            return -1;
    }
    char spec[1024];
    snprintf(spec, sizeof(spec), "{\"nics\": [{\"mac\": \"56:6f:00:00:00:01\", \"profile\": \"%s\"},"
             " {\"mac\": \"56:6f:00:00:00:02\", \"profile\": \"%s\"}, {\"mac\": \"56:6f:00:00:00:03\","
             " \"profile\": \"%s\"}, {\"mac\": \"56:6f:00:00:00:04\", \"profile\": \"%s\"}]}",
             prof[0], prof[3], prof[7], prof[12]);
    if (vr_db_exec(e->db, "INSERT INTO vms (id, name, cluster_id, status, memory_mib, vcpus, spec_json, created_at)"
                   " VALUES ('5e000000-0000-4000-8003-000000000001', 'simvm', ?, 'down', 1024, 2, ?, 0)",
                   DB_ARGS(DB_TEXT(cl), DB_TEXT(spec)), err) < 0 || vr_db_commit(e->db, err) < 0)
        return -1;
    *vm = vr_db_query_one(e->db, "SELECT id, cluster_id, memory_mib, vcpus, spec_json FROM vms WHERE name = 'simvm'",
                          DB_NOARGS, err);
    return *vm ? 0 : -1;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 400, iter = argc > 2 ? atoi(argv[2]) : 2000;
    if (n < 1 || iter < 1) {
        fprintf(stderr, "usage: placement_netsim [N] [ITER]\n");
        return 2;
    }
    /* The database in a directory of its own: SQLite's side files go with it. */
    char dir[] = "/tmp/vireo-netsim-XXXXXX", path[64];
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof(path), "%s/engine.db", dir);
    vr_engine e = {0};
    vr_error err = {0};
    json_t *vm = NULL;
    int rc = 1;
    if (vr_db_open(path, &e.db, &err) < 0)
        return die("database", &err);
    if (simulate(&e, n, &vm, &err) < 0 || vr_hostview_new(e.db, &e.view, &err) < 0) {
        rc = die("simulated fleet", &err);
        goto out;
    }
    char reason[512];
    int wrong = 0;
    double t0 = now();
    for (int k = 0; k < iter; k++) {
        json_t *host = NULL;
        if (vr_sched_pick(&e, vm, NULL, &host, reason, sizeof(reason), &err) < 0) {
            rc = die("pick", &err);
            goto out;
        }
        int i = atoi(strrchr(json_string_value(json_object_get(host, "name")), 't') + 1);
        wrong += i % 4 == 0 || i % 5 == 0;
        json_decref(host);
    }
    double pick = (now() - t0) / iter;
    const char *nets[] = {"net00", "net03", "net07", "net12"};
    vr_sched_host *hosts = NULL;
    size_t nh = 0, pass = 0;
    t0 = now();
    for (int k = 0; k < iter; k++) {
        free(hosts);
        if (vr_hostview_cluster_nets(e.view, "5e000000-0000-4000-8000-000000000002", nets, 4, &hosts, &nh) < 0 ||
            vr_sched_choose(hosts, nh, 1024, 2, "any", reason, sizeof(reason)) < 0) {
            fprintf(stderr, "netsim: in-memory placement failed: %s\n", reason);
            goto out;
        }
    }
    double mem = (now() - t0) / iter;
    for (size_t i = 0; i < nh; i++)
        pass += !hosts[i].lacks_network;
    free(hosts);
    printf("netsim: %d hosts, %d networks, a VM on 4 of them: %zu hosts run all four\n", n, NETS, pass);
    printf("pick (the engine's whole decision): %.1f us per placement (%d runs, %d on a host lacking a network)\n",
           pick * 1e6, iter, wrong);
    printf("in memory (host view with the network filter, filters and weights): %.1f us\n", mem * 1e6);
    rc = wrong ? 1 : pick < 1e-3 ? 0 : 3;
out:
    json_decref(vm);
    vr_hostview_free(e.view);
    vr_db_close(e.db);
    DIR *d = opendir(dir);
    for (struct dirent *f = d ? readdir(d) : NULL; f; f = readdir(d))
        if (f->d_name[0] != '.')
            unlinkat(dirfd(d), f->d_name, 0);
    if (d)
        closedir(d);
    rmdir(dir);
    return rc;
}
