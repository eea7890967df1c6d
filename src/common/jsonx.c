#include "jsonx.h"

#include <string.h>

bool vr_str_in(const char *s, vr_names choices)
{
    return vr_names_find(choices, s) >= 0;
}

void vr_json_append_unique(json_t *arr, json_t *v)
{
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x)
        if (json_equal(x, v))
            return;
    json_array_append(arr, v);
}

int vr_json_check_keys(json_t *obj, const char *where, vr_names allowed, vr_error *err)
{
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val) {
        if (!vr_str_in(key, allowed))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s: unknown member '%s'",
                                where, key);
    }
    return 0;
}

/* Common lookup: 1 = present, 0 = absent and allowed, -1 = error. */
static int lookup(json_t *obj, const char *where, const char *key, bool required,
                  json_t **val, vr_error *err)
{
    *val = json_object_get(obj, key);
    if (*val && !json_is_null(*val))
        return 1;
    if (required)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s: missing required member '%s'",
                            where, key);
    return 0;
}

int vr_json_str(json_t *obj, const char *where, const char *key, bool required,
                const char **out, vr_error *err)
{
    json_t *v;
    int rc = lookup(obj, where, key, required, &v, err);
    if (rc <= 0)
        return rc;
    if (!json_is_string(v))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.%s must be a string", where, key);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.%s must not contain NUL",
                            where, key);
    *out = json_string_value(v);
    return 0;
}

int vr_json_int(json_t *obj, const char *where, const char *key, bool required,
                long long min, long long max, long long *out, vr_error *err)
{
    json_t *v;
    int rc = lookup(obj, where, key, required, &v, err);
    if (rc <= 0)
        return rc;
    if (!json_is_integer(v))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.%s must be an integer", where, key);
    long long n = json_integer_value(v);
    if (n < min || n > max)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.%s must be between %lld and %lld",
                            where, key, min, max);
    *out = n;
    return 0;
}

int vr_json_bool(json_t *obj, const char *where, const char *key, bool required,
                 bool *out, vr_error *err)
{
    json_t *v;
    int rc = lookup(obj, where, key, required, &v, err);
    if (rc <= 0)
        return rc;
    if (!json_is_boolean(v))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.%s must be true or false", where, key);
    *out = json_is_true(v);
    return 0;
}

int vr_json_obj(json_t *obj, const char *where, const char *key, bool required,
                json_t **out, vr_error *err)
{
    json_t *v;
    int rc = lookup(obj, where, key, required, &v, err);
    if (rc <= 0)
        return rc;
    if (!json_is_object(v))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.%s must be an object", where, key);
    *out = v;
    return 0;
}

int vr_json_arr(json_t *obj, const char *where, const char *key, bool required,
                json_t **out, vr_error *err)
{
    json_t *v;
    int rc = lookup(obj, where, key, required, &v, err);
    if (rc <= 0)
        return rc;
    if (!json_is_array(v))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.%s must be an array", where, key);
    *out = v;
    return 0;
}

json_t *vr_json_copy_or_array(json_t *a)
{
    return a ? json_deep_copy(a) : json_array();
}
