#include "jobs.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "i18n.h"
#include "log.h"

const char *const vr_job_status_names[VR_JOB_NSTATUS] = {
    [VR_JOB_PENDING] = "pending", [VR_JOB_RUNNING] = "running", [VR_JOB_FINISHED] = "finished",
    [VR_JOB_FAILED] = "failed", [VR_JOB_CANCELLED] = "cancelled"};

int vr_job_cancel(vr_engine *e, const char *job_id, const char *user, vr_error *err)
{
    /* One conditional UPDATE: two cancels cannot both be the first. */
    int n = vr_db_exec(e->db, "UPDATE jobs SET cancel_requested = 1, updated_at = ? WHERE id = ?"
                       " AND status IN ('pending', 'running') AND cancel_requested = 0",
                       DB_ARGS(DB_INT(vr_now()), DB_TEXT(job_id)), err);
    if (n < 0)
        return -1;
    if (n == 1) {
        vr_event(e, "normal", user, "job", job_id, "cancel of job %s requested", job_id);
        return 0;
    }
    json_t *row = vr_db_query_one(e->db, "SELECT status, cancel_requested FROM jobs WHERE id = ?",
                                  DB_ARGS(DB_TEXT(job_id)), err);
    if (!row)
        return err->code ? -1 : vr_error_set(err, VR_ERR_NOT_FOUND, "no job with id '%s'", job_id);
    const char *st = json_string_value(json_object_get(row, "status")) ?: "?";
    if (!strcmp(st, "pending") || !strcmp(st, "running"))
        vr_error_set(err, VR_ERR_BAD_STATE, "job %s is already being cancelled", job_id);
    else
        vr_error_set(err, VR_ERR_BAD_STATE, "job %s has ended (%s); there is nothing to cancel", job_id, st);
    json_decref(row);
    return -1;
}

bool vr_job_cancel_requested(vr_engine *e, const char *job_id)
{
    json_t *row = vr_db_query_one(e->db, "SELECT cancel_requested FROM jobs WHERE id = ?",
                                  DB_ARGS(DB_TEXT(job_id)), NULL);
    bool yes = row && json_integer_value(json_object_get(row, "cancel_requested")) != 0;
    json_decref(row);
    return yes;
}

/* Set a job's status and detail and keep its steps: a new detail while
 * running starts a step (closing the previous one); the final status
 * closes the last step as finished or failed. Only the job's own thread
 * writes its row, so read-modify-write is safe. */
/* One write of a job's status, detail (also as message id and arguments)
 * and steps; -1 when the database refused it (errp says why). */
static int job_write_ids(vr_engine *e, const char *job_id, const char *status, const char *detail,
                         const char *did, const char *dargs, long long now, vr_error *errp)
{
    vr_error err = {0};
    json_t *row = vr_db_query_one(e->db, "SELECT steps_json FROM jobs WHERE id = ?",
                                  DB_ARGS(DB_TEXT(job_id)), &err);
    json_t *steps = json_incref(json_object_get(row, "steps"));
    json_decref(row);
    if (!json_is_array(steps)) {
        json_decref(steps);
        if (err.code) { /* the history cannot be read: keep it, update the rest */
            return vr_db_exec(e->db, "UPDATE jobs SET status = ?, detail = ?, detail_id = ?, detail_args = ?,"
                              " updated_at = ? WHERE id = ?",
                              DB_ARGS(DB_TEXT(status), DB_TEXT(detail), did ? DB_TEXT(did) : DB_NULL,
                                      dargs ? DB_TEXT(dargs) : DB_NULL, DB_INT(now), DB_TEXT(job_id)), errp) < 0
                       ? -1 : 0;
        }
        steps = json_array();
    }
    bool final = strcmp(status, "running") && strcmp(status, "pending");
    bool failed = !strcmp(status, "failed") || !strcmp(status, "cancelled");
    json_t *last = json_array_get(steps, json_array_size(steps) - 1);
    const char *last_desc = json_string_value(json_object_get(last, "description")) ?: "";
    bool last_open = last && !strcmp(json_string_value(json_object_get(last, "status")) ?: "", "running");
    if (last_open && (final || (*detail && strcmp(last_desc, detail)))) {
        /* A step still open when its job is resumed was cut short by an engine stop. */
        json_object_set_new(last, "status", json_string(final && failed ? "failed"
                                                        : !strcmp(status, "pending") ? "interrupted"
                                                                                     : "finished"));
        json_object_set_new(last, "ended_at", json_integer(now));
    }
    if (!final && *detail && (!last || strcmp(last_desc, detail))) {
        json_t *step = json_pack("{s:s, s:s, s:I, s:n}", "description", detail, "status", "running", "started_at",
                                 (json_int_t)now, "ended_at");
        json_t *args = did && dargs ? json_loads(dargs, 0, NULL) : NULL;
        if (step && args) /* its message id too, rendered per reader (api/kinds_events.c) */
            json_object_set_new(step, "i18n", json_pack("{s:s, s:o}", "id", did, "args", args));
        else
            json_decref(args);
        json_array_append_new(steps, step);
    }
    char *text = json_dumps(steps, JSON_COMPACT);
    int progress = !strcmp(status, "finished") ? 100 : -1; /* else as the job last said */
    int rc = vr_db_exec(e->db, "UPDATE jobs SET status = ?, detail = ?, detail_id = ?, detail_args = ?,"
                        " steps_json = ?, updated_at = ?, progress = CASE WHEN ? < 0 THEN progress ELSE ? END"
                        " WHERE id = ?",
                        DB_ARGS(DB_TEXT(status), DB_TEXT(detail), did ? DB_TEXT(did) : DB_NULL,
                                dargs ? DB_TEXT(dargs) : DB_NULL, DB_TEXT(text ? text : "[]"), DB_INT(now),
                                DB_INT(progress), DB_INT(progress), DB_TEXT(job_id)), errp);
    free(text);
    json_decref(steps);
    return rc < 0 ? -1 : 0;
}

