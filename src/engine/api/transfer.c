/* Disk image transfer (see transfer.h; docs/rest-api.md "Disk content").
 *
 * Upload: the request's head is checked before its body is read (token,
 * content type, length, the disk's state, its domain and SPM), then the
 * disk is locked with an "upload" job and the SPM's agent gets
 * Volume.startUpload. Body pieces gather in a CHUNK buffer; each full one
 * goes to the upload's sender thread, which writes it to the SPM
 * (Volume.write) while the next one fills (all-zero chunks are skipped:
 * the agent emptied the file, so they read back as zeros and stay sparse).
 * At the end Volume.commitUpload lets qemu-img check the image and makes
 * the volume LEGAL: the disk is `ok`. Any other end (a refused chunk, a
 * client gone, a rejected image) leaves the disk `illegal`, never `ok`; a
 * new PUT may fill it again.
 *
 * Download: any up host that sees the domain reads the volume's file in
 * CHUNK pieces (Volume.read) as the client takes them. */
#include "transfer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "auth.h"
#include "base64.h"
#include "devspec.h"
#include "dispatch.h"
#include "fault.h"
#include "i18n.h"
#include "jobs.h"
#include "kind.h"
#include "log.h"
#include "rpcclient.h"
#include "sdjobs.h"
#include "store_storage.h"
#include "timeouts.h"

#define CHUNK (512 * 1024) /* base64 makes it ~700 KB: well under the agents' 1 MiB frame */
#define COMMIT_TIMEOUT_S 600 /* qemu-img check, fdatasync, fallocate */
#define ID_MAX 65

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

static long long num(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_boolean(v) ? json_is_true(v) : json_integer_value(v);
}

/* "/api/disks/<id>/content" -> id (any segment: a malformed one is an
 * unknown disk, answered before its body like any other). */
static bool content_path(const char *path, char id[ID_MAX])
{
    return vr_api_path_id(path, "/api/disks/", "/content", id, ID_MAX);
}

/* {domain, image, volume} of a disk row. */
static json_t *vol_ref(json_t *d)
{
    return json_pack("{s:s, s:s, s:s}", "domain", str(d, "storage_domain"), "image", str(d, "id"), "volume",
                     str(d, "volume_id"));
}

/* The disk, once the user may `action` (upload, download) it. */
static json_t *read_disk(vr_engine *e, const char *user, const char *id, const char *action, vr_error *err)
{
    json_t *d = vr_valid_uuid(id) ? vr_storage_disk_get(e, id, err) : NULL;
    if (!d && !err->code)
        vr_error_set(err, VR_ERR_NOT_FOUND, "no disk with id '%.64s'", id);
    if (d && vr_authorize_user(e, user, &vr_kind_disks, d, action, err) < 0) {
        json_decref(d);
        return NULL;
    }
    return d;
}

static int connect_host(vr_engine *e, json_t *host, const char *verb, vr_rpc_client **out, vr_error *err)
{
    vr_error why = {0};
    if (vr_rpc_client_new(e->agent_creds, str(host, "address"), (int)num(host, "port"), out, &why) < 0)
        return vr_error_set(err, VR_ERR_IO, "cannot reach host '%s': %s", str(host, "name"), why.message);
    vr_rpc_client_set_timeout(*out, vr_timeout_agent_call_s(e, verb));
    return 0;
}

/* ---- upload ---- */

typedef struct upload {
    vr_http_stream s; /* first: the server's handle is this object */
    vr_engine *e;
    char disk[37], job[37], user[128], alias[72], host[72];
    json_t *ref;
    bool cow;
    vr_rpc_client *rpc;        /* the sender's while it runs, then the commit's */
    long long length;          /* announced */
    unsigned char *buf, *spare; /* CHUNK bytes each: buf gathers the body; spare is free or being sent */
    size_t fill;
    long long received;        /* offset of buf's first byte */
    char *b64;                 /* the sender's */
    int pct;
    bool ended; /* the job and the disk are settled */
    /* The sender thread: one chunk goes to the SPM while the next one
     * arrives from the client (two chunks in memory at most). */
    pthread_t sender;
    bool sender_on, stop;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    unsigned char *out;        /* the chunk being sent (NULL: the sender is idle) */
    size_t out_len;
    long long out_off;
    vr_error send_err;         /* the sender's first failure */
} upload;

