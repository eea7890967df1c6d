/* Users, groups (and their members), roles and permissions
 * (docs/permissions.md). Internal users are NAME@internal with a
 * write-only password hashed like admin@internal's; predefined roles are
 * read-only; admin@internal keeps SuperUser on system. */
#include <ctype.h>
#include <string.h>

#include "auth.h"
#include "directory.h"
#include "dispatch.h"
#include "kind.h"
#include "perm.h"
#include "store_people.h"

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static void as_bool(json_t *row, const char *name)
{
    json_t *v = json_object_get(row, name);
    if (json_is_integer(v))
        json_object_set_new(row, name, json_boolean(json_integer_value(v)));
}

/* ---- users ---- */

#define USER_PATTERN "^([A-Za-z0-9._-]{1,64}@internal|[^@]{1,128}@[A-Za-z0-9._-]{1,64})$"

static bool user_name_ok(const char *n)
{
    const char *at = n ? strchr(n, '@') : NULL;
    return at && at > n && at - n <= 64 && !strcmp(at, "@internal") &&
           strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == (size_t)(at - n);
}

/* The password becomes its hash before the store sees the body. */
static int take_password(json_t *body, vr_error *err)
{
    const char *pw = str(body, "password");
    if (!pw)
        return 0;
    char hash[512];
    if (vr_auth_hash(pw, hash, sizeof(hash), err) < 0)
        return -1;
    json_object_set_new(body, "password_hash", json_string(hash));
    json_object_del(body, "password");
    return 0;
}

/* uid@profile: a directory user added before their first login (docs/
 * permissions.md "Directory users"), so permissions can name them; the
 * directory must know them, and their login finds this row. */
static int directory_user_create(vr_call *c, json_t *body, const char *at, vr_error *err)
{
    if (str(body, "password"))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "user '%s' logs in with the password of directory '%s':"
                            " add them without one", str(body, "name"), at + 1);
    json_t *canon = NULL;
    if (vr_directory_known(c->e, str(body, "name"), false, &canon, err) < 0)
        return -1;
    /* '!' is no yescrypt hash: such a user never logs in with a local password */
    json_object_set_new(body, "password_hash", json_string("!"));
    json_object_set_new(body, "domain", json_string(at + 1));
    json_object_set_new(body, "name", canon); /* as the directory spells it; at pointed into the old name */
    return 0;
}

static int user_check_create(vr_call *c, json_t *body, vr_error *err)
{
    const char *n = str(body, "name") ?: "", *at = strrchr(n, '@');
    if (at && at > n && strcmp(at, "@internal"))
        return directory_user_create(c, body, at, err);
    if (!user_name_ok(str(body, "name")))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "a user's name is NAME@internal: 1-64 letters, digits, '.',"
                            " '-', '_' then @internal (directory users log in as user@profile)");
    if (!str(body, "password"))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "password is required (8+ characters)");
    return take_password(body, err);
}

static int user_check_update(vr_call *c, json_t *row, json_t *body, vr_error *err)
{
    (void)c;
    if (!strcmp(str(row, "name") ?: "", VR_ADMIN_USER) && !json_is_true(json_object_get(body, "enabled")))
        return vr_error_set(err, VR_ERR_CONFLICT, "%s cannot be disabled", VR_ADMIN_USER);
    if (str(body, "password") && strcmp(str(row, "domain") ?: "", "internal"))
        return vr_error_set(err, VR_ERR_CONFLICT, "user '%s' logs in with the password of directory '%s'",
                            str(row, "name"), str(row, "domain"));
    return take_password(body, err);
}

static int user_check_delete(vr_call *c, json_t *row, vr_error *err)
{
    (void)c;
    if (!strcmp(str(row, "name") ?: "", VR_ADMIN_USER))
        return vr_error_set(err, VR_ERR_CONFLICT, "%s cannot be removed", VR_ADMIN_USER);
    return 0;
}

static void user_present(vr_engine *e, json_t *row)
{
    (void)e;
    as_bool(row, "enabled");
}

