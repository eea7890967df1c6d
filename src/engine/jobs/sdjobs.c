/* Storage domain jobs: create (Storage.connect then Storage.format, or
 * Storage.find + Volume.list for an import), attach (wait for the data
 * center's SPM, elected by the storage monitor, then Storage.attach on
 * it), detach (Storage.detach on the SPM) and remove from storage
 * (Storage.connect then Storage.remove on one up host). The API answers 202 at once;
 * these threads talk to the hosts. Every failure puts the domain back as
 * it was before the request, so a refused or failed job changes nothing. */
#include "sdjobs.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentcall.h"
#include "diskjobs.h"
#include "jobs.h"
#include "log.h"
#include "i18n.h"
#include "sdmaster.h"
#include "store_storage.h"

#define SD_SELECT "SELECT id, name, sd_type, storage_type, storage_spec, vfs_type, mount_options, nfs_version," \
                  " datacenter_id, status, master FROM storage_domains WHERE id = ?"

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

int vr_storage_job_insert(vr_engine *e, const char *job_id, const char *action, const char *object_type,
                          const char *object_id, const char *desc, json_t *params, const char *user, vr_error *err)
{
    char *ptext = params ? json_dumps(params, JSON_COMPACT) : NULL;
    int rc = vr_db_exec(e->db, "INSERT INTO jobs (id, action, object_type, object_id, status, user_name, description,"
                        " params_json, created_at, updated_at) VALUES (?,?,?,?, 'pending', ?,?,?,?,?)",
                        DB_ARGS(DB_TEXT(job_id), DB_TEXT(action), DB_TEXT(object_type), DB_TEXT(object_id),
                                DB_TEXT(user), DB_TEXT(desc), ptext ? DB_TEXT(ptext) : DB_NULL, DB_INT(vr_now()),
                                DB_INT(vr_now())), err);
    free(ptext);
    return rc < 0 || vr_job_describe(e, job_id, desc, err) < 0 ? -1 : 0;
}

static json_t *job_params(vr_engine *e, const char *job_id)
{
    json_t *row = vr_db_query_one(e->db, "SELECT params_json FROM jobs WHERE id = ?", DB_ARGS(DB_TEXT(job_id)), NULL);
    json_t *p = json_incref(json_object_get(row, "params"));
    json_decref(row);
    return p ? p : json_object();
}

static void fail(vr_engine *e, const char *job_id, const char *user, const char *sd_id, const char *what,
                 const char *why)
{
    vr_event(e, "error", user, "storagedomain", sd_id, "%s failed: %s", what, why);
    vr_job_update(e, job_id, "failed", why);
}

json_t *vr_storage_wait_spm(vr_engine *e, const char *job_id, const char *dc_id, int limit_s, vr_error *err)
{
    for (long long start = vr_now();; sleep(1)) {
        vr_error local = {0};
        json_t *h = vr_storage_spm_host(e, dc_id, &local);
        if (h)
            return h;
        if (e->stopping) {
            vr_error_set(err, VR_ERR_UNAVAILABLE, "the engine is stopping");
            return NULL;
        }
        if (vr_job_cancel_requested(e, job_id)) {
            vr_error_set(err, VR_ERR_BAD_STATE, "cancelled while waiting for the data center's SPM");
            return NULL;
        }
        if (vr_now() - start >= limit_s) {
            vr_error_set(err, VR_ERR_BAD_STATE, "the data center has no SPM after %d s (no up host could take the"
                         " SPM role; see its hosts and events)", limit_s);
            return NULL;
        }
    }
}

/* Call verb (params borrowed) on the SPM of data center dc, waiting for
 * one first. A domain just locked is being connected to the hosts by the
 * storage monitor, and the SPM may move: those errors are retried for a
 * while; the SPM's name goes into step. */
static int spm_call(vr_engine *e, const char *job_id, const char *dc, int wait_s, const char *verb, json_t *params,
                    json_t **res, vr_error *err)
{
    for (int tries = 0;; tries++) {
        vr_error_clear(err);
        json_t *spm = vr_storage_wait_spm(e, job_id, dc, wait_s, err);
        if (!spm)
            return -1;
        char step[200];
        vr_i18n_format(step, sizeof(step), "%s on the SPM, host '%s'", verb, str(spm, "name"));
        vr_job_update(e, job_id, "running", step);
        int rc = vr_agent_call_host(e, spm, verb, json_incref(params), res, err);
        json_decref(spm);
        if (rc == 0)
            return 0;
        bool transient = err->code == VR_ERR_STORAGE || err->code == VR_ERR_NOT_FOUND || err->code == VR_ERR_IO ||
                         err->code == VR_ERR_NOT_SPM;
        if (!transient || tries >= 30 || e->stopping || vr_job_cancel_requested(e, job_id))
            return -1;
        sleep(2);
    }
}

