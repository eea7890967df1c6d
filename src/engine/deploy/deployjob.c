#include "deployjob.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "certsign.h"
#include "hostcheck.h"
#include "hostsetup.h"
#include "hoststatus.h"
#include "host_ssh.h"
#include "hostview.h"
#include "jobs.h"
#include "log.h"
#include "removejob.h"
#include "revoke.h"
#include "rpcclient.h"
#include "sshconn.h"
#include "i18n.h"

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

/* ------------------------------------------------------------ passwords */

/* Root passwords on their way from a request to its job: memory only. */
typedef struct secret {
    char job_id[37];
    char *password;
    struct secret *next;
} secret;
static secret *secrets;
static pthread_mutex_t secrets_lock = PTHREAD_MUTEX_INITIALIZER;

static void wipe_free(char *p)
{
    if (p) {
        explicit_bzero(p, strlen(p));
        free(p);
    }
}

static int secret_put(const char *job_id, const char *password)
{
    secret *s = calloc(1, sizeof(*s));
    if (!s || !(s->password = strdup(password))) {
        free(s);
        return -1;
    }
    snprintf(s->job_id, sizeof(s->job_id), "%s", job_id);
    pthread_mutex_lock(&secrets_lock);
    s->next = secrets;
    secrets = s;
    pthread_mutex_unlock(&secrets_lock);
    return 0;
}

/* The job's password, taken out of the list (wipe_free() it), or NULL. */
static char *secret_take(const char *job_id)
{
    char *pw = NULL;
    pthread_mutex_lock(&secrets_lock);
    for (secret **p = &secrets; *p; p = &(*p)->next) {
        if (!strcmp((*p)->job_id, job_id)) {
            secret *s = *p;
            *p = s->next;
            pw = s->password;
            free(s);
            break;
        }
    }
    pthread_mutex_unlock(&secrets_lock);
    return pw;
}

/* ------------------------------------------------------------ checks */

int vr_deploy_check_ssh(json_t *ssh, json_t *stored, vr_error *err)
{
    if (!json_is_object(ssh))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "ssh must be an object {port, password | use_engine_key,"
                            " fingerprint}");
    const char *k;
    json_t *v;
    json_object_foreach(ssh, k, v) {
        if (strcmp(k, "port") && strcmp(k, "password") && strcmp(k, "use_engine_key") && strcmp(k, "fingerprint") &&
            strcmp(k, "soft_fencing"))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "ssh: unknown member '%.40s'", k);
    }
    json_t *port = json_object_get(ssh, "port"), *pw = json_object_get(ssh, "password");
    json_t *key = json_object_get(ssh, "use_engine_key"), *fp = json_object_get(ssh, "fingerprint");
    if (port && (!json_is_integer(port) || json_integer_value(port) < 1 || json_integer_value(port) > 65535))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "ssh.port must be from 1 to 65535");
    if (key && !json_is_boolean(key))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "ssh.use_engine_key must be a boolean");
    json_t *soft = json_object_get(ssh, "soft_fencing");
    if (soft && !json_is_boolean(soft))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "ssh.soft_fencing must be a boolean");
    /* The password is never echoed, not even in this message. */
    if (pw && (!json_is_string(pw) || json_string_length(pw) < 1 || json_string_length(pw) > 1024 ||
               memchr(json_string_value(pw), '\0', json_string_length(pw))))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "ssh.password must be a text of 1 to 1024 characters");
    if (!!pw == json_is_true(key))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "ssh needs either password (root's) or use_engine_key: true"
                            " (the key served at /pki/engine-ssh.pub in root's authorized_keys)");
    if (fp) {
        const char *f = json_string_value(fp);
        size_t n = f ? strlen(f) : 0;
        if (!f || n < 8 || n > 100 || strncmp(f, "SHA256:", 7) ||
            strspn(f + 7, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != n - 7)
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "ssh.fingerprint must be a host key fingerprint like"
                                " SHA256:... (ssh-keygen -l -E sha256 -f /etc/ssh/ssh_host_ed25519_key.pub)");
    }
    if (!port)
        json_object_set_new(ssh, "port", json_integer(json_integer_value(json_object_get(stored, "port")) ?: 22));
    if (!fp && *str(stored, "fingerprint"))
        json_object_set_new(ssh, "fingerprint", json_string(str(stored, "fingerprint")));
    if (!soft)
        json_object_set_new(ssh, "soft_fencing", json_boolean(json_is_true(json_object_get(stored, "soft_fencing"))));
    return 0;
}