static const vr_field user_fields[] = {
    {"id", VR_FT_ID, 0, .doc = NULL},
    {"name", VR_FT_STR, VR_F_REQ | VR_F_CREATE | VR_F_FIXED | VR_F_SORT, 3, 193, .schema = USER_PATTERN,
     .doc = "NAME@internal, or uid@profile for a directory user (found with GET /api/domains/ID/users; added"
            " without a password, the directory must know them); what the user logs in as."},
    {"description", VR_FT_STR, VR_F_CREATE | VR_F_UPDATE, 0, 4096, .dflt = "\"\""},
    {"password", VR_FT_STR, VR_F_CREATE | VR_F_UPDATE | VR_F_OPT, 8, 512,
     .doc = "Write-only: required at create of an internal user (never given for a directory user), a new one on update (the user's tokens are then revoked). Stored"
            " hashed (yescrypt), never shown."},
    {"enabled", VR_FT_BOOL, VR_F_CREATE | VR_F_UPDATE, .dflt = "true",
     .doc = "false: the user cannot log in and their tokens stop working."},
    {"domain", VR_FT_STR, 0, .doc = "internal, or the directory profile's name."},
    {"created_at", VR_FT_TIME, VR_F_SORT, .doc = NULL},
};

const vr_kind vr_kind_users = {
    .collection = "users", .type = "user", .title = "user", .schema = "User", .tag = "Users and permissions",
    .store = &vr_store_users, .fields = user_fields, .nfields = VR_ARRAY_SIZE(user_fields),
    .check_create = user_check_create, .check_update = user_check_update, .check_delete = user_check_delete,
    .present = user_present,
};

/* ---- groups and members ---- */

#define GROUP_PATTERN "^[A-Za-z0-9][A-Za-z0-9._ -]{0,63}(@[A-Za-z0-9._-]{1,64})?$"

/* NAME, or NAME@profile for the directory group NAME (its members come
 * from the directory at each login). */
static int group_check(json_t *body, vr_error *err)
{
    static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
    const char *n = str(body, "name") ?: "", *at = strchr(n, '@');
    size_t head = at ? (size_t)(at - n) : strlen(n);
    bool good = head >= 1 && head <= 64 && isalnum((unsigned char)n[0]);
    for (size_t i = 0; good && i < head; i++)
        good = n[i] == ' ' || (n[i] && strchr(ok, n[i]));
    if (good && at)
        good = at[1] && strlen(at + 1) <= 64 && strspn(at + 1, ok) == strlen(at + 1);
    return good ? 0 : vr_error_set(err, VR_ERR_INVALID_PARAMS, "a group's name is NAME (letters, digits, '.', '-',"
                                   " '_', spaces) or NAME@profile for a directory group");
}

/* The directory of body's NAME@profile knows the group: its name then as
 * the directory spells it (logins record memberships under that name). */
static int directory_group_known(vr_call *c, json_t *body, vr_error *err)
{
    json_t *canon = NULL;
    if (vr_directory_known(c->e, str(body, "name"), true, &canon, err) < 0)
        return -1;
    json_object_set_new(body, "name", canon);
    return 0;
}

/* A directory group's profile must exist and its directory know the
 * group, as for a directory user. */
static int group_check_create(vr_call *c, json_t *body, vr_error *err)
{
    if (group_check(body, err) < 0)
        return -1;
    return strchr(str(body, "name"), '@') ? directory_group_known(c, body, err) : 0;
}

static int group_check_update(vr_call *c, json_t *row, json_t *body, vr_error *err)
{
    if (group_check(body, err) < 0)
        return -1;
    /* a new directory name is checked like one given at create */
    bool renamed = strcmp(str(body, "name"), str(row, "name") ?: "");
    return renamed && strchr(str(body, "name"), '@') ? directory_group_known(c, body, err) : 0;
}