/* ---- create ---- */

/* Rows for every volume found on an imported domain (one-volume images:
 * the image is the disk). */
/* The disk an image directory holds: its chain's leaf (the volume no other
 * volume of the image names as parent; VOLTYPE LEAF first) is what a VM
 * uses. The alias and description given at creation are in the
 * description of the nearest volume toward the base that has one
 * (snapshot layers have none; a thin VM's image holds a link to its
 * template's volume, whose alias it then shows). A template's image has
 * one SHARED volume. Sets *leaf and *named (borrowed from vols); *legal
 * when every volume is LEGAL. */
static json_t *volume_in(json_t *vols, const char *id)
{
    size_t i;
    json_t *v;
    json_array_foreach(vols, i, v)
        if (!strcmp(str(v, "volume"), id))
            return v;
    return NULL;
}

static void image_chain(json_t *vols, json_t **leaf, json_t **named, bool *legal, long long *actual)
{
    size_t i, j;
    json_t *v, *w;
    *leaf = *named = NULL;
    *legal = true;
    *actual = 0;
    json_array_foreach(vols, i, v) {
        *legal = *legal && !strcmp(str(v, "legality"), "LEGAL");
        *actual += json_integer_value(json_object_get(v, "actual_size"));
        bool is_parent = false;
        json_array_foreach(vols, j, w)
            if (w != v && !strcmp(str(w, "parent"), str(v, "volume")))
                is_parent = true;
        if (!is_parent && (!*leaf || !strcmp(str(v, "voltype"), "LEAF")))
            *leaf = v;
    }
    if (!*leaf) /* a cycle: corrupt metadata; take any, it is marked illegal */
        *leaf = json_array_get(vols, 0), *legal = false;
    v = *leaf;
    for (size_t n = 0; v && n <= json_array_size(vols); n++, v = volume_in(vols, str(v, "parent"))) {
        json_t *desc = json_loads(str(v, "description"), 0, NULL);
        bool has = json_is_string(json_object_get(desc, "alias"));
        json_decref(desc);
        if (has) {
            *named = v;
            return;
        }
    }
    *named = *leaf;
}

/* Record the disks found on an imported domain, one per image. */
static int import_disks(vr_engine *e, json_t *host, const char *sd_id, vr_error *err)
{
    json_t *res = NULL;
    if (vr_agent_call_host(e, host, "Volume.list", json_pack("{s:s}", "domain", sd_id), &res, err) < 0)
        return -1;
    json_t *images = json_object(); /* image id -> its volumes */
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(res, "volumes"), i, v) {
        if (!strcmp(str(v, "content"), "memory"))
            continue; /* a suspended VM's or a snapshot's memory, not a disk */
        json_t *vols = json_object_get(images, str(v, "image"));
        if (!vols)
            json_object_set_new(images, str(v, "image"), vols = json_array());
        json_array_append(vols, v);
    }
    int rc = 0;
    const char *image;
    json_t *vols;
    json_object_foreach(images, image, vols) {
        json_t *leaf, *named;
        bool legal;
        long long actual;
        image_chain(vols, &leaf, &named, &legal, &actual);
        json_t *desc = json_loads(str(named, "description"), 0, NULL);
        const char *alias = json_string_value(json_object_get(desc, "alias"));
        char fallback[16];
        snprintf(fallback, sizeof(fallback), "disk-%.8s", image);
        rc = vr_db_exec(e->db, "INSERT INTO disks (id, volume_id, alias, description, storage_domain_id, format,"
                        " sparse, provisioned_size, actual_size, status, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                        DB_ARGS(DB_TEXT(image), DB_TEXT(str(leaf, "volume")), DB_TEXT(alias ?: fallback),
                                DB_TEXT(json_string_value(json_object_get(desc, "description")) ?: ""), DB_TEXT(sd_id),
                                DB_TEXT(!strcmp(str(leaf, "format"), "qcow2") ? "cow" : "raw"),
                                DB_INT(strcmp(str(leaf, "type"), "preallocated") != 0),
                                DB_INT(json_integer_value(json_object_get(leaf, "capacity"))), DB_INT(actual),
                                DB_TEXT(legal ? "ok" : "illegal"), DB_INT(vr_now())), err);
        json_decref(desc);
        if (rc < 0)
            break;
    }
    json_decref(images);
    json_decref(res);
    return rc < 0 ? -1 : 0;
}

