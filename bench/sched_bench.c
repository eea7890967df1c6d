/* Time to place one VM among many hosts. Two figures:
 *   choose: the filter/weigh pass alone over N in-memory host rows;
 *   pick:   the engine's real path, including the database query that
 *           gathers hosts, stats and committed memory (needs a populated
 *           engine database, e.g. the one bench/engine_bench.py builds).
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
        json_t *hosts = json_array();
        for (int i = 0; i < n; i++)
            json_array_append_new(hosts, json_pack(
                "{s:s, s:f, s:I, s:s, s:I, s:I, s:I}", "status", "up", "cpu_percent",
                (double)((i * 7) % 90), "mem_total_mib", (json_int_t)512 * 1024, "virt_mode", "kvm",
                "max_vcpus", (json_int_t)240, "cpus", (json_int_t)64, "committed_mib",
                (json_int_t)(i % 13) * 1024));
        double t0 = now();
        int pick = -1;
        for (int k = 0; k < iter; k++)
            pick = vr_sched_choose(hosts, 1024, 2, "any", reason, sizeof(reason));
        printf("%.1f us per placement among %d hosts (picked %d)\n", (now() - t0) / iter * 1e6, n, pick);
        json_decref(hosts);
        return pick >= 0 ? 0 : 1;
    }
    if (argc == 5 && !strcmp(argv[1], "pick")) {
        vr_engine e = {0};
        vr_error err = {0};
        if (vr_db_open(argv[2], &e.db, &err) < 0) {
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
            if (vr_sched_pick(&e, vm, &host, reason, sizeof(reason), &err) < 0) {
                fprintf(stderr, "%s\n", err.message);
                return 1;
            }
            json_decref(host);
        }
        printf("%.1f us per placement with the database query\n", (now() - t0) / iter * 1e6);
        json_decref(vm);
        vr_db_close(e.db);
        return 0;
    }
    fprintf(stderr, "usage: sched_bench choose N ITER | sched_bench pick DB VM_ID ITER\n");
    return 2;
}
