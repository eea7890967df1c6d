/* Directory login (docs/permissions.md "Directory users"): a user
 * `uid@profile` is checked against the LDAP directory of profile (a row
 * of /api/domains) with libldap: bind with the profile's account, find
 * the user's entry by its uid attribute (the value escaped as RFC 4515
 * says, so a name cannot change the filter), bind as that entry with the
 * password, then read the groups that list it as a member. An Active
 * Directory profile (type 'ad', chosen when the profile is made, as
 * oVirt's aaa-ldap has its provider types) finds the user by
 * sAMAccountName or userPrincipalName among person entries that are not
 * disabled (userAccountControl bit 0x2), and its groups, nested ones too,
 * with AD's LDAP_MATCHING_RULE_IN_CHAIN. On success the
 * user gets a users row of its own (so permissions can name it) and its
 * memberships of the Vireo groups named GROUP@profile follow the
 * directory's. Every LDAP operation has a deadline. */
#include "directory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gnutls/x509.h>
#include <ldap.h>

#include "log.h"

#define LDAP_DEADLINE_S 5

static char ca_file[1024];

void vr_directory_init(const char *ca)
{
    snprintf(ca_file, sizeof(ca_file), "%s", ca ? ca : "");
}

int vr_ldap_escape(const char *in, char *out, size_t len)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        bool special = *p == '*' || *p == '(' || *p == ')' || *p == '\\' || *p < 0x20 || *p == 0x7f;
        if (o + (special ? 3 : 1) >= len)
            return -1;
        if (special)
            o += (size_t)snprintf(out + o, len - o, "\\%02x", *p);
        else
            out[o++] = (char)*p;
    }
    out[o] = '\0';
    return 0;
}

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

int vr_directory_check_ca(const char *pem, vr_error *err)
{
    if (!*pem)
        return 0;
    gnutls_x509_crt_t *certs = NULL;
    unsigned int n = 0;
    gnutls_datum_t d = {.data = (unsigned char *)pem, .size = (unsigned int)strlen(pem)};
    int rc = gnutls_x509_crt_list_import2(&certs, &n, &d, GNUTLS_X509_FMT_PEM, 0);
    for (unsigned int i = 0; rc >= 0 && i < n; i++)
        gnutls_x509_crt_deinit(certs[i]);
    gnutls_free(certs);
    if (rc < 0 || n == 0)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "ca_cert is not a PEM certificate (or list of them): %s",
                            rc < 0 ? gnutls_strerror(rc) : "none found");
    return 0;
}

/* The TLS context of ld, trusting the profile's own CA when it has one,
 * else the engine's. libldap reads CAs from files only: the profile's is
 * written to a private temporary file, read when the context is made,
 * then removed. */
static int tls_context(LDAP *ld, json_t *dom)
{
    int zero = 0, rc;
    const char *pem = str(dom, "ca_cert");
    if (!*pem) {
        if (*ca_file)
            ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, ca_file);
        return ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
    }
    char path[] = "/tmp/vireo-ldap-ca-XXXXXX";
    int fd = mkstemp(path); /* 0600 */
    if (fd < 0)
        return LDAP_LOCAL_ERROR;
    size_t len = strlen(pem);
    bool written = write(fd, pem, len) == (ssize_t)len;
    close(fd);
    rc = written ? ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, path) : LDAP_LOCAL_ERROR;
    if (rc == LDAP_OPT_SUCCESS)
        rc = ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
    unlink(path);
    return rc;
}

static bool is_ad(json_t *dom)
{
    return !strcmp(str(dom, "type"), "ad");
}

/* AD's bitwise-AND matching rule and its transitive one (a group of a
 * group of the user's is the user's: what tokenGroups says, by name) */
#define AD_DISABLED "(userAccountControl:1.2.840.113556.1.4.803:=2)"
#define AD_IN_CHAIN "1.2.840.113556.1.4.1941"

/* The entries that are people: searches and lookups of users never find
 * service accounts (389-DS's and IdM's sysaccounts are "account"
 * entries), groups or, on AD, computers (also objectClass=user). */
