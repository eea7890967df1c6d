/* Storage domains and disks (docs/storage.md "Engine"): described by
 * their tables like every kind; creation, removal and the actions that
 * need a host are jobs (jobs/sdjobs.c, jobs/diskjobs.c). The storage
 * monitor (storage/) connects hosts, elects the SPM and fills the space
 * columns; these only read what it writes. */
#include <stdio.h>
#include <string.h>

#include "devspec.h"
#include "diskjobs.h"
#include "dispatch.h"
#include "perm.h"
#include "quota.h"
#include "i18n.h"
#include "sdjobs.h"
#include "sdmaster.h"
#include "store_storage.h"
#include "ovf_store.h"
#include "transfer.h"

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

/* Integer columns that are booleans in the API. */
static void bools(json_t *row, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (json_is_integer(json_object_get(row, names[i])))
            json_object_set_new(row, names[i], json_boolean(json_integer_value(json_object_get(row, names[i]))));
}

/* ---- storage domains ---- */

/* An absolute path whose components are never "..". */
static bool safe_path(const char *p)
{
    if (!vr_valid_path(p) || strchr(p, ','))
        return false;
    for (const char *s = p; (s = strstr(s, "..")); s += 2)
        if (s[-1] == '/' && (s[2] == '/' || !s[2]))
            return false;
    return true;
}

/* A comma list of [a-z0-9_=.]+ items: nothing can ride along as another
 * mount option or argument. */
static bool safe_options(const char *o)
{
    if (!*o)
        return true;
    if (*o == ',' || o[strlen(o) - 1] == ',' || strstr(o, ",,"))
        return false;
    return strspn(o, "abcdefghijklmnopqrstuvwxyz0123456789_=.,") == strlen(o);
}

static int sd_check_create(vr_call *c, json_t *b, vr_error *err)
{
    const char *type = str(b, "storage_type"), *path = str(b, "storage_path"), *vfs = str(b, "vfs_type");
    bool nfs = !strcmp(type, "nfs"), posix = !strcmp(type, "posixfs");
    if (json_object_get(b, "datacenter_id"))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "a storage domain is created unattached; attach it with"
                            " POST /api/storagedomains/ID/attach");
    if (!safe_path(path))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "storage_path must be an absolute path without '..'"
                            " components, commas or control characters");
    if (nfs != (json_object_get(b, "storage_address") != NULL))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, nfs ? N_("an nfs domain needs storage_address (the server)")
                                                            : N_("storage_address is for nfs domains only"));
    const char *addr = str(b, "storage_address");
    if (strspn(addr, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != strlen(addr) ||
        *addr == '-' || *addr == '.')
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "storage_address must be a host name or IPv4 address");
    if (posix != (*vfs != '\0'))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, posix ? N_("a posixfs domain needs vfs_type (ext4, xfs...)")
                                                              : N_("vfs_type is for posixfs domains only"));
    if (strspn(vfs, "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(vfs))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "vfs_type must be lowercase letters and digits");
    if (!safe_options(str(b, "mount_options")))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "mount_options must be a comma list of items of a-z, 0-9,"
                            " '_', '=' and '.'");
    if (*str(b, "mount_options") && !nfs && !posix)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "mount_options are for nfs and posixfs domains");
    if (*str(b, "nfs_version") && !nfs)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "nfs_version is for nfs domains only");
    json_t *host = vr_db_query_one(c->e->db, "SELECT name, status FROM hosts WHERE id = ?",
                                   DB_ARGS(DB_TEXT(str(b, "host"))), err);
    int rc = host && strcmp(str(host, "status"), "up")
                 ? vr_error_set(err, VR_ERR_BAD_STATE, "host '%s' is %s; the host that creates a storage domain must"
                                " be up", str(host, "name"), str(host, "status")) : host || !err->code ? 0 : -1;
    json_decref(host);
    return rc;
}

static int sd_create_job(vr_call *c, const char *id, json_t *body, char job[37], vr_error *err)
{
    return vr_sd_create_submit(c->e, id, body, c->user, job, err);
}