static bool all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* Write n bytes at off to the SPM (the sender thread). */
static int send_chunk(upload *u, const unsigned char *b, size_t n, long long off, vr_error *err)
{
    if (!all_zero(b, n)) {
        vr_base64_encode(b, n, u->b64);
        json_t *p = json_deep_copy(u->ref), *res = NULL;
        json_object_set_new(p, "offset", json_integer(off));
        json_object_set_new(p, "data", json_string(u->b64));
        vr_error why = {0};
        int rc = vr_rpc_call(u->rpc, "Volume.write", p, &res, &why);
        json_decref(res);
        if (rc < 0) /* the SPM refusing our own offsets would be the engine's bug */
            return vr_error_set(err, why.code == VR_ERR_INVALID_PARAMS ? VR_ERR_INTERNAL : why.code,
                                "host '%s' refused the bytes at offset %lld: %s", u->host, off, why.message);
    }
    int pct = u->length ? (int)((off + (long long)n) * 95 / u->length) : 95;
    if (pct >= u->pct + 5) { /* a database write every 5% */
        vr_job_progress(u->e, u->job, pct);
        u->pct = pct;
    }
    return 0;
}

static void *sender(void *arg)
{
    upload *u = arg;
    pthread_mutex_lock(&u->lock);
    for (;;) {
        while (!u->out && !u->stop)
            pthread_cond_wait(&u->cond, &u->lock);
        if (!u->out)
            break;
        const unsigned char *b = u->out;
        size_t n = u->out_len;
        long long off = u->out_off;
        bool skip = u->send_err.code != 0; /* after a failure, nothing more is sent */
        pthread_mutex_unlock(&u->lock);
        vr_error err = {0};
        int rc = skip ? 0 : send_chunk(u, b, n, off, &err);
        pthread_mutex_lock(&u->lock);
        if (rc < 0)
            u->send_err = err;
        u->out = NULL;
        pthread_cond_broadcast(&u->cond);
    }
    pthread_mutex_unlock(&u->lock);
    return NULL;
}

/* Wait until the sender is idle; with `give`, then hand it the gathered
 * bytes (the buffers swap). -1 with the sender's failure, if any. */
static int hand_off(upload *u, bool give, vr_error *err)
{
    pthread_mutex_lock(&u->lock);
    while (u->out)
        pthread_cond_wait(&u->cond, &u->lock);
    int rc = 0;
    if (u->send_err.code) {
        *err = u->send_err;
        rc = -1;
    } else if (give && u->fill) {
        unsigned char *b = u->buf;
        u->buf = u->spare;
        u->spare = b;
        u->out = b;
        u->out_len = u->fill;
        u->out_off = u->received;
        u->received += (long long)u->fill;
        u->fill = 0;
        pthread_cond_broadcast(&u->cond);
    }
    pthread_mutex_unlock(&u->lock);
    return rc;
}

static void stop_sender(upload *u)
{
    if (!u->sender_on)
        return;
    pthread_mutex_lock(&u->lock);
    u->stop = true;
    pthread_cond_broadcast(&u->cond);
    pthread_mutex_unlock(&u->lock);
    pthread_join(u->sender, NULL);
    u->sender_on = false;
}

/* Settle the job and the disk after a failure: illegal (a volume may hold
 * part of an image), the job failed with why. */
static void fail(upload *u, const char *why)
{
    if (u->ended)
        return;
    u->ended = true;
    vr_db_exec(u->e->db, "UPDATE disks SET status = 'illegal' WHERE id = ? AND status = 'locked'",
               DB_ARGS(DB_TEXT(u->disk)), NULL);
    vr_event(u->e, "error", u->user, "disk", u->disk, "upload to disk '%s' failed: %s", u->alias, why);
    vr_job_update(u->e, u->job, "failed", why);
}