/* job_write_ids with the detail's message id and arguments. */
static int job_write(vr_engine *e, const char *job_id, const char *status, const char *detail, vr_error *errp)
{
    long long now = vr_now();
    /* The detail as a message id and arguments too (docs/rest-api.md
     * "Languages"): an error this thread just set keeps its own; any
     * other text is its own id (translated when the catalog knows it). */
    json_t *m = *detail ? vr_i18n_recall(detail) : NULL;
    const char *did = m ? json_string_value(json_object_get(m, "id")) : *detail ? detail : NULL;
    char *dargs = m ? json_dumps(json_object_get(m, "args"), JSON_COMPACT) : *detail ? strdup("[]") : NULL;
    int rc = job_write_ids(e, job_id, status, detail, did, dargs, now, errp);
    free(dargs);
    json_decref(m);
    return rc;
}

int vr_job_describe(vr_engine *e, const char *job_id, const char *desc, vr_error *err)
{
    json_t *m = vr_i18n_recall(desc);
    const char *id = m ? json_string_value(json_object_get(m, "id")) : desc;
    char *args = m ? json_dumps(json_object_get(m, "args"), JSON_COMPACT) : strdup("[]");
    int rc = vr_db_exec(e->db, "UPDATE jobs SET description_id = ?, description_args = ? WHERE id = ?",
                        DB_ARGS(DB_TEXT(id), args ? DB_TEXT(args) : DB_NULL, DB_TEXT(job_id)), err);
    free(args);
    json_decref(m);
    return rc < 0 ? -1 : 0;
}

/* How long a job keeps trying to record its end while the database is
 * away: the outcome is known only to this thread, so it waits rather than
 * leave the job "running" for ever (an engine stop ends the wait; the next
 * start then resumes the job by its action's rule). */
#define FINAL_WRITE_TRIES 600

void vr_job_update(vr_engine *e, const char *job_id, const char *status, const char *detail)
{
    bool final = strcmp(status, "running") && strcmp(status, "pending");
    for (int i = 0;; i++) {
        vr_error err = {0};
        if (job_write(e, job_id, status, detail, &err) == 0)
            return;
        if (!final || i >= FINAL_WRITE_TRIES || e->stopping) {
            VR_WARN("job %s: cannot record '%s': %s", job_id, status, err.message);
            return;
        }
        if (i == 0)
            VR_WARN("job %s: cannot record '%s' yet (%s); retrying until the database is back", job_id, status,
                    err.message);
        sleep(1);
    }
}


struct job_arg {
    vr_engine *e;
    char job_id[37], object_id[37], user[128];
    vr_job_fn fn;
};

static void *job_thread(void *p)
{
    struct job_arg *a = p;
    vr_engine *e = a->e;
    a->fn(e, a->job_id, a->object_id, a->user);
    free(a);
    vr_engine_thread_leave(e); /* shutdown waits for this before closing the database */
    return NULL;
}

void vr_job_spawn(vr_engine *e, const char *job_id, const char *object_id, const char *user, vr_job_fn fn)
{
    struct job_arg *a = calloc(1, sizeof(*a));
    if (!a)
        return;
    a->e = e;
    a->fn = fn;
    snprintf(a->job_id, sizeof(a->job_id), "%s", job_id);
    snprintf(a->object_id, sizeof(a->object_id), "%s", object_id);
    snprintf(a->user, sizeof(a->user), "%s", user);
    pthread_t t;
    vr_engine_thread_enter(e);
    if (pthread_create(&t, NULL, job_thread, a) == 0) {
        pthread_detach(t);
    } else {
        vr_engine_thread_leave(e);
        free(a); /* stays pending: the next engine start picks it up */
    }
}

void vr_job_progress(vr_engine *e, const char *job_id, int percent)
{
    vr_db_exec(e->db, "UPDATE jobs SET progress = ?, updated_at = ? WHERE id = ?",
               DB_ARGS(DB_INT(percent), DB_INT(vr_now()), DB_TEXT(job_id)), NULL);
}

void vr_jobs_each_unfinished(vr_engine *e, void (*each)(vr_engine *e, json_t *job))
{
    json_t *rows;
    if (vr_db_query(e->db, "SELECT id, action, object_type, object_id, user_name, status, params_json FROM jobs"
                    " WHERE status IN ('pending', 'running') ORDER BY created_at, id", DB_NOARGS, &rows, NULL) < 0)
        return;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) each(e, r);
    json_decref(rows);
}

void vr_job_params_store(vr_engine *e, const char *job_id, json_t *params)
{
    char *text = json_dumps(params, JSON_COMPACT);
    if (text)
        vr_db_exec(e->db, "UPDATE jobs SET params_json = ? WHERE id = ?", DB_ARGS(DB_TEXT(text), DB_TEXT(job_id)),
                   NULL);
    free(text);
}