static const char *person_filter(json_t *dom)
{
    return is_ad(dom) ? "(objectCategory=person)(objectClass=user)(!(objectClass=computer))"
                      : "(|(objectClass=person)(objectClass=inetOrgPerson))";
}

/* Connect to the profile's directory and bind with its account. */
static LDAP *dial(json_t *dom, vr_error *err)
{
    LDAP *ld = NULL;
    const char *name = str(dom, "name");
    int rc = ldap_initialize(&ld, str(dom, "url"));
    if (rc != LDAP_SUCCESS) {
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "directory '%s': bad URL: %s", name, ldap_err2string(rc));
        return NULL;
    }
    int v3 = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND;
    struct timeval tv = {LDAP_DEADLINE_S, 0};
    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv);
    ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
    if ((rc = tls_context(ld, dom)) != LDAP_OPT_SUCCESS) /* the options above, for this handle */
        goto down;
    if (!strcmp(str(dom, "tls"), "starttls") && (rc = ldap_start_tls_s(ld, NULL, NULL)) != LDAP_SUCCESS)
        goto down;
    struct berval cred = {.bv_val = (char *)str(dom, "bind_password"), .bv_len = strlen(str(dom, "bind_password"))};
    rc = ldap_sasl_bind_s(ld, str(dom, "bind_dn"), LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
    if (rc == LDAP_SUCCESS)
        return ld;
    if (rc == LDAP_INVALID_CREDENTIALS) {
        vr_error_set(err, VR_ERR_UNAVAILABLE, "directory '%s' refuses the profile's bind DN or password", name);
        ldap_unbind_ext_s(ld, NULL, NULL);
        return NULL;
    }
down:
    vr_error_set(err, VR_ERR_UNAVAILABLE, "directory '%s' (%s) cannot be reached: %s", name, str(dom, "url"),
                 ldap_err2string(rc));
    ldap_unbind_ext_s(ld, NULL, NULL);
    return NULL;
}

/* The first value of attribute a of entry m, as a new JSON string (NULL
 * when it has none). */
static json_t *first_value(LDAP *ld, LDAPMessage *m, const char *a)
{
    struct berval **v = ldap_get_values_len(ld, m, a);
    json_t *out = v && v[0] ? json_stringn(v[0]->bv_val, v[0]->bv_len) : NULL;
    ldap_value_free_len(v);
    return out;
}

/* The DN of the entry whose uid attribute is uid, or NULL (not found or
 * not exactly one: rc 1; trouble: -1 with err). canon gets the attribute's
 * value as the directory holds it: uids match without regard to case, and
 * "Bob" and "bob" must be one user of the engine. */
static char *find_user(LDAP *ld, json_t *dom, const char *uid, char *canon, size_t clen, int *rc, vr_error *err)
{
    char esc[512], filter[1400];
    if (vr_ldap_escape(uid, esc, sizeof(esc)) < 0) {
        *rc = 1;
        return NULL;
    }
    if (is_ad(dom)) /* a disabled account is not found: refused like a wrong password, never bound */
        snprintf(filter, sizeof(filter), "(&%s(!" AD_DISABLED ")(|(sAMAccountName=%s)(userPrincipalName=%s)))",
                 person_filter(dom), esc, esc);
    else
        snprintf(filter, sizeof(filter), "(&%s(%s=%s))", person_filter(dom), str(dom, "user_attribute"), esc);
    char *attrs[] = {(char *)str(dom, "user_attribute"), NULL};
    struct timeval tv = {LDAP_DEADLINE_S, 0};
    LDAPMessage *res = NULL;
    int r = ldap_search_ext_s(ld, str(dom, "base_dn"), LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL, NULL, &tv, 2, &res);
    char *dn = NULL;
    if (r != LDAP_SUCCESS && r != LDAP_SIZELIMIT_EXCEEDED) {
        vr_error_set(err, VR_ERR_UNAVAILABLE, "directory '%s': search failed: %s", str(dom, "name"),
                     ldap_err2string(r));
        *rc = -1;
    } else if (ldap_count_entries(ld, res) == 1) {
        LDAPMessage *m = ldap_first_entry(ld, res);
        json_t *v = first_value(ld, m, str(dom, "user_attribute"));
        snprintf(canon, clen, "%s", v ? json_string_value(v) : uid);
        json_decref(v);
        dn = ldap_get_dn(ld, m);
        *rc = dn ? 0 : 1;
    } else {
        *rc = 1; /* none, or ambiguous: refused like a wrong password */
    }
    ldap_msgfree(res);
    return dn;
}