/* DELETE ?format=true|false[&host=H]: only an unattached domain whose
 * disks no VM uses; format=true is a job that removes its directory from
 * storage through a host, format=false forgets the rows only. */
static int sd_remove_job(vr_call *c, json_t *row, char job[37], vr_error *err)
{
    const char *format = vr_http_arg(c->req, "format");
    if (format && strcmp(format, "true") && strcmp(format, "false"))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "format must be true or false");
    if (strcmp(str(row, "status"), "unattached"))
        return vr_error_set(err, VR_ERR_BAD_STATE, "storage domain '%s' is %s; only an unattached domain is removed"
                            " (detach it first)", str(row, "name"), str(row, "status"));
    const char *host = vr_http_arg(c->req, "host");
    bool wipe = format && !strcmp(format, "true");
    if (host && (!wipe || !vr_valid_uuid(host)))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, wipe ? N_("host must be a host id (UUID)")
                                                              : N_("host is for format=true only"));
    json_t *disks;
    if (vr_db_query(c->e->db, "SELECT id, alias FROM disks WHERE storage_domain_id = ?",
                    DB_ARGS(DB_TEXT(str(row, "id"))), &disks, err) < 0)
        return -1;
    size_t i;
    json_t *d;
    int rc = 0;
    json_array_foreach(disks, i, d) { /* VMs would be left naming disks that are gone */
        json_t *users = rc ? NULL : vr_storage_disk_users(c->e, str(d, "id"), err);
        if (!rc && !users)
            rc = -1;
        else if (json_array_size(users))
            rc = vr_error_set(err, VR_ERR_CONFLICT, "disk '%s' of storage domain '%s' is used by VM '%s'",
                              str(d, "alias"), str(row, "name"), str(json_array_get(users, 0), "name"));
        json_decref(users);
    }
    json_decref(disks);
    if (rc < 0)
        return -1;
    if (wipe)
        return vr_sd_remove_submit(c->e, row, host, c->user, job, err);
    return vr_store_storagedomains.remove(c->e, row, err);
}

static void sd_present(vr_engine *e, json_t *row)
{
    static const char *const b[] = {"master"};
    bools(row, b, VR_ARRAY_SIZE(b));
    /* NFS keeps server:/path as the agents' connection spec. */
    const char *spec = str(row, "storage_spec");
    const char *colon = !strcmp(str(row, "storage_type"), "nfs") ? strstr(spec, ":/") : NULL;
    if (colon) {
        json_object_set_new(row, "storage_address", json_stringn(spec, (size_t)(colon - spec)));
        json_object_set_new(row, "storage_path", json_string(colon + 1));
    } else {
        json_object_set_new(row, "storage_path", json_string(spec));
    }
    json_object_del(row, "storage_spec");
    if (!*str(row, "vfs_type"))
        json_object_del(row, "vfs_type");
    if (!*str(row, "nfs_version"))
        json_object_del(row, "nfs_version");
    (void)e;
}

/* The update and removal events are the dispatcher's (audit.c). */
static void sd_after_write(vr_call *c, const char *id, const char *what)
{
    if (!strcmp(what, "created"))
        vr_event(c->e, "normal", c->user, "storagedomain", id, "storage domain creation accepted");
}

static int sd_attach(vr_call *c, json_t *sd, json_t *body, json_t **reply, vr_error *err)
{
    char job[37];
    if (vr_sd_attach_submit(c->e, sd, str(body, "datacenter"), c->user, job, err) < 0)
        return -1;
    *reply = json_pack("{s:s}", "job_id", job);
    return 0;
}

static int sd_detach(vr_call *c, json_t *sd, json_t *body, json_t **reply, vr_error *err)
{
    char job[37];
    if (vr_sd_detach_submit(c->e, sd, c->user, job, err) < 0)
        return -1;
    *reply = json_pack("{s:s}", "job_id", job);
    return 0;
}