/* The one domain of the connection to import (by name when there are
 * several); its info is a new reference. */
static json_t *pick_found(json_t *found, const char *name, vr_error *err)
{
    json_t *domains = json_object_get(found, "domains"), *d, *pick = NULL;
    size_t i, n = 0;
    json_array_foreach(domains, i, d) {
        if (!json_is_true(json_object_get(d, "valid")) && json_object_get(d, "valid"))
            continue;
        n++;
        if (!pick || !strcmp(str(d, "name"), name))
            pick = d;
    }
    if (!n)
        vr_error_set(err, VR_ERR_NOT_FOUND, "no valid storage domain on this storage");
    else if (n > 1 && strcmp(str(pick, "name"), name))
        vr_error_set(err, VR_ERR_CONFLICT, "%zu storage domains on this storage and none is named '%s'", n, name);
    else
        return json_incref(pick);
    return NULL;
}

/* The first step of a job on one host: mount the domain's storage there. */
static int connect_host(vr_engine *e, const char *job_id, json_t *host, json_t *sd, vr_error *err)
{
    char step[300];
    vr_i18n_format(step, sizeof(step), "connecting host '%s' to %s", str(host, "name"), str(sd, "storage_spec"));
    vr_job_update(e, job_id, "running", step);
    vr_job_progress(e, job_id, 10);
    json_t *res = NULL;
    int rc = vr_agent_call_host(e, host, "Storage.connect", json_pack("{s:o}", "conn", vr_storage_conn(sd)), &res,
                                err);
    json_decref(res);
    return rc;
}

static void run_create(vr_engine *e, const char *job_id, const char *sd_id, const char *user)
{
    vr_error err = {0};
    json_t *p = job_params(e, job_id), *res = NULL, *found = NULL;
    json_t *sd = vr_db_query_one(e->db, SD_SELECT, DB_ARGS(DB_TEXT(sd_id)), &err);
    json_t *host = vr_db_query_one(e->db, "SELECT id, name, address, port FROM hosts WHERE id = ?",
                                   DB_ARGS(DB_TEXT(str(p, "host"))), &err);
    bool import = json_is_true(json_object_get(p, "import"));
    char what[200], final_id[37];
    vr_i18n_format(what, sizeof(what), import ? N_("import of storage domain '%s'") : N_("creation of storage domain '%s'"),
                   str(sd, "name"));
    snprintf(final_id, sizeof(final_id), "%s", sd_id);
    if (!sd || !host) {
        vr_job_update(e, job_id, "failed", sd ? N_("the host is gone") : N_("the storage domain is gone"));
        goto out;
    }
    if (connect_host(e, job_id, host, sd, &err) < 0)
        goto failed;
    vr_job_progress(e, job_id, 40);
    if (!import) {
        vr_job_update(e, job_id, "running", "formatting the domain");
        if (vr_agent_call_host(e, host, "Storage.format",
                               json_pack("{s:o, s:s, s:s, s:s}", "conn", vr_storage_conn(sd), "domain", sd_id, "name",
                                         str(sd, "name"), "class", str(sd, "sd_type")), &res, &err) < 0)
            goto failed;
    } else {
        vr_job_update(e, job_id, "running", "finding the domain on storage");
        if (vr_agent_call_host(e, host, "Storage.find", json_pack("{s:o}", "conn", vr_storage_conn(sd)), &found,
                               &err) < 0 || !(res = pick_found(found, str(sd, "name"), &err)))
            goto failed;
        const char *uuid = str(res, "domain"), *class = str(res, "class");
        if (*class && strcmp(class, str(sd, "sd_type"))) {
            vr_error_set(&err, VR_ERR_CONFLICT,
                         !strcmp(class, "iso") || !strcmp(class, "export") ? N_("the domain on storage is an %s domain, not %s")
                                                                           : N_("the domain on storage is a %s domain, not %s"),
                         class, str(sd, "sd_type"));
            goto failed;
        }
        /* The domain keeps its UUID and name: the row takes them. */
        if (vr_db_begin(e->db, &err) < 0)
            goto failed;
        int n = vr_db_exec(e->db, "UPDATE storage_domains SET id = ?, name = ? WHERE id = ? AND status = 'locked'",
                           DB_ARGS(DB_TEXT(uuid), DB_TEXT(*str(res, "name") ? str(res, "name") : str(sd, "name")),
                                   DB_TEXT(sd_id)), &err);
        if (n > 0)
            n = vr_db_exec(e->db, "UPDATE jobs SET object_id = ? WHERE id = ?", DB_ARGS(DB_TEXT(uuid), DB_TEXT(job_id)),
                           &err);
        if (n <= 0 || vr_db_commit(e->db, &err) < 0) {
            if (n <= 0)
                vr_db_rollback(e->db);
            if (err.code == VR_ERR_CONFLICT)
                vr_error_set(&err, VR_ERR_CONFLICT, "domain %s (or its name '%s') is already known to this engine",
                             uuid, str(res, "name"));
            else if (!err.code)
                vr_error_set(&err, VR_ERR_CONFLICT, "the domain's row changed meanwhile");
            goto failed;
        }
        snprintf(final_id, sizeof(final_id), "%s", uuid);
        vr_job_update(e, job_id, "running", "reading its disks");
        vr_job_progress(e, job_id, 70);
        if (import_disks(e, host, final_id, &err) < 0)
            goto failed;
    }
    vr_db_exec(e->db, "UPDATE storage_domains SET status = 'unattached', total_bytes = ?, free_bytes = ?"
               " WHERE id = ?", DB_ARGS(DB_INT(json_integer_value(json_object_get(res, "total"))),
                                        DB_INT(json_integer_value(json_object_get(res, "free"))), DB_TEXT(final_id)),
               NULL);
    vr_event(e, "normal", user, "storagedomain", final_id, "storage domain '%s' %s on host '%s'", str(sd, "name"),
             import ? "imported" : "created", str(host, "name"));
    vr_job_update(e, job_id, "finished", "");
    goto out;
failed:
    /* Nothing of a failed create stays in the engine (an import's disks
     * neither); a half-formatted directory may stay on storage. */
    vr_db_exec(e->db, "DELETE FROM disks WHERE storage_domain_id = ?", DB_ARGS(DB_TEXT(final_id)), NULL);
    vr_db_exec(e->db, "DELETE FROM storage_domains WHERE id = ? AND status = 'locked'", DB_ARGS(DB_TEXT(final_id)),
               NULL);
    fail(e, job_id, user, final_id, what, err.message);
out:
    json_decref(found);
    json_decref(res);
    json_decref(host);
    json_decref(sd);
    json_decref(p);
}

