/* Storage.*, Lockspace.* and SPM.* verbs (docs/agent-api.md, "Storage
 * verbs"): parameter checking here, the work in sdconn, sdformat, sdinfo,
 * sdmonitor, lockspace and spm. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "devspec.h"
#include "i18n.h"
#include "jsonx.h"
#include "lockspace.h"
#include "log.h"
#include "mdfile.h"
#include "sdconn.h"
#include "sdformat.h"
#include "sdinfo.h"
#include "sdmonitor.h"
#include "sdpath.h"
#include "sdremove.h"
#include "spm.h"
#include "spm_state.h"
#include "verbs.h"

#define DOMAIN_NAME_MAX 210 /* bytes of UTF-8, as the engine's names */

static const char *const conn_keys[] = {"conn"};
static const char *const format_keys[] = {"conn", "domain", "name", "class"};
static const char *const domain_keys[] = {"domain"};
static const char *const ls_status_keys[] = {"domain", "peer"};
static const char *const no_keys[] = {NULL};
static const char *const attach_keys[] = {"domain", "pool", "master"};
static const char *const detach_keys[] = {"domain", "pool"};
static const char *const join_keys[] = {"domain", "host_id", "io_timeout"};
static const char *const spm_start_keys[] = {"pool", "master", "host_id", "prev_id", "prev_lver", "master_version",
                                             "io_timeout"};
static const char *const spm_status_keys[] = {"pool", "master"};
static const char *const spm_move_keys[] = {"pool", "from", "to", "host_id"};
static const char *const spm_reconstruct_keys[] = {"pool", "from", "to", "master_version"};
static const char *const pool_keys[] = {"pool"};

/* A required member that must be a UUID. */
static int get_uuid(json_t *params, const char *key, const char **out, vr_error *err)
{
    if (vr_json_str(params, "params", key, true, out, err) < 0)
        return -1;
    if (!vr_valid_uuid(*out))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "params.%s '%s' must be a UUID", key, *out);
    return 0;
}

static int get_conn(json_t *params, vr_sd_conn *c, vr_error *err)
{
    json_t *conn;
    if (vr_json_obj(params, "params", "conn", true, &conn, err) < 0)
        return -1;
    return vr_sd_conn_parse(conn, "params.conn", c, err);
}

/* The mount of a connection that must be connected already. */
static int connected_mount(vr_agent *a, const vr_sd_conn *c, char *mount, vr_error *err)
{
    if (!vr_sd_connected(a, c, mount, PATH_MAX))
        return vr_error_set(err, VR_ERR_STORAGE, "storage %s is not connected on this host "
                            "(Storage.connect first)", c->spec);
    return 0;
}

static int storage_connect(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    vr_sd_conn c;
    char mount[PATH_MAX];
    if (vr_json_check_keys(params, "params", VR_NAMES(conn_keys), err) < 0 ||
        get_conn(params, &c, err) < 0 || vr_sd_connect(a, &c, mount, sizeof(mount), err) < 0)
        return -1;
    /* a removal cut short by a crash left a hidden tree: finish it */
    vr_sd_remove_leftovers(mount);
    vr_sd_monitor_kick();
    *result = json_pack("{s:s}", "mount", mount);
    return 0;
}

static int storage_disconnect(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    vr_sd_conn c;
    char mount[PATH_MAX], busy[64];
    if (vr_json_check_keys(params, "params", VR_NAMES(conn_keys), err) < 0 ||
        get_conn(params, &c, err) < 0)
        return -1;
    vr_sd_fmt(mount, sizeof(mount), "%s/%s", a->storage_root, c.name);
    if (vr_ls_any_under(mount, busy, sizeof(busy)))
        return vr_error_set(err, VR_ERR_BAD_STATE, "cannot disconnect %s: this host is in the "
                            "lockspace of domain %s on it (Lockspace.leave first)", c.spec, busy);
    if (vr_sd_disconnect(a, &c, err) < 0)
        return -1;
    vr_sd_monitor_kick();
    *result = json_object();
    return 0;
}