/* Attribute attr of the entry dn: *res the answer (for ldap_msgfree,
 * always), the entry or NULL. */
static LDAPMessage *read_entry(LDAP *ld, const char *dn, const char *attr, LDAPMessage **res)
{
    char *attrs[] = {(char *)attr, NULL};
    struct timeval tv = {LDAP_DEADLINE_S, 0};
    *res = NULL;
    if (ldap_search_ext_s(ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL, NULL, &tv, 1, res) !=
        LDAP_SUCCESS)
        return NULL;
    return ldap_first_entry(ld, *res);
}

/* Append to names the cn of the entry dn, once. */
static void add_group_cn(LDAP *ld, const char *dn, json_t *names)
{
    LDAPMessage *res, *m = read_entry(ld, dn, "cn", &res);
    if (m) {
        json_t *cn = first_value(ld, m, "cn"), *have;
        size_t i;
        json_array_foreach(names, i, have) {
            if (cn && json_equal(cn, have))
                break;
        }
        if (cn && i == json_array_size(names))
            json_array_append(names, cn);
        json_decref(cn);
    }
    ldap_msgfree(res);
}

/* The groups of the user entry dn that its memberOf names. 389-DS's
 * MemberOf plugin (enabled in IdM) keeps there every group the user is
 * in, the groups of its groups too, which the groups' own member lists
 * do not show. (Active Directory's memberOf lists direct groups only.) */
static void member_of_groups(LDAP *ld, const char *dn, json_t *names)
{
    LDAPMessage *res, *m = read_entry(ld, dn, "memberOf", &res);
    if (m) {
        struct berval **v = ldap_get_values_len(ld, m, "memberOf");
        for (size_t i = 0; v && v[i] && i < 500; i++) {
            char gdn[1024];
            if (v[i]->bv_len < sizeof(gdn)) {
                memcpy(gdn, v[i]->bv_val, v[i]->bv_len);
                gdn[v[i]->bv_len] = '\0';
                add_group_cn(ld, gdn, names);
            }
        }
        ldap_value_free_len(v);
    }
    ldap_msgfree(res);
}

/* The cn of every group listing dn (groupOfNames member /
 * groupOfUniqueNames uniqueMember), and of those its memberOf names. */
static json_t *user_groups(LDAP *ld, json_t *dom, const char *dn)
{
    char esc[1024], filter[2400];
    json_t *names = json_array();
    if (vr_ldap_escape(dn, esc, sizeof(esc)) < 0)
        return names;
    if (is_ad(dom)) /* AD's memberOf lists direct groups only: the chain rule gives them all */
        snprintf(filter, sizeof(filter), "(&(objectClass=group)(member:" AD_IN_CHAIN ":=%s))", esc);
    else
        snprintf(filter, sizeof(filter), "(|(member=%s)(uniqueMember=%s))", esc, esc);
    char *attrs[] = {"cn", NULL};
    struct timeval tv = {LDAP_DEADLINE_S, 0};
    LDAPMessage *res = NULL;
    if (ldap_search_ext_s(ld, str(dom, "base_dn"), LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL, NULL, &tv, 500,
                          &res) == LDAP_SUCCESS) {
        for (LDAPMessage *m = ldap_first_entry(ld, res); m; m = ldap_next_entry(ld, m)) {
            struct berval **v = ldap_get_values_len(ld, m, "cn");
            if (v && v[0])
                json_array_append_new(names, json_stringn(v[0]->bv_val, v[0]->bv_len));
            ldap_value_free_len(v);
        }
    }
    ldap_msgfree(res);
    if (!is_ad(dom))
        member_of_groups(ld, dn, names);
    return names;
}