int vr_storage_job_submit(vr_engine *e, int rc, const char *job_id, const char *action, const char *object_type,
                          const char *id, const char *desc, json_t *params, const char *user, vr_job_fn run,
                          vr_error *err)
{
    if (rc == 0)
        rc = vr_storage_job_insert(e, job_id, action, object_type, id, desc, params, user, err);
    json_decref(params);
    if (rc < 0) {
        vr_db_rollback(e->db);
        return -1;
    }
    if (vr_db_commit(e->db, err) < 0)
        return -1;
    vr_job_spawn(e, job_id, id, user, run);
    return 0;
}

int vr_sd_create_submit(vr_engine *e, const char *id, json_t *body, const char *user, char job_id[37],
                        vr_error *err)
{
    const vr_store *st = &vr_store_storagedomains;
    bool import = json_is_true(json_object_get(body, "import"));
    char desc[160];
    vr_i18n_format(desc, sizeof(desc), import ? N_("Import storage domain '%s'") : N_("Create storage domain '%s'"),
                   str(body, "name"));
    json_t *params = json_pack("{s:s, s:b}", "host", str(body, "host"), "import", import);
    vr_uuid_new(job_id);
    if (vr_db_begin(e->db, err) < 0) {
        json_decref(params);
        return -1;
    }
    int rc = st->insert(e, id, body, err) < 0 ? -1 : 0;
    return vr_storage_job_submit(e, rc, job_id, "create", "storagedomain", id, desc, params, user, run_create, err);
}

/* ---- attach ---- */

/* Back to unattached, the master role given back if this attach took it. */
static void attach_undo(vr_engine *e, const char *sd_id, const char *dc_id, bool master)
{
    vr_db_exec(e->db, "UPDATE storage_domains SET status = 'unattached', datacenter_id = NULL, master = 0"
               " WHERE id = ?", DB_ARGS(DB_TEXT(sd_id)), NULL);
    if (master)
        vr_db_exec(e->db, "UPDATE datacenters SET master_domain_id = NULL WHERE id = ? AND master_domain_id = ?",
                   DB_ARGS(DB_TEXT(dc_id), DB_TEXT(sd_id)), NULL);
}