bool vr_deploy_wanted(json_t *ssh)
{
    return json_is_object(ssh) && (json_object_get(ssh, "password") || json_object_get(ssh, "use_engine_key"));
}

json_t *vr_deploy_stored_ssh(json_t *ssh)
{
    return json_pack("{s:I, s:s, s:s, s:b}", "port", json_integer_value(json_object_get(ssh, "port")), "fingerprint",
                     str(ssh, "fingerprint"), "auth", json_object_get(ssh, "password") ? "password" : "engine_key",
                     "soft_fencing", json_is_true(json_object_get(ssh, "soft_fencing")));
}

/* ------------------------------------------------------------ the job */

typedef struct deploy {
    vr_engine *e;
    const char *job_id, *host_id, *user;
    bool install;        /* else enrollcertificate */
    json_t *host;        /* id, name, address, port, status, ssh */
    char step[128];
    char serial[41];     /* of the certificate signed */
    long long expires;   /* its end */
    char *password;      /* NULL: the engine's key */
} deploy;

/* A message with the password (should a host ever echo it) masked. */
static void scrub(const deploy *d, char *msg)
{
    if (!d->password || !*d->password)
        return;
    size_t n = strlen(d->password);
    for (char *p = strstr(msg, d->password); p; p = strstr(p, d->password)) {
        memmove(p + 3, p + n, strlen(p + n) + 1);
        memcpy(p, "***", 3);
        p += 3;
    }
}

static void step(deploy *d, int progress, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void step(deploy *d, int progress, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->step, sizeof(d->step), fmt, ap);
    va_end(ap);
    vr_job_update(d->e, d->job_id, "running", d->step);
    vr_job_progress(d->e, d->job_id, progress);
}

/* The agent answers on its port with a certificate this engine trusts. */
static int agent_answers(deploy *d, vr_error *err)
{
    for (int i = 0; i < 30 && !d->e->stopping; i++) {
        vr_rpc_client *c = NULL;
        json_t *r = NULL;
        vr_error_clear(err);
        if (vr_rpc_client_new(d->e->agent_creds, str(d->host, "address"),
                              (int)json_integer_value(json_object_get(d->host, "port")), &c, err) == 0 &&
            vr_rpc_call(c, "Host.getCapabilities", NULL, &r, err) == 0) {
            json_decref(r);
            vr_rpc_client_free(c);
            return 0;
        }
        vr_rpc_client_free(c);
        sleep(1);
    }
    return -1;
}

