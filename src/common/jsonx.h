/* Strict accessors for JSON parameters: a wrong type, a missing required
 * member or an unknown member is an error naming the offending path. */
#pragma once

#include <stdbool.h>
#include <jansson.h>

#include "error.h"
#include "names.h"

/* Fail if obj (named `where` in messages) has a member not in `allowed`
 * (built with VR_NAMES, so the table's length comes with it). */
int vr_json_check_keys(json_t *obj, const char *where, vr_names allowed, vr_error *err);

/* Each getter: if the member is absent, returns 0 and leaves *out alone when
 * !required, else fails. Present with a wrong type or out of range: fails. */
int vr_json_str(json_t *obj, const char *where, const char *key, bool required,
                const char **out, vr_error *err);
int vr_json_int(json_t *obj, const char *where, const char *key, bool required,
                long long min, long long max, long long *out, vr_error *err);
int vr_json_bool(json_t *obj, const char *where, const char *key, bool required,
                 bool *out, vr_error *err);
/* Object or array members; *out is borrowed. */
int vr_json_obj(json_t *obj, const char *where, const char *key, bool required,
                json_t **out, vr_error *err);
int vr_json_arr(json_t *obj, const char *where, const char *key, bool required,
                json_t **out, vr_error *err);

/* Append v to the array arr unless an equal value is already there (a
 * list of ids given with repeats). v is borrowed. */
void vr_json_append_unique(json_t *arr, json_t *v);

/* Returns true if s is one of the choices (VR_NAMES(array)). */
bool vr_str_in(const char *s, vr_names choices);

/* A deep copy of array a, or a new empty array when a is NULL (new
 * reference either way: `json_deep_copy(a ?: json_array())` leaks). */
json_t *vr_json_copy_or_array(json_t *a);
