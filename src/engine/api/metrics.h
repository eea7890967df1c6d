/* GET /metrics: the engine's figures in Prometheus' text exposition format
 * 0.0.4 (docs/operations.md lists every metric). Authenticated like the
 * API (the caller checks the bearer token first). */
#pragma once

#include "engine.h"
#include "http.h"
#include "promtext.h"

/* Answer an authenticated GET /metrics. */
void vr_metrics_serve(vr_engine *e, vr_http_req *req, vr_http_resp *resp);

/* The fleet's part (metrics_fleet.c): hosts, VMs, jobs and storage
 * domains from the database and the VMs' last statistics. -1 when the
 * database did not answer (err set). */
int vr_metrics_fleet(vr_engine *e, vr_prom *p, vr_error *err);