static int up_data(vr_http_stream *s, const char *buf, size_t len, vr_http_resp *resp)
{
    upload *u = (upload *)s;
    while (len) {
        size_t n = CHUNK - u->fill < len ? CHUNK - u->fill : len;
        memcpy(u->buf + u->fill, buf, n);
        u->fill += n;
        buf += n;
        len -= n;
        vr_error err = {0};
        if (u->fill == CHUNK && hand_off(u, true, &err) < 0) {
            fail(u, err.message);
            return vr_fault(resp, &err);
        }
    }
    return 0;
}

static void up_finish(vr_http_stream *s, vr_http_resp *resp)
{
    upload *u = (upload *)s;
    vr_error err = {0};
    json_t *info = NULL;
    int rc = hand_off(u, true, &err) == 0 ? hand_off(u, false, &err) : -1;
    stop_sender(u); /* the connection is the commit's now */
    vr_job_update(u->e, u->job, "running", "checking the image on the SPM");
    if (rc == 0) {
        vr_rpc_client_set_timeout(u->rpc, COMMIT_TIMEOUT_S); /* qemu-img check of a large qcow2 */
        vr_rpc_call(u->rpc, "Volume.commitUpload", json_deep_copy(u->ref), &info, &err);
    }
    if (err.code) {
        fail(u, err.message);
        vr_fault(resp, &err);
        return;
    }
    /* The image's own virtual size is the disk's now (a qcow2 may be
     * smaller than what the disk was created with). */
    long long cap = num(info, "capacity");
    vr_db_exec(u->e->db, "UPDATE disks SET status = 'ok', actual_size = ?, provisioned_size = ? WHERE id = ?",
               DB_ARGS(DB_INT(num(info, "actual_size")), DB_INT(cap), DB_TEXT(u->disk)), NULL);
    json_decref(info);
    u->ended = true;
    vr_job_progress(u->e, u->job, 100);
    vr_job_update(u->e, u->job, "finished", "");
    vr_event(u->e, "normal", u->user, "disk", u->disk, "disk '%s' received its content (%lld bytes)", u->alias,
             u->length);
    json_t *row = vr_kind_get(u->e, &vr_kind_disks, u->disk, &err);
    if (!row) {
        vr_fault(resp, &err);
        return;
    }
    resp->status = 200;
    resp->body = row;
}

static void up_close(vr_http_stream *s, bool finished)
{
    upload *u = (upload *)s;
    /* No write may still be in flight once the disk is illegal: a new
     * upload may start on it then. */
    stop_sender(u);
    if (!finished) {
        char why[200];
        snprintf(why, sizeof(why), "the client went away after %lld of %lld bytes",
                 u->received + (long long)u->fill, u->length);
        fail(u, why);
    }
    pthread_mutex_destroy(&u->lock);
    pthread_cond_destroy(&u->cond);
    vr_rpc_client_free(u->rpc);
    json_decref(u->ref);
    free(u->buf);
    free(u->spare);
    free(u->b64);
    free(u);
}

/* Lock the disk (from the status it was read with) with an upload job. */
static int lock_for_upload(vr_engine *e, json_t *d, const char *user, char job[37], vr_error *err)
{
    char desc[200];
    vr_i18n_format(desc, sizeof(desc), "Upload to disk '%s'", str(d, "alias"));
    json_t *params = json_pack("{s:s}", "was", "illegal"); /* an engine restart: part of an image */
    vr_uuid_new(job);
    int rc = vr_db_begin(e->db, err);
    if (rc == 0) {
        int n = vr_db_exec(e->db, "UPDATE disks SET status = 'locked' WHERE id = ? AND status = ?",
                           DB_ARGS(DB_TEXT(str(d, "id")), DB_TEXT(str(d, "status"))), err);
        if (n == 0)
            vr_error_set(err, VR_ERR_CONFLICT, "disk '%s' changed meanwhile (locked by another job)",
                         str(d, "alias"));
        if (n != 1 || vr_storage_job_insert(e, job, "upload", "disk", str(d, "id"), desc, params, user, err) < 0) {
            vr_db_rollback(e->db);
            rc = -1;
        }
    }
    json_decref(params);
    return rc < 0 || vr_db_commit(e->db, err) < 0 ? -1 : 0;
}

/* Checks that need no body; 0, or -1 with err (and *status when it is not
 * the error code's). */