/* Status moves the storage monitor acts on; no host is asked here. */
static int sd_move(vr_call *c, json_t *sd, const char *from1, const char *from2, const char *to, json_t **reply,
                   vr_error *err)
{
    const char *id = str(sd, "id"), *name = str(sd, "name");
    int n = vr_db_exec(c->e->db, "UPDATE storage_domains SET status = ? WHERE id = ? AND status IN (?, ?)",
                       DB_ARGS(DB_TEXT(to), DB_TEXT(id), DB_TEXT(from1), DB_TEXT(from2)), err);
    if (n < 0)
        return -1;
    if (n == 0)
        return strcmp(from1, from2)
            ? vr_error_set(err, VR_ERR_BAD_STATE, "storage domain '%s' is %s; it must be %s or %s", name,
                           str(sd, "status"), from1, from2)
            : vr_error_set(err, VR_ERR_BAD_STATE, "storage domain '%s' is %s; it must be %s", name,
                           str(sd, "status"), from1);
    vr_event(c->e, "normal", c->user, "storagedomain", id,
             !strcmp(to, "active") ? N_("storage domain '%s' activated") : N_("storage domain '%s' moved to maintenance"),
             name);
    return (*reply = vr_kind_get(c->e, c->kind, id, err)) ? 0 : -1;
}

static int sd_activate(vr_call *c, json_t *sd, json_t *body, json_t **reply, vr_error *err)
{
    if (json_is_null(json_object_get(sd, "datacenter_id")))
        return vr_error_set(err, VR_ERR_BAD_STATE, "storage domain '%s' is not attached", str(sd, "name"));
    return sd_move(c, sd, "maintenance", "inactive", "active", reply, err);
}

/* The master with no other active data domain: its data center's SPM goes
 * with it, so not while VMs run there (they would lose their storage). */
static int last_master_check(vr_call *c, json_t *sd, long long *others, vr_error *err)
{
    json_t *o = vr_db_query_one(c->e->db, "SELECT sum(CASE WHEN status = 'active' THEN 1 ELSE 0 END) AS n,"
                                " count(*) AS busy FROM storage_domains WHERE datacenter_id = ? AND id != ? AND"
                                " sd_type = 'data' AND status IN ('active', 'locked', 'inactive')",
                                DB_ARGS(DB_TEXT(str(sd, "datacenter_id")), DB_TEXT(str(sd, "id"))), err);
    *others = json_integer_value(json_object_get(o, "n"));
    long long busy = json_integer_value(json_object_get(o, "busy"));
    json_decref(o);
    if (err->code || *others)
        return err->code ? -1 : 0;
    if (busy) /* the role cannot move to them now, nor stay without a domain */
        return vr_error_set(err, VR_ERR_CONFLICT, "storage domain '%s' is the master and no other data domain is"
                            " active to take the role (%lld locked or inactive): try again once one is active",
                            str(sd, "name"), busy);
    o = vr_db_query_one(c->e->db, "SELECT count(*) AS n, min(v.name) AS first FROM vms v JOIN clusters c ON c.id ="
                        " v.cluster_id WHERE c.datacenter_id = ? AND v.host_id IS NOT NULL",
                        DB_ARGS(DB_TEXT(str(sd, "datacenter_id"))), err);
    long long vms = json_integer_value(json_object_get(o, "n"));
    int rc = err->code ? -1 : 0;
    if (!rc && vms)
        rc = vr_error_set(err, VR_ERR_CONFLICT, "storage domain '%s' is the master and the last active data domain"
                          " of its data center, where %lld VM(s) run (first: '%s'): stop them first, or activate"
                          " another data domain to take the master role", str(sd, "name"), vms, str(o, "first"));
    json_decref(o);
    return rc;
}