static int run_steps(deploy *d, vr_error *err)
{
    vr_engine *e = d->e;
    const char *name = str(d->host, "name"), *addr = str(d->host, "address");
    json_t *ssh = json_object_get(d->host, "ssh");
    int sport = (int)json_integer_value(json_object_get(ssh, "port"));
    step(d, 5, "connecting to %s:%d over SSH", addr, sport);
    vr_ssh_target t = {.address = addr, .port = sport, .password = d->password,
                       .key_file = d->password ? NULL : e->ssh_key_file, .fingerprint = str(ssh, "fingerprint"),
                       .timeout_s = 30};
    char fp[128];
    vr_ssh *s = NULL;
    int rc = vr_ssh_open(&t, &s, fp, err);
    if (rc < 0)
        return -1;
    /* One machine is one host: another host with this host key is the
     * same machine under another address or port, whose agent this
     * install would take over. */
    char like[140];
    snprintf(like, sizeof(like), "%%%s%%", fp);
    json_t *twin = *fp ? vr_db_query_one(e->db, "SELECT name FROM hosts WHERE id != ? AND ssh_json LIKE ?",
                                         DB_ARGS(DB_TEXT(d->host_id), DB_TEXT(like)), NULL) : NULL;
    if (twin) {
        vr_error_set(err, VR_ERR_CONFLICT, "%s:%d is host '%s' already (the same SSH host key %s); a machine is"
                     " added once", addr, sport, str(twin, "name"), fp);
        json_decref(twin);
        vr_ssh_close(s);
        return -1;
    }
    vr_host_ssh_pin(e, d->host_id, fp, d->user);
    json_t *check = NULL;
    char note[300] = "";
    char *csr = NULL, *cert = NULL, *ca = NULL;
    char *serial = d->serial;
    size_t calen = 0;
    rc = -1;
    step(d, 15, "checking the host (host key %s)", fp);
    if (vr_host_check(s, name, &check, err) < 0)
        goto out;
    if (json_array_size(json_object_get(check, "problems"))) {
        char *p = json_dumps(json_object_get(check, "problems"), JSON_COMPACT);
        vr_error_set(err, VR_ERR_UNPROCESSABLE, "host %s cannot be a Vireo host: %s", name, p ? p : "?");
        free(p);
        goto out;
    }
    if (d->install) {
        step(d, 25, "installing packages");
        if (vr_setup_packages(e, s, name, check, note, sizeof(note), err) < 0)
            goto out;
        step(d, 50, "%s", note);
        /* The host id the engine gave the host in its data center's
         * lockspaces, when it joined storage before (a reinstall). */
        json_t *hid = vr_db_query_one(e->db, "SELECT spm_id FROM host_storage_ids WHERE host_id = ? ORDER BY"
                                      " datacenter_id", DB_ARGS(DB_TEXT(d->host_id)), NULL);
        step(d, 52, "configuring libvirt and sanlock");
        int set = vr_setup_libvirt_sanlock(s, name, (int)json_integer_value(json_object_get(hid, "spm_id")), note,
                                           sizeof(note), err);
        json_decref(hid);
        if (set < 0)
            goto out;
        step(d, 55, "%s", note);
    }
    if (vr_job_cancel_requested(e, d->job_id)) {
        vr_error_set(err, VR_ERR_BAD_STATE, "cancelled");
        goto out;
    }
    step(d, 60, "making the host's key and certificate request on the host");
    if (vr_setup_make_key(s, name, addr, &csr, err) < 0)
        goto out;
    step(d, 70, "signing the host's certificate with the engine's CA");
    if (vr_csr_sign(e->ca_cert_file, e->ca_key_file, csr, name, addr, e->host_cert_days, &cert, serial, &d->expires,
                    err) < 0)
        goto out;
    FILE *f = fopen(e->ca_cert_file, "r");
    if (f) {
        ca = calloc(1, 65536);
        calen = ca ? fread(ca, 1, 65535, f) : 0;
        fclose(f);
    }
    if (!calen) {
        vr_error_set(err, VR_ERR_INTERNAL, "cannot read the engine's CA certificate %s", e->ca_cert_file);
        goto out;
    }
    step(d, 75, "installing certificate %s and the CA on the host", serial);
    if (vr_setup_install_cert(s, name, cert, ca, err) < 0)
        goto out;
    step(d, 80, "configuring libvirt's TLS for migrations");
    if (vr_setup_libvirt_tls(s, name, d->install, note, sizeof(note), err) < 0)
        goto out;
    step(d, 82, "%s", note);
    step(d, 85, "configuring and starting vireo-agent");
    if (vr_setup_start_agent(s, name, (int)json_integer_value(json_object_get(d->host, "port")), err) < 0)
        goto out;
    if (!d->install) {
        step(d, 95, "waiting for the agent to answer with its new certificate");
        if (agent_answers(d, err) < 0)
            goto out;
    }
    vr_event(e, "normal", d->user, "host", d->host_id, "host '%s': certificate %s signed for its key made on the"
             " host", name, serial);
    rc = 0;
out:
    vr_ssh_close(s);
    json_decref(check);
    free(csr);
    free(cert);
    free(ca);
    return rc;
}