static const vr_field group_fields[] = {
    {"id", VR_FT_ID, 0, .doc = NULL},
    {"name", VR_FT_STR, VR_F_REQ | VR_F_CREATE | VR_F_UPDATE | VR_F_SORT, 1, 129, .schema = GROUP_PATTERN,
     .doc = "NAME, or NAME@profile: the directory group NAME of that profile, whose members the directory says."},
    {"description", VR_FT_STR, VR_F_CREATE | VR_F_UPDATE, 0, 4096, .dflt = "\"\""},
    {"created_at", VR_FT_TIME, VR_F_SORT, .doc = NULL},
};

const vr_kind vr_kind_groups = {
    .collection = "groups", .type = "group", .title = "group", .schema = "Group", .tag = "Users and permissions",
    .store = &vr_store_groups, .fields = group_fields, .nfields = VR_ARRAY_SIZE(group_fields),
    .check_create = group_check_create, .check_update = group_check_update,
};

static int members(vr_engine *e, json_t *group, json_t **rows, vr_error *err)
{
    return vr_group_members(e, str(group, "id"), rows, err);
}

static int member_add(vr_call *c, json_t *group, json_t *body, json_t **reply, char job[37], vr_error *err)
{
    (void)job;
    const char *uid = str(body, "user_id");
    json_t *user = vr_kind_get(c->e, &vr_kind_users, uid, err);
    if (!user)
        return -1;
    int rc = vr_group_member_add(c->e, str(group, "id"), uid, err);
    if (rc == 0) {
        vr_event(c->e, "normal", c->user, "group", str(group, "id"), "user '%s' added to group '%s'",
                 str(user, "name"), str(group, "name"));
        *reply = json_pack("{s:s, s:s}", "id", uid, "name", str(user, "name"));
    } else if (err->code == VR_ERR_CONFLICT) {
        vr_error_set(err, VR_ERR_CONFLICT, "user '%s' is already in group '%s'", str(user, "name"),
                     str(group, "name"));
    }
    json_decref(user);
    return rc;
}

static int member_remove(vr_call *c, json_t *group, json_t *member, char job[37], vr_error *err)
{
    (void)job;
    if (vr_group_member_remove(c->e, str(group, "id"), str(member, "id"), err) < 0)
        return -1;
    vr_event(c->e, "normal", c->user, "group", str(group, "id"), "user '%s' taken out of group '%s'",
             str(member, "name"), str(group, "name"));
    return 0;
}

static const vr_field member_fields[] = {
    {"id", VR_FT_ID, 0, .doc = "The user's id."},
    {"name", VR_FT_STR, 0, .doc = "The user's name."},
    {"user_id", VR_FT_REF, VR_F_REQ | VR_F_CREATE | VR_F_OPT, .ref = "users", .doc = "The user to add."},
};

const vr_kind vr_kind_group_members = {
    .collection = "members", .type = "group", .title = "member", .schema = "GroupMember",
    .tag = "Users and permissions", .fields = member_fields, .nfields = VR_ARRAY_SIZE(member_fields),
    .parent = "groups", .parent_field = "group_id", .children = members, .add_child = member_add,
    .remove_child = member_remove,
};

/* ---- roles ---- */

static int check_groups(json_t *body, vr_error *err)
{
    json_t *g = json_object_get(body, "action_groups"), *v;
    size_t i;
    if (!json_is_array(g) || !json_array_size(g))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "action_groups must be a list of at least one action group");
    json_array_foreach(g, i, v)
        if (!json_is_string(v) || !vr_action_group_known(json_string_value(v)))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "action_groups[%zu] is not an action group (see"
                                " docs/permissions.md)", i);
    return 0;
}

static int role_check_create(vr_call *c, json_t *body, vr_error *err)
{
    (void)c;
    return check_groups(body, err);
}

static int predefined(json_t *row, vr_error *err)
{
    json_t *p = json_object_get(row, "predefined");
    if (json_is_true(p) || json_integer_value(p))
        return vr_error_set(err, VR_ERR_CONFLICT, "role '%s' is predefined and cannot change", str(row, "name"));
    return 0;
}

static int role_check_update(vr_call *c, json_t *row, json_t *body, vr_error *err)
{
    (void)c;
    return predefined(row, err) < 0 ? -1 : check_groups(body, err);
}