static int check_upload(vr_http_req *req, json_t *d, long long *length, int *status, vr_error *err)
{
    const char *type = vr_http_header(req, "Content-Type"), *clen = vr_http_header(req, "Content-Length");
    const char *alias = str(d, "alias"), *st = str(d, "status");
    size_t tl = strlen("application/octet-stream");
    if (!type || strncasecmp(type, "application/octet-stream", tl) || (type[tl] && type[tl] != ';' && type[tl] != ' ')) {
        *status = 415;
        return vr_error_set(err, VR_ERR_INVALID_REQUEST, "the image goes as Content-Type application/octet-stream"
                            " (got %s)", type ? type : "none");
    }
    char *end = NULL;
    *length = clen && *clen >= '0' && *clen <= '9' ? strtoll(clen, &end, 10) : -1;
    if (*length <= 0 || !end || *end) {
        *status = 411;
        return vr_error_set(err, VR_ERR_INVALID_REQUEST, "an upload needs a Content-Length of at least 1 byte"
                            " (chunked bodies are not taken)");
    }
    long long size = num(d, "provisioned_size");
    bool cow = !strcmp(str(d, "format"), "cow");
    long long max = cow ? size + size / 8 + (64LL << 20) : size;
    if (*length > max) {
        *status = 413;
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "disk '%s' is %lld bytes (%s): an upload of %lld bytes does"
                            " not fit (at most %lld)", alias, size, cow ? "cow" : "raw", *length, max);
    }
    if (!strcmp(st, "ok"))
        return vr_error_set(err, VR_ERR_CONFLICT, "disk '%s' already has its content; uploads fill a disk created"
                            " with \"content\": \"upload\" (or whose upload broke off)", alias);
    if (strcmp(st, "empty") && strcmp(st, "illegal"))
        return vr_error_set(err, VR_ERR_CONFLICT, "disk '%s' is %s (a job holds it; see /api/jobs)", alias, st);
    if (strcmp(str(d, "sd_status"), "active"))
        return vr_error_set(err, VR_ERR_BAD_STATE, "storage domain '%s' is %s; uploads go to an active domain",
                            str(d, "sd_name"), str(d, "sd_status"));
    return 0;
}