static void run_deploy(vr_engine *e, const char *job_id, const char *host_id, const char *user)
{
    deploy d = {.e = e, .job_id = job_id, .host_id = host_id, .user = user};
    json_t *job = vr_db_query_one(e->db, "SELECT action FROM jobs WHERE id = ?", DB_ARGS(DB_TEXT(job_id)), NULL);
    d.install = !strcmp(str(job, "action"), "install");
    json_decref(job);
    d.host = vr_db_query_one(e->db, "SELECT id, name, address, port, status, ssh_json FROM hosts WHERE id = ?",
                             DB_ARGS(DB_TEXT(host_id)), NULL);
    d.password = secret_take(job_id);
    vr_error err = {0};
    char msg[700];
    if (!d.host) {
        vr_job_update(e, job_id, "failed", "the host was removed");
        wipe_free(d.password);
        return;
    }
    const char *name = str(d.host, "name");
    if (!d.password && !strcmp(str(json_object_get(d.host, "ssh"), "auth"), "password")) {
        snprintf(d.step, sizeof(d.step), "connecting");
        vr_error_set(&err, VR_ERR_BAD_STATE, "the engine restarted during the job; the root password is never"
                     " stored: %s with it again", d.install ? "reinstall" : "enroll the certificate");
    } else {
        run_steps(&d, &err);
    }
    if (!err.code) {
        /* The host's certificate is the new one: the one before (a
         * reinstall's, an enrollment's) is revoked. */
        json_t *old = vr_db_query_one(e->db, "SELECT cert_serial FROM hosts WHERE id = ?",
                                      DB_ARGS(DB_TEXT(host_id)), NULL);
        const char *prev = str(old, "cert_serial");
        vr_db_exec(e->db, "UPDATE hosts SET cert_serial = ?, cert_expires = ? WHERE id = ?",
                   DB_ARGS(DB_TEXT(d.serial), DB_INT(d.expires), DB_TEXT(host_id)), NULL);
        if (*prev && strcmp(prev, d.serial) && vr_cert_revoke(e, prev, name, "superseded", &err) < 0)
            VR_WARN("host %s: %s", name, err.message);
        vr_error_clear(&err);
        json_decref(old);
        if (d.install) {
            vr_host_set_status(e, host_id, VR_HOST_INITIALIZING, "installed; connecting to its agent", user, NULL);
            vr_hostview_refresh(e->view, e->db, host_id);
        }
        vr_i18n_format(msg, sizeof(msg), d.install ? N_("host '%s' installed; its monitor takes it on")
                                             : N_("host '%s' has a new certificate"), name);
        vr_job_update(e, job_id, "finished", msg);
    } else {
        scrub(&d, err.message);
        vr_i18n_format(msg, sizeof(msg), "%s: %s", d.step, err.message);
        scrub(&d, msg);
        if (d.install) {
            vr_host_set_status(e, host_id, VR_HOST_INSTALLFAILED, msg, user, NULL);
            vr_hostview_refresh(e->view, e->db, host_id);
        } else {
            vr_event(e, "error", user, "host", host_id, "enrolling a certificate for host '%s' failed at %s", name,
                     msg);
        }
        vr_job_update(e, job_id, !strcmp(err.message, "cancelled") ? "cancelled" : "failed", msg);
    }
    VR_INFO("job %s (%s of host %s): %s", job_id, d.install ? "install" : "certificate", name,
            err.code ? "failed" : "finished");
    wipe_free(d.password);
    json_decref(d.host);
}