static void run_attach(vr_engine *e, const char *job_id, const char *sd_id, const char *user)
{
    vr_error err = {0};
    json_t *p = job_params(e, job_id), *res = NULL;
    json_t *sd = vr_db_query_one(e->db, SD_SELECT, DB_ARGS(DB_TEXT(sd_id)), &err);
    const char *dc = str(p, "datacenter");
    bool master = json_is_true(json_object_get(p, "master"));
    char what[160];
    vr_i18n_format(what, sizeof(what), "attach of storage domain '%s'", str(sd, "name"));
    vr_job_update(e, job_id, "running", "waiting for the data center's SPM");
    vr_job_progress(e, job_id, 10);
    json_t *params = json_pack("{s:s, s:s, s:b}", "domain", sd_id, "pool", dc, "master", master);
    int rc = spm_call(e, job_id, dc, 180, "Storage.attach", params, &res, &err);
    json_decref(params);
    if (rc < 0)
        goto failed;
    vr_db_exec(e->db, "UPDATE storage_domains SET status = 'active' WHERE id = ? AND status = 'locked'",
               DB_ARGS(DB_TEXT(sd_id)), NULL);
    if (master) /* the data center's first master (again): its version is the newest */
        vr_db_exec(e->db, "UPDATE datacenters SET master_version = ? WHERE id = ?",
                   DB_ARGS(DB_INT(json_integer_value(json_object_get(res, "master_version"))), DB_TEXT(dc)), NULL);
    vr_event(e, "normal", user, "storagedomain", sd_id,
             master ? N_("storage domain '%s' attached as the master and active") : N_("storage domain '%s' attached and active"),
             str(sd, "name"));
    vr_job_update(e, job_id, "finished", "");
    goto out;
failed:
    attach_undo(e, sd_id, dc, master);
    if (vr_job_cancel_requested(e, job_id) && err.code == VR_ERR_BAD_STATE)
        vr_job_update(e, job_id, "cancelled", err.message);
    else
        fail(e, job_id, user, sd_id, what, err.message);
out:
    json_decref(res);
    json_decref(sd);
    json_decref(p);
}

int vr_sd_attach_submit(vr_engine *e, json_t *sd, const char *dc_id, const char *user, char job_id[37],
                        vr_error *err)
{
    const char *id = str(sd, "id"), *name = str(sd, "name");
    if (strcmp(str(sd, "status"), "unattached"))
        return vr_error_set(err, VR_ERR_BAD_STATE, "storage domain '%s' is %s; only an unattached domain can be"
                            " attached", name, str(sd, "status"));
    if (!strcmp(str(sd, "storage_type"), "localfs")) {
        int hosts = vr_storage_dc_hosts(e, dc_id, err);
        if (hosts < 0)
            return -1;
        if (hosts > 1)
            return vr_error_set(err, VR_ERR_CONFLICT, "storage domain '%s' is localfs: it can only be attached to a"
                                " data center with one host (this one has %d)", name, hosts);
    }
    vr_uuid_new(job_id);
    if (vr_db_begin(e->db, err) < 0)
        return -1;
    json_t *dc = vr_db_query_one(e->db, "SELECT name, master_domain_id FROM datacenters WHERE id = ?",
                                 DB_ARGS(DB_TEXT(dc_id)), err);
    bool master = dc && json_is_null(json_object_get(dc, "master_domain_id"));
    int rc = 0;
    if (!dc)
        rc = err->code ? -1 : vr_error_set(err, VR_ERR_INVALID_PARAMS, "no data center with id '%.64s'", dc_id);
    else if (master && strcmp(str(sd, "type"), "data"))
        rc = vr_error_set(err, VR_ERR_CONFLICT, "data center '%s' has no master domain yet: attach a data domain"
                          " first (storage domain '%s' is %s)", str(dc, "name"), name, str(sd, "type"));
    /* Conditional writes: a racing attach or master choice loses here. */
    if (rc == 0 && master &&
        vr_db_exec(e->db, "UPDATE datacenters SET master_domain_id = ? WHERE id = ? AND master_domain_id IS NULL",
                   DB_ARGS(DB_TEXT(id), DB_TEXT(dc_id)), err) != 1)
        rc = err->code ? -1 : vr_error_set(err, VR_ERR_CONFLICT, "data center '%s' changed meanwhile", str(dc, "name"));
    if (rc == 0 && vr_db_exec(e->db, "UPDATE storage_domains SET status = 'locked', datacenter_id = ?, master = ?"
                              " WHERE id = ? AND status = 'unattached'",
                              DB_ARGS(DB_TEXT(dc_id), DB_INT(master), DB_TEXT(id)), err) != 1)
        rc = err->code ? -1 : vr_error_set(err, VR_ERR_CONFLICT, "storage domain '%s' changed meanwhile", name);
    char desc[200];
    vr_i18n_format(desc, sizeof(desc), "Attach storage domain '%s' to data center '%s'", name, str(dc, "name"));
    json_t *params = json_pack("{s:s, s:b}", "datacenter", dc_id, "master", master);
    json_decref(dc);
    return vr_storage_job_submit(e, rc, job_id, "attach", "storagedomain", id, desc, params, user, run_attach, err);
}

