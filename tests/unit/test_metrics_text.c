/* The Prometheus text writer (api/promtext.c), the route classes that
 * label API requests (api/apistats.c) and the histograms (common/hist.c):
 * escaping of any label value, HELP text, numbers, cumulative buckets, and
 * paths clients control never becoming labels. */
#include <math.h>
#include <stdlib.h>

#include "apistats.h"
#include "check.h"
#include "hist.h"
#include "promtext.h"

static void check_escaping(void)
{
    vr_prom p = {0};
    vr_prom_family(&p, "m", "gauge", "help with \\ and\nnewline \"kept\"");
    vr_prom_sample(&p, "m", VR_LABELS("a", "q\"b\\s\nn", "b", "\xff" "x"), 1.5);
    vr_prom_sample(&p, "m", VR_NO_LABELS, NAN);
    vr_prom_sample(&p, "m", VR_LABELS("a", ""), INFINITY);
    vr_prom_sample(&p, "m", VR_LABELS("a", "big"), 12345678901.0);
    char *t = vr_prom_take(&p);
    CHECK_STR_CONTAINS(t, "# HELP m help with \\\\ and\\nnewline \"kept\"\n# TYPE m gauge\n");
    CHECK_STR_CONTAINS(t, "m{a=\"q\\\"b\\\\s\\nn\",b=\"\xEF\xBF\xBDx\"} 1.5\n"); /* invalid byte: U+FFFD */
    CHECK_STR_CONTAINS(t, "m NaN\n");
    CHECK_STR_CONTAINS(t, "m{a=\"\"} +Inf\n");
    CHECK_STR_CONTAINS(t, "m{a=\"big\"} 12345678901\n");
    free(t);
}

static void check_histogram(void)
{
    static const double bounds[] = {0.1, 1};
    vr_hist h = VR_HIST_INIT(bounds);
    vr_hist_observe_ns(&h, 50000000);   /* 0.05 s */
    vr_hist_observe_ns(&h, 100000000);  /* 0.1 s: its bound counts it (le) */
    vr_hist_observe_ns(&h, 2000000000); /* 2 s: only +Inf */
    vr_prom p = {0};
    vr_prom_histogram(&p, "d", VR_LABELS("k", "v"), &h);
    char *t = vr_prom_take(&p);
    CHECK_STR_CONTAINS(t, "d_bucket{k=\"v\",le=\"0.1\"} 2\n");
    CHECK_STR_CONTAINS(t, "d_bucket{k=\"v\",le=\"1\"} 2\n");
    CHECK_STR_CONTAINS(t, "d_bucket{k=\"v\",le=\"+Inf\"} 3\n");
    CHECK_STR_CONTAINS(t, "d_sum{k=\"v\"} 2.15");
    CHECK_STR_CONTAINS(t, "d_count{k=\"v\"} 3\n");
    free(t);
}

static void check_routes(void)
{
    static const char *const cases[][2] = {
        {"/metrics", "/metrics"},
        {"/api", "/api"},
        {"/api/sso/token", "/api/sso/token"},
        {"/api/vms", "/api/vms"},
        {"/api/vms/6f1c0f5e-0000-4000-8000-000000000001", "/api/vms/{id}"},
        {"/api/vms/x/start", "/api/vms/{id}/start"},
        {"/api/vms/x/nosuchaction", "/api/vms/{id}/{unknown}"},
        {"/api/vms/x/nics", "/api/vms/{id}/nics"},
        {"/api/vms/x/nics/56:6f:00:00:00:01", "/api/vms/{id}/nics/{id}"},
        {"/api/datacenters/x/clusters", "/api/datacenters/{id}/clusters"},
        {"/api/disks/x/content", "/api/disks/{id}/content"},
        {"/api/hosts/x/statistics/history", "/api/hosts/{id}/statistics/history"},
        {"/api/vms/x/statistics/history", "/api/vms/{id}/statistics/history"},
        {"/api/vms/x/statistics/other", "/api/vms/{id}/{unknown}"},
        {"/api/clusters/x/statistics/history", "/api/clusters/{id}/{unknown}"},
        {"/api/whatever/x", "/api/{unknown}"},
        {"/api/", "/api/{unknown}"},
        {"/etc/passwd", "{other}"},
        {"/", "{portal}"},
        {"/admin", "{portal}"},
        {"/vm/x", "{portal}"},
        {"/portal/assets/a.woff2", "{portal}"},
        {"/vms", "{other}"},
        {"/administrator", "{other}"},
        {"/api/vms/x/start/extra", "/api/vms/{id}/{unknown}"},
        {"/api/users/me", "/api/users/me"},
        {"/api/users/x", "/api/users/{id}"},
        {"/api/storagedomains/x/vms", "/api/storagedomains/{id}/vms"},
        {"/api/storagedomains/x/vms/y/import", "/api/storagedomains/{id}/vms/{id}/import"},
        {"/api/storagedomains/x/vms/y/other", "/api/storagedomains/{id}/{unknown}"},
        {"/api/domains/x/users", "/api/domains/{id}/users"},
        {"/api/domains/x", "/api/domains/{id}"},
        {"/api/domains//users", "/api/domains/{id}/{unknown}"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[128];
        vr_route_class(cases[i][0], out, sizeof(out));
        if (strcmp(out, cases[i][1])) {
            fprintf(stderr, "route class of %s: %s, expected %s\n", cases[i][0], out, cases[i][1]);
            check_failures++;
        }
    }
}

int main(void)
{
    check_escaping();
    check_histogram();
    check_routes();
    return CHECK_DONE();
}
