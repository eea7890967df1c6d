/* API request counts and latencies for GET /metrics, per method and route
 * class: the path with ids replaced by {id} and anything the API does not
 * serve by {unknown} (/api/vms/{id}/start), so clients cannot make the
 * label sets grow without bound. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "hist.h"

/* The route class of a decoded request path, into out. */
void vr_route_class(const char *path, char *out, size_t len);

/* The HTTP server's observer (vr_http_observer): counts one answered
 * request. ctx is unused. */
void vr_apistats_observe(void *ctx, const char *method, const char *path, int status, double seconds);

/* Visit every (method, route) seen: its latency histogram and its counts
 * per status code (codes[i], counts[i] for i < ncodes). */
typedef void (*vr_apistats_visit)(void *cls, const char *method, const char *route, const vr_hist *latency,
                                  const int *codes, const uint64_t *counts, int ncodes);
void vr_apistats_each(vr_apistats_visit visit, void *cls);
