/* Directory (LDAP) login of users `uid@profile` (directory.c;
 * docs/permissions.md "Directory users"). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "engine.h"

enum { VR_DIR_OK = 0, VR_DIR_REFUSED = 1, VR_DIR_NOT_MINE = 2 };

/* The longest text a directory search takes (bytes). */
#define VR_DIR_SEARCH_MAX 128

/* The CA that directory certificates must chain to (LDAPS, StartTLS). */
void vr_directory_init(const char *ca_file);

/* Check user@profile's password against profile's directory. VR_DIR_OK
 * (the user's row and group memberships are then recorded),
 * VR_DIR_REFUSED (wrong name or password), VR_DIR_NOT_MINE (an internal
 * user, or no such profile), or -1 with err (VR_ERR_UNAVAILABLE: the
 * directory cannot be reached or refuses the profile's account). With
 * VR_DIR_OK, name is the user's name as the directory spells its uid
 * ("bob@corp" for "Bob@corp"): the row and the token are that user's. */
int vr_directory_login(vr_engine *e, const char *user, const char *password, char *name, size_t name_len,
                       vr_error *err);

/* 0 when pem is empty or PEM certificates (a profile's ca_cert); -1
 * with err VR_ERR_INVALID_PARAMS otherwise. */
int vr_directory_check_ca(const char *pem, vr_error *err);

/* user input as an RFC 4515 filter value: * ( ) \ and control bytes as
 * \XX. 0, or -1 when out is too small. */
int vr_ldap_escape(const char *in, char *out, size_t len);

/* The domains row (with its bind password: never shown) of the profile
 * whose id or name is key: a new reference, or NULL with VR_ERR_NOT_FOUND
 * or a database error. */
json_t *vr_directory_profile(vr_engine *e, const char *key, vr_error *err);

/* Search dom's directory for users (or groups) whose user attribute, cn
 * or displayName (groups: cn) contains text (escaped: a substring, never
 * a filter), at most max: *out = {users|groups: [...], total, truncated}
 * sorted by name (docs/rest-api.md "Directory search"). -1 with err
 * (VR_ERR_INVALID_PARAMS: text too long; VR_ERR_UNAVAILABLE: the
 * directory cannot be reached or refuses the profile's account). */
int vr_directory_search(vr_engine *e, json_t *dom, const char *text, bool groups, int max, json_t **out,
                        vr_error *err);

/* 0 when the directory of name's profile knows exactly one user (group)
 * name (uid@profile, GROUP@profile), *canon (if not NULL; a new
 * reference) then its name as the directory spells it; -1 with err:
 * VR_ERR_NOT_FOUND (none, or several), VR_ERR_INVALID_PARAMS (no such
 * profile), VR_ERR_UNAVAILABLE. */
int vr_directory_known(vr_engine *e, const char *name, bool group, json_t **canon, vr_error *err);