static int storage_format(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    vr_sd_conn c;
    const char *uuid, *name, *cls;
    char mount[PATH_MAX], dir[PATH_MAX];
    if (vr_json_check_keys(params, "params", VR_NAMES(format_keys), err) < 0 ||
        get_conn(params, &c, err) < 0 || get_uuid(params, "domain", &uuid, err) < 0 ||
        vr_json_str(params, "params", "name", true, &name, err) < 0 ||
        vr_json_str(params, "params", "class", true, &cls, err) < 0)
        return -1;
    vr_md check = {0};
    bool name_ok = *name && strlen(name) <= DOMAIN_NAME_MAX &&
                   vr_md_set(&check, "DESCRIPTION", name) == 0;
    vr_md_clear(&check);
    if (!name_ok)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "params.name must be 1..%d bytes of "
                            "UTF-8 without control characters", DOMAIN_NAME_MAX);
    const char *md_class = vr_sd_class_md(cls);
    if (!md_class)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "params.class '%s' must be data, iso or "
                            "export", cls);
    if (connected_mount(a, &c, mount, err) < 0)
        return -1;
    vr_sd_format_req req = {uuid, name, md_class, vr_sd_type_md(c.type), a->sanlock_io_timeout};
    if (vr_sd_format(mount, &req, err) < 0)
        return -1;
    vr_sd_monitor_kick();
    vr_sd_fmt(dir, sizeof(dir), "%s/%s", mount, uuid);
    *result = vr_sd_info_json(dir, uuid);
    return 0;
}

static int storage_find(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    vr_sd_conn c;
    char mount[PATH_MAX];
    if (vr_json_check_keys(params, "params", VR_NAMES(conn_keys), err) < 0 ||
        get_conn(params, &c, err) < 0 || connected_mount(a, &c, mount, err) < 0)
        return -1;
    *result = json_pack("{s:o}", "domains", vr_sd_find_domains(mount));
    return 0;
}

static int storage_info(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    const char *uuid;
    char dir[PATH_MAX];
    if (vr_json_check_keys(params, "params", VR_NAMES(domain_keys), err) < 0 ||
        get_uuid(params, "domain", &uuid, err) < 0 ||
        vr_sd_domain_dir(a, uuid, dir, sizeof(dir), err) < 0)
        return -1;
    *result = vr_sd_info_json(dir, uuid);
    return 0;
}

/* Storage.remove: delete an unattached domain from storage. Its metadata
 * may be corrupt (that is how a broken domain is cleared), but metadata
 * naming a pool, or this host in its lockspace, refuses. */
static int storage_remove(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    const char *uuid, *ls_state;
    char dir[PATH_MAX], mount[PATH_MAX];
    int host_id;
    bool failed;
    if (vr_json_check_keys(params, "params", VR_NAMES(domain_keys), err) < 0 ||
        get_uuid(params, "domain", &uuid, err) < 0)
        return -1;
    if (vr_sd_dir(a, uuid, dir, sizeof(dir), NULL) < 0)
        return vr_error_set(err, VR_ERR_NOT_FOUND, "storage domain %s is not on any storage "
                            "connected on this host", uuid);
    vr_sd_fmt(mount, sizeof(mount), "%s", dir);
    *strrchr(mount, '/') = 0;
    if (vr_sd_dir_check(mount, uuid, err) < 0)
        return -1;
    vr_md md = {0};
    if (vr_sd_md_load(dir, uuid, &md, NULL) == 0) {
        const char *pool = vr_md_get(&md, "POOL_UUID");
        int rc = pool && *pool ? vr_error_set(err, VR_ERR_BAD_STATE, "storage domain %s is "
                                              "attached to data center %s (Storage.detach first)",
                                              uuid, pool) : 0;
        vr_md_clear(&md);
        if (rc)
            return -1;
    }
    if (vr_ls_status(uuid, &ls_state, &host_id, &failed, err) < 0)
        return -1;
    if (strcmp(ls_state, "free"))
        return vr_error_set(err, VR_ERR_BAD_STATE, "this host is in the lockspace of storage "
                            "domain %s (state %s; Lockspace.leave first)", uuid, ls_state);
    if (vr_sd_remove_domain(mount, uuid, err) < 0)
        return -1;
    vr_sd_monitor_kick();
    *result = json_object();
    return 0;
}

