/* Who sees which event (docs/rest-api.md "Events", docs/permissions.md
 * "Filtered views"). An event is seen like its object: through a
 * permission on the object or above it, or on the system. A removed object
 * is no longer in the tree (object_ancestors), so its events carry the
 * object that was above it (parent_id, written by audit.c at the removal)
 * and are seen through that parent and above; a permission given on the
 * removed object itself still shows them, since permissions stay when
 * their object goes (docs/permissions.md "Owners"). */
#include <stdio.h>
#include <string.h>

#include "dispatch.h"
#include "perm.h"

int vr_events_filter_sql(char *where, size_t len)
{
    char tree[700];
    /* the anchor is a fixed expression of the events' columns */
    vr_perm_visible_sql("COALESCE(r.parent_id, r.object_id)", tree, sizeof(tree));
    int n = snprintf(where, len, "(%s OR (r.parent_id IS NOT NULL AND r.object_id IN (SELECT up.object_id FROM"
                     " user_permissions up WHERE up.user_name = ?)))", tree);
    return n > 0 && (size_t)n < len ? 3 : -1;
}

