/* Network labels (netlabel.h). A label never reaches an agent: the engine
 * turns it into ordinary attachments and removals, so every label change
 * is a host network setup with its checks, confirmation and rollback, and
 * a bad one refuses the whole request before anything changes. */
#include "netlabel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs.h"
#include "i18n.h"
#include "log.h"
#include "netrules.h"
#include "sdjobs.h"
#include "setupnet.h"

#define MAX_LABELS 64

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

/* Does the body name network (a row with id, name) itself? */
static bool named(json_t *body, json_t *net)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(body, "attachments"), i, v) {
        const char *r = str(v, "network");
        if (!strcmp(r, str(net, "id")) || !strcmp(r, str(net, "name")))
            return true;
    }
    json_array_foreach(json_object_get(body, "removed"), i, v) {
        const char *r = json_string_value(v) ?: "";
        if (!strcmp(r, str(net, "id")) || !strcmp(r, str(net, "name")))
            return true;
    }
    return false;
}

/* A NIC's labels are kept as one comma-joined, sorted list in
 * host_nics.label ("" = none): labels cannot hold a comma. */
#define MAX_NIC_LABELS 16
#define LABELS_LEN (MAX_NIC_LABELS * 33)

/* Is label one of list's? */
static bool has_label(const char *list, const char *label)
{
    size_t n = strlen(label);
    for (const char *p = list; n && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : p + strlen(p))
        if (!strncmp(p, label, n) && (p[n] == ',' || !p[n]))
            return true;
    return false;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A request's labels for one NIC: a label, "" (none) or an array of labels
 * (RHV puts several on a NIC), into a sorted comma list without repeats. */
static int nic_labels(json_t *v, const char *where, char out[LABELS_LEN], vr_error *err)
{
    const char *l[MAX_NIC_LABELS];
    size_t n = 0, i;
    json_t *x;
    if (json_is_string(v)) {
        if (*json_string_value(v))
            l[n++] = json_string_value(v);
    } else if (json_is_array(v) && json_array_size(v) <= MAX_NIC_LABELS) {
        json_array_foreach(v, i, x) {
            if (!json_is_string(x) || !*json_string_value(x))
                return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s: each label must be a non-empty string", where);
            l[n++] = json_string_value(x);
        }
    } else {
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s must be a label, a list of at most %d labels, or \"\""
                            " to take the NIC's labels away", where, MAX_NIC_LABELS);
    }
    qsort(l, n, sizeof(l[0]), cmp_str);
    size_t o = 0;
    out[0] = '\0';
    for (i = 0; i < n; i++) {
        if (vr_net_check_label(l[i], err) < 0) {
            char why[sizeof(err->message)];
            snprintf(why, sizeof(why), "%s", err->message);
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s: %s", where, why);
        }
        if (i && !strcmp(l[i], l[i - 1]))
            continue;
        o += (size_t)snprintf(out + o, LABELS_LEN - o, "%s%s", o ? "," : "", l[i]);
    }
    return 0;
}

/* The host's NIC labels after the request (nics: NIC -> comma list),
 * each label on one NIC; labels' values become their comma lists. */
static int check_labels(json_t *host, json_t *labels, json_t *nics, vr_error *err)
{
    const char *nic;
    json_t *l;
    json_object_foreach(labels, nic, l) {
        char where[64], list[LABELS_LEN];
        snprintf(where, sizeof(where), "labels.%.20s", nic);
        if (vr_net_check_nic(nic, where, err) < 0 || nic_labels(l, where, list, err) < 0)
            return -1;
        if (!json_object_get(nics, nic))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s: host '%s' has no NIC '%s'", where, str(host, "name"),
                                nic);
        json_object_set_new(nics, nic, json_string(list));
        json_object_set_new(labels, nic, json_string(list));
    }
    const char *a, *b;
    json_t *la, *lb;
    json_object_foreach(nics, a, la) {
        char list[LABELS_LEN];
        snprintf(list, sizeof(list), "%s", json_string_value(la) ?: "");
        for (char *save = NULL, *one = strtok_r(list, ",", &save); one; one = strtok_r(NULL, ",", &save))
            json_object_foreach(nics, b, lb)
                if (strcmp(a, b) < 0 && has_label(json_string_value(lb) ?: "", one))
                    return vr_error_set(err, VR_ERR_INVALID_PARAMS, "label '%s' would be on two NICs of host '%s'"
                                        " (%s and %s): a label names one NIC per host", one, str(host, "name"), a, b);
    }
    return 0;
}