static int sd_maintenance(vr_call *c, json_t *sd, json_t *body, json_t **reply, vr_error *err)
{
    long long others = 0;
    bool master = json_is_true(json_object_get(sd, "master"));
    if (master && last_master_check(c, sd, &others, err) < 0)
        return -1;
    /* Hosts unmount a domain in maintenance: not under running VMs
     * (RHV refuses it too). */
    json_t *users = vr_storage_domain_running_users(c->e, str(sd, "id"), err), *u;
    if (!users)
        return -1;
    if (json_array_size(users)) {
        char names[400] = "";
        size_t i, n = 0;
        json_array_foreach(users, i, u) if (i < 10)
            n += (size_t)snprintf(names + n, n < sizeof(names) ? sizeof(names) - n : 0, "%s'%s'", i ? ", " : "",
                                  json_string_value(u));
        vr_error_set(err, VR_ERR_CONFLICT, "storage domain '%s' is used by %zu running VM(s): %s%s; stop or migrate"
                     " them first", str(sd, "name"), json_array_size(users), names,
                     json_array_size(users) > 10 ? ", ..." : "");
        json_decref(users);
        return -1;
    }
    json_decref(users);
    /* The OVF store written first (RHV updates its OVF_STORE disks before
     * deactivation): a domain detached next carries every change. */
    vr_error ovf = {0};
    int flushed = vr_ovfstore_flush(c->e, str(sd, "id"), &ovf);
    if (flushed < 0 && !json_is_true(json_object_get(body, "ignore_ovf_update_failure")))
        return vr_error_set(err, ovf.code, "%s; the domain stays active (ignore_ovf_update_failure: true moves it"
                            " to maintenance anyway)", ovf.message);
    if (flushed) /* no SPM (nothing can write it), or a failure the caller chose to ignore */
        vr_event(c->e, "warning", c->user, "storagedomain", str(sd, "id"), "storage domain '%s' goes to maintenance"
                 " without its OVF store written: %s", str(sd, "name"), ovf.message);
    if (master && others) {
        /* Another active data domain takes the master role first (a job
         * through the SPM); the answer is the domain, locked, and the job. */
        char job[37], href[80];
        if (vr_sd_master_move_submit(c->e, sd, c->user, job, err) < 0 || !(*reply = vr_kind_get(c->e, c->kind,
                                                                                               str(sd, "id"), err)))
            return -1;
        snprintf(href, sizeof(href), "/api/jobs/%s", job);
        json_object_set_new(*reply, "job", json_pack("{s:s, s:s}", "id", job, "href", href));
        return 0;
    }
    return sd_move(c, sd, "active", "inactive", "maintenance", reply, err);
}

static const vr_field maintenance_params[] = {
    {"ignore_ovf_update_failure", VR_FT_BOOL, VR_F_CREATE, .dflt = "false",
     .doc = "Move a data domain to maintenance even when its OVF store cannot be written first (oVirt's flag)."},
};

static const vr_field attach_params[] = {
    {"datacenter", VR_FT_REF, VR_F_REQ | VR_F_CREATE, .ref = "datacenters", .doc = "The data center to attach to."},
};

static const vr_action sd_actions[] = {
    {"attach", "Attach an unattached domain to a data center (a job; the first data domain becomes the master)", true,
     sd_attach, attach_params, VR_ARRAY_SIZE(attach_params)},
    {"activate", "Bring a domain back from maintenance (or inactive)", false, sd_activate, NULL, 0},
    {"maintenance", "Move an active domain to maintenance (a data domain's OVF store is written first; the master moves its role to another active data domain first: a job, named in the answer's job member)", false,
     sd_maintenance, maintenance_params, VR_ARRAY_SIZE(maintenance_params)},
    {"detach", "Detach a domain in maintenance from its data center (a job through the SPM)", true, sd_detach, NULL, 0},
};