int vr_deploy_submit(vr_engine *e, const char *host_id, const char *action, json_t *ssh, const char *user,
                     char job_id[37], vr_error *err)
{
    json_t *busy = vr_db_query_one(e->db, "SELECT id FROM jobs WHERE object_type = 'host' AND object_id = ? AND"
                                   " action IN ('install', 'enrollcertificate', 'remove') AND status IN ('pending', 'running')",
                                   DB_ARGS(DB_TEXT(host_id)), NULL);
    if (busy) {
        vr_error_set(err, VR_ERR_BAD_STATE, "job %s is already deploying this host", str(busy, "id"));
        json_decref(busy);
        return -1;
    }
    json_t *stored = vr_deploy_stored_ssh(ssh);
    json_t *params = json_pack("{s:O}", "ssh", stored);
    char *ptext = json_dumps(params, JSON_COMPACT), *stext = json_dumps(stored, JSON_COMPACT);
    json_decref(params);
    json_decref(stored);
    json_t *host = vr_db_query_one(e->db, "SELECT name, status FROM hosts WHERE id = ?", DB_ARGS(DB_TEXT(host_id)),
                                   NULL);
    const char *st = str(host, "status");
    bool reinstall = !strcmp(action, "install") && strcmp(st, "installing");
    if (!host || (reinstall && strcmp(st, "maintenance") && strcmp(st, "installfailed")) ||
        (!strcmp(action, "enrollcertificate") && strcmp(st, "up") && strcmp(st, "nonoperational") &&
         strcmp(st, "maintenance"))) {
        if (host && reinstall)
            vr_error_set(err, VR_ERR_BAD_STATE, "host '%s' is %s; only a host in maintenance or installfailed can"
                         " be reinstalled", str(host, "name"), st);
        else if (host)
            vr_error_set(err, VR_ERR_BAD_STATE, "host '%s' is %s; only an installed host (up, nonoperational or in"
                         " maintenance) can enroll a certificate", str(host, "name"), st);
        else
            vr_error_set(err, VR_ERR_NOT_FOUND, "no host with id '%s'", host_id);
        json_decref(host);
        free(ptext);
        free(stext);
        return -1;
    }
    json_decref(host);
    vr_uuid_new(job_id);
    const char *desc = !strcmp(action, "install") ? N_("install the host over SSH") : N_("enroll a new host certificate");
    long long now = vr_now();
    int rc = -1;
    if (vr_db_exec(e->db, "UPDATE hosts SET ssh_json = ? WHERE id = ?", DB_ARGS(DB_TEXT(stext), DB_TEXT(host_id)),
                   err) >= 0 &&
        vr_db_exec(e->db, "INSERT INTO jobs (id, action, object_type, object_id, status, user_name, description,"
                   " params_json, created_at, updated_at) VALUES (?, ?, 'host', ?, 'pending', ?, ?, ?, ?, ?)",
                   DB_ARGS(DB_TEXT(job_id), DB_TEXT(action), DB_TEXT(host_id), DB_TEXT(user), DB_TEXT(desc),
                           DB_TEXT(ptext), DB_INT(now), DB_INT(now)), err) >= 0 &&
        vr_job_describe(e, job_id, desc, err) >= 0)
        rc = 0;
    free(ptext);
    free(stext);
    /* The job exists before the host leaves maintenance or installfailed:
     * its monitor never sees it installing without its job. */
    if (rc == 0 && reinstall && vr_host_set_reinstalling(e, host_id, user, err) < 0) {
        vr_db_exec(e->db, "DELETE FROM jobs WHERE id = ?", DB_ARGS(DB_TEXT(job_id)), NULL);
        rc = -1;
    }
    if (rc < 0)
        return -1;
    vr_hostview_refresh(e->view, e->db, host_id);
    const char *pw = json_string_value(json_object_get(ssh, "password"));
    if (pw && secret_put(job_id, pw) < 0)
        VR_WARN("job %s: out of memory keeping the password; the job will say so", job_id);
    vr_job_spawn(e, job_id, host_id, user, run_deploy);
    return 0;
}

bool vr_deploy_resume(vr_engine *e, json_t *r)
{
    if (vr_host_remove_resume(e, r))
        return true;
    const char *action = str(r, "action");
    if ((strcmp(action, "install") && strcmp(action, "enrollcertificate")) || strcmp(str(r, "object_type"), "host"))
        return false;
    VR_INFO("resuming job %s (%s of host %s)", str(r, "id"), action, str(r, "object_id"));
    vr_job_update(e, str(r, "id"), "pending", "resumed after an engine restart");
    vr_job_spawn(e, str(r, "id"), str(r, "object_id"), str(r, "user_name"), run_deploy);
    return true;
}
