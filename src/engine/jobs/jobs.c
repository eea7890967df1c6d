#include "jobs.h"

#include <string.h>

#include "fault.h"

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