static int storage_status(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    if (vr_json_check_keys(params, "params", VR_NAMES(no_keys), err) < 0)
        return -1;
    *result = vr_sd_monitor_json();
    /* sanlock's word, fresh (the monitor's round may be 10 s old) */
    vr_ls_annotate(json_object_get(*result, "domains"));
    return 0;
}

/* Change domain uuid's pool membership as SPM of pool: attach (master or
 * regular) or detach. */
static int set_pool(vr_agent *a, const char *uuid, const char *pool, bool attach, bool master,
                    json_t **result, vr_error *err)
{
    char dir[PATH_MAX], spm_master[37];
    vr_md md = {0};
    if (vr_spm_check(pool, attach ? N_("attach a storage domain") : N_("detach a storage domain"), err) < 0 ||
        vr_sd_domain_dir(a, uuid, dir, sizeof(dir), err) < 0 || vr_sd_md_load(dir, uuid, &md, err) < 0)
        return -1;
    vr_spm_state_get(pool, spm_master, NULL);
    const char *cur = vr_md_get(&md, "POOL_UUID"), *role = vr_md_get(&md, "ROLE"),
               *cls = vr_md_get(&md, "CLASS");
    bool was_master = role && !strcmp(role, "Master");
    int rc = 0;
    if (attach && cur && *cur && strcmp(cur, pool))
        rc = vr_error_set(err, VR_ERR_BAD_STATE, "domain %s belongs to data center %s", uuid, cur);
    else if (!attach && (!cur || strcmp(cur, pool)))
        rc = vr_error_set(err, VR_ERR_BAD_STATE, "domain %s is not attached to data center %s",
                          uuid, pool);
    else if (attach && master != !strcmp(uuid, spm_master))
        rc = vr_error_set(err, VR_ERR_BAD_STATE, "the master domain of data center %s is %s (where "
                          "this host holds the SPM lease); %s cannot be attached as %s", pool,
                          spm_master, uuid, master ? "master" : "a regular domain");
    else if (attach && master && (!cls || strcmp(cls, "Data")))
        rc = vr_error_set(err, VR_ERR_BAD_STATE, "domain %s is not a data domain", uuid);
    if (rc) {
        vr_md_clear(&md);
        return -1;
    }
    if (!attach && !strcmp(uuid, spm_master)) {
        /* the master goes last: other members would lose their SPM lease.
         * The master is where this SPM holds its lease: a former master
         * whose metadata still says Master (lost while the role moved, then
         * back) is a regular member now. */
        json_t *all = vr_sd_all_domains(a), *d;
        size_t i;
        const char *other = NULL;
        json_array_foreach(all, i, d) {
            const char *id = json_string_value(json_object_get(d, "domain")),
                       *in = json_string_value(json_object_get(d, "pool"));
            if (!other && strcmp(id, uuid) && in && !strcmp(in, pool))
                other = id;
        }
        if (other)
            rc = vr_error_set(err, VR_ERR_BAD_STATE, "cannot detach master domain %s: domain %s "
                              "of data center %s is still attached", uuid, other, pool);
        json_decref(all);
    }
    long long mv = 0;
    vr_md_get_ll(&md, "MASTER_VERSION", &mv);
    if (!rc && attach && master && !was_master)
        rc = vr_md_set_ll(&md, "MASTER_VERSION", mv + 1);
    if (!rc)
        rc = vr_md_set(&md, "POOL_UUID", attach ? pool : "") |
             vr_md_set(&md, "ROLE", attach && master ? "Master" : "Regular");
    if (rc && !err->code)
        rc = vr_error_set(err, VR_ERR_STORAGE, "metadata of domain %s is full", uuid);
    if (!rc)
        rc = vr_sd_md_store(dir, &md, err);
    vr_md_clear(&md);
    if (rc)
        return -1;
    VR_INFO("storage domain %s %s data center %s%s", uuid, attach ? "attached to" : "detached from",
            pool, attach && master ? " as master" : "");
    vr_sd_monitor_kick();
    *result = vr_sd_info_json(dir, uuid);
    return 0;
}

