/* Changes the engine runs as jobs (202 {"job":{"id","href"}}): printing
 * the job's reference, or waiting for the job to end (--wait). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine_cmd.h"
#include "table.h"

static double since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

int vr_job_wait(const vr_session *s, const char *job_id, long timeout)
{
    char *path = vr_entity_path(vr_kind_find("job"), job_id, NULL);
    struct timespec start, pause = {0, 250 * 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &start);
    int rc = path ? -1 : 3;
    size_t steps_told = 0;
    while (rc < 0) {
        vr_response r;
        if ((rc = vr_http(s, "GET", path, NULL, 0, &r)) != 0) {
            vr_response_free(&r);
            break;
        }
        /* pending and running go on; any status not known here too, so
         * that a newer engine's intermediate states do not end the wait. */
        const char *status = json_string_value(json_object_get(r.json, "status"));
        bool failed = status && (!strcmp(status, "failed") || !strcmp(status, "cancelled"));
        rc = status && !strcmp(status, "finished") ? 0 : failed ? 1 : -1;
        char *st = vr_text_clean(status ? status : "without a status");
        /* Each step as it starts, on stderr (stdout keeps the result): a
         * job that waits says why ("waiting for a migration slot on host
         * 'h0': 1 ahead") rather than hanging silently. */
        json_t *steps = json_object_get(r.json, "steps");
        for (; rc < 0 && steps_told < json_array_size(steps); steps_told++) {
            json_t *step = json_array_get(steps, steps_told);
            if (steps_told + 1 < json_array_size(steps) ||
                strcmp(json_string_value(json_object_get(step, "status")) ?: "", "running"))
                continue; /* only the step it is in now: a resumed wait does not replay the past */
            char *d = vr_text_clean(json_string_value(json_object_get(step, "description")));
            if (d && *d)
                fprintf(stderr, "vireo: job %s: %s\n", job_id, d);
            free(d);
        }
        if (failed) {
            char *detail = vr_text_clean(json_string_value(json_object_get(r.json, "detail")));
            fprintf(stderr, "vireo: job %s %s%s%s\n", job_id, st, detail && *detail ? ": " : "",
                    detail ? detail : "");
            free(detail);
        } else if (rc < 0 && since(&start) >= (double)timeout) {
            fprintf(stderr, "vireo: job %s still %s after %ld s ('vireo job show %s' follows it)\n", job_id, st,
                    timeout, job_id);
            rc = 1;
        }
        free(st);
        vr_response_free(&r);
        if (rc < 0)
            nanosleep(&pause, NULL);
    }
    free(path);
    return rc;
}

int vr_job_answer(const vr_session *s, const vr_response *r, const args *a, bool *waited)
{
    json_t *job = json_object_get(r->json, "job");
    const char *id = json_string_value(json_object_get(job, "id"));
    *waited = false;
    if (r->status != 202 || !id) { /* done at once: the answer is the result */
        if (r->len)
            vr_print_entity(r, a->json);
        return 0;
    }
    if (!a->wait) {
        if (a->json)
            vr_print_raw(r);
        else
            vr_show_print(stdout, job);
        return 0;
    }
    int rc = vr_job_wait(s, id, a->timeout);
    *waited = rc == 0;
    return rc;
}

int vr_get_print(const vr_session *s, const char *path, bool json)
{
    vr_response r;
    int rc = vr_http(s, "GET", path, NULL, 0, &r);
    if (rc == 0)
        vr_print_entity(&r, json);
    vr_response_free(&r);
    return rc;
}