/* ---- detach ---- */

static void run_detach(vr_engine *e, const char *job_id, const char *sd_id, const char *user)
{
    vr_error err = {0};
    json_t *p = job_params(e, job_id), *res = NULL;
    const char *dc = str(p, "datacenter");
    bool master = json_is_true(json_object_get(p, "master"));
    char what[160];
    vr_i18n_format(what, sizeof(what), "detach of storage domain '%s'", str(p, "name"));
    vr_job_update(e, job_id, "running", "waiting for the data center's SPM");
    vr_job_progress(e, job_id, 10);
    json_t *params = json_pack("{s:s, s:s}", "domain", sd_id, "pool", dc);
    /* Hosts let go of a domain in maintenance (disconnected unless another
     * domain shares its storage): the SPM connects it again to detach it. */
    json_t *sd = vr_db_query_one(e->db, SD_SELECT, DB_ARGS(DB_TEXT(sd_id)), &err);
    json_t *spm = sd ? vr_storage_wait_spm(e, job_id, dc, 120, &err) : NULL;
    if (!sd && !err.code)
        vr_error_set(&err, VR_ERR_NOT_FOUND, "the storage domain is gone");
    int rc = spm ? connect_host(e, job_id, spm, sd, &err) : -1;
    json_decref(spm);
    json_decref(sd);
    if (rc == 0)
        rc = spm_call(e, job_id, dc, 120, "Storage.detach", params, &res, &err);
    json_decref(params);
    if (rc < 0)
        goto failed;
    if (vr_db_begin(e->db, &err) == 0) {
        vr_db_exec(e->db, "UPDATE storage_domains SET status = 'unattached', datacenter_id = NULL, master = 0"
                   " WHERE id = ?", DB_ARGS(DB_TEXT(sd_id)), NULL);
        if (master)
            vr_db_exec(e->db, "UPDATE datacenters SET master_domain_id = NULL WHERE id = ? AND master_domain_id = ?",
                       DB_ARGS(DB_TEXT(dc), DB_TEXT(sd_id)), NULL);
        vr_db_commit(e->db, &err);
    }
    vr_event(e, "normal", user, "storagedomain", sd_id, "storage domain '%s' detached", str(p, "name"));
    vr_job_update(e, job_id, "finished", "");
    goto out;
failed:
    vr_db_exec(e->db, "UPDATE storage_domains SET status = 'maintenance' WHERE id = ? AND status = 'locked'",
               DB_ARGS(DB_TEXT(sd_id)), NULL);
    fail(e, job_id, user, sd_id, what, err.message);
out:
    json_decref(res);
    json_decref(p);
}

int vr_sd_detach_submit(vr_engine *e, json_t *sd, const char *user, char job_id[37], vr_error *err)
{
    const char *id = str(sd, "id"), *name = str(sd, "name"), *dc = str(sd, "datacenter_id");
    if (strcmp(str(sd, "status"), "maintenance"))
        return vr_error_set(err, VR_ERR_BAD_STATE, "storage domain '%s' is %s; put it in maintenance before"
                            " detaching it", name, str(sd, "status"));
    bool master = json_is_true(json_object_get(sd, "master"));
    vr_uuid_new(job_id);
    if (vr_db_begin(e->db, err) < 0)
        return -1;
    int rc = 0;
    if (master) { /* in maintenance, the master was the last active data domain: it goes last */
        json_t *o = vr_db_query_one(e->db, "SELECT count(*) AS n FROM storage_domains WHERE datacenter_id = ?"
                                    " AND id != ?", DB_ARGS(DB_TEXT(dc), DB_TEXT(id)), err);
        long long others = json_integer_value(json_object_get(o, "n"));
        json_decref(o);
        if (err->code)
            rc = -1;
        else if (others)
            rc = vr_error_set(err, VR_ERR_CONFLICT, "storage domain '%s' is the master of its data center: it is"
                              " detached last (%lld other domain(s) still attached); to move the master role,"
                              " activate it and another data domain, then put it in maintenance again", name,
                              others);
    }
    if (rc == 0 && vr_db_exec(e->db, "UPDATE storage_domains SET status = 'locked' WHERE id = ? AND"
                              " status = 'maintenance'", DB_ARGS(DB_TEXT(id)), err) != 1)
        rc = err->code ? -1 : vr_error_set(err, VR_ERR_CONFLICT, "storage domain '%s' changed meanwhile", name);
    char desc[160];
    vr_i18n_format(desc, sizeof(desc), "Detach storage domain '%s'", name);
    json_t *params = json_pack("{s:s, s:s, s:b}", "datacenter", dc, "name", name, "master", master);
    return vr_storage_job_submit(e, rc, job_id, "detach", "storagedomain", id, desc, params, user, run_detach, err);
}