/* The users row of a directory user, and its memberships of GROUP@profile
 * groups as the directory says. */
static int record(vr_engine *e, const char *user, const char *profile, json_t *groups, vr_error *err)
{
    char id[37], pattern[200];
    vr_uuid_new(id);
    snprintf(pattern, sizeof(pattern), "%%@%s", profile);
    if (vr_db_begin(e->db, err) < 0)
        return -1;
    json_t *g;
    size_t i;
    /* '!' is no yescrypt hash: such a user never logs in with a local password */
    if (vr_db_exec(e->db, "INSERT INTO users (id, name, password_hash, domain, created_at) VALUES (?,?,'!',?,?)"
                   " ON CONFLICT(name) DO NOTHING", DB_ARGS(DB_TEXT(id), DB_TEXT(user), DB_TEXT(profile),
                                                           DB_INT(vr_now())), err) < 0 ||
        vr_db_exec(e->db, "DELETE FROM group_members WHERE user_id = (SELECT id FROM users WHERE name = ?)"
                   " AND group_id IN (SELECT id FROM user_groups WHERE name LIKE ?)",
                   DB_ARGS(DB_TEXT(user), DB_TEXT(pattern)), err) < 0)
        goto fail;
    json_array_foreach(groups, i, g) {
        char gname[300];
        snprintf(gname, sizeof(gname), "%s@%s", json_string_value(g), profile);
        if (vr_db_exec(e->db, "INSERT INTO group_members (group_id, user_id) SELECT g.id, u.id FROM user_groups g,"
                       " users u WHERE g.name = ? AND u.name = ?", DB_ARGS(DB_TEXT(gname), DB_TEXT(user)), err) < 0)
            goto fail;
    }
    return vr_db_commit(e->db, err);
fail:
    vr_db_rollback(e->db);
    return -1;
}

json_t *vr_directory_profile(vr_engine *e, const char *key, vr_error *err)
{
    json_t *dom = vr_db_query_one(e->db, "SELECT id, name, url, bind_dn, bind_password, base_dn, tls, user_attribute,"
                                  " type, ca_cert FROM domains WHERE id = ? OR name = ?", DB_ARGS(DB_TEXT(key), DB_TEXT(key)), err);
    if (!dom && !err->code)
        vr_error_set(err, VR_ERR_NOT_FOUND, "no directory profile '%.64s'", key);
    return dom;
}

/* The filter of a search for text in the user attribute, cn or
 * displayName of people (users) or cn (groups), or for exactly text
 * (exact). */
static int search_filter(json_t *dom, const char *text, bool groups, bool exact, char *out, size_t len,
                         vr_error *err)
{
    char esc[VR_DIR_SEARCH_MAX * 3 + 1], val[sizeof(esc) + 2];
    if (strlen(text) > VR_DIR_SEARCH_MAX || vr_ldap_escape(text, esc, sizeof(esc)) < 0)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "a directory search is at most %d bytes", VR_DIR_SEARCH_MAX);
    snprintf(val, sizeof(val), exact ? "%s" : "*%s*", esc);
    if (!exact && !*text)
        snprintf(val, sizeof(val), "*");
    const char *attr = str(dom, "user_attribute");
    if (groups)
        snprintf(out, len, "(&(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=group)"
                 "(objectClass=posixGroup))(cn=%s))", val);
    else if (exact)
        snprintf(out, len, "(&%s(%s=%s))", person_filter(dom), attr, val);
    else
        snprintf(out, len, "(&%s(%s=*)(|(%s=%s)(cn=%s)(displayName=%s)))", person_filter(dom), attr, attr, val, val,
                 val);
    return 0;
}

/* One search result as the API shows it; NULL for an entry without the
 * attribute that names it. */
