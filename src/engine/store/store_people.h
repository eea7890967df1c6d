/* Users, groups, roles and permissions: their SQL (store_people.c;
 * docs/permissions.md). */
#pragma once

#include <string.h>

#include "names.h"
#include "store.h"

extern const vr_store vr_store_users, vr_store_groups, vr_store_roles, vr_store_permissions, vr_store_domains;

/* A group's members as [{id, name}] (new reference in *rows). */
int vr_group_members(vr_engine *e, const char *group_id, json_t **rows, vr_error *err);
/* Add a user to a group (409 when already a member). */
int vr_group_member_add(vr_engine *e, const char *group_id, const char *user_id, vr_error *err);
/* Take a user out of a group. */
int vr_group_member_remove(vr_engine *e, const char *group_id, const char *user_id, vr_error *err);