#define BYTES(n, d) {n, VR_FT_INT, 0, 0, 1LL << 62, .doc = d}
static const vr_field sd_fields[] = {
    {"id", VR_FT_ID, 0, .doc = "Assigned by the engine; an imported domain keeps its UUID."},
    {"name", VR_FT_NAME, VR_F_REQ | VR_F_CREATE | VR_F_UPDATE | VR_F_SORT, .doc = NULL},
    {"description", VR_FT_STR, VR_F_CREATE | VR_F_UPDATE, 0, 4096, .dflt = "\"\""},
    {"type", VR_FT_ENUM, VR_F_REQ | VR_F_CREATE | VR_F_SORT, .values = VR_STRS("data", "iso", "export"),
     .doc = "What it holds: disks (data), ISO images, or exported VMs."},
    {"storage_type", VR_FT_ENUM, VR_F_REQ | VR_F_CREATE, .values = VR_STRS("nfs", "posixfs", "localfs"),
     .doc = "localfs: a local directory, for a data center of one host."},
    {"storage_path", VR_FT_STR, VR_F_REQ | VR_F_CREATE, 2, 1024, .schema = "^/",
     .doc = "Absolute path: the export on the NFS server, the device or path to mount (posixfs), the directory"
            " (localfs). No '..' components, commas or control characters."},
    {"storage_address", VR_FT_STR, VR_F_CREATE | VR_F_OPT, 1, 253, .schema = "^[A-Za-z0-9.-]+$",
     .doc = "The NFS server (nfs only)."},
    {"vfs_type", VR_FT_STR, VR_F_CREATE | VR_F_OPT, 1, 32, .schema = "^[a-z0-9]+$",
     .doc = "File system type to mount (posixfs only, required there)."},
    {"mount_options", VR_FT_STR, VR_F_CREATE, 0, 512, .schema = "^([a-z0-9_=.]+(,[a-z0-9_=.]+)*)?$", .dflt = "\"\"",
     .doc = "Comma list of mount options (nfs, posixfs)."},
    {"nfs_version", VR_FT_ENUM, VR_F_CREATE | VR_F_OPT, .values = VR_STRS("3", "4", "4.1", "4.2"),
     .doc = "NFS protocol version (nfs only; default: negotiated)."},
    {"host", VR_FT_REF, VR_F_REQ | VR_F_CREATE | VR_F_OPT, .ref = "hosts",
     .doc = "The up host that connects and formats (or finds) it; not kept."},
    {"import", VR_FT_BOOL, VR_F_CREATE | VR_F_OPT, .dflt = "false",
     .doc = "Find an existing domain on this storage (keeping its UUID and name) and read its disks back."},
    {"datacenter_id", VR_FT_ID, VR_F_NULL, .doc = "The data center it is attached to; null when unattached."},
    {"status", VR_FT_ENUM, VR_F_SORT,
     .values = VR_STRS("unattached", "locked", "maintenance", "active", "inactive"),
     .doc = "locked while a job works on it; inactive when no host sees it."},
    {"master", VR_FT_BOOL, 0, .doc = "Holds its data center's SPM lease."},
    BYTES("total_bytes", "Size of the storage (0 until a host reported it)."),
    BYTES("free_bytes", "Free space as the hosts last reported it."),
    BYTES("used_bytes", "total_bytes - free_bytes."),
    BYTES("available_bytes", "What new disks can take: free_bytes."),
    BYTES("committed_bytes", "Sum of the provisioned sizes of its disks (may exceed total_bytes: sparse disks)."),
    {"warning_low_space_pct", VR_FT_INT, VR_F_CREATE | VR_F_UPDATE, 0, 100, .dflt = "10",
     .doc = "A warning event when free space falls under this share of the total."},
    {"critical_space_gib", VR_FT_INT, VR_F_CREATE | VR_F_UPDATE, 0, 1 << 20, .dflt = "5",
     .doc = "New disks may not take the free space under this (preallocated: their size counts now; sparse: refused"
            " once free space is under it)."},
    {"created_at", VR_FT_TIME, VR_F_SORT, .doc = NULL},
};

const vr_kind vr_kind_storagedomains = {
    .collection = "storagedomains", .type = "storagedomain", .title = "storage domain", .schema = "StorageDomain",
    .tag = "Storage domains", .store = &vr_store_storagedomains, .fields = sd_fields,
    .nfields = VR_ARRAY_SIZE(sd_fields), .actions = sd_actions, .nactions = VR_ARRAY_SIZE(sd_actions),
    .parent = "datacenters", .parent_field = "datacenter_id",
    .check_create = sd_check_create, .present = sd_present, .after_write = sd_after_write, .create_job = sd_create_job,
    .remove_job = sd_remove_job,
};

