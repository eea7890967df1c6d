/* Time to place one VM among many hosts. Two figures:
 *   choose: the filter/weigh pass alone over N in-memory host rows;
 *   pick:   the engine's real path: the cluster row, the in-memory host
 *           view (loaded from a populated engine database, e.g. the one
 *           bench/engine_bench.py builds) and the chosen host's row.
 * usage: sched_bench choose N ITER | sched_bench pick DB_PATH VM_ID ITER */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scheduler.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    char reason[512];
    if (argc == 4 && !strcmp(argv[1], "choose")) {
        int n = atoi(argv[2]), iter = atoi(argv[3]);
        vr_sched_host *hosts = calloc((size_t)n, sizeof(*hosts));
        for (int i = 0; i < n; i++)
            hosts[i] = (vr_sched_host){.status = "up", .virt_mode = "kvm",
                                       .cpu_percent = (double)((i * 7) % 90),
                                       .mem_total_mib = 512 * 1024, .max_vcpus = 240, .cpus = 64,
                                       .committed_mib = (long long)(i % 13) * 1024};
        double t0 = now();
        int pick = -1;
        for (int k = 0; k < iter; k++)
            pick = vr_sched_choose(hosts, (size_t)n, 1024, 2, "any", reason, sizeof(reason));
        printf("%.1f us per placement among %d hosts (picked %d)\n", (now() - t0) / iter * 1e6, n, pick);
        free(hosts);
        return pick >= 0 ? 0 : 1;
    }
    if (argc == 5 && !strcmp(argv[1], "pick")) {
        vr_engine e = {0};
        vr_error err = {0};
        if (vr_db_open(argv[2], &e.db, &err) < 0 || vr_hostview_new(e.db, &e.view, &err) < 0) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
        json_t *vm = vr_db_query_one(e.db, "SELECT id, cluster_id, memory_mib, vcpus FROM vms WHERE id = ?",
                                     DB_ARGS(DB_TEXT(argv[3])), &err);
        if (!vm) {
            fprintf(stderr, "no such VM\n");
            return 1;
        }
        int iter = atoi(argv[4]);
        double t0 = now();
        for (int k = 0; k < iter; k++) {
            json_t *host = NULL;
            if (vr_sched_pick(&e, vm, NULL, &host, reason, sizeof(reason), &err) < 0) {
                fprintf(stderr, "%s\n", err.message);
                return 1;
            }
            json_decref(host);
        }
        printf("%.1f us per placement as the engine does it (host view in memory, cluster and"
               " chosen host rows from the database)\n", (now() - t0) / iter * 1e6);
        vr_hostview_free(e.view);
        json_decref(vm);
        vr_db_close(e.db);
        return 0;
    }
    fprintf(stderr, "usage: sched_bench choose N ITER | sched_bench pick DB VM_ID ITER\n");
    return 2;
}
