/* The agent's job records (src/agent/job_store.c, long_jobs.c): a job is
 * on disk from its start to its end; a restarted agent reads the records
 * back, fails the one that was running as interrupted with what it left,
 * keeps finished ones as they were, and skips files that are not records;
 * a bad job directory is refused. A job's outcome ("pivoted") is on disk
 * the moment it is set and survives the interruption. */
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>

#include "check.h"
#include "job_store.h"
#include "long_jobs.h"
#include "verbs.h"

#define RUNNING "6f1c2a52-1d0e-4c55-9b1e-0a3c2f4d5e61"
#define DONE "6f1c2a52-1d0e-4c55-9b1e-0a3c2f4d5e62"
#define BROKEN "6f1c2a52-1d0e-4c55-9b1e-0a3c2f4d5e63"
#define PIVOTED "6f1c2a52-1d0e-4c55-9b1e-0a3c2f4d5e64"

static char dir[PATH_MAX - 64]; /* room for a record name below it */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void put(const char *name, const char *text)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/%.48s", dir, name);
    FILE *f = fopen(p, "w");
    CHECK(f && fputs(text, f) >= 0);
    if (f)
        fclose(f);
}

static json_t *on_disk(const char *id)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/%s.json", dir, id);
    return json_load_file(p, 0, NULL);
}

static json_t *job_get(vr_agent *a, const char *id)
{
    const vr_verb *v = NULL;
    for (const vr_verb *x = vr_job_verbs; x->name; x++)
        if (!strcmp(x->name, "Job.get"))
            v = x;
    json_t *params = json_pack("{s:s}", "id", id), *res = NULL;
    vr_error err = {0};
    if (!v || v->fn(a, params, &res, &err) < 0)
        res = NULL;
    json_decref(params);
    return res;
}

