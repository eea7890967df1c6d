/* Events and jobs as the API reads them (writers: core/engine.c vr_event,
 * jobs/). Both are read-only collections. */
#include "store.h"

static const vr_search event_search[] = {
    {"severity", "severity = ?", false, true, false, "normal, warning or error"},
    {"user", "\"user\" = ?", false, false, false, "the user who caused it"},
    {"object_type", "object_type = ?", false, true, false, "datacenter, cluster, host, vm, user"},
    {"object_id", "object_id = ?", false, true, false, "the object's id"},
    {"message", "lower(message) LIKE ? ESCAPE '\\'", true, true, false, "message, * as wildcard"},
    /* for followers: events newer than one seen */
    {"after", "id > ?", false, false, true, "only events with a larger id"},
};

const vr_store vr_store_events = {
    .select = "SELECT id, time, severity, user_name AS \"user\", object_type, object_id, message,"
              " message_id, message_args, parent_id FROM events",
    .id_expr = "id", .order = "id DESC", .table = "events",
    .search = event_search, .nsearch = sizeof(event_search) / sizeof(event_search[0]),
};

static const vr_search job_search[] = {
    {"status", "status = ?", false, true, false, "the job's status"},
    {"action", "action = ?", false, true, false, "what it does"},
    {"object_id", "object_id = ?", false, true, false, "the object acted on"},
};

const vr_store vr_store_jobs = {
    .select = "SELECT id, action, description, object_type, object_id, status, detail, progress, steps_json,"
              " user_name AS \"user\", created_at, updated_at, detail_id, detail_args, description_id,"
              " description_args FROM jobs",
    .id_expr = "id", .order = "created_at DESC, id", .table = "jobs",
    .search = job_search, .nsearch = sizeof(job_search) / sizeof(job_search[0]),
};