/* ---- disks ---- */

#define MAX_DISK (64LL << 40)

static int disk_check_create(vr_call *c, json_t *b, vr_error *err)
{
    long long size = json_integer_value(json_object_get(b, "provisioned_size"));
    if (size % 512)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "provisioned_size must be a multiple of 512 bytes");
    if (json_is_true(json_object_get(b, "shareable")) && strcmp(str(b, "format"), "raw"))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "a shareable disk must be raw");
    if (!vr_valid_text(str(b, "description")))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "description must be text without control characters");
    return 0;
}

/* A disk takes its provisioned size from a quota: at create, and all of
 * it again when it moves to another quota (growth: the extend action). */
static int disk_quota(vr_call *c, json_t *row, json_t *b, vr_error *err)
{
    const char *given = json_string_value(json_object_get(b, "quota"));
    if (row && (!given || !strcmp(given, str(row, "quota")))) /* no growth here: extend */
        return 0;
    const char *sd = str(row ? row : b, "storage_domain");
    char dc[37], quota[37], what[100];
    vr_quota_dc_of_domain(c->e, sd, dc);
    snprintf(what, sizeof(what), "disk '%.64s'", str(b, "alias"));
    json_t *need = json_pack("{s:I}", sd, json_integer_value(json_object_get(row ? row : b, "provisioned_size")));
    vr_quota_ask ask = {what, dc, NULL, 0, 0, need};
    int rc = vr_quota_take(c->e, c->user, given, &ask, quota, err);
    json_decref(need);
    if (rc == 0)
        json_object_set_new(b, "quota", json_string(quota));
    return rc;
}

static int disk_create_job(vr_call *c, const char *id, json_t *body, char job[37], vr_error *err)
{
    if (!strcmp(str(body, "content"), "upload")) /* no volume until its content arrives: 201, no job */
        return vr_transfer_disk_create(c->e, id, body, err);
    return vr_disk_create_submit(c->e, id, body, c->user, job, err);
}

static int disk_remove_job(vr_call *c, json_t *row, char job[37], vr_error *err)
{
    return vr_disk_delete_submit(c->e, row, c->user, job, err);
}

static void disk_present(vr_engine *e, json_t *row)
{
    static const char *const b[] = {"sparse", "bootable", "shareable", "read_only", "wipe_after_delete"};
    bools(row, b, VR_ARRAY_SIZE(b));
    (void)e;
}

/* The update and removal events are the dispatcher's (audit.c). */
static void disk_after_write(vr_call *c, const char *id, const char *what)
{
    if (!strcmp(what, "created")) {
        vr_event(c->e, "normal", c->user, "disk", id, "creation of disk accepted");
        vr_perm_grant_owner(c->e, c->user, "disk", id, VR_DISKOPERATOR_ROLE_ID, NULL); /* its creator operates it */
    }
}

/* What a copy (on sd) or an extension adds to the disk's quota; a disk
 * without one is not checked. Under vr_quota_lock. */
static int disk_take(vr_call *c, json_t *d, const char *sd, long long bytes, vr_error *err)
{
    if (!*str(d, "quota"))
        return 0;
    char dc[37], own[37], quota[37], what[100];
    vr_quota_dc_of_domain(c->e, sd, dc);
    vr_quota_dc_of_domain(c->e, str(d, "storage_domain"), own);
    if (strcmp(dc, own)) /* a copy out of the data center: the copy's own check refuses it */
        return 0;
    snprintf(what, sizeof(what), "disk '%.64s'", str(d, "alias"));
    json_t *need = json_pack("{s:I}", sd, (json_int_t)bytes);
    vr_quota_ask ask = {what, dc, NULL, 0, 0, need};
    int rc = vr_quota_take(c->e, c->user, str(d, "quota"), &ask, quota, err);
    json_decref(need);
    return rc;
}