/* Networks the NIC's label changes take away (gone) and bring (come). */
static int label_changes(vr_engine *e, const char *host_id, const char *cluster_id, const char *nic,
                         const char *old, const char *new, json_t *gone, json_t *come, vr_error *err)
{
    json_t *rows = NULL, *r;
    size_t i;
    int rc = vr_db_query(e->db, "SELECT n.id AS id, n.name AS name, n.label AS label FROM host_network_attachments a"
                         " JOIN networks n ON n.id = a.network_id WHERE a.host_id = ? AND a.nic = ? AND n.label <> ''",
                         DB_ARGS(DB_TEXT(host_id), DB_TEXT(nic)), &rows, err);
    json_array_foreach(rows, i, r)
        if (has_label(old, str(r, "label")) && !has_label(new, str(r, "label")))
            json_array_append(gone, r);
    json_decref(rows);
    rows = NULL;
    if (rc == 0)
        rc = vr_db_query(e->db, "SELECT n.id AS id, n.name AS name, n.label AS label FROM cluster_networks x JOIN"
                         " networks n ON n.id = x.network_id WHERE x.cluster_id = ? AND n.label <> '' AND NOT EXISTS"
                         " (SELECT 1 FROM host_network_attachments a WHERE a.host_id = ? AND a.network_id = n.id AND"
                         " a.nic = ?) ORDER BY n.name", DB_ARGS(DB_TEXT(cluster_id), DB_TEXT(host_id), DB_TEXT(nic)),
                         &rows, err);
    json_array_foreach(rows, i, r)
        if (has_label(new, str(r, "label")) && !has_label(old, str(r, "label")))
            json_array_append(come, r);
    json_decref(rows);
    return rc;
}