static int role_check_delete(vr_call *c, json_t *row, vr_error *err)
{
    (void)c;
    return predefined(row, err);
}

static void role_present(vr_engine *e, json_t *row)
{
    (void)e;
    as_bool(row, "administrative");
    as_bool(row, "predefined");
}

static const vr_field role_fields[] = {
    {"id", VR_FT_ID, 0, .doc = NULL},
    {"name", VR_FT_NAME, VR_F_REQ | VR_F_CREATE | VR_F_UPDATE | VR_F_SORT, .doc = NULL},
    {"description", VR_FT_STR, VR_F_CREATE | VR_F_UPDATE, 0, 4096, .dflt = "\"\""},
    {"administrative", VR_FT_BOOL, VR_F_CREATE | VR_F_UPDATE, .dflt = "false",
     .doc = "An administrator role (true) or a user role (false)."},
    {"predefined", VR_FT_BOOL, 0, .doc = "One of the engine's roles: read-only."},
    {"action_groups", VR_FT_JSON, VR_F_REQ | VR_F_CREATE | VR_F_UPDATE, .schema = "ActionGroups",
     .doc = "What the role allows."},
    {"created_at", VR_FT_TIME, VR_F_SORT, .doc = NULL},
};

const vr_kind vr_kind_roles = {
    .collection = "roles", .type = "role", .title = "role", .schema = "Role", .tag = "Users and permissions",
    .store = &vr_store_roles, .fields = role_fields, .nfields = VR_ARRAY_SIZE(role_fields),
    .delete_in_use = "permissions still use it",
    .check_create = role_check_create, .check_update = role_check_update, .check_delete = role_check_delete,
    .present = role_present,
};

/* ---- permissions ---- */

static const struct {
    const char *type, *collection;
} object_types[] = {
    {"system", NULL}, {"datacenter", "datacenters"}, {"cluster", "clusters"}, {"host", "hosts"}, {"vm", "vms"},
    {"storagedomain", "storagedomains"}, {"disk", "disks"}, {"template", "templates"}, {"vmpool", "vmpools"},
    {"network", "networks"}, {"quota", "quotas"},
};

/* No one grants more than they hold: every action group of the role must
 * be the granter's on that object (admin@internal holds them all). */
static int perm_no_escalation(vr_call *c, json_t *body, vr_error *err)
{
    if (vr_authz_unrestricted(c->user))
        return 0;
    json_t *role = vr_kind_get(c->e, &vr_kind_roles, str(body, "role_id") ?: "", err);
    if (!role)
        return err->code == VR_ERR_NOT_FOUND ? (err->code = VR_ERR_INVALID_PARAMS, -1) : -1;
    const char *obj = str(body, "object_id") ?: VR_SYSTEM_ID;
    json_t *g;
    size_t i;
    int rc = 0;
    json_array_foreach(json_object_get(role, "action_groups"), i, g) {
        int ok = vr_perm_allows(c->e, c->user, obj, json_string_value(g), err);
        if (ok <= 0) {
            rc = ok < 0 ? -1 : vr_error_set(err, VR_ERR_FORBIDDEN, "user '%s' may not give role '%s' on this"
                                            " object: it holds no '%s' there itself", c->user,
                                            str(role, "name"), json_string_value(g));
            break;
        }
    }
    json_decref(role);
    return rc;
}

static int perm_check_create(vr_call *c, json_t *body, vr_error *err)
{
    if (perm_no_escalation(c, body, err) < 0)
        return -1;
    bool user = json_is_string(json_object_get(body, "user_id")), group = json_is_string(json_object_get(body, "group_id"));
    if (user == group)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "a permission is given to one user_id or one group_id");
    const char *type = str(body, "object_type") ?: "", *oid = str(body, "object_id");
    for (size_t i = 0; i < VR_ARRAY_SIZE(object_types); i++) {
        if (strcmp(object_types[i].type, type))
            continue;
        if (!object_types[i].collection)
            return oid ? vr_error_set(err, VR_ERR_INVALID_PARAMS, "a permission on the system has no object_id") : 0;
        if (!oid)
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "object_id is required for a permission on a %s", type);
        json_t *obj = vr_kind_get(c->e, vr_kind_find(object_types[i].collection), oid, err);
        if (!obj)
            return err->code == VR_ERR_NOT_FOUND ? (err->code = VR_ERR_INVALID_PARAMS, -1) : -1;
        json_decref(obj);
        return 0;
    }
    return vr_error_set(err, VR_ERR_INVALID_PARAMS, "unknown object_type '%.64s'", type);
}

