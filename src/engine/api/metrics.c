/* GET /metrics: the fleet (metrics_fleet.c), then the engine's own work:
 * API requests and their latencies (apistats.c), database timings
 * (db.c). */
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>

#include "apistats.h"
#include "fault.h"

/* The process's start, for vireo_engine_start_time_seconds. */
static double started_s;
__attribute__((constructor)) static void note_start(void)
{
    started_s = (double)vr_now_ms() / 1000.0;
}

static void api_counts(void *cls, const char *method, const char *route, const vr_hist *latency,
                       const int *codes, const uint64_t *counts, int ncodes)
{
    (void)latency;
    vr_prom *p = cls;
    for (int i = 0; i < ncodes; i++) {
        char code[8];
        snprintf(code, sizeof(code), "%d", codes[i]);
        vr_prom_sample(p, "vireo_api_requests_total", VR_LABELS("method", method, "route", route, "code", code),
                       (double)counts[i]);
    }
}

static void api_latency(void *cls, const char *method, const char *route, const vr_hist *latency,
                        const int *codes, const uint64_t *counts, int ncodes)
{
    (void)codes;
    (void)counts;
    (void)ncodes;
    vr_prom_histogram(cls, "vireo_api_request_duration_seconds", VR_LABELS("method", method, "route", route),
                      latency);
}

static void engine_part(vr_engine *e, vr_prom *p)
{
    vr_prom_family(p, "vireo_engine_info", "gauge", "The engine's database backend and schema version.");
    char schema[16];
    snprintf(schema, sizeof(schema), "%d", vr_db_version(e->db));
    vr_prom_sample(p, "vireo_engine_info", VR_LABELS("database", vr_db_backend(e->db), "schema", schema), 1);
    vr_prom_family(p, "vireo_engine_start_time_seconds", "gauge", "When the engine process started.");
    vr_prom_sample(p, "vireo_engine_start_time_seconds", VR_NO_LABELS, started_s);

    vr_prom_family(p, "vireo_api_requests_total", "counter",
                   "API requests answered, per method, route class and status code.");
    vr_apistats_each(api_counts, p);
    vr_prom_family(p, "vireo_api_request_duration_seconds", "histogram",
                   "Time from a request's first line to its answer sent, per method and route class.");
    vr_apistats_each(api_latency, p);

    static const char *const kinds[] = {"read", "write"};
    vr_db_timings t;
    vr_db_get_timings(&t);
    vr_prom_family(p, "vireo_db_statement_duration_seconds", "histogram",
                   "Time a database statement ran on its connection (read: queries; write: the rest).");
    for (int k = 0; k < 2; k++)
        vr_prom_histogram(p, "vireo_db_statement_duration_seconds", VR_LABELS("kind", kinds[k]), t.run[k]);
    vr_prom_family(p, "vireo_db_connection_wait_seconds", "histogram",
                   "Time a database statement waited for a free connection.");
    for (int k = 0; k < 2; k++)
        vr_prom_histogram(p, "vireo_db_connection_wait_seconds", VR_LABELS("kind", kinds[k]), t.wait[k]);
    vr_prom_family(p, "vireo_db_transaction_duration_seconds", "histogram",
                   "Time from a transaction's begin to its commit or rollback (the main connection is held).");
    vr_prom_histogram(p, "vireo_db_transaction_duration_seconds", VR_NO_LABELS, t.transaction);
    vr_prom_family(p, "vireo_db_errors_total", "counter", "Database statements that failed.");
    for (int k = 0; k < 2; k++)
        vr_prom_sample(p, "vireo_db_errors_total", VR_LABELS("kind", kinds[k]), (double)t.errors[k]);
}

void vr_metrics_serve(vr_engine *e, vr_http_req *req, vr_http_resp *resp)
{
    (void)req;
    vr_prom p = {0};
    vr_error err = {0};
    if (vr_metrics_fleet(e, &p, &err) < 0) {
        free(vr_prom_take(&p));
        vr_fault(resp, &err);
        return;
    }
    engine_part(e, &p);
    char *text = vr_prom_take(&p);
    if (!text) {
        vr_http_fault(resp, 500, "Internal Server Error", "out of memory writing the metrics");
        return;
    }
    resp->status = 200;
    resp->text = text;
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
}