static int storage_attach(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    const char *uuid, *pool;
    bool master = false;
    if (vr_json_check_keys(params, "params", VR_NAMES(attach_keys), err) < 0 ||
        get_uuid(params, "domain", &uuid, err) < 0 || get_uuid(params, "pool", &pool, err) < 0 ||
        vr_json_bool(params, "params", "master", true, &master, err) < 0)
        return -1;
    return set_pool(a, uuid, pool, true, master, result, err);
}

static int storage_detach(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    const char *uuid, *pool;
    if (vr_json_check_keys(params, "params", VR_NAMES(detach_keys), err) < 0 ||
        get_uuid(params, "domain", &uuid, err) < 0 || get_uuid(params, "pool", &pool, err) < 0)
        return -1;
    return set_pool(a, uuid, pool, false, false, result, err);
}

static int lockspace_join(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    const char *uuid, *state;
    long long host_id, io_timeout = a->sanlock_io_timeout;
    if (vr_json_check_keys(params, "params", VR_NAMES(join_keys), err) < 0 ||
        get_uuid(params, "domain", &uuid, err) < 0 ||
        vr_json_int(params, "params", "host_id", true, 1, 250, &host_id, err) < 0 ||
        vr_json_int(params, "params", "io_timeout", false, 1, 60, &io_timeout, err) < 0 ||
        vr_ls_join(a, uuid, (int)host_id, (int)io_timeout, &state, err) < 0)
        return -1;
    *result = json_pack("{s:s, s:s, s:I}", "domain", uuid, "state", state, "host_id",
                        (json_int_t)host_id);
    return 0;
}

static int lockspace_leave(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    const char *uuid;
    if (vr_json_check_keys(params, "params", VR_NAMES(domain_keys), err) < 0 ||
        get_uuid(params, "domain", &uuid, err) < 0 || vr_ls_leave(uuid, err) < 0)
        return -1;
    *result = json_object();
    return 0;
}

static int lockspace_status(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    const char *uuid, *state;
    int host_id;
    bool failed;
    long long peer = 0;
    if (vr_json_check_keys(params, "params", VR_NAMES(ls_status_keys), err) < 0 ||
        get_uuid(params, "domain", &uuid, err) < 0 ||
        vr_json_int(params, "params", "peer", false, 1, 250, &peer, err) < 0 ||
        vr_ls_status(uuid, &state, &host_id, &failed, err) < 0)
        return -1;
    *result = json_pack("{s:s, s:s, s:i}", "domain", uuid, "state", state, "host_id", host_id);
    /* Another host's id as this host's sanlock sees it: the engine asks
     * before fencing a host that may still renew its lease (docs/fencing.md
     * "Fencing policy"). */
    if (peer)
        json_object_set_new(*result, "peer", json_pack("{s:I, s:s}", "host_id", (json_int_t)peer, "state",
                                                       vr_ls_host_state(uuid, peer, 0)));
    if (failed)
        json_object_set_new(*result, "error",
                            json_string("sanlock dropped the join this host asked for (host id "
                                        "in use by another host, or the ids file unreadable; "
                                        "see sanlock's log)"));
    return 0;
}

static int spm_start(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    const char *pool, *master;
    long long host_id, ignored, lver, min_version = 0, version;
    if (vr_json_check_keys(params, "params", VR_NAMES(spm_start_keys), err) < 0 ||
        get_uuid(params, "pool", &pool, err) < 0 || get_uuid(params, "master", &master, err) < 0 ||
        vr_json_int(params, "params", "host_id", true, 1, 250, &host_id, err) < 0 ||
        vr_json_int(params, "params", "prev_id", false, -1, 250, &ignored, err) < 0 ||
        vr_json_int(params, "params", "prev_lver", false, -1, LLONG_MAX, &ignored, err) < 0 ||
        vr_json_int(params, "params", "io_timeout", false, 1, 60, &ignored, err) < 0 ||
        vr_json_int(params, "params", "master_version", false, 0, LLONG_MAX, &min_version, err) < 0 ||
        vr_spm_start(a, pool, master, (int)host_id, min_version, &lver, &version, err) < 0)
        return -1;
    *result = json_pack("{s:s, s:I, s:I, s:I}", "status", "SPM", "lver", (json_int_t)lver, "spm_id",
                        (json_int_t)host_id, "master_version", (json_int_t)version);
    return 0;
}