static json_t *entry_json(vr_engine *e, LDAP *ld, LDAPMessage *m, json_t *dom, bool groups)
{
    json_t *key = first_value(ld, m, groups ? "cn" : str(dom, "user_attribute"));
    if (!key)
        return NULL;
    char name[600];
    snprintf(name, sizeof(name), "%s@%s", json_string_value(key), str(dom, "name"));
    char *dn = ldap_get_dn(ld, m);
    json_t *out = json_pack("{s:s, s:s}", "name", name, "dn", dn ? dn : "");
    ldap_memfree(dn);
    json_t *shown = first_value(ld, m, "displayName") ?: first_value(ld, m, "cn");
    if (groups) {
        json_t *d = first_value(ld, m, "description");
        if (d)
            json_object_set_new(out, "description", d);
        json_decref(shown);
    } else {
        json_object_set_new(out, "principal", json_incref(key));
        json_object_set_new(out, "display_name", shown ? shown : json_incref(key));
        json_t *mail = first_value(ld, m, "mail");
        if (mail)
            json_object_set_new(out, "email", mail);
    }
    json_decref(key);
    /* the engine's row, when it has one already: what permissions name */
    json_t *row = vr_db_query_one(e->db, groups ? "SELECT id FROM user_groups WHERE name = ?"
                                                : "SELECT id FROM users WHERE name = ?",
                                  DB_ARGS(DB_TEXT(name)), NULL);
    if (row)
        json_object_set(out, groups ? "group_id" : "user_id", json_object_get(row, "id"));
    json_decref(row);
    return out;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "name")),
                  json_string_value(json_object_get(*(json_t *const *)b, "name")));
}

/* Search dom's directory; *out: the entries (sorted by name), *more:
 * whether there were more than max. */
static int search(vr_engine *e, json_t *dom, const char *text, bool groups, bool exact, int max, json_t **out,
                  bool *more, vr_error *err)
{
    char filter[VR_DIR_SEARCH_MAX * 9 + 512];
    if (search_filter(dom, text, groups, exact, filter, sizeof(filter), err) < 0)
        return -1;
    LDAP *ld = dial(dom, err);
    if (!ld)
        return -1;
    char *attrs[] = {groups ? "cn" : (char *)str(dom, "user_attribute"), "cn", "displayName", "mail", "description",
                     NULL};
    struct timeval tv = {LDAP_DEADLINE_S, 0};
    LDAPMessage *res = NULL;
    int r = ldap_search_ext_s(ld, str(dom, "base_dn"), LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL, NULL, &tv, max,
                              &res);
    int rc = 0;
    if (r != LDAP_SUCCESS && r != LDAP_SIZELIMIT_EXCEEDED && r != LDAP_ADMINLIMIT_EXCEEDED) {
        rc = vr_error_set(err, VR_ERR_UNAVAILABLE, "directory '%s': search failed: %s", str(dom, "name"),
                          ldap_err2string(r));
    } else {
        size_t n = 0, cap = (size_t)ldap_count_entries(ld, res) + 1;
        json_t **rows = calloc(cap, sizeof(*rows));
        for (LDAPMessage *m = ldap_first_entry(ld, res); rows && m && n < cap; m = ldap_next_entry(ld, m))
            if ((rows[n] = entry_json(e, ld, m, dom, groups)))
                n++;
        if (rows)
            qsort(rows, n, sizeof(*rows), by_name);
        *out = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(*out, rows[i]);
        free(rows);
        *more = r != LDAP_SUCCESS;
    }
    ldap_msgfree(res);
    ldap_unbind_ext_s(ld, NULL, NULL);
    return rc;
}

int vr_directory_search(vr_engine *e, json_t *dom, const char *text, bool groups, int max, json_t **out,
                        vr_error *err)
{
    json_t *found = NULL;
    bool more = false;
    if (search(e, dom, text, groups, false, max, &found, &more, err) < 0)
        return -1;
    *out = json_pack("{s:o, s:I, s:b}", groups ? "groups" : "users", found, "total",
                     (json_int_t)json_array_size(found), "truncated", more);
    return 0;
}