static int disk_copy(vr_call *c, json_t *d, json_t *body, json_t **reply, vr_error *err)
{
    char job[37];
    vr_quota_lock();
    int rc = disk_take(c, d, str(body, "storage_domain"), json_integer_value(json_object_get(d, "provisioned_size")),
                       err);
    if (rc == 0)
        rc = vr_disk_copy_submit(c->e, d, str(body, "storage_domain"), c->user, job, err);
    vr_quota_unlock();
    if (rc < 0)
        return -1;
    *reply = json_pack("{s:s}", "job_id", job);
    return 0;
}

static int disk_move(vr_call *c, json_t *d, json_t *body, json_t **reply, vr_error *err)
{
    char job[37];
    if (vr_disk_move_submit(c->e, d, str(body, "storage_domain"), c->user, job, err) < 0)
        return -1;
    *reply = json_pack("{s:s}", "job_id", job);
    return 0;
}

static int disk_extend(vr_call *c, json_t *d, json_t *body, json_t **reply, vr_error *err)
{
    char job[37];
    long long size = json_integer_value(json_object_get(body, "provisioned_size"));
    if (size % 512)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "provisioned_size must be a multiple of 512 bytes");
    vr_quota_lock();
    int rc = disk_take(c, d, str(d, "storage_domain"),
                       size - json_integer_value(json_object_get(d, "provisioned_size")), err);
    if (rc == 0)
        rc = vr_disk_extend_submit(c->e, d, size, c->user, job, err);
    vr_quota_unlock();
    if (rc < 0)
        return -1;
    *reply = json_pack("{s:s}", "job_id", job);
    return 0;
}

static int disk_resolve(vr_call *c, json_t *d, json_t *body, json_t **reply, vr_error *err)
{
    char job[37];
    if (vr_disk_resolve_submit(c->e, d, str(body, "storage_domain"), c->user, job, err) < 0)
        return -1;
    *reply = json_pack("{s:s}", "job_id", job);
    return 0;
}

static const vr_field resolve_params[] = {
    {"storage_domain", VR_FT_REF, VR_F_REQ | VR_F_CREATE, .ref = "storagedomains",
     .doc = "The domain of the copy to keep: the disk's storage_domain or its doubt_storage_domain."},
};

static const vr_field copy_params[] = {
    {"storage_domain", VR_FT_REF, VR_F_REQ | VR_F_CREATE, .ref = "storagedomains",
     .doc = "An active domain of the same data center."},
};

static const vr_field extend_params[] = {
    {"provisioned_size", VR_FT_INT, VR_F_REQ | VR_F_CREATE, 512, MAX_DISK, .doc = "The new size in bytes (larger)."},
};

static const vr_action disk_actions[] = {
    {"copy", "Copy a disk to another active domain of its data center as a new disk (a job with progress)", true,
     disk_copy, copy_params, VR_ARRAY_SIZE(copy_params)},
    {"move", "Move a disk of down VMs (or a floating disk) to another active data domain of its data center (a"
     " job with progress; the chain is collapsed into one volume)", true, disk_move, copy_params,
     VR_ARRAY_SIZE(copy_params)},
    {"extend", "Grow a disk (a job; live through the VM's host when a running VM uses it)", true, disk_extend,
     extend_params, VR_ARRAY_SIZE(extend_params)},
    {"resolve", "Settle a disk in doubt after a live move (status indoubt): keep the copy on the storage domain"
     " given, remove the other, the disk ok again (a job through the SPM; its VMs down)", true, disk_resolve,
     resolve_params, VR_ARRAY_SIZE(resolve_params)},
};