json_t *vr_netlabel_expand(vr_engine *e, json_t *host, json_t *body, vr_error *err)
{
    json_t *labels = json_object_get(body, "labels");
    if (labels && (!json_is_object(labels) || json_object_size(labels) > MAX_LABELS))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "labels must be an object {NIC: labels} of at most %d NICs",
                            MAX_LABELS), NULL;
    json_t *out = json_deep_copy(body);
    if (!labels || !json_object_size(labels)) {
        json_object_set_new(out, "labels", json_object());
        return out;
    }
    labels = json_object_get(out, "labels");
    const char *host_id = str(host, "id");
    json_t *rows = NULL, *nics = json_object(), *r, *cl = NULL;
    size_t i;
    int rc = vr_db_query(e->db, "SELECT name, label FROM host_nics WHERE host_id = ?", DB_ARGS(DB_TEXT(host_id)),
                         &rows, err);
    json_array_foreach(rows, i, r) json_object_set(nics, str(r, "name"), json_object_get(r, "label"));
    json_t *before = json_deep_copy(nics);
    if (rc == 0)
        rc = check_labels(host, labels, nics, err);
    if (rc == 0 && !(cl = vr_db_query_one(e->db, "SELECT cluster_id FROM hosts WHERE id = ?",
                                          DB_ARGS(DB_TEXT(host_id)), err)))
        rc = err->code ? -1 : vr_error_set(err, VR_ERR_NOT_FOUND, "host '%s' was removed meanwhile",
                                           str(host, "name"));
    json_t *att = json_object_get(out, "attachments"), *rem = json_object_get(out, "removed");
    const char *nic;
    json_t *l;
    json_object_foreach(labels, nic, l) {
        const char *old = str(before, nic), *new = json_string_value(l);
        if (rc < 0 || !strcmp(old, new))
            continue;
        json_t *gone = json_array(), *come = json_array(), *n;
        rc = label_changes(e, host_id, str(cl, "cluster_id"), nic, old, new, gone, come, err);
        json_array_foreach(gone, i, n)
            if (!named(body, n) && json_is_array(rem))
                json_array_append(rem, json_object_get(n, "id"));
        json_array_foreach(come, i, n)
            if (!named(body, n) && json_is_array(att))
                json_array_append_new(att, json_pack("{s:O, s:s}", "network", json_object_get(n, "id"), "nic", nic));
        json_decref(gone);
        json_decref(come);
    }
    json_decref(cl);
    json_decref(before);
    json_decref(nics);
    json_decref(rows);
    if (rc < 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* ---- the job: a network's label changed ---- */

/* What host needs for network net: a setupnetworks body, or NULL when
 * nothing. */
static json_t *host_body(vr_engine *e, json_t *net, json_t *host, const char *old_label, vr_error *err)
{
    const char *label = str(net, "label");
    json_t *att = vr_db_query_one(e->db, "SELECT a.nic AS nic, n.label AS label FROM host_network_attachments a"
                                  " LEFT JOIN host_nics n ON n.host_id = a.host_id AND n.name = a.nic WHERE"
                                  " a.host_id = ? AND a.network_id = ?",
                                  DB_ARGS(DB_TEXT(str(host, "id")), DB_TEXT(str(net, "id"))), err);
    json_t *nics = NULL, *lab = NULL, *r;
    size_t i;
    if (*label && vr_db_query(e->db, "SELECT name, label FROM host_nics WHERE host_id = ? AND label <> '' ORDER BY"
                              " name", DB_ARGS(DB_TEXT(str(host, "id"))), &nics, err) == 0)
        json_array_foreach(nics, i, r) if (!lab && has_label(str(r, "label"), label)) lab = r;
    json_t *body = NULL;
    if (lab && (!att || strcmp(str(att, "nic"), str(lab, "name"))))
        body = json_pack("{s:[{s:O, s:O}], s:[]}", "attachments", "network", json_object_get(net, "id"), "nic",
                         json_object_get(lab, "name"), "removed");
    else if (!lab && att && *old_label && has_label(str(att, "label"), old_label))
        body = json_pack("{s:[], s:[O]}", "attachments", "removed", json_object_get(net, "id"));
    if (body) {
        json_t *rest = json_pack("{s:{}, s:{}, s:b, s:i}", "bonds", "labels", "check_connectivity", 1,
                                 "connectivity_timeout", 120);
        json_object_update(body, rest);
        json_decref(rest);
    }
    json_decref(att);
    json_decref(nics);
    return body;
}

/* One host: its setup for net, an event; a line for the job's detail
 * appended to notes when it could not be done. */
static void one_host(vr_engine *e, json_t *net, json_t *host, const char *old_label, const char *user, json_t *notes,
                     int *done)
{
    vr_error err = {0};
    const char *st = str(host, "status");
    json_t *body = NULL, *params = NULL;
    if (strcmp(st, "up") && strcmp(st, "nonoperational") && strcmp(st, "maintenance")) {
        /* Nothing to tell it now; a later label change or setup catches up. */
        json_t *b = host_body(e, net, host, old_label, &err);
        if (b)
            json_array_append_new(notes, json_sprintf("host '%s' is %s: not changed", str(host, "name"), st));
        json_decref(b);
        return;
    }
    if (!(body = host_body(e, net, host, old_label, &err))) {
        if (err.code)
            json_array_append_new(notes, json_sprintf("host '%s': %s", str(host, "name"), err.message));
        return;
    }
    bool add = json_array_size(json_object_get(body, "attachments")) > 0;
    if (vr_setupnet_busy(e, host, &err) == 0 && (params = vr_setupnet_plan(e, host, body, &err)) &&
        vr_setupnet_apply(e, NULL, user, host, params, &err) == 0) {
        (*done)++;
        if (add)
            vr_event(e, "normal", user, "host", str(host, "id"), "network '%s' attached to NIC %s of host '%s' by"
                     " label '%s'", str(net, "name"),
                     str(json_array_get(json_object_get(body, "attachments"), 0), "nic"), str(host, "name"),
                     str(net, "label"));
        else
            vr_event(e, "normal", user, "host", str(host, "id"), "network '%s' removed from host '%s' with label '%s'"
                     " (the network left the label or the cluster)", str(net, "name"), str(host, "name"), old_label);
    } else {
        json_array_append_new(notes, json_sprintf("host '%s': %s", str(host, "name"), err.message));
        vr_event(e, "error", user, "host", str(host, "id"), "network '%s' could not follow its label on host '%s':"
                 " %s", str(net, "name"), str(host, "name"), err.message);
    }
    json_decref(params);
    json_decref(body);
}

static void run_label(vr_engine *e, const char *job_id, const char *net_id, const char *user)
{
    vr_error err = {0};
    json_t *job = vr_db_query_one(e->db, "SELECT params_json FROM jobs WHERE id = ?", DB_ARGS(DB_TEXT(job_id)), NULL);
    const char *old_label = str(json_object_get(job, "params"), "old_label");
    const char *detached = str(json_object_get(job, "params"), "detached_from");
    json_t *net = vr_db_query_one(e->db, "SELECT id, name, label FROM networks WHERE id = ?", DB_ARGS(DB_TEXT(net_id)),
                                  NULL);
    json_t *hosts = NULL, *notes = json_array(), *h;
    /* Detached from a cluster: for that cluster's hosts the network has
     * no label any more. */
    if (net && *detached)
        json_object_set_new(net, "label", json_string(""));
    if (!net || vr_db_query(e->db, *detached ? "SELECT id, name, address, port, status FROM hosts WHERE cluster_id = ?"
                                             " ORDER BY name"
                                             : "SELECT h.id AS id, h.name AS name, h.address AS address, h.port AS"
                                               " port, h.status AS status FROM hosts h JOIN cluster_networks x ON"
                                               " x.cluster_id = h.cluster_id WHERE x.network_id = ? ORDER BY h.name",
                            DB_ARGS(DB_TEXT(*detached ? detached : net_id)), &hosts, &err) < 0) {
        vr_job_update(e, job_id, "failed", net ? err.message : N_("the network is gone"));
        goto out;
    }
    vr_job_update(e, job_id, "running", "");
    int done = 0;
    size_t i;
    json_array_foreach(hosts, i, h) {
        one_host(e, net, h, old_label, user, notes, &done);
        vr_job_progress(e, job_id, (int)(100 * (i + 1) / json_array_size(hosts)));
    }
    char detail[1024];
    size_t o = (size_t)snprintf(detail, sizeof(detail), "%d host(s) changed", done);
    json_t *n;
    json_array_foreach(notes, i, n)
        if (o < sizeof(detail))
            o += (size_t)snprintf(detail + o, sizeof(detail) - o, "; %s", json_string_value(n));
    vr_job_update(e, job_id, json_array_size(notes) ? "failed" : "finished", detail);
out:
    json_decref(notes);
    json_decref(hosts);
    json_decref(net);
    json_decref(job);
}

int vr_netlabel_start(vr_engine *e, const char *net_id, const char *old_label, const char *detached_from,
                      const char *user, char job[37], vr_error *err)
{
    json_t *net = vr_db_query_one(e->db, "SELECT name FROM networks WHERE id = ?", DB_ARGS(DB_TEXT(net_id)), err);
    if (!net)
        return err->code ? -1 : vr_error_set(err, VR_ERR_NOT_FOUND, "network %s is gone", net_id);
    char desc[160];
    vr_i18n_format(desc, sizeof(desc), "Network '%s' follows its label on hosts", str(net, "name"));
    json_decref(net);
    vr_uuid_new(job);
    json_t *params = json_pack("{s:s, s:s}", "old_label", old_label ?: "", "detached_from", detached_from ?: "");
    int rc = vr_storage_job_insert(e, job, "labelnetworks", "network", net_id, desc, params, user, err);
    json_decref(params);
    if (rc < 0)
        return -1;
    vr_job_spawn(e, job, net_id, user, run_label);
    return 0;
}

bool vr_netlabel_resume(vr_engine *e, json_t *job)
{
    if (strcmp(str(job, "action"), "labelnetworks"))
        return false;
    VR_INFO("resuming job %s (a network following its label)", str(job, "id"));
    vr_job_update(e, str(job, "id"), "pending", "resumed after an engine restart");
    vr_job_spawn(e, str(job, "id"), str(job, "object_id"), str(job, "user_name"), run_label);
    return true;
}
