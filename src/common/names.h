/* Tables of names that carry their length: the members a JSON object may
 * have, the values a field accepts, a command's actions.
 *
 * These tables used to end with a NULL that every loop relied on; one
 * table without it (the disk I/O limits) made the agent and the engine read
 * past its end on a request naming an unknown limit. A vr_names is built by
 * VR_NAMES from the array itself, so its count is the array's size as the
 * compiler knows it, and handing it a pointer instead of an array does not
 * compile. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* Compile-time zero that fails to build when `a` is a pointer rather than
 * an array (sizeof(pointer) / sizeof(element) is the classic silent bug). */
#define VR_MUST_BE_ARRAY(a)                                                         \
    (0 * sizeof(struct {                                                            \
        _Static_assert(!__builtin_types_compatible_p(__typeof__(a),                  \
                                                     __typeof__(&(a)[0])),          \
                       "VR_ARRAY_SIZE/VR_NAMES need an array, not a pointer");      \
        int vr_unused;                                                              \
    }))

#define VR_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]) + VR_MUST_BE_ARRAY(a))

typedef struct vr_names {
    const char *const *v;
    size_t n;
} vr_names;

/* The names of a `const char *const name[]` array. A compound literal needs
 * its own parentheses: VR_NAMES(((const char *const[]){"a", "b"})). */
#define VR_NAMES(arr) ((vr_names){(arr), VR_ARRAY_SIZE(arr)})
#define VR_NO_NAMES ((vr_names){NULL, 0})

/* Index of s in t, or -1. NULL entries are skipped, so a table that still
 * ends with the old NULL terminator stays correct: the bound is t.n. */
static inline int vr_names_find(vr_names t, const char *s)
{
    for (size_t i = 0; i < t.n; i++)
        if (t.v[i] && strcmp(t.v[i], s) == 0)
            return (int)i;
    return -1;
}