static int perm_check_delete(vr_call *c, json_t *row, vr_error *err)
{
    json_t *admin = vr_db_query_one(c->e->db, "SELECT 1 AS x FROM users WHERE id = ? AND name = ?",
                                    DB_ARGS(DB_TEXT(str(row, "user_id") ?: ""), DB_TEXT(VR_ADMIN_USER)), NULL);
    bool keep = admin && !strcmp(str(row, "role_id") ?: "", VR_SUPERUSER_ROLE_ID) &&
                !strcmp(str(row, "object_type") ?: "", "system");
    json_decref(admin);
    return keep ? vr_error_set(err, VR_ERR_CONFLICT, "%s keeps SuperUser on the system", VR_ADMIN_USER) : 0;
}

static void perm_present(vr_engine *e, json_t *row)
{
    (void)e;
    const char *role = str(row, "role_id") ?: "";
    char href[128];
    snprintf(href, sizeof(href), "/api/roles/%s", role);
    json_object_set_new(row, "role_link", json_pack("{s:s, s:s}", "id", role, "href", href));
}

static const vr_field perm_fields[] = {
    {"id", VR_FT_ID, 0, .doc = NULL},
    {"user_id", VR_FT_REF, VR_F_CREATE | VR_F_NULL, .ref = "users", .doc = "The user holding it (or group_id)."},
    {"group_id", VR_FT_REF, VR_F_CREATE | VR_F_NULL, .ref = "groups",
     .doc = "The group whose members hold it (or user_id)."},
    {"role_id", VR_FT_REF, VR_F_REQ | VR_F_CREATE, .ref = "roles", .doc = NULL},
    {"role", VR_FT_STR, 0, .doc = "The role's name."},
    {"object_type", VR_FT_ENUM, VR_F_REQ | VR_F_CREATE,
     .values = VR_STRS("system", "datacenter", "cluster", "host", "vm", "storagedomain", "disk", "template", "vmpool",
                       "network", "quota"),
     .doc = "What it is on; it covers everything below that object too."},
    {"object_id", VR_FT_STR, VR_F_CREATE | VR_F_NULL, 1, 64, .doc = "The object's id; null on the system."},
    {"created_at", VR_FT_TIME, VR_F_SORT, .doc = NULL},
    {"role_link", VR_FT_JSON, 0, .schema = "Link", .doc = "Link to the role."},
};

const vr_kind vr_kind_permissions = {
    .collection = "permissions", .type = "permission", .title = "permission", .schema = "Permission",
    .tag = "Users and permissions", .store = &vr_store_permissions, .fields = perm_fields,
    .nfields = VR_ARRAY_SIZE(perm_fields), .no_update = true,
    .check_create = perm_check_create, .check_delete = perm_check_delete, .present = perm_present,
};

/* ---- directory profiles (LDAP) ---- */

static int domain_check(json_t *body, vr_error *err)
{
    const char *url = str(body, "url") ?: "", *tls = str(body, "tls") ?: "";
    bool ldaps = !strncmp(url, "ldaps://", 8);
    if (!ldaps && strncmp(url, "ldap://", 7))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "url must be ldaps://HOST[:PORT] or ldap://HOST[:PORT]");
    if (ldaps != !strcmp(tls, "ldaps"))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "tls 'ldaps' goes with an ldaps:// url, 'starttls' with"
                            " ldap:// (the password never crosses in clear)");
    /* Active Directory names its users by sAMAccountName (userPrincipalName
     * too): "uid", the default, means the former there */
    const char *attr = str(body, "user_attribute") ?: "uid";
    if (!strcmp(str(body, "type") ?: "", "ad") && !strcmp(attr, "uid"))
        json_object_set_new(body, "user_attribute", json_string("sAMAccountName"));
    else if (!strcmp(str(body, "type") ?: "", "ad") && strcmp(attr, "sAMAccountName") &&
             strcmp(attr, "userPrincipalName"))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "an Active Directory profile (type 'ad') matches login names"
                            " against sAMAccountName or userPrincipalName, not '%s'", attr);
    return vr_directory_check_ca(str(body, "ca_cert") ?: "", err);
}