int vr_directory_known(vr_engine *e, const char *name, bool group, json_t **canon, vr_error *err)
{
    const char *at = strrchr(name, '@');
    char head[VR_DIR_SEARCH_MAX + 1];
    if (!at || at == name || (size_t)(at - name) > VR_DIR_SEARCH_MAX)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "'%.64s' is not NAME@profile", name);
    snprintf(head, sizeof(head), "%.*s", (int)(at - name), name);
    json_t *dom = vr_directory_profile(e, at + 1, err), *found = NULL;
    if (!dom)
        return err->code == VR_ERR_NOT_FOUND ? (err->code = VR_ERR_INVALID_PARAMS, -1) : -1;
    bool more = false;
    int rc = search(e, dom, head, group, true, 2, &found, &more, err);
    if (rc == 0 && json_array_size(found) != 1 && group)
        rc = vr_error_set(err, VR_ERR_NOT_FOUND, "directory '%s' has no group '%s' (or more than one)",
                          str(dom, "name"), head);
    else if (rc == 0 && json_array_size(found) != 1)
        rc = vr_error_set(err, VR_ERR_NOT_FOUND, "directory '%s' has no user '%s' (or more than one)",
                          str(dom, "name"), head);
    if (rc == 0 && canon)
        *canon = json_incref(json_object_get(json_array_get(found, 0), "name"));
    json_decref(found);
    json_decref(dom);
    return rc;
}

int vr_directory_login(vr_engine *e, const char *user, const char *password, char *name, size_t name_len,
                       vr_error *err)
{
    const char *at = strrchr(user, '@');
    if (!at || !strcmp(at + 1, "internal"))
        return VR_DIR_NOT_MINE;
    json_t *dom = vr_db_query_one(e->db, "SELECT name, url, bind_dn, bind_password, base_dn, tls, user_attribute,"
                                  " type, ca_cert FROM domains WHERE name = ?", DB_ARGS(DB_TEXT(at + 1)), err);
    if (!dom)
        return err->code ? -1 : VR_DIR_NOT_MINE;
    char uid[256];
    snprintf(uid, sizeof(uid), "%.*s", (int)(at - user), user);
    int rc = VR_DIR_REFUSED;
    LDAP *ld = NULL;
    char *dn = NULL;
    /* an empty password would be an anonymous bind: never a login */
    if (!*uid || !*password)
        goto out;
    if (!(ld = dial(dom, err))) {
        rc = -1;
        goto out;
    }
    int found;
    char canon[256];
    dn = find_user(ld, dom, uid, canon, sizeof(canon), &found, err);
    if (found != 0) {
        rc = found < 0 ? -1 : VR_DIR_REFUSED;
        goto out;
    }
    struct berval cred = {.bv_val = (char *)password, .bv_len = strlen(password)};
    int b = ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
    /* A wrong password is "invalid credentials" everywhere; an account the
     * directory has locked is a refused login too, not the directory's
     * fault: 389-DS (and IdM) answer the bind of an account inactivated
     * with nsAccountLock "unwilling to perform" (test_directory_389ds). */
    if (b == LDAP_INVALID_CREDENTIALS || b == LDAP_UNWILLING_TO_PERFORM) {
        rc = VR_DIR_REFUSED;
    } else if (b != LDAP_SUCCESS) {
        vr_error_set(err, VR_ERR_UNAVAILABLE, "directory '%s': bind failed: %s", str(dom, "name"),
                     ldap_err2string(b));
        rc = -1;
    } else {
        /* read the groups with the profile's account again */
        ldap_unbind_ext_s(ld, NULL, NULL);
        json_t *groups = (ld = dial(dom, err)) ? user_groups(ld, dom, dn) : NULL;
        snprintf(name, name_len, "%s@%s", canon, at + 1);
        rc = groups && record(e, name, at + 1, groups, err) == 0 ? VR_DIR_OK : -1;
        json_decref(groups);
    }
out:
    if (dn)
        ldap_memfree(dn);
    if (ld)
        ldap_unbind_ext_s(ld, NULL, NULL);
    json_decref(dom);
    return rc;
}
