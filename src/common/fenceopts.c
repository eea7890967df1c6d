#include "fenceopts.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

bool vr_fence_word_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (; *s; s++)
        if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '_')
            return false;
    return true;
}

bool vr_fence_value_ok(const char *s, size_t max)
{
    if (strlen(s) > max)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

bool vr_fence_option_reserved(const char *k)
{
    static const char *const deny[] = {"action", "ip", "ipaddr", "ipport", "username", "login", "password",
                                       "passwd", "sudo", "use_sudo", "debug", "debug_file", "plug_separator"};
    for (size_t i = 0; i < sizeof(deny) / sizeof(deny[0]); i++)
        if (!strcmp(k, deny[i]))
            return true;
    size_t n = strlen(k);
    return (n > 7 && !strcmp(k + n - 7, "_script")) || (n > 5 && !strcmp(k + n - 5, "_path"));
}

int vr_fence_option_text(json_t *v, char *out, size_t size)
{
    if (json_is_string(v))
        snprintf(out, size, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(out, size, "%lld", (long long)json_integer_value(v));
    else if (json_is_boolean(v))
        snprintf(out, size, "%s", json_is_true(v) ? "1" : "0");
    else
        return -1;
    return 0;
}

static bool allowed(const char *key, const char *const *extra)
{
    static const char *const base[] = {"type", "address", "port", "username", "password", "options"};
    for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++)
        if (!strcmp(key, base[i]))
            return true;
    for (; extra && *extra; extra++)
        if (!strcmp(key, *extra))
            return true;
    return false;
}

int vr_fence_agent_check(json_t *agent, const char *where, const char *const *extra, vr_error *err)
{
    if (!json_is_object(agent))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s must be an object", where);
    const char *k;
    json_t *v;
    json_object_foreach(agent, k, v) {
        if (!allowed(k, extra))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s: unknown member '%.40s'", where, k);
    }
    const char *type = json_string_value(json_object_get(agent, "type"));
    const char *addr = json_string_value(json_object_get(agent, "address"));
    if (!type || !vr_fence_word_ok(type, 32))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.type must be 1-32 of [a-z0-9_] (fence_TYPE)", where);
    if (!addr || !*addr || *addr == '-' || !vr_fence_value_ok(addr, 253) || strchr(addr, ' '))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.address must be an address or DNS name", where);
    json_t *port = json_object_get(agent, "port");
    if (port && (!json_is_integer(port) || json_integer_value(port) < 1 || json_integer_value(port) > 65535))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.port must be from 1 to 65535", where);
    static const char *const texts[] = {"username", "password"};
    for (size_t i = 0; i < 2; i++) {
        json_t *t = json_object_get(agent, texts[i]);
        if (t && (!json_is_string(t) || !vr_fence_value_ok(json_string_value(t), 256)))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.%s must be a string of at most 256 bytes"
                                " without control characters", where, texts[i]);
    }
    json_t *opts = json_object_get(agent, "options");
    if (opts && !json_is_object(opts))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.options must be an object", where);
    if (json_object_size(opts) > 32)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.options: at most 32", where);
    json_object_foreach(opts, k, v) {
        char val[300];
        if (!vr_fence_word_ok(k, 32) || vr_fence_option_reserved(k))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.options: '%.40s' is not an option that may be set",
                                where, k);
        if (vr_fence_option_text(v, val, sizeof(val)) < 0)
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.options.%s must be a string, integer or boolean",
                                where, k);
        if (!vr_fence_value_ok(val, 256))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "%s.options.%s has a control character or is too long",
                                where, k);
    }
    return 0;
}