/* ---- remove from storage (format=true) ---- */

static void run_remove(vr_engine *e, const char *job_id, const char *sd_id, const char *user)
{
    vr_error err = {0};
    json_t *p = job_params(e, job_id), *res = NULL;
    json_t *sd = vr_db_query_one(e->db, SD_SELECT, DB_ARGS(DB_TEXT(sd_id)), &err);
    json_t *host = vr_db_query_one(e->db, "SELECT id, name, address, port FROM hosts WHERE id = ?",
                                   DB_ARGS(DB_TEXT(str(p, "host"))), &err);
    char what[160];
    vr_i18n_format(what, sizeof(what), "removal of storage domain '%s' from storage", str(p, "name"));
    if (!sd || !host) {
        vr_error_set(&err, VR_ERR_NOT_FOUND, "%s", sd ? "the host is gone" : "the storage domain is gone");
        goto failed;
    }
    if (connect_host(e, job_id, host, sd, &err) < 0)
        goto failed;
    vr_job_update(e, job_id, "running", "removing the domain's directory");
    vr_job_progress(e, job_id, 40);
    /* Just detached, the host may still be in (or joining) the domain's
     * lockspace: the storage monitor rejoins a domain locked by its detach
     * job. No data center uses the domain now, so the host is asked to
     * leave, and a refusal for that is retried while sanlock finishes. */
    for (int tries = 0;; tries++) {
        vr_error_clear(&err);
        if (vr_agent_call_host(e, host, "Storage.remove", json_pack("{s:s}", "domain", sd_id), &res, &err) == 0)
            break;
        if (err.code != VR_ERR_BAD_STATE || tries >= 30 || e->stopping || vr_job_cancel_requested(e, job_id))
            goto failed;
        json_t *left = NULL;
        vr_error lerr = {0};
        if (vr_agent_call_host(e, host, "Lockspace.leave", json_pack("{s:s}", "domain", sd_id), &left, &lerr) < 0)
            VR_DEBUG("host %s cannot leave the lockspace of %s yet: %s", str(host, "name"), sd_id, lerr.message);
        json_decref(left);
        sleep(2);
    }
    if (vr_db_begin(e->db, &err) == 0) {
        vr_db_exec(e->db, "DELETE FROM disks WHERE storage_domain_id = ?", DB_ARGS(DB_TEXT(sd_id)), NULL);
        vr_db_exec(e->db, "UPDATE vms SET lease_sd_id = NULL WHERE lease_sd_id = ?", DB_ARGS(DB_TEXT(sd_id)), NULL);
        vr_db_exec(e->db, "DELETE FROM storage_domains WHERE id = ? AND status = 'locked'", DB_ARGS(DB_TEXT(sd_id)),
                   NULL);
        vr_db_commit(e->db, &err);
    }
    vr_event(e, "normal", user, "storagedomain", sd_id, "storage domain '%s' removed from storage by host '%s'",
             str(p, "name"), str(host, "name"));
    vr_job_update(e, job_id, "finished", "");
    goto out;
failed:
    vr_db_exec(e->db, "UPDATE storage_domains SET status = 'unattached' WHERE id = ? AND status = 'locked'",
               DB_ARGS(DB_TEXT(sd_id)), NULL);
    fail(e, job_id, user, sd_id, what, err.message);
out:
    json_decref(res);
    json_decref(host);
    json_decref(sd);
    json_decref(p);
}

