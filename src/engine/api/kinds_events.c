/* Events and jobs: read-only kinds. Jobs can be cancelled (jobs/). */
#include "kind.h"
#include "jobs.h"

#include "i18n.h"

/* The message in the language of the request (docs/rest-api.md
 * "Languages"): rendered from its id and arguments; rows written before
 * messages had ids, or whose arguments no longer fit, keep their text. */
void vr_kind_render(json_t *row, const char *member, const char *id_col, const char *args_col)
{
    const char *lang = vr_i18n_thread();
    const char *id = json_string_value(json_object_get(row, id_col));
    const char *args = json_string_value(json_object_get(row, args_col));
    if (id && args && strcmp(lang, VR_LANG_EN)) {
        json_t *a = json_loads(args, 0, NULL);
        char text[2048];
        if (a && vr_i18n_render(text, sizeof(text), id, a, lang) >= 0)
            json_object_set_new(row, member, json_string(text));
        json_decref(a);
    }
    json_object_del(row, id_col);
    json_object_del(row, args_col);
}

static void event_present(vr_engine *e, json_t *row)
{
    (void)e;
    vr_kind_render(row, "message", "message_id", "message_args");
    json_object_del(row, "parent_id"); /* for the filter only (events_view.c) */
}

/* A job's detail likewise, and each step's description from the id its
 * step keeps (steps written before ids: their text, translated when it is
 * a phrase of the catalog). */
static void job_present(vr_engine *e, json_t *row)
{
    (void)e;
    vr_kind_render(row, "detail", "detail_id", "detail_args");
    vr_kind_render(row, "description", "description_id", "description_args");
    const char *lang = vr_i18n_thread();
    size_t i;
    json_t *step;
    json_array_foreach(json_object_get(row, "steps"), i, step) {
        json_t *m = json_object_get(step, "i18n");
        const char *d = json_string_value(json_object_get(step, "description"));
        char text[1024];
        if (!strcmp(lang, VR_LANG_EN))
            ;
        else if (m && vr_i18n_render(text, sizeof(text), json_string_value(json_object_get(m, "id")),
                                     json_object_get(m, "args"), lang) >= 0)
            json_object_set_new(step, "description", json_string(text));
        else if (d && !strchr(d, '%'))
            json_object_set_new(step, "description", json_string(vr_i18n_translate(d, lang)));
        json_object_del(step, "i18n");
    }
}

static const vr_field event_fields[] = {
    {"id", VR_FT_INT, VR_F_SORT, 1, 1LL << 62, .doc = "Increasing: newer events have larger ids."},
    {"time", VR_FT_TIME, VR_F_SORT, .doc = "When it happened."},
    {"severity", VR_FT_ENUM, VR_F_SORT, .values = VR_STRS("normal", "warning", "error")},
    {"user", VR_FT_STR, 0, .doc = "Who caused it; empty for the engine itself."},
    {"object_type", VR_FT_STR, 0, .doc = "datacenter, cluster, host, vm, user or empty."},
    {"object_id", VR_FT_STR, 0, .doc = "The object's id, or empty."},
    {"message", VR_FT_STR, 0, .doc = "In the language the request asked for (Accept-Language)."},
};

const vr_kind vr_kind_events = {
    .collection = "events", .type = "event", .title = "event", .schema = "Event", .tag = "Events",
    .store = &vr_store_events, .fields = event_fields, .nfields = VR_ARRAY_SIZE(event_fields),
    .no_href = true, .read_only = true, .present = event_present,
};

static const vr_field job_fields[] = {
    {"id", VR_FT_ID, 0, .doc = NULL},
    {"action", VR_FT_STR, VR_F_SORT, .doc = "What the job does: start, stop, shutdown, reboot, pause, resume."},
    {"description", VR_FT_STR, 0, .doc = "What the job does, for humans."},
    {"object_type", VR_FT_STR, 0, .doc = "Type of the object acted on."},
    {"object_id", VR_FT_ID, 0, .doc = "The object acted on."},
    {"status", VR_FT_ENUM, VR_F_SORT, .values = {vr_job_status_names, VR_JOB_NSTATUS}},
    {"detail", VR_FT_STR, 0, .doc = "Progress while running, the error when failed."},
    {"progress", VR_FT_INT, 0, 0, 100, .doc = "Percent done (100 when finished)."},
    {"steps", VR_FT_JSON, 0, .schema = "JobSteps"},
    {"user", VR_FT_STR, 0, .doc = "Who asked for it."},
    {"created_at", VR_FT_TIME, VR_F_SORT, .doc = NULL},
    {"updated_at", VR_FT_TIME, VR_F_SORT, .doc = NULL},
};

static int job_cancel(vr_call *c, json_t *row, json_t *body, json_t **reply, vr_error *err)
{
    const char *id = json_string_value(json_object_get(row, "id"));
    if (vr_job_cancel(c->e, id, c->user, err) < 0)
        return -1;
    *reply = vr_kind_get(c->e, c->kind, id, err);
    return *reply ? 0 : -1;
}

static const vr_action job_actions[] = {
    {"cancel", "Cancel a pending or running job", false, job_cancel, NULL, 0},
};

const vr_kind vr_kind_jobs = {
    .collection = "jobs", .type = "job", .title = "job", .schema = "Job", .tag = "Jobs",
    .store = &vr_store_jobs, .fields = job_fields, .nfields = VR_ARRAY_SIZE(job_fields),
    .actions = job_actions, .nactions = VR_ARRAY_SIZE(job_actions), .read_only = true, .present = job_present,
};
