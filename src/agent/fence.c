/* Host.fence: this host acting as the fencing proxy of another (RHV
 * Technical Reference ch. 4): it runs a fence agent from Debian's
 * fence-agents (/usr/sbin/fence_<type>) against the other host's power
 * device. The agent gets its parameters as key=value lines on stdin, the
 * fence-agents' own interface, so the password is never on a command line
 * (ps) nor in this agent's log. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"
#include "log.h"
#include "storage/runcmd.h"
#include "verbs.h"

#define FENCE_DIR "/usr/sbin"

static bool word_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (; *s; s++)
        if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '_')
            return false;
    return true;
}

/* A value for a key=value line: printable, no line break. */
static bool value_ok(const char *s, size_t max)
{
    if (strlen(s) > max)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

/* Options the caller may not set: those this verb sets itself, and those
 * that make the fence agent run another program or write a file. */
static bool option_reserved(const char *k)
{
    static const char *const deny[] = {"action", "ip", "ipaddr", "ipport", "username", "login", "password",
                                       "passwd", "sudo", "use_sudo", "debug", "debug_file", "plug_separator"};
    for (size_t i = 0; i < sizeof(deny) / sizeof(deny[0]); i++)
        if (!strcmp(k, deny[i]))
            return true;
    size_t n = strlen(k);
    return (n > 7 && !strcmp(k + n - 7, "_script")) || (n > 5 && !strcmp(k + n - 5, "_path"));
}

/* Append "key=value\n" to buf. */
static int put(char *buf, size_t size, size_t *len, const char *key, const char *value)
{
    int n = snprintf(buf + *len, size - *len, "%s=%s\n", key, value);
    if (n < 0 || (size_t)n >= size - *len)
        return -1;
    *len += (size_t)n;
    return 0;
}

/* The password, wherever a fence agent echoed it, becomes ***. */
static void mask(char *text, const char *secret)
{
    size_t n = secret ? strlen(secret) : 0;
    if (n == 0)
        return;
    for (char *p = strstr(text, secret); p; p = strstr(p + 3, secret)) {
        memcpy(p, "***", 3);
        memmove(p + 3, p + n, strlen(p + n) + 1);
    }
}

static int host_fence(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    static const char *const keys[] = {"agent", "action", "timeout_s", NULL};
    static const char *const akeys[] = {"type", "address", "port", "username", "password", "options", NULL};
    static const char *const actions[] = {"status", "on", "off", "reboot", NULL};
    json_t *ag = NULL, *opts = NULL;
    const char *action = NULL, *type = NULL, *addr = NULL, *user = NULL, *pass = NULL;
    long long port = 0, timeout = 60;
    if (vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0 ||
        vr_json_obj(params, "params", "agent", true, &ag, err) < 0 ||
        vr_json_str(params, "params", "action", true, &action, err) < 0 ||
        vr_json_int(params, "params", "timeout_s", false, 1, 600, &timeout, err) < 0 ||
        vr_json_check_keys(ag, "params.agent", VR_NAMES(akeys), err) < 0 ||
        vr_json_str(ag, "params.agent", "type", true, &type, err) < 0 ||
        vr_json_str(ag, "params.agent", "address", true, &addr, err) < 0 ||
        vr_json_int(ag, "params.agent", "port", false, 1, 65535, &port, err) < 0 ||
        vr_json_str(ag, "params.agent", "username", false, &user, err) < 0 ||
        vr_json_str(ag, "params.agent", "password", false, &pass, err) < 0 ||
        vr_json_obj(ag, "params.agent", "options", false, &opts, err) < 0)
        return -1;
    if (!vr_str_in(action, VR_NAMES(actions)))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "params.action must be status, on, off or reboot");
    if (!word_ok(type, 32))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "params.agent.type must be 1-32 of [a-z0-9_]");
    if (!value_ok(addr, 255) || !*addr || addr[0] == '-' || (user && !value_ok(user, 128)) ||
        (pass && !value_ok(pass, 256)))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "params.agent: address, username or password has a"
                            " control character or is too long");
    char input[8192];
    size_t len = 0;
    char num[32];
    bool bad = put(input, sizeof(input), &len, "action", action) < 0 ||
               put(input, sizeof(input), &len, "ip", addr) < 0;
    snprintf(num, sizeof(num), "%lld", port);
    bad = bad || (port && put(input, sizeof(input), &len, "ipport", num) < 0) ||
          (user && put(input, sizeof(input), &len, "username", user) < 0) ||
          (pass && put(input, sizeof(input), &len, "password", pass) < 0);
    const char *k;
    json_t *v;
    json_object_foreach(opts, k, v) {
        char val[300];
        if (!word_ok(k, 32) || option_reserved(k))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "params.agent.options: '%.40s' is not an option"
                                " that may be set", k);
        if (json_is_string(v))
            snprintf(val, sizeof(val), "%s", json_string_value(v));
        else if (json_is_integer(v))
            snprintf(val, sizeof(val), "%lld", (long long)json_integer_value(v));
        else if (json_is_boolean(v))
            snprintf(val, sizeof(val), "%s", json_is_true(v) ? "1" : "0");
        else
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "params.agent.options.%s must be a string, integer"
                                " or boolean", k);
        if (!value_ok(val, 256))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "params.agent.options.%s has a control character"
                                " or is too long", k);
        bad = bad || put(input, sizeof(input), &len, k, val) < 0;
    }
    if (bad)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "params.agent: too many or too long options");
    char path[128];
    snprintf(path, sizeof(path), "%s/fence_%s", FENCE_DIR, type);
    const char *argv[] = {path, NULL};
    char out[4096];
    int rc = vr_run_argv_input(argv, input, (int)timeout, out, sizeof(out));
    explicit_bzero(input, sizeof(input));
    mask(out, pass);
    VR_INFO("fence agent %s, action %s on %s: exit %d", type, action, addr, rc);
    if (rc == -ENOENT)
        return vr_error_set(err, VR_ERR_UNSUPPORTED, "no fence agent '%s' on this host (%s; Debian package"
                            " fence-agents)", type, path);
    if (rc == -ETIMEDOUT)
        return vr_error_set(err, VR_ERR_IO, "fence agent %s (%s of %s) did not finish within %lld s", type,
                            action, addr, timeout);
    /* status: 0 on, 2 off (the fence-agents' convention); others: 0 done. */
    const char *power = NULL;
    if (!strcmp(action, "status"))
        power = rc == 0 ? "on" : rc == 2 ? "off" : NULL;
    else if (rc == 0)
        power = !strcmp(action, "off") ? "off" : "on";
    if (!power)
        return vr_error_set(err, VR_ERR_IO, "fence agent %s (%s of %s) failed with exit status %d: %.600s", type,
                            action, addr, rc, out);
    *result = json_pack("{s:s, s:s}", "power", power, "action", action);
    return 0;
}

const vr_verb vr_fence_verbs[] = {
    {"Host.fence", host_fence},
    {NULL, NULL},
};