vr_http_stream *vr_transfer_stream(void *engine, vr_http_req *req, vr_http_resp *resp)
{
    vr_engine *e = engine;
    char id[ID_MAX];
    if (strcmp(req->method, "PUT") || !content_path(req->path, id))
        return NULL;
    vr_db_thread_prefers_readers(true);
    if (vr_auth_check(e, req, resp) < 0)
        return NULL;
    vr_error err = {0};
    json_t *d = read_disk(e, req->user, id, "upload", &err), *spm = NULL;
    long long length = 0;
    int status = 0;
    upload *u = NULL;
    if (!d || check_upload(req, d, &length, &status, &err) < 0)
        goto refuse;
    spm = vr_storage_spm_host(e, str(d, "datacenter_id"), &err);
    if (!spm) {
        if (!err.code)
            vr_error_set(&err, VR_ERR_BAD_STATE, "the data center of storage domain '%s' has no SPM now",
                         str(d, "sd_name"));
        goto refuse;
    }
    u = calloc(1, sizeof(*u));
    if (!u || !(u->buf = malloc(CHUNK)) || !(u->spare = malloc(CHUNK)) ||
        !(u->b64 = malloc(vr_base64_len(CHUNK) + 1))) {
        vr_error_set(&err, VR_ERR_INTERNAL, "out of memory");
        goto refuse;
    }
    *u = (upload){.s = {up_data, up_finish, up_close}, .e = e, .ref = vol_ref(d), .length = length,
                  .cow = !strcmp(str(d, "format"), "cow"), .buf = u->buf, .spare = u->spare, .b64 = u->b64};
    pthread_mutex_init(&u->lock, NULL);
    pthread_cond_init(&u->cond, NULL);
    snprintf(u->disk, sizeof(u->disk), "%s", str(d, "id"));
    snprintf(u->user, sizeof(u->user), "%s", req->user);
    snprintf(u->alias, sizeof(u->alias), "%s", str(d, "alias"));
    snprintf(u->host, sizeof(u->host), "%s", str(spm, "name"));
    if (connect_host(e, spm, "Volume.write", &u->rpc, &err) < 0 || lock_for_upload(e, d, req->user, u->job, &err) < 0)
        goto refuse;
    vr_job_update(e, u->job, "running", "receiving the image");
    /* The volume's metadata keeps the alias and description, as a create does. */
    json_t *desc = json_pack("{s:s, s:s}", "alias", str(d, "alias"), "description", str(d, "description"));
    char *text = json_dumps(desc, JSON_COMPACT);
    if (text && strlen(text) > 200) {
        free(text);
        json_object_del(desc, "description");
        text = json_dumps(desc, JSON_COMPACT);
    }
    json_t *p = json_deep_copy(u->ref), *res = NULL;
    json_object_set_new(p, "format", json_string(u->cow ? "qcow2" : "raw"));
    json_object_set_new(p, "preallocation", json_string(num(d, "sparse") ? "sparse" : "preallocated"));
    json_object_set_new(p, "size", json_integer(num(d, "provisioned_size")));
    json_object_set_new(p, "length", json_integer(length));
    json_object_set_new(p, "description", json_string(text ? text : ""));
    free(text);
    json_decref(desc);
    /* A preallocated raw volume is allocated now (slow where fallocate is
     * emulated, as on NFS 3). */
    vr_rpc_client_set_timeout(u->rpc, COMMIT_TIMEOUT_S);
    int rc = vr_rpc_call(u->rpc, "Volume.startUpload", p, &res, &err);
    vr_rpc_client_set_timeout(u->rpc, vr_timeout_agent_call_s(e, "Volume.write"));
    if (rc < 0) {
        /* Nothing was written: the disk goes back as it was. */
        u->ended = true;
        vr_db_exec(e->db, "UPDATE disks SET status = ? WHERE id = ? AND status = 'locked'",
                   DB_ARGS(DB_TEXT(str(d, "status")), DB_TEXT(id)), NULL);
        vr_job_update(e, u->job, "failed", err.message);
        goto refuse;
    }
    json_decref(res);
    if (pthread_create(&u->sender, NULL, sender, u) != 0) {
        vr_error_set(&err, VR_ERR_INTERNAL, "cannot start the upload's sender thread");
        fail(u, err.message);
        goto refuse;
    }
    u->sender_on = true;
    VR_INFO("upload of %lld bytes to disk %s through host %s started", length, id, u->host);
    json_decref(spm);
    json_decref(d);
    return &u->s;
refuse:
    if (u) {
        u->ended = true;
        up_close(&u->s, true);
    }
    json_decref(spm);
    json_decref(d);
    if (status)
        vr_http_fault(resp, status, NULL, "%s", err.message);
    else
        vr_fault(resp, &err);
    return NULL;
}

/* ---- download ---- */

typedef struct download {
    vr_engine *e;
    vr_rpc_client *rpc;
    json_t *ref;
    unsigned char *buf; /* the chunk at off, len bytes */
    long long off, len, size;
    char disk[37];
} download;

static int fetch(download *d, long long pos, vr_error *err)
{
    json_t *p = json_deep_copy(d->ref), *res = NULL;
    json_object_set_new(p, "offset", json_integer(pos));
    json_object_set_new(p, "length", json_integer(CHUNK));
    if (vr_rpc_call(d->rpc, "Volume.read", p, &res, err) < 0)
        return -1;
    const char *data = str(res, "data");
    size_t n = strlen(data);
    long got = n <= vr_base64_len(CHUNK) ? vr_base64_decode(data, n, d->buf) : -1;
    d->size = num(res, "size");
    json_decref(res);
    if (got < 0)
        return vr_error_set(err, VR_ERR_IO, "the host sent a chunk that is not base64");
    d->off = pos;
    d->len = got;
    return 0;
}