int main(void)
{
    char base[] = "/tmp/vireo-jobstore-XXXXXX";
    CHECK(mkdtemp(base) != NULL);
    vr_agent a = {0};
    vr_error err = {0};
    vr_long_jobs_stop(); /* no server here: no notifications */

    /* refused: relative, or a file where the directory should be */
    CHECK(vr_job_store_open("jobs", &err) < 0);
    snprintf(dir, sizeof(dir), "%.64s/file", base);
    FILE *f = fopen(dir, "w");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    vr_error_clear(&err);
    CHECK(vr_long_jobs_restore(&a, dir, &err) < 0);
    CHECK_STR_CONTAINS(err.message, "not a directory");

    /* the records a stopped agent left, and some files that are not */
    snprintf(dir, sizeof(dir), "%.64s/lib/jobs", base);
    char lib[PATH_MAX];
    snprintf(lib, sizeof(lib), "%s/lib", base);
    CHECK(mkdir(lib, 0755) == 0 && mkdir(dir, 0700) == 0);
    put(RUNNING ".json", "{\"id\": \"" RUNNING "\", \"kind\": \"Volume.copy\", \"vm_uuid\": \"\","
        " \"vm_name\": \"volume v1\", \"state\": \"running\", \"progress\": 40, \"detail\": \"copying: 40%\","
        " \"cancel_requested\": false, \"started_at\": \"2026-11-30T09:00:01Z\", \"ended_at\": null,"
        " \"on_interrupt\": \"volume v1 of image i1 on storage domain d1 is left ILLEGAL (the SPM removes it)\"}");
    put(DONE ".json", "{\"id\": \"" DONE "\", \"kind\": \"VM.shutdown\", \"vm_uuid\": \"u\", \"vm_name\": \"web1\","
        " \"state\": \"succeeded\", \"progress\": 100, \"detail\": \"VM web1 powered off\","
        " \"cancel_requested\": false, \"started_at\": \"2026-11-30T08:00:00Z\","
        " \"ended_at\": \"2026-11-30T08:00:09Z\"}");
    put(PIVOTED ".json", "{\"id\": \"" PIVOTED "\", \"kind\": \"VM.blockCopy\", \"vm_uuid\": \"u2\","
        " \"vm_name\": \"db1\", \"state\": \"running\", \"progress\": 99, \"detail\": \"mirroring: 99%\","
        " \"cancel_requested\": false, \"started_at\": \"2026-11-30T09:10:00Z\", \"ended_at\": null,"
        " \"outcome\": \"pivoted\"}");
    put(BROKEN ".json", "{\"id\": ");
    put(BROKEN ".json.tmp", "{}");
    put("notes.txt", "x");
    vr_error_clear(&err);
    CHECK(vr_long_jobs_restore(&a, dir, &err) == 0);

    json_t *j = job_get(&a, RUNNING);
    CHECK(j != NULL);
    CHECK(!strcmp(json_string_value(json_object_get(j, "state")) ?: "", "failed"));
    CHECK(json_is_true(json_object_get(j, "interrupted")));
    CHECK(json_is_string(json_object_get(j, "ended_at")));
    CHECK_STR_CONTAINS(json_string_value(json_object_get(j, "detail")), "interrupted: the agent stopped");
    CHECK_STR_CONTAINS(json_string_value(json_object_get(j, "detail")), "(copying: 40%)");
    CHECK_STR_CONTAINS(json_string_value(json_object_get(j, "detail")), "volume v1 of image i1");
    json_decref(j);
    j = on_disk(RUNNING); /* the verdict is recorded too */
    CHECK(j && !strcmp(json_string_value(json_object_get(j, "state")) ?: "", "failed"));
    json_decref(j);
    j = job_get(&a, PIVOTED); /* interrupted, but what it did stays known */
    CHECK(j && !strcmp(json_string_value(json_object_get(j, "state")) ?: "", "failed"));
    CHECK(j && json_is_true(json_object_get(j, "interrupted")));
    CHECK(j && !strcmp(json_string_value(json_object_get(j, "outcome")) ?: "", "pivoted"));
    json_decref(j);
    j = on_disk(PIVOTED);
    CHECK(j && !strcmp(json_string_value(json_object_get(j, "outcome")) ?: "", "pivoted"));
    json_decref(j);
    j = job_get(&a, DONE);
    CHECK(j && !json_object_get(j, "outcome"));
    json_decref(j);
    j = job_get(&a, DONE);
    CHECK(j && !strcmp(json_string_value(json_object_get(j, "state")) ?: "", "succeeded"));
    CHECK(j && !json_object_get(j, "interrupted"));
    CHECK(j && !strcmp(json_string_value(json_object_get(j, "detail")) ?: "", "VM web1 powered off"));
    json_decref(j);
    CHECK(job_get(&a, BROKEN) == NULL);

    /* a new job is on disk from its start to its end */
    vr_long_job *nj = vr_long_job_new(&a, "Volume.copy", "", "volume v2", "copying volume v0 to v2");
    CHECK(nj != NULL);
    char id[37];
    snprintf(id, sizeof(id), "%s", vr_long_job_id(nj));
    vr_long_job_on_interrupt(nj, "volume v2 is left ILLEGAL");
    j = on_disk(id);
    CHECK(j && !strcmp(json_string_value(json_object_get(j, "state")) ?: "", "running"));
    CHECK(j && !strcmp(json_string_value(json_object_get(j, "on_interrupt")) ?: "", "volume v2 is left ILLEGAL"));
    json_decref(j);
    vr_long_job_set_outcome(nj, "pivoting"); /* on disk at once, between progress steps */
    j = on_disk(id);
    CHECK(j && !strcmp(json_string_value(json_object_get(j, "outcome")) ?: "", "pivoting"));
    json_decref(j);
    vr_long_job_set_outcome(nj, "");
    j = on_disk(id);
    CHECK(j && !json_object_get(j, "outcome"));
    json_decref(j);
    vr_long_job_progress(nj, 55, "copying: 55%");
    j = on_disk(id);
    CHECK(j && json_integer_value(json_object_get(j, "progress")) == 55);
    json_decref(j);
    vr_long_job_finish(nj, VR_JOB_SUCCEEDED, "volume v2 copied");
    j = on_disk(id);
    CHECK(j && !strcmp(json_string_value(json_object_get(j, "state")) ?: "", "succeeded"));
    CHECK(j && json_integer_value(json_object_get(j, "progress")) == 100);
    json_decref(j);

    CHECK(nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0);
    return CHECK_DONE();
}
