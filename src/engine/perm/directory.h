/* Directory (LDAP) login of users `uid@profile` (directory.c;
 * docs/permissions.md "Directory users"). */
#pragma once

#include <stddef.h>

#include "engine.h"

enum { VR_DIR_OK = 0, VR_DIR_REFUSED = 1, VR_DIR_NOT_MINE = 2 };

/* The CA that directory certificates must chain to (LDAPS, StartTLS). */
void vr_directory_init(const char *ca_file);

/* Check user@profile's password against profile's directory. VR_DIR_OK
 * (the user's row and group memberships are then recorded),
 * VR_DIR_REFUSED (wrong name or password), VR_DIR_NOT_MINE (an internal
 * user, or no such profile), or -1 with err (VR_ERR_UNAVAILABLE: the
 * directory cannot be reached or refuses the profile's account). */
int vr_directory_login(vr_engine *e, const char *user, const char *password, vr_error *err);

/* user input as an RFC 4515 filter value: * ( ) \ and control bytes as
 * \XX. 0, or -1 when out is too small. */
int vr_ldap_escape(const char *in, char *out, size_t len);