static int spm_status(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    const char *pool, *master, *status;
    long long spm_id, lver;
    if (vr_json_check_keys(params, "params", VR_NAMES(spm_status_keys), err) < 0 ||
        get_uuid(params, "pool", &pool, err) < 0 || get_uuid(params, "master", &master, err) < 0 ||
        vr_spm_status(a, pool, master, &status, &spm_id, &lver, err) < 0)
        return -1;
    *result = json_pack("{s:s, s:I, s:I}", "status", status, "spm_id", (json_int_t)spm_id, "lver",
                        (json_int_t)lver);
    return 0;
}

static int spm_stop(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    const char *pool;
    if (vr_json_check_keys(params, "params", VR_NAMES(pool_keys), err) < 0 ||
        get_uuid(params, "pool", &pool, err) < 0 || vr_spm_stop(a, pool, err) < 0)
        return -1;
    *result = json_object();
    return 0;
}

static int spm_move_master(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    const char *pool, *from, *to;
    long long host_id, version, lver;
    if (vr_json_check_keys(params, "params", VR_NAMES(spm_move_keys), err) < 0 ||
        get_uuid(params, "pool", &pool, err) < 0 || get_uuid(params, "from", &from, err) < 0 ||
        get_uuid(params, "to", &to, err) < 0 ||
        vr_json_int(params, "params", "host_id", true, 1, 250, &host_id, err) < 0)
        return -1;
    if (!strcmp(from, to))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "from and to are the same domain");
    if (vr_spm_move_master(a, pool, from, to, (int)host_id, &version, &lver, err) < 0)
        return -1;
    vr_sd_monitor_kick();
    *result = json_pack("{s:s, s:s, s:I, s:I}", "status", "SPM", "master", to, "master_version",
                        (json_int_t)version, "lver", (json_int_t)lver);
    return 0;
}

static int spm_reconstruct_master(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    const char *pool, *from, *to;
    long long version;
    if (vr_json_check_keys(params, "params", VR_NAMES(spm_reconstruct_keys), err) < 0 ||
        get_uuid(params, "pool", &pool, err) < 0 || get_uuid(params, "from", &from, err) < 0 ||
        get_uuid(params, "to", &to, err) < 0 ||
        vr_json_int(params, "params", "master_version", true, 1, LLONG_MAX, &version, err) < 0)
        return -1;
    if (!strcmp(from, to))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "from and to are the same domain");
    if (vr_spm_reconstruct_master(a, pool, from, to, version, err) < 0)
        return -1;
    vr_sd_monitor_kick();
    *result = json_pack("{s:s, s:I}", "master", to, "master_version", (json_int_t)version);
    return 0;
}

const vr_verb vr_storage_verbs[] = {
    {"Storage.connect", storage_connect},
    {"Storage.disconnect", storage_disconnect},
    {"Storage.format", storage_format},
    {"Storage.find", storage_find},
    {"Storage.info", storage_info},
    {"Storage.status", storage_status},
    {"Storage.attach", storage_attach},
    {"Storage.detach", storage_detach},
    {"Storage.remove", storage_remove},
    {"Lockspace.join", lockspace_join},
    {"Lockspace.leave", lockspace_leave},
    {"Lockspace.status", lockspace_status},
    {"SPM.start", spm_start},
    {"SPM.status", spm_status},
    {"SPM.stop", spm_stop},
    {"SPM.moveMaster", spm_move_master},
    {"SPM.reconstructMaster", spm_reconstruct_master},
    {NULL, NULL},
};