static int domain_check_create(vr_call *c, json_t *body, vr_error *err)
{
    (void)c;
    if (!strcmp(str(body, "name") ?: "", "internal"))
        return vr_error_set(err, VR_ERR_CONFLICT, "'internal' is the engine's own domain");
    return domain_check(body, err);
}

static int domain_check_update(vr_call *c, json_t *row, json_t *body, vr_error *err)
{
    (void)c, (void)row;
    return domain_check(body, err);
}

static const vr_field domain_fields[] = {
    {"id", VR_FT_ID, 0, .doc = NULL},
    {"name", VR_FT_NAME, VR_F_REQ | VR_F_CREATE | VR_F_FIXED | VR_F_SORT,
     .doc = "The profile: its users log in as uid@NAME."},
    {"description", VR_FT_STR, VR_F_CREATE | VR_F_UPDATE, 0, 4096, .dflt = "\"\""},
    {"url", VR_FT_STR, VR_F_REQ | VR_F_CREATE | VR_F_UPDATE, 8, 512, .schema = "^ldaps?://",
     .doc = "ldaps://HOST[:PORT] (tls ldaps) or ldap://HOST[:PORT] (tls starttls)."},
    {"tls", VR_FT_ENUM, VR_F_REQ | VR_F_CREATE | VR_F_UPDATE, .values = VR_STRS("ldaps", "starttls"),
     .doc = "The certificate must chain to the engine's CA (--pki DIR/ca.crt)."},
    {"bind_dn", VR_FT_STR, VR_F_REQ | VR_F_CREATE | VR_F_UPDATE, 1, 1024, .doc = "The account that searches."},
    {"bind_password", VR_FT_STR, VR_F_REQ | VR_F_CREATE | VR_F_UPDATE | VR_F_OPT, 1, 1024,
     .doc = "Write-only: never shown; PUT without it keeps it."},
    {"base_dn", VR_FT_STR, VR_F_REQ | VR_F_CREATE | VR_F_UPDATE, 1, 1024, .doc = "Where users and groups are searched."},
    {"user_attribute", VR_FT_ENUM, VR_F_CREATE | VR_F_UPDATE, .values = VR_STRS("uid", "cn", "sAMAccountName",
                                                                                  "userPrincipalName", "mail"),
     .dflt = "\"uid\"", .doc = "The attribute a login name is matched against."},
    {"type", VR_FT_ENUM, VR_F_CREATE | VR_F_UPDATE, .values = VR_STRS("ldap", "ad"), .dflt = "\"ldap\"",
     .doc = "ldap: OpenLDAP, 389-DS, IdM (groupOfNames, groupOfUniqueNames, memberOf). ad: Active Directory"
            " (users by sAMAccountName or userPrincipalName, nested groups, disabled accounts refused)."},
    {"ca_cert", VR_FT_STR, VR_F_CREATE | VR_F_UPDATE, 0, 65536, .dflt = "\"\"",
     .doc = "PEM: the CA certificate(s) the directory's certificate must chain to instead of the engine's CA"
            " (an AD domain's own CA, say); empty: the engine's."},
    {"created_at", VR_FT_TIME, VR_F_SORT, .doc = NULL},
};

const vr_kind vr_kind_domains = {
    .collection = "domains", .type = "domain", .title = "directory profile", .schema = "Domain",
    .tag = "Users and permissions", .store = &vr_store_domains, .fields = domain_fields,
    .nfields = VR_ARRAY_SIZE(domain_fields),
    .check_create = domain_check_create, .check_update = domain_check_update,
};