static const vr_field disk_fields[] = {
    {"id", VR_FT_ID, 0, .doc = "The disk's image UUID on storage."},
    {"volume_id", VR_FT_ID, 0, .doc = "Its volume's UUID on storage."},
    {"alias", VR_FT_NAME, VR_F_REQ | VR_F_CREATE | VR_F_UPDATE | VR_F_SORT,
     .doc = "1-64 letters, digits, '.', '-', '_' (not unique)."},
    {"description", VR_FT_STR, VR_F_CREATE | VR_F_UPDATE, 0, 100, .dflt = "\"\"",
     .doc = "Kept on storage with the volume too."},
    {"storage_domain", VR_FT_REF, VR_F_REQ | VR_F_CREATE | VR_F_FIXED, .ref = "storagedomains",
     .doc = "Its storage domain (an active one at create)."},
    {"provisioned_size", VR_FT_INT, VR_F_REQ | VR_F_CREATE | VR_F_SORT, 512, MAX_DISK,
     .doc = "Size the guest sees, in bytes (a multiple of 512, at most 64 TiB)."},
    {"actual_size", VR_FT_INT, VR_F_SORT, 0, 1LL << 62, .doc = "Bytes it takes on storage, as last read."},
    {"format", VR_FT_ENUM, VR_F_CREATE, .values = VR_STRS("raw", "cow"), .dflt = "\"cow\"",
     .doc = "raw, or cow (qcow2)."},
    {"sparse", VR_FT_BOOL, VR_F_CREATE, .dflt = "true", .doc = "false: the space is allocated at creation."},
    {"interface", VR_FT_ENUM, VR_F_CREATE | VR_F_UPDATE, .values = VR_STRS("virtio", "virtio_scsi", "sata", "ide"),
     .dflt = "\"virtio\"", .doc = "The bus a VM gets it on, unless the VM's disk says otherwise."},
    {"bootable", VR_FT_BOOL, VR_F_CREATE | VR_F_UPDATE, .dflt = "false", .doc = NULL},
    {"shareable", VR_FT_BOOL, VR_F_CREATE, .dflt = "false", .doc = "May be used by several VMs (raw only)."},
    {"read_only", VR_FT_BOOL, VR_F_CREATE, .dflt = "false", .doc = "VMs get it read-only."},
    {"wipe_after_delete", VR_FT_BOOL, VR_F_CREATE | VR_F_UPDATE, .dflt = "false", .doc = NULL},
    {"status", VR_FT_ENUM, VR_F_SORT, .values = VR_STRS("locked", "ok", "illegal", "empty", "indoubt"),
     .doc = "locked while a job works on it; illegal when its volume is incomplete or corrupt (an upload that"
            " broke off); empty: created for an upload that has not come yet; indoubt: a live move ended not"
            " knowing which of two copies the guest wrote last (on storage_domain and doubt_storage_domain):"
            " no VM starts from it and no job takes it until the resolve action keeps one."},
    {"doubt_storage_domain", VR_FT_REF, VR_F_NULL, .ref = "storagedomains",
     .doc = "While the disk is indoubt: the storage domain of its other copy (a live move's target, or its"
            " source once the row names the target). Null otherwise."},
    {"quota", VR_FT_REF, VR_F_CREATE | VR_F_UPDATE | VR_F_NULL, .ref = "quotas",
     .doc = "The quota of its domain's data center its provisioned size counts against (docs/permissions.md"
            " \"Quotas\"); default: the data center's only quota, if it has exactly one. Null: none."},
    {"content", VR_FT_ENUM, VR_F_CREATE | VR_F_OPT, .values = VR_STRS("blank", "upload"), .dflt = "\"blank\"",
     .doc = "upload: the disk is made `empty` and filled by PUT /api/disks/ID/content (no job); blank: a new"
            " empty volume (a job). Not kept."},
    {"created_at", VR_FT_TIME, VR_F_SORT, .doc = NULL},
};

const vr_kind vr_kind_disks = {
    .collection = "disks", .type = "disk", .title = "disk", .schema = "Disk", .tag = "Disks",
    .store = &vr_store_disks, .fields = disk_fields, .nfields = VR_ARRAY_SIZE(disk_fields),
    .actions = disk_actions, .nactions = VR_ARRAY_SIZE(disk_actions),
    .parent = "storagedomains", .parent_field = "storage_domain",
    .check_create = disk_check_create, .present = disk_present, .after_write = disk_after_write,
    .create_job = disk_create_job, .remove_job = disk_remove_job, .quota = disk_quota,
};
