/* `vireo directory search PROFILE TEXT [--groups] [--max N] [--json]`
 * (docs/cli.md): GET /api/domains/PROFILE/users|groups?search=TEXT, the
 * users (or groups) of a directory profile's LDAP directory to add and
 * grant before their first login. */
#pragma once

/* argv[0] = "directory". Returns the exit code. */
int vr_directory_cmd(int argc, char **argv);

/* `vireo directory list|show|create|update|delete` (directory_profile_cmd.c):
 * the profiles themselves; argv[0] = "directory". Returns the exit code. */
int vr_directory_profile_cmd(int argc, char **argv);