int vr_sd_remove_submit(vr_engine *e, json_t *sd, const char *host_id, const char *user, char job_id[37],
                        vr_error *err)
{
    const char *id = str(sd, "id"), *name = str(sd, "name");
    /* the given host, or any up host: it only needs to reach the storage */
    json_t *host = host_id ? vr_db_query_one(e->db, "SELECT id, name, status FROM hosts WHERE id = ?",
                                             DB_ARGS(DB_TEXT(host_id)), err)
                           : vr_db_query_one(e->db, "SELECT id, name, status FROM hosts WHERE status = 'up'"
                                             " ORDER BY name LIMIT 1", DB_NOARGS, err);
    int rc = 0;
    if (!host)
        rc = err->code ? -1 : host_id ? vr_error_set(err, VR_ERR_INVALID_PARAMS, "no host with id '%.64s'", host_id)
                                      : vr_error_set(err, VR_ERR_BAD_STATE, "no host is up to remove storage"
                                                     " domain '%s' from storage", name);
    else if (strcmp(str(host, "status"), "up"))
        rc = vr_error_set(err, VR_ERR_BAD_STATE, "host '%s' is %s; the host that removes a storage domain from"
                          " storage must be up", str(host, "name"), str(host, "status"));
    vr_uuid_new(job_id);
    if (rc == 0 && vr_db_begin(e->db, err) < 0)
        rc = -1;
    else if (rc == 0) {
        if (vr_db_exec(e->db, "UPDATE storage_domains SET status = 'locked' WHERE id = ? AND status = 'unattached'",
                       DB_ARGS(DB_TEXT(id)), err) != 1)
            rc = err->code ? -1 : vr_error_set(err, VR_ERR_CONFLICT, "storage domain '%s' changed meanwhile", name);
        char desc[200];
        vr_i18n_format(desc, sizeof(desc), "Remove storage domain '%s' from storage", name);
        json_t *params = json_pack("{s:s, s:s}", "host", str(host, "id"), "name", name);
        if (rc == 0)
            rc = vr_storage_job_insert(e, job_id, "remove", "storagedomain", id, desc, params, user, err);
        json_decref(params);
        if (rc < 0)
            vr_db_rollback(e->db);
        else if (vr_db_commit(e->db, err) < 0)
            rc = -1;
    }
    json_decref(host);
    if (rc < 0)
        return -1;
    vr_job_spawn(e, job_id, id, user, run_remove);
    return 0;
}

/* ---- restart ---- */

bool vr_storage_job_resume(vr_engine *e, json_t *job)
{
    const char *type = str(job, "object_type"), *action = str(job, "action"), *id = str(job, "object_id");
    json_t *p = json_object_get(job, "params");
    if (!strcmp(type, "disk"))
        return vr_disk_job_resume(e, job);
    if (strcmp(type, "storagedomain"))
        return false;
    if (!strcmp(action, "movemaster")) {
        vr_sd_master_move_resume(e, job);
        return true;
    }
    const char *why = "interrupted by an engine restart; the storage domain is back as it was before";
    if (!strcmp(action, "create")) {
        vr_db_exec(e->db, "DELETE FROM disks WHERE storage_domain_id = ?", DB_ARGS(DB_TEXT(id)), NULL);
        vr_db_exec(e->db, "DELETE FROM storage_domains WHERE id = ? AND status = 'locked'", DB_ARGS(DB_TEXT(id)), NULL);
        why = "interrupted by an engine restart; the storage domain was not recorded (a half-formatted directory"
              " may remain on storage: import it or remove it there)";
    } else if (!strcmp(action, "attach")) {
        attach_undo(e, id, str(p, "datacenter"), json_is_true(json_object_get(p, "master")));
    } else if (!strcmp(action, "detach")) {
        vr_db_exec(e->db, "UPDATE storage_domains SET status = 'maintenance' WHERE id = ? AND status = 'locked'",
                   DB_ARGS(DB_TEXT(id)), NULL);
    } else if (!strcmp(action, "remove")) {
        /* the agent may have removed it already: the row comes back, and
         * a new removal finds nothing to remove (or finishes a hidden
         * leftover) */
        vr_db_exec(e->db, "UPDATE storage_domains SET status = 'unattached' WHERE id = ? AND status = 'locked'",
                   DB_ARGS(DB_TEXT(id)), NULL);
        why = "interrupted by an engine restart; the storage domain is back as unattached (its directory may be"
              " gone from storage already: remove it again, with format=false if the host finds nothing)";
    }
    VR_INFO("job %s (%s of storage domain %s) failed: engine restart", str(job, "id"), action, id);
    vr_job_update(e, str(job, "id"), "failed", why);
    return true;
}