static long long dl_read(void *cls, unsigned long long pos, char *out, size_t max)
{
    download *d = cls;
    long long p = (long long)pos;
    vr_error err = {0};
    if ((p < d->off || p >= d->off + d->len) && (fetch(d, p, &err) < 0 || d->len == 0)) {
        VR_WARN("download of disk %s stopped at %lld: %s", d->disk, p,
                err.code ? err.message : "the file ended early");
        return -1;
    }
    long long n = d->off + d->len - p < (long long)max ? d->off + d->len - p : (long long)max;
    memcpy(out, d->buf + (p - d->off), (size_t)n);
    return n;
}

static void dl_free(void *cls)
{
    download *d = cls;
    vr_rpc_client_free(d->rpc);
    json_decref(d->ref);
    free(d->buf);
    free(d);
}

bool vr_transfer_handle(vr_engine *e, vr_http_req *req, vr_http_resp *resp)
{
    char id[ID_MAX];
    if (!content_path(req->path, id))
        return false;
    if (strcmp(req->method, "GET")) {
        vr_http_fault(resp, 405, "Method Not Allowed", "disk content takes GET (download) and PUT (upload)");
        return true;
    }
    vr_error err = {0};
    json_t *dk = read_disk(e, req->user, id, "download", &err), *host = NULL;
    download *d = NULL;
    if (dk && strcmp(str(dk, "status"), "ok"))
        vr_error_set(&err, VR_ERR_CONFLICT, "disk '%s' is %s; only an ok disk is downloaded", str(dk, "alias"),
                     str(dk, "status"));
    /* Any up host that sees the domain reads it (the SPM need not). */
    if (!err.code)
        host = vr_db_query_one(e->db, "SELECT h.name AS name, h.address AS address, h.port AS port"
                               " FROM host_domain_status s JOIN hosts h ON h.id = s.host_id WHERE s.domain_id = ?"
                               " AND s.valid = 1 AND h.status = 'up' ORDER BY s.delay_ms LIMIT 1",
                               DB_ARGS(DB_TEXT(str(dk, "storage_domain"))), &err);
    if (!err.code && !host)
        vr_error_set(&err, VR_ERR_BAD_STATE, "no up host sees storage domain '%s' now", str(dk, "sd_name"));
    if (!err.code && (!(d = calloc(1, sizeof(*d))) || !(d->buf = malloc(CHUNK))))
        vr_error_set(&err, VR_ERR_INTERNAL, "out of memory");
    if (!err.code) {
        d->e = e;
        d->ref = vol_ref(dk);
        snprintf(d->disk, sizeof(d->disk), "%s", str(dk, "id"));
        if (connect_host(e, host, "Volume.read", &d->rpc, &err) == 0)
            fetch(d, 0, &err); /* learns the file's size for Content-Length */
    }
    json_decref(host);
    json_decref(dk);
    if (err.code) {
        if (d)
            dl_free(d);
        vr_fault(resp, &err);
        return true;
    }
    resp->status = 200;
    resp->read = dl_read;
    resp->read_free = dl_free;
    resp->read_cls = d;
    resp->length = d->size;
    return true;
}

/* ---- create ---- */

int vr_transfer_disk_create(vr_engine *e, const char *id, json_t *body, vr_error *err)
{
    json_t *sd = vr_db_query_one(e->db, "SELECT name, status FROM storage_domains WHERE id = ?",
                                 DB_ARGS(DB_TEXT(str(body, "storage_domain"))), err);
    int rc = 0;
    if (!sd)
        rc = err->code ? -1 : vr_error_set(err, VR_ERR_INVALID_PARAMS, "no storage domain with id '%.64s'",
                                           str(body, "storage_domain"));
    else if (strcmp(str(sd, "status"), "active"))
        rc = vr_error_set(err, VR_ERR_BAD_STATE, "storage domain '%s' is %s; disks are made on an active domain",
                          str(sd, "name"), str(sd, "status"));
    json_decref(sd);
    if (rc < 0 || vr_db_begin(e->db, err) < 0)
        return -1;
    if (vr_store_disks.insert(e, id, body, err) < 0 ||
        vr_db_exec(e->db, "UPDATE disks SET status = 'empty' WHERE id = ?", DB_ARGS(DB_TEXT(id)), err) < 0) {
        vr_db_rollback(e->db);
        return -1;
    }
    return vr_db_commit(e->db, err);
}
