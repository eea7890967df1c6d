/* Roles and permissions (docs/permissions.md): the catalogue of action
 * groups, the predefined roles, which action group each REST operation
 * needs, and the one authorization decision with the filter that hides
 * from a caller every object they hold no permission on.
 *
 * Ancestry is the database's: the view object_ancestors (migration 12)
 * gives each object itself and everything above it, so the decision is
 * one query whatever the kind. A permission on "system" covers all. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "engine.h"

#define VR_ADMIN_USER "admin@internal"
#define VR_SYSTEM_ID "system"      /* object_id of permissions on the whole system */
#define VR_SUPERUSER_ROLE_ID "00000000-0000-4000-8000-000000000001"

/* The action groups, by name (lowercase oVirt names). */
extern const char *const vr_action_groups[];
extern const size_t vr_naction_groups;
bool vr_action_group_known(const char *name);

/* A predefined role: fixed id, name, type and its action groups. */
typedef struct vr_role_def {
    const char *id, *name, *description;
    bool administrative;
    const char *const *groups; /* NULL-terminated */
} vr_role_def;
extern const vr_role_def vr_predefined_roles[];
extern const size_t vr_npredefined_roles;

/* The action group an operation needs: object type and collection of the
 * kind (a VM's "nics" differ from a host's), action (create, update,
 * delete, or an action's name). Unknown operations need configure_engine,
 * which only SuperUser has. */
const char *vr_action_group_for(const char *type, const char *collection, const char *action);

/* Write the predefined roles (and their action groups) into the database
 * and give admin@internal SuperUser on system; run at every start, so a
 * newer engine's roles replace an older one's. */
int vr_perm_bootstrap(vr_engine *e, vr_error *err);

/* Predefined roles given to the creator of an object (oVirt's owner). */
#define VR_USERVMMANAGER_ROLE_ID "00000000-0000-4000-8000-00000000000b"
#define VR_DISKOPERATOR_ROLE_ID "00000000-0000-4000-8000-00000000000f"

/* Make `user` the owner of what they just created: role_id on the object,
 * so a power user manages the VMs (disks, snapshots) and disks they made.
 * Nothing for admin@internal, who holds everything. 0 or -1. */
int vr_perm_grant_owner(vr_engine *e, const char *user, const char *object_type, const char *object_id,
                        const char *role_id, vr_error *err);

/* May `user` use action group `group` on object `object_id` (an id of any
 * kind, or VR_SYSTEM_ID) through a permission on it or an ancestor?
 * group NULL: any permission (may see it). 1 yes, 0 no, -1 err. */
int vr_perm_allows(vr_engine *e, const char *user, const char *object_id, const char *group, vr_error *err);

/* The SQL condition (two '?', both the user name) that keeps the rows of
 * a listing whose object, the expression `anchor` over the row `r`, the
 * user may see. */
void vr_perm_visible_sql(const char *anchor, char *out, size_t len);
