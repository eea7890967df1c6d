/* The strict JSON accessors (src/common/jsonx.c) every verb and REST body
 * goes through: unknown members, wrong types, ranges, NUL inside strings.
 * Each call either succeeds with a value that obeys its contract or fails
 * with a message fit for a reply. */
#include <string.h>

#include "fuzz.h"
#include "jsonx.h"

static const char *const keys[] = {"uuid", "name", "memory_mib", "iotune", "disks", "force"};

static void check_object(json_t *obj, const char *where, int depth)
{
    vr_error err = {0};
    if (vr_json_check_keys(obj, where, VR_NAMES(keys), &err) < 0)
        vr_fuzz_check_message(err.message, sizeof(err.message));
    /* Every member through every getter: exactly the right type passes. */
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        bool present = !json_is_null(v);
        const char *s = NULL;
        long long n = -7;
        bool b = false;
        json_t *o = NULL;
        vr_error_clear(&err);
        int rc = vr_json_str(obj, where, key, true, &s, &err);
        FUZZ_ASSERT(rc == 0 ? s && json_is_string(v) && strlen(s) == json_string_length(v)
                            : err.code == VR_ERR_INVALID_PARAMS);
        if (rc < 0)
            vr_fuzz_check_message(err.message, sizeof(err.message));
        rc = vr_json_int(obj, where, key, false, -100, 1LL << 50, &n, &err);
        FUZZ_ASSERT(rc < 0 || !present || (json_is_integer(v) && n >= -100 && n <= (1LL << 50)));
        if (rc < 0)
            vr_fuzz_check_message(err.message, sizeof(err.message));
        rc = vr_json_bool(obj, where, key, false, &b, &err);
        FUZZ_ASSERT((rc == 0) == (!present || json_is_boolean(v)));
        rc = vr_json_obj(obj, where, key, false, &o, &err);
        FUZZ_ASSERT((rc == 0) == (!present || json_is_object(v)));
        if (o && o != obj && depth < 4) {
            char sub[128];
            snprintf(sub, sizeof(sub), "%s.%s", where, key);
            check_object(o, sub, depth + 1);
        }
        rc = vr_json_arr(obj, where, key, false, &o, &err);
        FUZZ_ASSERT((rc == 0) == (!present || json_is_array(v)));
        FUZZ_ASSERT(vr_str_in(key, VR_NAMES(keys)) == (vr_names_find(VR_NAMES(keys), key) >= 0));
    }
    /* A missing required member names itself. */
    if (!json_object_get(obj, "absent-member")) {
        const char *s = NULL;
        FUZZ_ASSERT(vr_json_str(obj, where, "absent-member", true, &s, &err) < 0);
        FUZZ_ASSERT(strstr(err.message, "absent-member") != NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc = vr_fuzz_load(data, size);
    if (json_is_object(doc))
        check_object(doc, "params", 0);
    json_decref(doc);
    return 0;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned seed)
{
    return vr_fuzz_json_mutate(data, size, max_size, seed);
}
